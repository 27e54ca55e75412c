"""The file function's rate limiter with an injected clock: its sleep moves the clock, nothing really waits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushfn.jobs.throttle import MASS_PUSH_QUOTA, PUSH_QUOTA, Quota, RateLimiter, SharedPauseRetry, limited_client
from pushfn.push import PushClient, Retry


class FakeTime:
    """A clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(time: FakeTime, **kwargs: object) -> RateLimiter:
    return RateLimiter(clock=time.clock, sleep=time.sleep, **kwargs)  # type: ignore[arg-type]


def test_mass_push_takes_500_calls_a_second_then_waits_for_the_window() -> None:
    time = FakeTime()
    limits = limiter(time)
    assert all(limits.acquire("MassPush") == 0 for _ in range(MASS_PUSH_QUOTA.limit))
    assert limits.acquire("MassPush") == pytest.approx(1.0)
    assert time.now == pytest.approx(1.0)


def test_push_counts_targets_a_million_per_minute() -> None:
    time = FakeTime()
    limits = limiter(time)
    for _ in range(1000):
        assert limits.acquire("Push", 1000) == 0
    assert limits.acquire("Push", 1) == pytest.approx(PUSH_QUOTA.window)


def test_the_wait_ends_when_enough_of_the_oldest_grants_left_the_window() -> None:
    time = FakeTime()
    limits = limiter(time)
    limits.acquire("Push", 600_000)
    time.now = 30.0
    limits.acquire("Push", 400_000)
    time.now = 40.0
    assert limits.acquire("Push", 300_000) == pytest.approx(20.0)  # at 60 the 600,000 of t=0 expire
    assert time.now == pytest.approx(60.0)


def test_a_call_larger_than_the_quota_is_refused_and_other_actions_pass() -> None:
    limits = limiter(FakeTime())
    with pytest.raises(ValueError, match="exceeds the whole quota"):
        limits.acquire("Push", 1_000_001)
    assert all(limits.acquire("ContinuouslyPush") == 0 for _ in range(10_000))


def test_a_throttle_pauses_every_caller_and_doubles_until_a_success() -> None:
    time = FakeTime()
    limits = limiter(time, pause=1.0, max_pause=5.0)
    assert limits.throttled() == pytest.approx(1.0)
    assert limits.acquire("MassPush") == pytest.approx(1.0)  # any action, any worker, waits for the pause
    assert limits.acquire("ContinuouslyPush") == 0
    assert [limits.throttled() for _ in range(3)] == pytest.approx([2.0, 4.0, 5.0])
    time.now += 10
    limits.succeeded()
    assert limits.throttled() == pytest.approx(1.0)


def test_retry_after_is_honoured_up_to_the_ceiling() -> None:
    time = FakeTime()
    limits = limiter(time)
    assert limits.throttled(3.0, base=0.5, ceiling=10.0) == pytest.approx(3.0)
    time.now += 5
    assert limits.throttled(120.0, base=0.5, ceiling=10.0) == pytest.approx(10.0)


def test_the_clients_throttle_wait_is_the_shared_pause() -> None:
    time = FakeTime()
    limits = limiter(time)
    base = Retry(max_attempts=3, backoff=0.01, throttle_backoff=0.5, max_backoff=4.0, jitter=False)
    shared = limits.retry(base)
    assert isinstance(shared, SharedPauseRetry) and shared.max_attempts == 3
    assert shared.delay(1, throttled=True) == pytest.approx(0.5)
    assert limits.paused_until == pytest.approx(0.5)
    assert shared.delay(2, throttled=True) == pytest.approx(1.0)  # the second throttle in a row
    assert shared.delay(2) == pytest.approx(0.02)  # not throttling: the base backoff, no pause
    assert limits.paused_until == pytest.approx(1.0)


def test_limited_client_is_a_copy_and_leaves_other_senders_alone(emulator: object) -> None:
    from tests.conftest import make_client

    client = make_client(emulator)
    try:
        limits = RateLimiter()
        limited = limited_client(client, limits)
        assert isinstance(limited, PushClient) and limited is not client
        assert isinstance(limited.retry, SharedPauseRetry) and not isinstance(client.retry, SharedPauseRetry)
        assert limited_client(limited, limits) is limited
        wrapper = object()
        assert limited_client(wrapper, limits) is wrapper
    finally:
        client.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.floats(0, 3, allow_nan=False)), min_size=1, max_size=120))
def test_no_window_ever_holds_more_than_the_quota(steps: list[tuple[int, float]]) -> None:
    time = FakeTime()
    quota = Quota(100, 2.0)
    limits = limiter(time, quotas={"Push": quota})
    grants: list[tuple[float, int]] = []
    for cost, gap in steps:
        time.now += gap
        limits.acquire("Push", cost)
        grants.append((time.now, cost))
    for at, _ in grants:
        assert sum(c for t, c in grants if t <= at < t + quota.window) <= quota.limit
