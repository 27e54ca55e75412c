"""template.yaml (SAM) and s.yaml (fc3): valid for their offline validators and consistent with the code.

cfn-lint checks the SAM template; each s.yaml resource's ``props`` is validated against the fc3
component's schema (vendored in tests/fixtures/deploy). Then what neither validator can know: every
function names a real handler and the zip ``pushfn package`` writes for it; every environment
variable a template sets is a setting pushfn reads, and the settings marked for a template are
there (``Variable.deploy``); secrets reach AWS functions only by reference; the deploy-time rule
refuses a stack without webhook secrets and API keys; upload filters never fire on the function's
own sidecars and reports; the policies grant the calls the code makes and nothing wildcarded.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pushfn.functions import FUNCTION_NAMES
from pushfn.packaging import RUNTIMES
from pushfn.settings import VARIABLES
from pushfn.targets.formats import detect_format
from pushfn.targets.readers import report_key, sidecar_key

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
S_YAML = ROOT / "s.yaml"
FC3_SCHEMA = ROOT / "tests" / "fixtures" / "deploy" / "fc3-schema.json"
# The cfn-lint installed with the dev extra (next to this interpreter), else the one on PATH.
CFN_LINT = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint") or "cfn-lint"
#: The CloudPush actions the four functions call (Push; MassPush for personalised rows; ContinuouslyPush
#: for a file's campaign).
PUSH_ACTIONS = {"mpush:Push", "mpush:MassPush", "mpush:ContinuouslyPush"}
SAM_FUNCTIONS = {
    "HttpPushFunction": "http_push",
    "ScheduledPushFunction": "scheduled_push",
    "FilePushFunction": "file_push",
    "QueuePushFunction": "queue_push",
}
FC_FUNCTIONS = {"pushfn-http": "http_push", "pushfn-timer": "scheduled_push", "pushfn-file": "file_push"}
FC_FUNCTIONS["pushfn-queue"] = "queue_push"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, !GetAtt…) as ``{"Ref": …}`` / ``{"Fn::Sub": …}``."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def _resolve_fc(node: Any, variables: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    """Serverless Devs' substitutions as ``s deploy`` makes them: vars (a whole-value reference keeps
    the variable's type), the account id, the deployer's environment."""
    if isinstance(node, dict):
        return {key: _resolve_fc(value, variables, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve_fc(value, variables, env) for value in node]
    if not isinstance(node, str):
        return node
    whole = re.fullmatch(r"\$\{vars\.(\w+)\}", node)
    if whole:
        return _resolve_fc(variables[whole.group(1)], variables, env)
    text = re.sub(r"\$\{vars\.(\w+)\}", lambda m: str(variables[m.group(1)]), node)
    text = text.replace("${config('AccountID')}", "1234567890")
    return re.sub(r"\$\{env\('(\w+)'\)\}", lambda m: (env or {}).get(m.group(1), ""), text)


@pytest.fixture(scope="module")
def fc() -> dict[str, Any]:
    raw = yaml.safe_load(S_YAML.read_text())
    return _resolve_fc(raw, raw["vars"])


def _functions(sam: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in sam["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in resource["Properties"]["Policies"] for s in policy["Statement"]]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- the validators ---------------------------------------------------------------------------------------------------


def test_cfn_lint_passes() -> None:
    result = subprocess.run([CFN_LINT, str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("Type: ScheduleV2", "Type: ScheduleV3"))
    result = subprocess.run([CFN_LINT, str(broken)], capture_output=True, text=True)
    assert result.returncode != 0


def _fc3_errors(props: dict[str, Any]) -> list[str]:
    schema = json.loads(FC3_SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(props)]


def test_every_s_yaml_resource_is_valid_fc3_props(fc: dict[str, Any]) -> None:
    assert set(fc["resources"]) == set(FC_FUNCTIONS)
    for name, resource in fc["resources"].items():
        assert resource["component"] == "fc3", name
        assert _fc3_errors(resource["props"]) == [], name


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda p: p.update(runtime="python3.11"), "runtime"),
        (lambda p: p.update(memorySize=300), "memorySize"),
        (lambda p: p.pop("region"), ""),
        (lambda p: p.update(timeout="soon"), "timeout"),
    ],
)
def test_the_fc3_schema_catches_a_broken_resource(fc: dict[str, Any], change: Any, path: str) -> None:
    props = copy.deepcopy(fc["resources"]["pushfn-http"]["props"])
    change(props)
    assert any(error.startswith(f"{path}:") for error in _fc3_errors(props))


# --- handlers and code ------------------------------------------------------------------------------------------------


def test_every_sam_function_runs_its_packaged_index_handler(sam: dict[str, Any]) -> None:
    functions = _functions(sam)
    assert {name: SAM_FUNCTIONS.get(name) for name in functions} == SAM_FUNCTIONS
    assert sam["Globals"]["Function"]["Handler"] == "index.handler"
    assert sam["Globals"]["Function"]["Runtime"] == "python3.12" and "3.12" in RUNTIMES["aws"]
    for name, resource in functions.items():
        assert resource["Properties"]["CodeUri"] == f"dist/aws/{SAM_FUNCTIONS[name]}.zip"
        assert "Handler" not in resource["Properties"] and "Runtime" not in resource["Properties"]


def test_every_fc_function_runs_its_packaged_index_handler(fc: dict[str, Any]) -> None:
    for name, resource in fc["resources"].items():
        props = resource["props"]
        assert props["code"] == f"./dist/fc/{FC_FUNCTIONS[name]}.zip"
        assert props["handler"] == "index.handler"
        assert props["runtime"].removeprefix("python") in RUNTIMES["fc"]


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_each_packaged_index_names_a_callable_handler(function: str) -> None:
    module = importlib.import_module(f"functions.{function}.index")
    assert callable(module.handler)


# --- settings: every name a template sets is read by the code; every marked setting is set --------------------------


def _sam_env(sam: dict[str, Any]) -> set[str]:
    names = set(sam["Globals"]["Function"]["Environment"]["Variables"])
    for resource in _functions(sam).values():
        names |= set(resource["Properties"].get("Environment", {}).get("Variables", {}))
    return names


def _fc_env(fc: dict[str, Any]) -> set[str]:
    return {name for r in fc["resources"].values() for name in r["props"].get("environmentVariables", {})}


def test_template_variables_are_settings_and_the_deploy_markers_match_both_ways(sam, fc) -> None:
    known = {v.name for v in VARIABLES}
    for platform, names in (("aws", _sam_env(sam)), ("fc", _fc_env(fc))):
        assert names <= known, f"{platform}: not a pushfn setting: {sorted(names - known)}"
        marked = {v.name for v in VARIABLES if platform in v.deploy}
        assert names == marked, f"{platform}: set but unmarked {names - marked}, marked but unset {marked - names}"


def test_every_setting_no_template_sets_is_optional_with_a_documented_default(sam, fc) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    deploy = readme[readme.index("## Deploy") :]
    set_anywhere = _sam_env(sam) | _fc_env(fc)
    assert "Every other variable of the configuration table is optional" in deploy
    for variable in VARIABLES:
        if variable.name not in set_anywhere:
            assert not variable.deploy
            assert f"| `{variable.name}` |" in readme  # its row states the default that applies


def test_the_environment_variables_of_fc_reach_the_settings_parsers(fc) -> None:
    from pushfn.settings import Settings

    for resource in fc["resources"].values():
        env = {k: str(v) for k, v in resource["props"]["environmentVariables"].items()}
        settings = Settings.from_env(env)  # raises SettingsError for a value a rule refuses
        assert settings.pushfn_idempotency_url.startswith("tablestore://")


# --- secrets ----------------------------------------------------------------------------------------------------------


def test_aws_secrets_arrive_only_by_reference(sam: dict[str, Any]) -> None:
    secret_names = {v.name for v in VARIABLES if v.secret}
    assert not _sam_env(sam) & secret_names
    assert {"ALIBABA_CLOUD_ACCESS_KEY_SECRET_REF", "PUSHFN_WEBHOOK_SECRETS_REF", "PUSHFN_API_KEYS_REF"} <= _sam_env(sam)
    for name, parameter in sam["Parameters"].items():
        # A parameter may name where a secret lives; none holds one, so none needs hiding.
        assert "NoEcho" not in parameter, name


def _evaluate(node: Any, parameters: dict[str, str]) -> Any:
    """The rule functions this template's assertion uses (Fn::Or, Fn::Not, Fn::Equals, Ref)."""
    if isinstance(node, dict):
        [(name, value)] = node.items()
        if name == "Ref":
            return parameters[value]
        args = [_evaluate(v, parameters) for v in value]
        return {"Fn::Or": lambda: any(args), "Fn::Not": lambda: not args[0], "Fn::Equals": lambda: args[0] == args[1]}[
            name
        ]()
    return node


