"""What the emulator has seen: accepted pushes and API calls in bounded rings, optionally kept in SQLite.

Two rings of ``ring_size`` entries each (default 10,000): push records (one per Push, one per
MassPush task: what :meth:`Emulator.pushes` and ``GET /_emulator/pushes`` give) and calls (every
Push and MassPush, plus every refused or throttled call of any action: what the inbox shows). Each
entry carries a ``seq`` that only grows, so a reader pages with ``since=<seq>``. The oldest entry
is forgotten first. With a ``store`` path the rings are written through to one SQLite file and
loaded back on start, so a restarted emulator keeps its history.

Not thread-safe on its own: the emulator state holds the one lock.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pushfn.emulator.errors import EmulatorError
from pushfn.settings import EMULATOR_MAX_RING_SIZE
from pushfn.sqlite_paths import file_place_problem, is_memory_path

DEFAULT_RING_SIZE = 10_000
#: The largest page a reader gets in one answer.
MAX_PAGE = 10_000
CALL_STATUSES = ("sent", "refused", "throttled")
#: MessageIds are a Java Long on the service side.
MAX_MESSAGE_ID = 2**63 - 1
PUSHES, CALLS, META = "pushes", "calls", "meta"


def _copy(entry: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(entry)


class HistoryStore:
    """The SQLite file behind ``--store``: one row per entry of either ring, plus the MessageId counter.

    Rows beyond the ring are deleted as new ones arrive, so the file stays bounded too. Raises
    :class:`EmulatorError` when the path cannot hold a database that outlives the process (in-memory,
    a directory, device, FIFO or socket, a file above it: :mod:`pushfn.sqlite_paths`, the rules of
    ``pushfn store`` too) or the file cannot be opened as one.
    """

    def __init__(self, path: str | Path, ring_size: int) -> None:
        self.path = Path(path)
        self.ring_size = ring_size
        text = str(path)
        # Checked before SQLite sees the path: it would answer "disk I/O error" for /dev/null (after
        # writing a journal beside it), block on a FIFO, and keep ":memory:" or "file:…?mode=memory"
        # in memory, so a restart would silently start empty.
        if not text.strip():
            raise EmulatorError("--store needs a file name, e.g. --store emulator-history.sqlite")
        if is_memory_path(text):
            raise EmulatorError(
                f"--store {text!r} keeps nothing across restarts; name a file, e.g. --store emulator-history.sqlite"
            )
        problem = file_place_problem(self.path)
        if problem is not None:
            raise EmulatorError(f"--store {problem}")
        self._db: sqlite3.Connection | None = self._open()

    @property
    def _conn(self) -> sqlite3.Connection:
        # A stopped emulator's state may still be reset or read: the file is taken back for that.
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = None
        try:
            # timeout=0: a file another emulator holds is refused at once, not after SQLite's 5 s of retries.
            db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=0)
            # One emulator per file: two would hand out the same MessageIds and seqs and overwrite each
            # other's rows. The exclusive lock is taken by the first read and held until close().
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and "history" not in tables:
                # Another program's database (a mistyped path): adding a table to it would be a surprise.
                db.close()
                raise EmulatorError(
                    f"--store {str(self.path)!r} is another program's SQLite file (tables {', '.join(sorted(tables))});"
                    " name a new file or one the emulator wrote"
                )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS history (kind TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,"
                " PRIMARY KEY (kind, seq))"
            )
            db.execute("BEGIN EXCLUSIVE")  # the write lock now, not at the first push
            db.execute("COMMIT")
            return db
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            if not self.path.parent.is_dir():  # SQLite's own words would be "unable to open database file"
                raise EmulatorError(
                    f"--store {str(self.path)!r}: the folder {str(self.path.parent)!r} does not exist"
                ) from None
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise EmulatorError(
                    f"--store {str(self.path)!r} is in use by another emulator; one file serves one emulator"
                    " at a time (stop the other, or name another file)"
                ) from None
            raise EmulatorError(f"--store {str(self.path)!r} cannot be used as an SQLite file: {exc}") from None

    def reopen(self) -> None:
        """Open and lock the file again after :meth:`close` (an emulator started again); no-op when open.

        Raises :class:`EmulatorError` when another emulator holds it meanwhile.
        """
        self._conn  # noqa: B018 - opens the file

    def load(self, kind: str) -> list[dict[str, Any]]:
        """The last ``ring_size`` entries of ``kind`` (``pushes`` or ``calls``), oldest first.

        Raises :class:`EmulatorError` when the file holds something the emulator did not write.
        """
        try:
            rows = self._conn.execute(
                "SELECT body FROM history WHERE kind = ? ORDER BY seq DESC LIMIT ?", (kind, self.ring_size)
            ).fetchall()
            entries = [json.loads(body) for (body,) in reversed(rows)]
        except (sqlite3.Error, ValueError, TypeError) as exc:
            raise self._foreign(exc) from None
        # What the readers (pages, filters, counts, the inbox) index without looking first.
        required = (
            ("seq", "message_id", "devices") if kind == PUSHES else ("seq", "status", "action", "params", "devices")
        )
        for entry in entries:
            if not isinstance(entry, dict) or not all(key in entry for key in required):
                raise self._foreign(ValueError(f"a {kind} row without {', '.join(required)}"))
            if not isinstance(entry["seq"], int) or isinstance(entry["seq"], bool) or entry["seq"] < 1:
                raise self._foreign(ValueError(f"a {kind} row whose seq is not a positive integer"))
            if not isinstance(entry["devices"], list) or (kind == CALLS and not isinstance(entry["params"], dict)):
                raise self._foreign(ValueError(f"a {kind} row whose devices or params have the wrong type"))
            if kind == CALLS and entry["status"] not in CALL_STATUSES:
                raise self._foreign(ValueError(f"a call row whose status is not one of {', '.join(CALL_STATUSES)}"))
        return entries

    def next_message_id(self) -> int | None:
        """The MessageId counter saved by :meth:`save_next_message_id`, else ``None``.

        Raises :class:`EmulatorError` when the saved counter is not the emulator's.
        """
        value = self._meta(0, "next_message_id")
        # Only what save_next_message_id wrote: int() raised ValueError, OverflowError or TypeError out of
        # the constructor for "x", Infinity or [1] (a traceback from pushfn emulator) and took 1e300 and true.
        if value is not None and (type(value) is not int or not 1 <= value <= MAX_MESSAGE_ID):
            raise self._foreign(ValueError("the saved next MessageId is not a whole number from 1 to 2**63-1"))
        return value

    def floors(self) -> tuple[int, int]:
        """The last push and call ``seq`` handed out before the last clear (``(0, 0)`` when never cleared).

        Raises :class:`EmulatorError` when the saved row is not the emulator's.
        """
        saved = self._meta(1, "floors")
        if saved is None:
            return 0, 0
        if not (isinstance(saved, list) and len(saved) == 2 and all(type(n) is int and n >= 0 for n in saved)):
            raise self._foreign(ValueError("floors are not two whole numbers"))
        return saved[0], saved[1]

    def save_floors(self, push_floor: int, call_floor: int) -> None:
        """Remember where ``seq`` goes on after a clear, so a restart never hands a reader's ``since`` out again."""
        body = json.dumps({"floors": [push_floor, call_floor]})
        self._conn.execute("INSERT OR REPLACE INTO history VALUES (?, 1, ?)", (META, body))

    def _meta(self, seq: int, name: str) -> Any:
        try:
            row = self._conn.execute("SELECT body FROM history WHERE kind = ? AND seq = ?", (META, seq)).fetchone()
            return json.loads(row[0])[name] if row else None
        except (sqlite3.Error, ValueError, TypeError, KeyError, IndexError) as exc:
            raise self._foreign(exc) from None

    def _foreign(self, exc: BaseException) -> EmulatorError:
        # Another program's SQLite file, or one damaged by hand: say so instead of a traceback.
        return EmulatorError(
            f"--store {str(self.path)!r} is not an emulator history file ({type(exc).__name__}: {exc})"
        )

    def save_next_message_id(self, value: int) -> None:
        """Remember the next MessageId, so a restart never hands one out twice."""
        body = json.dumps({"next_message_id": value})
        self._conn.execute("INSERT OR REPLACE INTO history VALUES (?, 0, ?)", (META, body))

    def put(self, kind: str, entry: dict[str, Any]) -> None:
        """Write (or rewrite) ``entry`` under its ``seq`` and delete what fell out of the ring."""
        seq = entry["seq"]
        self._conn.execute(
            "INSERT OR REPLACE INTO history VALUES (?, ?, ?)", (kind, seq, json.dumps(entry, ensure_ascii=False))
        )
        if seq > self.ring_size:
            self._conn.execute("DELETE FROM history WHERE kind = ? AND seq <= ?", (kind, seq - self.ring_size))

    def clear(self) -> None:
        """Delete every entry (the MessageId counter stays)."""
        self._conn.execute("DELETE FROM history WHERE kind != ?", (META,))

    def close(self) -> None:
        """Close the file, which frees it for another emulator; :meth:`reopen` takes it back."""
        if self._db is not None:
            self._db.close()
            self._db = None


