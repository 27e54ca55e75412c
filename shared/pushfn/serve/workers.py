"""The background parts of ``pushfn serve``, each one thread with a clean stop: the timer
(:class:`Scheduler`), the watched bucket folder (:class:`FolderWatcher`, on ``watchfiles``) and the
in-process queue (:class:`LocalQueue`, which also delivers a failed timer tick again).

Each part calls back into the server for the work itself, so the function invocations (and their log
lines) live in one place. A stop lets the invocation in flight finish; what has not started is not run
(the queue keeps the jobs it hands back in the data folder for the next start).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pushfn.logs import get_logger
from pushfn.serve.schedules import Schedule

logger = get_logger("pushfn.serve")

#: Longest wait between two looks at the clock (a laptop that slept must not miss a whole day).
_MAX_WAIT_SECONDS = 30.0
#: Files the folder watcher never runs: what the file function writes or reads beside an object, and
#: editors' and downloaders' temporary files.
_PARTS_FOLDER_SUFFIX = ".report.json.parts"
#: What the deployed OSS / S3 triggers pass to the file function (their suffix filters).
_OBJECT_SUFFIXES = (".txt", ".csv", ".jsonl", ".gz")
_SIDECAR_SUFFIXES = (".push.json", ".meta.json")
_IGNORED_SUFFIXES = (".report.json", ".push.json", ".meta.json", ".tmp", ".part", ".crdownload", ".swp", "~")


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


class Scheduler(threading.Thread):
    """Fires each enabled schedule at its times: ``fire(schedule, scheduled_time)`` in this thread.

    A firing that falls behind (a long tick, a laptop asleep) is not caught up: the next one is counted
    from now, as a scheduler that was down would.
    """

    def __init__(
        self,
        schedules: Sequence[Schedule],
        fire: Callable[[Schedule, datetime], Any],
        stop: threading.Event,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(name="pushfn-scheduler", daemon=False)
        self._schedules = [s for s in schedules if s.enabled]
        self._fire = fire
        self._stopping = stop
        self._clock = clock

    def next_times(self, started: datetime) -> dict[str, datetime]:
        """The first firing of every enabled schedule after ``started`` (one-time ones in the past left out)."""
        found = {}
        for schedule in self._schedules:
            when = schedule.timing.next_after(started, started=started)
            if when is not None:
                found[schedule.name] = when
        return found

    def run(self) -> None:
        """Wait for the next firing, fire what is due, until the stop event is set."""
        started = self._clock()
        upcoming = self.next_times(started)
        by_name = {s.name: s for s in self._schedules}
        while upcoming and not self._stopping.is_set():
            due = min(upcoming.values())
            wait = (due - self._clock()).total_seconds()
            if wait > 0 and self._stopping.wait(min(wait, _MAX_WAIT_SECONDS)):
                break
            now = self._clock()
            for name, when in sorted(upcoming.items(), key=lambda item: item[1]):
                if when > now or self._stopping.is_set():
                    continue
                with contextlib.suppress(Exception):  # logged by the invocation; the schedule keeps running
                    self._fire(by_name[name], when)
                following = by_name[name].timing.next_after(max(when, self._clock()), started=started)
                if following is None:
                    del upcoming[name]
                else:
                    upcoming[name] = following


class FolderWatcher(threading.Thread):
    """Runs ``on_file(path)`` for each file added to or changed in ``folder`` (recursively), one at a time.

    Watches with ``watchfiles`` (inotify/FSEvents/ReadDirectoryChangesW through Rust's ``notify``), which
    also groups the events of one write. A file still growing is waited for (its size unchanged for
    0.2 s). Only names ending ``.txt``, ``.csv``, ``.jsonl`` or ``.gz`` run, as the deployed triggers'
    suffix filters pass; reports (and a fanned-out report's parts folder), hidden and temporary files are
    ignored; a sidecar (``.push.json``, ``.meta.json``) runs its file, when that file is there.
    """

    def __init__(self, folder: Path, on_file: Callable[[Path], Any], stop: threading.Event) -> None:
        super().__init__(name="pushfn-bucket-watcher", daemon=False)
        self.folder = folder
        self._on_file = on_file
        self._stopping = stop
        self.ready = threading.Event()
        self._batches = 0  # batches the watch handed over (a restart that yields none is failing for good)

    @staticmethod
    def wanted(path: Path) -> bool:
        """Whether a file at ``path`` is an object to run (see the class docstring)."""
        name = path.name
        if any(parent.name.lower().endswith(_PARTS_FOLDER_SUFFIX) for parent in path.parents):
            return False  # the parts of a fanned-out report, written by the queue function
        lowered = name.lower()
        return (
            not name.startswith(".")
            and not lowered.endswith(_IGNORED_SUFFIXES)
            # The deployed triggers' suffix filters (template.yaml, s.yaml): any other file never runs.
            and lowered.endswith(_OBJECT_SUFFIXES)
        )

    def run(self) -> None:
        """Watch until the stop event is set (``watchfiles`` checks it every 50 ms). A batch of changes the
        watch cannot hand over (a file or folder whose name is not UTF-8: ``watchfiles`` raises for its
        path) is logged and the watch starts again, polling from then on (the native watch cannot even
        start beside a folder whose name is not UTF-8; a poll starts from a snapshot that holds it); once it
        is in place, the files changed since shortly before the failure run (the good files of the lost
        batch, and any dropped while it restarted: the idempotency store makes a file already sent a no-op).
        Only a folder that is gone, or a watch that fails before its first batch again and again, ends it."""
        since: float | None = None
        failures = 0  # in a row, without a batch between them
        while not self._stopping.is_set():
            batches = self._batches
            try:
                self._watch(since, polling=since is not None)
                return  # the stop event ended the watch
            except Exception as exc:
                failures = failures + 1 if self._batches == batches else 1
                if not self.folder.is_dir() or failures > _MAX_WATCH_FAILURES:
                    logger.error(
                        "the bucket folder is no longer watched: %s",
                        type(exc).__name__,
                        extra={"fields": {"event": "serve.watch_failed", "error": str(exc)[:300]}},
                    )
                    return
                logger.error(
                    "a change in the bucket folder could not be read (%s; a file name that is not UTF-8?): "
                    "watching again, by polling, and running the files changed meanwhile",
                    type(exc).__name__,
                    extra={"fields": {"event": "serve.watch_restarted", "error": str(exc)[:300]}},
                )
                since = time.time() - _WATCH_RESTART_SECONDS - 1.0  # the lost batch's debounce, and margin
                self._stopping.wait(_WATCH_RESTART_SECONDS)

    def _watch(self, since: float | None, *, polling: bool) -> None:
        from watchfiles import Change, watch

        def keep(change: Change, path: str) -> bool:
            return change != Change.deleted and (self.wanted(Path(path)) or _object_of(Path(path)) is not None)

        for changes in watch(
            self.folder,
            watch_filter=keep,
            stop_event=self._stopping,
            recursive=True,
            raise_interrupt=False,
            debounce=400,
            # An empty batch after each quiet 0.2 s: the first one says the watch is in place, so a
            # file dropped once the banner is printed is never missed.
            rust_timeout=200,
            yield_on_timeout=True,
            force_polling=polling,
            poll_delay_ms=_POLL_MILLISECONDS,
        ):
            self.ready.set()
            self._batches += 1
            # A sidecar dropped after its file runs the file again (with the content it brings); the
            # idempotency store makes that a no-op for a file already sent.
            paths = {_object_of(Path(p)) or Path(p) for _, p in changes}
            if since is not None:  # the first batch of a restarted watch: it is in place now
                paths |= self._changed_since(since)
                since = None
            for path in sorted(paths):
                if self._stopping.is_set():
                    return
                if path.is_file() and _settled(path, self._stopping):
                    with contextlib.suppress(Exception):  # logged by the invocation; keep watching
                        self._on_file(path)

    def _changed_since(self, since: float) -> set[Path]:
        """The objects to run whose file changed at or after ``since`` (epoch seconds); names that are not
        UTF-8 are left out (no object key can hold them)."""
        found: set[Path] = set()
        for root, _, names in os.walk(self.folder):
            for name in names:
                path = Path(root, name)
                try:
                    str(path).encode("utf-8")
                    changed = path.stat().st_mtime >= since
                except (UnicodeEncodeError, OSError):
                    continue
                target = _object_of(path) or path
                if changed and self.wanted(target):
                    found.add(target)
        return found


#: How often a polling watch looks at the folder.
_POLL_MILLISECONDS = 300
#: Failures in a row, none of them after a batch, that end the watch (the bucket folder's own name cannot be read).
_MAX_WATCH_FAILURES = 5
#: Pause before the watch starts again after a change it could not read (so a file rewritten in a loop
#: cannot make it spin).
_WATCH_RESTART_SECONDS = 0.5


def _object_of(path: Path) -> Path | None:
    """The object a sidecar (``<key>.push.json``, ``<key>.meta.json``) belongs to, or None."""
    for suffix in _SIDECAR_SUFFIXES:
        if path.name.lower().endswith(suffix) and len(path.name) > len(suffix):
            target = path.with_name(path.name[: -len(suffix)])
            return target if FolderWatcher.wanted(target) else None
    return None


def _settled(path: Path, stop: threading.Event) -> bool:
    """True once ``path``'s size and mtime stay the same for 0.2 s (False if it vanished or we stop)."""
    try:
        before = path.stat()
        while not stop.wait(0.2):
            after = path.stat()
            if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
                return True
            before = after
    except FileNotFoundError:
        return False
    return False


@dataclass(frozen=True)
class GiveBack:
    """What a job hands back to its queue to be received again after the visibility timeout: the
    ``event`` (the whole job, or an SQS batch of only the records its reply listed in
    ``batchItemFailures``) and the ``reason`` (for the log line and, at the last receive, the dead letter)."""

    event: Any
    reason: str


@dataclass(order=True)
class _Job:
    due: float  # wall-clock seconds (epoch) when it becomes visible again; kept across restarts
    number: int  # ties broken in arrival order
    event: Any = field(compare=False)
    receives: int = field(compare=False, default=0)  # times received so far (SQS's ApproximateReceiveCount)
    reason: str = field(compare=False, default="")


class LocalQueue(threading.Thread):
    """A local stand-in for SQS: :meth:`put` an event, one worker runs ``run_job(event)`` for each, in
    order of visibility.

    A job that asks to be retried — ``run_job`` returns a :class:`GiveBack`, or raises (a
    :class:`~pushfn.triggers.RetryLaterError` or anything else, as a Lambda error returns the whole
    batch) — is not received again at once: like an SQS message whose visibility timeout runs out, it
    becomes visible ``visibility_timeout()`` seconds later (``pushfn serve`` passes the idempotency guard's
    in-progress lease, so the redelivery is not refused as "in progress"). After ``max_receives``
    receives (SQS's ``maxReceiveCount``) a job still asking is passed to ``dead_letter(event, reason,
    receives)`` instead, and logged.

    :meth:`close` lets the job in flight finish; the jobs still waiting (for a first receive, or for their
    redelivery) are handed back: written to ``keep`` (a JSON file; ``None``: only logged) with their
    receive counts and due times, and :meth:`resume` on the next start puts them back. ``clock`` is the
    wall clock in epoch seconds (injectable for tests; :meth:`wake` makes the worker look at it again).
    """

    def __init__(
        self,
        run_job: Callable[[Any], GiveBack | None],
        *,
        name: str = "pushfn-local-queue",
        visibility_timeout: Callable[[], float] = lambda: 0.0,
        max_receives: int = 3,
        dead_letter: Callable[[Any, str, int], Any] | None = None,
        keep: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_receives < 1:
            raise ValueError("max_receives must be at least 1")
        super().__init__(name=name, daemon=False)
        self._run_job = run_job
        self._visibility = visibility_timeout
        self.max_receives = max_receives
        self._dead_letter = dead_letter
        self._keep = keep
        self._clock = clock
        self._jobs: list[_Job] = []
        self._numbers = itertools.count()
        self._changed = threading.Condition()
        self._closing = False
        self.handed_back = 0

    def put(self, event: Any, *, delay: float = 0.0, receives: int = 0, reason: str = "") -> None:
        """Queue one event (bytes, or a JSON value), visible after ``delay`` seconds, already received
        ``receives`` times; refused (``RuntimeError``) after :meth:`close`."""
        with self._changed:
            if self._closing:
                raise RuntimeError("the local queue is closed")
            self._push(_Job(self._clock() + delay, next(self._numbers), event, receives, reason))

    def _push(self, job: _Job) -> None:
        heapq.heappush(self._jobs, job)
        self._changed.notify_all()

    def pending(self) -> int:
        """Events waiting, for a first receive or a redelivery (not counting the one running)."""
        with self._changed:
            return len(self._jobs)

    def wake(self) -> None:
        """Make the worker look at the clock again (after an injected clock moved)."""
        with self._changed:
            self._changed.notify_all()

    def _next(self) -> _Job | None:
        """The next visible job, waiting for it; None once closing."""
        with self._changed:
            while not self._closing:
                if self._jobs:
                    wait = self._jobs[0].due - self._clock()
                    if wait <= 0:
                        return heapq.heappop(self._jobs)
                else:
                    wait = _MAX_WAIT_SECONDS
                self._changed.wait(min(wait, _MAX_WAIT_SECONDS))
            return None

    def run(self) -> None:
        """Run jobs as they become visible, until closed; then hand back what waits."""
        while (job := self._next()) is not None:
            job.receives += 1
            try:
                given = self._run_job(_with_receive_count(job.event, job.receives))
            except Exception as exc:  # logged by the invocation; the platform would deliver it again
                given = GiveBack(job.event, _reason(exc))
            if given is not None:
                self.give_back(given.event, given.reason, job.receives)
        self._hand_back()

    def give_back(self, event: Any, reason: str, receives: int) -> None:
        """Hand back ``event``, received ``receives`` times and asking to be retried for ``reason``: visible
        again after the visibility timeout, or, at ``max_receives``, to the dead letters (logged either way).
        After :meth:`close` it is kept with the rest for the next start."""
        if receives >= self.max_receives:
            logger.error(
                "gave up after %d receives (maxReceiveCount): %s; sent to the dead letters",
                receives,
                reason,
                extra={
                    "fields": {
                        "event": "serve.dead_lettered",
                        "queue": self.name,
                        "receives": receives,
                        "reason": reason,
                    }
                },
            )
            if self._dead_letter is not None:
                try:
                    self._dead_letter(event, reason, receives)
                except Exception as exc:  # the dead letter could not be written: keep the job, never lose it
                    logger.error(
                        "the dead letter could not be written (%s); kept for the next start",
                        type(exc).__name__,
                        extra={"fields": {"event": "serve.dead_letter_failed", "queue": self.name}},
                    )
                    with self._changed:
                        self._push(
                            _Job(
                                self._clock() + max(0.0, self._visibility()),
                                next(self._numbers),
                                event,
                                receives,
                                reason,
                            )
                        )
            return
        delay = max(0.0, self._visibility())
        logger.warning(
            "handed back (%s); received again in %.0f s (receive %d of %d)",
            reason,
            delay,
            receives + 1,
            self.max_receives,
            extra={
                "fields": {
                    "event": "serve.redelivery_scheduled",
                    "queue": self.name,
                    "receives": receives,
                    "delay_s": round(delay, 3),
                    "reason": reason,
                }
            },
        )
        with self._changed:
            self._push(_Job(self._clock() + delay, next(self._numbers), event, receives, reason))

    def _hand_back(self) -> None:
        with self._changed:
            waiting, self._jobs = sorted(self._jobs), []
        self.handed_back = len(waiting)
        if not waiting:
            return
        where = "not kept"
        if self._keep is not None:
            try:
                _write_kept(self._keep, waiting)
                where = f"kept in {self._keep}; the next pushfn serve resumes them"
            except (OSError, TypeError, ValueError) as exc:
                where = f"NOT kept ({type(exc).__name__}: {exc})"
        logger.warning(
            "%d job(s) handed back at shutdown (%d waiting for a redelivery): %s",
            len(waiting),
            sum(1 for job in waiting if job.receives),
            where,
            extra={
                "fields": {
                    "event": "serve.queue_handed_back",
                    "queue": self.name,
                    "jobs": len(waiting),
                    "redeliveries": sum(1 for job in waiting if job.receives),
                    "kept": None if self._keep is None else str(self._keep),
                }
            },
        )

    def resume(self) -> int:
        """Put back the jobs a previous :meth:`close` kept (their receive counts and due times as they
        were), then remove the file; how many. A file that cannot be read is renamed aside (``.bad``) and
        logged, never silently dropped."""
        if self._keep is None or not self._keep.exists():
            return 0
        try:
            jobs = _read_kept(self._keep)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            aside = self._keep.with_name(self._keep.name + ".bad")
            with contextlib.suppress(OSError):
                self._keep.replace(aside)
            logger.error(
                "%s cannot be read (%s); moved to %s, its jobs not resumed",
                self._keep,
                type(exc).__name__,
                aside,
                extra={"fields": {"event": "serve.queue_resume_failed", "queue": self.name, "file": str(aside)}},
            )
            return 0
        with self._changed:
            for due, event, receives, reason in jobs:
                self._push(_Job(due, next(self._numbers), event, receives, reason))
        self._keep.unlink()
        logger.warning(
            "%d job(s) handed back by the last stop resumed",
            len(jobs),
            extra={"fields": {"event": "serve.queue_resumed", "queue": self.name, "jobs": len(jobs)}},
        )
        return len(jobs)

    def close(self, timeout: float | None = None) -> None:
        """Stop taking jobs, finish the one running, hand back the rest; waits up to ``timeout`` seconds."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self.is_alive():
            self.join(timeout)
        elif self._jobs:  # never started: nothing else will hand them back
            self._hand_back()


def _reason(exc: BaseException) -> str:
    reasons = getattr(exc, "reasons", None)
    if reasons:
        return "; ".join(str(r) for r in reasons)[:300]
    return f"raised {type(exc).__name__}"


def _with_receive_count(event: Any, receives: int) -> Any:
    """An SQS event with each record's ``ApproximateReceiveCount`` set to ``receives``, as SQS shows it."""
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        records = []
        for record in event["Records"]:
            if isinstance(record, dict) and isinstance(record.get("attributes"), dict):
                record = {**record, "attributes": {**record["attributes"], "ApproximateReceiveCount": str(receives)}}
            records.append(record)
        return {**event, "Records": records}
    return event


#: The kept file's format version. Version 2 holds each JSON event as its ASCII JSON text (version 1, still
#: read, held the event itself: a string longer than the input bound, or a lone surrogate, made it unreadable).
_KEPT_VERSION = 2
#: Longest string a kept file may hold: an event's JSON text or base64 bytes. An SQS body is at most 256 KiB,
#: at most 6 characters each once escaped as ASCII; a batch holds at most 10.
_KEPT_MAX_STRING_CHARS = 16 * 1024 * 1024


def _write_kept(path: Path, jobs: list[_Job]) -> None:
    """Write ``jobs`` to ``path`` (0600: bodies hold device ids) whole, through a temporary file.

    Every string is ASCII (JSON events as their ``ensure_ascii`` text, bytes as base64), so any event the
    queue held, a lone surrogate included, can be written and read back; an event that is not JSON at all
    raises ``TypeError`` or ``ValueError`` and nothing is left behind."""
    import base64
    import json
    import os

    items = []
    for job in jobs:
        if isinstance(job.event, bytes):
            body: dict[str, Any] = {"bytes": base64.b64encode(job.event).decode("ascii")}
        else:
            body = {"json_text": json.dumps(job.event, ensure_ascii=True)}
        items.append({"due": job.due, "receives": job.receives, "reason": job.reason, **body})
    text = json.dumps({"version": _KEPT_VERSION, "jobs": items}, ensure_ascii=True)
    draft = path.with_name(f".{path.name}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        draft.replace(path)
    except BaseException:
        draft.unlink(missing_ok=True)
        raise


def _read_kept(path: Path) -> list[tuple[float, Any, int, str]]:
    """The jobs :func:`_write_kept` wrote (version 1 files too): ``(due, event, receives, reason)``;
    ``ValueError`` and the like for a file it did not write."""
    import base64
    import json

    from pushfn.json_input import decode_json

    document = decode_json(path.read_bytes(), max_string_chars=_KEPT_MAX_STRING_CHARS)
    if not isinstance(document, dict) or document.get("version") not in (1, _KEPT_VERSION):
        raise ValueError("not a kept-queue file")
    found = []
    for item in document["jobs"]:
        if "bytes" in item:
            event = base64.b64decode(item["bytes"], validate=True)
        elif "json_text" in item:
            try:
                # The event exactly as the queue held it (checked by the queue function, message by message,
                # as a platform's event is): only its nesting must not break this reader.
                event = json.loads(item["json_text"])
            except RecursionError:
                raise ValueError("a kept job nests too deep") from None
        else:
            event = item["json"]
        due, receives, reason = item["due"], item["receives"], item.get("reason", "")
        if not isinstance(due, (int, float)) or not isinstance(receives, int) or not isinstance(reason, str):
            raise TypeError("a kept job's due, receives or reason has the wrong type")
        found.append((float(due), event, receives, reason))
    return found


__all__ = ["FolderWatcher", "GiveBack", "LocalQueue", "Scheduler", "utc_now"]
