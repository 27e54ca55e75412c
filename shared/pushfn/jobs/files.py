"""One uploaded file of targets → pushes, chunk by chunk, each at most once; a report beside the file.

For every new object the event names (:mod:`pushfn.triggers.objects`):

1. **Push content**, the first found: the sidecar ``<key>.push.json``; the object's ``push-template``
   metadata naming a configured template (``PUSHFN_TEMPLATES``); the default spec
   ``PUSHFN_FILE_PUSH_SPEC``. Each is a push spec without targets (``{"DeviceType", "PushType", "Title",
   "Body", ...}``, placeholders allowed) or a template reference ``{"template": NAME}``; either may
   say ``"target_type"`` (``DEVICE``, ``ACCOUNT``, ``ALIAS``: the type of a ``.txt`` file's lines,
   default ``DEVICE``). None of them, or one that is unusable → the file is **rejected** with a
   report saying why, and nothing is sent.
2. The object is **streamed** through :class:`~pushfn.targets.formats.TargetRows` and
   :func:`~pushfn.targets.chunks.plan_chunks` (``Push`` ≤ 1,000 targets, ``MassPush`` ≤ 100 tasks).
3. Each chunk goes through the idempotency guard under its own key
   :func:`~pushfn.targets.chunks.chunk_key` (bucket, key, ETag or version id, index) — function
   ``file_push``, scope ``file`` — with its own ``IdempotentToken``, up to ``PUSHFN_FILE_CONCURRENCY``
   at once. A redelivered event, or a run restarted after a crash, replays the chunks already sent
   from the guard's records and sends only the rest.
4. ``<key>.report.json`` is written beside the object (:class:`~pushfn.targets.report.Report`).

**Continuous mode** (``"mode": "continuous"`` in the content; the content may have no placeholders):
one ``Push`` with ``Target=TBD`` opens the campaign (through the guard under
:func:`~pushfn.targets.chunks.campaign_key`, so a rerun replays its MessageId), then each chunk is one
``ContinuouslyPush`` of that MessageId (at most :data:`MAX_CONTINUOUS_CHUNKS`; later chunks are reported
failed), so the whole file has one MessageId for statistics (:class:`Campaign`). ContinuouslyPush takes
no IdempotentToken: a chunk whose call may have gone out without an answer is recorded ``maybe_sent``
and never sent again.

Failures: a chunk refused permanently (a 4xx that is the data's fault) is recorded as ``failed`` and
the next chunk still goes out. A transient failure the client's own retries did not overcome
(throttling, 5xx, network, the store) stops the file: the report says ``partial`` and the handler
raises :class:`~pushfn.triggers.RetryLaterError` so the platform delivers the event again — the
retry replays the finished chunks and resumes at the failed one. The same happens when the function
nears its timeout (Lambda: ``get_remaining_time_in_millis``; FC: ``function.timeout`` from the start
of the invocation): the run stops *between* chunks, writes a partial report and asks for the retry,
instead of being killed mid-chunk. With several chunks in flight, a stop means no chunk is handed
out after it; the ones already in flight finish and are recorded. The client-side rate limit
(:mod:`pushfn.jobs.throttle`) never sleeps past that stop time either: a chunk whose wait for its
quota would end later is not sent (it stays pending) and the run stops the same way.

**Fan-out** (:mod:`pushfn.jobs.fanout`): once a file has more valid targets than
``PUSHFN_FILE_FANOUT_TARGETS``, the later chunks are handed to the queue function (SQS, FC async
invocation, or in-process locally; :func:`~pushfn.triggers.objects.fanout_sink`) and reported ``queued``.
The queue function records each one's outcome as a part beside the report; after writing its report
the file function merges the parts already there (:func:`~pushfn.targets.parts.complete_report`), so
the report says ``complete`` as soon as the last chunk is in, whichever side got there last.

A malformed event is logged and not retried; a missing or forbidden object is logged and not retried;
a store that failed transiently is retried.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pushfn.errors import ConfigurationError, FieldProblem
from pushfn.functions import FILE_PUSH
from pushfn.jobs.outcomes import Verdict, safe_text, sending_failure
from pushfn.logs import get_logger

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from pushfn.idempotency import Guard
    from pushfn.jobs.fanout import Fanout
    from pushfn.jobs.throttle import RateLimiter
    from pushfn.push import PushSender
    from pushfn.runtime import Runtime
    from pushfn.targets.chunks import Chunk
    from pushfn.targets.readers import ObjectReader
    from pushfn.targets.report import Report
    from pushfn.triggers.objects import ObjectCreated

FUNCTION_NAME = FILE_PUSH
SCOPE = "file"
#: Stop between chunks when less than this is left of the function's time (plus the slowest chunk so far).
STOP_MARGIN_SECONDS = 10.0
#: Keys of a push content that are not Push parameters.
TARGET_TYPE_KEY = "target_type"
#: Sending modes (the content's ``"mode"``): one call per chunk, each its own MessageId (default) …
PER_CHUNK = "per_chunk"
#: … or one campaign: ``Push`` with ``Target=TBD``, then ``ContinuouslyPush`` per chunk, one MessageId.
CONTINUOUS = "continuous"
CONTINUOUSLY_PUSH = "ContinuouslyPush"
#: Most ContinuouslyPush calls of one campaign; chunks beyond it are reported failed.
MAX_CONTINUOUS_CHUNKS = 10_000
#: The result key by which a chunk's guard record says it may have been sent (continuous mode).
MAYBE_SENT = "maybe_sent"

logger = get_logger("pushfn.jobs.files")


def ContentError(message: str) -> Exception:
    """A :class:`~pushfn.targets.errors.TargetFileError` of rule ``content``: no usable push content."""
    from pushfn.targets.errors import TargetFileError

    return TargetFileError("content", message)


@dataclass
class FileOutcome:
    """What one object came to: ``summary`` (status, counts, where the report went) and, when a retry
    can finish it, ``retry_reason``."""

    summary: dict[str, Any]
    retry_reason: str | None = None
    cause: BaseException | None = field(default=None, repr=False)


# --- the handler -----------------------------------------------------------------------------------


def handle_object_event(event: object, context: Any = None) -> dict[str, Any]:
    """The ``file_push`` handler: an OSS/S3 object event in, ``{"files": [...], "skipped": [...]}`` out.

    Raises :class:`~pushfn.triggers.RetryLaterError` (through the adapter's
    :func:`~pushfn.triggers.objects.platform_reply`) when some file stopped on a transient failure or
    the timeout (after every other file was handled), and ``ConfigurationError``/``CredentialsError``
    when the configuration is unusable. Everything else is in the answer and the reports.
    """
    from pushfn.jobs.fanout import Fanout
    from pushfn.runtime import get_runtime
    from pushfn.triggers.objects import ObjectEventError, fanout_sink, object_reader, parse_object_event, platform_reply

    started = _clock()
    try:
        events = parse_object_event(event)
    except ObjectEventError as exc:
        _log(logging.ERROR, "file_push.malformed_event", "malformed event, not retried: %s", str(exc))
        return {"status": "invalid", "problem": safe_text(str(exc)), "files": [], "skipped": []}
    skipped = []
    for record in events.skipped:
        _log(
            logging.INFO,
            "file_push.skipped",
            "record skipped: %s",
            record.detail,
            index=record.index,
            reason=record.reason,
            key=record.key,
        )
        skipped.append({"index": record.index, "reason": record.reason, "detail": record.detail})
    runtime = get_runtime(context)
    deadline = _deadline(context, started)
    outcomes = []
    for obj in events.objects:
        reader = object_reader(obj, runtime.settings, runtime.credentials)
        sink = fanout_sink(obj, runtime.settings, runtime.credentials, context)
        fanout = Fanout(sink, runtime.settings.pushfn_file_fanout_targets, reader) if sink is not None else None
        outcomes.append(
            process_object(
                obj,
                reader=reader,
                guard=runtime.guard(FUNCTION_NAME),
                client=runtime.client,
                runtime=runtime,
                context=context,
                deadline=deadline,
                fanout=fanout,
            )
        )
    # Whether a retry is asked for, and how, is the platform's: the adapter raises when one is needed.
    return platform_reply({"status": "ok", "files": [o.summary for o in outcomes], "skipped": skipped}, outcomes)


def _clock() -> float:
    """The job's monotonic clock (a test moves it instead of sleeping)."""
    return time.monotonic()


