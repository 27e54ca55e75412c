"""The queue adapter on every event shape of the reference samples, and the event factories."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone

import pytest

from pushfn.triggers.events.queue import (
    SqsRecord,
    mns_queue_batch,
    mns_queue_cloudevent,
    mns_topic_json,
    mns_topic_stream,
    mns_topic_stream_with_attrs,
    sqs_event,
)
from pushfn.triggers.queue import (
    MNS_QUEUE,
    MNS_TOPIC,
    SQS,
    QueueEventError,
    decode_message_body,
    parse_queue_event,
    sqs_response,
)


def test_sqs_sample(sample_json):
    batch = parse_queue_event(sample_json("aws_sqs.json"))
    assert batch.platform == SQS
    first, second = batch.messages
    assert (first.message_id, first.body) == ("059f36b4-87a3-44ab-83d2-661975830a7d", "Test message.")
    assert second.body == '{"message": "foo1"}'
    assert first.source == "arn:aws:sqs:us-east-2:123456789012:my-queue"
    assert first.attributes == {"testAttr": "100"}
    assert first.sent_time == datetime.fromtimestamp(1545082649.183, tz=timezone.utc)


def test_sqs_factory_has_the_sample_shape(sample_json):
    record = sample_json("aws_sqs.json")["Records"][0]
    built = sqs_event([SqsRecord("Test message.", message_id=record["messageId"])])["Records"][0]
    assert set(built) == set(record)
    assert set(built["attributes"]) == set(record["attributes"])
    assert built["body"] == "Test message."
    assert built["md5OfBody"] == hashlib.md5(b"Test message.").hexdigest()


def test_sqs_partial_batch_reply_has_the_sample_shape(sample_json):
    expected = sample_json("aws_sqs_batch_response.json")
    assert sqs_response(["244fc6b4-87a3-44ab-83d2-361172410c3a"]) == expected
    assert sqs_response([]) == {"batchItemFailures": []}


def test_mns_topic_stream_raw_sample(sample):
    batch = parse_queue_event(sample("fc_mns_topic_stream_raw.txt"))
    assert batch.platform == MNS_TOPIC
    [message] = batch.messages
    assert message.message_id is None  # STREAM gives the body alone
    assert message.body.strip() == "hello topic"


def test_mns_topic_stream_raw_json_body_is_the_message_itself():
    body = {"kind": "push", "version": 1, "push": {"Title": "x"}}
    [message] = parse_queue_event(mns_topic_stream(body)).messages
    assert json.loads(message.body) == body


def test_mns_topic_stream_with_attributes_sample(sample):
    raw = sample("fc_mns_topic_stream_with_attributes.json")
    [message] = parse_queue_event(raw).messages
    assert (message.message_id, message.body) == (None, "hello topic")
    assert message.attributes == {"Extend": '{"key":"value"}'}
    assert json.loads(mns_topic_stream_with_attrs("hello topic", {"Extend": '{"key":"value"}'})) == json.loads(raw)


@pytest.mark.parametrize(
    ("name", "attributes"),
    [("fc_mns_topic_json.json", {}), ("fc_mns_topic_json_with_attributes.json", {"key": "value"})],
)
def test_mns_topic_json_samples(sample, name, attributes):
    raw = sample(name)
    batch = parse_queue_event(raw)
    [message] = batch.messages
    data = json.loads(raw)
    assert (batch.platform, message.message_id, message.body) == (MNS_TOPIC, data["MessageId"], "hello topic")
    assert message.attributes == attributes
    assert message.sent_time == datetime.fromtimestamp(data["PublishTime"] / 1000, tz=timezone.utc)
    assert message.source == "mns_topic:test-topic"


def test_mns_topic_json_factory_has_the_sample_shape(sample_json):
    sample = sample_json("fc_mns_topic_json_with_attributes.json")
    built = json.loads(mns_topic_json("hello topic", attributes={"key": "value"}))
    assert set(built) == set(sample)


def test_mns_queue_eventbridge_sample_base64_body(sample, sample_json):
    batch = parse_queue_event(sample("fc_mns_queue_eventbridge.json"))
    [message] = batch.messages
    assert batch.platform == MNS_QUEUE
    assert message.body == "meesage from MNS console"
    assert message.message_id == "0FFF111D2A6B444B7FE46AE2xxxxxxxx"
    assert message.source == "acs:mns:cn-shenzhen:15812231xxxxxxxx:queues/fc-example"
    assert mns_queue_cloudevent("meesage from MNS console") == sample_json("fc_mns_queue_eventbridge.json")


def test_base64_without_padding_is_tolerated():
    # The awesome-fc test sample: base64.b64decode raises "Incorrect padding" on it.
    assert decode_message_body("bW9jayBtbnMgcXVldWUgbWVzc2FnZQo") == "mock mns queue message\n"


def test_already_decoded_bodies_are_kept():
    spec = json.dumps({"Title": "x"})
    assert decode_message_body(spec) == spec  # IsBase64Decode: true delivers the JSON itself
    assert decode_message_body("hello, world!") == "hello, world!"  # not base64 at all
    assert decode_message_body(base64.b64encode(spec.encode()).decode()) == spec


def test_mns_queue_batch_of_cloudevents_with_and_without_base64():
    events = [
        mns_queue_cloudevent({"n": 1}, message_id="m1"),
        mns_queue_cloudevent({"n": 2}, message_id="m2", base64_body=False),
        mns_queue_cloudevent({"n": 3}, message_id="m3", strip_padding=True),
    ]
    batch = parse_queue_event(mns_queue_batch(events))
    assert batch.platform == MNS_QUEUE
    assert [(m.message_id, json.loads(m.body)) for m in batch.messages] == [
        ("m1", {"n": 1}),
        ("m2", {"n": 2}),
        ("m3", {"n": 3}),
    ]
    assert parse_queue_event(mns_queue_batch(events, as_bytes=False)).messages == batch.messages


@pytest.mark.parametrize("event", [{"hello": "world"}, [1, 2], 42, None])
def test_unknown_event_shapes_are_refused(event):
    with pytest.raises(QueueEventError):
        parse_queue_event(event)


@pytest.mark.parametrize("record", [{"body": "x"}, {"messageId": "", "body": "x"}, {"messageId": None, "body": "x"}])
def test_a_record_without_message_id_is_still_read(record):
    # Item 14 (issue 13): it is processed (keyed by content) and, if it must be retried, reported as "".
    [message] = parse_queue_event({"Records": [record]}).messages
    assert (message.message_id, message.body, message.problem) == (None, "x", None)


@pytest.mark.parametrize(
    "stamp",
    ["１５４５０８２６４９１８３", "+1545082649183", "1_545_082_649_183", " 1545082649183", "1545082649183.0", True],
)
def test_a_sent_timestamp_that_is_not_ascii_digits_anchors_nothing(stamp):
    """Regression (the kind of the ASCII-only webhook-timestamp and schedule digits): SentTimestamp was read
    with int(str(...)), so fullwidth digits, a sign or underscores were taken as the time the message was
    sent and relative push times ("+1h") counted from it; the anchor is now unknown (None), as for garbage."""
    event = sqs_event([SqsRecord("{}", message_id="m")])
    event["Records"][0]["attributes"]["SentTimestamp"] = stamp
    [message] = parse_queue_event(event).messages
    assert message.sent_time is None


def test_ascii_digit_and_integer_timestamps_anchor_the_message():
    event = sqs_event([SqsRecord("{}", message_id="m", sent_timestamp_ms=1545082649183)])
    assert parse_queue_event(event).messages[0].sent_time == datetime.fromtimestamp(1545082649.183, tz=timezone.utc)
    [message] = parse_queue_event(mns_topic_json("{}", publish_time_ms=1550216480040)).messages
    assert message.sent_time == datetime.fromtimestamp(1550216480.040, tz=timezone.utc)
