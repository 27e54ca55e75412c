"""Issue 13, second attack on the HTTP side: more inputs of the kinds the issue names.

- parity (items 11, 15, 16): a WSGI server hands header values over as latin-1 text (PEP 3333); FC 3.0
  and API Gateway hand over UTF-8 text. A non-ASCII ``webhook-id`` signed by its sender verified on
  every trigger but FC 2.0 (and ``pushfn serve``), where it was 401.
- odd numbers in a security header (items 1-2): ``webhook-timestamp`` went through ``int()``, which
  takes ``+1700000000``, ``1_700_000_000`` and full-width or Arabic-Indic digits.
- a service answer out of range (item 8): an ``x-acs-retry-after`` of hundreds of digits overflowed the
  float of seconds, and the push was answered 500 instead of 503 + ``Retry-After``.
- a blank name in ``TargetValue`` (items 4, 9): a device, alias or account of only spaces, or a blank
  tag in a tag expression, reached CloudPush, or was pushed beside the others as a name of nobody.
- a device id at the cut of a logged text (item 18): the malformed-event line, and ``pushfn serve``'s
  invocation key, were cut before the log filter masked them, leaving most of a device id readable.
- a named stage behind a custom domain (item 11): rawPath has no stage segment there, so a stage named
  like a route (``tags``) was stripped from the route itself.
- errors naming the wrong field (items 8, 10): a Content-Length of thousands of digits ('the body could
  not be read'), CloudPush's ``DeviceId`` for the path parameter ``deviceId``, a template parameter's
  type reported at pydantic's own paths (``params.order.constrained-str``…).
- answers bounded (item 8): 20,000 field errors were 1.6 MB of answer; now the first 100 and a count.
- property: any header bytes behind FC 2.0 are answered, never a 500.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from http_support import (
    DEVICE,
    SECRET,
    HttpEnv,
    bearer,
    call_handler,
    configure,
    encode,
    platform_event,
    push_body,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushfn.http import reset_default_app, sign_webhook
from pushfn.http.settings import webhook_secret_bytes
from pushfn.masking import scrub_cut
from pushfn.push import MockTransport, PushClient, RawResponse, Retry, StaticCredentials
from pushfn.runtime import Runtime, reset_runtime, set_runtime
from pushfn.triggers.events.http import fc2_environ, fc3_event

PLATFORMS = ("fc2", "fc3-bytes", "apigw-v1", "apigw-v2", "function-url")


def signed(body: bytes, msg_id: str, timestamp: str) -> dict[str, str]:
    signature = sign_webhook(webhook_secret_bytes(SECRET), msg_id, timestamp, body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


def send(platform: str, body: bytes, headers: dict[str, str]) -> Any:
    """The request as ``platform`` hands it over; for FC 2.0 header values are latin-1 text of the
    UTF-8 bytes on the wire, as PEP 3333 (and wsgiref under ``pushfn serve``) gives them."""
    if platform == "fc2":
        environ = fc2_environ("POST", "/push", body, headers)
        for name, value in headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in environ:
                environ[key] = value.encode("utf-8").decode("latin-1")
        return call_handler(environ, "fc2")
    return call_handler(platform_event(platform, "POST", "/push", headers, body), platform)


# --- FC 2.0 reads header values as the other platforms do --------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("msg_id", ["msg_é_ünïcode", "msg_消息_1", "msg_\U0001f514"])
def test_non_ascii_webhook_id_verifies_and_dedupes_on_every_platform(
    http_env: HttpEnv, platform: str, msg_id: str
) -> None:
    body = encode(push_body(Title=f"{platform} {msg_id}"))
    headers = signed(body, f"{msg_id}_{platform}", str(int(time.time())))
    first = send(platform, body, headers)
    assert first.status == 202, first.body
    again = send(platform, body, headers)
    assert again.status == 202 and again.headers.get("idempotent-replayed") == "true"
    assert again.json()["messageId"] == first.json()["messageId"] and len(http_env.pushes()) == 1


def test_fc2_header_bytes_that_are_not_utf8_stay_as_they_came(http_env: HttpEnv) -> None:
    """A header value that is not UTF-8 keeps its latin-1 reading (no error, no guess): a signature over
    other bytes does not verify, a 401 as on any mismatch."""
    body = encode(push_body())
    headers = signed(body, "msg_plain", str(int(time.time())))
    environ = fc2_environ("POST", "/push", body, headers)
    environ["HTTP_WEBHOOK_ID"] = b"msg_\xe9".decode("latin-1")  # latin-1 é: not UTF-8
    answer = call_handler(environ, "fc2")
    assert answer.status == 401 and answer.json()["errors"][0]["rule"] == "signature_mismatch"
    assert http_env.pushes() == []


# --- webhook-timestamp: integer Unix seconds, ASCII digits only ---------------------------------

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("platform", ("fc2", "fc3-bytes", "apigw-v2"))
@pytest.mark.parametrize(
    "spelling",
    [
        lambda t: t.translate(_FULL_WIDTH),
        lambda t: t.translate(_ARABIC_INDIC),
        lambda t: f"{t[:4]}_{t[4:]}",
        lambda t: f"+{t}",
        lambda t: f"{t}.0",
        lambda t: "0" * 30 + t,
    ],
    ids=["full-width", "arabic-indic", "underscore", "plus", "fraction", "30-zeros"],
)
def test_webhook_timestamp_in_another_spelling_is_refused(http_env: HttpEnv, platform: str, spelling: Any) -> None:
    """Each is signed correctly over its own spelling, so only the format rule can refuse it."""
    body = encode(push_body())
    answer = send(platform, body, signed(body, "msg_spelling", spelling(str(int(time.time())))))
    assert answer.status == 401, answer.body
    assert answer.json()["errors"][0] == {
        "field": "webhook-timestamp",
        "rule": "format",
        "message": "webhook-timestamp must be integer Unix seconds",
    }
    assert http_env.pushes() == []


def test_webhook_timestamp_in_ascii_digits_is_still_accepted(http_env: HttpEnv) -> None:
    body = encode(push_body())
    assert send("fc3-bytes", body, signed(body, "msg_ascii", str(int(time.time())))).status == 202


# --- x-acs-retry-after of any size is a 503 with Retry-After, never a 500 -----------------------


@pytest.mark.parametrize("millis", ["9" * 400, "9" * 4000, str(10**13)])
def test_huge_retry_after_from_the_service_is_a_503(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, millis: str
) -> None:
    """FAKE CloudPush (MockTransport): the emulator caps the header it sends at one day, and the fault
    is in reading what a service (or a proxy in front of it) may send."""
    refusal = RawResponse(
        400,
        {"x-acs-retry-after": millis},
        json.dumps({"Code": "Flow.Limited", "Message": "m", "RequestId": "r-1"}).encode(),
    )
    transport = MockTransport(lambda request: refusal)
    client = PushClient(
        endpoint="https://cloudpush.aliyuncs.com",
        app_key=23267207,
        credentials=StaticCredentials("a", "b"),
        transport=transport,
        retry=Retry(max_attempts=3, backoff=0, throttle_backoff=0, sleep=lambda _: None),
    )
    configure(monkeypatch, tmp_path)
    set_runtime(Runtime(client=client))
    try:
        answer = call_handler(platform_event("fc3-bytes", "POST", "/push", bearer(), encode(push_body())))
    finally:
        reset_runtime()
        reset_default_app()
    assert answer.status == 503, answer.body
    assert answer.json()["code"] == "Flow.Limited"
    assert int(answer.headers["retry-after"]) >= 10**9  # asked to wait (far) longer than the client does
    assert len(transport.requests) == 1  # not retried: the wait is beyond the cap


# --- a blank name in TargetValue (items 4 and 9, the kind of de5fdcb's blank aliases and tags) ----


@pytest.mark.parametrize("platform", ("fc2", "fc3-bytes", "apigw-v1", "function-url"))
@pytest.mark.parametrize(
    ("target", "value", "message"),
    [
        ("DEVICE", " ", "TargetValue: item 1 is blank; each value must name one device"),
        ("ALIAS", "\u3000", "TargetValue: item 1 is blank; each value must name one alias"),
        ("ALIAS", ["alice", " "], "TargetValue: item 2 is blank; each value must name one alias"),
        ("ACCOUNT", "user-1,\t", "TargetValue: item 2 is blank; each value must name one account"),
        ("TAG", " ", "TargetValue: TargetValue: a tag name must not be blank"),
        ("TAG", {"and": [{"tag": "vip"}, {"tag": "  "}]}, "TargetValue: $.and[1]: a tag name must not be blank"),
    ],
)
def test_a_blank_target_name_is_refused_before_cloudpush(
    http_env: HttpEnv, platform: str, target: str, value: Any, message: str
) -> None:
    """Before: a lone blank reached CloudPush (its Missing…/InvalidTargetValue answer), and a blank beside
    other names was pushed as one more name ('alice, '), reaching nobody."""
    body = encode(push_body(Target=target, TargetValue=value))
    answer = call_handler(platform_event(platform, "POST", "/push", bearer(), body), platform)
    assert answer.status == 400, answer.body
    data = answer.json()
    assert data["type"] == "urn:pushfn:problem:invalid-request"
    assert data["errors"] == [{"field": "TargetValue", "rule": "required", "message": message.split(": ", 1)[1]}]
    assert http_env.emulator.calls() == []


def test_a_blank_target_name_in_a_mass_push_task_names_its_task(http_env: HttpEnv) -> None:
    tasks = [push_body(Title="ok"), push_body(Target="ALIAS", TargetValue="bob, ")]
    body = encode({"PushTask": tasks})
    answer = call_handler(platform_event("fc3-bytes", "POST", "/mass-push", bearer(), body))
    assert answer.status == 400 and http_env.emulator.calls() == []
    assert [(e["field"], e["rule"]) for e in answer.json()["errors"]] == [("PushTask.2.TargetValue", "required")]


# --- a device id cut in half is still most of it (item 18) ----------------------------------------


def _logged_text(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in records)


@pytest.mark.parametrize("where", ["headers", "queryParameters"])
@pytest.mark.parametrize("pad", [170, 180, 185, 190])
def test_a_device_id_at_the_cut_of_a_logged_field_path_is_masked_not_cut(
    http_env: HttpEnv, caplog: pytest.LogCaptureFixture, where: str, pad: int
) -> None:
    """The malformed-event line cut the field path at 200 characters before the log filter saw it, so a
    device id across the cut was logged as its first 10-30 characters (``…e2ba19de97604f55b16557``)."""
    caplog.set_level(logging.INFO, logger="pushfn")
    event = fc3_event("POST", "/push", encode(push_body()), bearer(), as_bytes=False)
    event[where] = {"-" * pad + DEVICE: 5}  # a number where a string belongs: malformed
    answer = call_handler(event)
    assert answer.status == 400 and answer.json()["type"] == "urn:pushfn:problem:malformed-event"
    logged = _logged_text(caplog.records)
    assert "malformed platform event" in logged
    assert DEVICE[:10] not in logged


def test_scrub_cut_masks_before_it_cuts() -> None:
    text = "id " + "-" * 20 + DEVICE + " token=" + "s" * 40
    for limit in range(1, len(text) + 2):
        cut = scrub_cut(text, limit)
        assert len(cut) <= limit and DEVICE[:6] not in cut and "s" * 6 not in cut
    assert scrub_cut("short", 200) == "short"


# --- a named stage behind a custom domain is not in rawPath (item 11) ------------------------------


@pytest.mark.parametrize(
    ("stage", "method", "path"),
    [("tags", "GET", "/tags"), ("health", "GET", "/health"), ("push", "POST", "/push"),
     ("devices", "GET", "/devices/{d}/tags")],
)  # fmt: skip
def test_a_stage_named_like_a_route_behind_a_custom_domain_keeps_the_route(
    http_env: HttpEnv, stage: str, method: str, path: str
) -> None:
    """Behind a custom domain the API mapping picks the stage and ``rawPath`` has no stage segment;
    stripping ``/<stage>`` anyway turned ``GET /tags`` of stage ``tags`` into ``GET /`` (404)."""
    from pushfn.triggers.events.http import apigw_v2_event

    path = path.format(d=DEVICE)
    event = apigw_v2_event(method, path, encode(push_body()) if method == "POST" else None, bearer())
    event["requestContext"].update(stage=stage, domainName="push.example.com", domainPrefix="push")
    answer = call_handler(event)
    assert answer.status == (202 if method == "POST" else 200), answer.body
    # the API's own endpoint still carries the stage in rawPath, and it is still stripped there
    own = apigw_v2_event(method, path, encode(push_body(Title="own")) if method == "POST" else None, bearer(),
                         stage=stage)  # fmt: skip
    assert own["rawPath"].startswith(f"/{stage}/") and ".execute-api." in own["requestContext"]["domainName"]
    assert call_handler(own).status == answer.status


# --- a Content-Length of thousands of digits (item 8: an error naming the wrong field) -------------


@pytest.mark.parametrize("digits", [19, 4300, 4301, 5000, 100_000])
def test_a_content_length_of_too_many_digits_is_413_not_an_unreadable_body(http_env: HttpEnv, digits: int) -> None:
    """int() refuses more than 4,300 digits: the ValueError was answered as 'the body could not be read'
    (field body, rule read). A length of more digits than any body is simply too large."""
    environ = fc2_environ("POST", "/push", encode(push_body()), bearer())
    environ["CONTENT_LENGTH"] = "9" * digits
    answer = call_handler(environ, "fc2")
    assert answer.status == 413, answer.body
    assert answer.json()["type"] == "urn:pushfn:problem:payload-too-large"
    assert http_env.pushes() == []


# --- a CloudPush refusal names the caller's field, not CloudPush's parameter (item 8 kind) -----------

UNKNOWN_DEVICE = "f" * 32


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"/devices/{UNKNOWN_DEVICE}/tags", {"tags": ["vip"]}),
        ("POST", f"/devices/{UNKNOWN_DEVICE}/tags/unbind", {"tags": ["vip"]}),
        ("GET", f"/devices/{UNKNOWN_DEVICE}/tags", None),
        ("POST", f"/devices/{UNKNOWN_DEVICE}/aliases", {"aliases": ["alice"]}),
        ("POST", f"/devices/{UNKNOWN_DEVICE}/aliases/unbind", {"all": True}),
        ("GET", f"/devices/{UNKNOWN_DEVICE}/aliases", None),
    ],
)
def test_an_unknown_device_is_reported_against_the_path_parameter(
    http_env: HttpEnv, method: str, path: str, body: Any
) -> None:
    """CloudPush answers ``InvalidDeviceId.NotFound``: the caller sent ``deviceId`` in the path (the API
    they were given), and the answer named ``DeviceId``, CloudPush's parameter, which they never sent."""
    event = platform_event("fc3-bytes", method, path, bearer(), encode(body) if body is not None else b"")
    answer = call_handler(event)
    assert answer.status == 400, answer.body
    data = answer.json()
    assert data["type"] == "urn:pushfn:problem:service-rejected" and data["code"] == "InvalidDeviceId.NotFound"
    assert [(e["field"], e["rule"]) for e in data["errors"]] == [("deviceId", "NotFound")]
    assert UNKNOWN_DEVICE not in answer.body.decode()


