"""``pushfn event KIND | pushfn invoke FUNCTION --event -``: every kind through the deployed handler
to the emulator, and ``invoke``'s exit codes for each outcome."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from local_support import DEVICES, FILE_CONTENT, RULE_SPEC, SECRET, LocalEnv

from pushfn.functions import HANDLERS
from pushfn.local.invoke import classify, load_handler
from pushfn.local.sample_events import DEFAULT_PUSH, FUNCTION, KINDS, PLATFORM

ROOT = Path(__file__).resolve().parents[2]

#: (event arguments, title the push must carry) for each kind; HTTP kinds signed with the configured secret.
ROUND_TRIPS: dict[str, tuple[list[str], str]] = {
    "fc2-http": (["--sign"], DEFAULT_PUSH["Title"]),
    "fc3-http": (["--sign"], DEFAULT_PUSH["Title"]),
    "apigw-v1": (["--sign"], DEFAULT_PUSH["Title"]),
    "apigw-v2": (["--sign"], DEFAULT_PUSH["Title"]),
    "function-url": (["--sign"], DEFAULT_PUSH["Title"]),
    "fc-timer": ([], DEFAULT_PUSH["Title"]),
    "eventbridge": ([], RULE_SPEC["Title"]),
    "scheduler": ([], DEFAULT_PUSH["Title"]),
    "sqs": ([], DEFAULT_PUSH["Title"]),
    "mns-topic": ([], DEFAULT_PUSH["Title"]),
    "mns-queue": ([], DEFAULT_PUSH["Title"]),
    "oss": ([], FILE_CONTENT["Title"]),
    "s3": (["--key", "lists/july list+v2.csv"], FILE_CONTENT["Title"]),
}


def test_every_kind_has_a_round_trip() -> None:
    assert set(ROUND_TRIPS) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_event_piped_into_invoke_pushes_once(local: LocalEnv, kind: str) -> None:
    event_args, title = ROUND_TRIPS[kind]
    local.drop("targets.csv")
    local.drop("lists/july list+v2.csv")  # S3 sends it as lists/july+list%2Bv2.csv
    _, ran = local.pipe([kind, *event_args], [FUNCTION[kind]])
    assert ran.code == 0, ran.err
    pushes = local.pushes()
    assert len(pushes) == 1 and pushes[0]["title"] == title
    if kind in ("oss", "s3"):
        assert sorted(pushes[0]["target_value"].split(",")) == sorted(DEVICES)
        answer = ran.json()
        assert answer["files"][0]["status"] == "complete"
    summary = ran.err.strip().splitlines()[-1]
    assert summary.startswith(f"invoked {FUNCTION[kind]} on {PLATFORM[kind]}") and "exit 0" in summary
    assert "pushfn:" not in ran.err  # that prefix marks errors


def test_mns_topic_json_format_round_trips(local: LocalEnv) -> None:
    printed, ran = local.pipe(["mns-topic", "--format", "json", "--body", json.dumps(DEFAULT_PUSH)], ["queue_push"])
    assert ran.code == 0, ran.err
    assert json.loads(printed.raw)["TopicName"] and len(local.pushes()) == 1
    assert ran.json() == {"processed": 1, "succeeded": 1, "failed_permanently": 0}


def test_http_answer_is_the_platform_reply_and_wsgi_answer_is_status_headers_body(local: LocalEnv) -> None:
    _, ran = local.pipe(["apigw-v1", "--sign"], ["http_push"])
    answer = ran.json()
    assert answer["statusCode"] == 202 and "multiValueHeaders" in answer  # the REST API's reply shape
    assert json.loads(answer["body"])["messageId"] == local.pushes()[0]["message_id"]
    _, ran = local.pipe(["fc2-http", "--sign"], ["http_push"])
    answer = ran.json()
    assert answer["status"] == 202 and answer["reason"] == "Accepted" and "(WSGI)" in ran.err


def test_the_same_printed_event_twice_is_a_redelivery(local: LocalEnv) -> None:
    printed = local.run("event", "sqs")
    first = local.run("invoke", "queue_push", "--event", "-", stdin=printed.raw)
    again = local.run("invoke", "queue_push", "--event", "-", stdin=printed.raw)
    assert first.code == again.code == 0
    assert len(local.pushes()) == 1  # the message id is the key: replayed, not pushed again
    fresh = local.pipe(["sqs"], ["queue_push"])[1]
    assert fresh.code == 0 and len(local.pushes()) == 2  # a new printed event is a new message


def test_event_file_and_default_event(local: LocalEnv, tmp_path: Path) -> None:
    path = tmp_path / "tick.json"
    path.write_bytes(local.run("event", "fc-timer", "--name", "nightly").raw)
    assert local.run("invoke", "scheduled_push", "--event", str(path)).code == 0
    # Without --event: the function's usual trigger, signed with the configured secret.
    ran = local.run("invoke", "http_push")
    assert ran.code == 0 and "on fc" in ran.err
    ran = local.run("invoke", "queue_push", "--platform", "aws")
    assert ran.code == 0 and ran.json() == {"batchItemFailures": []}
    assert len(local.pushes()) == 3


# --- the context and the logs --------------------------------------------------------------------


def test_log_lines_are_json_with_the_request_id_and_no_secret(local: LocalEnv) -> None:
    _, ran = local.pipe(["fc3-http", "--sign"], ["http_push", "--request-id", "req-local-1", "--log-format", "json"])
    lines = ran.log_lines()
    assert lines and all(line["platform_request_id"] == "req-local-1" for line in lines)
    # CloudPush's RequestId has its own name: never mistaken for the invocation's.
    (call,) = [line for line in lines if line["message"] == "push call ok"]
    assert call["cloudpush_request_id"] and call["cloudpush_request_id"] != "req-local-1"
    assert not [line for line in lines if "request_id" in line or "requestId" in line]
    assert {"pushfn.http", "pushfn.push"} <= {line["logger"] for line in lines}
    assert "request req-local-1" in ran.err
    assert SECRET not in ran.err and SECRET[6:] not in ran.err


def test_log_lines_are_readable_by_default_like_serves(local: LocalEnv) -> None:
    _, ran = local.pipe(["sqs", "--body", "not a push spec"], ["queue_push", "--request-id", "req-text"])
    lines = ran.err.splitlines()
    assert not [line for line in lines if line.startswith("{")]  # no JSON unless asked
    logged = [line for line in lines if re.match(r"\d\d:\d\d:\d\d ", line)]
    assert any(line.split(" ", 1)[1].startswith("ERROR ") for line in logged), lines
    assert lines[-1].startswith("invoked queue_push on aws, request req-text: ")


def test_handlers_get_the_platforms_context(local: LocalEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    real = load_handler("scheduled_push")

    def spy(event: Any, context: Any) -> Any:
        seen.append((event, context))
        return real(event, context)

    monkeypatch.setattr("pushfn.jobs.scheduled.handle_timer_event", spy)
    assert local.pipe(["fc-timer"], ["scheduled_push", "--timeout", "120", "--request-id", "r-fc"])[1].code == 0
    event, context = seen[-1]
    assert isinstance(event, bytes)  # FC hands the event over unparsed
    assert context.request_id == "r-fc" and context.function.timeout == 120
    assert context.function.name == "scheduled_push" and context.credentials.access_key_id is None
    assert local.pipe(["scheduler"], ["scheduled_push", "--timeout", "30", "--request-id", "r-aws"])[1].code == 0
    event, context = seen[-1]
    assert isinstance(event, dict)  # Lambda hands over the decoded JSON
    assert context.aws_request_id == "r-aws" and 0 < context.get_remaining_time_in_millis() <= 30_000
    assert context.invoked_function_arn.endswith(":function:scheduled_push")


def test_function_table_is_what_each_index_py_deploys() -> None:
    deployed = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "index.py").is_file())
    assert sorted(HANDLERS) == deployed
    for name in deployed:
        spec = importlib.util.spec_from_file_location(f"_deployed_{name}", ROOT / "functions" / name / "index.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        # Both wrap the same handler in pushfn.logs.entry_point (JSON logs with the request id).
        assert module.handler.__wrapped__ is load_handler(name).__wrapped__, name


# --- exit codes ------------------------------------------------------------------------------------


def test_caller_errors_exit_3(local: LocalEnv) -> None:
    ran = local.pipe(["fc3-http"], ["http_push"])[1]  # not signed
    assert ran.code == 3 and ran.json()["statusCode"] == 401 and "HTTP 401" in ran.err
    ran = local.pipe(["fc-timer", "--body", '{"Target": "DEVICE"}'], ["scheduled_push"])[1]
    assert ran.code == 3 and ran.json()["status"] == "invalid"
    # On SQS a dead-lettered message shows only in the logs: the reply lists retries alone.
    ran = local.pipe(["sqs", "--body", "not a push spec"], ["queue_push", "--log-format", "json"])[1]
    assert ran.code == 3 and ran.json() == {"batchItemFailures": []}
    assert any(line.get("event") == "queue_push.permanent_failure" for line in ran.log_lines())
    ran = local.pipe(["mns-queue", "--body", "[]"], ["queue_push"])[1]
    assert ran.code == 3 and ran.json()["failed_permanently"] == 1
    ran = local.pipe(["oss", "--key", "nothing-here.csv"], ["file_push"])[1]
    assert ran.code == 3, ran.err
    (local.bucket / "no-content.csv").write_text("device_id\n" + DEVICES[0] + "\n")
    ran = local.pipe(["oss", "--key", "no-content.csv"], ["file_push"])[1]
    assert ran.code == 3 and ran.json()["files"][0]["status"] == "rejected"
    assert local.pushes() == []


def test_retryable_failures_exit_4(local: LocalEnv) -> None:
    local.emulator.add_fault("internal_error", count=100)
    ran = local.pipe(["fc-timer"], ["scheduled_push"])[1]
    assert ran.code == 4 and ran.json()["errorType"] == "RetryLaterError"
    ran = local.pipe(["sqs"], ["queue_push"])[1]
    assert ran.code == 4 and len(ran.json()["batchItemFailures"]) == 1
    ran = local.pipe(["mns-topic"], ["queue_push"])[1]
    assert ran.code == 4 and ran.json()["errorType"] == "RetryLaterError"
    ran = local.pipe(["apigw-v2", "--sign"], ["http_push"])[1]
    assert ran.code == 4 and ran.json()["statusCode"] >= 500
    local.drop("targets.csv")
    ran = local.pipe(["s3"], ["file_push"])[1]
    assert ran.code == 4 and "retry" in ran.err
    assert local.pushes() == []


@pytest.mark.parametrize(
    ("status", "problem", "code"),
    [(200, None, 0), (302, None, 0), (400, "invalid-request", 3), (404, "not-found", 3),
     (409, "request-in-progress", 4), (422, "idempotency-key-reused", 3), (429, None, 4), (502, "service-refused", 4),
     (503, "throttled", 4), (500, "misconfigured", 1), (500, "internal-error", 1)],
)  # fmt: skip
def test_http_status_decides_the_exit_code(status: int, problem: str | None, code: int) -> None:
    body = json.dumps({"type": f"urn:pushfn:problem:{problem}"}) if problem else "not json"
    assert classify({"statusCode": status, "headers": {}, "body": body}, None).exit_code == code
    assert classify({"status": status, "reason": "", "headers": {}, "body": body}, None).exit_code == code  # WSGI


def test_unusable_configuration_exits_1(local: LocalEnv) -> None:
    local.monkeypatch.setenv("PUSHFN_SCHEDULES", "{not json")
    ran = local.pipe(["eventbridge"], ["scheduled_push"])[1]
    assert ran.code == 1 and ran.json()["errorType"] == "ConfigurationError"
    assert "Traceback" not in ran.err
    local.monkeypatch.setenv("PUSHFN_WEBHOOK_SECRETS", "too-short")
    printed = local.run("event", "fc3-http", "--secret", SECRET)
    ran = local.run("invoke", "http_push", "--event", "-", stdin=printed.raw)
    assert ran.code == 1 and json.loads(ran.json()["body"])["type"].endswith(":misconfigured")


# --- bad input to invoke -------------------------------------------------------------------------


def _refused(ran: Any, *words: str) -> None:
    assert ran.code == 2, ran.err
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pushfn: invoke"), ran.err
    assert "Traceback" not in ran.err and ran.raw == b""
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_bad_event_files_exit_2_with_one_clear_line(local: LocalEnv, tmp_path: Path) -> None:
    _refused(local.run("invoke", "http_push", "--event", str(tmp_path / "nope.json")), "--event", "No such file")
    _refused(local.run("invoke", "http_push", "--event", str(tmp_path)), "is a folder")
    (tmp_path / "empty.json").write_bytes(b"  \n")
    _refused(local.run("invoke", "http_push", "--event", str(tmp_path / "empty.json")), "empty", "pushfn event")
    (tmp_path / "bad.json").write_text('{"version": "2.0",')
    _refused(local.run("invoke", "http_push", "--event", str(tmp_path / "bad.json")), "not usable JSON")
    (tmp_path / "latin1.json").write_bytes(b'{"body": "caf\xe9"}')
    _refused(local.run("invoke", "file_push", "--event", str(tmp_path / "latin1.json")), "UTF-8")
    _refused(local.run("invoke", "scheduled_push", "--event", "-", stdin=b'{"a": 1, "a": 2}'), "duplicate")
    _refused(local.run("invoke", "queue_push", "--platform", "aws", "--event", "-", stdin=b"raw body"), "JSON")
    assert local.pushes() == []


def test_bad_wsgi_environ_json_exits_2_naming_the_key(local: LocalEnv) -> None:
    environ = json.loads(local.run("event", "fc2-http").raw)

    def invoke(changed: dict[str, Any]) -> Any:
        return local.run("invoke", "http_push", "--event", "-", stdin=json.dumps({**environ, **changed}).encode())

    _refused(invoke({"SERVER_PORT": 80}), "SERVER_PORT", "string")
    _refused(invoke({"REQUEST_METHOD": ""}), "REQUEST_METHOD")
    _refused(invoke({"wsgi.input_base64": "AA=="}), "not both")
    _refused(invoke({"wsgi.input": None}), "wsgi.input")
    _refused(
        local.run("invoke", "http_push", "--platform", "aws", "--event", "-", stdin=json.dumps(environ).encode()),
        "--platform",
        "FC only",
    )


def test_too_large_event_exits_2(local: LocalEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pushfn.local.invoke.MAX_EVENT_BYTES", 64)
    _refused(local.run("invoke", "http_push", "--event", "-", stdin=b"{" + b" " * 100 + b"}"), "larger than 64 bytes")


def test_bad_invoke_options_exit_2(local: LocalEnv) -> None:
    for args in (["nope_push"], ["http_push", "--platform", "gcp"], ["http_push", "--timeout", "0"],
                 ["http_push", "--request-id", ""]):  # fmt: skip
        ran = local.run("invoke", *args)
        assert ran.code == 2 and ran.err.startswith("pushfn: invoke: ") and "Traceback" not in ran.err


def test_stream_body_that_is_not_json_reaches_queue_push_on_fc(local: LocalEnv) -> None:
    ran = local.run("invoke", "queue_push", "--event", "-", "--log-format", "json", stdin=b"remind me")
    assert ran.code == 3  # delivered as an MNS STREAM message, then dead-lettered as no push spec
    assert any(line.get("event") == "queue_push.permanent_failure" for line in ran.log_lines())


# --- a real shell pipe ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fc2-http", "mns-topic"])
def test_shell_pipe_between_two_processes(local: LocalEnv, kind: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    cli = f"{sys.executable} -m pushfn.cli"
    sign = " --sign" if kind == "fc2-http" else ""
    done = subprocess.run(
        ["sh", "-c", f"{cli} event {kind}{sign} | {cli} invoke {FUNCTION[kind]} --event -"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert len(local.pushes()) == 1 and b"exit 0" in done.stderr


def test_a_missing_cloud_sdk_names_the_extra_that_brings_it(local: LocalEnv) -> None:
    # `pip install .` leaves oss2 out: an OSS event with no PUSHFN_FILE_ROOT reaches for it.
    local.monkeypatch.delenv("PUSHFN_FILE_ROOT")
    local.monkeypatch.setitem(sys.modules, "oss2", None)  # as if not installed: import raises ModuleNotFoundError
    local.drop("targets.csv")
    ran = local.pipe(["oss", "--key", "targets.csv"], ["file_push"])[1]
    assert ran.code == 1 and "Traceback" not in ran.err
    assert "ModuleNotFoundError" in ran.err
    assert "pip install 'pushfn[aliyun]'" in ran.err and "PUSHFN_FILE_ROOT" in ran.err
    assert local.pushes() == []


@pytest.mark.parametrize(("module", "extra"), [("boto3", "aws"), ("tablestore", "aliyun"), ("fc2", "aliyun")])
def test_each_optional_sdk_maps_to_its_extra(module: str, extra: str) -> None:
    shown = classify(None, ModuleNotFoundError(f"No module named '{module}'", name=module)).reason
    assert f"pip install 'pushfn[{extra}]'" in shown and "PUSHFN_FILE_ROOT" not in shown
    assert "pip install" not in classify(None, ModuleNotFoundError("No module named 'x'", name="x")).reason


def test_invoke_help_names_the_retryable_statuses_the_outcome_uses(capsys: pytest.CaptureFixture[str]) -> None:
    """The help's exit-code text is built from the classification's own set (it said 429/5xx only)."""
    from pushfn.cli import main
    from pushfn.local.invoke import RETRYABLE_4XX

    with pytest.raises(SystemExit):
        main(["invoke", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    listed = "/".join(str(s) for s in sorted(RETRYABLE_4XX))
    assert f"HTTP {listed}/5xx" in text and f"4xx but {listed}" in text
    assert f"HTTP {listed}/5xx" in " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
