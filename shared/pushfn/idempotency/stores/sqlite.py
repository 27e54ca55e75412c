"""SQLite store: the embedded default for one machine.

The conditional put is one statement, an UPSERT whose ``DO UPDATE … WHERE`` only fires when the stored
row is expired or a stale in-progress record for the same payload and the same token (a takeover);
``changes() == 0`` means a live record won. It runs inside ``BEGIN IMMEDIATE`` so the row read back
after a lost put is the one that won (what DynamoDB's ``ALL_OLD`` gives). WAL lets readers run beside
the writer; the busy timeout makes concurrent processes queue for the write lock instead of failing.

The threads of one process queue for it on a Python lock per database file (:func:`_writer_lock`)
before ``BEGIN IMMEDIATE``, not in SQLite's busy handler: that handler polls, sleeping 1, 2, 5, 10 …
up to 100 ms between tries, while a write here holds the lock for well under a millisecond. With
eight threads of the file function writing at once, half their time went to those sleeps, and eight
chunks in flight were no faster than one. The busy timeout is left for other processes.

Each thread of each process gets its own connection: sqlite3 connections must not cross threads, and
must never be inherited across ``fork``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from pushfn.idempotency.exceptions import IdempotencyConfigError, IdempotencyRecordExistsError, IdempotencyStoreError
from pushfn.idempotency.record import (
    ROW_ERRORS,
    IdempotencyRecord,
    RecordStatus,
    UnreadableRecord,
    dump_result,
    load_result,
    parse_status,
    unreadable,
)
from pushfn.idempotency.stores.base import IdempotencyStore

TABLE = "idempotency"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id                 TEXT PRIMARY KEY,   -- function#scope#key
    status             TEXT NOT NULL,      -- IN_PROGRESS | COMPLETED
    expiry             INTEGER NOT NULL,   -- epoch seconds
    in_progress_expiry INTEGER,            -- epoch milliseconds
    payload_hash       TEXT NOT NULL,
    token              TEXT NOT NULL,      -- CloudPush IdempotentToken
    result             TEXT                -- JSON
)
"""

PUT = f"""
INSERT INTO {TABLE} (id, status, expiry, in_progress_expiry, payload_hash, token, result)
VALUES (:id, :status, :expiry, :in_progress_expiry, :payload_hash, :token, NULL)
ON CONFLICT(id) DO UPDATE SET
    status = excluded.status, expiry = excluded.expiry, in_progress_expiry = excluded.in_progress_expiry,
    payload_hash = excluded.payload_hash, token = excluded.token, result = NULL
WHERE {TABLE}.expiry < :now
   OR ({TABLE}.status = 'IN_PROGRESS' AND {TABLE}.in_progress_expiry IS NOT NULL
       AND {TABLE}.in_progress_expiry < :now_ms AND {TABLE}.payload_hash = excluded.payload_hash
       AND {TABLE}.token = excluded.token)
"""

COLUMNS = "id, status, expiry, in_progress_expiry, payload_hash, token, result"


_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(path: Path) -> threading.Lock:
    """The lock the threads of this process take before writing to the database at ``path`` (every
    store of the same file shares it; see the module docstring)."""
    name = os.path.realpath(path)
    with _writer_locks_guard:
        lock = _writer_locks.get(name)
        if lock is None:
            lock = _writer_locks[name] = threading.Lock()
        return lock


