"""Queue adapter: SQS and MNS events → :class:`QueueMessage` list; per-message outcomes → the reply.

Event shapes (samples in ``tests/fixtures/events/``: ``aws_sqs.json``, ``fc_mns_*``; their public
sources are named in that folder's README):

- **SQS** (Lambda) — ``{"Records": [{"messageId", "receiptHandle", "body", "attributes":
  {"SentTimestamp", ...}, "messageAttributes", "eventSource": "aws:sqs", "eventSourceARN", ...}]}``.
  Reply: ``{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}`` naming only the messages
  worth retrying (needs ``ReportBatchItemFailures`` on the event source mapping).
- **MNS topic trigger** (FC), by ``notifyContentFormat``:
  STREAM without attributes — the event *is* the raw message body (bytes);
  STREAM with attributes — ``{"body": "...", "attrs": {...}}``;
  JSON — ``{"TopicOwner", "Message", "Subscriber", "PublishTime" (ms), "SubscriptionName",
  "MessageMD5", "TopicName", "MessageId"}`` plus one top-level key per message attribute.
- **MNS queue via EventBridge** (FC) — one CloudEvent ``{"specversion": "1.0", "type":
  "mns:Queue:SendMessage", "subject": "acs:mns:...:queues/<q>", "time", "data": {"requestId",
  "messageId", "messageBody"}}``, or a JSON list of them in batch mode.
  MNS has no partial-batch reply: the function raises when (and only when) some message should be
  retried, after every other message was handled.

The reply is decided here and only here (:func:`platform_reply`): the job hands back one
platform-neutral outcome per message, and this module knows which platform wants a
``batchItemFailures`` list and which one can only be asked for a retry by a raise.

``messageBody`` is base64 unless the trigger's ``IsBase64Decode`` is true, and the function cannot
see that setting, so :func:`decode_message_body` decides per message: a body that is JSON is used
as it is (a JSON object or list can never be valid base64); otherwise it is decoded as base64
(missing ``=`` padding tolerated, as the console's samples lack it) when that yields UTF-8 text;
otherwise it is used as it is.

Robustness (one message can never sink its batch): the platform event is parsed leniently (its
strings may legitimately exceed the body limits: a 64 KB MNS body is 87 KB of base64), and each
message is then read on its own. A message the adapter cannot read — an SQS record that is not an
object, bytes that are not UTF-8, an id that is not Unicode text — becomes a :class:`QueueMessage`
whose :attr:`~QueueMessage.problem` says why; the job dead-letters it and handles the rest. An event
whose bytes are not UTF-8 is still read as its envelope when it is one (``surrogateescape``): only the
message holding those bytes is unreadable, not the batch around it. Bodies themselves are decoded
later, by :func:`pushfn.json_input.decode_json`, per message.

An SQS record without a usable ``messageId`` (missing, empty, not a string) is still processed (its
body is keyed by content). If it must be retried, the reply lists it with ``itemIdentifier: ""``:
Lambda then treats the whole batch as failed (documented for an empty or invalid identifier), which
is the only way to get *that* message back; the others are replayed from the idempotency store, not
pushed again. Dropping it from the reply would make Lambda delete it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from pushfn.errors import FieldProblem, PushfnError
from pushfn.json_input import JsonInputError, check_text
from pushfn.logs import get_logger
from pushfn.specs.relative_time import parse_instant
from pushfn.triggers import RetryLaterError

SQS = "sqs"
MNS_TOPIC = "mns_topic"
MNS_QUEUE = "mns_queue"
#: A platform event of no known shape: handled as one unreadable message (see :func:`malformed_event_batch`).
UNKNOWN = "unknown"

#: How a body that is not text is kept: its bytes, base64-encoded.
BASE64 = "base64"

#: Longest message id or source kept as is; longer ones are cut (they only name the message).
_MAX_ID_CHARS = 1024

logger = get_logger("pushfn.triggers.queue")


@dataclass(frozen=True)
class QueueMessage:
    """One message, whatever queue it came from.

    ``message_id`` is None for an MNS STREAM message (the platform gives the body alone) and for an
    SQS record without a usable ``messageId``. ``sent_time`` anchors relative times in the spec; None
    when unknown. ``problem`` is set when the adapter could not read the message at all (the message
    then fails permanently with that reason); ``body_encoding`` is ``"base64"`` when ``body`` holds
    the base64 of bytes that were not UTF-8 text, ``"text"`` otherwise.
    """

    message_id: str | None
    body: str
    source: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    sent_time: datetime | None = None
    problem: FieldProblem | None = None
    body_encoding: str = "text"


@dataclass(frozen=True)
class QueueBatch:
    """The messages of one invocation and the platform that delivered them (it decides the reply)."""

    platform: str
    messages: tuple[QueueMessage, ...]


class QueueEventError(PushfnError, ValueError):
    """The event is none of the shapes this adapter knows (a deployment mistake, not a bad message)."""


class MessageVerdict(Protocol):
    """What the reply needs of one handled message; :class:`pushfn.jobs.queued.MessageOutcome` is one.

    ``retry`` is true when the message must come back (a retry can fix its failure), ``succeeded``
    when every push of it went out (or was replayed); neither means it failed permanently (it was
    reported and dead-lettered). ``reason`` is a short, log-safe code (``"throttled"``), or None.
    """

    @property
    def message_id(self) -> str | None:
        """The platform's id of the message (SQS ``messageId``), or None when it has none."""
        ...

    @property
    def retry(self) -> bool:
        """True when the message must be delivered again."""
        ...

    @property
    def succeeded(self) -> bool:
        """True when every push of the message went out or was replayed."""
        ...

    @property
    def reason(self) -> str | None:
        """A short, log-safe failure code (``"throttled"``), or None."""
        ...


