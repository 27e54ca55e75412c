"""Queue adapter: SQS and MNS events → :class:`QueueMessage` list; per-message outcomes → the reply.

Event shapes (see the samples in the team reference, ``events/aws_sqs.json`` and ``events/fc_mns_*``):

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

``messageBody`` is base64 unless the trigger's ``IsBase64Decode`` is true, and the function cannot
see that setting, so :func:`decode_message_body` decides per message: a body that is JSON is used
as it is (a JSON object or list can never be valid base64); otherwise it is decoded as base64
(missing ``=`` padding tolerated, as the console's samples lack it) when that yields UTF-8 text;
otherwise it is used as it is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pushfn.errors import PushfnError
from pushfn.specs.relative_time import parse_instant

SQS = "sqs"
MNS_TOPIC = "mns_topic"
MNS_QUEUE = "mns_queue"


@dataclass(frozen=True)
class QueueMessage:
    """One message, whatever queue it came from.

    ``message_id`` is None only for an MNS STREAM message without attributes (the platform gives
    the body alone). ``sent_time`` anchors relative times in the spec; None when unknown.
    """

    message_id: str | None
    body: str
    source: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    sent_time: datetime | None = None


@dataclass(frozen=True)
class QueueBatch:
    """The messages of one invocation and the platform that delivered them (it decides the reply)."""

    platform: str
    messages: tuple[QueueMessage, ...]


class QueueEventError(PushfnError, ValueError):
    """The event is none of the shapes this adapter knows (a deployment mistake, not a bad message)."""


class RetryMessagesError(PushfnError):
    """Raised on MNS so the platform redelivers: some messages failed in a way a retry can fix."""

    def __init__(self, message_ids: Sequence[str | None], reasons: Sequence[str]) -> None:
        self.message_ids = list(message_ids)
        self.reasons = list(reasons)
        shown = "; ".join(reasons[:3]) + (f"; +{len(reasons) - 3} more" if len(reasons) > 3 else "")
        super().__init__(f"{len(self.message_ids)} message(s) will be retried: {shown}")


def parse_queue_event(event: object) -> QueueBatch:
    """Recognise the event shape and list its messages."""
    if isinstance(event, (bytes, bytearray)):
        text = bytes(event).decode("utf-8", errors="replace")
        data: object = _try_json(text)
        if data is _NOT_JSON:
            return QueueBatch(MNS_TOPIC, (QueueMessage(None, text, MNS_TOPIC),))
    elif isinstance(event, str):
        text = event
        data = _try_json(event)
        if data is _NOT_JSON:
            return QueueBatch(MNS_TOPIC, (QueueMessage(None, text, MNS_TOPIC),))
    else:
        text = None
        data = event

    if isinstance(data, Mapping) and isinstance(data.get("Records"), list):
        return QueueBatch(SQS, tuple(_sqs_message(r) for r in data["Records"]))
    if _is_cloudevent(data):
        return QueueBatch(MNS_QUEUE, (_cloudevent_message(data),))  # type: ignore[arg-type]
    if isinstance(data, list) and data and all(_is_cloudevent(item) for item in data):
        return QueueBatch(MNS_QUEUE, tuple(_cloudevent_message(item) for item in data))
    if isinstance(data, Mapping) and {"TopicName", "Message", "MessageId"} <= data.keys():
        return QueueBatch(MNS_TOPIC, (_topic_json_message(data),))
    if isinstance(data, Mapping) and set(data) == {"body", "attrs"} and isinstance(data["attrs"], Mapping):
        attrs = {str(k): _text(v) for k, v in data["attrs"].items()}
        return QueueBatch(MNS_TOPIC, (QueueMessage(None, _text(data["body"]), MNS_TOPIC, attrs),))
    if text is not None:
        # FC hands a STREAM topic message over as the raw body; a JSON body is the message itself.
        return QueueBatch(MNS_TOPIC, (QueueMessage(None, text, MNS_TOPIC),))
    raise QueueEventError(
        "not an SQS event (Records), an MNS topic event (raw body, {body, attrs} or JSON format), "
        "or an MNS queue CloudEvent (data.messageBody)"
    )


def sqs_response(failed_message_ids: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    """Lambda's partial batch reply: only the listed messages become visible again."""
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in failed_message_ids]}


def decode_message_body(text: str) -> str:
    """An EventBridge MNS ``messageBody``: JSON as is, else base64 when it decodes to UTF-8, else as is."""
    if _try_json(text) is not _NOT_JSON:
        return text
    compact = "".join(text.split())
    if not compact:
        return text
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return text


# --- shapes ------------------------------------------------------------------------------------


def _sqs_message(record: Mapping[str, Any]) -> QueueMessage:
    if not isinstance(record, Mapping) or not isinstance(record.get("messageId"), str):
        raise QueueEventError("an SQS record has no messageId")
    attributes = record.get("attributes") or {}
    sent = attributes.get("SentTimestamp") if isinstance(attributes, Mapping) else None
    message_attrs = {
        str(k): str(v.get("stringValue", ""))
        for k, v in (record.get("messageAttributes") or {}).items()
        if isinstance(v, Mapping)
    }
    return QueueMessage(
        message_id=record["messageId"],
        body=_text(record.get("body", "")),
        source=str(record.get("eventSourceARN") or SQS),
        attributes=message_attrs,
        sent_time=_from_millis(sent),
    )


def _is_cloudevent(data: object) -> bool:
    return (
        isinstance(data, Mapping)
        and "specversion" in data
        and isinstance(data.get("data"), Mapping)
        and "messageBody" in data["data"]
    )


def _cloudevent_message(event: Mapping[str, Any]) -> QueueMessage:
    payload = event["data"]
    message_id = payload.get("messageId") or event.get("id")
    attributes = {str(k): _text(v) for k, v in payload.items() if k != "messageBody" and v is not None}
    return QueueMessage(
        message_id=str(message_id) if message_id else None,
        body=decode_message_body(_text(payload.get("messageBody", ""))),
        source=str(event.get("subject") or event.get("source") or MNS_QUEUE),
        attributes=attributes,
        sent_time=_from_iso(event.get("time")),
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
        message_id=str(data["MessageId"]),
        body=_text(data["Message"]),
        source=f"{MNS_TOPIC}:{data.get('TopicName')}",
        attributes={str(k): _text(v) for k, v in data.items() if k not in known},
        sent_time=_from_millis(data.get("PublishTime")),
    )


# --- helpers -----------------------------------------------------------------------------------

_NOT_JSON: Any = object()


def _try_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return json.dumps(value, ensure_ascii=False)


def _from_millis(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _from_iso(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None