def _deadline(context: Any, started: float) -> float | None:
    """The :func:`_clock` value by which the function must have stopped, or None when unknown."""
    from pushfn.triggers.objects import remaining_seconds

    left = remaining_seconds(context, elapsed=_clock() - started)
    return None if left is None else _clock() + left


# --- one object ------------------------------------------------------------------------------------


def process_object(
    obj: ObjectCreated,
    *,
    reader: ObjectReader,
    guard: Guard,
    client: PushSender,
    runtime: Runtime | None = None,
    context: Any = None,
    deadline: float | None = None,
    fanout: Fanout | None = None,
) -> FileOutcome:
    """Read, plan, send and report one object (see the module docstring). ``runtime`` supplies the
    templates and the default spec (``templates()`` and ``settings``); ``deadline`` is a :func:`_clock`
    value by which the run must have stopped; ``fanout`` takes the chunks of a big file."""
    from pushfn.targets.chunks import plan_chunks
    from pushfn.targets.errors import ObjectStoreError, TargetFileError
    from pushfn.targets.formats import TargetRows
    from pushfn.targets.report import Report

    clock = _clock
    report = Report(bucket=obj.bucket, key=obj.key, version=obj.version)
    fields = {"bucket": obj.bucket, "key": obj.key, "version": obj.version}
    try:
        stream = reader.open(obj.bucket, obj.key)
    except ObjectStoreError as exc:
        return _store_failure(obj, exc, report, reader)
    try:
        content, target_type, mode, source = find_content(obj, reader, runtime)
    except ObjectStoreError as exc:
        _close(stream)
        return _store_failure(obj, exc, report, reader)
    except TargetFileError as exc:  # no usable push content
        _close(stream)
        report.rejected = exc.to_dict()
        return _finish(obj, report, reader, None)
    try:
        rows = TargetRows(stream, obj.key, target_type=target_type)
    except TargetFileError as exc:
        _close(stream)
        report.rejected = exc.to_dict()
        return _finish(obj, report, reader, None)
    report.format = rows.format.to_dict()
    _log(logging.INFO, "file_push.start", "file started (content from %s, mode %s)", source, mode, **fields)
    campaign = Campaign(obj, guard, client, context) if mode == CONTINUOUS else None

    sender = _Sender(obj, report, guard, client, context, campaign, _concurrency(runtime, campaign), deadline)
    superseded = False  # an earlier run's report was marked stopped (or needs no marking) before fan-out
    try:
        for chunk in plan_chunks(rows, content, report, check_task=task_problems):
            sender.wait_for_slot()
            if sender.retry_reason is not None:
                continue  # stopped: the rest is only planned, so the report counts it as pending
            if deadline is not None and deadline - clock() < STOP_MARGIN_SECONDS + sender.slowest:
                sender.retry_reason = f"{obj.key}: near the function's timeout before chunk {chunk.index}"
                _log(logging.WARNING, "file_push.timeout", "stopping between chunks: %s", sender.retry_reason, **fields)
                continue
            if fanout is not None and campaign is None and fanout.takes(report) and fanout.fits(obj, chunk):
                if not superseded:
                    superseded = _supersede(obj, reader, sender.report)
                # The planner's thread queues the chunk; the report is the workers' locked one.
                handing = clock()
                stop, failure_cause = fanout.hand_over(obj, chunk, sender.report)
                sender.handed_over(clock() - handing)
                if stop and sender.retry_reason is None:
                    sender.retry_reason, sender.cause = stop, failure_cause
                continue
            sender.hand_out(chunk)
    except ObjectStoreError as exc:  # the stream broke while reading
        sender.finish()
        report.send_seconds = sender.sending
        if exc.transient:
            _finish(obj, report, reader, None)
            return FileOutcome(_summary(obj, report, None), f"{obj.key}: {exc.reason}", exc)
        report.rejected = {"rule": "read", "message": str(exc), "line": None}
    finally:
        sender.finish()  # the chunks in flight finish and are recorded before the report is written
        _close(stream)
    retry_reason, cause = sender.retry_reason, sender.cause
    sending = sender.sending
    report.send_seconds = sending
    if campaign is not None:
        report.campaign = {"mode": CONTINUOUS, "message_id": campaign.message_id}
    return _finish(obj, report, reader, retry_reason, cause)


