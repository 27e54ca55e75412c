"""The guard's state machine over the memory store, with a fake clock (no sleeping, no network)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from pushfn.errors import PushfnError
from pushfn.idempotency import (
    IdempotencyConfig,
    IdempotencyError,
    IdempotencyGuard,
    IdempotencyInProgressError,
    IdempotencyKeyError,
    IdempotencyPayloadMismatchError,
    IdempotencyStoreError,
    RecordStatus,
)
from pushfn.idempotency.exceptions import IdempotencyInconsistentStateError, IdempotencyRecordExistsError
from pushfn.idempotency.record import IdempotencyRecord
from pushfn.idempotency.stores.memory import MemoryStore
from pushfn.push.errors import AmbiguousResponseError, ConnectError, InvalidRequestError, ServerError

if TYPE_CHECKING:
    from idempotency_support import FakeClock


class Pusher:
    """Stands in for ``client.push``: counts calls, records tokens, fails on demand."""

    def __init__(self, *failures: BaseException) -> None:
        self.tokens: list[str] = []
        self.failures = list(failures)

    def __call__(self, token: str) -> dict[str, str]:
        self.tokens.append(token)
        if self.failures:
            raise self.failures.pop(0)
        return {"MessageId": f"msg-{len(self.tokens)}", "RequestId": f"req-{len(self.tokens)}"}


class FlakyStore(MemoryStore):
    """A memory store whose ``save`` fails the first ``save_failures`` times, or whose verbs all fail."""

    def __init__(self, *, save_failures: int = 0, down: bool = False) -> None:
        super().__init__()
        self.save_failures = save_failures
        self.down = down
        self.saves = 0

    def _put_record(self, record: IdempotencyRecord, now: float) -> None:
        if self.down:
            raise ConnectionRefusedError("store unreachable")
        super()._put_record(record, now)

    def _update_record(self, record: IdempotencyRecord) -> None:
        self.saves += 1
        if self.saves <= self.save_failures:
            raise TimeoutError("write timed out")
        super()._update_record(record)

    def _delete_record(self, key: str) -> None:
        if self.down:
            raise ConnectionRefusedError("store unreachable")
        super()._delete_record(key)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def guard(store: MemoryStore, clock: FakeClock) -> IdempotencyGuard:
    config = IdempotencyConfig(in_progress_seconds_without_context=60, in_progress_margin_seconds=0)
    return IdempotencyGuard(store, config, function_name="http_push", clock=clock, sleep=clock.sleep)


# --- happy path and replay --------------------------------------------------------------------------


def test_first_call_pushes_once_with_the_stored_token(guard: IdempotencyGuard, store: MemoryStore) -> None:
    push = Pusher()
    outcome = guard.run("order-42", scope="tenant-a", payload={"title": "hi"}, operation=push)
    assert outcome.result == {"MessageId": "msg-1", "RequestId": "req-1"}
    assert (outcome.replayed, outcome.saved) == (False, True)
    assert push.tokens == [guard.idempotent_token("order-42", "tenant-a")] == [outcome.token]
    record = store.get("http_push#tenant-a#order-42")
    assert record is not None and record.status is RecordStatus.COMPLETED and record.result == outcome.result


def test_duplicate_replays_without_calling_the_service(guard: IdempotencyGuard) -> None:
    push = Pusher()
    first = guard.run("order-42", payload={"title": "hi"}, operation=push)
    for _ in range(3):
        again = guard.run("order-42", payload={"title": "hi"}, operation=push)
        assert again.replayed is True and again.result == first.result and again.token == first.token
    assert len(push.tokens) == 1


def test_record_expires_after_the_configured_lifetime(guard: IdempotencyGuard, clock: FakeClock) -> None:
    push = Pusher()
    guard.run("k", operation=push)
    clock.advance(86_400)
    assert guard.run("k", operation=push).replayed is True
    clock.advance(1)
    assert guard.run("k", operation=push).replayed is False
    assert len(push.tokens) == 2


def test_per_call_lifetime_override(guard: IdempotencyGuard, clock: FakeClock, store: MemoryStore) -> None:
    push = Pusher()
    guard.run("tick", operation=push, expires_after_seconds=300)
    record = store.get("http_push#-#tick")
    assert record is not None and record.expiry == int(clock.now) + 300
    clock.advance(301)
    assert guard.run("tick", operation=push).replayed is False


def test_completed_lifetime_counts_from_completion(store: MemoryStore, clock: FakeClock) -> None:
    guard = IdempotencyGuard(store, IdempotencyConfig(expires_after_seconds=100), function_name="f", clock=clock)

    def slow(token: str) -> dict[str, str]:
        clock.advance(40)
        return {"MessageId": "m"}

    guard.run("k", operation=slow)
    record = store.get("f#-#k")
    assert record is not None and record.expiry == int(clock.now) + 100


# --- conflicts ----------------------------------------------------------------------------------------


def test_live_in_progress_key_raises_in_progress(guard: IdempotencyGuard, clock: FakeClock) -> None:
    seen: list[IdempotencyInProgressError] = []

    def push(token: str) -> dict[str, str]:
        clock.advance(20)
        with pytest.raises(IdempotencyInProgressError) as busy:
            guard.run("k", operation=Pusher())
        seen.append(busy.value)
        return {"MessageId": "m"}

    guard.run("k", operation=push)
    assert seen and seen[0].retry_after == pytest.approx(40)
    assert isinstance(seen[0], PushfnError) and isinstance(seen[0], IdempotencyError)


def test_payload_mismatch_on_completed_and_in_progress(guard: IdempotencyGuard, clock: FakeClock) -> None:
    push = Pusher()
    guard.run("k", payload={"title": "a"}, operation=push)
    with pytest.raises(IdempotencyPayloadMismatchError):
        guard.run("k", payload={"title": "b"}, operation=push)

    def nested(token: str) -> dict[str, str]:
        with pytest.raises(IdempotencyPayloadMismatchError):
            guard.run("other", payload={"title": "b"}, operation=push)
        return {"MessageId": "m"}

    guard.run("other", payload={"title": "a"}, operation=nested)
    assert len(push.tokens) == 1


def test_payload_key_order_does_not_matter(guard: IdempotencyGuard) -> None:
    push = Pusher()
    guard.run("k", payload={"a": 1, "b": [1, {"c": 2, "d": 3}]}, operation=push)
    assert guard.run("k", payload={"b": [1, {"d": 3, "c": 2}], "a": 1}, operation=push).replayed


def test_hash_covers_only_the_declared_fields(store: MemoryStore, clock: FakeClock) -> None:
    config = IdempotencyConfig(payload_fields=("body.title", "body.target"))
    guard = IdempotencyGuard(store, config, function_name="http_push", clock=clock)
    push = Pusher()
    guard.run("k", payload={"body": {"title": "t", "target": "x"}, "headers": {"date": "1"}}, operation=push)
    replay = guard.run("k", payload={"body": {"title": "t", "target": "x"}, "headers": {"date": "2"}}, operation=push)
    assert replay.replayed
    with pytest.raises(IdempotencyPayloadMismatchError):
        guard.run("k", payload={"body": {"title": "t", "target": "y"}}, operation=push)


def test_pydantic_and_dataclass_payloads_hash_like_their_json(guard: IdempotencyGuard) -> None:
    from pydantic import BaseModel

    class Body(BaseModel):
        title: str

    @dataclass
    class Same:
        title: str

    push = Pusher()
    guard.run("k", payload=Body(title="t"), operation=push)
    assert guard.run("k", payload=Same(title="t"), operation=push).replayed
    assert guard.run("k", payload={"title": "t"}, operation=push).replayed


# --- failures of the push -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        InvalidRequestError([], "Push"),
        ConnectError("connection refused"),
        ValueError("bug before sending"),
    ],
)
def test_definite_failure_deletes_the_record(guard: IdempotencyGuard, store: MemoryStore, failure: Exception) -> None:
    push = Pusher(failure)
    with pytest.raises(type(failure)) as raised:
        guard.run("k", operation=push)
    assert raised.value is failure
    assert store.get("http_push#-#k") is None
    assert guard.run("k", operation=push).result["MessageId"] == "msg-2"  # a corrected retry runs


def test_definite_failure_allows_a_corrected_payload(guard: IdempotencyGuard) -> None:
    push = Pusher(InvalidRequestError([], "Push"))
    with pytest.raises(InvalidRequestError):
        guard.run("k", payload={"title": ""}, operation=push)
    assert guard.run("k", payload={"title": "fixed"}, operation=push).replayed is False


@pytest.mark.parametrize(
    "failure",
    [
        AmbiguousResponseError("read timed out after sending"),
        ServerError("InternalError", "boom", http_status=500, retryable=True, maybe_sent=True),
    ],
)
def test_ambiguous_failure_keeps_the_record_and_the_retry_reuses_the_token(
    guard: IdempotencyGuard, store: MemoryStore, clock: FakeClock, failure: Exception
) -> None:
    push = Pusher(failure)
    with pytest.raises(type(failure)):
        guard.run("k", operation=push)
    record = store.get("http_push#-#k")
    assert record is not None and record.status is RecordStatus.IN_PROGRESS
    with pytest.raises(IdempotencyInProgressError):
        guard.run("k", operation=push)  # the first attempt may still be reaching the service
    clock.advance(61)
    outcome = guard.run("k", operation=push)
    assert outcome.replayed is False
    assert push.tokens[0] == push.tokens[1] == outcome.token


def test_interrupt_keeps_the_record(guard: IdempotencyGuard, store: MemoryStore) -> None:
    with pytest.raises(KeyboardInterrupt):
        guard.run("k", operation=Pusher(KeyboardInterrupt()))
    record = store.get("http_push#-#k")
    assert record is not None and record.status is RecordStatus.IN_PROGRESS


def test_failed_delete_still_raises_the_original_error(clock: FakeClock) -> None:
    store = FlakyStore()
    guard = IdempotencyGuard(store, function_name="f", clock=clock)
    failure = InvalidRequestError([], "Push")

    def push(token: str) -> dict[str, str]:
        store.down = True
        raise failure

    with pytest.raises(InvalidRequestError) as raised:
        guard.run("k", operation=push)
    assert raised.value is failure


# --- saving COMPLETED ---------------------------------------------------------------------------------


def test_save_is_retried_and_the_push_is_not_repeated(clock: FakeClock) -> None:
    store = FlakyStore(save_failures=2)
    guard = IdempotencyGuard(
        store, IdempotencyConfig(save_attempts=4), function_name="f", clock=clock, sleep=clock.sleep
    )
    push = Pusher()
    outcome = guard.run("k", operation=push)
    assert outcome.saved is True and len(push.tokens) == 1 and store.saves == 3
    assert clock.sleeps == [0.05, 0.1]
    assert guard.run("k", operation=push).replayed is True


def test_save_that_never_succeeds_returns_the_result_anyway(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore(save_failures=100)
    config = IdempotencyConfig(save_attempts=3, in_progress_seconds_without_context=60, in_progress_margin_seconds=0)
    guard = IdempotencyGuard(store, config, function_name="f", clock=clock, sleep=clock.sleep)
    push = Pusher()
    outcome = guard.run("secret-order-0001", operation=push)
    assert outcome.result == {"MessageId": "msg-1", "RequestId": "req-1"}
    assert outcome.saved is False and len(push.tokens) == 1 and store.saves == 3
    assert "secret-order-0001" not in caplog.text and "COMPLETED could not be saved" in caplog.text
    # The record stays IN_PROGRESS: a duplicate now is refused, not pushed.
    with pytest.raises(IdempotencyInProgressError):
        guard.run("secret-order-0001", operation=push)
    # After the in-progress expiry a retry runs again with the SAME token (CloudPush dedupes it for 15 min).
    store.save_failures = 0
    clock.advance(61)
    assert guard.run("secret-order-0001", operation=push).token == push.tokens[0] == push.tokens[1]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (SimpleNamespace(to_dict=lambda: {"MessageId": "m"}), {"MessageId": "m"}),
        ("plain", {"value": "plain"}),
        (None, {"value": None}),
        ({"when": __import__("datetime").date(2026, 1, 2)}, {"when": "2026-01-02"}),
    ],
)
def test_results_are_stored_as_json_objects(guard: IdempotencyGuard, raw: Any, stored: dict[str, Any]) -> None:
    fresh = guard.run("k", operation=lambda token: raw)
    assert fresh.result == stored
    assert guard.run("k", operation=lambda token: raw).result == stored


# --- keys and scopes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "scope"),
    [
        ("", "-"),
        ("   ", "-"),
        ("x" * 256, "-"),
        ("line\nbreak", "-"),
        ("nul\x00", "-"),
        (42, "-"),
        ("ok", ""),
        ("ok", "has#hash"),
        ("ok", "y" * 129),
    ],
)
def test_bad_keys_are_refused_before_any_lookup(clock: FakeClock, key: Any, scope: str) -> None:
    store = FlakyStore(down=True)  # any lookup would raise a store error instead
    guard = IdempotencyGuard(store, function_name="f", clock=clock)
    push = Pusher()
    with pytest.raises(IdempotencyKeyError):
        guard.run(key, scope=scope, operation=push)
    assert push.tokens == []


def test_longest_valid_key_and_hash_inside_keys(guard: IdempotencyGuard) -> None:
    assert guard.run("k" * 255, operation=Pusher()).replayed is False
    assert guard.run("bucket/a#b#c/etag#chunk-3", operation=Pusher()).replayed is False


def test_bad_function_name_is_refused() -> None:
    with pytest.raises(IdempotencyKeyError):
        IdempotencyGuard(MemoryStore(), function_name="a#b")


def test_keys_are_scoped_per_caller_and_per_function(store: MemoryStore, clock: FakeClock) -> None:
    http = IdempotencyGuard(store, function_name="http_push", clock=clock)
    queue = IdempotencyGuard(store, function_name="queue_push", clock=clock)
    push = Pusher()
    http.run("k", scope="tenant-a", payload={"n": 1}, operation=push)
    assert http.run("k", scope="tenant-b", payload={"n": 2}, operation=push).replayed is False
    assert queue.run("k", scope="tenant-a", payload={"n": 3}, operation=push).replayed is False
    assert len(set(push.tokens)) == 3


# --- the IdempotentToken: fresh for every new push, the stored one for a takeover ----------------------


def _is_uuid4(token: str) -> bool:
    import uuid

    return len(token) == 36 and uuid.UUID(token).version == 4


def test_every_new_record_gets_a_fresh_random_token(guard: IdempotencyGuard, clock: FakeClock) -> None:
    """Issue 13 item 3: a token derived from the key made CloudPush drop every repeat the guard let
    through (it de-duplicates a token for 15 minutes). Replaces the old test that pinned a uuid5."""
    push = Pusher()
    first = guard.run("k", payload={"n": 1}, operation=push, expires_after_seconds=30)
    assert _is_uuid4(first.token) and guard.idempotent_token("k") == first.token
    assert guard.run("k", payload={"n": 1}, operation=push).token == first.token  # replay: the stored token
    clock.advance(31)  # expired by TTL: a new push is due, so a new token
    second = guard.run("k", payload={"n": 2}, operation=push, expires_after_seconds=30)
    assert second.replayed is False and second.token != first.token
    assert push.tokens == [first.token, second.token]
    assert guard.idempotent_token("k") == second.token
    assert guard.idempotent_token("never-used") is None


@pytest.mark.parametrize("failure", [InvalidRequestError([], "Push"), ConnectError("refused"), ValueError("bug")])
def test_a_retry_after_a_definite_failure_gets_a_fresh_token(guard: IdempotencyGuard, failure: Exception) -> None:
    push = Pusher(failure)
    with pytest.raises(type(failure)):
        guard.run("k", operation=push)
    outcome = guard.run("k", operation=push)
    assert push.tokens[0] != push.tokens[1] == outcome.token


@pytest.mark.parametrize(
    ("function_name", "scope", "key"),
    [("http_push", "tenant-a", "request-sha256:" + "ab" * 32), ("queue_push", "sqs", "msg-1#0"),
     ("scheduled_push", "schedule", "t#2027-01-15T08:00:00Z")],
)  # fmt: skip
def test_tokens_differ_between_keys_functions_and_lives(
    store: MemoryStore, clock: FakeClock, function_name: str, scope: str, key: str
) -> None:
    guard = IdempotencyGuard(store, function_name=function_name, clock=clock)
    push = Pusher()
    lives = []
    for _ in range(3):
        lives.append(guard.run(key, scope=scope, operation=push, expires_after_seconds=60).token)
        clock.advance(61)
    assert len(set(lives)) == 3 and all(_is_uuid4(t) for t in lives)


def test_in_progress_lock_outlives_a_lifetime_shorter_than_its_window(
    guard: IdempotencyGuard, store: MemoryStore, clock: FakeClock
) -> None:
    """A 1 s dedupe window must not turn an ambiguous retry into a second push under a fresh token."""
    push = Pusher(AmbiguousResponseError("no answer"))
    with pytest.raises(AmbiguousResponseError):
        guard.run("k", operation=push, expires_after_seconds=1)
    clock.advance(5)  # lifetime long over, in-progress window (60 s) not
    with pytest.raises(IdempotencyInProgressError):
        guard.run("k", operation=push, expires_after_seconds=1)
    clock.advance(56)  # window over: the takeover resends under the stored token
    assert guard.run("k", operation=push, expires_after_seconds=1).token == push.tokens[0]
    assert len(push.tokens) == 2


class SwappingStore(MemoryStore):
    """Between the guard's read of a stale record and its takeover put, another worker replaces the
    record (its own life, its own token) and crashes too."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.swapped = False

    def _put_record(self, record: IdempotencyRecord, now: float) -> None:
        old = self._records.get(record.key)
        if not self.swapped and old is not None and old.token == record.token:
            self.swapped = True
            self._records[record.key] = replace(old, token="0f0f0f0f-0000-4000-8000-000000000002")
        super()._put_record(record, now)


