"""The guard's settings, and the in-progress window derived from the platform's context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pushfn.idempotency.exceptions import IdempotencyConfigError

DAY = 86_400


@dataclass(frozen=True)
class IdempotencyConfig:
    """Settings shared by every call of one guard.

    ``expires_after_seconds``
        How long a record lives: a repeat within it replays, after it the key is new again. 24 h, like
        Stripe and Knock.
    ``in_progress_margin_seconds``
        Added to the function's remaining time so the lock outlives the function that holds it.
    ``in_progress_seconds_without_context``
        The lock's length when no platform context is given (local runs, tests).
    ``payload_fields``
        Dotted paths of the payload the mismatch hash covers; ``None`` hashes the whole payload.
    ``save_attempts`` / ``save_backoff_seconds``
        How hard to try saving COMPLETED after a successful push (never by pushing again).
    ``max_inconsistent_retries``
        Extra tries when a record changes between the lost put and the read.
    """

    expires_after_seconds: int = DAY
    in_progress_margin_seconds: float = 5.0
    in_progress_seconds_without_context: float = 120.0
    payload_fields: tuple[str, ...] | None = None
    save_attempts: int = 4
    save_backoff_seconds: float = 0.05
    max_inconsistent_retries: int = 2

    def __post_init__(self) -> None:
        if self.expires_after_seconds <= 0:
            raise IdempotencyConfigError("expires_after_seconds must be positive")
        if self.in_progress_margin_seconds < 0 or self.in_progress_seconds_without_context <= 0:
            raise IdempotencyConfigError("in-progress window settings must be positive")
        if self.save_attempts < 1 or self.max_inconsistent_retries < 0:
            raise IdempotencyConfigError("save_attempts must be >= 1 and max_inconsistent_retries >= 0")
        if self.payload_fields is not None and not isinstance(self.payload_fields, tuple):
            object.__setattr__(self, "payload_fields", tuple(self.payload_fields))

    def in_progress_window_ms(self, context: Any = None) -> int:
        """How long an IN_PROGRESS record blocks its key, from the platform context.

        - AWS Lambda: ``context.get_remaining_time_in_millis()`` (0 is a valid answer).
        - Function Compute: no remaining-time call exists in Python, so ``context.function.timeout``
          (seconds) measured from now — a little longer than the truth, which errs on the safe side.
        - Anything else: ``in_progress_seconds_without_context``.
        """
        margin_ms = int(self.in_progress_margin_seconds * 1000)
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            value = remaining()
            if isinstance(value, (int, float)) and value >= 0:
                return int(value) + margin_ms
        timeout = getattr(getattr(context, "function", None), "timeout", None)
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
            return int(timeout * 1000) + margin_ms
        return int(self.in_progress_seconds_without_context * 1000) + margin_ms
