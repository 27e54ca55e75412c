"""Value objects that configure the client: timeouts and the retry policy.

Passing one ``Timeout`` or ``Retry`` instead of loose keyword arguments keeps the client's
signature small and lets a caller share one policy across clients.

Plain immutable classes rather than dataclasses: this module is on every function's cold-start path,
and ``dataclasses`` pulls in ``inspect`` (~10 ms); ``random`` is imported only when jitter is drawn.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class _Frozen:
    """Immutable value object: equal, hashed and shown by the fields named in ``_fields``."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"


class Timeout(_Frozen):
    """Seconds to wait for a connection and for the answer (the official SDKs use 5 s / 10 s)."""

    __slots__ = ("connect", "read")
    _fields = ("connect", "read")
    connect: float
    read: float

    def __init__(self, connect: float = 5.0, read: float = 10.0) -> None:
        if connect <= 0 or read <= 0:
            raise ValueError("timeouts must be positive")
        object.__setattr__(self, "connect", connect)
        object.__setattr__(self, "read", read)

    def as_tuple(self) -> tuple[float, float]:
        """``(connect, read)`` in seconds, the shape ``requests`` takes as ``timeout``."""
        return (self.connect, self.read)


class Retry(_Frozen):
    """Exponential backoff with full jitter, applied only where a retry is safe.

    ``max_attempts`` counts the first try. Throttling waits on a larger base than other failures,
    because another immediate call would only be throttled again. ``sleep`` (default ``time.sleep``)
    is neither compared nor shown.
    """

    __slots__ = ("backoff", "jitter", "max_attempts", "max_backoff", "sleep", "throttle_backoff")
    _fields = ("max_attempts", "backoff", "throttle_backoff", "max_backoff", "jitter")
    max_attempts: int
    backoff: float
    throttle_backoff: float
    max_backoff: float
    jitter: bool
    sleep: Callable[[float], None]

    def __init__(
        self,
        max_attempts: int = 4,
        backoff: float = 0.2,
        throttle_backoff: float = 1.0,
        max_backoff: float = 10.0,
        jitter: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if backoff < 0 or throttle_backoff < 0 or max_backoff < 0:
            raise ValueError("backoff values must not be negative")
        for name, value in (
            ("max_attempts", max_attempts),
            ("backoff", backoff),
            ("throttle_backoff", throttle_backoff),
            ("max_backoff", max_backoff),
            ("jitter", jitter),
            ("sleep", sleep),
        ):
            object.__setattr__(self, name, value)

    def delay(self, attempt: int, *, throttled: bool = False, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``attempt`` is 1 for the first retry)."""
        base = self.throttle_backoff if throttled else self.backoff
        ceiling = min(self.max_backoff, base * (2 ** (attempt - 1)))
        if self.jitter:
            import random  # only when a retry actually waits

            wait = random.uniform(0, ceiling)
        else:
            wait = ceiling
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_backoff))
        return wait


NO_RETRY = Retry(max_attempts=1)