#: The task prefix :func:`task_problems` checks a row under (a MassPush of that one task).
_ONE_TASK = "PushTask.1."


def task_problems(task: Mapping[str, Any]) -> list[FieldProblem]:
    """The problems that would make CloudPush refuse one personalised row's rendered MassPush ``task``
    (a control character or an out-of-range number a row's value put in a field), named by the task's own
    field (``Title``, not ``PushTask.37.Title``); empty when it is valid. Checked as the row is planned, so
    such a row is an invalid line of the report and the other rows of its chunk are still sent, as a poison
    message never sinks its batch; the client's check of the whole call would refuse all 100 tasks for it.
    The ``AppKey`` given is a stand-in (the client fills the real one; it takes no part in the task rules)."""
    from pushfn.push.errors import InvalidRequestError
    from pushfn.push.models.fast import check_request

    try:
        check_request("MassPush", {"PushTask": [dict(task)]}, app_key=1)
    except InvalidRequestError as exc:
        return [FieldProblem(p.field.removeprefix(_ONE_TASK), p.rule, p.message) for p in exc.problems]
    return []


def _supersede(obj: ObjectCreated, reader: ObjectReader, report: Any) -> bool:
    """Before the first chunk is fanned out: mark an earlier run's report as superseded by this run
    (:func:`~pushfn.targets.parts.supersede_report`), so this run's chunk jobs do not each rebuild it.
    True once done or found unneeded; a store failure is logged and the run goes on (the marking only
    saves work: the parts and this run's final merge are what the report says), False to try again."""
    from pushfn.targets.errors import ObjectStoreError
    from pushfn.targets.parts import supersede_report
    from pushfn.targets.readers import report_key

    try:
        supersede_report(reader, obj.bucket, report_key(obj.key), report.to_dict())
    except ObjectStoreError as exc:
        _log(logging.WARNING, "file_push.report_unmarked", "earlier report not marked: %s", str(exc), key=obj.key)
        return not exc.transient
    return True