def parse_queue_event(event: object) -> QueueBatch:
    """Recognise the event shape and list its messages.

    Never fails because of one message (see the module docstring); raises :class:`QueueEventError`
    only when the event as a whole is none of the known shapes (:func:`malformed_event_batch` turns
    that into something the job can report).
    """
    if isinstance(event, (bytes, bytearray, memoryview)):
        raw = bytes(event)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A platform's JSON envelope holding one message whose bytes are not UTF-8 (a batch of
            # CloudEvents) is read around them: that message alone is unreadable, the others go out.
            wrapped = _envelope_batch(_try_json(raw.decode("utf-8", "surrogateescape")))
            if wrapped is not None:
                return QueueBatch(wrapped.platform, tuple(_undecodable(m) for m in wrapped.messages))
            # Otherwise it is a STREAM topic message: the raw body itself.
            problem = FieldProblem("body", "encoding", f"not UTF-8 text (invalid byte at offset {exc.start})")
            body = base64.b64encode(raw).decode("ascii")
            return QueueBatch(MNS_TOPIC, (QueueMessage(None, body, MNS_TOPIC, problem=problem, body_encoding=BASE64),))
        data: object = _try_json(text)
        if data is _NOT_JSON:
            return QueueBatch(MNS_TOPIC, (_stream_message(text),))
    elif isinstance(event, str):
        text = event
        data = _try_json(event)
        if data is _NOT_JSON:
            return QueueBatch(MNS_TOPIC, (_stream_message(text),))
    else:
        text = None
        data = event

    batch = _envelope_batch(data)
    if batch is not None:
        return batch
    if text is not None:
        # FC hands a STREAM topic message over as the raw body; a JSON body is the message itself.
        return QueueBatch(MNS_TOPIC, (_stream_message(text),))
    raise QueueEventError(
        "not an SQS event (Records), an MNS topic event (raw body, {body, attrs} or JSON format), "
        "or an MNS queue CloudEvent (data.messageBody)"
    )


def _envelope_batch(data: object) -> QueueBatch | None:
    """The messages of a decoded platform envelope (SQS, MNS queue CloudEvent(s), MNS topic JSON or
    STREAM with attributes), or None when ``data`` is none of them."""
    if isinstance(data, Mapping) and isinstance(data.get("Records"), list):
        return QueueBatch(SQS, tuple(_each(data["Records"], _sqs_message, "Records", SQS)))
    if _is_cloudevent(data):
        return QueueBatch(MNS_QUEUE, tuple(_each([data], _cloudevent_message, "", MNS_QUEUE)))
    if isinstance(data, list) and any(_is_cloudevent(item) for item in data):
        # A batch: an item that is not a CloudEvent is one unreadable message, not a lost batch.
        return QueueBatch(MNS_QUEUE, tuple(_each(data, _cloudevent_message, "", MNS_QUEUE)))
    if isinstance(data, Mapping) and {"TopicName", "Message", "MessageId"} <= data.keys():
        return QueueBatch(MNS_TOPIC, tuple(_each([data], _topic_json_message, "", MNS_TOPIC)))
    if isinstance(data, Mapping) and set(data) == {"body", "attrs"} and isinstance(data["attrs"], Mapping):
        return QueueBatch(MNS_TOPIC, tuple(_each([data], _topic_stream_attrs_message, "", MNS_TOPIC)))
    return None


