"""Queue messages → pushes, each message on its own; one platform-neutral outcome per message.

For every message: parse the body (:mod:`pushfn.specs.envelope`), plan the requests (relative
times resolve against the message's send time), push them through the guard, and classify the
message as a whole:

- **success** — every push sent or replayed;
- **permanent** — anything failed while *interpreting* the message (the adapter could not read it,
  its body is not bounded JSON, the envelope, spec, relative times, templates or model validation
  refuse it — whatever the exception, see :func:`~pushfn.jobs.outcomes.interpretation_failure`), or
  the service refused a push (4xx): a structured log line, a dead letter with the reason when
  :data:`~pushfn.jobs.dead_letter.DEAD_LETTER_ENV` is set, and the message is *not* handed back — it
  would fail the same way forever;
- **transient** — throttling, 5xx, network, key in flight, idempotency store or dead-letter
  destination unavailable: handed back to the platform for a retry.

Which platform delivered the batch never matters here: the adapter
(:func:`pushfn.triggers.queue.platform_reply`) turns the outcomes into SQS's partial-batch reply or
MNS's retry-by-raise.

Each message is read and handled on its own, so one poison message (nested thousands deep, not
base64, not UTF-8) never keeps the others of its batch from going out. An event of no known shape
at all is reported the same way, as one unreadable message (logged, dead-lettered, not raised): a
retry cannot fix it, and raising would only replay it.

**Chunks of a fanned-out file** (``kind: chunk`` with a ``report``): once the chunk is sent (or
replayed) or failed permanently (dead-lettered when a destination is set), its outcome is stored as a
part beside the file's report, and the report is completed when it was the last one
(:mod:`pushfn.targets.parts`). A sent chunk whose part cannot be stored for now (a transient store
failure, or this function cannot reach the store: no ``PUSHFN_FILE_ROOT`` for a local report, no
credentials) is handed back: the retry replays the push from the guard and stores the part then. A part
the store refuses for good (access denied, a report pushfn did not write) is logged, and the chunk is
not handed back; neither is a permanently failed chunk whose part cannot be stored (its dead letter
holds it; a retry would only dead-letter it again). A transient failure stores nothing: the platform
delivers the job again.

Keys (``queue_push`` namespace): the body's explicit ``key`` (scope ``key``, so producers can dedupe
across queues), else a chunk's own ``chunk:<source>:<etag>:<n>`` (scope ``key`` too), else the
message id (scope = the queue, since ids are unique only within one). An MNS STREAM message carries
no id at all; it is keyed by a digest of its body for one hour only (scope ``content``) — long enough
to absorb MNS's redeliveries, short enough that the same reminder sent again tomorrow still goes out.
Give such messages an explicit ``key`` for anything stricter.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pushfn.api_time import format_api_time
from pushfn.errors import ConfigurationError
from pushfn.functions import QUEUE_PUSH
from pushfn.idempotency.keys import fit_key, fit_name
from pushfn.jobs.dead_letter import DeadLetter, DeadLetterSink
from pushfn.jobs.errors import DeadLetterError
from pushfn.jobs.outcomes import Failure, Verdict, interpretation_failure, invalid_spec, safe_text, sending_failure
from pushfn.jobs.runner import ItemResult, overall_status, run_planned
from pushfn.logs import get_logger, mask
from pushfn.push.errors import CredentialsError
from pushfn.specs.envelope import ChunkJob, MassPushJob, QueueJob, ReportRef, parse_job
from pushfn.specs.push_spec import PlannedPush, Templates, resolve_mass_push, resolve_push_spec
from pushfn.triggers.queue import (
    QueueBatch,
    QueueEventError,
    QueueMessage,
    malformed_event_batch,
    parse_queue_event,
    platform_reply,
)

if TYPE_CHECKING:
    from pushfn.idempotency import Guard
    from pushfn.push import PushSender

#: The reader of the store a chunk job's report names (:func:`pushfn.triggers.objects.store_reader`).
Reports = Callable[[ReportRef], Any]

FUNCTION_NAME = QUEUE_PUSH
#: How long a body-digest key (no message id, no explicit key) blocks an identical message.
CONTENT_KEY_SECONDS = 3600

logger = get_logger("pushfn.jobs.queued")


@dataclass(frozen=True)
class MessageOutcome:
    """The fate of one message. ``items`` are the per-push results (empty when the body was invalid)."""

    message_id: str | None
    key: str | None
    status: Verdict
    failure: Failure | None = None
    items: list[ItemResult] = field(default_factory=list)
    dead_letter: str | None = None

    @property
    def retry(self) -> bool:
        """True when a retry can fix the failure: the platform must deliver the message again."""
        return self.status is Verdict.TRANSIENT

    @property
    def succeeded(self) -> bool:
        """True when every push of the message went out or was replayed."""
        return self.status is Verdict.SUCCESS

    @property
    def reason(self) -> str | None:
        """The failure's short, log-safe reason code (``"throttled"``, ``"invalid_spec"``); None on success."""
        return self.failure.reason if self.failure is not None else None

    def to_dict(self) -> dict[str, Any]:
        """``{"message_id", "status", "items"}`` plus ``failure`` (:meth:`Failure.to_dict`) and
        ``dead_letter`` (where the message went) when set; ``items`` are :meth:`ItemResult.to_dict`."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "status": self.status.value,
            "items": [i.to_dict() for i in self.items],
        }
        if self.failure is not None:
            data["failure"] = self.failure.to_dict()
        if self.dead_letter is not None:
            data["dead_letter"] = self.dead_letter
        return data


def handle_queue_event(event: object, context: Any = None) -> dict[str, Any]:
    """The ``queue_push`` handler: the platform's event in, the platform's answer out.

    The event is read by :func:`~pushfn.triggers.queue.parse_queue_event`, every message is
    handled (:func:`process_batch`), and :func:`~pushfn.triggers.queue.platform_reply` answers:
    SQS's ``batchItemFailures``, else a summary. Raises only
    :class:`~pushfn.triggers.RetryLaterError`, from that reply (on MNS, where no partial reply
    exists), after every message was handled and only when some message failed transiently.
    A deployment that cannot build its client, store or dead-letter sink (a bad setting) hands every
    message back the same way, with one ``queue_push.misconfigured`` log line.
    """
    from pushfn.runtime import get_runtime

    try:
        batch = parse_queue_event(event)
    except QueueEventError as exc:
        batch = malformed_event_batch(event, exc)
        logger.error(
            "queue event of no known shape; reported as one unreadable message",
            extra={"fields": {"event": "queue_push.malformed_event", "function": FUNCTION_NAME, "reason": str(exc)}},
        )
    try:
        runtime = get_runtime(context)
        guard, client, dead_letter = runtime.guard(FUNCTION_NAME), runtime.client, runtime.dead_letter
    except (ConfigurationError, CredentialsError) as exc:
        # The deployment is at fault, not the messages: hand every one back, with one clear log line
        # instead of a traceback, so none is lost while the operator fixes the setting.
        return platform_reply(batch, _all_handed_back(batch, exc))

    def reports(ref: ReportRef) -> Any:
        from pushfn.triggers.objects import store_reader

        return store_reader(ref.store, ref.region, runtime.settings, runtime.credentials)

    outcomes = process_batch(
        batch,
        guard=guard,
        client=client,
        dead_letter=dead_letter,
        context=context,
        templates=runtime.templates,
        reports=reports,
    )
    return platform_reply(batch, outcomes)


def _all_handed_back(batch: QueueBatch, exc: BaseException) -> list[MessageOutcome]:
    failure = sending_failure(exc)
    logger.error(
        "queue_push is misconfigured; every message is handed back: %s",
        failure.message,
        extra={"fields": {"event": "queue_push.misconfigured", "function": FUNCTION_NAME, **failure.to_dict()}},
    )
    return [MessageOutcome(m.message_id, None, Verdict.TRANSIENT, failure) for m in batch.messages]


def process_batch(
    batch: QueueBatch,
    *,
    guard: Guard,
    client: PushSender,
    dead_letter: DeadLetterSink | None = None,
    context: Any = None,
    templates: Templates | None = None,
    reports: Reports | None = None,
) -> list[MessageOutcome]:
    """One outcome per message of ``batch``, in order: every message is processed, whatever
    happened to the ones before it. Never raises for a message's sake (see :func:`process_message`).

    ``templates``: see :func:`plan`. ``context`` is the platform's invocation context, passed through
    to the guard unread (it derives the in-progress window from it). ``reports`` gives the reader of a
    chunk job's report (none: chunk outcomes are not recorded).
    """
    return [
        process_message(
            m,
            guard=guard,
            client=client,
            dead_letter=dead_letter,
            context=context,
            templates=templates,
            reports=reports,
        )
        for m in batch.messages
    ]


def process_message(
    message: QueueMessage,
    *,
    guard: Guard,
    client: PushSender,
    dead_letter: DeadLetterSink | None = None,
    context: Any = None,
    templates: Templates | None = None,
    reports: Reports | None = None,
) -> MessageOutcome:
    """Parse, plan and push one message; never raises (every failure becomes an outcome). A chunk
    job's outcome is recorded beside its file's report when ``reports`` is given (module docstring)."""
    key: str | None = None
    job: QueueJob | None = None
    if message.problem is not None:
        return _finish(message, key, [], invalid_spec([message.problem], "QueueEventError"), dead_letter)
    try:
        job = parse_job(message.body)
        key, scope, lifetime = message_key(job, message)
        planned = plan(job, message, app_key=getattr(client, "app_key", None), templates=templates)
    except Exception as exc:  # interpretation: the message's fault, whatever the type (see outcomes)
        outcome = _finish(message, key, [], interpretation_failure(exc), dead_letter)
        return _record_chunk(job, message, outcome, reports)

    items = run_planned(
        planned,
        guard=guard,
        client=client,
        key=key,
        scope=scope,
        context=context,
        expires_after_seconds=lifetime,
    )
    status = overall_status(items)
    failure = next((i.failure for i in items if i.failure is not None and i.failure.status is status), None)
    return _record_chunk(job, message, _finish(message, key, items, failure, dead_letter), reports)


def _record_chunk(
    job: QueueJob | None, message: QueueMessage, outcome: MessageOutcome, reports: Reports | None
) -> MessageOutcome:
    """Store a fanned-out chunk's final outcome as its report part; the outcome, handed back when a sent
    chunk's part could not be stored (see the module docstring)."""
    if not isinstance(job, ChunkJob) or job.report is None or reports is None or outcome.retry:
        return outcome
    from pushfn.targets.parts import ChunkOutcome, record_part

    index, version = job.job.chunk, job.job.etag
    if outcome.succeeded:
        result = next((i.result for i in outcome.items if i.result is not None), None) or {}
        message_id = result.get("MessageId") or ",".join(result.get("MessageIds") or [])
        part = ChunkOutcome(index, "sent", version, message_id=str(message_id), request_id=result.get("RequestId"))
    else:
        failure = outcome.failure
        error = next((i.error for i in outcome.items if i.error is not None), None)
        part = ChunkOutcome(
            index,
            "failed",
            version,
            request_id=getattr(error, "request_id", None),
            code=(failure.code or failure.reason) if failure else "failed",
            message=failure.message if failure else "",
            dead_letter=outcome.dead_letter,
        )
    try:
        merged = record_part(reports(job.report), job.report.bucket, job.report.key, part)
    except Exception as exc:  # the store, its credentials or this function's settings: classified below
        transient = not isinstance(exc, ValueError) and bool(getattr(exc, "transient", True))
        lost = Failure(Verdict.TRANSIENT, "report_unavailable", type(exc).__name__, safe_text(str(exc)))
        if outcome.succeeded and transient:
            _log(
                logging.WARNING,
                "queue_push.part_unrecorded",
                "chunk sent, part not stored; retried",
                message,
                outcome.key,
                lost,
            )
            return MessageOutcome(outcome.message_id, outcome.key, Verdict.TRANSIENT, lost, outcome.items)
        _log(
            logging.ERROR,
            "queue_push.part_unrecorded",
            "chunk outcome not stored in its report",
            message,
            outcome.key,
            lost,
        )
        return outcome
    if merged is not None:
        logger.info(
            "the chunk's file report is complete",
            extra={"fields": {"event": "queue_push.report_complete", "function": FUNCTION_NAME, "chunk": index}},
        )
    return outcome