def _concurrency(runtime: Runtime | None, campaign: Campaign | None) -> int:
    """Chunks of one file in flight at once: ``PUSHFN_FILE_CONCURRENCY``; 1 in continuous mode or without settings.

    Continuous mode stays sequential: every ContinuouslyPush needs the campaign's MessageId first (its
    ``Target=TBD`` Push, sent with the first chunk), a refused campaign is replayed to each later chunk,
    and an ambiguous ContinuouslyPush is never retried (it carries no IdempotentToken) — so a stop must
    come before the next call goes out, not after eight more did.
    """
    if campaign is not None:
        return 1
    return int(getattr(getattr(runtime, "settings", None), "pushfn_file_concurrency", 1) or 1)


class _LockedReport:
    """The report as the worker threads see it: its chunk outcomes recorded one at a time."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._lock = threading.Lock()

    def chunk_sent(self, index: int, **fields: Any) -> None:
        with self._lock:
            self._report.chunk_sent(index, **fields)

    def chunk_failed(self, index: int, **fields: Any) -> None:
        with self._lock:
            self._report.chunk_failed(index, **fields)

    def chunk_maybe_sent(self, index: int, **fields: Any) -> None:
        with self._lock:
            self._report.chunk_maybe_sent(index, **fields)

    def chunk_queued(self, index: int, **fields: Any) -> None:
        with self._lock:
            self._report.chunk_queued(index, **fields)

    def to_dict(self) -> dict[str, Any]:
        """The report's document as it is now (:meth:`~pushfn.targets.report.Report.to_dict`), taken under the lock."""
        with self._lock:
            return self._report.to_dict()


class _Sender:
    """Sends the chunks of one file: inline when ``workers`` is 1, else on at most ``workers`` threads,
    each call under the process's :func:`~pushfn.jobs.throttle.shared_limiter`.

    The planner's thread hands chunks out (:meth:`wait_for_slot`, then :meth:`hand_out`); each chunk
    still goes through :func:`_send_chunk` (the guard under its own key, its outcome recorded once).
    The first transient failure sets ``retry_reason``: no chunk is handed out after it, and the ones in
    flight finish (:meth:`finish`) and are recorded. ``sending`` is the time spent sending, in seconds:
    the sum of the chunks' times and of the fan-out hand-overs' (:meth:`handed_over`) inline; with
    threads, the wall time from the first chunk handed out to the last one finished (planning and
    hand-overs overlap it), plus the hand-overs made before any thread started."""

    def __init__(
        self,
        obj: ObjectCreated,
        report: Report,
        guard: Guard,
        client: PushSender,
        context: Any,
        campaign: Campaign | None,
        workers: int,
        deadline: float | None = None,
    ) -> None:
        from pushfn.jobs.throttle import limited_client, shared_limiter

        self.limiter = shared_limiter()
        self.workers = max(1, workers)
        #: The report as chunks' outcomes are recorded into it (locked when several threads send).
        self.report: Any = report if self.workers == 1 else _LockedReport(report)
        self.args = (obj, self.report, guard)
        self.client, self.context, self.campaign = limited_client(client, self.limiter), context, campaign
        #: No wait for the rate limit may end after this (:func:`_clock` value; the run's stop time).
        self.stop_at = None if deadline is None else deadline - STOP_MARGIN_SECONDS
        self.retry_reason: str | None = None
        self.cause: BaseException | None = None
        self.sending = 0.0
        self.slowest = 0.0
        self._pool: ThreadPoolExecutor | None = None
        self._pending: set[Future[Any]] = set()
        self._began = 0.0

    def wait_for_slot(self) -> None:
        """Record the chunks that finished; with every worker busy, wait until one is free."""
        if not self._pending:
            return
        from concurrent.futures import FIRST_COMPLETED, wait

        if len(self._pending) >= self.workers:
            done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
        else:
            done = {future for future in self._pending if future.done()}
        for future in done:
            self._pending.discard(future)
            self._record(*future.result())

    def hand_out(self, chunk: Chunk) -> None:
        """Send ``chunk``: now (inline) or on a free worker (call :meth:`wait_for_slot` first)."""
        if self.workers == 1:
            self._record(*self._run(chunk))
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="file_push")
            self._began = _clock()
        # The worker runs in a copy of this context, so its log records carry the invocation's request id.
        self._pending.add(self._pool.submit(contextvars.copy_context().run, self._run, chunk))

    def handed_over(self, seconds: float) -> None:
        """A chunk was handed to the fan-out sink on the planner's thread in ``seconds`` (in process, the
        queue function sent it there): counted in :attr:`sending` unless the threads' wall time covers it."""
        if self.workers == 1 or self._pool is None:
            self.sending += seconds

    def finish(self) -> None:
        """Wait for the chunks in flight and record them (nothing is handed out any more)."""
        if self._pool is None:
            return
        from concurrent.futures import FIRST_COMPLETED, wait

        while self._pending:
            done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
            for future in done:
                self._pending.discard(future)
                self._record(*future.result())
        self._pool.shutdown(wait=True)
        self._pool = None
        self.sending += _clock() - self._began

    def _run(self, chunk: Chunk) -> tuple[str | None, BaseException | None, float]:
        began = _clock()
        obj, report, guard = self.args
        stop, cause = _send_chunk(
            obj, chunk, report, guard, self.client, self.context, self.campaign, self.limiter, self.stop_at
        )
        return stop, cause, _clock() - began

    def _record(self, stop: str | None, cause: BaseException | None, spent: float) -> None:
        if self.workers == 1:
            self.sending += spent
        self.slowest = max(self.slowest, spent)
        if stop is not None and self.retry_reason is None:
            self.retry_reason, self.cause = stop, cause


