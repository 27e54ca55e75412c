"""Concurrent duplicates: 50 requests with one Idempotency-Key push exactly once."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from http_support import API_KEY, DEVICE, SECRET, HttpEnv, bearer, encode, push_body

from pushfn.http import handler
from pushfn.triggers.events.http import fc3_event


def test_fifty_concurrent_requests_with_one_key_push_once(http_env: HttpEnv) -> None:
    # Slow answers keep the first request in flight while the others arrive.
    http_env.emulator.add_fault("latency", count=1, latency_ms=300)
    event = fc3_event("POST", "/push", encode(push_body()), {**bearer(), "Idempotency-Key": '"burst-1"'})

    def call(_: int) -> dict[str, Any]:
        return handler(event, None)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(call, range(50)))

    assert len(http_env.pushes()) == 1
    statuses = [answer["statusCode"] for answer in answers]
    assert set(statuses) <= {202, 409}, [a["body"] for a in answers if a["statusCode"] not in (202, 409)][:3]
    accepted = [json.loads(a["body"]) for a in answers if a["statusCode"] == 202]
    assert accepted and all(body == accepted[0] for body in accepted)
    assert accepted[0]["messageId"] == http_env.pushes()[0]["message_id"]
    conflicts = [a for a in answers if a["statusCode"] == 409]
    assert all(int(a["headers"]["Retry-After"]) >= 1 for a in conflicts)
    # After the burst, a retry gets the first answer.
    again = handler(event, None)
    assert again["statusCode"] == 202 and again["headers"]["Idempotent-Replayed"] == "true"


def test_one_log_line_per_request_without_secrets(http_env: HttpEnv, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pushfn.http")
    event = fc3_event("POST", "/push", encode(push_body()), {**bearer(), "Idempotency-Key": '"log-check-key-1"'})
    assert handler(event, None)["statusCode"] == 202
    assert handler(fc3_event("GET", f"/devices/{DEVICE}/aliases", None, bearer()), None)["statusCode"] == 200
    lines = [r for r in caplog.records if r.name == "pushfn.http"]
    assert len(lines) == 2
    fields = lines[0].fields  # type: ignore[attr-defined]
    assert fields["status"] == 202 and fields["route"] == "/push" and fields["tenant"] == "tenant-a"
    assert fields["platform"] == "fc3" and fields["key"] != "log-check-key-1"
    assert lines[1].fields["route"] == "/devices/{deviceId}/aliases"  # type: ignore[attr-defined]
    text = caplog.text + " ".join(json.dumps(r.__dict__.get("fields", {})) for r in caplog.records)
    for secret in (API_KEY, SECRET, DEVICE, "log-check-key-1"):
        assert secret not in text