@pytest.mark.parametrize(
    ("webhook", "api_keys", "deploys"),
    [("", "", False), ("/pushfn/webhook", "", True), ("", "/pushfn/api-keys", True), ("/a", "/b", True)],
)
def test_a_stack_without_webhook_secrets_or_api_keys_is_refused_at_deploy(sam, webhook, api_keys, deploys) -> None:
    [assertion] = sam["Rules"]["HttpAuthConfigured"]["Assertions"]
    parameters = {"WebhookSecretsParameter": webhook, "ApiKeysParameter": api_keys}
    assert _evaluate(assertion["Assert"], parameters) is deploys
    assert "WebhookSecretsParameter or ApiKeysParameter" in assertion["AssertDescription"]


def test_each_function_may_read_exactly_the_parameters_it_is_given(sam: dict[str, Any]) -> None:
    for name, resource in _functions(sam).items():
        [reads] = [s for s in _statements(resource) if s["Action"] == "ssm:GetParameter"]
        text = json.dumps(reads["Resource"])
        assert "AlibabaAccessKeySecretParameter" in text
        http = name == "HttpPushFunction"
        assert ("WebhookSecretsParameter" in text) is http and ("ApiKeysParameter" in text) is http


# --- triggers ---------------------------------------------------------------------------------------------------------


