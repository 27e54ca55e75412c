"""The same request through every platform shape: same push at the emulator, same answer in each format.

The FC 3.0, API Gateway v1/v2 and Function URL events are the reference samples with method, path,
headers and body replaced; FC 2.0 has no sample (it is WSGI), so its environ comes from the factory.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from http_support import DEVICE, HttpEnv, bearer, encode, load_sample, push_body

from pushfn.http import handler
from pushfn.triggers.events.http import (
    apigw_v1_event,
    apigw_v2_event,
    call_wsgi,
    fc2_environ,
    fc3_event,
    function_url_event,
)


def _fc3_from_sample(method: str, path: str, headers: dict[str, str], body: bytes, b64: bool) -> bytes:
    event = load_sample("fc_http_v3.json")
    event["rawPath"] = path
    event["requestContext"]["http"].update(method=method, path=path)
    event["headers"] = headers
    event["queryParameters"] = {}
    event["body"] = base64.b64encode(body).decode() if b64 else body.decode()
    event["isBase64Encoded"] = b64
    return json.dumps(event).encode()  # the FC 3.0 Python runtime passes bytes


def _v1_from_sample(method: str, path: str, headers: dict[str, str], body: bytes, b64: bool) -> dict[str, Any]:
    event = load_sample("aws_apigw_rest_v1.json")
    event.update(httpMethod=method, path=path, resource=path, headers=headers)
    event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    event["multiValueQueryStringParameters"] = event["queryStringParameters"] = None
    event["requestContext"].update(httpMethod=method, path=path)
    event["body"] = base64.b64encode(body).decode() if b64 else body.decode()
    event["isBase64Encoded"] = b64
    return event


def _v2_like(sample: str) -> Callable[..., dict[str, Any]]:
    def build(method: str, path: str, headers: dict[str, str], body: bytes, b64: bool) -> dict[str, Any]:
        event = copy.deepcopy(load_sample(sample))
        event["rawPath"] = path
        event["rawQueryString"] = ""
        event.pop("queryStringParameters", None)
        event["requestContext"]["http"].update(method=method, path=path)
        event["headers"] = {name.lower(): value for name, value in headers.items()}
        event["body"] = base64.b64encode(body).decode() if b64 else body.decode()
        event["isBase64Encoded"] = b64
        return event

    return build


def _fc2(method: str, path: str, headers: dict[str, str], body: bytes, b64: bool) -> dict[str, Any]:
    return fc2_environ(method, path, body, headers)


SAMPLE_BUILDERS: dict[str, Callable[..., Any]] = {
    "fc2": _fc2,
    "fc3": _fc3_from_sample,
    "apigw-v1": _v1_from_sample,
    "apigw-v2": _v2_like("aws_apigw_http_v2.json"),
    "function-url": _v2_like("aws_lambda_function_url.json"),
}

FACTORIES: dict[str, Callable[..., Any]] = {
    "fc2": lambda m, p, h, b, b64: fc2_environ(m, p, b, h),
    "fc3": lambda m, p, h, b, b64: fc3_event(m, p, b, h, base64_body=b64),
    "apigw-v1": lambda m, p, h, b, b64: apigw_v1_event(m, p, b, h, base64_body=b64),
    "apigw-v2": lambda m, p, h, b, b64: apigw_v2_event(m, p, b, h, base64_body=b64),
    "function-url": lambda m, p, h, b, b64: function_url_event(m, p, b, h, base64_body=b64),
}


def invoke(platform: str, event: Any) -> tuple[int, dict[str, str], Any, Any]:
    """Call the handler as ``platform`` would; return status, lower-case headers, JSON body, raw answer."""
    if platform == "fc2":
        answer = call_wsgi(handler, event)
        return answer.status, answer.headers, answer.json(), answer
    raw = handler(event, None)
    assert set(raw) >= {"statusCode", "headers", "isBase64Encoded", "body"}
    assert isinstance(raw["body"], str) and raw["isBase64Encoded"] is False
    headers = {name.lower(): value for name, value in raw["headers"].items()}
    return raw["statusCode"], headers, json.loads(raw["body"]), raw


def _sent_params(http_env: HttpEnv) -> dict[str, str]:
    params = dict(http_env.pushes()[-1]["params"])
    params.pop("IdempotentToken")  # derived from each request's own key
    return params


@pytest.mark.parametrize("builders", [SAMPLE_BUILDERS, FACTORIES], ids=["samples", "factories"])
def test_same_request_same_push_same_answer_on_every_platform(http_env: HttpEnv, builders: dict) -> None:
    body = encode(push_body())
    sent: dict[str, dict[str, str]] = {}
    for index, (platform, build) in enumerate(builders.items()):
        headers = {**bearer(), "Idempotency-Key": f'"order-42-{platform}"'}
        event = build("POST", "/push", headers, body, index % 2 == 1)  # base64 on every other platform
        status, answer_headers, data, raw = invoke(platform, event)

        assert status == 202, (platform, data)
        assert set(data) == {"messageId", "requestId"}
        assert data["messageId"] == http_env.pushes()[-1]["message_id"]
        assert answer_headers["content-type"] == "application/json"
        assert "idempotent-replayed" not in answer_headers
        if platform == "apigw-v1":
            assert raw["multiValueHeaders"]["Content-Type"] == ["application/json"]
        sent[platform] = _sent_params(http_env)

    assert len(http_env.pushes()) == 5
    first = next(iter(sent.values()))
    assert first["TargetValue"] == DEVICE and first["Title"] == "Order 42 shipped"
    assert all(params == first for params in sent.values()), sent


@pytest.mark.parametrize("platform", list(FACTORIES))
def test_problem_answer_keeps_its_content_type_on_every_platform(http_env: HttpEnv, platform: str) -> None:
    event = FACTORIES[platform]("POST", "/push", bearer(), b"{not json", False)
    status, headers, data, _ = invoke(platform, event)
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert data["errors"][0]["field"] == "body"
    assert http_env.pushes() == []


@pytest.mark.parametrize("platform", list(FACTORIES))
def test_health_and_routing_on_every_platform(http_env: HttpEnv, platform: str) -> None:
    status, _, data, _ = invoke(platform, FACTORIES[platform]("GET", "/health", {}, b"", False))
    assert (status, data["status"]) == (200, "ok")
    status, headers, data, _ = invoke(platform, FACTORIES[platform]("GET", "/push", bearer(), b"", False))
    assert status == 405 and headers["allow"] == "POST"
    status, _, data, _ = invoke(platform, FACTORIES[platform]("GET", "/nope", bearer(), b"", False))
    assert status == 404 and data["type"].endswith("not-found")


def test_fc2_default_domain_prefix_is_stripped(http_env: HttpEnv) -> None:
    """FC 2.0 URLs without a custom domain carry /<version>/proxy/<service>/<function> before the route."""
    environ = fc2_environ("GET", "/2016-08-15/proxy/pushsvc/http_push/health")
    answer = call_wsgi(handler, environ)
    assert answer.status == 200 and answer.reason == "OK"
    assert answer.headers["content-length"] == str(len(answer.body))


def test_device_association_round_trip_through_fc3(http_env: HttpEnv) -> None:
    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        raw = encode(body) if body is not None else b""
        status, _, data, _ = invoke("fc3", fc3_event(method, path, raw, bearer()))
        return status, data

    device_path = f"/devices/{DEVICE}"
    assert call("POST", f"{device_path}/aliases", {"aliases": ["alice", "a.b"]})[0] == 200
    assert sorted(call("GET", f"{device_path}/aliases")[1]["aliases"]) == ["a.b", "alice"]
    assert call("POST", f"{device_path}/aliases/unbind", {"aliases": ["a.b"]})[0] == 200
    assert call("GET", f"{device_path}/aliases")[1]["aliases"] == ["alice"]
    assert call("POST", f"{device_path}/aliases/unbind", {"all": True})[0] == 200
    assert call("GET", f"{device_path}/aliases")[1]["aliases"] == []

    assert call("POST", f"{device_path}/tags", {"tags": ["vip", "beta testers"]})[0] == 200
    assert sorted(call("GET", f"{device_path}/tags")[1]["tags"]) == ["beta testers", "vip"]
    assert "vip" in call("GET", "/tags")[1]["tags"]
    assert call("POST", f"{device_path}/tags/unbind", {"tags": ["vip"]})[0] == 200
    assert call("GET", f"{device_path}/tags")[1]["tags"] == ["beta testers"]
    status, data = call("DELETE", "/tags/beta%20testers")
    assert status == 200 and data["requestId"]
    assert "beta testers" not in call("GET", "/tags")[1]["tags"]


def test_template_push_renders_configured_template(http_env: HttpEnv) -> None:
    body = {"template": "order_shipped", "params": {"order": "42", "eta": "Monday"}, "target_value": DEVICE}
    status, _, data, _ = invoke("apigw-v2", apigw_v2_event("POST", "/push", body, bearer()))
    assert status == 202, data
    params = http_env.pushes()[-1]["params"]
    assert (params["Title"], params["Body"], params["TargetValue"]) == ("Order 42 shipped", "Arrives Monday", DEVICE)


def test_mass_push_answers_the_list(http_env: HttpEnv) -> None:
    tasks = [push_body(Title=f"Hello {n}") for n in range(3)]
    status, _, data, _ = invoke("apigw-v1", apigw_v1_event("POST", "/mass-push", {"tasks": tasks}, bearer()))
    assert status == 202, data
    assert len(data["messageIds"]) == 3 and data["requestId"]
    assert sorted(p["title"] for p in http_env.pushes()) == ["Hello 0", "Hello 1", "Hello 2"]