# --- an error answer is bounded, whatever the number of errors (item 8: absurd input) ---------------


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        ("/push", push_body(**{f"u{i}": 1 for i in range(20_000)}), 20_000),
        ("/mass-push", {"PushTask": [push_body(Title="\u0000", **{f"x{j}": 1 for j in range(150)})] * 100}, 15_100),
    ],
    ids=["20000-unknown-fields", "100-tasks-of-151-errors"],
)
def test_thousands_of_field_errors_answer_the_first_hundred_and_a_count(
    http_env: HttpEnv, path: str, body: Any, errors: int
) -> None:
    """Before: a 250 KB body answered 1.6 MB, one entry per error; a body as large as a raised
    PUSHFN_HTTP_MAX_BODY_BYTES allows would pass Lambda's 6 MB answer limit (a platform error)."""
    answer = call_handler(platform_event("fc3-bytes", "POST", path, bearer(), encode(body)))
    assert answer.status == 400, answer.body[:300]
    data = answer.json()
    assert len(data["errors"]) == 100 and data["errorsOmitted"] == errors - 100
    assert len(answer.body) < 20_000 and http_env.pushes() == []


def test_a_hundred_errors_or_fewer_are_all_listed(http_env: HttpEnv) -> None:
    body = push_body(**{f"unknown{i}": 1 for i in range(100)})
    data = call_handler(platform_event("fc3-bytes", "POST", "/push", bearer(), encode(body))).json()
    assert len(data["errors"]) == 100 and "errorsOmitted" not in data