class SqliteStore(IdempotencyStore):
    """Records in one SQLite file. ``read_only`` opens it with ``mode=ro`` (a read-only mount)."""

    kind = "sqlite"

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False, timeout: float = 10.0) -> None:
        text = os.fspath(path)
        if not text or text.strip().lower() in (":memory:", "") or "\x00" in text:
            # Each connection would get its own database: nothing de-duplicated across threads/processes.
            raise IdempotencyConfigError(f"SQLite idempotency store needs a file path, got {text!r}")
        self.path = Path(path)
        self.read_only = read_only
        self.timeout = timeout
        self._local = threading.local()
        self._prepare_lock = threading.Lock()
        self._prepared = False
        self._writer = _writer_lock(self.path)

    def describe(self) -> str:
        return f"sqlite:///{self.path}" + ("?mode=ro" if self.read_only else "")

    # --- backend hooks -----------------------------------------------------------------------------

    def _put_record(self, record: IdempotencyRecord, now: float) -> None:
        params = {
            "id": record.key,
            "status": record.status.value,
            "expiry": record.expiry,
            "in_progress_expiry": record.in_progress_expiry,
            "payload_hash": record.payload_hash,
            "token": record.token,
            "now": int(now),
            "now_ms": int(now * 1000),
        }
        with self._write() as conn:
            if conn.execute(PUT, params).rowcount == 0:
                raise IdempotencyRecordExistsError(self._select(conn, record.key))

    def _get_record(self, key: str) -> IdempotencyRecord | None:
        return self._select(self._connection(), key)

    def _update_record(self, record: IdempotencyRecord) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key,
                    record.status.value,
                    record.expiry,
                    record.in_progress_expiry,
                    record.payload_hash,
                    record.token,
                    None if record.result is None else dump_result(record.result),
                ),
            )

    def _delete_record(self, key: str) -> None:
        with self._write() as conn:
            conn.execute(f"DELETE FROM {TABLE} WHERE id = ? AND status = ?", (key, RecordStatus.IN_PROGRESS.value))

    def _init(self) -> str:
        with self._write() as conn:
            purged = conn.execute(f"DELETE FROM {TABLE} WHERE expiry < ?", (int(time.time()),)).rowcount
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        return f"{self.describe()}: table {TABLE!r} ready (journal_mode={mode}, {purged} expired rows purged)"

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- connections -------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        conn = self._connect()
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _connect(self) -> sqlite3.Connection:
        if not self.read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = "ro" if self.read_only else "rwc"
        uri = f"file:{quote(str(self.path))}?mode={mode}"
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so the write lock is taken up front
        # and a concurrent writer waits (busy timeout) instead of failing on lock upgrade.
        conn = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            if not self.read_only and not self._prepared:
                self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """WAL mode and the table, once per store: the first connections of many threads must not race.

        Switching a new file to WAL and creating the table upgrade locks in ways SQLite answers with an
        immediate "database is locked" rather than waiting out the busy timeout (it would risk a
        deadlock). One thread of this process does it; other processes are waited out here, in
        short sleeps up to the store's timeout. Both steps are no-ops once done.
        """
        with self._prepare_lock:
            if self._prepared:
                return
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    with self._writer:
                        conn.execute("PRAGMA journal_mode = WAL")
                        conn.execute("BEGIN IMMEDIATE")
                        conn.execute(SCHEMA)
                        conn.execute("COMMIT")
                    break
                except sqlite3.OperationalError as exc:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
            self._prepared = True

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        with self._writer:  # this process's threads queue here, not in SQLite's sleeping busy handler
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT: a connection left inside a transaction is unusable.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _select(conn: sqlite3.Connection, key: str) -> IdempotencyRecord | None:
        row = conn.execute(f"SELECT {COLUMNS} FROM {TABLE} WHERE id = ?", (key,)).fetchone()
        if row is None:
            return None
        key, status, expiry, in_progress_expiry, payload_hash, token, result = row
        return IdempotencyRecord(
            key=key,
            status=parse_status(status),
            expiry=int(expiry),
            in_progress_expiry=None if in_progress_expiry is None else int(in_progress_expiry),
            payload_hash=payload_hash,
            token=token,
            result=load_result(result),
        )

    def list_records(self, prefix: str = "", limit: int | None = None) -> list[IdempotencyRecord | UnreadableRecord]:
        """Records whose key starts with ``prefix``, sorted by key, at most ``limit`` (operators only); a
        row that cannot be read is listed as an :class:`UnreadableRecord` (one hand-edited expiry of
        ``'abc'`` failed every ``store list`` and every ``store show`` by plain key)."""

        def select() -> list[IdempotencyRecord | UnreadableRecord]:
            conn = self._connection()
            # substr() rather than LIKE: keys may hold '%' and '_'; -1 is SQLite's "no limit".
            ids = conn.execute(
                f"SELECT id FROM {TABLE} WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT ?",
                (len(prefix), prefix, -1 if limit is None else limit),
            ).fetchall()
            found: list[IdempotencyRecord | UnreadableRecord] = []
            for (key,) in ids:
                try:
                    record = self._select(conn, key)
                except (IdempotencyStoreError, *ROW_ERRORS) as exc:  # the row's values, not the database
                    found.append(unreadable(key, exc))
                    continue
                if record is not None:
                    found.append(record)
            return found

        return self._call("list", select)
