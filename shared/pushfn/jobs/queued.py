"""Queue messages → pushes, each message on its own; one platform-neutral outcome per message.

For every message: parse the body (:mod:`pushfn.specs.envelope`), plan the requests (relative
times resolve against the message's send time), push them through the guard, and sending_failure the
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pushfn.api_time import format_api_time
from pushfn.idempotency.keys import fit_key, fit_name
from pushfn.jobs.dead_letter import DeadLetter, DeadLetterSink
from pushfn.jobs.errors import DeadLetterError
from pushfn.jobs.outcomes import Failure, Verdict, interpretation_failure, invalid_spec, safe_text, sending_failure
from pushfn.jobs.runner import ItemResult, overall_status, run_planned
from pushfn.logs import get_logger, mask
from pushfn.push.errors import ConfigurationError, CredentialsError
from pushfn.specs.envelope import ChunkJob, MassPushJob, QueueJob, parse_job
from pushfn.specs.push_spec import PlannedPush, TemplateSource, resolve_mass_push, resolve_push_spec
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

#: Templates for template references: a mapping, or a zero-argument loader of one.
Templates = Mapping[str, Any] | TemplateSource

FUNCTION_NAME = "queue_push"
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
    outcomes = process_batch(
        batch, guard=guard, client=client, dead_letter=dead_letter, context=context, templates=runtime.templates
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
) -> list[MessageOutcome]:
    """One outcome per message of ``batch``, in order: every message is processed, whatever
    happened to the ones before it. Never raises for a message's sake (see :func:`process_message`).

    ``templates``: see :func:`plan`. ``context`` is the platform's invocation context, passed through
    to the guard unread (it derives the in-progress window from it).
    """
    return [
        process_message(m, guard=guard, client=client, dead_letter=dead_letter, context=context, templates=templates)
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
) -> MessageOutcome:
    """Parse, plan and push one message; never raises (every failure becomes an outcome)."""
    key: str | None = None
    if message.problem is not None:
        return _finish(message, key, [], invalid_spec([message.problem], "QueueEventError"), dead_letter)
    try:
        job = parse_job(message.body)
        key, scope, lifetime = message_key(job, message)
        planned = plan(job, message, app_key=getattr(client, "app_key", None), templates=templates)
    except Exception as exc:  # interpretation: the message's fault, whatever the type (see outcomes)
        return _finish(message, key, [], interpretation_failure(exc), dead_letter)

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
    return _finish(message, key, items, failure, dead_letter)


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
