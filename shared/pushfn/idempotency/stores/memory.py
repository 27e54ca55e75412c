"""In-process store for unit tests: a dict behind a lock, with the same conditional-put rule."""

from __future__ import annotations

import threading

from pushfn.idempotency.exceptions import IdempotencyRecordExistsError
from pushfn.idempotency.record import IdempotencyRecord, RecordStatus, UnreadableRecord
from pushfn.idempotency.stores.base import IdempotencyStore


class MemoryStore(IdempotencyStore):
    """Records in a dict of this process: lost on exit, not shared between processes (for tests)."""

    kind = "memory"

    def __init__(self) -> None:
        self._records: dict[str, IdempotencyRecord] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return "memory://"

    def _put_record(self, record: IdempotencyRecord, now: float) -> None:
        with self._lock:
            old = self._records.get(record.key)
            if old is not None and not old.may_be_replaced_by(record, now):
                raise IdempotencyRecordExistsError(old)
            self._records[record.key] = record

    def _get_record(self, key: str) -> IdempotencyRecord | None:
        with self._lock:
            return self._records.get(key)

    def _update_record(self, record: IdempotencyRecord) -> None:
        with self._lock:
            self._records[record.key] = record

    def _delete_record(self, key: str) -> None:
        with self._lock:
            old = self._records.get(key)
            if old is not None and old.status is RecordStatus.IN_PROGRESS:
                del self._records[key]

    def list_records(self, prefix: str = "", limit: int | None = None) -> list[IdempotencyRecord | UnreadableRecord]:
        """Records whose key starts with ``prefix``, sorted by key, at most ``limit`` (kept as objects: none
        is ever unreadable)."""
        with self._lock:
            found = sorted((r for k, r in self._records.items() if k.startswith(prefix)), key=lambda r: r.key)
        return found if limit is None else found[:limit]