def _never_self_triggered(suffixes: set[str]) -> None:
    assert suffixes == {".txt", ".csv", ".jsonl", ".gz"}
    for suffix in suffixes - {".gz"}:
        detect_format(f"in/devices{suffix}")  # a format the function reads
        assert not sidecar_key(f"in/devices{suffix}").endswith(tuple(suffixes))
        assert not report_key(f"in/devices{suffix}").endswith(tuple(suffixes))
    detect_format("in/devices.csv.gz")


def test_s3_uploads_reach_the_file_function_filtered_and_never_its_own_writes(sam: dict[str, Any]) -> None:
    events = sam["Resources"]["FilePushFunction"]["Properties"]["Events"]
    suffixes = set()
    for event in events.values():
        assert event["Type"] == "S3" and event["Properties"]["Bucket"] == {"Ref": "UploadBucket"}
        rules = {r["Name"]: r["Value"] for r in event["Properties"]["Filter"]["S3Key"]["Rules"]}
        assert rules["prefix"] == {"Ref": "UploadPrefix"}
        suffixes.add(rules["suffix"])
    _never_self_triggered(suffixes)


def test_oss_uploads_reach_the_file_function_filtered_and_never_its_own_writes(fc: dict[str, Any]) -> None:
    props = fc["resources"]["pushfn-file"]["props"]
    suffixes = set()
    for trigger in props["triggers"]:
        assert trigger["triggerType"] == "oss"
        assert trigger["sourceArn"] == "acs:oss:cn-hangzhou:1234567890:my-pushfn-uploads"
        key = trigger["triggerConfig"]["filter"]["key"]
        assert key["prefix"] == "incoming/"
        assert all(e.startswith("oss:ObjectCreated:") for e in trigger["triggerConfig"]["events"])
        suffixes.add(key["suffix"])
    _never_self_triggered(suffixes)


def test_the_fc_triggers_are_http_timer_and_mns_queue_with_async_fanout(fc: dict[str, Any]) -> None:
    resources = fc["resources"]
    [http] = resources["pushfn-http"]["props"]["triggers"]
    assert http["triggerType"] == "http" and set(http["triggerConfig"]["methods"]) == {"GET", "POST"}
    [queue] = resources["pushfn-queue"]["props"]["triggers"]
    source = queue["triggerConfig"]["eventSourceConfig"]
    assert queue["triggerType"] == "eventbridge" and source["eventSourceType"] == "MNS"
    assert source["eventSourceParameters"]["sourceMNSParameters"]["QueueName"] == "pushfn-jobs"
    assert resources["pushfn-queue"]["props"]["asyncInvokeConfig"]["asyncTask"] is True


