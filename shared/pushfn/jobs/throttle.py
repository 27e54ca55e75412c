"""A client-side rate limit for the file function: CloudPush's quotas per action, and one shared pause on throttling.

The quotas (per account, so one limiter per process, shared by every file and worker thread):

- ``Push``: 1,000,000 targets per 60 s (:data:`PUSH_QUOTA`; a call costs its number of targets);
- ``MassPush``: 500 calls per second (:data:`MASS_PUSH_QUOTA`; a call costs 1).

Each action has a **sliding window** (the costs granted in the last ``window`` seconds), not a token
bucket: a token bucket of capacity ``C`` and rate ``R`` keeps every 60 s window under the quota only
if ``C + 60·R ≤ 1,000,000``, so a file of a million targets would take at least 60 s even on an idle
account, while the quota itself allows it at once. The window grants exactly what the quota allows
(one entry per call granted in the window: 500 at most for MassPush, and for Push as many calls as
went out in the last 60 s — 1,000 when every call carries 1,000 targets).

**Throttling** (``Throttling.*``, which the client already retries): :meth:`RateLimiter.throttled`
pauses *every* worker until a shared moment (the client's throttle backoff — 1 s by default — doubling
per throttle in a row up to its ``max_backoff``, 10 s; or the service's ``x-acs-retry-after`` when
longer), so eight workers do not each hammer the service on their
own schedule. :meth:`RateLimiter.retry` gives the client a :class:`~pushfn.push.Retry` whose throttle
wait *is* that shared pause, so the client's own retries join it.

**Deadline**: ``acquire(..., stop_at=T)`` never sleeps past ``T`` (the run's stop time, on the
limiter's clock): when the wait it needs would end after ``T`` it raises :class:`RateWaitTooLongError`
at once, without sleeping or taking any quota, and the file function stops between chunks and hands
the rest on, as when it nears its timeout.

The limiter is local to one process: several instances of the function running at once are not
coordinated (the service's throttling, and the pause it triggers, remains the backstop).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pushfn.jobs.errors import JobError
from pushfn.push import Retry

if TYPE_CHECKING:
    from pushfn.push import PushSender


@dataclass(frozen=True, slots=True)
class Quota:
    """At most ``limit`` units (targets or calls) in any ``window`` seconds."""

    limit: int
    window: float


#: Push: 1,000,000 targets per 60 s.
PUSH_QUOTA = Quota(1_000_000, 60.0)
#: MassPush: 500 calls per second per account.
MASS_PUSH_QUOTA = Quota(500, 1.0)
#: The quotas the file function sends under, by action.
QUOTAS: Mapping[str, Quota] = {"Push": PUSH_QUOTA, "MassPush": MASS_PUSH_QUOTA}
#: First shared pause after a throttle, and its ceiling (it doubles per throttle in a row).
THROTTLE_PAUSE = 1.0
MAX_THROTTLE_PAUSE = 10.0


class RateWaitTooLongError(JobError):
    """The wait for ``action``'s quota (or a throttle pause) would end after the run's stop time:
    ``wait`` seconds were needed, ``left`` remained (both on the limiter's clock). Nothing was taken."""

    def __init__(self, action: str, wait: float, left: float) -> None:
        self.action, self.wait, self.left = action, wait, left
        super().__init__(
            f"the rate limit for {action} asks for a {wait:.1f} s wait, but only {max(left, 0.0):.1f} s "
            "remain before the run must stop"
        )


class RateLimiter:
    """Sliding windows per action plus one shared throttle pause; safe to use from many threads.

    ``clock`` (monotonic seconds) and ``sleep`` are injectable: a test passes a fake clock whose sleep
    moves it, and nothing really waits."""

    def __init__(
        self,
        quotas: Mapping[str, Quota] = QUOTAS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        pause: float = THROTTLE_PAUSE,
        max_pause: float = MAX_THROTTLE_PAUSE,
    ) -> None:
        self.quotas = dict(quotas)
        self._clock, self._sleep = clock, sleep
        self._pause, self._max_pause = pause, max_pause
        self._lock = threading.Lock()
        self._granted: dict[str, deque[tuple[float, int]]] = {action: deque() for action in self.quotas}
        self._used: dict[str, int] = dict.fromkeys(self.quotas, 0)
        self._paused_until = float("-inf")
        self._streak = 0

    def acquire(self, action: str, cost: int = 1, *, stop_at: float | None = None) -> float:
        """Wait until ``action`` may be called for ``cost`` units, and take them; the seconds waited.

        An action without a quota waits only for a throttle pause. Raises ValueError for a cost larger
        than the whole quota (it could never be granted), and :class:`RateWaitTooLongError` when a wait
        would end after ``stop_at`` (a value of the limiter's clock; None: no limit)."""
        quota = self.quotas.get(action)
        if quota is not None and not 0 <= cost <= quota.limit:
            raise ValueError(f"a {action} call of {cost} exceeds the whole quota of {quota.limit} per {quota.window} s")
        waited = 0.0
        while True:
            with self._lock:
                wait = self._wait(action, quota, cost)
                if wait <= 0:
                    if quota is not None:
                        self._granted[action].append((self._clock(), cost))
                        self._used[action] += cost
                    return waited
                if stop_at is not None and self._clock() + wait > stop_at:
                    raise RateWaitTooLongError(action, wait, stop_at - self._clock())
            self._sleep(wait)
            waited += wait

    def _wait(self, action: str, quota: Quota | None, cost: int) -> float:
        """Seconds until ``cost`` fits (0: now). Called with the lock held."""
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        if quota is None:
            return 0.0
        granted = self._granted[action]
        while granted and granted[0][0] + quota.window <= now:  # the same sum as the wait below
            self._used[action] -= granted.popleft()[1]
        excess = self._used[action] + cost - quota.limit
        if excess <= 0:
            return 0.0
        for at, units in granted:  # the moment enough of the oldest grants have left the window
            excess -= units
            if excess <= 0:  # > 0 (else purged above); at least a microsecond, so a clock always gets there
                return max(at + quota.window - now, 1e-6)
        return quota.window  # not reached: cost <= limit

    def throttled(
        self, retry_after: float | None = None, *, base: float | None = None, ceiling: float | None = None
    ) -> float:
        """The service throttled a call: pause every worker; the seconds from now until the pause ends.

        The pause doubles per throttle in a row, from ``base`` up to ``ceiling`` (the client's
        ``Retry.throttle_backoff`` and ``max_backoff`` when given, else this limiter's ``pause`` and
        ``max_pause``), and is ``retry_after`` when the service named a longer one (but no longer than
        ``ceiling``: the client gives up on longer waits, and the platform's retry of the file waits
        instead). A throttle during a pause extends it no further than its own length from now."""
        start = self._pause if base is None else base
        top = self._max_pause if ceiling is None else ceiling
        with self._lock:
            now = self._clock()
            # The exponent is capped: past ~1,024 throttles in a row 2**streak no longer converts to a float.
            length = min(top, start * (2.0 ** min(self._streak, 64)))
            if retry_after is not None and retry_after > length:
                length = min(max(top, length), retry_after)
            self._streak += 1
            self._paused_until = max(self._paused_until, now + length)
            return self._paused_until - now

    def succeeded(self) -> None:
        """A call went through: the next throttle starts again from the shortest pause."""
        with self._lock:
            self._streak = 0

    def retry(self, base: Retry) -> Retry:
        """``base`` with its throttle wait replaced by this limiter's shared pause (for the client's own retries)."""
        return SharedPauseRetry(self, base)

    @property
    def paused_until(self) -> float:
        """The clock value until which every worker waits (``-inf`` when never throttled)."""
        return self._paused_until


class SharedPauseRetry(Retry):
    """A :class:`~pushfn.push.Retry` whose wait after a throttle is the :class:`RateLimiter`'s shared
    pause (which it extends); every other wait is ``base``'s."""

    __slots__ = ("limiter",)
    limiter: RateLimiter

    def __init__(self, limiter: RateLimiter, base: Retry) -> None:
        super().__init__(
            max_attempts=base.max_attempts,
            backoff=base.backoff,
            throttle_backoff=base.throttle_backoff,
            max_backoff=base.max_backoff,
            jitter=base.jitter,
            sleep=base.sleep,
        )
        object.__setattr__(self, "limiter", limiter)

    def delay(self, attempt: int, *, throttled: bool = False, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 1``: the shared pause after a throttle, else ``base``'s backoff."""
        if throttled:
            return self.limiter.throttled(retry_after, base=self.throttle_backoff, ceiling=self.max_backoff)
        return super().delay(attempt, throttled=throttled, retry_after=retry_after)


def limited_client(client: PushSender, limiter: RateLimiter) -> PushSender:
    """``client`` for the file function's workers: a shallow copy of a
    :class:`~pushfn.push.PushClient` (same transport and credentials) whose retries join the shared
    throttle pause. Any other sender (a test's wrapper) is returned as it is."""
    import copy

    from pushfn.push import PushClient

    if not isinstance(client, PushClient) or isinstance(client.retry, SharedPauseRetry):
        return client
    limited = copy.copy(client)
    limited.retry = limiter.retry(client.retry)
    return limited


_shared: RateLimiter | None = None
_shared_lock = threading.Lock()


def shared_limiter() -> RateLimiter:
    """The process's limiter (the quotas are per account, so every file of a warm instance shares it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RateLimiter()
        return _shared


__all__ = [
    "MASS_PUSH_QUOTA",
    "PUSH_QUOTA",
    "QUOTAS",
    "Quota",
    "RateLimiter",
    "RateWaitTooLongError",
    "SharedPauseRetry",
    "limited_client",
    "shared_limiter",
]
