"""Errors of the job processors, one hierarchy under :class:`JobError`."""

from __future__ import annotations

from collections.abc import Sequence

from pushfn.errors import PushfnError


class JobError(PushfnError):
    """Base class of every error raised by :mod:`pushfn.jobs`."""


class RetryLaterError(JobError):
    """Raised so the platform redelivers: part of the work failed in a way a retry can fix.

    Everything that succeeded before it is recorded by the idempotency guard, so the redelivery
    replays it instead of pushing again. ``reasons`` are short, safe to log (no device ids).
    """

    def __init__(self, what: str, reasons: Sequence[str], *, message_ids: Sequence[str | None] = ()) -> None:
        self.reasons = list(reasons)
        self.message_ids = list(message_ids)
        shown = "; ".join(self.reasons[:3]) + (f"; +{len(self.reasons) - 3} more" if len(self.reasons) > 3 else "")
        super().__init__(f"{what} will be retried: {shown}")


class DeadLetterError(JobError):
    """A permanently failed message could not be written to the dead-letter destination."""