def test_the_fc_timer_payload_is_a_spec_the_function_accepts(fc: dict[str, Any]) -> None:
    from pushfn.specs.push_spec import resolve_push_spec
    from pushfn.triggers.events.timer import fc_timer_event
    from pushfn.triggers.timer import parse_timer_event

    [timer] = fc["resources"]["pushfn-timer"]["props"]["triggers"]
    assert timer["triggerType"] == "timer" and timer["triggerConfig"]["enable"] is True
    when = datetime(2026, 11, 22, 9, tzinfo=timezone.utc)
    event = fc_timer_event(timer["triggerConfig"]["payload"], trigger_name="daily-digest", trigger_time=when)
    invocation = parse_timer_event(json.loads(event))
    [planned] = resolve_push_spec(invocation.payload, reference=invocation.scheduled_time, app_key=23267207)
    assert planned.request.to_query()["ExpireTime"] == "2026-11-22T21:00:00Z"


def test_schedule_input_is_a_valid_spec(sam: dict[str, Any]) -> None:
    from pushfn.specs.push_spec import resolve_push_spec
    from pushfn.triggers.timer import parse_timer_event

    raw = sam["Resources"]["ScheduledPushFunction"]["Properties"]["Events"]["DailyDigest"]["Properties"]
    text = raw["Input"].replace("<aws.scheduler.schedule-arn>", "arn:aws:scheduler:us-east-1:1:schedule/default/daily")
    text = text.replace("<aws.scheduler.scheduled-time>", "2026-11-22T09:00:00Z")
    invocation = parse_timer_event(json.loads(text))
    assert invocation.scheduled_time == datetime(2026, 11, 22, 9, tzinfo=timezone.utc)
    [planned] = resolve_push_spec(invocation.payload, reference=invocation.scheduled_time, app_key=23267207)
    wire = planned.request.to_query()
    assert wire["ExpireTime"] == "2026-11-22T21:00:00Z" and wire["StoreOffline"] == "true"


def test_idempotency_table_matches_the_dynamodb_store(sam: dict[str, Any]) -> None:
    from pushfn.idempotency.stores import dynamodb

    table = sam["Resources"]["IdempotencyTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": dynamodb.KEY, "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": dynamodb.TTL_ATTRIBUTE, "Enabled": True}