# --- a template parameter of the wrong type is one error at params.<name> (item 10 kind) -------------


@pytest.mark.parametrize(
    ("value", "rule"),
    [({}, "type"), ([1], "type"), (None, "type"), ({"a": {"b": 1}}, "type"), ("x" * 4097, "string_too_long")],
    ids=["object", "array", "null", "nested", "4097-chars"],
)
def test_a_template_parameter_of_the_wrong_type_is_one_error_at_its_name(
    http_env: HttpEnv, value: Any, rule: str
) -> None:
    """Before: one error per member of the parameter's type union, each at a path of pydantic's own
    (params.order.constrained-str, params.order.int, params.order.float, params.order.bool)."""
    body = {"template": "order_shipped", "params": {"order": value, "eta": "Monday"}, "TargetValue": DEVICE}
    answer = call_handler(platform_event("fc3-bytes", "POST", "/push", bearer(), encode(body)))
    assert answer.status == 400, answer.body
    assert [(e["field"], e["rule"]) for e in answer.json()["errors"]] == [("params.order", rule)]
    assert http_env.pushes() == []


def test_template_parameters_of_each_allowed_type_still_render(http_env: HttpEnv) -> None:
    for value in ("41", 42, 4.5, True, "x" * 4096):  # distinct Titles: no two are one push
        body = {"template": "order_shipped", "params": {"order": value, "eta": "Monday"}, "TargetValue": DEVICE}
        answer = call_handler(platform_event("fc3-bytes", "POST", "/push", bearer(), encode(body)))
        assert answer.status in (202, 400), answer.body  # 4096 characters make a Title over its limit
    assert len(http_env.pushes()) == 4