def test_takeover_is_conditional_on_the_token_it_read(clock: FakeClock) -> None:
    store = SwappingStore(clock)
    config = IdempotencyConfig(in_progress_seconds_without_context=60, in_progress_margin_seconds=0)
    guard = IdempotencyGuard(store, config, function_name="f", clock=clock)
    push = Pusher(AmbiguousResponseError("no answer"))
    with pytest.raises(AmbiguousResponseError):
        guard.run("k", operation=push)
    clock.advance(61)
    outcome = guard.run("k", operation=push)
    # The takeover put with the token read first lost; the guard read again and took over the record
    # that was really there, with ITS token: never a token other than the stored one.
    assert store.swapped and push.tokens[1] == outcome.token == "0f0f0f0f-0000-4000-8000-000000000002"


class RetriedPutStore(MemoryStore):
    """The put lands, its answer is lost, the driver retries it and that retry loses to the first."""

    def _put_record(self, record: IdempotencyRecord, now: float) -> None:
        super()._put_record(record, now)
        raise IdempotencyRecordExistsError(record)


def test_a_put_retried_by_the_driver_is_recognised_as_our_own(clock: FakeClock) -> None:
    guard = IdempotencyGuard(RetriedPutStore(), function_name="f", clock=clock)
    push = Pusher()
    assert guard.run("k", operation=push).replayed is False and len(push.tokens) == 1


