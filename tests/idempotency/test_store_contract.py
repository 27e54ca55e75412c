"""The contract every store must keep, run against memory, SQLite (real file), DynamoDB (moto server
over HTTP) and Tablestore (FAKE client: no local Tablestore exists, see fake_tablestore.py).

The stores' conditions take ``now`` from the caller, so expiry is tested with a fake clock, not sleeps.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from pushfn.idempotency import IdempotencyGuard, IdempotencyInProgressError, IdempotencyPayloadMismatchError
from pushfn.idempotency.config import IdempotencyConfig
from pushfn.idempotency.exceptions import IdempotencyRecordExistsError
from pushfn.idempotency.record import IdempotencyRecord, RecordStatus

if TYPE_CHECKING:
    from idempotency_support import FakeClock

    from pushfn.idempotency import IdempotencyStore

KEY = "http_push#tenant-a#order-42"
HASH_A = "a" * 64
HASH_B = "b" * 64


def in_progress(
    now: float, *, key: str = KEY, payload_hash: str = HASH_A, lifetime: int = 3600, window_ms: int = 60_000
) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=key,
        status=RecordStatus.IN_PROGRESS,
        expiry=int(now) + lifetime,
        in_progress_expiry=int(now * 1000) + window_ms,
        payload_hash=payload_hash,
        token="5b7c1f2e-0000-5000-8000-000000000001",
    )


def lost_to(store: IdempotencyStore, record: IdempotencyRecord, now: float) -> IdempotencyRecord:
    """Put ``record`` expecting to lose; return the winning record (from the error or a read)."""
    with pytest.raises(IdempotencyRecordExistsError) as lost:
        store.put_in_progress(record, now)
    winner = lost.value.old_record or store.get(record.key)
    assert winner is not None
    return winner


def test_new_key_is_written(store: IdempotencyStore, clock: FakeClock) -> None:
    record = in_progress(clock.now)
    store.put_in_progress(record, clock.now)
    assert store.get(KEY) == record
    assert store.get("http_push#tenant-a#other") is None


def test_live_in_progress_blocks_a_second_put(store: IdempotencyStore, clock: FakeClock) -> None:
    first = in_progress(clock.now)
    store.put_in_progress(first, clock.now)
    clock.advance(30)
    assert lost_to(store, in_progress(clock.now), clock.now) == first


def test_completed_record_blocks_and_is_returned_for_replay(store: IdempotencyStore, clock: FakeClock) -> None:
    record = in_progress(clock.now)
    store.put_in_progress(record, clock.now)
    done = record.completed({"MessageId": "m-1", "RequestId": "r-1", "nested": {"n": [1, 2]}}, expiry=record.expiry)
    store.save(done)
    clock.advance(1800)  # long after the 60 s in-progress window: a completed record has none
    winner = lost_to(store, in_progress(clock.now), clock.now)
    assert winner.status is RecordStatus.COMPLETED
    assert winner.result == {"MessageId": "m-1", "RequestId": "r-1", "nested": {"n": [1, 2]}}
    assert winner.in_progress_expiry is None
    assert store.get(KEY) == done


def test_expired_record_is_replaced_even_with_another_payload(store: IdempotencyStore, clock: FakeClock) -> None:
    old = in_progress(clock.now, lifetime=10)
    store.put_in_progress(old, clock.now)
    store.save(old.completed({"MessageId": "m-1"}, expiry=old.expiry))
    clock.advance(11)
    new = in_progress(clock.now, payload_hash=HASH_B)
    store.put_in_progress(new, clock.now)
    assert store.get(KEY) == new


def test_record_is_live_until_its_expiry_second_has_passed(store: IdempotencyStore, clock: FakeClock) -> None:
    old = in_progress(clock.now, lifetime=10, window_ms=60_000_000)
    store.put_in_progress(old, clock.now)
    clock.advance(10)  # now == expiry: still live
    lost_to(store, in_progress(clock.now), clock.now)
    clock.advance(1)
    store.put_in_progress(in_progress(clock.now), clock.now)


def test_stale_in_progress_is_taken_over_by_the_same_payload(store: IdempotencyStore, clock: FakeClock) -> None:
    crashed = in_progress(clock.now, window_ms=5_000)
    store.put_in_progress(crashed, clock.now)
    clock.advance(4)
    lost_to(store, in_progress(clock.now), clock.now)  # window not over yet
    clock.advance(2)
    retry = in_progress(clock.now)
    store.put_in_progress(retry, clock.now)
    assert store.get(KEY) == retry


def test_stale_in_progress_is_not_taken_over_by_another_payload(store: IdempotencyStore, clock: FakeClock) -> None:
    """The retry would reuse the provider token; another payload under it would be silently dropped."""
    crashed = in_progress(clock.now, window_ms=5_000)
    store.put_in_progress(crashed, clock.now)
    clock.advance(6)
    assert lost_to(store, in_progress(clock.now, payload_hash=HASH_B), clock.now) == crashed


def test_stale_in_progress_is_not_taken_over_with_another_token(store: IdempotencyStore, clock: FakeClock) -> None:
    """A takeover resends under the STORED token; a put with any other token must lose, so the guard
    learns the stored token (and the condition proves the row it takes over is the one it read)."""
    crashed = in_progress(clock.now, window_ms=5_000)
    store.put_in_progress(crashed, clock.now)
    clock.advance(6)
    other = replace(in_progress(clock.now), token="5b7c1f2e-0000-4000-8000-0000000000ff")
    assert lost_to(store, other, clock.now) == crashed
    takeover = in_progress(clock.now)  # same payload, same token as the crashed record
    store.put_in_progress(takeover, clock.now)
    assert store.get(KEY) == takeover


def test_expired_record_is_replaced_with_a_new_token(store: IdempotencyStore, clock: FakeClock) -> None:
    old = in_progress(clock.now, lifetime=10, window_ms=5_000)
    store.put_in_progress(old, clock.now)
    clock.advance(11)
    new = replace(in_progress(clock.now), token="5b7c1f2e-0000-4000-8000-0000000000ee")
    store.put_in_progress(new, clock.now)
    assert store.get(KEY) == new and store.get(KEY).token == "5b7c1f2e-0000-4000-8000-0000000000ee"  # type: ignore[union-attr]


def test_delete_after_definite_failure_frees_the_key(store: IdempotencyStore, clock: FakeClock) -> None:
    store.put_in_progress(in_progress(clock.now), clock.now)
    store.delete_in_progress(KEY)
    assert store.get(KEY) is None
    store.put_in_progress(in_progress(clock.now, payload_hash=HASH_B), clock.now)
    store.delete_in_progress("http_push#tenant-a#never-written")  # deleting nothing is fine


def test_delete_never_removes_a_completed_record(store: IdempotencyStore, clock: FakeClock) -> None:
    record = in_progress(clock.now)
    store.put_in_progress(record, clock.now)
    done = record.completed({"MessageId": "m-1"}, expiry=record.expiry)
    store.save(done)
    store.delete_in_progress(KEY)
    assert store.get(KEY) == done


def test_expiry_fields_round_trip_in_their_units(store: IdempotencyStore, clock: FakeClock) -> None:
    record = in_progress(clock.now, lifetime=86_400, window_ms=905_000)
    store.put_in_progress(record, clock.now)
    stored = store.get(KEY)
    assert stored is not None
    assert stored.expiry == int(clock.now) + 86_400  # epoch seconds (the TTL attribute)
    assert stored.in_progress_expiry == int(clock.now * 1000) + 905_000  # epoch milliseconds


def test_keys_are_independent(store: IdempotencyStore, clock: FakeClock) -> None:
    for key in ("http_push#tenant-a#k", "http_push#tenant-b#k", "queue_push#tenant-a#k", "http_push#tenant-a#K"):
        store.put_in_progress(in_progress(clock.now, key=key), clock.now)
    assert store.get("http_push#tenant-b#k") is not None


def test_unicode_and_long_keys_round_trip(store: IdempotencyStore, clock: FakeClock) -> None:
    key = "file_push#-#" + "uploads/报告 ü.csv/" + "x" * 220
    record = in_progress(clock.now, key=key)
    store.put_in_progress(record, clock.now)
    assert store.get(key) == record


def test_init_is_safe_to_run_twice(store: IdempotencyStore) -> None:
    assert isinstance(store.init(), str)
    assert isinstance(store.init(), str)


def test_concurrent_puts_have_exactly_one_winner(store: IdempotencyStore, clock: FakeClock) -> None:
    barrier = threading.Barrier(32)
    winners: list[int] = []
    losers: list[IdempotencyRecord | None] = []
    errors: list[BaseException] = []

    def race(i: int) -> None:
        record = replace(in_progress(clock.now), token=f"token-{i}")
        barrier.wait()
        try:
            store.put_in_progress(record, clock.now)
            winners.append(i)
        except IdempotencyRecordExistsError as exc:
            losers.append(exc.old_record)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(winners) == 1 and len(losers) == 31
    stored = store.get(KEY)
    assert stored is not None and stored.token == f"token-{winners[0]}"


# --- the guard over every store --------------------------------------------------------------------


def test_guard_flow_over_every_store(store: IdempotencyStore, clock: FakeClock) -> None:
    guard = IdempotencyGuard(store, IdempotencyConfig(), function_name="http_push", clock=clock, sleep=clock.sleep)
    calls: list[str] = []

    def push(token: str) -> dict[str, str]:
        calls.append(token)
        return {"MessageId": f"m-{len(calls)}", "RequestId": "r"}

    first = guard.run("order-42", scope="tenant-a", payload={"title": "hi"}, operation=push)
    again = guard.run("order-42", scope="tenant-a", payload={"title": "hi"}, operation=push)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.result == first.result == {"MessageId": "m-1", "RequestId": "r"}
    assert calls == [guard.idempotent_token("order-42", "tenant-a")] == [first.token] == [again.token]
    with pytest.raises(IdempotencyPayloadMismatchError):
        guard.run("order-42", scope="tenant-a", payload={"title": "changed"}, operation=push)
    clock.advance(86_401)
    assert guard.run("order-42", scope="tenant-a", payload={"title": "changed"}, operation=push).replayed is False
    assert len(calls) == 2 and calls[1] != calls[0]  # a new life of the key: a new token
    assert guard.idempotent_token("order-42", "tenant-a") == calls[1]


def test_guard_takeover_sends_the_stored_token_over_every_store(store: IdempotencyStore, clock: FakeClock) -> None:
    from pushfn.push.errors import AmbiguousResponseError

    config = IdempotencyConfig(in_progress_seconds_without_context=30, in_progress_margin_seconds=0)
    guard = IdempotencyGuard(store, config, function_name="queue_push", clock=clock)
    calls: list[str] = []

    def push(token: str) -> dict[str, str]:
        calls.append(token)
        if len(calls) == 1:
            raise AmbiguousResponseError("sent, no answer")
        return {"MessageId": "m-1"}

    with pytest.raises(AmbiguousResponseError):
        guard.run("msg-1#0", scope="sqs", payload={"title": "hi"}, operation=push)
    clock.advance(31)
    outcome = guard.run("msg-1#0", scope="sqs", payload={"title": "hi"}, operation=push)
    assert calls == [calls[0], calls[0]] == [outcome.token, outcome.token]
    stored = store.get(guard.scoped_key("msg-1#0", "sqs"))
    assert stored is not None and stored.status is RecordStatus.COMPLETED and stored.token == calls[0]


def test_guard_reports_live_in_progress_over_every_store(store: IdempotencyStore, clock: FakeClock) -> None:
    guard = IdempotencyGuard(store, IdempotencyConfig(), function_name="http_push", clock=clock)

    def nested(token: str) -> dict[str, str]:
        with pytest.raises(IdempotencyInProgressError) as busy:
            guard.run("order-7", operation=lambda t: {"never": "called"})
        assert busy.value.retry_after and busy.value.retry_after > 0
        return {"MessageId": "m-1"}

    assert guard.run("order-7", operation=nested).result == {"MessageId": "m-1"}


def test_the_longest_non_ascii_key_and_scope_work_on_every_store(store: IdempotencyStore, clock: FakeClock) -> None:
    # 255 four-byte characters: 1,020 UTF-8 bytes, beyond Tablestore's 1 KB primary key once scoped
    # (the FAKE client refuses it as the service does). Stored under its digest, it still dedupes.
    key, scope = "\U0001f600" * 255, "\u00e9" * 128
    guard = IdempotencyGuard(store, IdempotencyConfig(), function_name="http_push", clock=clock, sleep=clock.sleep)
    calls: list[str] = []

    def push(token: str) -> dict[str, str]:
        calls.append(token)
        return {"MessageId": f"m{len(calls)}"}

    first = guard.run(key, scope=scope, payload={"Title": "t"}, operation=push)
    again = guard.run(key, scope=scope, payload={"Title": "t"}, operation=push)
    assert calls == [first.token] and again.replayed and again.result == {"MessageId": "m1"}
    other = guard.run(key[:-1] + "x", scope=scope, payload={"Title": "t"}, operation=push)
    assert not other.replayed and len(calls) == 2
