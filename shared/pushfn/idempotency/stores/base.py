"""The abstract store: the public verbs and error translation; backends implement four small methods.

Backends (template methods, as in Powertools' ``BasePersistenceLayer``):

``_put_record(record, now)``
    Write ``record`` (IN_PROGRESS) only if the key is absent, expired at ``now``, or an in-progress
    record whose in-progress expiry has passed *and* whose payload hash equals the new one. Otherwise
    raise :class:`IdempotencyRecordExistsError` carrying the record that won, if the store can return it.
``_get_record(key)``
    The stored record or ``None`` (strongly consistent read).
``_update_record(record)``
    Overwrite the record (used to save COMPLETED).
``_delete_record(key)``
    Delete the record *if it is still IN_PROGRESS*: a completed record is never deleted.

Anything a backend raises that is not an :class:`IdempotencyError` becomes an
:class:`IdempotencyStoreError`, so callers catch one class for "the store is down" — except an answer
no retry can change (the table does not exist or has another shape, the credentials may not use it),
which is the operator's to fix: :class:`IdempotencyConfigError`, reported
as a misconfiguration rather than as an outage to retry.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from pushfn.idempotency.exceptions import IdempotencyConfigError, IdempotencyError, IdempotencyStoreError
from pushfn.idempotency.record import IdempotencyRecord, UnreadableRecord

T = TypeVar("T")


class IdempotencyStore(abc.ABC):
    """Where idempotency records live. Subclasses must be safe to share between threads."""

    #: Short name for messages ("sqlite", "dynamodb" …).
    kind: str = "store"

    # --- public verbs (used by the guard) ----------------------------------------------------------

    def put_in_progress(self, record: IdempotencyRecord, now: float) -> None:
        """Claim ``record.key`` with ``record`` (IN_PROGRESS) unless a live record holds it.

        ``now`` is epoch seconds. Raises :class:`IdempotencyRecordExistsError` (with the winning record
        when the store can return it) when the key is taken, :class:`IdempotencyStoreError` when the store
        fails.
        """
        self._call("put", lambda: self._put_record(record, now))

    def get(self, key: str) -> IdempotencyRecord | None:
        """The record stored under the scoped ``key`` (expired ones included), or ``None``.

        Raises :class:`IdempotencyStoreError` (its subclass
        :class:`~pushfn.idempotency.exceptions.IdempotencyCorruptRecordError` when the row is unusable).
        """
        return self._call("get", lambda: self._get_record(key))

    def save(self, record: IdempotencyRecord) -> None:
        """Overwrite the record under ``record.key`` (the guard saves COMPLETED with it).

        Raises :class:`IdempotencyStoreError`.
        """
        self._call("update", lambda: self._update_record(record))

    def delete_in_progress(self, key: str) -> None:
        """Delete the record under ``key`` if it is still IN_PROGRESS (a COMPLETED one stays); no error when
        there is none. Raises :class:`IdempotencyStoreError`."""
        self._call("delete", lambda: self._delete_record(key))

    def init(self) -> str:
        """Create what the store needs (file, schema, table). Safe to run twice. Returns a summary."""
        return self._call("init", self._init)

    def describe(self) -> str:
        """Where the records are, without secrets (for messages and ``pushfn store``)."""
        return self.kind

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing to release
        """Release connections (optional)."""

    # --- backend hooks -----------------------------------------------------------------------------

    @abc.abstractmethod
    def _put_record(self, record: IdempotencyRecord, now: float) -> None: ...

    @abc.abstractmethod
    def _get_record(self, key: str) -> IdempotencyRecord | None: ...

    @abc.abstractmethod
    def _update_record(self, record: IdempotencyRecord) -> None: ...

    @abc.abstractmethod
    def _delete_record(self, key: str) -> None: ...

    def _init(self) -> str:
        return f"{self.describe()}: nothing to create"

    # --- helpers -----------------------------------------------------------------------------------

    def _call(self, verb: str, action: Callable[[], T]) -> T:
        with self._translate(verb):
            return action()

    @contextmanager
    def _translate(self, verb: str) -> Iterator[None]:
        try:
            yield
        except IdempotencyError:
            raise
        except Exception as exc:
            # The type and the driver's message say what went wrong (unreachable, read-only,
            # throttled); they never contain credentials.
            if is_configuration_error(exc):
                raise IdempotencyConfigError(
                    f"PUSHFN_IDEMPOTENCY_URL: the store {self.describe()} cannot be used "
                    f"(failed to {verb}: {type(exc).__name__}: {exc}); create or fix it, or its permissions"
                ) from exc
            raise IdempotencyStoreError(
                f"idempotency store {self.describe()} failed to {verb}: {type(exc).__name__}: {exc}"
            ) from exc

    def list_records(self, prefix: str = "", limit: int | None = None) -> list[IdempotencyRecord | UnreadableRecord]:
        """Records whose scoped key starts with ``prefix`` (expired ones included), at most ``limit``; a row
        that cannot be read is an :class:`~pushfn.idempotency.record.UnreadableRecord` in its place.

        For operators (``pushfn store list``), not for the guard. Stores that can enumerate override
        this; the others raise :class:`NotImplementedError` naming the store kind.
        """
        raise NotImplementedError(f"the {self.kind} store cannot list its records")


#: Service answers that say the store itself is wrong (DynamoDB, Tablestore): no retry changes them.
_CONFIGURATION_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "OTSObjectNotExist",
        "OTSAuthFailed",
        "OTSNoPermissionAccess",
    }
)
#: SQLite's words for a table of another program's shape (a file that is no database stays a store
#: failure: a damaged file is one, and ``pushfn store`` documents exit 3 for it).
_SQLITE_CONFIGURATION = ("no such column", "has no column named", "no such table")


def is_configuration_error(exc: BaseException) -> bool:
    """True when ``exc``, raised by a store's driver, says the store is misconfigured rather than down:
    a missing table, a table of another key schema, credentials without access (service error codes),
    or an SQLite table of another shape."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    get_code = getattr(exc, "get_error_code", None)
    if code is None and callable(get_code):
        code = get_code()
    if code in _CONFIGURATION_CODES:
        return True
    text = str(exc)
    if code == "ValidationException":  # DynamoDB's words for a table keyed on another attribute
        return "key element does not match the schema" in text or "Missing the key" in text
    return type(exc).__module__ == "sqlite3" and any(words in text for words in _SQLITE_CONFIGURATION)
