"""Every bad input answers with problem details naming the field and rule — never a 500, never a trace."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from http_support import DEVICE, HttpEnv, bearer, configure, encode, make_client, push_body

from pushfn.http import handler
from pushfn.push import StaticCredentials
from pushfn.runtime import Runtime, set_runtime
from pushfn.triggers.events.http import call_wsgi, fc2_environ, fc3_event


def post(body: Any, headers: dict[str, str] | None = None, path: str = "/push") -> tuple[int, dict[str, str], Any]:
    raw_body = encode(body)
    binary = not _is_utf8(raw_body)  # FC base64-encodes a body that is not text
    event = fc3_event("POST", path, raw_body, bearer() if headers is None else headers, base64_body=binary)
    raw = handler(event, None)
    assert "Traceback" not in raw["body"]
    return raw["statusCode"], {k.lower(): v for k, v in raw["headers"].items()}, json.loads(raw["body"])


def problem(result: tuple[int, dict[str, str], Any], status: int) -> dict[str, Any]:
    got, headers, data = result
    assert got == status, data
    assert headers["content-type"] == "application/problem+json"
    assert data["status"] == status and data["type"].startswith("urn:pushfn:problem:") and data["title"]
    return data


def rules(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["rule"]) for e in data.get("errors", [])}


# --- the body itself ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, field, rule",
    [
        (b'{"Target": "DEVICE",', "body", "json"),
        (b"", "body", "required"),
        (b"[1, 2]", "body", "type"),
        (b'"just a string"', "body", "type"),
        (b'{"Title": "a", "Title": "b"}', "Title", "duplicate_key"),
        (b'{"iOSBadge": NaN}', "iOSBadge", "json"),
        (b'{"Title": "\xff\xfe"}', "body", "encoding"),
    ],
)
def test_malformed_json_is_400(http_env: HttpEnv, raw: bytes, field: str, rule: str) -> None:
    data = problem(post(raw), 400)
    assert rules(data) == {(field, rule)}
    assert http_env.pushes() == []


def test_malformed_json_says_where(http_env: HttpEnv) -> None:
    data = problem(post(b'{\n  "Title": "x",\n  oops\n}'), 400)
    assert "line 3" in data["detail"]


def test_unknown_field_is_400_with_a_hint(http_env: HttpEnv) -> None:
    data = problem(post(push_body(IOSBadge=3)), 400)
    assert rules(data) == {("IOSBadge", "unknown_field")}
    assert "iOSBadge" in data["errors"][0]["message"]


def test_every_failing_field_is_listed(http_env: HttpEnv) -> None:
    data = problem(post(push_body(Title="x" * 300, iOSBadge="many", DeviceType="PHONE")), 400)
    assert {"Title", "iOSBadge", "DeviceType"} <= {e["field"] for e in data["errors"]}


@pytest.mark.parametrize(
    "overrides, field, rule",
    [
        ({"TargetValue": ",".join(f"{n:032x}" for n in range(1001))}, "TargetValue", "max_items"),
        ({"Title": "标" * 67}, "Title", "max_bytes"),
        ({"AppKey": 1}, "AppKey", "not_allowed"),
    ],
)
def test_limit_violations_are_400(http_env: HttpEnv, overrides: dict[str, Any], field: str, rule: str) -> None:
    data = problem(post(push_body(**overrides)), 400)
    assert field in {e["field"] for e in data["errors"]}, data
    assert http_env.pushes() == []


def test_mass_push_over_100_tasks_is_400(http_env: HttpEnv) -> None:
    data = problem(post({"tasks": [push_body()] * 101}, path="/mass-push"), 400)
    assert data["errors"], data


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1"])  # fmt: skip
def test_wrong_content_type_is_415(http_env: HttpEnv, content_type: str | None) -> None:
    headers = {"Authorization": bearer()["Authorization"]}
    if content_type:
        headers["Content-Type"] = content_type
    data = problem(post(push_body(), headers), 415)
    assert rules(data) == {("Content-Type", "media_type")}


def test_json_with_charset_and_plus_json_are_accepted(http_env: HttpEnv) -> None:
    auth = bearer()["Authorization"]
    assert post(push_body(), {"Authorization": auth, "Content-Type": "application/json; charset=UTF-8"})[0] == 202
    other = push_body(Title="second")
    assert post(other, {"Authorization": auth, "Content-Type": "application/vnd.push+json"})[0] == 202


def test_body_over_the_limit_is_413(http_env: HttpEnv, monkeypatch, tmp_path) -> None:
    configure(monkeypatch, tmp_path, {"PUSHFN_HTTP_MAX_BODY_BYTES": "1000"})
    data = problem(post(push_body(Body="x" * 1200)), 413)
    assert rules(data) == {("body", "max_bytes")}
    assert post(push_body(Body="x" * 100))[0] == 202


def test_wsgi_body_over_the_limit_is_not_read(http_env: HttpEnv, monkeypatch, tmp_path) -> None:
    configure(monkeypatch, tmp_path, {"PUSHFN_HTTP_MAX_BODY_BYTES": "1000"})
    environ = fc2_environ("POST", "/push", push_body(), bearer())
    environ["CONTENT_LENGTH"] = str(50 * 1024 * 1024)  # announced, never sent
    answer = call_wsgi(handler, environ)
    assert answer.status == 413
    assert answer.headers["content-type"] == "application/problem+json"


# --- templates and device association --------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"template": "nope", "params": {}}, {("template", "unknown_template")}),
        ({"template": "order_shipped", "params": {"order": "1"}, "target_value": DEVICE}, {("params.eta", "missing")}),
        (
            {"template": "order_shipped", "params": {"order": "1", "eta": "x", "zip": "9"}, "target_value": DEVICE},
            {("params.zip", "unknown")},
        ),
        ({"template": "order_shipped", "params": "order=1"}, {("params", "dict_type")}),
    ],
)
def test_template_mistakes_are_400(http_env: HttpEnv, body: dict[str, Any], expected: set) -> None:
    assert rules(problem(post(body), 400)) == expected


@pytest.mark.parametrize(
    "path, body, field, rule",
    [
        (f"/devices/{DEVICE}/aliases", {"aliases": []}, "aliases", "too_short"),
        (f"/devices/{DEVICE}/aliases", {"alias": ["a"]}, "alias", "unknown_field"),
        (f"/devices/{DEVICE}/aliases", {"aliases": ["a,b"]}, "aliases.1", "string_pattern_mismatch"),
        (f"/devices/{DEVICE}/aliases/unbind", {"aliases": ["a"], "all": True}, "body", "value_error"),
        (f"/devices/{DEVICE}/tags", {"tags": ["t"] * 11}, "tags", "too_long"),
    ],
)
def test_association_mistakes_are_400(http_env: HttpEnv, path: str, body: Any, field: str, rule: str) -> None:
    data = problem(post(body, path=path), 400)
    assert (field, rule) in rules(data), data
    if rule == "unknown_field":
        hint = next(e["message"] for e in data["errors"] if e["rule"] == "unknown_field")
        assert "did you mean 'aliases'" in hint


# --- the service's answers ------------------------------------------------------------------------


def test_service_refusal_is_502_with_code_and_request_id(http_env: HttpEnv) -> None:
    wrong = make_client(http_env.emulator)
    wrong._credentials = StaticCredentials("testid", "not-the-secret")  # the operator's mistake
    set_runtime(Runtime(client=wrong))
    data = problem(post(push_body()), 502)
    assert data["code"] == "SignatureDoesNotMatch" and data["requestId"]
    assert "not-the-secret" not in json.dumps(data)


def test_service_rejecting_the_callers_data_is_400_with_code_and_request_id(http_env: HttpEnv) -> None:
    raw = handler(fc3_event("GET", "/devices/ffffffffffffffffffffffffffffffff/aliases", None, bearer()), None)
    data = problem((raw["statusCode"], {k.lower(): v for k, v in raw["headers"].items()}, json.loads(raw["body"])), 400)
    assert data["code"] == "InvalidDeviceId.NotFound" and data["requestId"]
    assert rules(data) == {("deviceId", "NotFound")}  # the path parameter; "code" keeps CloudPush's Code


def test_service_internal_error_is_502_with_code(http_env: HttpEnv) -> None:
    http_env.emulator.add_fault("internal_error", count=10)
    data = problem(post(push_body()), 502)
    assert data["code"] == "InternalError" and data["requestId"]


def test_throttled_is_503_with_retry_after(http_env: HttpEnv) -> None:
    http_env.emulator.add_fault("throttle", count=10)
    status, headers, data = post(push_body())
    problem((status, headers, data), 503)
    assert int(headers["retry-after"]) >= 1
    assert data["code"].startswith("Throttling") and data["requestId"]
    http_env.emulator.clear_faults()
    assert post(push_body())[0] == 202  # nothing was stored: the retry goes through


def test_unreachable_service_is_502_and_retry_is_safe(http_env: HttpEnv) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    set_runtime(Runtime(client=make_client(http_env.emulator, endpoint=f"http://127.0.0.1:{port}")))
    status, headers, data = post(push_body())
    assert problem((status, headers, data), 502)["type"].endswith("service-unreachable")


def test_no_answer_is_504_and_a_retry_does_not_push_twice(http_env: HttpEnv) -> None:
    http_env.emulator.add_fault("drop", count=10)  # processed, then the connection is closed
    key = {"Idempotency-Key": '"drop-1"'}
    assert problem(post(push_body(), {**bearer(), **key}), 504)["type"].endswith("outcome-unknown")
    assert len(http_env.pushes()) == 1
    http_env.emulator.clear_faults()
    assert problem(post(push_body(), {**bearer(), **key}), 409)  # the outcome is still being settled
    assert len(http_env.pushes()) == 1


# --- Idempotency-Key ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ['""', '"' + "k" * 256 + '"', '"clé"', '"a", "b"', "a,b", '"open', '"bad\\n"'])
def test_malformed_idempotency_key_is_400(http_env: HttpEnv, value: str) -> None:
    data = problem(post(push_body(), {**bearer(), "Idempotency-Key": value}), 400)
    assert rules(data) == {("Idempotency-Key", "format")}
    assert http_env.pushes() == []


def test_quoted_and_bare_keys_are_the_same_key(http_env: HttpEnv) -> None:
    first = post(push_body(), {**bearer(), "Idempotency-Key": '"order-42"'})
    again = post(push_body(), {**bearer(), "Idempotency-Key": "order-42"})
    assert first[2] == again[2] and again[1]["idempotent-replayed"] == "true"
    assert len(http_env.pushes()) == 1


def test_same_key_different_body_is_422(http_env: HttpEnv) -> None:
    key = {**bearer(), "Idempotency-Key": '"order-43"'}
    assert post(push_body(), key)[0] == 202
    data = problem(post(push_body(Title="changed"), key), 422)
    assert rules(data) == {("Idempotency-Key", "payload_mismatch")}


def test_spelling_does_not_change_the_request(http_env: HttpEnv) -> None:
    """snake_case and API names are one canonical request, so the key replays rather than mismatches."""
    key = {**bearer(), "Idempotency-Key": '"order-44"'}
    assert post(push_body(), key)[0] == 202
    snake = {"target": "DEVICE", "target_value": DEVICE, "device_type": "ANDROID", "push_type": "NOTICE",
             "title": "Order 42 shipped", "body": "Arrives Monday"}  # fmt: skip
    assert post(snake, key)[1]["idempotent-replayed"] == "true"


def test_same_key_while_running_is_409(http_env: HttpEnv) -> None:
    http_env.emulator.add_fault("latency", count=1, latency_ms=1500)
    key = {**bearer(), "Idempotency-Key": '"slow-1"'}
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(post(push_body(), key)))
    first.start()
    try:
        _wait_for(lambda: len(http_env.pushes()) == 1)  # the push is recorded, its answer delayed
        status, headers, data = post(push_body(), key)
        problem((status, headers, data), 409)
        assert int(headers["retry-after"]) >= 1
    finally:
        first.join()
    assert results[0][0] == 202
    assert len(http_env.pushes()) == 1


def test_without_a_key_identical_requests_are_deduplicated(http_env: HttpEnv) -> None:
    first = post(push_body())
    again = post(push_body())
    assert first[2] == again[2] and again[1]["idempotent-replayed"] == "true"
    assert post(push_body(Title="another"))[1].get("idempotent-replayed") is None
    assert len(http_env.pushes()) == 2


def test_dedupe_window_zero_turns_it_off(http_env: HttpEnv, monkeypatch, tmp_path) -> None:
    configure(monkeypatch, tmp_path, {"PUSHFN_HTTP_DEDUPE_SECONDS": "0"})
    assert post(push_body())[0] == post(push_body())[0] == 202
    assert len(http_env.pushes()) == 2


def _wait_for(condition: Any, attempts: int = 500) -> None:
    import time

    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