def _undecodable(message: QueueMessage) -> QueueMessage:
    """A message of an envelope that was read with ``surrogateescape``: one whose body holds escaped
    bytes (U+DC80-U+DCFF) was not UTF-8, so it is unreadable, its bytes kept as base64 for the dead letter."""
    escaped = _ESCAPED_BYTE.search(message.body)
    if message.problem is not None or escaped is None:
        return message
    try:
        raw = message.body.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a JSON escape of another lone surrogate in the same body
        raw = message.body.encode("utf-8", "surrogatepass")
    problem = FieldProblem("body", "encoding", f"not UTF-8 text (invalid byte at character {escaped.start()})")
    body = base64.b64encode(raw).decode("ascii")
    return dataclasses.replace(message, body=body, problem=problem, body_encoding=BASE64)


def malformed_event_batch(event: object, error: Exception) -> QueueBatch:
    """An event of no known shape as a batch of one unreadable message, so it is reported and
    dead-lettered like any bad message instead of escaping as a traceback.

    The platform is :data:`SQS` when the event at least claims to be one (it has ``Records``), so the
    reply keeps Lambda's shape; :data:`UNKNOWN` otherwise (the job then answers like on MNS).
    """
    platform = SQS if isinstance(event, Mapping) and "Records" in event else UNKNOWN
    detail = str(error) if isinstance(error, QueueEventError) else f"{type(error).__name__}: {error}"
    problem = FieldProblem("event", "shape", _clean(detail, 500))
    body, encoding = received_text(event)
    message = QueueMessage(None, body, platform, problem=problem, body_encoding=encoding)
    return QueueBatch(platform, (message,))


def platform_reply(batch: QueueBatch, outcomes: Sequence[MessageVerdict]) -> dict[str, Any]:
    """The platform's answer once every message of ``batch`` was handled (``outcomes`` in its order).

    - :data:`SQS` — ``{"batchItemFailures": [{"itemIdentifier": id}, ...]}`` naming exactly the
      messages to retry (:func:`sqs_response`); a message without an id is named ``""``, which makes
      Lambda retry the whole batch (see the module docstring), and a warning says so.
    - :data:`MNS_TOPIC`, :data:`MNS_QUEUE` (EventBridge) and :data:`UNKNOWN` — no partial-batch reply
      exists, so when any message must be retried this raises :class:`RetryLaterError` (its
      ``message_ids`` and ``reasons`` name them); the raise comes after every message was handled,
      and the redelivery replays the finished ones from the idempotency store. Otherwise the answer
      is a summary, ``{"processed": n, "succeeded": n, "failed_permanently": n}``.

    Raises :class:`RetryLaterError` (never on SQS).
    """
    retry = [o for o in outcomes if o.retry]
    if batch.platform == SQS:
        if any(not o.message_id for o in retry):
            logger.warning(
                "a message without messageId must be retried: the whole batch is reported failed",
                extra={"fields": {"event": "queue_push.batch_failed", "function": "queue_push"}},
            )
        return sqs_response([o.message_id for o in retry])
    if retry:
        raise RetryLaterError(
            f"{len(retry)} of {len(outcomes)} message(s)",
            [f"{o.message_id or 'message'}: {o.reason or 'unknown'}" for o in retry],
            message_ids=[o.message_id for o in retry],
        )
    succeeded = sum(o.succeeded for o in outcomes)
    return {"processed": len(outcomes), "succeeded": succeeded, "failed_permanently": len(outcomes) - succeeded}


