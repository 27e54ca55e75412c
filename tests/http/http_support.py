"""Helpers of the HTTP function tests: credentials, signed headers, bodies, reference samples."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pushfn.http import hash_api_key, reset_default_app, sign_webhook
from pushfn.http.settings import webhook_secret_bytes
from pushfn.push import PushClient, Retry, Timeout

#: Standard Webhooks secret (current) and a plain one still accepted during rotation.
SECRET = "whsec_" + base64.b64encode(b"pushfn-test-webhook-secret-32-by").decode()
OLD_SECRET = "an-older-plain-secret-in-rotation"
API_KEY = "pk_live_tenant_a_0123456789abcdef"
API_KEY_B = "pk_live_tenant_b_fedcba9876543210"
DEVICE = "e2ba19de97604f55b165576736477b74"
OTHER_DEVICE = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TEMPLATES = {"order_shipped": {"Target": "DEVICE", "DeviceType": "ANDROID", "PushType": "NOTICE",
                               "Title": "Order {order} shipped", "Body": "Arrives {eta}"}}  # fmt: skip

EVENTS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "events"


def push_body(**overrides: Any) -> dict[str, Any]:
    body = {"Target": "DEVICE", "TargetValue": DEVICE, "DeviceType": "ANDROID", "PushType": "NOTICE",
            "Title": "Order 42 shipped", "Body": "Arrives Monday"}  # fmt: skip
    body.update(overrides)
    return body


def encode(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")


def bearer(key: str = API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def webhook_headers(
    body: bytes, *, secret: str = SECRET, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", at: float | None = None
) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign_webhook(webhook_secret_bytes(secret), msg_id, timestamp, body),
        "Content-Type": "application/json",
    }


def load_sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


@dataclass
class HttpEnv:
    emulator: Any
    client: PushClient

    def pushes(self) -> list[dict[str, Any]]:
        return [p for p in self.emulator.pushes() if p.get("action") in ("Push", "MassPush")]


def make_client(emulator: Any, endpoint: str | None = None) -> PushClient:
    return emulator.client(
        endpoint=endpoint or emulator.url,
        timeout=Timeout(connect=2.0, read=5.0),
        retry=Retry(max_attempts=3, backoff=0.01, throttle_backoff=0.02, max_backoff=0.05),
    )


def configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, extra: Mapping[str, str] | None = None) -> None:
    env = {
        "PUSHFN_WEBHOOK_SECRETS": f"{SECRET}, {OLD_SECRET}",
        "PUSHFN_API_KEYS": f"tenant-a:{hash_api_key(API_KEY)},tenant-b:{hash_api_key(API_KEY_B)}",
        "PUSHFN_IDEMPOTENCY_URL": f"sqlite:///{tmp_path / 'idempotency.db'}",
        "PUSHFN_TEMPLATES": json.dumps(TEMPLATES),
        **(extra or {}),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_default_app()


# --- one request through every platform shape ---------------------------------------------------

#: Every HTTP platform shape the handler serves: FC 2.0 WSGI, FC 3.0 (bytes and dict), API Gateway
#: REST v1 and HTTP API v2, Lambda Function URL.
PLATFORMS = ("fc2", "fc3-bytes", "fc3-dict", "apigw-v1", "apigw-v2", "function-url")


def platform_event(platform: str, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Any:
    """The event (or WSGI environ) ``platform`` hands the handler; a body that is not UTF-8 is base64."""
    from pushfn.triggers.events.http import (
        apigw_v1_event,
        apigw_v2_event,
        fc2_environ,
        fc3_event,
        function_url_event,
    )

    try:
        body.decode("utf-8")
        binary = False
    except UnicodeDecodeError:
        binary = True
    if platform == "fc2":
        return fc2_environ(method, path, body, headers)
    if platform in ("fc3-bytes", "fc3-dict"):
        return fc3_event(method, path, body, headers, base64_body=binary, as_bytes=platform == "fc3-bytes")
    factory = {"apigw-v1": apigw_v1_event, "apigw-v2": apigw_v2_event, "function-url": function_url_event}[platform]
    return factory(method, path, body, headers, base64_body=binary)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call_handler(event: Any, platform: str = "") -> Answer:
    """Call the real handler as the platform would; fails the test if it raises or answers badly."""
    from pushfn.http import handler
    from pushfn.triggers.events.http import call_wsgi

    if platform == "fc2" or (isinstance(event, dict) and "wsgi.input" in event):
        answer = call_wsgi(handler, event)
        return Answer(answer.status, answer.headers, answer.body)
    raw = handler(event, None)
    assert set(raw) >= {"statusCode", "headers", "isBase64Encoded", "body"}, raw
    body = base64.b64decode(raw["body"]) if raw["isBase64Encoded"] else raw["body"].encode("utf-8")
    return Answer(raw["statusCode"], {k.lower(): v for k, v in raw["headers"].items()}, body)