class History:
    """The two rings, their ``seq`` counters, running counts of call statuses, and listeners of new calls.

    ``ring_size``: entries kept per ring, 1 to :data:`~pushfn.settings.EMULATOR_MAX_RING_SIZE` (the
    bound of ``--ring-size`` and ``PUSHFN_EMULATOR_RING_SIZE`` too); ``store``: an SQLite path, or
    ``None`` for memory only. Raises :class:`EmulatorError` for a ring size out of bounds or a bad store.
    """

    def __init__(self, ring_size: int = DEFAULT_RING_SIZE, store: str | Path | None = None) -> None:
        if (
            not isinstance(ring_size, int)
            or isinstance(ring_size, bool)
            or not 1 <= ring_size <= EMULATOR_MAX_RING_SIZE
        ):
            raise EmulatorError(
                f"ring_size must be a whole number from 1 to {EMULATOR_MAX_RING_SIZE}, got {ring_size!r}"
            )
        self.ring_size = ring_size
        self.pushes: deque[dict[str, Any]] = deque(maxlen=ring_size)
        self.calls: deque[dict[str, Any]] = deque(maxlen=ring_size)
        self.counts = dict.fromkeys(CALL_STATUSES, 0)
        #: Called with each new call (under the state lock): the server's live feed.
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        # After a clear, seq goes on from the last one handed out (a reader's ``since`` stays valid).
        self._push_floor = self._call_floor = 0
        self.store = HistoryStore(store, ring_size) if store is not None else None
        if self.store is not None:
            self._push_floor, self._call_floor = self.store.floors()
            self.pushes.extend(self.store.load(PUSHES))
            for call in self.store.load(CALLS):
                self._append_call(call)

    @property
    def last_push_seq(self) -> int:
        """The ``seq`` of the newest push record (0 when none)."""
        return self.pushes[-1]["seq"] if self.pushes else 0

    @property
    def last_call_seq(self) -> int:
        """The ``seq`` of the newest call (0 when none)."""
        return self.calls[-1]["seq"] if self.calls else 0

    def clear(self) -> None:
        """Forget every push and call, in memory and in the store; ``seq`` keeps counting up."""
        # max: a second clear with nothing in between must not lower the floor back to 0.
        self._push_floor = max(self.last_push_seq, self._push_floor)
        self._call_floor = max(self.last_call_seq, self._call_floor)
        self.pushes.clear()
        self.calls.clear()
        self.counts = dict.fromkeys(CALL_STATUSES, 0)
        if self.store is not None:
            self.store.clear()
            self.store.save_floors(self._push_floor, self._call_floor)

    # --- writing ------------------------------------------------------------------------------

    def add_push(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """Keep ``record`` under the next ``seq``; returns the record it pushed out of the ring, if any."""
        record["seq"] = max(self.last_push_seq, self._push_floor) + 1
        evicted = self.pushes[0] if len(self.pushes) == self.ring_size else None
        self.pushes.append(record)
        if self.store is not None:
            self.store.put(PUSHES, record)
        return evicted

    def update_push(self, record: dict[str, Any]) -> None:
        """Write a changed record (CancelPush) through to the store."""
        if self.store is not None:
            self.store.put(PUSHES, record)

    def add_call(self, call: dict[str, Any]) -> None:
        """Keep ``call`` under the next ``seq``, count its status and tell every listener."""
        call["seq"] = max(self.last_call_seq, self._call_floor) + 1
        self._append_call(call)
        if self.store is not None:
            self.store.put(CALLS, call)
        for listener in self.listeners:
            listener(call)

    def _append_call(self, call: dict[str, Any]) -> None:
        if len(self.calls) == self.ring_size:
            self.counts[self.calls[0]["status"]] -= 1
        self.calls.append(call)
        self.counts[call["status"]] += 1

    # --- reading ------------------------------------------------------------------------------

    def push_page(self, since: int = 0, device: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Copies of push records with ``seq > since`` reaching ``device`` (if given), oldest first.

        At most ``limit`` of them, and never more than :data:`MAX_PAGE` (``None``: up to that many), so
        one answer stays small whatever ``ring_size`` is; the next page starts after the last ``seq``.
        """
        found: list[dict[str, Any]] = []
        cap = min(MAX_PAGE if limit is None else limit, MAX_PAGE)
        if cap <= 0:
            return found
        for record in self._after(self.pushes, since):
            if device is not None and device not in record["devices"]:
                continue
            found.append(_copy(record))
            if len(found) >= cap:
                break
        return found

    def call_page(
        self,
        since: int = 0,
        before: int | None = None,
        limit: int = 100,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Copies of calls with ``since < seq < before`` that ``match``, newest first, at most ``limit``."""
        found: list[dict[str, Any]] = []
        if limit <= 0:  # checked after each append below: 0 gave one call
            return found
        for call in reversed(self.calls):
            seq = call["seq"]
            if seq <= since:
                break
            if before is not None and seq >= before:
                continue
            if match is not None and not match(call):
                continue
            found.append(_copy(call))
            if len(found) >= min(limit, MAX_PAGE):
                break
        return found

    def calls_after(self, since: int) -> list[dict[str, Any]]:
        """Kept calls with ``seq > since``, oldest first (a reconnecting live feed's backlog): the newest
        :data:`MAX_PAGE` of them at most, so ``since=0`` on a ring of millions stays one page, as
        ``GET /_emulator/calls`` does (older ones are gone for that reader, as if the ring had dropped them)."""
        return [_copy(c) for c in self._after(self.calls, since)[-MAX_PAGE:]]

    @staticmethod
    def _after(ring: Iterable[dict[str, Any]], since: int) -> list[dict[str, Any]]:
        entries = list(ring)
        if since <= 0:
            return entries
        # seq grows along the ring: find the first entry past ``since`` by bisection.
        low, high = 0, len(entries)
        while low < high:
            mid = (low + high) // 2
            if entries[mid]["seq"] <= since:
                low = mid + 1
            else:
                high = mid
        return entries[low:]