def _send_chunk(
    obj: ObjectCreated,
    chunk: Chunk,
    report: Report,
    guard: Guard,
    client: PushSender,
    context: Any,
    campaign: Campaign | None = None,
    limiter: RateLimiter | None = None,
    stop_at: float | None = None,
) -> tuple[str | None, BaseException | None]:
    """Send one chunk through the guard and record its outcome; a reason when the file must stop.

    With a ``limiter``, the call waits for its share of the quota first (inside the guard, so a chunk
    replayed from the guard's record takes none), and a throttle that outlasted the client's retries
    pauses every worker. A wait that would end after ``stop_at`` (the run's stop time) is not taken:
    the chunk stays pending and the file stops, as near the timeout."""
    from pushfn.jobs.throttle import RateWaitTooLongError
    from pushfn.targets.chunks import chunk_key

    if campaign is not None and chunk.index >= MAX_CONTINUOUS_CHUNKS:
        report.chunk_failed(
            chunk.index,
            code="continuous.max_chunks",
            request_id=None,
            retryable=False,
            message=f"a continuous push takes at most {MAX_CONTINUOUS_CHUNKS:,} ContinuouslyPush calls",
        )
        return None, None
    key = chunk_key(obj.bucket, obj.key, obj.version, chunk.index)
    payload = {
        "action": chunk.action if campaign is None else CONTINUOUSLY_PUSH,
        "target_type": chunk.target_type,
        "count": chunk.count,
        "first_line": chunk.first_line,
        "last_line": chunk.last_line,
    }

    def send(token: str) -> dict[str, Any]:
        if limiter is not None:
            action = payload["action"]
            limiter.acquire(str(action), chunk.count if action == "Push" else 1, stop_at=stop_at)
        if campaign is not None:
            return campaign.send(chunk)
        if chunk.action == "MassPush":
            return client.mass_push(chunk.params, idempotent_token=token).to_dict()
        return client.push(chunk.params, idempotent_token=token).to_dict()

    try:
        if campaign is not None:
            campaign.start(chunk)
        outcome = guard.run(key, scope=SCOPE, payload=payload, operation=send, context=context)
    except RateWaitTooLongError as exc:
        # Nothing was sent (the guard released the key): the chunk stays pending for the retry.
        reason = f"{obj.key}: near the function's timeout before chunk {chunk.index} ({exc})"
        _log(logging.WARNING, "file_push.timeout", "stopping between chunks: %s", reason, key=obj.key)
        return reason, exc
    except Exception as exc:  # every failure is classified and recorded; none escapes unrecorded
        from pushfn.push import ThrottledError

        if limiter is not None and isinstance(exc, ThrottledError):
            retry = getattr(client, "retry", None)
            limiter.throttled(
                exc.retry_after,
                base=getattr(retry, "throttle_backoff", None),
                ceiling=getattr(retry, "max_backoff", None),
            )
        failure = sending_failure(exc)
        retryable = failure.status is Verdict.TRANSIENT
        if not retryable:
            report.chunk_failed(
                chunk.index,
                code=failure.code or failure.reason,
                request_id=getattr(exc, "request_id", None),
                retryable=False,
                message=failure.message,
            )
        # A transient failure (maybe sent included) gets no outcome: the chunk stays pending, and the
        # platform's retry resends it under the same key (the guard keeps its IdempotentToken).
        _log(
            logging.WARNING if retryable else logging.ERROR,
            f"file_push.chunk_{failure.status.value}_failure",
            "chunk failed: %s",
            failure.message,
            bucket=obj.bucket,
            key=obj.key,
            chunk=chunk.index,
            code=failure.code,
        )
        if retryable:
            return f"{obj.key}: chunk {chunk.index} {failure.reason}", exc
        return None, None
    result = outcome.result
    if limiter is not None:
        limiter.succeeded()
    if result.get(MAYBE_SENT):
        report.chunk_maybe_sent(chunk.index, reason=str(result.get("reason", "")), request_id=result.get("RequestId"))
        return None, None
    message_id = result.get("MessageId") or ",".join(result.get("MessageIds") or [])
    report.chunk_sent(chunk.index, message_id=str(message_id), request_id=result.get("RequestId"))
    return None, None


