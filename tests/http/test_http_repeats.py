"""Issue 13 items 3 and 19 end to end: the real HTTP handler, the emulator over HTTP, a real SQLite store.

Item 3: when the guard lets a repeat through (the no-key dedupe window is over, or an
``Idempotency-Key`` outlived the store's TTL), CloudPush must really push it. The emulator drops a
repeated ``IdempotentToken`` for 15 minutes, like CloudPush, so a token derived from the key would
answer 202 with the old MessageId and push nothing. The guard's clock is moved by hand (the emulator
keeps real time, so its 15-minute window is certainly still open).

Item 19: a bad ``PUSHFN_IDEMPOTENCY_URL`` is the problem ``misconfigured``; a corrupt stored answer is
503 (store problem), never 500, and never a second push.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from http_support import DEVICE, HttpEnv, bearer, encode, push_body
from tests.support import Clock, ClockedRuntime

from pushfn.http import handler, reset_default_app
from pushfn.runtime import Runtime, set_runtime
from pushfn.triggers.events.http import fc3_event


@pytest.fixture
def clocked(http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch) -> Clock:
    monkeypatch.setenv("PUSHFN_HTTP_DEDUPE_SECONDS", "1")
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_TTL", "2")
    reset_default_app()
    clock = Clock()
    set_runtime(ClockedRuntime(clock=clock, client=http_env.client))
    return clock


def post(body: Any, headers: dict[str, str], path: str = "/push") -> tuple[int, dict[str, str], Any]:
    raw = handler(fc3_event("POST", path, encode(body), headers), None)
    return raw["statusCode"], {k.lower(): v for k, v in raw["headers"].items()}, json.loads(raw["body"])


# --- item 3: a repeat the guard lets through is really pushed -------------------------------------------


def test_same_body_without_a_key_after_the_dedupe_window_is_a_new_push(http_env: HttpEnv, clocked: Clock) -> None:
    body = push_body()
    first = post(body, bearer())
    again = post(body, bearer())  # inside the 1 s window: the client's retry, answered from the first
    assert first[0] == again[0] == 202 and again[2] == first[2] and again[1]["idempotent-replayed"] == "true"
    assert len(http_env.pushes()) == 1

    clocked.advance(2.1)  # expiry is kept in whole epoch seconds: a 1 s window ends within 2 s
    later = post(body, bearer())
    assert later[0] == 202 and "idempotent-replayed" not in later[1]
    assert later[2]["messageId"] != first[2]["messageId"]
    pushes = http_env.pushes()
    assert len(pushes) == 2 and pushes[0]["idempotent_token"] != pushes[1]["idempotent_token"]
    assert later[2]["messageId"] == pushes[1]["message_id"]

    clocked.advance(2.1)  # and again: every window gets its own push
    assert post(body, bearer())[2]["messageId"] not in {first[2]["messageId"], later[2]["messageId"]}
    assert len(http_env.pushes()) == 3


@pytest.mark.parametrize("path", ["/push", "/mass-push"])
def test_a_key_reused_after_the_ttl_with_a_new_body_pushes_the_new_title(
    http_env: HttpEnv, clocked: Clock, path: str
) -> None:
    def body(title: str) -> dict[str, Any]:
        if path == "/push":
            return push_body(Title=title)
        return {"PushTask": [push_body(Title=title)]}

    headers = {**bearer(), "Idempotency-Key": "order-42"}
    first = post(body("Order 42 shipped"), headers, path)
    assert first[0] == 202
    assert post(body("Order 42 delivered"), headers, path)[0] == 422  # within the TTL: another body is refused
    clocked.advance(3.1)  # PUSHFN_IDEMPOTENCY_TTL=2 is over: the key is new again
    second = post(body("Order 42 delivered"), headers, path)
    assert second[0] == 202 and "idempotent-replayed" not in second[1]
    assert second[2] != first[2]
    pushes = http_env.pushes()
    assert len(pushes) == 2 and pushes[0]["idempotent_token"] != pushes[1]["idempotent_token"]
    assert "Order 42 delivered" in json.dumps(pushes[1], ensure_ascii=False)


def test_an_ambiguous_push_retried_after_the_short_window_is_not_pushed_twice(
    http_env: HttpEnv, clocked: Clock
) -> None:
    """The other side of item 3: a retry of a push that may have gone out keeps its token, even when
    the dedupe window (1 s) is far shorter than the in-progress window."""
    body = push_body(Title="maybe sent")
    http_env.emulator.add_fault("drop", count=3, actions=["Push"])  # recorded, then no answer (3 client tries)
    assert post(body, bearer())[0] == 504
    assert len(http_env.pushes()) == 1
    clocked.advance(5)  # dedupe window over, the first call's in-progress window not
    assert post(body, bearer())[0] == 409
    clocked.advance(600)  # the first call has certainly stopped: the retry takes over with ITS token
    retried = post(body, bearer())
    assert retried[0] == 202
    pushes = http_env.pushes()
    assert len(pushes) == 1 and retried[2]["messageId"] == pushes[0]["message_id"]


# --- item 19: store configuration and corrupt records ---------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["sqlite:///:memory:", "sqlite://", "sqlite:///%00", "sqlite:///x.db?mode=memory", "dynamodb://x", "redis://h",
     # more of the kind: a device, a read-only store (no push could be recorded), a path below a file
     "sqlite:////dev/null", "sqlite:///x.db?mode=ro", "sqlite:///{tmp}/a-file/x.db"],
)  # fmt: skip
def test_a_bad_store_url_is_the_problem_misconfigured(
    http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str
) -> None:
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_URL", url.replace("{tmp}", str(tmp_path)))
    set_runtime(Runtime(client=http_env.client))  # the store is built from the environment on first use
    status, headers, data = post(push_body(), bearer())
    assert status == 500 and data["type"] == "urn:pushfn:problem:misconfigured", data
    assert headers["content-type"] == "application/problem+json"
    assert http_env.pushes() == []


@pytest.mark.parametrize(
    "stored",
    ["[1, 2]", '"text"', "not json", None, "42", "[" * 100 + "]" * 100,
     "{}", '{"a": 1}', '{"status": "202", "body": {}}', '{"status": 99, "body": {}}', '{"status": 202}'],
)  # fmt: skip
def test_a_corrupt_stored_answer_is_503_and_nothing_is_pushed_again(
    http_env: HttpEnv, tmp_path: Path, stored: str | None
) -> None:
    headers = {**bearer(), "Idempotency-Key": "order-7"}
    assert post(push_body(), headers)[0] == 202
    with sqlite3.connect(tmp_path / "idempotency.db") as conn:
        assert conn.execute("UPDATE idempotency SET result = ?", (stored,)).rowcount == 1
    status, _, data = post(push_body(), headers)
    assert status == 503 and data["type"] == "urn:pushfn:problem:idempotency-store-unavailable", data
    assert len(http_env.pushes()) == 1
    assert DEVICE not in json.dumps(data)
