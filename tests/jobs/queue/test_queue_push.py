"""The queue_push function end to end: event → guard (SQLite) → client → emulator (real HTTP).

The client's own retries are off (see conftest), so one injected fault reaches the job, which must
sort each message into success / permanent / transient.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from functions.queue_push.index import handler  # the deployed entry point, not a copy of it

from pushfn.api_time import format_api_time, parse_api_time
from pushfn.jobs.dead_letter import DEAD_LETTER_ENV
from pushfn.jobs.errors import RetryLaterError
from pushfn.jobs.queued import CONTENT_KEY_SECONDS, message_key
from pushfn.specs.envelope import parse_job
from pushfn.triggers.events.queue import (
    SqsRecord,
    mns_queue_batch,
    mns_queue_cloudevent,
    mns_topic_json,
    mns_topic_stream,
    mns_topic_stream_with_attrs,
    sqs_event,
)
from pushfn.triggers.queue import QueueMessage

DEVICE = "e2ba19de97604f55b165576736477b74"


def _push(target: str, **extra: Any) -> dict[str, Any]:
    return {
        "Target": "ACCOUNT",
        "TargetValue": target,
        "DeviceType": "ALL",
        "PushType": "NOTICE",
        "Title": "T",
        "Body": "B",
        **extra,
    }


def _targets(emulator: Any) -> list[str]:
    return [p["params"].get("TargetValue") for p in emulator.pushes()]


def _failed(reply: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in reply["batchItemFailures"]]


@pytest.fixture
def dead_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "dead"
    monkeypatch.setenv(DEAD_LETTER_ENV, str(directory))
    return directory


def _letters(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))] if directory.exists() else []


def test_malformed_throttled_and_good_in_one_batch(emulator, runtime, dead_dir, caplog):
    caplog.set_level(logging.WARNING, logger="pushfn.jobs")
    malformed = SqsRecord('{"kind": "push", "version": 1, "push": {"Title": "no target"}}', message_id="m-bad")
    throttled = SqsRecord(_push("throttled"), message_id="m-throttled")
    good = SqsRecord(_push("good"), message_id="m-good")
    emulator.add_fault("throttle", count=1)  # the first request to reach the service: "throttled"'s

    reply = handler(sqs_event([malformed, throttled, good]), None)

    assert _failed(reply) == ["m-throttled"]  # only what a retry can fix
    assert _targets(emulator) == ["good"]
    [letter] = _letters(dead_dir)
    assert letter["message_id"] == "m-bad"
    assert letter["failure"]["reason"] == "invalid_spec"
    assert ("Target", "required") in {(p["field"], p["rule"]) for p in letter["failure"]["problems"]}
    assert json.loads(letter["body"])["push"] == {"Title": "no target"}
    assert parse_api_time(letter["failed_at"]) is not None  # the one UTC spelling, as pushfn serve's letters
    events = [getattr(r, "fields", {}).get("event") for r in caplog.records]
    assert events.count("queue_push.permanent_failure") == 1
    assert events.count("queue_push.transient_failure") == 1

    # Lambda redelivers only the throttled message; it goes out once.
    assert _failed(handler(sqs_event([SqsRecord(_push("throttled"), message_id="m-throttled")]), None)) == []
    assert _targets(emulator) == ["good", "throttled"]


def test_a_redelivered_message_does_not_push_twice(emulator, runtime):
    record = SqsRecord(_push("once"), message_id="m-1")
    assert _failed(handler(sqs_event([record]), None)) == []
    again = SqsRecord(_push("once"), message_id="m-1", receipt_handle="another-handle", receive_count=2)
    assert _failed(handler(sqs_event([again]), None)) == []
    assert _targets(emulator) == ["once"]


def test_an_explicit_key_dedupes_across_message_ids(emulator, runtime):
    body = {"kind": "push", "version": 1, "key": "order-42-shipped", "push": _push("k")}
    handler(sqs_event([SqsRecord(body, message_id="a"), SqsRecord(body, message_id="b")]), None)
    assert _targets(emulator) == ["k"]


def test_a_list_in_one_message_resumes_after_a_transient_failure(emulator, runtime):
    body = [_push("a"), _push("b"), _push("c")]
    emulator.add_fault("internal_error", count=1, actions=["Push"])
    # The fault hits "a"; nothing after it is attempted.
    assert _failed(handler(sqs_event([SqsRecord(body, message_id="list")]), None)) == ["list"]
    runtime.clock.advance(600)  # a 5xx keeps the key in progress until its window has passed
    assert _failed(handler(sqs_event([SqsRecord(body, message_id="list")]), None)) == []
    assert _targets(emulator) == ["a", "b", "c"]


def test_relative_times_resolve_against_the_send_time(emulator, runtime):
    sent = datetime.now(timezone.utc).replace(microsecond=0)
    record = SqsRecord(_push("t", push_time="+10m"), message_id="rel", sent_timestamp_ms=int(sent.timestamp() * 1000))
    handler(sqs_event([record]), None)
    [push] = emulator.pushes()
    assert push["params"]["PushTime"] == format_api_time(sent + timedelta(minutes=10))


def test_a_push_the_service_refuses_is_permanent_and_dead_lettered(emulator, runtime, dead_dir, caplog):
    caplog.set_level(logging.INFO)
    body = _push(DEVICE, Target="DEVICE", AppKey=11111111)  # an AppKey the service does not know
    reply = handler(sqs_event([SqsRecord(body, message_id="refused")]), None)
    assert _failed(reply) == []
    [letter] = _letters(dead_dir)
    assert letter["failure"]["reason"] == "service_refused"
    assert letter["failure"]["code"].startswith("InvalidAppKey")
    assert emulator.pushes() == []
    # The letter keeps the body (to fix and re-send); the log never shows the full device id.
    assert DEVICE in letter["body"]
    assert all(
        DEVICE not in (r.getMessage() + json.dumps(getattr(r, "fields", {}), default=str)) for r in caplog.records
    )


def test_unknown_kind_or_version_is_dead_lettered_with_a_clear_reason(emulator, runtime, dead_dir):
    bodies = [
        SqsRecord({"kind": "sms", "version": 1}, message_id="k1"),
        SqsRecord({"kind": "push", "version": 7, "push": _push("x")}, message_id="k2"),
    ]
    assert _failed(handler(sqs_event(bodies), None)) == []
    reasons = {letter["message_id"]: letter["failure"]["problems"][0] for letter in _letters(dead_dir)}
    assert (reasons["k1"]["field"], reasons["k1"]["rule"]) == ("kind", "unknown_kind")
    assert (reasons["k2"]["field"], reasons["k2"]["rule"]) == ("version", "unsupported_version")
    assert emulator.pushes() == []


def test_chunk_jobs_are_keyed_by_their_chunk(emulator, runtime):
    def chunk(n: int, targets: str) -> dict[str, Any]:
        return {
            "kind": "chunk",
            "version": 1,
            "job": {"source": "bucket/lists/vip.csv", "etag": "9b2cf535", "chunk": n, "chunks": 2},
            "params": _push(targets),
        }

    handler(
        sqs_event([SqsRecord(chunk(0, "u1,u2"), message_id="c0"), SqsRecord(chunk(1, "u3"), message_id="c1")]), None
    )
    # The file function re-queues chunk 0 after a restart: a new message id, the same chunk.
    handler(sqs_event([SqsRecord(chunk(0, "u1,u2"), message_id="c0-again")]), None)
    assert _targets(emulator) == ["u1,u2", "u3"]


def test_mass_push_jobs(emulator, runtime):
    tasks = [{k: v for k, v in _push(f"u{i}", Title=f"Hi {i}").items()} for i in range(3)]
    body = {"kind": "mass_push", "version": 1, "mass_push": {"PushTask": tasks}}
    assert _failed(handler(sqs_event([SqsRecord(body, message_id="mp")]), None)) == []
    handler(sqs_event([SqsRecord(body, message_id="mp")]), None)
    assert [p["params"]["Title"] for p in emulator.pushes()] == ["Hi 0", "Hi 1", "Hi 2"]
    assert {p["action"] for p in emulator.pushes()} == {"MassPush"}


def test_mns_raises_only_for_transient_failures_after_the_good_messages(
    emulator, runtime, dead_dir, fault_after_pushes
):
    events = [
        mns_queue_cloudevent(_push("first"), message_id="q1"),
        mns_queue_cloudevent(_push("throttled"), message_id="q2"),
        mns_queue_cloudevent("this is not json", message_id="q3"),
        mns_queue_cloudevent(_push("last"), message_id="q4", strip_padding=True),
    ]
    fault_after_pushes(1, "throttle")  # the request after "first" is refused with Throttling.User

    with pytest.raises(RetryLaterError) as exc:
        handler(mns_queue_batch(events), None)
    assert exc.value.message_ids == ["q2"]
    assert _targets(emulator) == ["first", "last"]  # the good ones were done before the raise
    assert [letter["message_id"] for letter in _letters(dead_dir)] == ["q3"]

    # MNS redelivers the batch: only "throttled" is new.
    summary = handler(mns_queue_batch(events), None)
    assert summary == {"processed": 4, "succeeded": 3, "failed_permanently": 1}
    assert _targets(emulator) == ["first", "last", "throttled"]


def test_mns_topic_json_message_is_keyed_by_its_message_id(emulator, runtime):
    event = mns_topic_json(_push("topic"), message_id="T-1")
    assert handler(event, None)["succeeded"] == 1
    assert handler(event, None)["succeeded"] == 1
    assert _targets(emulator) == ["topic"]


def test_mns_topic_stream_messages_without_id_are_keyed_by_content(emulator, runtime):
    handler(mns_topic_stream(_push("s1")), None)
    handler(mns_topic_stream(_push("s1")), None)  # MNS redelivery: same body
    handler(mns_topic_stream_with_attrs(json.dumps(_push("s2"))), None)
    assert _targets(emulator) == ["s1", "s2"]


def test_keys_per_message_kind():
    """Explicit key > chunk > message id (scoped to its queue) > body digest for one hour only,
    so the same reminder published again tomorrow is not swallowed."""
    chunk = parse_job(
        json.dumps({"kind": "chunk", "version": 1, "job": {"source": "b/k", "etag": "e", "chunk": 2}, "params": {}})
    )
    keyed = parse_job(json.dumps({"kind": "push", "version": 1, "key": "k-1", "push": {}}))
    bare = parse_job("{}")
    with_id = QueueMessage("id-1", "{}", "arn:aws:sqs:us-east-2:1:q")
    without_id = QueueMessage(None, "{}", "mns_topic")
    assert message_key(keyed, with_id) == ("k-1", "key", None)
    assert message_key(chunk, with_id) == ("chunk:b/k:e:2", "key", None)
    assert message_key(bare, with_id) == ("id-1", "arn:aws:sqs:us-east-2:1:q", None)
    key, scope, lifetime = message_key(bare, without_id)
    assert (key.startswith("sha256:"), scope, lifetime) == (True, "content", CONTENT_KEY_SECONDS)
    assert CONTENT_KEY_SECONDS == 3600


def test_mns_topic_stream_text_is_a_permanent_failure_not_a_retry(emulator, runtime, sample, dead_dir):
    summary = handler(sample("fc_mns_topic_stream_raw.txt"), None)  # "hello topic": not a spec
    assert summary == {"processed": 1, "succeeded": 0, "failed_permanently": 1}
    [letter] = _letters(dead_dir)
    assert letter["message_id"] is None
    assert letter["key"].startswith("sha256:")


def test_a_dead_letter_that_cannot_be_written_keeps_the_message(emulator, runtime, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(DEAD_LETTER_ENV, str(blocker / "dead"))
    reply = handler(sqs_event([SqsRecord("not json", message_id="keep-me")]), None)
    assert _failed(reply) == ["keep-me"]  # deleting it would lose it


def test_an_unknown_event_shape_is_reported_and_dead_lettered_not_raised(runtime, dead_dir, caplog):
    # Issue 13 item 5: a malformed platform event is logged as such, without a traceback.
    assert handler({"unexpected": True}, None) == {"processed": 1, "succeeded": 0, "failed_permanently": 1}
    [letter] = _letters(dead_dir)
    assert letter["failure"]["problems"][0]["field"] == "event"
    assert json.loads(letter["body"]) == {"unexpected": True}
    assert "queue_push.malformed_event" in [getattr(r, "fields", {}).get("event") for r in caplog.records]


def test_an_explicit_key_reused_for_another_push_is_refused_not_sent(emulator, runtime, dead_dir):
    first = {"kind": "push", "version": 1, "key": "k-7", "push": _push("one")}
    other = {"kind": "push", "version": 1, "key": "k-7", "push": _push("two")}
    reply = handler(sqs_event([SqsRecord(first, message_id="a"), SqsRecord(other, message_id="b")]), None)
    assert _failed(reply) == []  # a retry would be refused the same way
    assert _targets(emulator) == ["one"]
    [letter] = _letters(dead_dir)
    assert (letter["message_id"], letter["failure"]["reason"]) == ("b", "payload_mismatch")


# --- issue 13 item 3 on the queue: a repeat the guard lets through is really pushed ---------------


def test_the_same_stream_message_after_its_content_window_is_pushed_again_with_a_new_token(emulator, runtime):
    """An MNS STREAM message is keyed by its body for CONTENT_KEY_SECONDS; the same reminder sent after
    that is a new push. The emulator (like CloudPush) drops a repeated IdempotentToken for 15 minutes
    of real time, so a token derived from the key would answer with the old MessageId and push nothing."""
    body = _push("user-1", Title="Daily reminder")
    assert handler(mns_topic_stream(body), None)["succeeded"] == 1
    assert handler(mns_topic_stream(body), None)["succeeded"] == 1  # MNS redelivery: replayed
    assert len(emulator.pushes()) == 1
    runtime.clock.advance(CONTENT_KEY_SECONDS + 1)
    assert handler(mns_topic_stream(body), None)["succeeded"] == 1
    pushes = emulator.pushes()
    assert len(pushes) == 2 and pushes[0]["idempotent_token"] != pushes[1]["idempotent_token"]
    assert pushes[0]["message_id"] != pushes[1]["message_id"]


def test_an_explicit_key_reused_after_its_lifetime_pushes_the_new_title(emulator, runtime):
    def message(title: str) -> Any:
        return sqs_event([SqsRecord({"kind": "push", "version": 1, "key": "k-42", "push": _push("u", Title=title)})])

    assert _failed(handler(message("First"), None)) == []
    runtime.clock.advance(86400 + 1)  # the guard's default lifetime is one day
    assert _failed(handler(message("Second"), None)) == []
    pushes = emulator.pushes()
    assert [p["params"]["Title"] for p in pushes] == ["First", "Second"]
    assert pushes[0]["idempotent_token"] != pushes[1]["idempotent_token"]
