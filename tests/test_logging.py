"""Logging at every entry point: configured once, JSON lines in the cloud carrying the platform's request
id, the readable form locally, and masking on every field — structured ones and other libraries' too.

The cloud runs happen in a subprocess (logging is process-wide): a root handler stands in for the one
the FC / Lambda runtime installs, and the deployable ``functions/*/index.py`` handlers are called with
a context like the platform's.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pushfn
from pushfn import logs
from pushfn.local.contexts import make_context
from pushfn.logs import (
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    bind_request_id,
    current_request_id,
    entry_point,
    platform_request_id,
    unbind_request_id,
)

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="  # 32 bytes once decoded
API_KEY = "pfk_thisIsAnApiKeyOfMoreThan24Bytes_0123456789"
TOKEN = "CAIS" + "t" * 60
DEVICE = "e2ba19de97604f55b165576736477b74"

CLOUD_SCRIPT = textwrap.dedent(
    """
    import json, logging, sys
    from types import SimpleNamespace

    # The platform's runtime has a root handler before our code runs (FC's and Lambda's both do).
    platform = logging.StreamHandler(sys.stdout)
    platform.setFormatter(logging.Formatter("PLATFORM %(message)s"))
    logging.getLogger().addHandler(platform)
    logging.getLogger().setLevel(logging.INFO)

    from pushfn.triggers.events.http import fc3_event
    from pushfn.triggers.events.queue import sqs_event
    import runpy

    http = runpy.run_path("functions/http_push/index.py")["handler"]
    queue = runpy.run_path("functions/queue_push/index.py")["handler"]

    SECRET, API_KEY, TOKEN, DEVICE = sys.argv[1:5]
    fc = SimpleNamespace(request_id="fc-req-0001", credentials=None, function=SimpleNamespace(timeout=60))
    body = json.dumps({"Target": "DEVICE", "TargetValue": DEVICE, "Title": "t", "Body": "b"})
    event = fc3_event("POST", "/push", body, {"Authorization": "Bearer " + API_KEY + "x",
                                              "webhook-signature": "v1,abc"})
    answer = http(event, fc)
    print("ANSWER", answer["statusCode"])

    # Another library logging a secret during an invocation (fc2 logs request headers on failure).
    class Library:
        def __init__(self, context):
            self.context = context
    def noisy(event, context):
        logging.getLogger("fc2").warning(
            "request failed: headers %s", {"x-acs-security-token": TOKEN, "Authorization": "Bearer " + API_KEY},
            extra={"fields": {"security_token": TOKEN, "device": DEVICE, "nested": {"secret": SECRET}}},
        )
        return "done"
    from pushfn.logs import entry_point
    print("NOISY", entry_point(noisy)(b"{}", fc))

    lam = SimpleNamespace(aws_request_id="lambda-req-0002", get_remaining_time_in_millis=lambda: 60000)
    print("QUEUE", json.dumps(queue(sqs_event([{"not": "a spec", "secret": SECRET}]), lam)))
    logging.getLogger("pushfn.after").warning("outside any invocation")
    """
)


def run_cloud() -> list[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(pushfn.__file__).resolve().parents[1]),
        "PUSHFN_WEBHOOK_SECRETS": SECRET,
        "PUSHFN_API_KEYS": "t:" + "0" * 64,
        "PUSH_APP_KEY": "23267207",
        "PUSH_ENDPOINT": "http://127.0.0.1:9",
        "PUSH_MAX_ATTEMPTS": "1",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "testid",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "testsecret-testsecret",
        "PUSHFN_IDEMPOTENCY_URL": "memory://",
    }
    result = subprocess.run(
        [sys.executable, "-c", CLOUD_SCRIPT, SECRET, API_KEY, TOKEN, DEVICE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_cloud_log_lines_are_json_with_the_request_id_and_no_secret() -> None:
    lines = run_cloud()
    assert "ANSWER 401" in lines and "NOISY done" in lines
    records = [json.loads(line) for line in lines if line.startswith("{")]
    # Every record went through the platform's handler, as one JSON line: never its own format.
    assert not [line for line in lines if line.startswith("PLATFORM")]
    assert len(records) == len([line for line in lines if not line.startswith(("ANSWER", "NOISY", "QUEUE"))])
    http = [r for r in records if r["logger"] == "pushfn.http"]
    # Every line names the invocation's (the context's) id; the HTTP function adds the id the FC 3.0 event
    # carries under its own name when it differs. CloudPush's RequestId is never called either.
    assert http and all(r["platform_request_id"] == "fc-req-0001" for r in http)
    assert all(r["gateway_request_id"] == "1-64f6cd87-0123456789abcdef" for r in http)
    assert not [r for r in records if "request_id" in r or "requestId" in r]
    noisy = next(r for r in records if r["logger"] == "fc2")
    assert noisy["platform_request_id"] == "fc-req-0001" and noisy["level"] == "WARNING"
    # Masked once, whichever filters and formatter it passed: the length shown is the value's own.
    assert noisy["security_token"] == f"CAIS…({len(TOKEN)})" and noisy["nested"]["secret"] == f"whse…({len(SECRET)})"
    assert noisy["device"] == "e2ba…(32)"
    queue = [r for r in records if r["logger"].startswith("pushfn.jobs")]
    assert queue and all(r["platform_request_id"] == "lambda-req-0002" for r in queue)
    after = next(r for r in records if r["logger"] == "pushfn.after")
    assert "platform_request_id" not in after  # unbound once the invocation returned
    text = "\n".join(lines)
    for secret in (SECRET, SECRET[6:], API_KEY, TOKEN, DEVICE):
        assert secret not in text


# --- in process ----------------------------------------------------------------------------------------


def _record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("pushfn.test", logging.INFO, __file__, 1, message, args or ("world",), None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def test_the_request_id_is_bound_per_invocation_and_unbound_after() -> None:
    seen: list[str | None] = []

    def handler(event: object, context: object) -> str:
        seen.append(current_request_id())
        if event == "boom":
            raise ValueError("the handler's own error passes through")
        return "answer"

    wrapped = entry_point(handler)
    assert wrapped.__wrapped__ is handler and wrapped.__name__ == "handler"
    assert wrapped({}, SimpleNamespace(request_id="r-1")) == "answer"
    with pytest.raises(ValueError, match="passes through"):
        wrapped("boom", SimpleNamespace(aws_request_id="r-2"))
    assert seen == ["r-1", "r-2"] and current_request_id() is None


def test_request_ids_of_each_platform() -> None:
    assert platform_request_id(SimpleNamespace(request_id="fc"), b"{}") == "fc"
    assert platform_request_id(SimpleNamespace(aws_request_id="lambda"), {}) == "lambda"
    assert platform_request_id(make_context("fc", "f", timeout_seconds=1, request_id="fake-fc")) == "fake-fc"
    assert platform_request_id(make_context("aws", "f", timeout_seconds=1, request_id="fake-aws")) == "fake-aws"
    environ = {"REQUEST_METHOD": "GET", "fc.context": SimpleNamespace(request_id="fc2")}
    assert platform_request_id(lambda *a: None, environ) == "fc2"
    assert platform_request_id(None, {"HTTP_X_FC_REQUEST_ID": "hdr"}) == "hdr"
    assert platform_request_id(None, {}) is None and platform_request_id(None) is None
    assert platform_request_id(SimpleNamespace(request_id=7), {}) is None


def test_the_filter_adds_the_bound_id_and_keeps_lambdas() -> None:
    token = bind_request_id("bound")
    try:
        record = _record()
        RequestIdFilter().filter(record)
        assert record.platform_request_id == "bound"
        own = _record(platform_request_id="own")
        RequestIdFilter().filter(own)
        assert own.platform_request_id == "own"
    finally:
        unbind_request_id(token)
    lambda_record = _record(aws_request_id="from-lambda")
    RequestIdFilter().filter(lambda_record)
    assert lambda_record.platform_request_id == "from-lambda"


def test_masking_twice_keeps_the_first_mask() -> None:
    once = logs.mask(TOKEN)
    assert logs.mask(once) == once == f"CAIS…({len(TOKEN)})"
    assert logs.mask("…(5)") == "…(5)" and logs.mask("abcd…(12) and more") != "abcd…(12) and more"


def test_json_and_text_lines_are_scrubbed() -> None:
    fields = {"api_key": API_KEY, "n": 1}
    record = _record("security_token=%s for %s", TOKEN, DEVICE, platform_request_id="r-9", fields=fields)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["platform_request_id"] == "r-9" and entry["n"] == 1
    assert TOKEN not in json.dumps(entry) and DEVICE not in json.dumps(entry) and API_KEY not in json.dumps(entry)
    text = TextFormatter().format(_record("line one\nline two with %s", SECRET))
    assert "\n" not in text and SECRET[6:] not in text and text.endswith("line one line two with " + logs.mask(SECRET))


def test_configure_logging_happens_once_and_checks_its_format(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="'json' or 'text'"):
        logs.configure_logging("xml")
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(logs, "_configured", None)
    previous = logging.getLogger("pushfn").level
    stream = io.StringIO()
    try:
        assert logs.configure_logging("text", stream=stream) is True
        assert logs.logging_configured() == "text"
        assert logs.configure_logging("json", stream=stream) is False  # once: the first wins
        (handler,) = root.handlers
        assert isinstance(handler.formatter, TextFormatter)
        logs.get_logger("pushfn.test").info("device %s", DEVICE)
        assert DEVICE not in stream.getvalue() and "device e2ba" in stream.getvalue()
    finally:
        logging.getLogger("pushfn").setLevel(previous)
        logs.assume_configured("pytest")


@pytest.mark.parametrize(
    "template",
    [
        "token={}",
        "refresh_token={} next",
        "x-idempotent_token={}&x=1",  # only CloudPush's IdempotentToken itself is kept readable
        "password: {}",
        "db passwd = {}",
        "client_secret={}",
        '{{"token": "{}"}}',
        "{{'password': '{}'}}",
        '"X-Api-Key": "{}"',
        "api key: {}",
        "apiKey={}",
        "private_key={}",
        "Authorization: Basic {}",
        "authorization=Bearer {}",
        "webhook-signature: {}",
        "Cookie: {}",
        "session-token:{}",
    ],
)
def test_secret_looking_pairs_in_free_text_are_masked(template: str) -> None:
    value = "s3cr3tValueOfSomeLength"
    text = logs.scrub_text("before " + template.format(value) + " after")
    assert value not in text and logs.mask(value) in text and text.startswith("before ") and "after" in text


@pytest.mark.parametrize("text", ["tokens: 5 used", "key=welcome.csv", "status=ok", "push token count 3"])
def test_ordinary_pairs_in_free_text_are_kept(text: str) -> None:
    assert logs.scrub_text(text) == text


@given(
    name=st.sampled_from(["token", "Token", "access_token", "password", "secret", "api_key", "Signature"]),
    separator=st.sampled_from(["=", ": ", " = ", '": "', "':'"]),
    value=st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd")), min_size=9, max_size=64),
)
def test_any_secret_named_value_in_text_never_survives(name: str, separator: str, value: str) -> None:
    text = logs.scrub_text(f"{name}{separator}{value}")
    assert value not in text and text.endswith(logs.mask(value))
