"""The queue function against a real SQS API: moto in server mode over HTTP on loopback.

Messages are really sent, received (with their real ids and receipt handles), turned into the event
Lambda would build, handled, and deleted the way Lambda does with ``ReportBatchItemFailures``:
everything not listed in ``batchItemFailures`` is deleted. After the visibility timeout the queue
itself shows which messages come back.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from functions.queue_push.index import handler

from pushfn.jobs.dead_letter import DEAD_LETTER_ENV
from pushfn.triggers.events.queue import SqsRecord, sqs_event

VISIBILITY_SECONDS = 1


def _push(target: str) -> dict[str, Any]:
    return {
        "Target": "ACCOUNT",
        "TargetValue": target,
        "DeviceType": "ALL",
        "PushType": "NOTICE",
        "Title": "T",
        "Body": "B",
    }


@pytest.fixture
def sqs(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")


def _queue(sqs: Any, prefix: str) -> tuple[str, str]:
    url = sqs.create_queue(
        QueueName=f"{prefix}-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": str(VISIBILITY_SECONDS)}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _receive(sqs: Any, url: str, expected: int, wait: float = 5.0) -> list[dict[str, Any]]:
    """Receive until ``expected`` messages arrived or ``wait`` seconds passed (0 expected: one long poll)."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait
    while True:
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        )
        messages.extend(answer.get("Messages", []))
        if (expected and len(messages) >= expected) or time.monotonic() > deadline:
            return messages


