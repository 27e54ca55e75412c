"""The stored record and its two states.

``EXPIRED`` is never stored: like Powertools, a record is expired when its ``expiry`` has passed, whatever
its status, and stores treat such a row as absent. Units follow Powertools too: ``expiry`` is epoch
*seconds* (it doubles as the DynamoDB TTL attribute), ``in_progress_expiry`` epoch *milliseconds*.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, replace
from typing import Any


class RecordStatus(str, enum.Enum):
    """The two states a stored record can be in (Powertools' state machine, without EXPIRED: expiry is a time)."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class IdempotencyRecord:
    """One key's state. ``key`` is the scoped key ``function#scope#key``."""

    key: str
    status: RecordStatus
    expiry: int
    payload_hash: str
    token: str
    in_progress_expiry: int | None = None
    result: dict[str, Any] | None = None

    def is_expired(self, now: float) -> bool:
        """Whether ``expiry`` (epoch seconds) has passed at ``now`` (epoch seconds): then the record counts
        as absent, whatever its status."""
        return self.expiry < int(now)

    def is_stale_in_progress(self, now: float) -> bool:
        """An in-progress record whose owner has certainly stopped (its function timed out or died)."""
        return (
            self.status is RecordStatus.IN_PROGRESS
            and self.in_progress_expiry is not None
            and self.in_progress_expiry < int(now * 1000)
        )

    def may_be_replaced_by(self, new: IdempotencyRecord, now: float) -> bool:
        """The rule every store's conditional put expresses (absence is checked by the store).

        A stale in-progress record is taken over only by the *same* payload carrying the *same* token: the
        takeover exists to resend a push that may already have gone out under the stored token, so
        CloudPush can de-duplicate it. A different payload under that token would be silently dropped,
        and a fresh token would push twice; so a put with a fresh token loses to a stale record, and the
        guard retries the put with the stored token (the condition then also proves the row it takes
        over is the one it read).
        """
        return self.is_expired(now) or (
            self.is_stale_in_progress(now) and self.payload_hash == new.payload_hash and self.token == new.token
        )

    def completed(self, result: dict[str, Any], expiry: int) -> IdempotencyRecord:
        """A COMPLETED copy holding ``result`` (a JSON object), living until ``expiry`` (epoch seconds)."""
        return replace(self, status=RecordStatus.COMPLETED, result=result, expiry=expiry, in_progress_expiry=None)

    def result_json(self) -> str | None:
        """``result`` as the JSON text stores keep (see :func:`dump_result`), or ``None`` when there is none."""
        return None if self.result is None else dump_result(self.result)


@dataclass(frozen=True)
class UnreadableRecord:
    """A stored row an operator's listing could not read (another program or a hand edit wrote it):
    its scoped ``key`` and the ``reason``. Listed in its place so one such row never hides every other
    record from ``pushfn store list`` and ``show`` (the guard never lists; it reads one key and reports
    the row as a store problem)."""

    key: str
    reason: str


#: Failures of reading one row's values: a type, a number or a status no pushfn writes.
ROW_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, OverflowError, KeyError, AttributeError)


def unreadable(key: object, exc: BaseException) -> UnreadableRecord:
    """The :class:`UnreadableRecord` of a row whose reading raised ``exc``: key and reason made printable,
    the reason scrubbed (it quotes the row's value, which may be a device id) and cut to 300 characters."""
    from pushfn.masking import scrub_cut

    text = f"{type(exc).__name__}: {exc}".encode("utf-8", "backslashreplace").decode("utf-8")
    shown = key if isinstance(key, str) else repr(key)
    return UnreadableRecord(shown.encode("utf-8", "backslashreplace").decode("utf-8"), scrub_cut(text, 300))


def dump_result(result: dict[str, Any]) -> str:
    """Compact JSON of a result, keys sorted, non-ASCII kept; values JSON cannot hold are written as ``str()``."""
    return json.dumps(result, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def load_result(text: str | None) -> dict[str, Any] | None:
    """The stored result: ``None`` when absent, else a JSON object.

    Raises :class:`IdempotencyCorruptRecordError` when the stored text is not JSON or not an object:
    a replay must never turn into a ``TypeError`` (HTTP 500) or a second push.
    """
    from pushfn.idempotency.exceptions import IdempotencyCorruptRecordError
    from pushfn.json_input import decode_json

    if text is None:
        return None
    if not isinstance(text, str):
        raise IdempotencyCorruptRecordError(f"stored idempotency result is a {type(text).__name__}, not JSON text")
    try:
        value = decode_json(text)  # bounded like every other JSON input: a hand-edited row is input too
    except ValueError as exc:
        raise IdempotencyCorruptRecordError(f"stored idempotency result is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise IdempotencyCorruptRecordError(
            f"stored idempotency result is a JSON {type(value).__name__}, not an object"
        )
    return value


def parse_status(value: str) -> RecordStatus:
    """Unknown statuses mean another program wrote the row: fail loudly rather than guess."""
    from pushfn.idempotency.exceptions import IdempotencyStoreError

    try:
        return RecordStatus(value)
    except ValueError:
        raise IdempotencyStoreError(f"unknown idempotency record status {value!r}") from None