class Campaign:
    """The continuous mode of one file: one ``Push`` with ``Target=TBD`` (the campaign, whose MessageId
    every chunk shares), then one ``ContinuouslyPush`` per chunk.

    The campaign Push goes through the guard under :func:`~pushfn.targets.chunks.campaign_key` with its
    own IdempotentToken, so a rerun of the file replays its MessageId instead of opening a second
    campaign. It is sent just before the first chunk, so a file without valid targets pushes nothing.
    ``ContinuouslyPush`` takes no IdempotentToken: a chunk whose call may have reached CloudPush without
    an answer is recorded (by the guard, as the chunk's result) as ``maybe_sent`` and never sent again.
    """

    def __init__(self, obj: ObjectCreated, guard: Guard, client: PushSender, context: Any) -> None:
        self.obj, self.guard, self.client, self.context = obj, guard, client, context
        self.message_id: str | None = None
        self._refused: BaseException | None = None

    def start(self, chunk: Chunk) -> str:
        """The campaign's MessageId, sending the ``Target=TBD`` Push (content from ``chunk``) the first time.

        Raises what the Push raised; a permanent refusal is kept and raised again for every later chunk
        without calling CloudPush again."""
        if self.message_id is not None:
            return self.message_id
        if self._refused is not None:
            raise self._refused
        from pushfn.targets.chunks import campaign_key

        params = {**chunk.params, "Target": "TBD", "TargetValue": "TBD"}
        key = campaign_key(self.obj.bucket, self.obj.key, self.obj.version)

        def push(token: str) -> dict[str, Any]:
            return self.client.push(params, idempotent_token=token).to_dict()

        try:
            outcome = self.guard.run(
                key, scope=SCOPE, payload={"action": "Push", "Target": "TBD"}, operation=push, context=self.context
            )
        except Exception as exc:
            if sending_failure(exc).status is Verdict.PERMANENT:
                self._refused = exc
            raise
        self.message_id = str(outcome.result["MessageId"])
        _log(logging.INFO, "file_push.campaign", "campaign open", key=self.obj.key, message_id=self.message_id)
        return self.message_id

    def send(self, chunk: Chunk) -> dict[str, Any]:
        """One ``ContinuouslyPush`` of ``chunk``'s targets: ``{"MessageId", "RequestId"}``, or
        ``{"maybe_sent": True, "reason", "RequestId"}`` when the call may have gone out unanswered."""
        request = {"MessageId": self.start(chunk), "Target": chunk.target_type, "TargetValue": ",".join(chunk.targets)}
        try:
            answer = self.client.call(CONTINUOUSLY_PUSH, request)
        except Exception as exc:
            if getattr(exc, "maybe_sent", False):
                reason = safe_text(f"{type(exc).__name__}: {exc}")[:300]
                return {MAYBE_SENT: True, "reason": reason, "RequestId": getattr(exc, "request_id", None)}
            raise
        return {"MessageId": self.message_id, "RequestId": answer.request_id}


