"""The background parts of ``pushfn serve``, each one thread with a clean stop: the timer
(:class:`Scheduler`), the watched bucket folder (:class:`FolderWatcher`, on ``watchfiles``) and the
in-process queue (:class:`LocalQueue`).

Each part calls back into the server for the work itself, so the function invocations (and their log
lines) live in one place. A stop lets the invocation in flight finish; what has not started is not run
(the queue logs how many jobs it hands back, the files' reports list them as queued).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
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
        """Watch until the stop event is set (``watchfiles`` checks it every 50 ms)."""
        from watchfiles import Change, watch

        def keep(change: Change, path: str) -> bool:
            return change != Change.deleted and (self.wanted(Path(path)) or _object_of(Path(path)) is not None)

        try:
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
            ):
                self.ready.set()
                # A sidecar dropped after its file runs the file again (with the content it brings); the
                # idempotency store makes that a no-op for a file already sent.
                paths = {_object_of(Path(p)) or Path(p) for _, p in changes}
                for path in sorted(paths):
                    if self._stopping.is_set():
                        return
                    if path.is_file() and _settled(path, self._stopping):
                        with contextlib.suppress(Exception):  # logged by the invocation; keep watching
                            self._on_file(path)
        except Exception as exc:  # the folder vanished, a watch limit was reached
            logger.error(
                "the bucket folder is no longer watched: %s",
                type(exc).__name__,
                extra={"fields": {"event": "serve.watch_failed", "error": str(exc)[:300]}},
            )


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


class LocalQueue(threading.Thread):
    """The in-process queue of the queue function: :meth:`put` an event, one worker runs
    ``run_job(event)`` for each, in order. :meth:`close` lets the job in flight finish and hands back
    (logs, does not run) the ones still waiting."""

    def __init__(self, run_job: Callable[[Any], Any]) -> None:
        super().__init__(name="pushfn-local-queue", daemon=False)
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._run_job = run_job
        self._closing = threading.Event()
        self.handed_back = 0

    def put(self, event: Any) -> None:
        """Queue one event for the queue function (bytes, or a JSON value); refused after :meth:`close`."""
        if self._closing.is_set():
            raise RuntimeError("the local queue is closed")
        self._jobs.put(event)

    def pending(self) -> int:
        """Events waiting (not counting the one running)."""
        return self._jobs.qsize()

    def run(self) -> None:
        """Run jobs until closed."""
        while True:
            event = self._jobs.get()
            if event is _CLOSE:
                break
            if self._closing.is_set():
                self.handed_back += 1
                continue
            with contextlib.suppress(Exception):  # logged by the invocation
                self._run_job(event)
        if self.handed_back:
            logger.warning(
                "%d queued job(s) not run at shutdown; the files' reports list them as queued — drop the file "
                "again to send them",
                self.handed_back,
                extra={"fields": {"event": "serve.queue_handed_back", "jobs": self.handed_back}},
            )

    def close(self, timeout: float | None = None) -> None:
        """Stop taking jobs, finish the one running, hand back the rest; waits up to ``timeout`` seconds."""
        self._closing.set()
        self._jobs.put(_CLOSE)
        if self.is_alive():
            self.join(timeout)


_CLOSE: Any = object()

__all__ = ["FolderWatcher", "LocalQueue", "Scheduler", "utc_now"]
