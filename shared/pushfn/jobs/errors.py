"""Errors of the job processors, one hierarchy under :class:`JobError`.

:class:`RetryLaterError` is the platform's retry signal, so it lives with the adapters that raise
it (:mod:`pushfn.triggers`); it is re-exported here because callers of the jobs catch it.
"""

from __future__ import annotations

from pushfn.errors import PushfnError
from pushfn.triggers import RetryLaterError

__all__ = ["DeadLetterError", "JobError", "RetryLaterError"]


class JobError(PushfnError):
    """Base class of every error raised by :mod:`pushfn.jobs`."""


class DeadLetterError(JobError):
    """A permanently failed message could not be written to the dead-letter destination."""
