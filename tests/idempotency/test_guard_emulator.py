"""The guard end to end: real pushes to the emulator over loopback HTTP, real stores, real processes.

Races: 32 threads (and, for SQLite and DynamoDB-on-moto, 4 processes × 8 threads) push one key at once.
Crashes: a worker is SIGKILLed between taking the key and pushing, or after pushing but before saving
COMPLETED; the retry after the in-progress expiry must leave exactly one push at the emulator.
Besides the emulator's count, the tests count calls of the operation itself: the emulator also honours
IdempotentToken, so "one push recorded" alone would not prove the guard did its job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from idempotency_support import emulator_identity

from pushfn.idempotency import (
    IdempotencyConfig,
    IdempotencyGuard,
    IdempotencyInProgressError,
    IdempotencyStore,
    IdempotencyStoreError,
    RecordStatus,
)

HERE = Path(__file__).resolve().parent
WORKER = HERE / "guard_worker.py"
DEVICE = "e2ba19de97604f55b165576736477b74"
NOTICE = {
    "Target": "DEVICE",
    "TargetValue": DEVICE,
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "Order shipped",
    "Body": "Your parcel is on its way",
}


def spec_for(emulator: Any, store: IdempotencyStore, **extra: Any) -> dict[str, Any]:
    url, app_key, key_id, secret = emulator_identity(emulator)
    return {
        "endpoint": url,
        "app_key": app_key,
        "access_key_id": key_id,
        "access_key_secret": secret,
        "store_url": store.describe(),
        "function": "http_push",
        "key": "order-42",
        "push": NOTICE,
        **extra,
    }


def start_worker(mode: str, spec: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def wait_for(path: Path, proc: subprocess.Popen[str], limit: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while not path.exists() or not path.read_text():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early: {proc.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("worker never reached the marker")
        time.sleep(0.01)
    return json.loads(path.read_text())


def wait_until_in_progress_expired(store: IdempotencyStore, key: str) -> None:
    """Poll the stored record (not a fixed sleep) until its in-progress expiry has passed."""
    record = store.get(key)
    assert record is not None and record.status is RecordStatus.IN_PROGRESS and record.in_progress_expiry
    while int(time.time() * 1000) <= record.in_progress_expiry:  # the guard compares whole ms
        time.sleep(0.05)


# --- races --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite", "dynamodb", "tablestore"])
def test_32_threads_race_one_key_into_the_emulator(kind: str, store_factory, emulator, push_client) -> None:  # type: ignore[no-untyped-def]
    store = store_factory(kind)
    guard = IdempotencyGuard(store, function_name="http_push")
    # Keep the winner's push in flight while the others arrive (the push is recorded, answered late).
    emulator.add_fault("latency", count=1, latency_ms=300)
    barrier = threading.Barrier(32)
    calls: list[str] = []
    outcomes: list[Any] = []
    lock = threading.Lock()

    def push(token: str) -> dict[str, str]:
        with lock:
            calls.append(token)
        return push_client.push(NOTICE, idempotent_token=token).to_dict()

    def racer() -> None:
        barrier.wait()
        try:
            outcome: Any = guard.run("order-42", payload=NOTICE, operation=push)
        except Exception as exc:
            outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=racer) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    pushes = emulator.pushes()
    assert len(calls) == 1 and len(pushes) == 1
    assert pushes[0]["idempotent_token"] == calls[0] == guard.idempotent_token("order-42")
    expected = {"MessageId": pushes[0]["message_id"], "RequestId": pushes[0]["request_id"]}
    for outcome in outcomes:
        if isinstance(outcome, IdempotencyInProgressError):
            continue
        assert not isinstance(outcome, Exception), outcome
        assert outcome.result == expected
    assert sum(1 for o in outcomes if not isinstance(o, Exception) and not o.replayed) == 1
    assert len(outcomes) == 32


@pytest.mark.parametrize("kind", ["sqlite", "dynamodb"])
def test_4_processes_race_one_key_into_the_emulator(kind: str, store_factory, emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = store_factory(kind)
    emulator.add_fault("latency", count=1, latency_ms=300)
    go = tmp_path / "go"
    spec = spec_for(emulator, store, threads=8, go_file=str(go))
    workers = [start_worker("race", spec) for _ in range(4)]
    time.sleep(0.5)  # let them import; correctness does not depend on it, only how hard they collide
    go.write_text("go")
    lines: list[dict[str, Any]] = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err[-2000:]
        lines.extend(json.loads(out))

    pushes = emulator.pushes()
    assert len(pushes) == 1
    assert sum(1 for line in lines if line.get("called")) == 1
    answers = [line for line in lines if not line.get("called")]
    assert len(answers) == 32
    assert not [a for a in answers if "error" in a], answers
    expected = {"MessageId": pushes[0]["message_id"], "RequestId": pushes[0]["request_id"]}
    assert all(a.get("in_progress") or a["result"] == expected for a in answers)


# --- crashes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "dynamodb"])
def test_killed_before_the_push_then_retried_after_expiry(
    kind: str, store_factory, emulator, push_client, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    store = store_factory(kind)
    marker = tmp_path / "marker"
    worker = start_worker(
        "crash", spec_for(emulator, store, stop="before_push", marker=str(marker), in_progress_seconds=1.0)
    )
    wait_for(marker, worker)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert emulator.pushes() == []

    guard = IdempotencyGuard(store, IdempotencyConfig(), function_name="http_push")
    calls: list[str] = []

    def push(token: str) -> dict[str, str]:
        calls.append(token)
        return push_client.push(NOTICE, idempotent_token=token).to_dict()

    scoped = guard.scoped_key("order-42")
    record = store.get(scoped)
    if record is not None and record.in_progress_expiry and time.time() * 1000 < record.in_progress_expiry - 200:
        with pytest.raises(IdempotencyInProgressError):
            guard.run("order-42", payload=NOTICE, operation=push)  # the dead worker's lock still holds
    wait_until_in_progress_expired(store, scoped)
    outcome = guard.run("order-42", payload=NOTICE, operation=push)
    assert outcome.replayed is False and len(calls) == 1
    assert len(emulator.pushes()) == 1
    assert guard.run("order-42", payload=NOTICE, operation=push).replayed is True
    assert len(emulator.pushes()) == 1


@pytest.mark.parametrize("kind", ["sqlite", "dynamodb"])
def test_killed_after_the_push_before_completed_is_saved(
    kind: str, store_factory, emulator, push_client, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    store = store_factory(kind)
    marker = tmp_path / "marker"
    worker = start_worker(
        "crash", spec_for(emulator, store, stop="after_push", marker=str(marker), in_progress_seconds=1.0)
    )
    first = wait_for(marker, worker)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert len(emulator.pushes()) == 1

    guard = IdempotencyGuard(store, IdempotencyConfig(), function_name="http_push")
    scoped = guard.scoped_key("order-42")
    wait_until_in_progress_expired(store, scoped)
    tokens: list[str] = []

    def push(token: str) -> dict[str, str]:
        tokens.append(token)
        return push_client.push(NOTICE, idempotent_token=token).to_dict()

    outcome = guard.run("order-42", payload=NOTICE, operation=push)
    # The retry really went to the service, carrying the same token, and the service de-duplicated it.
    assert tokens == [first["token"]] == [guard.idempotent_token("order-42")]
    assert len(emulator.pushes()) == 1
    assert outcome.result["MessageId"] == first["result"]["MessageId"]
    record = store.get(scoped)
    assert record is not None and record.status is RecordStatus.COMPLETED


def test_ambiguous_drop_then_retry_pushes_once(store_factory, emulator, push_client, clock) -> None:  # type: ignore[no-untyped-def]
    """The emulator records the push, then drops the connection: 'sent, no answer'."""
    store = store_factory("sqlite")
    config = IdempotencyConfig(in_progress_seconds_without_context=30)
    guard = IdempotencyGuard(store, config, function_name="http_push", clock=clock)
    emulator.add_fault("drop", count=10, actions=["Push"])
    from pushfn.push.errors import PushError

    with pytest.raises(PushError) as failed:
        guard.run("order-9", payload=NOTICE, operation=lambda t: push_client.push(NOTICE, idempotent_token=t).to_dict())
    assert failed.value.maybe_sent is True
    record = store.get(guard.scoped_key("order-9"))
    assert record is not None and record.status is RecordStatus.IN_PROGRESS
    emulator.clear_faults()
    clock.advance(40)
    outcome = guard.run(
        "order-9", payload=NOTICE, operation=lambda t: push_client.push(NOTICE, idempotent_token=t).to_dict()
    )
    assert len(emulator.pushes()) == 1 and outcome.result["MessageId"] == emulator.pushes()[0]["message_id"]


# --- store unavailable ----------------------------------------------------------------------------------


def test_dynamodb_down_is_a_clear_error_and_no_push(private_moto, emulator, push_client) -> None:  # type: ignore[no-untyped-def]
    from pushfn.idempotency import store_from_url

    store = store_from_url("dynamodb://down-table")
    store.init()
    private_moto.stop()
    guard = IdempotencyGuard(store, function_name="http_push")
    with pytest.raises(IdempotencyStoreError, match=r"dynamodb://down-table failed to put: EndpointConnectionError"):
        guard.run(
            "order-42", payload=NOTICE, operation=lambda t: push_client.push(NOTICE, idempotent_token=t).to_dict()
        )
    assert emulator.pushes() == []


def test_read_only_sqlite_is_a_clear_error_and_no_push(tmp_path: Path, emulator, push_client) -> None:  # type: ignore[no-untyped-def]
    """We run as root in CI, where file modes do not stop writes, so the file is opened with mode=ro
    (what a read-only mount gives) as well as being chmod 0444."""
    from pushfn.idempotency import store_from_url

    path = tmp_path / "idempotency.db"
    store_from_url(f"sqlite:///{path}").init()
    path.chmod(0o444)
    store = store_from_url(f"sqlite:///{path}?mode=ro")
    guard = IdempotencyGuard(store, function_name="http_push")
    with pytest.raises(IdempotencyStoreError, match="readonly"):
        guard.run(
            "order-42", payload=NOTICE, operation=lambda t: push_client.push(NOTICE, idempotent_token=t).to_dict()
        )
    assert emulator.pushes() == []


def test_unreachable_sqlite_path_is_a_clear_error_and_no_push(tmp_path: Path, emulator, push_client) -> None:  # type: ignore[no-untyped-def]
    from pushfn.idempotency import store_from_url

    blocker = tmp_path / "not-a-dir"
    store = store_from_url(f"sqlite:///{blocker}/idempotency.db")
    blocker.write_text("x")  # after the URL was accepted (one naming a file's child now is refused as such)
    guard = IdempotencyGuard(store, function_name="http_push")
    with pytest.raises(IdempotencyStoreError, match="failed to put"):
        guard.run("order-42", operation=lambda t: push_client.push(NOTICE, idempotent_token=t).to_dict())
    assert emulator.pushes() == []


def test_tablestore_down_is_a_clear_error_and_no_push(tablestore_store, tablestore_fake, emulator, push_client) -> None:  # type: ignore[no-untyped-def]
    """FAKE Tablestore client marked unavailable (raises the SDK's OTSClientError)."""
    tablestore_fake.available = False
    guard = IdempotencyGuard(tablestore_store, function_name="http_push")
    with pytest.raises(IdempotencyStoreError, match="failed to put: OTSClientError"):
        guard.run("order-42", operation=lambda t: push_client.push(NOTICE, idempotent_token=t).to_dict())
    assert emulator.pushes() == []


# --- issue 13 item 3: a new life of a key is a real push ----------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "dynamodb", "tablestore"])
@pytest.mark.parametrize(
    ("function_name", "scope", "key"),
    [("queue_push", "sqs", "9f1c5e2a-msg#0"), ("scheduled_push", "schedule", "nightly#2027-01-15T08:00:00Z"),
     ("http_push", "tenant-a", "order-42")],
)  # fmt: skip
def test_a_key_past_its_lifetime_is_pushed_again_under_a_new_token(
    kind: str, function_name: str, scope: str, key: str, store_factory, emulator, push_client, clock
) -> None:  # type: ignore[no-untyped-def]
    """CloudPush (and the emulator) drop a repeated token for 15 minutes: with a token derived from the
    key, the second life below was answered with the first MessageId and never pushed."""
    guard = IdempotencyGuard(store_factory(kind), function_name=function_name, clock=clock)

    def push(token: str) -> dict[str, str]:
        return push_client.push(NOTICE, idempotent_token=token).to_dict()

    first = guard.run(key, scope=scope, payload=NOTICE, operation=push, expires_after_seconds=60)
    assert guard.run(key, scope=scope, payload=NOTICE, operation=push).replayed is True
    clock.advance(61)  # the record expired; the emulator's 15-minute token window (real time) has not
    second = guard.run(key, scope=scope, payload=NOTICE, operation=push, expires_after_seconds=60)
    assert second.replayed is False and second.token != first.token
    pushes = emulator.pushes()
    assert len(pushes) == 2 and second.result["MessageId"] != first.result["MessageId"]
    assert [p["idempotent_token"] for p in pushes] == [first.token, second.token]


def test_a_retry_after_a_definite_refusal_is_pushed(store_factory, emulator, push_client, clock) -> None:  # type: ignore[no-untyped-def]
    from pushfn.push.errors import InvalidRequestError

    guard = IdempotencyGuard(store_factory("sqlite"), function_name="queue_push", clock=clock)
    bad = {**NOTICE, "DeviceType": "WINDOWS"}
    with pytest.raises(InvalidRequestError):
        guard.run("msg-2#0", scope="sqs", operation=lambda t: push_client.push(bad, idempotent_token=t).to_dict())
    outcome = guard.run(
        "msg-2#0", scope="sqs", operation=lambda t: push_client.push(NOTICE, idempotent_token=t).to_dict()
    )
    assert outcome.replayed is False and [p["message_id"] for p in emulator.pushes()] == [outcome.result["MessageId"]]