# --- corrupt records: a store problem (HTTP 503), never a TypeError or a second push ---------------------


@pytest.mark.parametrize("result", [None, [1, 2], "text", 42])
def test_completed_record_without_a_result_object_is_a_store_error(
    store: MemoryStore, clock: FakeClock, result: Any
) -> None:
    from pushfn.idempotency.exceptions import IdempotencyCorruptRecordError

    guard = IdempotencyGuard(store, function_name="f", clock=clock)
    push = Pusher()
    guard.run("k", operation=push)
    scoped = guard.scoped_key("k")
    store._records[scoped] = replace(store._records[scoped], result=result)
    with pytest.raises(IdempotencyCorruptRecordError) as info:
        guard.run("k", operation=push)
    assert isinstance(info.value, IdempotencyStoreError) and "no result object" in str(info.value)
    assert len(push.tokens) == 1


@pytest.mark.parametrize("token", ["", "not-a-uuid", "868f2620c9b156f29c13d3a725efd3d3x"])
def test_stale_record_without_a_usable_token_is_a_store_error(store: MemoryStore, clock: FakeClock, token: str) -> None:
    from pushfn.idempotency.exceptions import IdempotencyCorruptRecordError

    guard = IdempotencyGuard(store, function_name="f", clock=clock)
    push = Pusher(AmbiguousResponseError("no answer"))
    with pytest.raises(AmbiguousResponseError):
        guard.run("k", operation=push)
    scoped = guard.scoped_key("k")
    store._records[scoped] = replace(store._records[scoped], token=token)
    clock.advance(600)
    with pytest.raises(IdempotencyCorruptRecordError):
        guard.run("k", operation=push)
    assert len(push.tokens) == 1