def sqs_response(failed_message_ids: Sequence[str | None]) -> dict[str, list[dict[str, str]]]:
    """Lambda's partial batch reply: only the listed messages become visible again.

    A None or empty id is sent as ``""``, which makes Lambda retry the whole batch (see the module
    docstring): never dropped, since a message left out of the reply is deleted.
    """
    return {"batchItemFailures": [{"itemIdentifier": mid or ""} for mid in failed_message_ids]}


def decode_message_body(text: str) -> str:
    """An EventBridge MNS ``messageBody``: JSON as is, else base64 when it decodes to UTF-8, else as is."""
    if _looks_like_json(text):
        return text
    compact = "".join(text.split())
    if not compact or not compact.isascii():
        return text
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return text


# --- shapes ------------------------------------------------------------------------------------


def _each(items: Sequence[Any], read: Any, where: str, source: str) -> list[QueueMessage]:
    """``read`` each item; one that cannot be read becomes an unreadable message, not an exception.

    ``where`` names the list in problem fields (``Records.3``); ``""`` for the event itself, or a
    batch list, where the position alone is shown when there are several.
    """
    messages = []
    for index, item in enumerate(items):
        try:
            messages.append(read(item))
        except Exception as exc:  # one message's shape must never sink the batch
            name = f"{where}.{index}" if where else (str(index) if len(items) > 1 else "event")
            messages.append(_unreadable(item, name, source, exc))
    return messages


def _sqs_message(record: Mapping[str, Any]) -> QueueMessage:
    if not isinstance(record, Mapping):
        raise QueueEventError("an SQS record must be a JSON object")
    message_id = _identifier(record.get("messageId"))
    attributes = record.get("attributes") or {}
    sent = attributes.get("SentTimestamp") if isinstance(attributes, Mapping) else None
    raw_attrs = record.get("messageAttributes") or {}
    message_attrs = (
        {str(k): _text(v.get("stringValue", "")) for k, v in raw_attrs.items() if isinstance(v, Mapping)}
        if isinstance(raw_attrs, Mapping)
        else {}
    )
    problem = _id_problem(record.get("messageId"), "messageId")
    return QueueMessage(
        message_id=message_id,
        body=_text(record.get("body", "")),
        source=_clean(str(record.get("eventSourceARN") or SQS)),
        attributes=message_attrs,
        sent_time=_from_millis(sent),
        problem=problem,
    )


def _is_cloudevent(data: object) -> bool:
    return (
        isinstance(data, Mapping)
        and "specversion" in data
        and isinstance(data.get("data"), Mapping)
        and "messageBody" in data["data"]
    )


def _cloudevent_message(event: Mapping[str, Any]) -> QueueMessage:
    if not _is_cloudevent(event):
        raise QueueEventError("not an MNS queue CloudEvent (specversion, data.messageBody)")
    payload = event["data"]
    raw_id = payload.get("messageId") or event.get("id")
    attributes = {str(k): _text(v) for k, v in payload.items() if k != "messageBody" and v is not None}
    return QueueMessage(
        message_id=_identifier(raw_id),
        body=decode_message_body(_text(payload.get("messageBody", ""))),
        source=_clean(str(event.get("subject") or event.get("source") or MNS_QUEUE)),
        attributes=attributes,
        sent_time=_from_iso(event.get("time")),
        problem=_id_problem(raw_id, "data.messageId"),
    )


def _topic_json_message(data: Mapping[str, Any]) -> QueueMessage:
    known = {
        "TopicOwner",
        "Message",
        "Subscriber",
        "PublishTime",
        "SubscriptionName",
        "MessageMD5",
        "TopicName",
        "MessageId",
        "MessageTag",
    }
    return QueueMessage(
        message_id=_identifier(data["MessageId"]),
        body=_text(data["Message"]),
        source=_clean(f"{MNS_TOPIC}:{data.get('TopicName')}"),
        attributes={str(k): _text(v) for k, v in data.items() if k not in known},
        sent_time=_from_millis(data.get("PublishTime")),
        problem=_id_problem(data["MessageId"], "MessageId"),
    )


def _topic_stream_attrs_message(data: Mapping[str, Any]) -> QueueMessage:
    attrs = {str(k): _text(v) for k, v in data["attrs"].items()}
    return QueueMessage(None, _text(data["body"]), MNS_TOPIC, attrs)


