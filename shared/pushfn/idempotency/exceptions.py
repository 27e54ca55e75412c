"""Errors of the idempotency guard, one hierarchy under :class:`IdempotencyError`.

The HTTP adapter maps them straight onto the IETF ``Idempotency-Key`` draft: a bad key is a 400,
:class:`IdempotencyInProgressError` a 409, :class:`IdempotencyPayloadMismatchError` a 422 and
:class:`IdempotencyStoreError` a 503. Messages carry the key only masked: callers sometimes build keys
from order numbers or device ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pushfn.errors import ConfigurationError, PushfnError

if TYPE_CHECKING:
    from pushfn.idempotency.record import IdempotencyRecord


class IdempotencyError(PushfnError):
    """Base class of every error raised by :mod:`pushfn.idempotency`."""


class IdempotencyKeyError(IdempotencyError, ValueError):
    """The key, scope or function name is empty, too long or not printable (checked before any lookup)."""


class IdempotencyConfigError(IdempotencyError, ConfigurationError, ValueError):
    """The store URL (``PUSHFN_IDEMPOTENCY_URL``) or a setting is invalid: the operator's mistake.

    A :class:`~pushfn.errors.ConfigurationError` too, so every entry point reports it as a
    misconfiguration (HTTP problem ``misconfigured``) rather than as an internal error or a store outage.
    """


class IdempotencyInProgressError(IdempotencyError):
    """Another call with the same key is running now. Safe to retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IdempotencyPayloadMismatchError(IdempotencyError):
    """The key was first used with a different payload; replaying its result would be a lie."""


class IdempotencyStoreError(IdempotencyError):
    """The store could not be reached or answered with an error. Nothing was pushed because of it."""


class IdempotencyCorruptRecordError(IdempotencyStoreError):
    """A stored record cannot be used: a COMPLETED record without a result object, a result that is not
    a JSON object or not JSON at all, an IN_PROGRESS record without a token. Another program (or a
    hand edit) wrote the row; it is a store problem (HTTP 503), never a reason to push again."""


class IdempotencyRecordExistsError(IdempotencyError):
    """Internal: the conditional put lost to a live record (``old_record`` when the store returned it)."""

    def __init__(self, old_record: IdempotencyRecord | None = None) -> None:
        super().__init__("a live idempotency record already exists")
        self.old_record = old_record


class IdempotencyInconsistentStateError(IdempotencyError):
    """The record changed between the lost put and the read: the guard tried again and gave up."""