# --- store trouble --------------------------------------------------------------------------------------


def test_store_down_is_a_clear_error_and_nothing_is_pushed(clock: FakeClock) -> None:
    guard = IdempotencyGuard(FlakyStore(down=True), function_name="f", clock=clock)
    push = Pusher()
    with pytest.raises(IdempotencyStoreError, match="memory:// failed to put: ConnectionRefusedError"):
        guard.run("k", operation=push)
    assert push.tokens == []


class VanishingStore(MemoryStore):
    """Every put loses, and the winner is never found: the state keeps changing."""

    def _put_record(self, record: IdempotencyRecord, now: float) -> None:
        raise IdempotencyRecordExistsError(None)

    def _get_record(self, key: str) -> IdempotencyRecord | None:
        return None


def test_inconsistent_state_is_retried_a_bounded_number_of_times(clock: FakeClock) -> None:
    store = VanishingStore()
    guard = IdempotencyGuard(store, IdempotencyConfig(max_inconsistent_retries=2), function_name="f", clock=clock)
    push = Pusher()
    with pytest.raises(IdempotencyInconsistentStateError):
        guard.run("k", operation=push)
    assert push.tokens == []


# --- in-progress window from the platform context -------------------------------------------------------


def test_in_progress_window_from_lambda_remaining_time() -> None:
    config = IdempotencyConfig(in_progress_margin_seconds=5)
    lambda_context = SimpleNamespace(get_remaining_time_in_millis=lambda: 12_345)
    assert config.in_progress_window_ms(lambda_context) == 17_345
    assert config.in_progress_window_ms(SimpleNamespace(get_remaining_time_in_millis=lambda: 0)) == 5_000