def find_content(obj: ObjectCreated, reader: ObjectReader, runtime: Runtime | None) -> tuple[Any, str, str, str]:
    """``(content, target_type, mode, source)``: the push content of ``obj`` (a Template), the type of
    a ``.txt`` file's lines, the sending mode (``per_chunk`` or ``continuous``) and where the content
    came from (``sidecar``, ``metadata``, ``default``). Raises ContentError (rejected file) or
    ObjectStoreError (reading failed)."""
    from pushfn.json_input import JsonInputError, decode_json

    sidecar = reader.read_sidecar(obj.bucket, obj.key)
    if sidecar is not None:
        try:
            spec = decode_json(sidecar)
        except JsonInputError as exc:
            raise ContentError(f"the sidecar {obj.key}.push.json is not usable JSON: {exc}") from None
        return (*_content(spec, runtime, "the sidecar"), "sidecar")
    name = reader.template_name(obj.bucket, obj.key)
    if name is not None:
        return (*_content({"template": name}, runtime, "the push-template metadata"), "metadata")
    try:
        default = runtime.file_push_spec() if runtime is not None else None
    except ConfigurationError as exc:
        raise ContentError(f"the default push content is unusable: {exc}") from None
    if default is not None:
        return (*_content(default, runtime, "PUSHFN_FILE_PUSH_SPEC"), "default")
    raise ContentError(
        "no push content: no sidecar <key>.push.json, no push-template metadata, and no PUSHFN_FILE_PUSH_SPEC"
    )


def _content(spec: Any, runtime: Runtime | None, where: str) -> tuple[Any, str, str]:
    from pushfn.specs.templates import compile_template
    from pushfn.targets.rules import TARGET_TYPES

    if not isinstance(spec, Mapping) or not spec:
        raise ContentError(f"{where} must be a non-empty JSON object (a push spec without targets)")
    spec = dict(spec)
    target_type = spec.pop(TARGET_TYPE_KEY, "DEVICE")
    if target_type not in TARGET_TYPES:
        raise ContentError(f"{where}: target_type must be one of {', '.join(TARGET_TYPES)}")
    mode = spec.pop("mode", None)
    if mode is None:
        mode = PER_CHUNK
    # Any value but the two names is refused: 'or PER_CHUNK' took {}, "", 0, false and [] for the default.
    if not isinstance(mode, str) or mode not in (PER_CHUNK, CONTINUOUS):
        raise ContentError(f"{where}: mode {str(mode)[:30]!r} is not one of {PER_CHUNK!r}, {CONTINUOUS!r}")
    for name in ("Target", "TargetValue", "target", "target_value"):
        if name in spec:
            raise ContentError(f"{where} names {name}: the file gives the targets")
    if "template" in spec:
        name = spec.pop("template")
        if spec:
            raise ContentError(
                f"{where}: a template reference takes no other keys but target_type and mode ({sorted(spec)[:3]})"
            )
        templates = runtime.templates() if runtime is not None else {}
        if not isinstance(name, str) or name not in templates:
            from pushfn.masking import shorten

            raise ContentError(f"{where} names the template {shorten(str(name), 64)!r}, which is not configured")
        template = templates[name]
    else:
        try:
            template = compile_template("file", spec)
        except Exception as exc:  # compiling the content: any failure is the content's
            raise ContentError(f"{where} is not a usable push spec: {safe_text(str(exc))}") from None
    if mode == CONTINUOUS and template.slots:
        raise ContentError(
            f"{where}: mode 'continuous' sends one message to every target, so the content can have no "
            f"placeholders ({', '.join(sorted(template.slots)[:3])})"
        )
    if not template.slots:
        problems = content_problems(template.render({}), target_type, mode)
        if problems:
            shown = "; ".join(f"{p.field}: {p.rule}: {p.message}" for p in problems[:5])
            raise ContentError(f"{where} is not a usable push spec: {safe_text(shown)}")
    return template, target_type, mode


#: A valid target of each type, standing in for the file's while content without placeholders is checked.
_STAND_IN_TARGET = {"DEVICE": "0" * 32, "ACCOUNT": "account", "ALIAS": "alias"}


def content_problems(content: Mapping[str, Any], target_type: str, mode: str = PER_CHUNK) -> list[FieldProblem]:
    """The problems that would make CloudPush refuse every chunk of a file whose content (without
    placeholders, so the same for every chunk) is ``content``: a control character in Title, iOSBadge
    past its range, a PushTime in year 9999. Checked once, before any line is read, so the file is
    rejected naming the field; before, each chunk was refused for it by the client and the report said
    ``complete`` with every chunk failed (a million-line file read to the end for nothing). The target is
    a stand-in (the file's own targets are checked line by line); in ``continuous`` mode it is the
    campaign's ``Target=TBD``, whose own rules apply (no PushTime)."""
    from pushfn.push.errors import InvalidRequestError
    from pushfn.push.models.fast import check_request

    target, value = ("TBD", "TBD") if mode == CONTINUOUS else (target_type, _STAND_IN_TARGET[target_type])
    request = {**content, "Target": target, "TargetValue": value}
    try:
        check_request("Push", request, app_key=1)
    except InvalidRequestError as exc:
        return list(exc.problems)
    return []


