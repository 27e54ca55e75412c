"""Authentication: Standard Webhooks signatures, bearer API keys, and anonymous access only on request."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from http_support import (
    API_KEY,
    API_KEY_B,
    OLD_SECRET,
    HttpEnv,
    bearer,
    configure,
    encode,
    push_body,
    webhook_headers,
)

from pushfn.http import HttpSettings, create_app, handler, hash_api_key
from pushfn.http.auth import sign_webhook
from pushfn.http.settings import parse_api_keys, webhook_secret_bytes
from pushfn.push.errors import ConfigurationError
from pushfn.triggers.events.http import fc3_event


def post(body: bytes, headers: dict[str, str], path: str = "/push") -> tuple[int, dict[str, str], Any]:
    raw = handler(fc3_event("POST", path, body, headers), None)
    return raw["statusCode"], {k.lower(): v for k, v in raw["headers"].items()}, json.loads(raw["body"])


def assert_401(status: int, headers: dict[str, str], data: Any, rule: str) -> None:
    assert status == 401, data
    assert headers["content-type"] == "application/problem+json"
    assert headers["www-authenticate"].startswith("Bearer")
    assert data["errors"][0]["rule"] == rule, data


# --- webhooks ---------------------------------------------------------------------------------------


def test_valid_webhook_pushes(http_env: HttpEnv) -> None:
    body = encode(push_body())
    status, _, data = post(body, webhook_headers(body))
    assert status == 202, data
    assert len(http_env.pushes()) == 1


def test_bad_signature_is_401_and_nothing_is_sent(http_env: HttpEnv) -> None:
    body = encode(push_body())
    headers = webhook_headers(body)
    tampered = encode(push_body(Title="Something else"))
    assert_401(*post(tampered, headers), "signature_mismatch")
    headers["webhook-signature"] = "v1,AAAA"  # right shape, wrong value
    assert_401(*post(body, headers), "signature_mismatch")
    assert http_env.pushes() == []


def test_signature_from_an_unknown_secret_is_refused(http_env: HttpEnv) -> None:
    body = encode(push_body())
    assert_401(*post(body, webhook_headers(body, secret="whsec_" + "A" * 32)), "signature_mismatch")


def test_old_timestamp_is_refused_even_with_a_valid_signature(http_env: HttpEnv) -> None:
    body = encode(push_body())
    assert_401(*post(body, webhook_headers(body, at=time.time() - 301)), "timestamp_too_old")
    assert http_env.pushes() == []


def test_future_timestamp_is_refused(http_env: HttpEnv) -> None:
    body = encode(push_body())
    assert_401(*post(body, webhook_headers(body, at=time.time() + 301)), "timestamp_too_new")


def test_timestamp_inside_the_tolerance_is_accepted(http_env: HttpEnv) -> None:
    body = encode(push_body())
    assert post(body, webhook_headers(body, at=time.time() - 240))[0] == 202


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_missing_webhook_header_is_named(http_env: HttpEnv, missing: str) -> None:
    body = encode(push_body())
    headers = webhook_headers(body)
    del headers[missing]
    status, headers_out, data = post(body, headers)
    assert_401(status, headers_out, data, "missing_header")
    assert data["errors"][0]["field"] == missing


def test_non_numeric_timestamp_is_refused(http_env: HttpEnv) -> None:
    body = encode(push_body())
    headers = webhook_headers(body)
    headers["webhook-timestamp"] = "2024-01-01T00:00:00Z"
    assert_401(*post(body, headers), "format")


def test_rotated_secret_still_accepted(http_env: HttpEnv) -> None:
    """Signed with the older (plain, non-whsec) secret that is still configured beside the new one."""
    body = encode(push_body())
    assert post(body, webhook_headers(body, secret=OLD_SECRET, msg_id="msg_old_secret"))[0] == 202


def test_any_of_several_signatures_may_match(http_env: HttpEnv) -> None:
    body = encode(push_body())
    headers = webhook_headers(body)
    headers["webhook-signature"] = f"v1a,ZmFrZQ== v1,bm90LWl0 {headers['webhook-signature']}"
    assert post(body, headers)[0] == 202


def test_replayed_webhook_id_with_same_body_replays_the_answer(http_env: HttpEnv) -> None:
    body = encode(push_body())
    first = post(body, webhook_headers(body, msg_id="msg_replayed"))
    again = post(body, webhook_headers(body, msg_id="msg_replayed"))  # sender's retry: new timestamp
    assert first[0] == again[0] == 202
    assert again[2] == first[2]
    assert again[1]["idempotent-replayed"] == "true"
    assert len(http_env.pushes()) == 1


def test_replayed_webhook_id_with_a_different_body_is_422(http_env: HttpEnv) -> None:
    body = encode(push_body())
    assert post(body, webhook_headers(body, msg_id="msg_reused"))[0] == 202
    other = encode(push_body(Title="A different push"))
    status, headers, data = post(other, webhook_headers(other, msg_id="msg_reused"))
    assert status == 422, data
    assert headers["content-type"] == "application/problem+json"
    assert data["errors"][0]["rule"] == "payload_mismatch"
    assert len(http_env.pushes()) == 1


def test_captured_webhook_replayed_after_the_window_is_401(http_env: HttpEnv) -> None:
    body = encode(push_body())
    captured = webhook_headers(body, msg_id="msg_captured", at=time.time() - 3600)
    assert_401(*post(body, captured), "timestamp_too_old")
    assert http_env.pushes() == []


def test_webhook_signature_covers_the_base64_decoded_body(http_env: HttpEnv) -> None:
    body = encode(push_body())
    event = fc3_event("POST", "/push", body, webhook_headers(body, msg_id="msg_b64"), base64_body=True)
    raw = handler(event, None)
    assert raw["statusCode"] == 202, json.loads(raw["body"])


# --- API keys ---------------------------------------------------------------------------------------


def test_api_keys_name_their_tenant_and_scope_idempotency(http_env: HttpEnv) -> None:
    body = encode(push_body())
    key = {"Idempotency-Key": '"same-key"'}
    a = post(body, {**bearer(API_KEY), **key})
    b = post(body, {**bearer(API_KEY_B), **key})
    assert a[0] == b[0] == 202
    assert "idempotent-replayed" not in b[1]  # tenant B never sees tenant A's answer
    assert a[2]["messageId"] != b[2]["messageId"]
    assert len(http_env.pushes()) == 2


@pytest.mark.parametrize(
    "authorization, rule",
    [
        ("Bearer not-a-known-key", "invalid_api_key"),
        ("Basic dXNlcjpwYXNz", "scheme"),
        ("Bearer", "scheme"),
        (f"Bearer {hash_api_key(API_KEY)}", "invalid_api_key"),  # the stored hash is not a key
    ],
)
def test_bad_api_keys_are_401(http_env: HttpEnv, authorization: str, rule: str) -> None:
    body = encode(push_body())
    assert_401(*post(body, {"Authorization": authorization, "Content-Type": "application/json"}), rule)
    assert http_env.pushes() == []


def test_no_credentials_at_all_is_401(http_env: HttpEnv) -> None:
    body = encode(push_body())
    assert_401(*post(body, {"Content-Type": "application/json"}), "missing_credentials")


def test_reads_need_auth_too_but_health_and_openapi_do_not(http_env: HttpEnv) -> None:
    raw = handler(fc3_event("GET", "/tags"), None)
    assert raw["statusCode"] == 401
    assert handler(fc3_event("GET", "/health"), None)["statusCode"] == 200
    raw = handler(fc3_event("GET", "/openapi.json"), None)
    assert raw["statusCode"] == 200 and json.loads(raw["body"])["openapi"] == "3.1.0"


def test_anonymous_only_when_explicitly_configured(http_env: HttpEnv, monkeypatch, tmp_path) -> None:
    body = encode(push_body())
    assert post(body, {"Content-Type": "application/json"})[0] == 401
    configure(monkeypatch, tmp_path, {"PUSHFN_HTTP_AUTH": "none"})
    assert post(body, {"Content-Type": "application/json"})[0] == 202


# --- settings -------------------------------------------------------------------------------------


def test_api_key_setting_format() -> None:
    digest = hash_api_key(API_KEY)
    other = hash_api_key(API_KEY_B)
    assert parse_api_keys(f" team-a:{other} , ops@x:{digest}") == {other: "team-a", digest: "ops@x"}
    assert parse_api_keys("") == parse_api_keys("  ") == {}
    for bad in ("just-a-raw-key", f"bad tenant:{digest}", "t:abc", f":{digest}"):
        with pytest.raises(ConfigurationError) as exc:
            parse_api_keys(bad)
        assert bad not in str(exc.value)  # a pasted raw key never reaches a log line


def test_webhook_secret_forms() -> None:
    key = b"twenty-four-bytes-secret"
    assert webhook_secret_bytes("whsec_" + base64.b64encode(key).decode()) == key
    assert webhook_secret_bytes(key.decode()) == key
    with pytest.raises(ConfigurationError):
        webhook_secret_bytes("whsec_not*base64")


def test_standard_webhooks_reference_signature() -> None:
    """The example of the Standard Webhooks reference libraries (secret, id, timestamp, payload)."""
    secret = webhook_secret_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert (
        sign_webhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


@pytest.mark.parametrize(
    "env",
    [{"PUSHFN_HTTP_AUTH": "maybe"}, {"PUSHFN_HTTP_MAX_BODY_BYTES": "big"}, {"PUSHFN_HTTP_DEDUPE_SECONDS": "-1"}],
)
def test_bad_settings_answer_500_without_details(http_env: HttpEnv, monkeypatch, tmp_path, env) -> None:
    configure(monkeypatch, tmp_path, env)
    status, _, data = post(encode(push_body()), bearer())
    assert status == 500 and data["type"].endswith("misconfigured")
    assert "PUSHFN" not in data["detail"]
    with pytest.raises(ConfigurationError):
        create_app(HttpSettings.from_env())
