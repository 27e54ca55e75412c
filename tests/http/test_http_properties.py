"""Property tests: whatever arrives, through every HTTP platform shape, the function answers < 500,
never raises, and never pushes more than once per key.

Pushes are counted at the emulator. Each example uses its own key (a fresh ``Idempotency-Key`` for
bearer callers, a fresh ``webhook-id`` for signed ones), sends its request twice and checks that the
pair added at most one push. Hypothesis runs derandomized, so a failure reproduces.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
from typing import Any

from http_support import (
    DEVICE,
    OTHER_DEVICE,
    PLATFORMS,
    HttpEnv,
    bearer,
    call_handler,
    platform_event,
    push_body,
    webhook_headers,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from pushfn.triggers.events.http import apigw_v1_event, apigw_v2_event, fc3_event, function_url_event

PROPERTY = settings(
    max_examples=100,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

_counter = itertools.count()

# Text as it can reach us from JSON: any code point, lone surrogates included (JSON's \ud800 escapes).
characters = st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
text = st.text(characters, max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.sampled_from([DEVICE, f"{DEVICE},{OTHER_DEVICE}", "DEVICE", "ALL", "ANDROID", "NOTICE", "9999-12-31T23:59:58Z",
                     "+5m", "+999999999w", '{"and": [{"tag": "a"}]}', "[" * 40, "\u0000", "é" * 70]),
)  # fmt: skip
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
)
PUSH_FIELDS = ["Target", "TargetValue", "DeviceType", "PushType", "Title", "Body", "iOSBadge", "PushTime",
               "ExpireTime", "StoreOffline", "AndroidExtParameters", "AndroidOpenType", "AndroidOpenUrl",
               "JobKey", "template", "params", "AppKey", "push_time", "ios_badge", "tasks"]  # fmt: skip
push_shaped = st.builds(
    lambda overrides, drop: {k: v for k, v in {**push_body(), **overrides}.items() if k not in drop},
    st.dictionaries(st.sampled_from(PUSH_FIELDS) | text, json_values, max_size=3),
    st.sets(st.sampled_from(PUSH_FIELDS), max_size=2),
)
bodies = st.one_of(
    json_values, push_shaped, st.builds(lambda tasks: {"tasks": tasks}, st.lists(push_shaped, max_size=3))
)
segments = st.one_of(st.sampled_from([DEVICE, f"{DEVICE}%2C{OTHER_DEVICE}", "vip", "%FF", "%00", "a%2Fb"]), text)
paths = st.one_of(
    st.sampled_from(["/push", "/mass-push", "/tags", "/health"]),
    st.builds(lambda s, tail: f"/devices/{s}/{tail}", segments, st.sampled_from(["tags", "aliases", "tags/unbind"])),
    st.builds(lambda s: f"/tags/{s}", segments),
)


def _encode(value: Any) -> bytes:
    # ensure_ascii: lone surrogates travel as \udXXX escapes, as a client's JSON would carry them.
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode("ascii")


def _safe_path(path: str) -> str:
    # Factories percent-encode the path; a lone surrogate cannot be, so send its UTF-8 replacement.
    return path.encode("utf-8", "replace").decode("utf-8")


def _headers(auth: str, body: bytes, n: int, extra_key: str) -> dict[str, str]:
    if auth == "webhook":
        return {**webhook_headers(body, msg_id=f"msg_prop_{n}"), "Idempotency-Key": extra_key}
    if auth == "bearer":
        return {**bearer(), "Idempotency-Key": f'"prop-{n}"'}
    return {"Content-Type": "application/json"}


def assert_fine(answer: Any) -> None:
    assert answer.status < 500, (answer.status, answer.body[:300])
    data = json.loads(answer.body)  # every answer is JSON: success or problem details
    if answer.status >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
        assert data["status"] == answer.status and data["type"].startswith("urn:pushfn:problem:")


def send_twice(http_env: HttpEnv, platform: str, path: str, body: bytes, auth: str, extra_key: str) -> None:
    n = next(_counter)
    before = len(http_env.pushes())
    for attempt in range(2):
        # A signed replay carries a new unsigned Idempotency-Key: it must not make a second push.
        headers = _headers(auth, body, n, f"{extra_key}-{attempt}")
        assert_fine(call_handler(platform_event(platform, "POST", _safe_path(path), headers, body), platform))
    pushed = len(http_env.pushes()) - before
    note(f"pushed {min(pushed, 2)}")
    limit = 100 if path == "/mass-push" else 1  # MassPush records one push per task, all from one call
    assert pushed <= limit
    if pushed and path == "/push":
        assert pushed == 1


@given(
    platform=st.sampled_from(PLATFORMS),
    body=bodies,
    path=st.sampled_from(["/push", "/push", "/mass-push"]),
    auth=st.sampled_from(["bearer", "webhook"]),
    extra_key=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8),
)
@PROPERTY
def test_arbitrary_json_bodies_on_every_platform(
    http_env: HttpEnv, platform: str, body: Any, path: str, auth: str, extra_key: str
) -> None:
    send_twice(http_env, platform, path, _encode(body), auth, extra_key)


@given(
    platform=st.sampled_from(PLATFORMS),
    body=st.one_of(st.binary(max_size=200), st.builds(lambda b: b"\xef\xbb\xbf" + b, st.binary(max_size=50))),
    auth=st.sampled_from(["bearer", "webhook", "none"]),
)
@PROPERTY
def test_arbitrary_bytes_bodies_on_every_platform(http_env: HttpEnv, platform: str, body: bytes, auth: str) -> None:
    send_twice(http_env, platform, "/push", body, auth, "x")


@given(platform=st.sampled_from(PLATFORMS), path=paths, method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]))
@PROPERTY
def test_arbitrary_paths_on_every_platform(http_env: HttpEnv, platform: str, path: str, method: str) -> None:
    before = len(http_env.pushes())
    body = _encode({"tags": ["vip"]} if "/devices/" in path else push_body())
    event = platform_event(platform, method, _safe_path(path), bearer(), body)
    assert_fine(call_handler(event, platform))
    assert len(http_env.pushes()) - before <= 1


def _valid_event(platform: str, n: int) -> dict[str, Any]:
    body = _encode(push_body(Title=f"event {n}"))
    headers = {**bearer(), "Idempotency-Key": f'"event-{n}"'}
    builders = {
        "fc3-dict": lambda: fc3_event("POST", "/push", body, headers, as_bytes=False),
        "apigw-v1": lambda: apigw_v1_event("POST", "/push", body, headers),
        "apigw-v2": lambda: apigw_v2_event("POST", "/push", body, headers, cookies=["a=1"]),
        "function-url": lambda: function_url_event("POST", "/push", body, headers),
    }
    return builders[platform]()


EVENT_KEYS = ["headers", "multiValueHeaders", "queryParameters", "queryStringParameters",
              "multiValueQueryStringParameters", "rawPath", "path", "rawQueryString", "cookies", "body",
              "isBase64Encoded", "httpMethod", "version", "requestContext"]  # fmt: skip
CONTEXT_KEYS = ["http", "stage", "requestId", "domainName", "identity"]
HTTP_KEYS = ["method", "path", "sourceIp"]
mutations = st.lists(
    st.tuples(
        st.sampled_from(["event", "context", "http", "header"]),
        st.sampled_from(EVENT_KEYS + CONTEXT_KEYS + HTTP_KEYS) | text,
        json_values,
    ),
    min_size=1,
    max_size=3,
)


def _mutate(event: dict[str, Any], where: str, key: str, value: Any) -> None:
    if where == "event":
        event[key] = value
        return
    ctx = event.get("requestContext")
    if where == "context" and isinstance(ctx, dict):
        ctx[key] = value
    elif where == "http" and isinstance(ctx, dict) and isinstance(ctx.get("http"), dict):
        ctx["http"][key] = value
    elif where == "header":
        headers = event.get("multiValueHeaders") if "multiValueHeaders" in event else event.get("headers")
        if isinstance(headers, dict):
            headers[key] = value


@given(
    platform=st.sampled_from(["fc3-dict", "apigw-v1", "apigw-v2", "function-url"]),
    changes=mutations,
    as_bytes=st.booleans(),
)
@PROPERTY
def test_ill_typed_events_on_every_platform(
    http_env: HttpEnv, platform: str, changes: list[tuple[str, str, Any]], as_bytes: bool
) -> None:
    n = next(_counter)
    event = _valid_event(platform, n)
    for where, key, value in changes:
        _mutate(event, where, key, value)
    before = len(http_env.pushes())
    for _ in range(2):
        sent: Any = copy.deepcopy(event)
        if as_bytes:  # as the FC 3.0 runtime hands it over; a lone surrogate travels as an escape
            sent = json.dumps(sent, ensure_ascii=True).encode("ascii")
        answer = call_handler(sent)
        assert_fine(answer)
        note(f"status {answer.status}")
    assert len(http_env.pushes()) - before <= 1


@given(
    event=st.one_of(
        st.binary(max_size=300),
        st.builds(lambda v: json.dumps(v, ensure_ascii=True).encode(), json_values),
        json_values,
        st.builds(lambda b: base64.b64encode(b), st.binary(max_size=30)),
    )
)
@PROPERTY
def test_arbitrary_events_never_raise(http_env: HttpEnv, event: Any) -> None:
    assert_fine(call_handler(event))
    assert http_env.pushes() == []