def test_sqs_trigger_reports_partial_batch_failures_and_redrives_to_a_dead_letter_queue(sam) -> None:
    resources = sam["Resources"]
    event = resources["QueuePushFunction"]["Properties"]["Events"]["Jobs"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resources["PushJobs"]["Properties"]
    assert queue["VisibilityTimeout"] > resources["QueuePushFunction"]["Properties"]["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["PushDeadLetters", "Arn"]}


# --- least privilege --------------------------------------------------------------------------------------------------


def test_sam_policies_name_their_resources_and_only_the_calls_the_code_makes(sam: dict[str, Any]) -> None:
    allowed = {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "ssm:GetParameter",
        "sqs:SendMessage",
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
    }
    for name, resource in _functions(sam).items():
        for statement in _statements(resource):
            actions = set(_as_list(statement["Action"]))
            assert actions <= allowed, (name, actions)
            # Wildcards only in object names under the upload prefix (reports, parts), never in an ARN's head.
            shown = re.sub(r"\$\{UploadPrefix\}[^\"]*", "", json.dumps(statement["Resource"]))
            assert "*" not in shown, (name, statement)
    file_writes = [s for s in _statements(sam["Resources"]["FilePushFunction"]) if s["Action"] == "s3:PutObject"]
    assert file_writes[0]["Resource"]["Fn::Sub"].endswith("*.report.json")  # reports only, never a target file


def test_the_fc_role_policy_grants_the_push_actions_and_each_resource_by_name(fc: dict[str, Any]) -> None:
    statements = fc["vars"]["rolePolicy"]["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    assert {a for a in actions if a.startswith("mpush:")} == PUSH_ACTIONS
    assert actions - PUSH_ACTIONS == {
        "ots:GetRow",
        "ots:PutRow",
        "ots:DeleteRow",
        "oss:GetObject",
        "oss:PutObject",
        "oss:ListObjects",
        "fc:InvokeFunction",
    }
    by_action = {a: s["Resource"] for s in statements for a in s["Action"]}
    assert by_action["mpush:Push"] == "acs:mpush:*:*:appkey/23267207"
    assert by_action["ots:PutRow"].endswith(":instance/pushfn/table/pushfn_idempotency")
    assert by_action["oss:ListObjects"] == "acs:oss:*:*:my-pushfn-uploads"
    assert by_action["fc:InvokeFunction"].endswith(":functions/pushfn-queue-push")
    for resource in fc["resources"].values():
        assert resource["props"]["role"] == "acs:ram::1234567890:role/pushfn-fc"


def test_the_push_actions_are_the_ones_the_functions_call() -> None:
    from pushfn.jobs import files

    names = {"push": "Push", "mass_push": "MassPush"}
    calls = set()
    for path in [
        *(ROOT / "shared" / "pushfn" / "jobs").glob("*.py"),
        ROOT / "shared" / "pushfn" / "http" / "routes.py",
    ]:
        text = path.read_text()
        calls |= {names[m] for m in re.findall(r"\bclient\.(push|mass_push)\(", text)}
        calls |= {getattr(files, m) for m in re.findall(r"\bclient\.call\(([A-Z_]+)", text)}
    assert {f"mpush:{action}" for action in calls} == PUSH_ACTIONS


def _granted(resources: Any, prefix_var: str, prefix: str, arn_head: str) -> list[str]:
    """The object-name patterns of ``resources`` (strings or ``Fn::Sub``), for fnmatch."""
    patterns = []
    for resource in _as_list(resources):
        text = resource["Fn::Sub"] if isinstance(resource, dict) else resource
        text = text.replace(prefix_var, prefix)
        patterns.append(text.split(arn_head, 1)[1] if arn_head in text else text)
    return patterns


def _object_names_written_for(key: str) -> dict[str, str]:
    """What the file and queue functions write for a target file ``key``: its report and a part."""
    from pushfn.targets.parts import part_key
    from pushfn.targets.readers import report_key

    return {"report": report_key(key), "part": part_key(report_key(key), 3, '"etag-1"')}


@pytest.mark.parametrize("key", ["incoming/a.txt", "incoming/deep/list ü.csv.gz"])
def test_the_queue_function_may_write_reports_and_parts_and_never_a_target_file(sam, fc, key) -> None:
    from fnmatch import fnmatchcase

    written = _object_names_written_for(key)
    # SAM: the queue function records parts and completes reports; it lists the parts.
    queue = _statements(sam["Resources"]["QueuePushFunction"])
    head = "arn:${AWS::Partition}:s3:::${UploadBucketName}/"
    puts = [
        p
        for s in queue
        if "s3:PutObject" in _as_list(s["Action"])
        for p in _granted(s["Resource"], "${UploadPrefix}", "incoming/", head)
    ]
    gets = [
        p
        for s in queue
        if "s3:GetObject" in _as_list(s["Action"])
        for p in _granted(s["Resource"], "${UploadPrefix}", "incoming/", head)
    ]
    for name in written.values():
        assert any(fnmatchcase(name, p) for p in puts) and any(fnmatchcase(name, p) for p in gets), name
    assert not any(fnmatchcase(key, p) for p in puts)  # a target file is never overwritten
    assert any("s3:ListBucket" in _as_list(s["Action"]) for s in queue)
    # FC: one role for every function.
    statements = fc["vars"]["rolePolicy"]["Statement"]
    head = "acs:oss:*:*:my-pushfn-uploads/"
    fc_puts = [p for s in statements if "oss:PutObject" in s["Action"] for p in _granted(s["Resource"], "", "", head)]
    for name in written.values():
        assert any(fnmatchcase(name, p) for p in fc_puts), name
    assert not any(fnmatchcase(key, p) for p in fc_puts)
