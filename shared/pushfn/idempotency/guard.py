"""The guard: a small state machine that lets a push happen at most once per key.

::

    put IN_PROGRESS, fresh token (conditional) ──won──► operation(token) ──ok──► save COMPLETED ──► result
          │                                   │ definite failure ──► delete record, re-raise
          │                                   └ maybe sent ────────► keep IN_PROGRESS, re-raise
          └─lost─► existing record: COMPLETED → replay   live IN_PROGRESS → InProgressError
                                    other payload → PayloadMismatchError
                                    stale IN_PROGRESS, same payload → put again with ITS token (takeover)
                                    changed meanwhile → try again (bounded)

Where it departs from Powertools, because a push cannot be undone:

- an exception that says the request *may* have reached the service (``maybe_sent``) keeps the
  record, so the retry after the in-progress expiry reuses the same provider-side ``IdempotentToken``
  (CloudPush drops repeats of a token for 15 minutes) instead of pushing blind;
- every new record (key unseen, expired, or deleted after a definite failure) gets a fresh random
  token, so a repeat the guard lets through is really pushed; a stale in-progress record is taken over
  only by the same payload and with the token stored in it (same token, same push), conditionally on
  that token still being the stored one;
- if saving COMPLETED fails after a successful push, the save is retried and then given up *with the
  result returned*: the push happened, and raising would invite the caller to push again. The record
  stays IN_PROGRESS; a retry after its in-progress expiry runs again with the same token, which
  CloudPush de-duplicates only within its 15-minute window.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pushfn.idempotency import keys
from pushfn.idempotency.config import IdempotencyConfig
from pushfn.idempotency.exceptions import (
    IdempotencyCorruptRecordError,
    IdempotencyError,
    IdempotencyInconsistentStateError,
    IdempotencyInProgressError,
    IdempotencyPayloadMismatchError,
    IdempotencyRecordExistsError,
)
from pushfn.idempotency.record import IdempotencyRecord, RecordStatus
from pushfn.idempotency.stores.base import IdempotencyStore
from pushfn.logs import get_logger, mask

logger = get_logger("pushfn.idempotency")

#: ``operation(token) -> result``: the push, given the IdempotentToken to send with it.
Operation = Callable[[str], Any]


@dataclass(frozen=True)
class Outcome:
    """What :meth:`IdempotencyGuard.run` returns.

    ``replayed`` is true when the result came from the store (HTTP: ``Idempotent-Replayed: true``);
    ``saved`` is false when the push succeeded but COMPLETED could not be recorded.
    """

    result: dict[str, Any]
    replayed: bool
    token: str
    saved: bool = True


class Guard(Protocol):
    """What the functions need of a duplicate guard; :class:`IdempotencyGuard` is the one pushfn ships."""

    def run(
        self,
        key: str,
        *,
        operation: Operation,
        scope: str = keys.DEFAULT_SCOPE,
        payload: Any = None,
        context: Any = None,
        expires_after_seconds: int | None = None,
    ) -> Outcome:
        """Run ``operation(token)`` at most once for ``key``; see :meth:`IdempotencyGuard.run`."""
        ...


class IdempotencyGuard:
    """Runs an operation at most once per (function, scope, key) within the record's lifetime."""

    def __init__(
        self,
        store: IdempotencyStore,
        config: IdempotencyConfig | None = None,
        *,
        function_name: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.config = config or IdempotencyConfig()
        self.function_name = keys.validate_name(function_name, "function name")
        self._clock = clock
        self._sleep = sleep

    def idempotent_token(self, key: str, scope: str = keys.DEFAULT_SCOPE) -> str | None:
        """The ``IdempotentToken`` stored for this key's current record (what CloudPush saw), or ``None``.

        Tokens are random per life of a key (see :func:`keys.new_token`), so this is a store read, not a
        derivation: operators and tests use it to match a record against the service's push records.
        """
        record = self.store.get(self.scoped_key(key, scope))
        return None if record is None else record.token

    def scoped_key(self, key: str, scope: str = keys.DEFAULT_SCOPE) -> str:
        """The stored key ``function#scope#key`` for this guard's function; see :func:`keys.scoped_key`."""
        return keys.scoped_key(self.function_name, scope, key)

    def run(
        self,
        key: str,
        *,
        operation: Operation,
        scope: str = keys.DEFAULT_SCOPE,
        payload: Any = None,
        context: Any = None,
        expires_after_seconds: int | None = None,
    ) -> Outcome:
        """Run ``operation(token)`` once for this key, or replay / refuse as the stored record says.

        ``token`` is a fresh random UUID whenever a new push is due (key unseen, record expired, record
        deleted after a definite failure), and the stored one when a stale IN_PROGRESS record with the
        same payload is taken over (the previous owner crashed or got no answer: CloudPush drops the
        repeat if the first push went out within its 15-minute window).

        Raises :class:`IdempotencyKeyError` (bad key, before any lookup),
        :class:`IdempotencyInProgressError`, :class:`IdempotencyPayloadMismatchError`,
        :class:`IdempotencyStoreError` (nothing was pushed; :class:`IdempotencyCorruptRecordError` when a
        stored record is unusable), or whatever ``operation`` raised.
        """
        scoped = self.scoped_key(key, scope)
        digest = keys.payload_hash(keys.select_fields(payload, self.config.payload_fields))
        lifetime = expires_after_seconds or self.config.expires_after_seconds
        window_ms = self.config.in_progress_window_ms(context)

        takeover: str | None = None  # the stored token of a stale record we are entitled to take over
        tried_takeovers: set[str] = set()
        retries = 0
        while True:
            now = self._clock()
            in_progress_expiry = int(now * 1000) + window_ms
            record = IdempotencyRecord(
                key=scoped,
                status=RecordStatus.IN_PROGRESS,
                expiry=_in_progress_expiry(int(now), in_progress_expiry, lifetime),
                in_progress_expiry=in_progress_expiry,
                payload_hash=digest,
                token=takeover or keys.new_token(),
            )
            try:
                self.store.put_in_progress(record, now)
            except IdempotencyRecordExistsError as lost:
                old = lost.old_record if lost.old_record is not None else self.store.get(scoped)
                if old is not None and _is_own_write(old, record):
                    # Our put went through but its answer was lost and the driver retried it (botocore
                    # does): the random token proves the live record is this very attempt.
                    return self._execute(record, operation, lifetime)
                outcome = self._answer_from_existing(old, record, now)
                if outcome is not None:
                    return outcome
                if old is not None and old.token not in tried_takeovers and self._may_take_over(old, record, now):
                    # Not an inconsistency: the put with a fresh token is meant to lose to a stale record.
                    takeover = old.token
                    tried_takeovers.add(old.token)
                    continue
                takeover = None
                retries += 1
                if retries > self.config.max_inconsistent_retries:
                    break
                continue  # the record changed under us: try the put again
            return self._execute(record, operation, lifetime)

        raise IdempotencyInconsistentStateError(
            f"idempotency record for {self._label(scoped)} kept changing; try again"
        )

    # --- states --------------------------------------------------------------------------------------

    def _answer_from_existing(
        self, old: IdempotencyRecord | None, new: IdempotencyRecord, now: float
    ) -> Outcome | None:
        """Replay or refuse; ``None`` means the record is gone or replaceable, so the put should retry."""
        if old is None or old.is_expired(now):
            return None
        if old.payload_hash != new.payload_hash:
            raise IdempotencyPayloadMismatchError(
                f"idempotency key {self._label(new.key)} was already used with a different payload"
            )
        if old.status is RecordStatus.COMPLETED:
            if not isinstance(old.result, dict):
                raise IdempotencyCorruptRecordError(
                    f"idempotency record for {self._label(new.key)} is COMPLETED but holds no result object"
                )
            return Outcome(result=dict(old.result), replayed=True, token=old.token)
        if old.is_stale_in_progress(now):
            if not _is_token(old.token):
                raise IdempotencyCorruptRecordError(
                    f"stale idempotency record for {self._label(new.key)} has no usable IdempotentToken"
                )
            return None
        retry_after = max(0.0, ((old.in_progress_expiry or 0) - now * 1000) / 1000)
        raise IdempotencyInProgressError(
            f"a request with idempotency key {self._label(new.key)} is still in progress",
            retry_after=retry_after,
        )

    @staticmethod
    def _may_take_over(old: IdempotencyRecord, new: IdempotencyRecord, now: float) -> bool:
        return (
            not old.is_expired(now)
            and old.is_stale_in_progress(now)
            and old.payload_hash == new.payload_hash
            and old.token != new.token
        )

    def _execute(self, record: IdempotencyRecord, operation: Operation, lifetime: int) -> Outcome:
        try:
            raw = operation(record.token)
        except Exception as exc:
            if getattr(exc, "maybe_sent", False):
                # Sent, no answer: deleting would let a retry push again under a fresh lock. Keeping the
                # record makes the retry wait for the in-progress expiry and reuse the same token.
                self._log("warning", "push may have been sent; record kept in progress", record, exc)
            else:
                self._release(record, exc)
            raise
        # KeyboardInterrupt / SystemExit pass through untouched: we cannot know whether the push was
        # sent, so the record stays IN_PROGRESS like any ambiguous failure.

        result = _storable(raw)
        completed = record.completed(result, expiry=int(self._clock()) + lifetime)
        saved = self._save_completed(completed)
        return Outcome(result=result, replayed=False, token=record.token, saved=saved)

    def _save_completed(self, record: IdempotencyRecord) -> bool:
        delay = self.config.save_backoff_seconds
        for attempt in range(1, self.config.save_attempts + 1):
            try:
                self.store.save(record)
                return True
            except IdempotencyError as exc:
                if attempt == self.config.save_attempts:
                    # Never raise here: the push happened, and an error would invite a second one.
                    self._log("error", "push succeeded but COMPLETED could not be saved", record, exc)
                    return False
                self._sleep(delay)
                delay *= 2
        return False  # pragma: no cover - the loop always returns

    def _release(self, record: IdempotencyRecord, cause: BaseException) -> None:
        """Definite failure: nothing was sent, so free the key for a corrected retry."""
        try:
            self.store.delete_in_progress(record.key)
        except IdempotencyError as exc:
            # The original error matters more; the record unblocks itself at its in-progress expiry.
            self._log("error", f"could not delete record after {type(cause).__name__}", record, exc)

    # --- helpers -------------------------------------------------------------------------------------

    def _label(self, scoped: str) -> str:
        _, scope, key = scoped.split(keys.SEPARATOR, 2)
        return f"{mask(key)} (function {self.function_name}, scope {mask(scope)})"

    def _log(self, level: str, message: str, record: IdempotencyRecord, exc: BaseException) -> None:
        fields = {
            "idempotency_key": self._label(record.key),
            "store": self.store.kind,
            "error": type(exc).__name__,
        }
        getattr(logger, level)(message, extra={"fields": fields})


def _in_progress_expiry(now: int, in_progress_expiry_ms: int, lifetime: int) -> int:
    """Epoch seconds an IN_PROGRESS record lives: ``lifetime``, but never less than its in-progress window
    nor than CloudPush's 15-minute token window.

    A short lifetime (the HTTP no-key dedupe window is 60 s, tests use 1 s) must neither free the key
    while its owner may still push, nor let the record expire while a push that may have gone out can
    still be de-duplicated by resending its token: an expired record means a new push with a fresh
    token. Stale records never block a retry of the same payload (it takes over), so the longer life
    costs nothing but a 422 for *another* payload under a key whose first outcome is unknown.
    """
    return max(now + lifetime, -(-in_progress_expiry_ms // 1000), now + keys.PROVIDER_TOKEN_WINDOW_SECONDS)


def _is_own_write(stored: IdempotencyRecord, mine: IdempotencyRecord) -> bool:
    return (
        stored.status is RecordStatus.IN_PROGRESS
        and stored.token == mine.token
        and stored.in_progress_expiry == mine.in_progress_expiry
        and stored.payload_hash == mine.payload_hash
    )


def _is_token(value: object) -> bool:
    """A stored token is reused only if it is a UUID CloudPush accepts; anything else is corruption."""
    try:
        return isinstance(value, str) and len(value) == 36 and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _storable(raw: Any) -> dict[str, Any]:
    """The operation's answer as the JSON object that will be stored and replayed.

    Round-tripping through JSON makes a fresh answer identical to a later replay of it.
    """
    if hasattr(raw, "to_dict"):
        raw = raw.to_dict()
    elif hasattr(raw, "model_dump"):
        raw = raw.model_dump(mode="json")
    if not isinstance(raw, Mapping):
        raw = {"value": raw}
    return json.loads(json.dumps(dict(raw), default=str))
