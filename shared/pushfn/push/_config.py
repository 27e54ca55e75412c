"""Value objects that configure the client: timeouts and the retry policy.

Passing one ``Timeout`` or ``Retry`` instead of loose keyword arguments keeps the client's
signature small and lets a caller share one policy across clients.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Timeout:
    """Seconds to wait for a connection and for the answer (the official SDKs use 5 s / 10 s)."""

    connect: float = 5.0
    read: float = 10.0

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0:
            raise ValueError("timeouts must be positive")

    def as_tuple(self) -> tuple[float, float]:
        """``(connect, read)`` in seconds, the shape ``requests`` takes as ``timeout``."""
        return (self.connect, self.read)


@dataclass(frozen=True)
class Retry:
    """Exponential backoff with full jitter, applied only where a retry is safe.

    ``max_attempts`` counts the first try. Throttling waits on a larger base than other failures,
    because another immediate call would only be throttled again.
    """

    max_attempts: int = 4
    backoff: float = 0.2
    throttle_backoff: float = 1.0
    max_backoff: float = 10.0
    jitter: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff < 0 or self.throttle_backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoff values must not be negative")

    def delay(self, attempt: int, *, throttled: bool = False, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``attempt`` is 1 for the first retry)."""
        base = self.throttle_backoff if throttled else self.backoff
        ceiling = min(self.max_backoff, base * (2 ** (attempt - 1)))
        wait = random.uniform(0, ceiling) if self.jitter else ceiling
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_backoff))
        return wait


NO_RETRY = Retry(max_attempts=1)