# --- property: any header bytes behind FC 2.0 (PEP 3333 latin-1 text) are answered, never a 500 ------

_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_IDEMPOTENCY_KEY", "HTTP_WEBHOOK_ID", "HTTP_WEBHOOK_TIMESTAMP",
            "HTTP_WEBHOOK_SIGNATURE", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING")  # fmt: skip


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.dictionaries(st.sampled_from(_HEADERS), st.binary(max_size=80), max_size=4))
def test_any_header_bytes_behind_fc2_are_answered_never_500(http_env: HttpEnv, values: dict[str, bytes]) -> None:
    environ = fc2_environ("POST", "/push", encode(push_body(Title="property")), bearer())
    for name, raw in values.items():
        environ[name] = raw.decode("latin-1")
    before = len(http_env.pushes())
    answer = call_handler(environ, "fc2")
    assert 200 <= answer.status < 500, answer.body[:300]
    assert answer.headers["content-type"].startswith("application/")
    assert len(http_env.pushes()) - before <= 1


# --- a store that can never work is misconfigured, not "retry shortly" (item 19) ---------------------


def _use_dynamodb(monkeypatch: pytest.MonkeyPatch, moto_url: str, table: str) -> None:
    for name, value in {
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PUSHFN_IDEMPOTENCY_URL": f"dynamodb://{table}",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("shape", ["missing", "other-key-schema", "sqlite-other-table"])
def test_a_store_table_that_cannot_work_is_misconfigured_and_logged_once(
    http_env: HttpEnv,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Any,
    moto_url: str,
    shape: str,
) -> None:
    """DynamoDB on moto (server mode): a table that does not exist (ResourceNotFoundException) or has
    another key (ValidationException); SQLite: a table 'idempotency' of another program. Each was a 503
    'nothing was sent; retry shortly', forever: no retry makes the table exist. Now the problem
    misconfigured, its reason logged once however many requests come."""
    import sqlite3

    import boto3

    table = f"pushfn-{shape}-{time.monotonic_ns()}"
    if shape == "sqlite-other-table":
        with sqlite3.connect(tmp_path / "idempotency.db") as conn:  # the URL configure() set
            conn.execute("CREATE TABLE idempotency (id TEXT PRIMARY KEY, owner TEXT)")
    else:
        _use_dynamodb(monkeypatch, moto_url, table)
    if shape == "other-key-schema":
        boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1").create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "other", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    reset_default_app()
    set_runtime(Runtime(client=http_env.client))  # the store is built from the environment on first use
    caplog.set_level(logging.INFO, logger="pushfn")
    for title in ("first", "second", "third"):
        headers = {**bearer(), "Idempotency-Key": f"k-{title}"}
        answer = call_handler(platform_event("fc3-bytes", "POST", "/push", headers, encode(push_body(Title=title))))
        assert answer.status == 500, answer.body
        assert answer.json()["type"] == "urn:pushfn:problem:misconfigured"
    assert http_env.pushes() == []
    reasons = [r for r in caplog.records if r.getMessage().startswith("http function misconfigured")]
    assert len(reasons) == 1 and "PUSHFN_IDEMPOTENCY_URL" in reasons[0].getMessage()


def test_a_store_that_is_down_is_still_503(http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side: an unreachable DynamoDB endpoint is an outage, retried by the caller (503)."""
    _use_dynamodb(monkeypatch, "http://127.0.0.1:9", "pushfn-unreachable")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1")
    reset_default_app()
    set_runtime(Runtime(client=http_env.client))
    headers = {**bearer(), "Idempotency-Key": "k-down"}
    answer = call_handler(platform_event("fc3-bytes", "POST", "/push", headers, encode(push_body())))
    assert answer.status == 503 and answer.json()["type"] == "urn:pushfn:problem:idempotency-store-unavailable"
    assert http_env.pushes() == []


@pytest.mark.parametrize("cut_at", [4, 12, 20, 28])
def test_a_device_id_at_the_cut_of_the_misconfiguration_line_is_masked(
    http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Any, cut_at: int
) -> None:
    """The reason was cut at 500 characters before the log filter ran (the kind of c5382b1): a store path
    naming a device id across the cut (here an SQLite table of another shape, whose reason names the
    store's URL) was logged as most of it."""
    import sqlite3

    prefix = f"IdempotencyConfigError: PUSHFN_IDEMPOTENCY_URL: the store sqlite:///{tmp_path}/"
    pad = 500 - cut_at - len(prefix) - 1  # the device id starts cut_at characters before the cut
    folder = tmp_path / ("p" * min(pad, 200)) / ("q" * (pad - min(pad, 200) - 1)) / f"-{DEVICE}-"
    folder.mkdir(parents=True)
    with sqlite3.connect(folder / "x.db") as conn:
        conn.execute("CREATE TABLE idempotency (id TEXT PRIMARY KEY, owner TEXT)")
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_URL", f"sqlite:///{folder}/x.db")
    reset_default_app()
    set_runtime(Runtime(client=http_env.client))
    caplog.set_level(logging.INFO, logger="pushfn")
    headers = {**bearer(), "Idempotency-Key": "k-cut"}
    answer = call_handler(platform_event("fc3-bytes", "POST", "/push", headers, encode(push_body())))
    assert answer.status == 500 and answer.json()["type"] == "urn:pushfn:problem:misconfigured"
    logged = _logged_text([r for r in caplog.records if "misconfigured" in r.getMessage()])
    assert "the store sqlite:" in logged
    assert DEVICE[:10] not in logged