def message_key(job: QueueJob, message: QueueMessage) -> tuple[str, str, int | None]:
    """``(key, scope, lifetime override)`` — see the module docstring."""
    if job.key:
        return job.key, "key", None
    if isinstance(job, ChunkJob):
        return fit_key(job.default_key()), "key", None
    if message.message_id and message.message_id.strip():
        # Any id the platform hands us identifies the message, even one that is no valid key as it is.
        return fit_key(message.message_id), fit_name(message.source or "queue"), None
    return content_key(message), "content", CONTENT_KEY_SECONDS


def content_key(message: QueueMessage) -> str:
    """``sha256:<hex>`` of the message body (UTF-8): the key of a message with neither an explicit key
    nor a message id, so an identical body within :data:`CONTENT_KEY_SECONDS` is not sent twice."""
    return "sha256:" + hashlib.sha256(message.body.encode("utf-8", "surrogatepass")).hexdigest()


def plan(
    job: QueueJob, message: QueueMessage, *, app_key: int | None, templates: Templates | None = None
) -> list[PlannedPush]:
    """Validated requests for a job; relative times resolve against the message's send time.

    ``templates`` (a mapping or a zero-argument loader, e.g. the runtime's) serve template references.
    """
    reference = message.sent_time or datetime.now(timezone.utc)
    if isinstance(job, MassPushJob):
        return [resolve_mass_push(job.mass_push, reference=reference, app_key=app_key)]
    if isinstance(job, ChunkJob):
        if job.action == "MassPush":
            return [resolve_mass_push(job.params, reference=reference, app_key=app_key)]
        return resolve_push_spec(job.params, reference=reference, app_key=app_key, templates=templates)
    return resolve_push_spec(job.push, reference=reference, app_key=app_key, templates=templates)


