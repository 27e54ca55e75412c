"""Queue events of each platform, built from message bodies (shapes of the samples in
``tests/fixtures/events/``: ``aws_sqs.json``, ``fc_mns_topic_*`` and ``fc_mns_queue_eventbridge.json``,
whose public sources that folder's README names).

A body may be a string or any JSON value (encoded for you). :class:`SqsRecord` lets a test build
the Lambda event from messages it really received from an SQS queue (moto in server mode).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

QUEUE_ARN = "arn:aws:sqs:us-east-2:123456789012:my-queue"


@dataclass(frozen=True)
class SqsRecord:
    """One SQS message as Lambda sees it; ids are generated when not given."""

    body: Any
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    receipt_handle: str = "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a..."
    sent_timestamp_ms: int = 1545082649183
    receive_count: int = 1
    message_attributes: Mapping[str, str] = field(default_factory=dict)


def sqs_event(
    records: Iterable[SqsRecord | Any], *, queue_arn: str = QUEUE_ARN, region: str = "us-east-2"
) -> dict[str, Any]:
    """``{"Records": [...]}``; plain bodies are wrapped in :class:`SqsRecord` with fresh ids."""
    out = []
    for item in records:
        record = item if isinstance(item, SqsRecord) else SqsRecord(body=item)
        body = _text(record.body)
        out.append(
            {
                "messageId": record.message_id,
                "receiptHandle": record.receipt_handle,
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(record.receive_count),
                    "SentTimestamp": str(record.sent_timestamp_ms),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": str(record.sent_timestamp_ms + 2),
                },
                "messageAttributes": {
                    name: {"stringValue": value, "stringListValues": [], "binaryListValues": [], "dataType": "String"}
                    for name, value in record.message_attributes.items()
                },
                "md5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": out}


def mns_topic_stream(body: Any) -> bytes:
    """STREAM format without attributes: FC passes the raw message body."""
    return _text(body).encode("utf-8")


def mns_topic_stream_with_attrs(body: Any, attrs: Mapping[str, Any] | None = None) -> bytes:
    """STREAM format with message attributes: ``{"body": ..., "attrs": {...}}``."""
    attributes = dict(attrs) if attrs is not None else {"Extend": json.dumps({"key": "value"})}
    return json.dumps({"body": _text(body), "attrs": attributes}, ensure_ascii=False).encode("utf-8")


def mns_topic_json(
    body: Any,
    *,
    message_id: str = "2F5B3C082B923D4EAC694B76D928****",
    topic: str = "test-topic",
    publish_time_ms: int = 1550216480040,
    attributes: Mapping[str, str] | None = None,
) -> bytes:
    """JSON format; message attributes appear as extra top-level keys (as in the published sample)."""
    text = _text(body)
    event: dict[str, Any] = dict(attributes or {})
    event.update(
        {
            "TopicOwner": "118620210433****",
            "Message": text,
            "Subscriber": "118620210433****",
            "PublishTime": publish_time_ms,
            "SubscriptionName": "test-fc-subscribe",
            "MessageMD5": hashlib.md5(text.encode("utf-8")).hexdigest().upper(),
            "TopicName": topic,
            "MessageId": message_id,
        }
    )
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


def mns_queue_cloudevent(
    body: Any,
    *,
    message_id: str = "0FFF111D2A6B444B7FE46AE2xxxxxxxx",
    base64_body: bool = True,
    strip_padding: bool = False,
    queue: str = "fc-example",
    time: str = "2022-07-21T10:07:31.525Z",
    publish_time: str = "2022-07-21T10:07:32.019Z",
) -> dict[str, Any]:
    """One EventBridge CloudEvent for an MNS queue message.

    ``base64_body`` mirrors ``IsBase64Decode: false`` (the body arrives base64-encoded);
    ``strip_padding`` drops the ``=`` padding, as some console samples do.
    """
    text = _text(body)
    message_body = text
    if base64_body:
        message_body = base64.b64encode(text.encode("utf-8")).decode("ascii")
        if strip_padding:
            message_body = message_body.rstrip("=")
    return {
        "id": message_id,
        "source": "MNS-python3-mns-queue-trigger-trigger-5h3jxxxx",
        "specversion": "1.0",
        "type": "mns:Queue:SendMessage",
        "datacontenttype": "application/json;charset=utf-8",
        "subject": f"acs:mns:cn-shenzhen:15812231xxxxxxxx:queues/{queue}",
        "time": time,
        "aliyunaccountid": "15812231xxxxxxxx",
        "aliyunpublishtime": publish_time,
        "aliyunoriginalaccountid": "15812231xxxxxxxx",
        "aliyuneventbusname": "MNS-python3-mns-queue-trigger-trigger-5h3jxxxx",
        "aliyunregionid": "cn-shenzhen",
        "aliyunpublishaddr": "10.58.xx.xx",
        "data": {"requestId": "62D92563354133CAxxxxxxxx", "messageId": message_id, "messageBody": message_body},
    }


def mns_queue_batch(events: Iterable[Mapping[str, Any]], *, as_bytes: bool = True) -> bytes | list[Any]:
    """Batch mode: a JSON list of CloudEvents (bytes, as FC passes it)."""
    items = list(events)
    return json.dumps(items, ensure_ascii=False).encode("utf-8") if as_bytes else items


def _text(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, bytes):
        return body.decode("utf-8")
    return json.dumps(body, ensure_ascii=False)