def test_in_progress_window_from_fc_function_timeout() -> None:
    config = IdempotencyConfig(in_progress_margin_seconds=5)
    fc_context = SimpleNamespace(function=SimpleNamespace(name="http_push", timeout=60), request_id="r")
    assert config.in_progress_window_ms(fc_context) == 65_000


def test_in_progress_window_without_context() -> None:
    config = IdempotencyConfig(in_progress_seconds_without_context=30, in_progress_margin_seconds=1)
    assert config.in_progress_window_ms(None) == 31_000
    assert config.in_progress_window_ms(SimpleNamespace(function=SimpleNamespace(timeout=None))) == 31_000


def test_guard_uses_the_context_window(store: MemoryStore, clock: FakeClock) -> None:
    guard = IdempotencyGuard(store, IdempotencyConfig(in_progress_margin_seconds=2), function_name="f", clock=clock)
    fc_context = SimpleNamespace(function=SimpleNamespace(timeout=10))
    with pytest.raises(AmbiguousResponseError):
        guard.run("k", operation=Pusher(AmbiguousResponseError("timeout")), context=fc_context)
    record = store.get("f#-#k")
    assert record is not None and record.in_progress_expiry == int(clock.now * 1000) + 12_000


@pytest.mark.parametrize(
    "kwargs",
    [
        {"expires_after_seconds": 0},
        {"in_progress_seconds_without_context": 0},
        {"save_attempts": 0},
        {"max_inconsistent_retries": -1},
    ],
)
def test_config_rejects_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        IdempotencyConfig(**kwargs)