# --- reporting ---------------------------------------------------------------------------------


def _finish(
    message: QueueMessage,
    key: str | None,
    items: list[ItemResult],
    failure: Failure | None,
    dead_letter: DeadLetterSink | None,
) -> MessageOutcome:
    if failure is None:
        return MessageOutcome(message.message_id, key, Verdict.SUCCESS, items=items)
    if failure.status is Verdict.TRANSIENT:
        _log(logging.WARNING, "queue_push.transient_failure", "message will be retried", message, key, failure)
        return MessageOutcome(message.message_id, key, Verdict.TRANSIENT, failure, items)
    where = None
    if dead_letter is not None:
        letter = DeadLetter(
            function=FUNCTION_NAME,
            message_id=message.message_id,
            key=key or content_key(message),
            source=message.source,
            failure=failure.to_dict(),
            body=message.body,
            failed_at=format_api_time(datetime.now(timezone.utc)),
            body_encoding=message.body_encoding,
        )
        try:
            where = dead_letter.write(letter)
        except DeadLetterError as exc:
            # Deleting a message we could not park would lose it: hand it back instead.
            lost = Failure(Verdict.TRANSIENT, "dead_letter_unavailable", type(exc).__name__, safe_text(str(exc)))
            _log(
                logging.ERROR,
                "queue_push.dead_letter_failed",
                "dead letter not written; message will be retried",
                message,
                key,
                lost,
            )
            return MessageOutcome(message.message_id, key, Verdict.TRANSIENT, lost, items)
    _log(
        logging.ERROR,
        "queue_push.permanent_failure",
        "message failed permanently; not retried",
        message,
        key,
        failure,
        dead_letter=where and (dead_letter.describe() if dead_letter else None),
    )
    return MessageOutcome(message.message_id, key, Verdict.PERMANENT, failure, items, dead_letter=where)


def _log(
    level: int,
    event: str,
    text: str,
    message: QueueMessage,
    key: str | None,
    failure: Failure,
    **extra: Any,
) -> None:
    fields = {
        "event": event,
        "function": FUNCTION_NAME,
        "message_id": safe_text(message.message_id) if message.message_id else None,
        "key": mask(key) if key else None,
        "source": safe_text(message.source),
        **failure.to_dict(),
        **{k: v for k, v in extra.items() if v is not None},
    }
    logger.log(level, "%s (%s): %s", text, failure.reason, failure.message, extra={"fields": fields})