# --- endings ---------------------------------------------------------------------------------------


def _finish(
    obj: ObjectCreated,
    report: Report,
    reader: ObjectReader,
    retry_reason: str | None,
    cause: BaseException | None = None,
) -> FileOutcome:
    from pushfn.targets.errors import ObjectStoreError

    where = None
    document = report.to_dict()
    document["stopped"] = safe_text(retry_reason) if retry_reason else None
    try:
        where = reader.write_report(obj.bucket, obj.key, document)
    except ObjectStoreError as exc:
        _log(logging.ERROR, "file_push.report_unwritten", "report not written: %s", str(exc), key=obj.key)
        if exc.transient and retry_reason is None:
            retry_reason, cause = f"{obj.key}: report not written ({exc.reason})", exc
    if where is not None and report.queued and retry_reason is None:
        merged, problem = _merge_parts(obj, reader)
        if merged is not None:
            document = merged
        elif problem is not None:
            retry_reason, cause = f"{obj.key}: report parts not merged ({problem.reason})", problem
    summary = _summary(obj, report, where, document)
    level = logging.WARNING if summary["status"] != "complete" else logging.INFO
    _log(level, "file_push.done", "file %s", summary["status"], **{k: v for k, v in summary.items() if k != "key"})
    return FileOutcome(summary, retry_reason, cause)


def _merge_parts(obj: ObjectCreated, reader: ObjectReader) -> tuple[dict[str, Any] | None, Any]:
    """The report merged with the fanned-out chunks' parts when all are in (None otherwise), and the
    transient store failure that kept the merge from happening (the file's retry merges then)."""
    from pushfn.targets.errors import ObjectStoreError
    from pushfn.targets.parts import complete_report
    from pushfn.targets.readers import report_key

    try:
        return complete_report(reader, obj.bucket, report_key(obj.key)), None
    except ObjectStoreError as exc:
        _log(logging.ERROR, "file_push.parts_unmerged", "report parts not merged: %s", str(exc), key=obj.key)
        return None, exc if exc.transient else None
    except ValueError as exc:  # a report or part pushfn did not write: a person must look
        _log(logging.ERROR, "file_push.parts_unusable", "report parts not merged: %s", str(exc), key=obj.key)
        return None, None


def _store_failure(obj: ObjectCreated, exc: Any, report: Report, reader: ObjectReader) -> FileOutcome:
    if exc.transient:
        _log(logging.WARNING, "file_push.store_unavailable", "object store failed, will retry: %s", str(exc))
        return FileOutcome(_summary(obj, report, None), f"{obj.key}: {exc.reason}", exc)
    _log(logging.ERROR, "file_push.object_unusable", "object unusable, not retried: %s", str(exc), key=obj.key)
    report.rejected = {"rule": exc.reason, "message": safe_text(str(exc)), "line": None}
    if exc.reason in ("not_found", "forbidden", "name"):
        return FileOutcome({**_summary(obj, report, None), "problem": safe_text(str(exc))})
    return _finish(obj, report, reader, None)


def _summary(
    obj: ObjectCreated, report: Report, where: str | None, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    data = data if data is not None else report.to_dict()
    return {
        "bucket": obj.bucket,
        "key": obj.key,
        "status": data["status"],
        "report": where,
        "targets": data["targets"],
        "totals": data["totals"],
    }


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        # Closing a stream we are done with must not hide the outcome.
        with contextlib.suppress(Exception):
            close()


def _log(level: int, event: str, text: str, *args: Any, **extra: Any) -> None:
    fields = {"event": event, "function": FUNCTION_NAME}
    for name, value in extra.items():
        if value is not None:
            fields[name] = safe_text(value) if isinstance(value, str) else value
    logger.log(level, text, *[safe_text(a) if isinstance(a, str) else a for a in args], extra={"fields": fields})


__all__ = [
    "CONTINUOUS",
    "FUNCTION_NAME",
    "MAX_CONTINUOUS_CHUNKS",
    "PER_CHUNK",
    "SCOPE",
    "Campaign",
    "FileOutcome",
    "find_content",
    "handle_object_event",
    "process_object",
]
