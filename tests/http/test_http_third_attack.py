"""Issue 13, third attack on the HTTP side: more inputs of the kinds the issue names.

- a platform field echoed unbounded (item 8, the kind of 737e382's capped answers): the request method
  was taken as any string, upper-cased and echoed in the 405 answer and the log line — a 7 MB
  ``httpMethod`` made a 7 MB answer, past Lambda's 6 MB limit (a platform error, not a 400); an empty
  one was served as ``GET``. A method is an RFC 9110 token of at most 32 characters, on every shape.
- a 2xx CloudPush answer the client cannot read (item 8, the push client as HTTP reaches it): nested
  too deep or of another shape it was a 500, and the key of an accepted push was released, so a retry
  pushed again; a non-JSON 2xx blamed the caller (400 at field ``Response``).
- a refusal's Code, Message and RequestId bounded (item 8, answers capped; item 18, masked before cut).
- a caller's ``IdempotentToken`` (item 3's kind): it won over the guard's fresh token, so new
  Idempotency-Keys were answered 202 with the first MessageId and nothing was sent.
- a template parameter's control character named at ``params.<name>`` (item 10's kind), not at Title.
- a name of invisible characters (U+FEFF, U+200B…) is blank (items 4/9, the kind of c88e221).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from http_support import (
    DEVICE,
    HttpEnv,
    bearer,
    call_handler,
    configure,
    encode,
    platform_event,
    push_body,
)

from pushfn.http import reset_default_app
from pushfn.push import MockTransport, PushClient, RawResponse, Retry, StaticCredentials
from pushfn.runtime import Runtime, reset_runtime, set_runtime
from pushfn.triggers.events.http import fc2_environ

_METHOD_FIELD = {
    "fc3-bytes": "requestContext.http.method",
    "fc3-dict": "requestContext.http.method",
    "apigw-v1": "httpMethod",
    "apigw-v2": "requestContext.http.method",
    "function-url": "requestContext.http.method",
}


def _with_method(platform: str, method: str) -> Any:
    event = platform_event("fc3-dict" if platform == "fc3-bytes" else platform, "POST", "/push", bearer(), b"{}")
    if platform == "apigw-v1":
        event["httpMethod"] = method
    else:
        event["requestContext"]["http"]["method"] = method
    if platform == "fc3-bytes":
        return json.dumps(event).encode("utf-8")
    return event


@pytest.mark.parametrize("platform", list(_METHOD_FIELD))
@pytest.mark.parametrize(
    "method",
    ["P" * 7_000_000, "", "POST /push", "PO\x00ST", "GET\r\nX-Injected: 1", "PÖST", "P" * 33],
    ids=["7-MB", "empty", "space", "nul", "crlf", "non-ascii", "33-chars"],
)
def test_a_method_that_is_no_http_token_is_a_malformed_event(http_env: HttpEnv, platform: str, method: str) -> None:
    """Before: 405 echoing the method whole (7 MB of answer) or, when empty, the request served as GET."""
    answer = call_handler(_with_method(platform, method), platform)
    assert answer.status == 400, answer.body[:300]
    assert len(answer.body) < 2000
    problem = answer.json()
    assert problem["type"] == "urn:pushfn:problem:malformed-event"
    assert problem["errors"][0]["field"] == _METHOD_FIELD[platform]
    assert problem["errors"][0]["rule"] == "format"
    assert http_env.pushes() == []


def test_fc2_request_method_is_checked_the_same_way(http_env: HttpEnv) -> None:
    environ = fc2_environ("POST", "/push", encode(push_body()), bearer())
    environ["REQUEST_METHOD"] = "P" * 100
    answer = call_handler(environ, "fc2")
    assert answer.status == 400
    assert answer.json()["errors"][0]["field"] == "REQUEST_METHOD"
    assert http_env.pushes() == []


@pytest.mark.parametrize("method", ["post", "PATCH", "M-SEARCH", "X" * 32])
def test_token_methods_are_still_routed(http_env: HttpEnv, method: str) -> None:
    """A token method reaches the router: POST in any case pushes; others are 405 naming the method."""
    answer = call_handler(_with_method("apigw-v2", method), "apigw-v2")
    if method == "post":
        assert answer.status == 400 and answer.json()["type"] != "urn:pushfn:problem:malformed-event"
    else:
        assert answer.status == 405 and method.upper() in answer.json()["detail"]


# --- a 2xx answer the client cannot read (item 8 kind, the push client as HTTP reaches it) ---------
#
# FAKE CloudPush (MockTransport): the emulator answers in the service's own shapes, and the fault is
# in reading answers of other shapes, which a proxy or a changed service may send. Before: a 2xx body
# nested deeper than json can walk raised RecursionError, and MessageIds or TagInfos of another type a
# TypeError, each a 500 — and, being no PushError, the guard released the key although CloudPush had
# accepted the push, so the caller's retry with the same Idempotency-Key pushed again. A 2xx that is
# not JSON was answered 400 'service-rejected' at field 'Response', the caller blamed for the
# service's answer; a MessageId that is an object was answered as its repr, a lone MessageId string
# in MessageIds as its characters.


def _fake_client(status: int, body: bytes) -> tuple[PushClient, MockTransport]:
    transport = MockTransport(lambda request: RawResponse(status, {}, body))
    client = PushClient(
        endpoint="https://cloudpush.aliyuncs.com",
        app_key=23267207,
        credentials=StaticCredentials("a", "b"),
        transport=transport,
        retry=Retry(max_attempts=1, backoff=0, throttle_backoff=0, sleep=lambda _: None),
    )
    return client, transport


def _through_handler(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: bytes, requests: list[tuple[str, str, Any]]
) -> tuple[list[Any], MockTransport]:
    client, transport = _fake_client(200, body)
    configure(monkeypatch, tmp_path)
    set_runtime(Runtime(client=client))
    answers = []
    try:
        for method, path, payload in requests:
            raw = b"" if payload is None else encode(payload)
            headers = {**bearer(), "Idempotency-Key": "order-42"}
            answers.append(call_handler(platform_event("fc3-bytes", method, path, headers, raw)))
    finally:
        reset_runtime()
        reset_default_app()
    return answers, transport


_DEEP = b'{"RequestId":"r","MessageId":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/push", _DEEP),
        ("/push", b'{"RequestId":"r","MessageId":{"id":"500000000001"}}'),
        ("/push", b"<html>gateway</html>"),
        ("/mass-push", _DEEP.replace(b"MessageId", b"MessageIds")),
        ("/mass-push", b'{"RequestId":"r","MessageIds":{"MessageId":[{"id":1}]}}'),
    ],
    ids=["deep", "object-id", "not-json", "mass-deep", "mass-object-id"],
)
def test_an_unreadable_2xx_answer_is_a_502_and_the_key_is_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, path: str, body: bytes
) -> None:
    payload = push_body() if path == "/push" else {"PushTask": [push_body()]}
    (first, again), transport = _through_handler(monkeypatch, tmp_path, body, [("POST", path, payload)] * 2)
    assert first.status == 502, first.body[:300]
    assert first.json()["code"] == "InvalidResponse"
    # CloudPush accepted the push: the same key is not sent again (in progress until its expiry, then
    # resent with the same IdempotentToken, which CloudPush drops).
    assert again.status == 409, again.body[:300]
    assert len(transport.requests) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"RequestId":"r","MessageIds":{"MessageId":"500000000001"}}', ["500000000001"]),
        (b'{"RequestId":"r","MessageIds":{"MessageId":500000000001}}', ["500000000001"]),
        (b'{"RequestId":"r","MessageIds":["500000000001"]}', ["500000000001"]),
    ],
    ids=["lone-string", "lone-number", "list"],
)
def test_a_lone_message_id_is_one_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: bytes, expected: list[str]
) -> None:
    (answer,), _ = _through_handler(monkeypatch, tmp_path, body, [("POST", "/mass-push", {"PushTask": [push_body()]})])
    assert answer.status == 202, answer.body[:300]
    assert answer.json()["messageIds"] == expected


@pytest.mark.parametrize("path", ["/tags", f"/devices/{DEVICE}/tags", f"/devices/{DEVICE}/aliases"])
@pytest.mark.parametrize(
    "body",
    [
        b'{"RequestId":"r","TagInfos":5,"AliasInfos":5}',
        b'{"RequestId":"r","TagInfos":{"TagInfo":5},"AliasInfos":{"AliasInfo":5}}',
        b'{"RequestId":"r","TagInfos":{"TagInfo":"vip"},"AliasInfos":{"AliasInfo":"alice"}}',
        b'{"RequestId":"r","TagInfos":{"TagInfo":[{"TagName":{"a":1}}]},"AliasInfos":{"AliasInfo":[{"AliasName":[1]}]}}',
    ],
    ids=["number", "inner-number", "inner-string", "name-object"],
)
def test_a_list_answer_of_another_shape_is_a_502(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, path: str, body: bytes
) -> None:
    (answer,), _ = _through_handler(monkeypatch, tmp_path, body, [("GET", path, None)])
    assert answer.status == 502, answer.body[:300]
    assert answer.json()["code"] == "InvalidResponse"


def test_names_of_the_service_shapes_are_still_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = b'{"RequestId":"r","TagInfos":{"TagInfo":[{"TagName":"vip"},{"TagName":"beta"}]}}'
    (answer,), _ = _through_handler(monkeypatch, tmp_path, body, [("GET", "/tags", None)])
    assert answer.status == 200 and answer.json()["tags"] == ["vip", "beta"]
    body = b'{"RequestId":"r","TagInfos":{"TagInfo":{"TagName":"vip"}}}'
    (answer,), _ = _through_handler(monkeypatch, tmp_path, body, [("GET", "/tags", None)])
    assert answer.status == 200 and answer.json()["tags"] == ["vip"]


# --- a refusal's Code, Message and RequestId are bounded (item 8 kind: answers capped) -------------


@pytest.mark.parametrize(
    "answer",
    [
        {"Code": "InvalidTagName." + "x" * 7_000_000, "Message": "m", "RequestId": "r"},
        {"Code": "Flow.Limited", "Message": "m" * 7_000_000, "RequestId": "r"},
        {"Code": "InvalidTagName.Format", "Message": "m", "RequestId": "r" * 7_000_000},
    ],
    ids=["code", "message", "request-id"],
)
def test_a_huge_refusal_is_a_bounded_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answer: dict[str, str]
) -> None:
    """FAKE CloudPush (MockTransport). Before: a 7 MB Code became a 7 MB field and code in the problem
    answer (14 MB, past Lambda's 6 MB answer limit), a 7 MB RequestId likewise."""
    client, _ = _fake_client(400, json.dumps(answer).encode())
    configure(monkeypatch, tmp_path)
    set_runtime(Runtime(client=client))
    try:
        reply = call_handler(platform_event("fc3-bytes", "DELETE", "/tags/vip", bearer(), b""))
    finally:
        reset_runtime()
        reset_default_app()
    assert reply.status in (400, 502), reply.body[:300]
    assert len(reply.body) < 5000


def test_a_device_id_at_the_cut_of_a_long_code_is_masked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code = "InvalidDeviceId." + "x" * 100 + " " + DEVICE + " " + "y" * 200
    client, _ = _fake_client(400, json.dumps({"Code": code, "Message": "m", "RequestId": "r"}).encode())
    configure(monkeypatch, tmp_path)
    set_runtime(Runtime(client=client))
    try:
        reply = call_handler(platform_event("fc3-bytes", "GET", f"/devices/{DEVICE}/tags", bearer(), b""))
    finally:
        reset_runtime()
        reset_default_app()
    assert DEVICE[:12] not in reply.body.decode()


# --- the IdempotentToken is the function's (item 3's kind: a repeat the guard lets through is sent) --


@pytest.mark.parametrize("name", ["IdempotentToken", "idempotent_token"])
@pytest.mark.parametrize("route", ["/push", "/mass-push", "template"])
def test_a_caller_idempotent_token_is_refused(http_env: HttpEnv, name: str, route: str) -> None:
    """Before: the body's token won over the guard's fresh one, so three requests under three new
    Idempotency-Keys pushed once and answered 202 three times with the first MessageId."""
    token = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    if route == "/push":
        path, body = "/push", push_body(**{name: token})
    elif route == "/mass-push":
        path, body = "/mass-push", {"PushTask": [push_body()], name: token}
    else:
        path, body = "/push", {"template": "order_shipped", "params": {"order": "1", "eta": "2"},
                               "TargetValue": DEVICE, name: token}  # fmt: skip
    for attempt in range(3):
        headers = {**bearer(), "Idempotency-Key": f"order-{route}-{attempt}"}
        answer = call_handler(platform_event("fc3-bytes", "POST", path, headers, encode(body)))
        assert answer.status == 400, answer.body[:300]
        assert answer.json()["errors"][0]["field"] == name
        assert answer.json()["errors"][0]["rule"] == "not_allowed"
    assert http_env.pushes() == []


def test_the_api_description_leaves_the_token_out() -> None:
    from pushfn.http.openapi import component_schemas

    schemas = component_schemas()
    for name in ("Push", "MassPush"):
        assert "IdempotentToken" not in schemas[name]["properties"]


# --- a template parameter's text is checked where the caller put it (item 10's kind) ---------------


@pytest.mark.parametrize("platform", ("fc2", "fc3-bytes", "apigw-v2"))
@pytest.mark.parametrize(
    ("value", "rule"),
    [("42\x00", "control_character"), ("42\x1b[31m", "control_character"), ("\x7f", "control_character")],
    ids=["nul", "escape", "del"],
)
def test_a_control_character_in_a_template_parameter_names_the_parameter(
    http_env: HttpEnv, platform: str, value: str, rule: str
) -> None:
    """Before: reported against Title (where the slot sits), a field the caller never sent."""
    body = encode({"template": "order_shipped", "params": {"order": value, "eta": "Monday"}, "TargetValue": DEVICE})
    answer = call_handler(platform_event(platform, "POST", "/push", bearer(), body), platform)
    assert answer.status == 400, answer.body[:300]
    errors = answer.json()["errors"]
    assert [(e["field"], e["rule"]) for e in errors] == [("params.order", rule)]
    assert http_env.pushes() == []


def test_a_template_parameter_with_a_line_feed_is_still_rendered(http_env: HttpEnv) -> None:
    body = encode({"template": "order_shipped", "params": {"order": "42", "eta": "Monday\nor Tuesday"},
                   "TargetValue": DEVICE})  # fmt: skip
    answer = call_handler(platform_event("fc3-bytes", "POST", "/push", bearer(), body))
    assert answer.status == 202, answer.body[:300]


# --- a name of invisible characters is blank (items 4/9, the kind of c88e221's blank names) --------

_INVISIBLE = ["\ufeff", "\u200b", "\u2060", "\u200e\u200f", " \u200b "]


@pytest.mark.parametrize("blank", _INVISIBLE, ids=["bom", "zwsp", "word-joiner", "bidi-marks", "mixed"])
@pytest.mark.parametrize(
    ("target", "make"),
    [
        ("ALIAS", lambda b: b),
        ("ACCOUNT", lambda b: ["user-1", b]),
        ("DEVICE", lambda b: f"{DEVICE},{b}"),
        ("TAG", lambda b: b),
        ("TAG", lambda b: {"and": [{"tag": "vip"}, {"tag": b}]}),
    ],
    ids=["alias", "account-list", "device-list", "tag", "tag-expression"],
)
def test_a_target_name_of_invisible_characters_is_blank(http_env: HttpEnv, blank: str, target: str, make: Any) -> None:
    """Before: str.strip() keeps format characters (Cf), so U+FEFF or U+200B alone passed as a name
    and was pushed — to nobody, beside the real names."""
    body = encode(push_body(Target=target, TargetValue=make(blank)))
    answer = call_handler(platform_event("fc3-bytes", "POST", "/push", bearer(), body))
    assert answer.status == 400, answer.body[:300]
    error = answer.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("TargetValue", "required")
    assert http_env.pushes() == []


@pytest.mark.parametrize("blank", ["%EF%BB%BF", "%E2%80%8B", "%E2%81%A0"], ids=["bom", "zwsp", "word-joiner"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/tags/{}", None),
        ("POST", f"/devices/{DEVICE}/tags", {"tags": ["{}"]}),
        ("POST", f"/devices/{DEVICE}/aliases", {"aliases": ["{}"]}),
    ],
    ids=["path-tag", "body-tag", "body-alias"],
)
def test_an_invisible_name_on_the_device_routes_is_blank(
    http_env: HttpEnv, blank: str, method: str, path: str, body: Any
) -> None:
    from urllib.parse import unquote

    raw = b"" if body is None else json.dumps(body).replace("{}", unquote(blank)).encode()
    answer = call_handler(platform_event("fc3-bytes", method, path.replace("{}", blank), bearer(), raw))
    assert answer.status == 400, answer.body[:300]
    assert http_env.emulator.pushes() == [] or all(p.get("action") == "ListTags" for p in http_env.emulator.pushes())


@pytest.mark.parametrize("name", ["\ufeffvip", "a\u200bb", "中文"])
def test_a_name_with_visible_characters_is_kept(http_env: HttpEnv, name: str) -> None:
    body = encode(push_body(Target="ALIAS", TargetValue=name))
    answer = call_handler(platform_event("fc3-bytes", "POST", "/push", bearer(), body))
    assert answer.status == 202, answer.body[:300]
