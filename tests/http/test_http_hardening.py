"""Issue 13, HTTP items: each at the issue's input and at other inputs of the same kind.

1 a signed request's key is its webhook-id; 2 weak secrets and keys are misconfiguration; 4 a path
parameter is one identifier; 8 a malformed platform event or an absurd request is a 400, never a 500;
11 a named HTTP API stage is stripped; 12 the body goes through the one JSON decoder; 15 cookies are
one header; 16 a chunked WSGI body is read.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from typing import Any

import pytest
from http_support import (
    API_KEY,
    DEVICE,
    OTHER_DEVICE,
    PLATFORMS,
    SECRET,
    HttpEnv,
    bearer,
    call_handler,
    configure,
    encode,
    platform_event,
    push_body,
    webhook_headers,
)
from tests.support import Clock, ClockedRuntime

from pushfn.http import HttpSettings, create_app, handler, hash_api_key, reset_default_app, sign_webhook
from pushfn.http.auth import verify_webhook
from pushfn.http.problems import HttpProblem
from pushfn.http.settings import MIN_SECRET_BYTES
from pushfn.push.errors import ConfigurationError
from pushfn.runtime import Runtime, reset_runtime, set_runtime
from pushfn.triggers.events.http import (
    apigw_v1_event,
    apigw_v2_event,
    call_wsgi,
    fc2_environ,
    fc3_event,
    function_url_event,
)
from pushfn.triggers.http import Headers, HttpRequest, MalformedEventError, parse_event


def send(platform: str, body: Any, headers: dict[str, str], path: str = "/push", method: str = "POST") -> Any:
    return call_handler(platform_event(platform, method, path, headers, encode(body)), platform)


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status == status, (answer.status, answer.body[:500])
    assert answer.headers["content-type"] == "application/problem+json"
    data = answer.json()
    assert data["status"] == status and data["type"].startswith("urn:pushfn:problem:")
    assert b"Traceback" not in answer.body
    return data


def short_id(value: Any) -> str:
    return ascii(value)[:24]


def rules(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["rule"]) for e in data.get("errors", [])}


# --- 1. a signed request's key is its webhook-id --------------------------------------------------


def test_signed_webhook_resent_with_new_idempotency_keys_pushes_once(http_env: HttpEnv) -> None:
    """The issue's input: one signed webhook, resent five times, each with ``Idempotency-Key: replay-N``."""
    body = encode(push_body())
    headers = webhook_headers(body, msg_id="msg_replay_attack")
    first = send("fc3-bytes", body, headers)
    assert first.status == 202, first.body
    for n in range(1, 6):
        again = send("fc3-bytes", body, {**headers, "Idempotency-Key": f"replay-{n}"})
        assert again.status == 202 and again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert again.headers["idempotency-key-ignored"] == "true"
    assert len(http_env.pushes()) == 1


@pytest.mark.parametrize(
    "extra_key",
    ['"replay-quoted"', "replay-bare", '"open', "", "a,b", "msg_other_but_valid"],
    ids=["quoted", "bare", "malformed", "empty", "list", "another-id"],
)
def test_no_idempotency_key_header_overrides_the_webhook_id(http_env: HttpEnv, extra_key: str) -> None:
    """Whatever the unsigned header holds — well-formed, malformed, empty — it is ignored, not a 400."""
    body = encode(push_body())
    headers = webhook_headers(body, msg_id="msg_kind")
    assert send("apigw-v2", body, {**headers, "Idempotency-Key": extra_key}).status == 202
    assert send("apigw-v2", body, headers).headers.get("idempotent-replayed") == "true"
    assert send("fc2", body, {**headers, "Idempotency-Key": extra_key + "x"}).status == 202
    assert len(http_env.pushes()) == 1


def test_signed_replay_on_every_platform_pushes_once(http_env: HttpEnv) -> None:
    body = encode(push_body())
    headers = webhook_headers(body, msg_id="msg_every_platform")
    statuses = [send(p, body, {**headers, "Idempotency-Key": f'"k-{p}"'}).status for p in PLATFORMS]
    assert statuses == [202] * len(PLATFORMS)
    assert len(http_env.pushes()) == 1


def test_signed_webhook_id_reused_with_another_body_is_422_whatever_the_key_header(http_env: HttpEnv) -> None:
    body = encode(push_body())
    assert send("fc3-dict", body, webhook_headers(body, msg_id="msg_422")).status == 202
    other = encode(push_body(Title="Changed"))
    headers = {**webhook_headers(other, msg_id="msg_422"), "Idempotency-Key": '"fresh-key"'}
    assert rules(problem(send("fc3-dict", other, headers), 422)) == {("Idempotency-Key", "payload_mismatch")}
    assert len(http_env.pushes()) == 1


def test_bearer_requests_still_use_idempotency_key(http_env: HttpEnv) -> None:
    body = push_body()
    first = send("apigw-v1", body, {**bearer(), "Idempotency-Key": '"bearer-1"'})
    second = send("apigw-v1", body, {**bearer(), "Idempotency-Key": '"bearer-2"'})
    assert first.status == second.status == 202
    assert "idempotency-key-ignored" not in second.headers
    assert len(http_env.pushes()) == 2


