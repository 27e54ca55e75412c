"""template.yaml: valid for cfn-lint (the real validator, offline), and consistent with the code.

The scheduled function's sample input must be a spec the function accepts, each handler must name a
real `handler`, and the idempotency table must have the key and TTL attribute the store writes.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
# The cfn-lint installed with the dev extra (next to this interpreter), else the one on PATH.
CFN_LINT = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint") or "cfn-lint"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, !GetAtt) as plain values."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}


_CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def test_cfn_lint_passes() -> None:
    result = subprocess.run([CFN_LINT, str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("Type: ScheduleV2", "Type: ScheduleV3"))
    result = subprocess.run([CFN_LINT, str(broken)], capture_output=True, text=True)
    assert result.returncode != 0


def test_every_handler_exists(template: dict[str, Any]) -> None:
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert set(functions) == {"HttpPushFunction", "ScheduledPushFunction", "QueuePushFunction"}
    for resource in functions.values():
        path, _, attribute = resource["Properties"]["Handler"].rpartition(".")
        module = importlib.import_module(path.replace("/", "."))
        assert callable(getattr(module, attribute))


def test_idempotency_table_matches_the_dynamodb_store(template: dict[str, Any]) -> None:
    from pushfn.idempotency.stores import dynamodb

    table = template["Resources"]["IdempotencyTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": dynamodb.KEY, "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": dynamodb.TTL_ATTRIBUTE, "Enabled": True}


def test_sqs_trigger_reports_partial_batch_failures(template: dict[str, Any]) -> None:
    event = template["Resources"]["QueuePushFunction"]["Properties"]["Events"]["Jobs"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = template["Resources"]["PushJobs"]["Properties"]
    assert queue["VisibilityTimeout"] > template["Resources"]["QueuePushFunction"]["Properties"]["Timeout"]


def test_schedule_input_is_a_valid_spec(template: dict[str, Any]) -> None:
    from pushfn.specs.push_spec import resolve_push_spec
    from pushfn.triggers.timer import parse_timer_event

    raw = template["Resources"]["ScheduledPushFunction"]["Properties"]["Events"]["DailyDigest"]["Properties"]
    text = raw["Input"].replace("<aws.scheduler.schedule-arn>", "arn:aws:scheduler:us-east-1:1:schedule/default/daily")
    text = text.replace("<aws.scheduler.scheduled-time>", "2026-11-22T09:00:00Z")
    invocation = parse_timer_event(json.loads(text))
    assert invocation.scheduled_time == datetime(2026, 11, 22, 9, tzinfo=timezone.utc)
    [planned] = resolve_push_spec(invocation.payload, reference=invocation.scheduled_time, app_key=23267207)
    wire = planned.request.to_query()
    assert wire["ExpireTime"] == "2026-11-22T21:00:00Z" and wire["StoreOffline"] == "true"
