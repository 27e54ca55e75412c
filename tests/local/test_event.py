"""``pushfn event KIND``: each option reaches the platform adapter as given, S3 keys are form-encoded,
and every unusable option is refused with one line naming it."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from local_support import SECRET, LocalEnv

from pushfn.http.auth import verify_webhook
from pushfn.http.settings import webhook_secret_bytes
from pushfn.local.environ import environ_from_json
from pushfn.local.errors import LocalInputError
from pushfn.local.sample_events import KINDS, SampleOptions, parse_header, parse_time, sample_event
from pushfn.triggers.http import parse_environ, parse_event
from pushfn.triggers.objects import is_control_object, parse_object_event
from pushfn.triggers.queue import parse_queue_event
from pushfn.triggers.timer import parse_timer_event

WHEN = "2024-05-01T08:00:00Z"
SPEC = {"Target": "ALIAS", "TargetValue": "a", "DeviceType": "ALL", "PushType": "NOTICE", "Title": "T", "Body": "B"}


def _request(kind: str, printed: bytes) -> Any:
    data = json.loads(printed)
    if kind == "fc2-http":
        return parse_environ(environ_from_json(data))
    return parse_event(printed if kind == "fc3-http" else data)


@pytest.mark.parametrize("kind", ["fc2-http", "fc3-http", "apigw-v1", "apigw-v2", "function-url"])
def test_http_options_reach_the_adapter(local: LocalEnv, kind: str) -> None:
    printed = local.run(
        "event", kind, "--method", "put", "--path", "/devices/abc?x=1&x=2", "--header", "X-Trace:  t 1 ",
        "--body", "plain text", "--header", "Content-Type: text/plain", "--sign",
    )  # fmt: skip
    assert printed.code == 0, printed.err
    request = _request(kind, printed.raw)
    assert request.method == "PUT" and request.path == "/devices/abc" and request.body == b"plain text"
    assert request.headers["x-trace"] == "t 1" and request.headers["content-type"] == "text/plain"
    if kind != "fc3-http":  # FC 3.0 joins a repeated query value with commas, into one
        assert request.query["x"] == ["1", "2"]
    now = int(request.headers["webhook-timestamp"])
    assert verify_webhook(request, (webhook_secret_bytes(SECRET),), now, 300) == request.headers["webhook-id"]


def test_binary_http_body_is_base64_and_survives(local: LocalEnv, tmp_path: Any) -> None:
    (tmp_path / "body.bin").write_bytes(b"\xff\x00\xfe")
    for kind in ("fc2-http", "fc3-http", "apigw-v2"):
        printed = local.run("event", kind, "--body-file", str(tmp_path / "body.bin"))
        assert _request(kind, printed.raw).body == b"\xff\x00\xfe"


def test_every_signed_request_has_its_own_webhook_id(local: LocalEnv) -> None:
    ids = {_request("apigw-v2", local.run("event", "apigw-v2", "--sign").raw).headers["webhook-id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("kind", ["fc-timer", "eventbridge", "scheduler"])
def test_timer_options_reach_the_adapter(local: LocalEnv, kind: str) -> None:
    printed = local.run("event", kind, "--name", "nightly", "--time", WHEN, "--body", json.dumps(SPEC))
    assert printed.code == 0, printed.err
    tick = parse_timer_event(printed.raw if kind == "fc-timer" else json.loads(printed.raw))
    assert tick.trigger_name == ("default/nightly" if kind == "scheduler" else "nightly")
    assert tick.scheduled_time == datetime(2024, 5, 1, 8, tzinfo=timezone.utc) and tick.payload == SPEC


def test_default_time_is_now(local: LocalEnv) -> None:
    tick = parse_timer_event(local.run("event", "fc-timer").raw)
    assert abs(tick.scheduled_time - datetime.now(timezone.utc)) < timedelta(minutes=5)


@pytest.mark.parametrize(("kind", "extra"), [("sqs", []), ("mns-topic", []), ("mns-topic", ["--format", "json"]),
                                             ("mns-queue", [])])  # fmt: skip
def test_queue_options_reach_the_adapter(local: LocalEnv, kind: str, extra: list[str]) -> None:
    body = '{"push": {"Title": "ü"}, "version": 1}'
    printed = local.run("event", kind, "--body", body, *extra, *([] if kind == "mns-topic" and not extra else
                                                                  ["--time", WHEN]))  # fmt: skip
    assert printed.code == 0, printed.err
    batch = parse_queue_event(printed.raw if kind.startswith("mns") else json.loads(printed.raw))
    (message,) = batch.messages
    assert message.body == body and message.problem is None
    if kind == "mns-topic" and not extra:
        assert printed.raw == body.encode()  # STREAM: the raw body, nothing around it
    else:
        assert message.sent_time == datetime(2024, 5, 1, 8, tzinfo=timezone.utc)


def test_mns_queue_body_is_base64_as_mns_sends_it(local: LocalEnv) -> None:
    data = json.loads(local.run("event", "mns-queue", "--body", "hello").raw)
    assert base64.b64decode(data["data"]["messageBody"]) == b"hello"


def test_s3_key_is_form_encoded_and_oss_key_is_not(local: LocalEnv) -> None:
    key = "lists/a b+c ü.csv"
    s3 = json.loads(local.run("event", "s3", "--key", key, "--bucket", "up", "--time", WHEN).raw)
    assert s3["Records"][0]["s3"]["object"]["key"] == "lists/a+b%2Bc+%C3%BC.csv"
    assert s3["Records"][0]["eventTime"] == "2024-05-01T08:00:00.000Z"
    oss = json.loads(local.run("event", "oss", "--key", key, "--bucket", "up").raw)
    assert oss["events"][0]["oss"]["object"]["key"] == key
    for event in (s3, oss):
        (created,) = parse_object_event(event).objects
        assert created.key == key and created.bucket == "up"


def test_every_upload_has_a_fresh_etag(local: LocalEnv) -> None:
    etags = {parse_object_event(json.loads(local.run("event", "oss").raw)).objects[0].etag for _ in range(3)}
    assert len(etags) == 3


# --- refused options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["sqs", "--key", "a.csv"], ["--key", "does not apply to sqs", "oss, s3"]),
        (["oss", "--body", "x"], ["--body", "does not apply to oss"]),
        (["fc-timer", "--sign"], ["--sign", "does not apply"]),
        (["fc3-http", "--time", WHEN], ["--time", "does not apply"]),
        (["sqs", "--format", "json"], ["--format", "mns-topic"]),
        (["fc-timer", "--time", "tomorrow"], ["--time", "ISO-8601"]),
        (["fc-timer", "--time", "2024-13-01T00:00:00Z"], ["--time", "ISO-8601"]),
        (["fc3-http", "--header", "no colon"], ["--header", "Name: value"]),
        (["fc3-http", "--header", "Bad Name: v"], ["--header", "header name"]),
        (["fc3-http", "--path", "push"], ["--path", "start with '/'"]),
        (["fc3-http", "--method", "PO ST"], ["--method"]),
        (["fc3-http", "--secret", "short"], ["--secret", "at least 24"]),
        (["fc3-http", "--secret", "whsec_!!notbase64!!"], ["--secret", "base64"]),
        (["eventbridge", "--body", "[1]"], ["--body", "JSON object"]),
        (["scheduler", "--body", "{not json"], ["--body", "JSON"]),
        (["oss", "--key", ""], ["--key", "1-1024 bytes"]),
        (["s3", "--key", "a\tb.csv"], ["--key", "control"]),
        (["nope"], ["KIND"]),
        (["sqs", "--body", "x", "--body-file", "f"], ["not allowed with"]),
    ],
)
def test_bad_options_exit_2_with_one_line(local: LocalEnv, args: list[str], words: list[str]) -> None:
    ran = local.run("event", *args)
    assert ran.code == 2 and ran.raw == b""
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pushfn: event"), ran.err
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "short" not in lines[0] or "--secret" not in args  # a refused secret is never echoed


def test_sign_without_any_secret_says_where_to_get_one(local: LocalEnv) -> None:
    local.monkeypatch.delenv("PUSHFN_WEBHOOK_SECRETS")
    ran = local.run("event", "fc3-http", "--sign")
    assert ran.code == 2 and "--secret" in ran.err and "PUSHFN_WEBHOOK_SECRETS" in ran.err
    local.monkeypatch.setenv("PUSHFN_WEBHOOK_SECRETS", "weak")
    ran = local.run("event", "fc3-http", "--sign")
    assert ran.code == 2 and "PUSHFN_WEBHOOK_SECRETS" in ran.err and "weak" not in ran.err


def test_body_file_problems_are_named(local: LocalEnv, tmp_path: Any) -> None:
    ran = local.run("event", "sqs", "--body-file", str(tmp_path / "missing.json"))
    assert ran.code == 2 and "--body-file" in ran.err and "No such file" in ran.err
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9")
    ran = local.run("event", "sqs", "--body-file", str(tmp_path / "latin1.txt"))
    assert ran.code == 2 and "--body" in ran.err and "UTF-8" in ran.err
    ran = local.run("event", "sqs", "--body-file", "-", stdin=b"from stdin")
    assert ran.code == 0 and json.loads(ran.raw)["Records"][0]["body"] == "from stdin"


def test_library_refuses_unknown_kind() -> None:
    with pytest.raises(LocalInputError, match="not one of"):
        sample_event("sns", SampleOptions())
    assert len(KINDS) == 13


# --- properties ----------------------------------------------------------------------------------

_KEY = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).filter(
    lambda k: not is_control_object(k)
)


@settings(max_examples=150, deadline=None)
@given(key=_KEY)
def test_any_object_key_round_trips_through_s3_and_oss(key: str) -> None:
    options = SampleOptions(key=key, given=frozenset({"--key"}))
    s3 = json.loads(sample_event("s3", options))
    assert s3["Records"][0]["s3"]["object"]["key"] == quote_plus(key, safe="/")
    assert parse_object_event(s3).objects[0].key == key
    assert parse_object_event(sample_event("oss", options)).objects[0].key == key


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=_KEY)
def test_key_option_through_the_command_line(local: LocalEnv, key: str) -> None:
    ran = local.run("event", "s3", f"--key={key}")
    assert ran.code == 0, ran.err
    assert parse_object_event(json.loads(ran.raw)).objects[0].key == key


_TOKEN = st.text(st.sampled_from("abcXYZ019!#$%&'*+-.^_`|~"), min_size=1, max_size=20)
_VALUE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(str.strip)


@given(name=_TOKEN, value=_VALUE)
def test_header_option_parses_name_and_value(name: str, value: str) -> None:
    assert parse_header(f"{name}:{value}") == (name, value)
    assert parse_header(f"  {name} :  {value}  ") == (name, value)


@given(text=st.text(max_size=30))
def test_header_option_never_fails_with_anything_but_a_clear_error(text: str) -> None:
    try:
        name, _ = parse_header(text)
    except LocalInputError as exc:
        assert exc.field == "--header"
    else:
        assert name and ":" in text


@given(
    when=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1), timezones=st.sampled_from(
            [timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
        )
    )
)  # fmt: skip
def test_time_option_reads_any_iso_instant(when: datetime) -> None:
    assert parse_time(when.isoformat()) == when
    assert parse_time(when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")) == when


@settings(max_examples=60, deadline=None)
@given(body=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200))
def test_any_message_body_reaches_the_queue_adapter(body: str) -> None:
    options = SampleOptions(body=body.encode(), given=frozenset({"--body"}))
    for kind in ("sqs", "mns-queue"):
        printed = sample_event(kind, options)
        (message,) = parse_queue_event(json.loads(printed)).messages
        assert message.body == body, kind
    payload = parse_timer_event(sample_event("fc-timer", SampleOptions(body=json.dumps(body).encode())))
    assert payload.payload == body


def test_after_serve_once_a_signed_event_is_accepted_by_invoke(local: LocalEnv, tmp_path: Any) -> None:
    """No secret in the environment: ``event --sign`` and ``invoke http_push`` both use the one
    ``pushfn serve`` keeps in the data folder (made here as its first start makes it)."""
    from pushfn.serve.local_auth import load_or_create

    local.monkeypatch.delenv("PUSHFN_WEBHOOK_SECRETS")
    kept = load_or_create(tmp_path / "data")
    printed, ran = local.pipe(["fc3-http", "--sign"], ["http_push"])
    assert "webhook-signature" in printed.out
    assert ran.code == 0 and "HTTP 202" in ran.err, ran.err
    assert len(local.pushes()) == 1
    assert kept.webhook_secret not in printed.err + ran.err and kept.webhook_secret[6:] not in ran.err
    # Unsigned, the same function refuses it: the kept secret is really the one checked.
    refused = local.pipe(["fc3-http"], ["http_push"])[1]
    assert refused.code == 3 and "HTTP 401" in refused.err
    # The environment's secret wins over the kept one: signed with the kept one, refused.
    local.monkeypatch.setenv("PUSHFN_WEBHOOK_SECRETS", SECRET)
    signed_with_kept = local.run("event", "fc3-http", "--secret", kept.webhook_secret)
    assert local.run("invoke", "http_push", "--event", "-", stdin=signed_with_kept.raw).code == 3


def test_an_unusable_kept_secret_is_named_never_shown(local: LocalEnv, tmp_path: Any) -> None:
    local.monkeypatch.delenv("PUSHFN_WEBHOOK_SECRETS")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "serve-auth.json").write_text('{"webhook_secret": "whsec_c2hvcnQ=", "api_key": "k"}')
    ran = local.run("event", "fc3-http", "--sign")
    assert ran.code == 2 and "serve-auth.json" in ran.err and "at least 24 bytes" in ran.err
    assert "c2hvcnQ" not in ran.err


def test_an_eventbridge_rule_event_carries_no_push_and_its_help_says_so(local: LocalEnv) -> None:
    # A rule's Scheduled Event has an empty detail: the push is the rule's PUSHFN_SCHEDULES entry.
    printed = local.run("event", "eventbridge", "--name", "unlisted-rule")
    assert printed.code == 0 and printed.json()["detail"] == {}
    ran = local.run("invoke", "scheduled_push", "--event", "-", stdin=printed.raw)
    assert ran.code == 3 and "PUSHFN_SCHEDULES" in ran.err and "unlisted-rule" in ran.err
    shown = local.run("event", "--help")
    assert "oss/s3 and eventbridge" in " ".join(shown.out.split())