def _lambda_event(messages: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller builds from received messages."""
    records = [
        SqsRecord(
            body=m["Body"],
            message_id=m["MessageId"],
            receipt_handle=m["ReceiptHandle"],
            sent_timestamp_ms=int(m["Attributes"]["SentTimestamp"]),
            receive_count=int(m["Attributes"]["ApproximateReceiveCount"]),
        )
        for m in messages
    ]
    return sqs_event(records, queue_arn=arn, region="us-east-1")


def _settle(sqs: Any, url: str, messages: list[dict[str, Any]], reply: dict[str, Any]) -> None:
    """What Lambda does with a partial batch reply: delete every message not reported as failed."""
    failed = {item["itemIdentifier"] for item in reply["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_only_the_throttled_message_comes_back_and_the_malformed_one_is_dead_lettered(
    emulator, runtime, sqs, monkeypatch
):
    work_url, work_arn = _queue(sqs, "work")
    dead_url, _ = _queue(sqs, "dead")
    monkeypatch.setenv(DEAD_LETTER_ENV, "sqs+" + dead_url)

    bodies = {
        "malformed": json.dumps({"kind": "push", "version": 1, "push": {"Title": "no target"}}),
        "throttled": json.dumps(_push("throttled")),
        "good": json.dumps(_push("good")),
    }
    ids = {name: sqs.send_message(QueueUrl=work_url, MessageBody=body)["MessageId"] for name, body in bodies.items()}
    received = _receive(sqs, work_url, expected=3)
    assert {m["MessageId"] for m in received} == set(ids.values())
    # Put them in the order the test reasons about: the fault hits the first request that is sent.
    order = [ids["malformed"], ids["throttled"], ids["good"]]
    received.sort(key=lambda m: order.index(m["MessageId"]))
    emulator.add_fault("throttle", count=1)

    reply = handler(_lambda_event(received, work_arn), None)

    assert reply == {"batchItemFailures": [{"itemIdentifier": ids["throttled"]}]}
    assert [p["params"]["TargetValue"] for p in emulator.pushes()] == ["good"]
    _settle(sqs, work_url, received, reply)

    # After the visibility timeout only the throttled message is visible again.
    time.sleep(VISIBILITY_SECONDS + 0.2)
    [again] = _receive(sqs, work_url, expected=1)
    assert again["MessageId"] == ids["throttled"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    reply = handler(_lambda_event([again], work_arn), None)
    assert reply == {"batchItemFailures": []}
    _settle(sqs, work_url, [again], reply)

    assert sorted(p["params"]["TargetValue"] for p in emulator.pushes()) == ["good", "throttled"]
    time.sleep(VISIBILITY_SECONDS + 0.2)
    assert _receive(sqs, work_url, expected=0, wait=0) == []

    # The malformed message sits in the dead-letter queue, with its reason.
    [letter_message] = _receive(sqs, dead_url, expected=1)
    letter = json.loads(letter_message["Body"])
    assert letter["message_id"] == ids["malformed"]
    assert letter["failure"]["reason"] == "invalid_spec"
    assert ("Target", "required") in {(p["field"], p["rule"]) for p in letter["failure"]["problems"]}
    assert letter["body"] == bodies["malformed"]
    assert letter_message["MessageAttributes"]["reason"]["StringValue"] == "invalid_spec"


def test_a_message_redelivered_by_the_queue_is_not_pushed_twice(emulator, runtime, sqs):
    url, arn = _queue(sqs, "redeliver")
    message_id = sqs.send_message(QueueUrl=url, MessageBody=json.dumps(_push("once")))["MessageId"]

    [first] = _receive(sqs, url, expected=1)
    assert handler(_lambda_event([first], arn), None) == {"batchItemFailures": []}
    # The function "times out" before Lambda deletes the message: the queue delivers it again.
    time.sleep(VISIBILITY_SECONDS + 0.2)
    [second] = _receive(sqs, url, expected=1)
    assert second["MessageId"] == message_id
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    reply = handler(_lambda_event([second], arn), None)
    _settle(sqs, url, [second], reply)

    assert [p["params"]["TargetValue"] for p in emulator.pushes()] == ["once"]


def test_the_issue_13_item_6_messages_are_dead_lettered_with_their_reason_not_received_again(
    emulator, runtime, sqs, monkeypatch
):
    """Anything that fails while interpreting a message is permanent: on a real SQS API none of the
    issue's inputs comes back after the visibility timeout, and each sits in the dead-letter queue
    with its reason (they used to be handed back until maxReceiveCount, with no reason recorded)."""
    work_url, work_arn = _queue(sqs, "poison")
    dead_url, _ = _queue(sqs, "poison-dead")
    monkeypatch.setenv(DEAD_LETTER_ENV, "sqs+" + dead_url)
    bodies = {
        "kind-list": (json.dumps({"kind": [], "version": 1}), "kind"),
        "relative-overflow": (json.dumps({**_push("x"), "push_time": "+999999999w"}), "push_time"),
        "5000-digits": (
            '{"kind": "push", "version": 1, "push": {"iOSBadge": ' + "1" * 5000 + "}}",
            "body.push.iOSBadge",
        ),
        "year-9999": (json.dumps({**_push("x"), "PushTime": "9999-12-31T23:59:58Z"}), "PushTime"),
        "good": (json.dumps(_push("good")), None),
    }
    ids = {
        sqs.send_message(QueueUrl=work_url, MessageBody=body)["MessageId"]: name for name, (body, _) in bodies.items()
    }
    received = _receive(sqs, work_url, expected=len(bodies))

    reply = handler(_lambda_event(received, work_arn), None)

    assert reply == {"batchItemFailures": []}
    _settle(sqs, work_url, received, reply)
    assert [p["params"]["TargetValue"] for p in emulator.pushes()] == ["good"]
    time.sleep(VISIBILITY_SECONDS + 0.2)
    assert _receive(sqs, work_url, expected=0, wait=0) == []
    letters = [json.loads(m["Body"]) for m in _receive(sqs, dead_url, expected=len(bodies) - 1)]
    assert sorted(ids[letter["message_id"]] for letter in letters) == sorted(n for n in bodies if n != "good")
    for letter in letters:
        name = ids[letter["message_id"]]
        assert (letter["failure"]["status"], letter["failure"]["reason"]) == ("permanent", "invalid_spec")
        assert bodies[name][1] in {p["field"] for p in letter["failure"]["problems"]}, letter["failure"]
        assert letter["body"] == bodies[name][0]


def test_a_large_non_ascii_message_that_fails_for_good_fits_its_dead_letter_queue(emulator, runtime, sqs, monkeypatch):
    """Regression: letters were sent all-ASCII, so 中 became ``\\u4e2d``, six bytes for three: a message of
    60,000 Chinese characters (180 KB, well within the 256 KB a queue may be limited to) made a 360 KB letter
    the dead-letter queue refused; the message was handed back instead of parked, on every delivery. The
    letter is UTF-8 now, escaping only what SQS refuses (U+FFFE, U+FFFF, lone surrogates)."""
    dead_url = sqs.create_queue(
        QueueName=f"small-dead-{uuid.uuid4().hex[:8]}", Attributes={"MaximumMessageSize": "262144"}
    )["QueueUrl"]
    monkeypatch.setenv(DEAD_LETTER_ENV, "sqs+" + dead_url)
    body = json.dumps({**_push("x"), "Body": "中" * 60_000 + "\ufffe", "Bogus": 1}, ensure_ascii=False)

    reply = handler(sqs_event([SqsRecord(body=body, message_id="m-big")]), None)

    assert reply == {"batchItemFailures": []}
    [message] = _receive(sqs, dead_url, expected=1)
    letter = json.loads(message["Body"])
    assert letter["message_id"] == "m-big" and letter["body"] == body
    assert ("Bogus", "unknown_field") in {(p["field"], p["rule"]) for p in letter["failure"]["problems"]}
    assert not emulator.pushes()


def test_a_message_of_thousands_of_field_errors_fits_its_dead_letter_queue(emulator, runtime, sqs, monkeypatch):
    """Regression (issue 13 items 6/17, the kind of the HTTP side's 100-error cap): a dead letter listed
    every field problem, so 6,000 unknown fields in a 70 KB message made a 660 KB letter the dead-letter
    queue refused, and the message was handed back on every delivery instead of parked. A letter lists the
    first 100 problems and counts the rest in ``problems_omitted``."""
    dead_url = sqs.create_queue(
        QueueName=f"small-dead-{uuid.uuid4().hex[:8]}", Attributes={"MaximumMessageSize": "262144"}
    )["QueueUrl"]
    monkeypatch.setenv(DEAD_LETTER_ENV, "sqs+" + dead_url)
    body = json.dumps({**_push("x"), **{f"x{i}": 1 for i in range(6000)}})

    reply = handler(sqs_event([SqsRecord(body=body, message_id="m-errors")]), None)

    assert reply == {"batchItemFailures": []}
    [message] = _receive(sqs, dead_url, expected=1)
    letter = json.loads(message["Body"])
    assert letter["message_id"] == "m-errors" and letter["body"] == body
    failure = letter["failure"]
    assert len(failure["problems"]) == 100 and failure["problems_omitted"] == 5900
    assert failure["problems"][0] == {"field": "x0", "rule": "unknown_field", "message": "unknown parameter 'x0'"}
    assert failure["message"].endswith("; +5995 more")
    assert not emulator.pushes()