@pytest.mark.parametrize("platform", ["fc3-bytes", "apigw-v2"])
def test_a_signed_replay_after_a_short_idempotency_ttl_but_inside_the_tolerance_pushes_once(
    http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    """PUSHFN_IDEMPOTENCY_TTL (2 s) shorter than the timestamp tolerance (300 s): the signed request is
    still valid when its key would be forgotten, so the webhook-id is kept for the whole window."""
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_TTL", "2")
    reset_default_app()
    clock = Clock()
    set_runtime(ClockedRuntime(clock=clock, client=http_env.client))
    body = encode(push_body())
    headers = webhook_headers(body, msg_id="msg_short_ttl")
    assert send(platform, body, headers).status == 202
    for n, seconds in enumerate((3, 60, 296)):  # the guard's clock: 3 s, 63 s, then 359 s later
        clock.advance(seconds)
        again = send(platform, body, {**headers, "Idempotency-Key": f"replay-{n}"})
        assert again.status == 202 and again.headers["idempotent-replayed"] == "true"
    assert len(http_env.pushes()) == 1


def test_a_bearer_key_still_expires_after_the_short_ttl(http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only signed ids outlive PUSHFN_IDEMPOTENCY_TTL: an API caller's key ends when the operator said."""
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_TTL", "2")
    reset_default_app()
    clock = Clock()
    set_runtime(ClockedRuntime(clock=clock, client=http_env.client))
    headers = {**bearer(), "Idempotency-Key": '"short-ttl"'}
    assert send("fc3-bytes", push_body(), headers).status == 202
    clock.advance(3.1)
    assert "idempotent-replayed" not in send("fc3-bytes", push_body(), headers).headers
    assert len(http_env.pushes()) == 2


def test_signed_key_lifetime_covers_both_sides_of_the_tolerance() -> None:
    from pushfn.http.idempotency import signed_key_lifetime

    assert signed_key_lifetime(300) == 601
    assert signed_key_lifetime(1) == 3


def test_with_auth_none_a_validly_signed_replay_still_keys_on_its_webhook_id(
    http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PUSHFN_HTTP_AUTH=none lets anyone in, but a request that *is* signed keeps its signed key: the
    issue's five replays with fresh Idempotency-Key headers push once."""
    monkeypatch.setenv("PUSHFN_HTTP_AUTH", "none")
    reset_default_app()
    body = encode(push_body())
    headers = webhook_headers(body, msg_id="msg_anonymous_mode")
    first = send("fc3-bytes", body, headers)
    assert first.status == 202
    for n in range(1, 6):
        again = send("fc3-bytes", body, {**headers, "Idempotency-Key": f"replay-{n}"})
        assert again.status == 202 and again.json() == first.json()
        assert again.headers["idempotency-key-ignored"] == "true"
    assert len(http_env.pushes()) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h: {**h, "webhook-signature": "v1,AAAA"},  # does not verify
        lambda h: {**h, "webhook-timestamp": "1"},  # far outside the tolerance
        lambda h: {k: v for k, v in h.items() if k != "webhook-signature"},  # incomplete
    ],
    ids=["bad-signature", "old-timestamp", "no-signature"],
)
def test_with_auth_none_a_badly_signed_request_is_anonymous_not_refused(
    http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch, tamper: Any
) -> None:
    monkeypatch.setenv("PUSHFN_HTTP_AUTH", "none")
    reset_default_app()
    body = encode(push_body())
    headers = tamper(webhook_headers(body, msg_id="msg_tampered"))
    one = send("apigw-v2", body, {**headers, "Idempotency-Key": "anon-1"})
    two = send("apigw-v2", body, {**headers, "Idempotency-Key": "anon-2"})
    assert one.status == two.status == 202
    assert "idempotency-key-ignored" not in two.headers  # anonymous: its own key header is the key
    assert len(http_env.pushes()) == 2


# --- 2. weak secrets and API keys are misconfiguration ---------------------------------------------


def _whsec(raw: bytes) -> str:
    return "whsec_" + base64.b64encode(raw).decode()


WEAK_SECRETS = {
    "empty-whsec": ("whsec_", b""),
    "one-byte": ("whsec_AA==", b"\x00"),
    "empty-entry-first": (f"whsec_,{SECRET}", b""),
    "empty-entry-middle": (f"{SECRET},,{_whsec(b'k' * 32)}", b"k" * 32),
    "trailing-comma": (f"{SECRET},", None),
    "short-plain": ("short-plain-secret", b"short-plain-secret"),
    "23-bytes": (_whsec(b"x" * 23), b"x" * 23),
    "23-bytes-plain": ("p" * 23, b"p" * 23),
    "bad-base64": ("whsec_not*base64*at*all*at*all*at*all", None),
    "blank-entries": (" , ", None),
    "space-after-prefix": ("whsec_ " + base64.b64encode(b"s" * 30).decode(), None),
    "24-bytes-but-empty-entry": (f"{_whsec(b'y' * 24)}, ,{SECRET}", b"y" * 24),
}


@pytest.mark.parametrize("value, signing_key", list(WEAK_SECRETS.values()), ids=list(WEAK_SECRETS))
def test_weak_webhook_secret_is_misconfiguration_never_a_valid_key(
    http_env: HttpEnv, monkeypatch, tmp_path, caplog, value: str, signing_key: bytes | None
) -> None:
    configure(monkeypatch, tmp_path, {"PUSHFN_WEBHOOK_SECRETS": value})
    caplog.set_level(logging.INFO, logger="pushfn.http")
    body = encode(push_body())
    signed = webhook_headers(body, msg_id="msg_weak")
    if signing_key is not None:  # signed with exactly the weak key: must not authenticate
        signed["webhook-signature"] = sign_webhook(signing_key, "msg_weak", signed["webhook-timestamp"], body)
    for platform in ("fc3-bytes", "apigw-v2", "fc2"):
        for headers in (signed, bearer()):  # every request, even with a valid API key
            data = problem(send(platform, body, headers), 500)
            assert data["type"].endswith("misconfigured"), data
    assert http_env.pushes() == []
    reasons = [r for r in caplog.records if "settings invalid" in r.getMessage()]
    assert len(reasons) == 1, "logged once, not once per request"
    assert "PUSHFN_WEBHOOK_SECRETS" in reasons[0].getMessage()
    secret_part = value.split(",")[0].removeprefix("whsec_")
    if len(secret_part) >= 8:
        assert secret_part not in caplog.text  # never echoed


@pytest.mark.parametrize(
    "entry",
    [
        lambda d: f"tenant-a:{d.upper()}",
        lambda d: f"tenant-a:{d},",
        lambda d: f",tenant-a:{d}",
        lambda d: f"tenant-a:{d},,tenant-b:{d}",
        lambda d: f":{d}",
        lambda d: f"tenant a:{d}",
        lambda d: f"tenant-a:{d[:63]}",
        lambda d: f"tenant-a:{d}0",
        lambda d: API_KEY,  # a raw key pasted by mistake
        lambda d: f"{'t' * 65}:{d}",
        lambda d: f"tenant-a:{d},tenant-b:{d}",
    ],
    ids=["upper-hex", "trailing-comma", "leading-comma", "empty-middle", "no-tenant", "space-in-tenant",
         "63-hex", "65-hex", "raw-key", "long-tenant", "one-key-two-tenants"],
)  # fmt: skip
def test_malformed_api_key_setting_is_misconfiguration(http_env: HttpEnv, monkeypatch, tmp_path, entry) -> None:
    configure(monkeypatch, tmp_path, {"PUSHFN_API_KEYS": entry(hash_api_key(API_KEY))})
    data = problem(send("fc3-bytes", push_body(), bearer()), 500)
    assert data["type"].endswith("misconfigured") and API_KEY not in json.dumps(data)
    assert http_env.pushes() == []


@pytest.mark.parametrize("key", ["", "k", "x" * 23, "é" * 11 + "x"])  # 0, 1, 23, 23 bytes
def test_hash_api_key_refuses_keys_under_24_bytes(key: str) -> None:
    with pytest.raises(ValueError, match="24 bytes"):
        hash_api_key(key)


@pytest.mark.parametrize("key", ["x" * 24, "é" * 12, API_KEY])
def test_hash_api_key_accepts_24_bytes_and_more(key: str) -> None:
    assert len(hash_api_key(key)) == 64


def test_settings_built_in_code_refuse_weak_keys_too() -> None:
    with pytest.raises(ConfigurationError):
        HttpSettings(webhook_secrets=(b"short",))
    with pytest.raises(ConfigurationError):
        HttpSettings(api_keys={"ABC": "tenant"})
    assert HttpSettings(webhook_secrets=(b"k" * MIN_SECRET_BYTES,)).webhook_secrets


def test_a_weak_secret_never_verifies_even_if_handed_over_directly() -> None:
    body = b"{}"
    now = int(time.time())
    request = HttpRequest(
        "POST",
        "/push",
        headers=Headers(
            [
                ("webhook-id", "m1"),
                ("webhook-timestamp", str(now)),
                ("webhook-signature", sign_webhook(b"", "m1", now, body)),
            ]
        ),
        body=body,
    )
    with pytest.raises(HttpProblem) as exc:
        verify_webhook(request, (b"",), now, 300)
    assert exc.value.status == 401


@pytest.mark.parametrize("presented", ["short", "x" * 23, "k\ud800" * 20])
def test_short_or_non_text_bearer_keys_are_401_not_500(http_env: HttpEnv, presented: str) -> None:
    app = create_app(HttpSettings.from_env())
    headers = Headers([("Authorization", f"Bearer {presented}"), ("Content-Type", "application/json")])
    response = app(HttpRequest("POST", "/push", headers=headers, body=encode(push_body())))
    assert response.status == 401, response.body


@pytest.mark.parametrize(
    "url", ["nope://x", "sqlite://host/x.db", "dynamodb://", "tablestore://only-instance", "no-scheme"]
)
def test_bad_idempotency_store_url_is_misconfigured_not_internal_error(
    http_env: HttpEnv, monkeypatch, tmp_path, caplog, url: str
) -> None:
    configure(monkeypatch, tmp_path, {"PUSHFN_IDEMPOTENCY_URL": url})
    set_runtime(Runtime(client=http_env.client))  # the store is built lazily, at the first push
    caplog.set_level(logging.INFO, logger="pushfn.http")
    for n in range(3):
        data = problem(send("apigw-v2", push_body(Title=f"t{n}"), bearer()), 500)
        assert data["type"].endswith("misconfigured"), data
    assert http_env.pushes() == []
    assert len([r for r in caplog.records if "misconfigured:" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    "env",
    [{}, {"PUSH_APP_KEY": "23267207"}, {"ALIBABA_CLOUD_ACCESS_KEY_ID": "id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"}],
    ids=["nothing", "no-credentials", "no-app-key"],
)
def test_missing_push_settings_are_misconfigured(http_env: HttpEnv, monkeypatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_runtime()  # the runtime now builds its client from this environment, at the first push
    for body in (push_body(), {"tasks": [push_body()]}):
        data = problem(send("fc3-bytes", body, bearer(), "/push" if "Target" in body else "/mass-push"), 500)
        assert data["type"].endswith("misconfigured"), data
    assert http_env.pushes() == []


# --- 4. a path parameter is exactly one identifier ---------------------------------------------------


def _tags_of(http_env: HttpEnv, device: str) -> list[str]:
    answer = send("fc3-bytes", b"", bearer(), path=f"/devices/{device}/tags", method="GET")
    assert answer.status == 200, answer.body
    return answer.json()["tags"]


def test_comma_in_a_device_path_parameter_does_not_tag_two_devices(http_env: HttpEnv) -> None:
    """The issue's input: ``POST /devices/<id1>%2C<id2>/tags``."""
    data = problem(send("fc3-bytes", {"tags": ["vip"]}, bearer(), path=f"/devices/{DEVICE}%2C{OTHER_DEVICE}/tags"), 400)
    assert rules(data) == {("deviceId", "single_value")}
    assert _tags_of(http_env, DEVICE) == [] and _tags_of(http_env, OTHER_DEVICE) == []


@pytest.mark.parametrize(
    "raw, rule",
    [
        (f"{DEVICE}%2c{OTHER_DEVICE}", "single_value"),
        (f"{DEVICE},{OTHER_DEVICE}", "single_value"),
        (f"{DEVICE}%2C", "single_value"),
        (DEVICE[:31], "device_id"),
        (DEVICE + "0", "device_id"),
        (DEVICE[:31] + "%00", "device_id"),
        (DEVICE[:30] + "%20x", "device_id"),
        ("é" * 32, "device_id"),
        ("%C3%A9" * 32, "device_id"),
        (DEVICE[:31] + "%FF", "encoding"),
        ("%2e%2e", "device_id"),
    ],
)
@pytest.mark.parametrize(
    "method, suffix, body",
    [("POST", "tags", {"tags": ["vip"]}), ("POST", "tags/unbind", {"tags": ["vip"]}), ("GET", "tags", None),
     ("POST", "aliases", {"aliases": ["alice"]}), ("POST", "aliases/unbind", {"all": True}), ("GET", "aliases", None)],
)  # fmt: skip
def test_every_device_route_takes_exactly_one_device_id(
    http_env: HttpEnv, raw: str, rule: str, method: str, suffix: str, body: Any
) -> None:
    data = problem(
        send("apigw-v2", body if body is not None else b"", bearer(), f"/devices/{raw}/{suffix}", method), 400
    )
    assert rules(data) == {("deviceId", rule)}, data
    assert _tags_of(http_env, DEVICE) == []


@pytest.mark.parametrize(
    "raw, rule",
    [
        ("vip%2Cbeta", "single_value"),
        ("vip,beta", "single_value"),
        ("a%00b", "control_character"),
        ("a%0Ab", "control_character"),
        ("a%7Fb", "control_character"),
        ("a%C2%85b", "control_character"),  # U+0085, a C1 control
        ("x" * 129, "max_length"),
        ("%FFx", "encoding"),
        ("%20", "required"),  # blank: names no tag
        ("%20%20%09", "required"),  # blank before anything else
    ],
)
def test_tag_path_parameter_is_exactly_one_tag(http_env: HttpEnv, raw: str, rule: str) -> None:
    http_env.emulator.register_device(DEVICE, tags=["vip", "beta"])
    data = problem(send("fc3-dict", b"", bearer(), f"/tags/{raw}", "DELETE"), 400)
    assert rules(data) == {("tagName", rule)}, data
    assert sorted(_tags_of(http_env, DEVICE)) == ["beta", "vip"]


@pytest.mark.parametrize("raw", ["x" * 128, "标" * 128, "a%2Fb", "beta%20testers"])
def test_valid_tag_path_parameters_still_work(http_env: HttpEnv, raw: str) -> None:
    assert send("fc3-dict", b"", bearer(), f"/tags/{raw}", "DELETE").status == 200


@pytest.mark.parametrize(
    "path, body, field",
    [
        (f"/devices/{DEVICE}/tags", {"tags": ["a\u0000b"]}, "tags.1"),
        (f"/devices/{DEVICE}/tags", {"tags": ["a\u009fb"]}, "tags.1"),
        (f"/devices/{DEVICE}/aliases", {"aliases": ["é" * 65]}, "aliases.1"),  # 130 bytes
        (f"/devices/{DEVICE}/aliases", {"aliases": ["tab\there"]}, "aliases.1"),
        (f"/devices/{DEVICE}/aliases", {"aliases": [" "]}, "aliases.1"),  # blank: names nothing
        (f"/devices/{DEVICE}/tags", {"tags": ["\u3000"]}, "tags.1"),
    ],
)
def test_names_in_bodies_follow_the_same_rules(http_env: HttpEnv, path: str, body: Any, field: str) -> None:
    data = problem(send("fc3-bytes", body, bearer(), path), 400)
    assert field in {e["field"] for e in data["errors"]}, data


@pytest.mark.parametrize("value", ["yes", "true", 1, "1", "on", 0, None, [True], {}], ids=short_id)
def test_unbind_all_takes_only_the_json_boolean(http_env: HttpEnv, value: Any) -> None:
    """Issue 13 item 9's kind on the device routes: ``"all": "yes"`` or ``1`` unbound every alias of the
    device (pydantic's lax bool); only JSON ``true`` (or ``false``) is a boolean."""
    aliases = f"/devices/{DEVICE}/aliases"
    assert send("apigw-v2", {"aliases": ["kept"]}, bearer(), aliases).status == 200
    data = problem(send("apigw-v2", {"all": value}, bearer(), aliases + "/unbind"), 400)
    assert ("all", "bool_type") in rules(data), data
    assert send("apigw-v2", None, bearer(), aliases, "GET").json()["aliases"] == ["kept"]  # nothing unbound
    assert send("apigw-v2", {"all": True}, bearer(), aliases + "/unbind").status == 200
    assert send("apigw-v2", None, bearer(), aliases, "GET").json()["aliases"] == []


# --- 8. a malformed event or an absurd request is a 400, never a 500 ---------------------------------


def _nested_tag_expression(depth: int) -> str:
    expression = '{"tag": "vip"}'
    for _ in range(depth):
        expression = '{"and": [' + expression + ', {"tag": "beta"}]}'
    return expression


@pytest.mark.parametrize("depth", [1000, 200, 33, 5000])
def test_deeply_nested_tag_expression_is_400(http_env: HttpEnv, depth: int) -> None:
    body = push_body(Target="TAG", TargetValue=_nested_tag_expression(depth))
    for platform in ("fc3-bytes", "apigw-v1", "fc2"):
        problem(send(platform, body, bearer()), 400)
    assert http_env.pushes() == []


def test_deeply_nested_tag_expression_names_target_value(http_env: HttpEnv) -> None:
    data = problem(send("fc3-bytes", push_body(Target="TAG", TargetValue=_nested_tag_expression(1000)), bearer()), 400)
    assert "TargetValue" in {e["field"] for e in data["errors"]}, data


@pytest.mark.parametrize(
    "overrides",
    [
        {"PushTime": "9999-12-31T23:59:58Z"},
        {"PushTime": "9999-12-31T23:59:59Z"},
        {"push_time": "9999-12-31T23:59:58+14:00"},
        {"ExpireTime": "9999-12-31T23:59:58Z"},
        {"PushTime": "0001-01-01T00:00:00Z"},
        {"PushTime": "+999999999w"},
    ],
)
def test_absurd_dates_are_400_on_push(http_env: HttpEnv, overrides: dict[str, Any]) -> None:
    problem(send("apigw-v2", push_body(**overrides), bearer()), 400)
    mass = {"tasks": [push_body(**overrides)]}
    problem(send("apigw-v2", mass, bearer(), "/mass-push"), 400)
    assert http_env.pushes() == []


def test_push_time_in_year_9999_names_the_field(http_env: HttpEnv) -> None:
    data = problem(send("apigw-v2", push_body(PushTime="9999-12-31T23:59:58Z"), bearer()), 400)
    assert "PushTime" in {e["field"] for e in data["errors"]}


def _dict_event(platform: str) -> dict[str, Any]:
    builders = {
        "fc3-dict": lambda: fc3_event("POST", "/push", encode(push_body()), bearer(), as_bytes=False),
        "apigw-v1": lambda: apigw_v1_event("POST", "/push", encode(push_body()), bearer()),
        "apigw-v2": lambda: apigw_v2_event("POST", "/push", encode(push_body()), bearer()),
        "function-url": lambda: function_url_event("POST", "/push", encode(push_body()), bearer()),
    }
    return builders[platform]()


DICT_PLATFORMS = ("fc3-dict", "apigw-v1", "apigw-v2", "function-url")


def _malformed(answer: Any, field: str | None = None, rule: str | None = None) -> dict[str, Any]:
    data = problem(answer, 400)
    assert data["type"].endswith("malformed-event"), data
    if field is not None:
        assert data["errors"][0]["field"] == field, data
    if rule is not None:
        assert data["errors"][0]["rule"] == rule, data
    return data


@pytest.mark.parametrize("platform", DICT_PLATFORMS)
@pytest.mark.parametrize("body", ["***", "not base64!", "e30", "\u00e9t\u00e9"])
def test_base64_flag_with_a_body_that_is_not_base64_is_400(http_env: HttpEnv, caplog, platform: str, body: str) -> None:
    caplog.set_level(logging.INFO)
    event = _dict_event(platform)
    event.update(body=body, isBase64Encoded=True)
    _malformed(call_handler(event), "body", "base64")
    assert any("malformed platform event" in r.getMessage() for r in caplog.records)
    assert http_env.pushes() == []


@pytest.mark.parametrize("platform", DICT_PLATFORMS)
@pytest.mark.parametrize("value", [1, "true", [], {}])
def test_base64_flag_of_the_wrong_type_is_400(http_env: HttpEnv, platform: str, value: Any) -> None:
    event = _dict_event(platform)
    event["isBase64Encoded"] = value
    _malformed(call_handler(event), "isBase64Encoded", "type")


@pytest.mark.parametrize("platform", DICT_PLATFORMS)
def test_lone_surrogates_anywhere_in_the_event_are_400(http_env: HttpEnv, platform: str) -> None:
    path_key = "path" if platform == "apigw-v1" else "rawPath"
    header_key = "multiValueHeaders" if platform == "apigw-v1" else "headers"
    mutations = [
        lambda e: e.update(body='{"Title": "\ud800"}', isBase64Encoded=False),
        lambda e: e.update({path_key: "/push\udc00"}),
        lambda e: e[header_key].update(
            {"Authorization": [f"Bearer {API_KEY}\ud800"] if header_key == "multiValueHeaders" else "Bearer \ud800"}
        ),
        lambda e: e[header_key].update({"x-\udfff": ["v"] if header_key == "multiValueHeaders" else "v"}),
    ]
    for mutate in mutations:
        event = _dict_event(platform)
        mutate(event)
        _malformed(call_handler(event), rule="text")
    assert http_env.pushes() == []


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(
    "raw, field",
    [(b'{"Title": "\\ud800"}', "Title"), (b'{"Body": "x\\udfffy"}', "Body"),
     (b'{"ext": {"k\\ud83d": 1}}', "ext.k\\ud83d")],
)  # fmt: skip
def test_lone_surrogate_escapes_in_the_body_name_the_field(
    http_env: HttpEnv, platform: str, raw: bytes, field: str
) -> None:
    data = problem(send(platform, raw, bearer()), 400)
    assert rules(data) == {(field, "text")}, data


@pytest.mark.parametrize("platform", DICT_PLATFORMS)
@pytest.mark.parametrize("value", [["a", "b"], "content-type: application/json", 42, True])
def test_headers_of_the_wrong_json_type_are_400(http_env: HttpEnv, platform: str, value: Any) -> None:
    event = _dict_event(platform)
    event.pop("multiValueHeaders", None)
    event["headers"] = value
    _malformed(call_handler(event), "headers", "type")


@pytest.mark.parametrize("platform", DICT_PLATFORMS)
@pytest.mark.parametrize("value", [["a"], {"nested": "x"}, 7, False])
def test_header_values_of_the_wrong_json_type_are_400(http_env: HttpEnv, platform: str, value: Any) -> None:
    event = _dict_event(platform)
    if platform == "apigw-v1":  # multi-value headers: each value is a list of strings
        event["multiValueHeaders"]["x-extra"] = [value]
        field = "multiValueHeaders.x-extra.0"
    else:
        event["headers"]["x-extra"] = value
        field = "headers.x-extra"
    _malformed(call_handler(event), field, "type")


@pytest.mark.parametrize(
    "platform, key, value",
    [("fc3-dict", "queryParameters", ["a=b"]), ("fc3-dict", "queryParameters", "a=b"),
     ("fc3-dict", "queryParameters", {"a": {"b": 1}}), ("fc3-dict", "queryParameters", {"a": ["b"]}),
     ("apigw-v1", "multiValueQueryStringParameters", "a=b"),
     ("apigw-v1", "multiValueQueryStringParameters", {"a": "b"}),
     ("apigw-v1", "multiValueHeaders", {"a": "b"}), ("apigw-v2", "queryStringParameters", [1]),
     ("apigw-v2", "rawQueryString", ["a=b"]), ("function-url", "rawQueryString", 3),
     ("apigw-v2", "cookies", "a=1"), ("function-url", "cookies", [1]), ("apigw-v1", "requestContext", "x"),
     ("apigw-v1", "httpMethod", ["POST"]), ("apigw-v2", "body", 5.5)],
)  # fmt: skip
def test_other_event_fields_of_the_wrong_json_type_are_400(
    http_env: HttpEnv, platform: str, key: str, value: Any
) -> None:
    event = _dict_event(platform)
    event[key] = value
    if key == "queryStringParameters":
        event.pop("rawQueryString", None)  # read only when rawQueryString is absent
    if key == "body":
        event["isBase64Encoded"] = True  # a number is no base64 text
    _malformed(call_handler(event))
    assert http_env.pushes() == []


@pytest.mark.parametrize("platform", DICT_PLATFORMS)
@pytest.mark.parametrize("value", [5, ["/push"], {"p": "/push"}, True, 1.5])
def test_path_that_is_not_a_string_is_400(http_env: HttpEnv, platform: str, value: Any) -> None:
    event = _dict_event(platform)
    key = "path" if platform == "apigw-v1" else "rawPath"
    event[key] = value
    _malformed(call_handler(event), key, "type")


@pytest.mark.parametrize(
    "raw, rule",
    [
        (b'{"version": "v1", "body": "\xff"}', "encoding"),
        (b"\xff\xfe{}", "encoding"),
        (b"\xed\xa0\x80", "encoding"),  # CESU-8 surrogate
        (b"not json", "json"),
        (b"", "json"),
        (b"[]", "type"),
        (b'"a string"', "type"),
        (b"[" * 100 + b"]" * 100, "depth"),
        (b'{"version": "v1", "body": "\\ud800", "rawPath": "/push"}', "text"),
        (b'{"version": "v1", "version": "v1"}', "duplicate_key"),
        (b'{"version": NaN}', "json"),
        (b'{"n": 1' + b"0" * 5000 + b"}", "number"),
    ],
)
def test_event_bytes_that_are_not_a_usable_json_object_are_400(
    http_env: HttpEnv, caplog, raw: bytes, rule: str
) -> None:
    caplog.set_level(logging.INFO)
    _malformed(call_handler(raw), rule=rule)
    _malformed(call_handler(raw.decode("utf-8", "surrogateescape").encode("utf-8", "surrogatepass")), rule=None)
    assert any("malformed platform event" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("event", [{"foo": "bar"}, {"version": "2.0"}, {"requestContext": {"http": "x"}}, 42, None])
def test_events_of_no_http_shape_are_400(http_env: HttpEnv, event: Any) -> None:
    _malformed(call_handler(event))


@pytest.mark.parametrize(
    ("event", "words"),
    [(object(), "object is not a JSON type"), ({1, 2}, "set is not a JSON type"), (42, "not a number")],
    ids=["object", "set", "number"],
)
def test_an_event_of_no_json_type_is_named_for_what_it_is(http_env: HttpEnv, event: Any, words: str) -> None:
    data = _malformed(call_handler(event))
    assert words in data["detail"], data


def test_a_tuple_of_cookies_is_an_array_like_any_other(http_env: HttpEnv) -> None:
    """A harness handing over a tuple: check_json_value calls it an array, so the field reader does too."""
    event = apigw_v2_event("POST", "/push", encode(push_body()), bearer(), cookies=["a=1"])
    event["cookies"] = ("a=1", "b=2")
    assert parse_event(event).headers["cookie"] == "a=1; b=2"


def test_parse_event_raises_malformed_event_with_field_and_rule() -> None:
    event = fc3_event("POST", "/push", b"x", as_bytes=False)
    event["queryParameters"] = ["x"]
    with pytest.raises(MalformedEventError) as exc:
        parse_event(event)
    assert (exc.value.field, exc.value.rule) == ("queryParameters", "type")


def test_a_malformed_v1_event_is_answered_in_the_v1_shape(http_env: HttpEnv) -> None:
    event = _dict_event("apigw-v1")
    event["headers"] = event["multiValueHeaders"] = "x"
    raw = handler(event, None)
    assert raw["statusCode"] == 400 and raw["multiValueHeaders"]["Content-Type"] == ["application/problem+json"]


# --- 11. a named HTTP API stage ------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "prod", "v1-beta", "Stage_2"])
def test_named_stage_is_stripped_for_http_api(http_env: HttpEnv, stage: str) -> None:
    """The issue's input: ``rawPath: "/dev/health"`` with ``requestContext.stage: "dev"``."""
    event = apigw_v2_event("GET", "/health", stage=stage)
    assert event["rawPath"] == f"/{stage}/health"
    assert call_handler(event).status == 200
    event = apigw_v2_event("POST", "/push", push_body(), bearer(), stage=stage)
    assert call_handler(event).status == 202
    assert call_handler(apigw_v2_event("GET", f"/devices/{DEVICE}/tags", None, bearer(), stage=stage)).status == 200


def test_stage_is_only_stripped_as_a_whole_leading_segment(http_env: HttpEnv) -> None:
    event = apigw_v2_event("GET", "/health", stage="$default")
    event["rawPath"] = "/dev/health"  # $default: the first segment is part of the route
    assert call_handler(event).status == 404
    event = apigw_v2_event("GET", "/health")
    event["rawPath"], event["requestContext"]["stage"] = "/development/health", "dev"
    assert call_handler(event).status == 404
    event["rawPath"] = "/dev"
    assert call_handler(event).status == 404  # "/" after the stage: no such route, and no crash


def test_named_stage_with_base_path(http_env: HttpEnv, monkeypatch, tmp_path) -> None:
    configure(monkeypatch, tmp_path, {"PUSHFN_HTTP_BASE_PATH": "/api"})
    assert call_handler(apigw_v2_event("GET", "/api/health", stage="dev")).status == 200


def test_function_url_paths_are_never_stage_stripped(http_env: HttpEnv) -> None:
    event = function_url_event("GET", "/dev/health")
    event["requestContext"]["stage"] = "dev"
    assert call_handler(event).status == 404


def test_rest_v1_path_already_excludes_the_stage(sample_json) -> None:
    event = sample_json("aws_apigw_rest_v1_samcli.json")
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["path"] == "/prod/jobs/submit"
    assert parse_event(event).path == "/jobs/submit"


# --- 12. the body goes through pushfn.json_input ------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_body_with_a_bom_is_accepted_everywhere(http_env: HttpEnv, platform: str) -> None:
    body = b"\xef\xbb\xbf" + encode(push_body(Title=f"bom {platform}"))
    assert send(platform, body, bearer()).status == 202


@pytest.mark.parametrize(
    "raw, field, rule",
    [
        (b"[" * 40 + b"]" * 40, "1." * 31 + "1", "depth"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "a." * 31 + "a", "depth"),
        # Refused where they sit: the error names the field, not the whole body.
        (b'{"iOSBadge": 1' + b"0" * 5000 + b"}", "iOSBadge", "number"),
        (b'{"iOSBadge": 1e999}', "iOSBadge", "number"),
        (b'{"Title": Infinity}', "Title", "json"),
        (b'{"PushTask": [{}, {"iOSBadge": ' + b"9" * 30 + b"}]}", "PushTask.2.iOSBadge", "number"),
        (b'{"Title": "a", "AndroidExtParameters": {"k": 1, "k": 2}}', "AndroidExtParameters.k", "duplicate_key"),
        (b'{"Title": "a", "Title": "b"}', "Title", "duplicate_key"),
        (b"1e999", "body", "number"),
        (b'{"Title": "' + b"x" * 70000 + b'"}', "Title", "max_length"),
    ],
)
def test_body_bounds_are_json_input_rules(http_env: HttpEnv, raw: bytes, field: str, rule: str) -> None:
    data = problem(send("fc3-bytes", raw, bearer()), 400)
    assert data["type"].endswith("malformed-json")
    assert rules(data) == {(field, rule)}, data


# --- 9 and 10. every value of its own kind, every refusal naming its field ------------------------

ISSUE_9_10_BODIES = [
    # (the request, the field and rule the 400 names) — the issue's inputs first
    (encode(push_body(TargetValue={})), "TargetValue", "type"),
    (
        b'{"Target": "DEVICE", "TargetValue": "' + DEVICE.encode() + b'", "DeviceType": "iOS", "PushType": "NOTICE",'
        b' "Title": "t", "Body": "b", "iOSBadge": 1' + b"0" * 30 + b"}",
        "iOSBadge",
        "number",
    ),
    (encode(push_body(Title="a\x00b")), "Title", "control_character"),
    (encode(push_body(Body="\ud800")), "Body", "text"),
    (encode(push_body(AndroidOpenType="URL", AndroidOpenUrl="https://x/\udfff")), "AndroidOpenUrl", "text"),
    (encode(push_body(AndroidExtParameters={"k": "\ud83d"})), "AndroidExtParameters.k", "text"),
    # same kinds, other fields
    (encode(push_body(AndroidRenderStyle=3, AndroidInboxBody=[{}])), "AndroidInboxBody.1", "type"),
    (encode(push_body(StoreOffline="yes")), "StoreOffline", "type"),
    (encode(push_body(Title="a\x1bb")), "Title", "control_character"),
    (encode({"PushTask": [push_body(), push_body(Body="\udc00")]}), "PushTask.2.Body", "text"),
]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(("raw", "field", "rule"), ISSUE_9_10_BODIES, ids=[f"{f}-{r}" for _, f, r in ISSUE_9_10_BODIES])
def test_issue_items_9_and_10_inputs_are_refused_naming_the_field_on_every_platform(
    http_env: HttpEnv, platform: str, raw: bytes, field: str, rule: str
) -> None:
    path = "/mass-push" if raw.startswith(b'{"PushTask"') else "/push"
    data = problem(send(platform, raw, bearer(), path), 400)
    assert (field, rule) in rules(data), data
    assert all(e["field"] not in ("(request)", "body") for e in data["errors"]), data
    assert http_env.pushes() == []


# --- 15. cookies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [apigw_v2_event, function_url_event])
def test_cookies_become_one_header_joined_with_semicolons(factory: Any) -> None:
    request = parse_event(factory("GET", "/health", cookies=["a=1", "b=2"]))
    assert request.headers["cookie"] == "a=1; b=2"
    event = factory("GET", "/health", headers={"cookie": "z=0"}, cookies=["a=1", "b=2"])
    assert parse_event(event).headers["cookie"] == "z=0; a=1; b=2"
    event = factory("GET", "/health", headers={"Cookie": "a=1; b=2"}, cookies=["a=1", "b=2"])
    request = parse_event(event)
    assert request.headers["cookie"] == "a=1; b=2" and request.headers.get_all("cookie") == ["a=1; b=2"]


@pytest.mark.parametrize("factory", [apigw_v2_event, function_url_event])
@pytest.mark.parametrize(
    ("header", "cookies", "joined"),
    [
        ("a=1; b=2", ["a=1; b=2"], "a=1; b=2"),  # an element holding the whole header: not doubled
        (None, ["a=1;b=2", "a=1"], "a=1; b=2"),  # crumbs inside an element, one repeated
        ("a=1;b=2", ["b=2", "c=3"], "a=1; b=2; c=3"),
        (None, ["", " ", "a=1"], "a=1"),  # empty elements dropped
    ],
)
def test_cookie_crumbs_are_joined_once_whatever_their_grouping(
    factory: Any, header: str | None, cookies: list[str], joined: str
) -> None:
    """More of item 15's kind: a ``cookies`` element carrying several crumbs doubled them against the
    ``cookie`` header (``a=1; b=2; a=1; b=2``)."""
    event = factory("GET", "/health", headers={"cookie": header} if header else None, cookies=cookies)
    request = parse_event(event)
    assert request.headers["cookie"] == joined and request.headers.get_all("cookie") == [joined]


def test_repeated_cookie_headers_join_with_semicolons() -> None:
    event = apigw_v1_event("GET", "/health")
    event["multiValueHeaders"] = {"Cookie": ["a=1", "b=2"], "X-A": ["1", "2"]}
    request = parse_event(event)
    assert request.headers["cookie"] == "a=1; b=2" and request.headers["x-a"] == "1, 2"


# --- 16. FC 2.0 chunked bodies --------------------------------------------------------------------------


class _Dechunked(io.RawIOBase):
    """A de-chunking ``wsgi.input``: short reads, ends where the body ends, counts what was read."""

    def __init__(self, data: bytes, piece: int = 7) -> None:
        self._data, self._piece, self.consumed = data, piece, 0

    def read(self, size: int = -1) -> bytes:
        size = self._piece if size is None or size < 0 else min(size, self._piece)
        chunk = self._data[self.consumed : self.consumed + size]
        self.consumed += len(chunk)
        return chunk


def test_chunked_wsgi_body_is_read(http_env: HttpEnv) -> None:
    body = encode(push_body(Title="sent chunked"))
    environ = fc2_environ("POST", "/push", body, bearer(), chunked=True)
    assert "CONTENT_LENGTH" not in environ
    answer = call_wsgi(handler, environ)
    assert answer.status == 202, answer.body
    assert http_env.pushes()[-1]["params"]["Title"] == "sent chunked"


def test_chunked_wsgi_body_with_short_reads_and_a_signature(http_env: HttpEnv) -> None:
    body = encode(push_body(Title="short reads"))
    environ = fc2_environ("POST", "/push", body, webhook_headers(body, msg_id="msg_chunked"), chunked=True)
    environ["wsgi.input"] = _Dechunked(body)
    assert call_handler(environ).status == 202


def test_chunked_wsgi_body_over_the_limit_is_413_without_reading_it_all(
    http_env: HttpEnv, monkeypatch, tmp_path
) -> None:
    configure(monkeypatch, tmp_path, {"PUSHFN_HTTP_MAX_BODY_BYTES": "1000"})
    body = encode(push_body(Body="x" * 50_000))
    environ = fc2_environ("POST", "/push", body, bearer(), chunked=True)
    environ["wsgi.input"] = stream = _Dechunked(body, piece=300)
    problem(call_handler(environ), 413)
    assert stream.consumed == 1001


def test_wsgi_input_terminated_without_length_is_read(http_env: HttpEnv) -> None:
    body = encode(push_body(Title="terminated"))
    environ = fc2_environ("POST", "/push", body, bearer())
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    assert call_handler(environ).status == 202


def test_wsgi_body_that_cannot_be_read_is_400(http_env: HttpEnv) -> None:
    class Broken(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise OSError("connection reset")

    environ = fc2_environ("POST", "/push", b"{}", bearer(), chunked=True)
    environ["wsgi.input"] = Broken()
    _malformed(call_handler(environ), "body", "read")