def _stream_message(text: str) -> QueueMessage:
    return QueueMessage(None, text, MNS_TOPIC)


def _unreadable(item: object, where: str, source: str, exc: Exception) -> QueueMessage:
    detail = str(exc) if isinstance(exc, QueueEventError) else f"{type(exc).__name__}: {exc}"
    raw_id = None
    if isinstance(item, Mapping):  # wherever this shape keeps its id: SQS, CloudEvent data, CloudEvent
        data = item.get("data")
        raw_id = item.get("messageId") or (data.get("messageId") if isinstance(data, Mapping) else None)
        raw_id = raw_id or item.get("id")
    body, encoding = received_text(item)
    return QueueMessage(
        message_id=_identifier(raw_id),
        body=body,
        source=source,
        problem=FieldProblem(where, "shape", _clean(detail, 500)),
        body_encoding=encoding,
    )


# --- helpers -----------------------------------------------------------------------------------

_NOT_JSON: Any = object()
#: Describes a value of any depth in bounded text (levels past 32, the JSON depth bound, become "...").
_DESCRIBE = reprlib.Repr()
_DESCRIBE.maxlevel = 32
_DESCRIBE.maxlist = _DESCRIBE.maxtuple = _DESCRIBE.maxdict = _DESCRIBE.maxset = 1000
_DESCRIBE.maxstring = _DESCRIBE.maxother = _DESCRIBE.maxlong = 100_000
#: What ``surrogateescape`` makes of a byte that is not UTF-8.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _try_json(text: str) -> Any:
    """Lenient parse, for recognising the platform's envelope only (bodies use ``decode_json``)."""
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        return _NOT_JSON


def _looks_like_json(text: str) -> bool:
    # A JSON object, array or string can never be base64 ("{", "[" and '"' are not in its alphabet),
    # so this settles it without parsing a body that may be nested a million deep.
    start = text.removeprefix("\ufeff").lstrip()[:1]
    return start in ("{", "[", '"') or _try_json(text) is not _NOT_JSON


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return json.dumps(value, ensure_ascii=False)


def received_text(value: object) -> tuple[str, str]:
    """What was received, as text for a dead letter: ``(text, "text")`` or ``(base64, "base64")`` for bytes
    that are not UTF-8; any other value as its JSON, or a bounded description when it is not JSON or is
    nested deeper than json can walk. Never raises."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8"), "text"
        except UnicodeDecodeError:
            return base64.b64encode(raw).decode("ascii"), BASE64
    if isinstance(value, str):
        return value, "text"
    try:
        return json.dumps(value, ensure_ascii=False, default=repr), "text"
    except (ValueError, TypeError, RecursionError):
        # Not JSON, or nested deeper than json (and plain repr) can walk: a bounded description,
        # so describing an unreadable record can never raise and sink the batch it came in.
        return _DESCRIBE.repr(value)[:100_000], "text"


def _identifier(value: object) -> str | None:
    """A message id as the platform sent it (made printable if it is not Unicode text); None if unusable."""
    if not isinstance(value, str) or not value:
        return None
    return _clean(value)


def _id_problem(value: object, field_name: str) -> FieldProblem | None:
    """An id that is not Unicode text or is absurdly long cannot name a message safely."""
    if not isinstance(value, str):
        return None
    try:
        check_text(value)
    except JsonInputError as exc:
        return FieldProblem(field_name, exc.rule, exc.detail)
    if len(value) > _MAX_ID_CHARS:
        return FieldProblem(field_name, "max_length", f"longer than {_MAX_ID_CHARS} characters ({len(value)})")
    return None


def _clean(text: str, limit: int = _MAX_ID_CHARS) -> str:
    """Printable, encodable text: lone surrogates become ``\\udXXX`` escapes; capped at ``limit``."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def _from_millis(value: object) -> datetime | None:
    """Epoch milliseconds as the platforms write them (SQS ``SentTimestamp`` a string of ASCII digits, MNS
    ``PublishTime`` a JSON integer), else None. ``int(str(...))`` also read ``"+1545082649183"``,
    ``"1_545_082_649_183"`` and fullwidth digits, anchoring relative push times on a value no platform sends."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        text = value
    else:
        return None
    try:
        return datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def _from_iso(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value)
    except (ValueError, OverflowError):
        return None
