"""Poison messages (issue 13 items 5, 6, 12, 14): one bad message never sinks its batch, anything
that fails while *interpreting* a message is dead-lettered with its reason, and arbitrary JSON or
bytes through every queue shape never raise and never push twice per key.

Everything is real: the handler as deployed, the emulator over HTTP, an idempotency store, and the
file dead-letter destination whose letters each test reads back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from functions.queue_push.index import handler  # the deployed entry point
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushfn.idempotency.stores.memory import MemoryStore
from pushfn.jobs.dead_letter import DEAD_LETTER_ENV
from pushfn.jobs.errors import RetryLaterError
from pushfn.runtime import Runtime, set_runtime
from pushfn.triggers.events.queue import (
    SqsRecord,
    mns_queue_batch,
    mns_queue_cloudevent,
    mns_topic_json,
    mns_topic_stream,
    sqs_event,
)

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000


def _push(title: str = "T", **extra: Any) -> dict[str, Any]:
    return {
        "Target": "ACCOUNT",
        "TargetValue": "user-1",
        "DeviceType": "ALL",
        "PushType": "NOTICE",
        "Title": title,
        "Body": "B",
        **extra,
    }


def _titles(emulator: Any) -> list[str]:
    return [p["params"].get("Title") for p in emulator.pushes()]


def _letters(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]


def _failed(reply: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in reply["batchItemFailures"]]


@pytest.fixture
def dead_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "dead"
    monkeypatch.setenv(DEAD_LETTER_ENV, str(directory))
    return directory


def _assert_reasoned(letter: dict[str, Any], field: str, rule: str) -> None:
    """A letter names why: the reason code, the field and rule, and "<field>: <rule>: <detail>" text."""
    failure = letter["failure"]
    assert failure["status"] == "permanent"
    assert failure["reason"] == "invalid_spec"
    problems = {(p["field"], p["rule"]) for p in failure["problems"]}
    assert (field, rule) in problems, problems
    assert f"{field}: {rule}: " in failure["message"]


# --- item 5: one poison message, the rest of the batch still goes out ----------------------------

#: (what the message is, its messageBody exactly as EventBridge delivers it, field, rule)
POISON_BODIES = [
    ("deep array, IsBase64Decode true", DEEP, "body", "depth"),
    ("deep object, IsBase64Decode true", DEEP_OBJECT, "body", "depth"),
    ("deep array, base64", base64.b64encode(DEEP.encode()).decode(), "body", "depth"),
    ("non-base64 garbage", "%%% not base64 @@@ \x00", "body", "json"),
    ("base64 of bytes that are not UTF-8", base64.b64encode(b"\xff\xfe\xfa").decode(), "body", "json"),
    ("lone surrogate", '{"Title": "\\ud800"}', "body.Title", "text"),
    ("5,000-digit number", '{"Title": ' + "9" * 5000 + "}", "body.Title", "number"),
    ("duplicate keys", '{"Title": "a", "Title": "b"}', "body.Title", "duplicate_key"),
    ("NaN", '{"iOSBadge": NaN}', "body.iOSBadge", "json"),
]


@pytest.mark.parametrize(("what", "message_body", "field", "rule"), POISON_BODIES, ids=[p[0] for p in POISON_BODIES])
def test_a_poison_message_in_an_mns_batch_does_not_stop_the_good_ones(
    emulator, runtime, dead_dir, what, message_body, field, rule
):
    batch = [
        mns_queue_cloudevent(_push("before"), message_id="m-before"),
        mns_queue_cloudevent("", message_id="m-poison"),
        mns_queue_cloudevent(_push("after"), message_id="m-after", base64_body=False),
    ]
    batch[1]["data"]["messageBody"] = message_body
    event = json.dumps(batch).encode("utf-8")  # bytes, as FC passes a batch

    summary = handler(event, None)

    assert summary == {"processed": 3, "succeeded": 2, "failed_permanently": 1}
    assert sorted(_titles(emulator)) == ["after", "before"]
    [letter] = _letters(dead_dir)
    assert letter["message_id"] == "m-poison"
    _assert_reasoned(letter, field, rule)
    # Redelivery of the whole batch: nothing pushed twice, the poison message refused the same way.
    assert handler(event, None)["failed_permanently"] == 1
    assert sorted(_titles(emulator)) == ["after", "before"]


@pytest.mark.parametrize(("what", "message_body", "field", "rule"), POISON_BODIES, ids=[p[0] for p in POISON_BODIES])
def test_a_poison_message_in_an_sqs_batch_is_dead_lettered_alone(
    emulator, runtime, dead_dir, what, message_body, field, rule
):
    records = [SqsRecord(_push("good-1"), "g1"), SqsRecord(message_body, "poison"), SqsRecord(_push("good-2"), "g2")]
    assert _failed(handler(sqs_event(records), None)) == []
    assert sorted(_titles(emulator)) == ["good-1", "good-2"]
    [letter] = _letters(dead_dir)
    assert letter["message_id"] == "poison"
    # SQS bodies are never base64-decoded: base64 text is just not JSON there.
    _assert_reasoned(letter, field, "json" if "base64" in what else rule)


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe not utf-8", b"\xc3\x28", b"\xed\xa0\x80", DEEP.encode(), b"\xef\xbb\xbf" + DEEP.encode()],
    ids=["latin-1", "bad continuation", "encoded surrogate", "deep", "bom-deep"],
)
def test_an_mns_stream_message_that_cannot_be_decoded_is_dead_lettered_with_its_bytes(
    emulator, runtime, dead_dir, body
):
    assert handler(body, None) == {"processed": 1, "succeeded": 0, "failed_permanently": 1}
    [letter] = _letters(dead_dir)
    rule = "depth" if body.endswith(b"]") else "encoding"
    _assert_reasoned(letter, "body", rule)
    kept = base64.b64decode(letter["body"]) if letter["body_encoding"] == "base64" else letter["body"].encode()
    assert kept == body  # the letter keeps what was received, so it can be fixed and re-sent


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (None, "event"),
        (42, "event"),
        ([1, 2], "event"),
        ({"hello": "world"}, "event"),
        ({"Records": "not a list"}, "event"),
        ({"Records": None}, "event"),
    ],
)
def test_a_malformed_platform_event_is_reported_not_raised(runtime, dead_dir, event, field):
    reply = handler(event, None)
    if isinstance(event, dict) and "Records" in event:
        assert reply == {"batchItemFailures": []}  # SQS-shaped: nothing to retry, nothing lost
    else:
        assert reply == {"processed": 1, "succeeded": 0, "failed_permanently": 1}
    [letter] = _letters(dead_dir)
    assert letter["failure"]["problems"][0]["field"] == field
    assert letter["failure"]["problems"][0]["rule"] == "shape"


def test_malformed_sqs_records_are_dead_lettered_one_by_one(emulator, runtime, dead_dir):
    event = sqs_event([SqsRecord(_push("good"), "good")])
    deep = json.loads("[" * 40 + "]" * 40)  # a Lambda event is decoded by the runtime, bounds or not
    event["Records"][1:1] = [1, "text", None, {"messageId": "decoded-body", "body": {"deep": deep}}]
    assert _failed(handler(event, None)) == []
    assert _titles(emulator) == ["good"]
    problems = sorted((p["field"], p["rule"]) for letter in _letters(dead_dir) for p in letter["failure"]["problems"])
    assert problems[:3] == [("Records.1", "shape"), ("Records.2", "shape"), ("Records.3", "shape")]
    assert problems[3][0].startswith("body.deep.") and problems[3][1] == "depth"  # names the path


def _nested(depth: int) -> list[Any]:
    """A list nested ``depth`` deep, built without recursion (no JSON text could be parsed this deep)."""
    top: list[Any] = []
    inner = top
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return top


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_an_sqs_record_nested_past_any_recursion_limit_is_dead_lettered_alone(emulator, runtime, dead_dir, depth):
    """A decoded event hands over Python values: a record (or one of its attributes) nested deeper than
    json or repr can walk is described in bounded text and dead-lettered; it never raises out of the
    handler, and the good record of the batch goes out."""
    event = sqs_event([SqsRecord(_push("good"), "good"), SqsRecord(_push("attr"), "deep-attribute")])
    event["Records"][1]["messageAttributes"] = {"a": {"stringValue": _nested(depth), "dataType": "String"}}
    event["Records"].append(_nested(depth))
    assert _failed(handler(event, None)) == []
    assert _titles(emulator) == ["good"]
    letters = _letters(dead_dir)
    assert sorted(str(letter["message_id"]) for letter in letters) == ["None", "deep-attribute"]
    for letter in letters:
        assert letter["failure"]["problems"][0]["rule"] == "shape" and letter["body"]


def test_a_batch_item_that_is_not_a_cloudevent_does_not_hide_the_others(emulator, runtime, dead_dir):
    good = mns_queue_cloudevent(_push("good"), message_id="good")
    broken = mns_queue_cloudevent(_push("broken"), message_id="broken")
    del broken["data"]["messageBody"]
    event = json.dumps([broken, good, 7]).encode()
    assert handler(event, None) == {"processed": 3, "succeeded": 1, "failed_permanently": 2}
    assert _titles(emulator) == ["good"]
    letters = {letter["failure"]["problems"][0]["field"]: letter["message_id"] for letter in _letters(dead_dir)}
    assert letters == {"0": "broken", "2": None}


@pytest.mark.parametrize(
    "bad",
    [b"\xff\xfe garbage \xc3", b"\xed\xa0\x80", b"caf\xe9 cr\xe8me", b"\xc3\x28" * 50],
    ids=["garbage", "encoded-surrogate", "latin-1", "repeated"],
)
def test_bytes_that_are_not_utf8_in_one_message_of_an_mns_batch_do_not_sink_the_others(
    emulator, runtime, dead_dir, bad
):
    """IsBase64Decode true: EventBridge puts the message's own bytes in the batch. One message that is
    not UTF-8 makes the event bytes invalid, yet only that message is unreadable; the others go out."""
    batch = [
        mns_queue_cloudevent(_push("before"), message_id="m-before", base64_body=False),
        mns_queue_cloudevent("PLACEHOLDER", message_id="m-poison", base64_body=False),
        mns_queue_cloudevent(_push("after"), message_id="m-after", base64_body=False),
    ]
    event = json.dumps(batch).encode().replace(b"PLACEHOLDER", bad)

    assert handler(event, None) == {"processed": 3, "succeeded": 2, "failed_permanently": 1}
    assert sorted(_titles(emulator)) == ["after", "before"]
    [letter] = _letters(dead_dir)
    assert letter["message_id"] == "m-poison"
    _assert_reasoned(letter, "body", "encoding")
    assert letter["body_encoding"] == "base64" and base64.b64decode(letter["body"]) == bad  # its bytes, kept
    assert handler(event, None)["failed_permanently"] == 1  # redelivered: refused alike, nothing pushed twice
    assert sorted(_titles(emulator)) == ["after", "before"]


def test_a_topic_json_event_whose_message_is_not_utf8_is_named_by_its_message_id(emulator, runtime, dead_dir):
    event = mns_topic_json("PLACEHOLDER", message_id="topic-bad").replace(b"PLACEHOLDER", b"\xff\xfe")
    assert handler(event, None)["failed_permanently"] == 1
    [letter] = _letters(dead_dir)
    assert letter["message_id"] == "topic-bad"
    _assert_reasoned(letter, "body", "encoding")


# --- item 6: interpretation failures are permanent, with their reason ---------------------------

ISSUE_6_BODIES = [
    # The issue's inputs
    ({"kind": [], "version": 1}, "kind", "unknown_kind"),
    (_push(push_time="+999999999w"), "push_time", "relative_time"),
    ('{"kind": "push", "version": 1, "push": {"iOSBadge": ' + "1" * 5000 + "}}", "body", "number"),
    # Same kinds, other inputs
    ({"kind": {}, "version": 1}, "kind", "unknown_kind"),
    ({"kind": None, "version": 1}, "kind", "unknown_kind"),
    ({"kind": 7, "version": 1}, "kind", "unknown_kind"),
    ({"kind": "push", "version": True, "push": _push()}, "version", "unsupported_version"),
    ({"kind": "push", "version": 1.0, "push": _push()}, "version", "unsupported_version"),
    ({"kind": "push", "version": [1], "push": _push()}, "version", "unsupported_version"),
    ({"kind": "push", "version": 1, "push": "text"}, "push", "dict_type"),
    (_push(push_time="+99999999999999999999999999d"), "push_time", "relative_time"),
    (_push(push_time="+" + "9" * 5000 + "s"), "push_time", "relative_time"),
    (_push(expire_after="9999999w"), "expire_after", "relative_time"),
    (_push(expire_time="+1000000h"), "expire_time", "relative_time"),
    (_push(push_time=["+5m"]), None, None),
    (_push(expire_after=5), "expire_after", "type"),
    ('{"Title": 1e400}', "body", "number"),
    ('{"Title": -' + "9" * 5000 + "}", "body", "number"),
    # Dates the API cannot take are the model's "range" rule, named on their own field.
    (_push(PushTime="9999-12-31T23:59:58Z"), "PushTime", "range"),
    (_push(PushTime="9999-12-31T23:59:59-05:00"), "PushTime", "range"),
    (_push(ExpireTime="9999-12-31T23:59:59Z"), "ExpireTime", "range"),
    (DEEP, "body", "depth"),
    ("[" * 33 + "]" * 33, "body", "depth"),
    ("null", "body", "type"),
    ('"a string"', "body", "type"),
    ("12", "body", "type"),
    ("[]", "spec", "empty"),
    ([1, "x", None], "[0].spec", "type"),
    (_push(Title=[]), "Title", None),
    ({"kind": "chunk", "version": 1, "job": {"source": "s", "etag": "e", "chunk": -1}, "params": {}}, None, None),
    ({"kind": "mass_push", "version": 1, "mass_push": {"PushTask": "x"}}, None, None),
    ({"kind": "mass_push", "version": 1, "mass_push": {"PushTask": [{"push_time": "+999999999w"}]}}, None, None),
    ({"template": ["x"], "params": {}}, "template", "unknown_template"),
    ({"template": "nope", "params": 5}, "template", "unknown_template"),
]


@pytest.mark.parametrize(("body", "field", "rule"), ISSUE_6_BODIES, ids=[str(i) for i in range(len(ISSUE_6_BODIES))])
def test_a_message_that_cannot_be_interpreted_is_dead_lettered_not_retried(
    emulator, runtime, dead_dir, body, field, rule
):
    # SQS: not handed back (it would come back until maxReceiveCount with no reason recorded).
    assert _failed(handler(sqs_event([SqsRecord(body, "m-sqs")]), None)) == []
    # MNS: no raise (it would come back forever).
    text = body if isinstance(body, str) else json.dumps(body)
    assert handler(mns_queue_batch([mns_queue_cloudevent(text, message_id="m-mns")]), None)["failed_permanently"] == 1
    assert handler(mns_topic_stream(text), None)["failed_permanently"] == 1
    assert emulator.pushes() == []
    letters = _letters(dead_dir)
    assert len(letters) == 3
    for letter in letters:
        failure = letter["failure"]
        assert (failure["status"], failure["reason"]) == ("permanent", "invalid_spec")
        assert failure["message"] and failure["problems"]
        for problem in failure["problems"]:
            assert failure["message"].startswith(
                f"{failure['problems'][0]['field']}: {failure['problems'][0]['rule']}: "
            )
            assert problem["field"] and problem["rule"] and problem["message"]
        fields = {p["field"] for p in failure["problems"]}
        if isinstance(field, tuple):
            assert fields & set(field), failure
        elif field is not None:
            # A depth problem names the path down to the value too deep: body.0.0.0…
            named = {f for f in fields if f == field or f.startswith(field + ".")}
            assert named, failure
            if rule is not None:
                assert rule in {p["rule"] for p in failure["problems"] if p["field"] in named}, failure


@pytest.mark.parametrize(
    "error",
    [
        OverflowError("date value out of range"),
        RecursionError("deep"),
        TypeError("odd"),
        KeyError("k"),
        ValueError("v"),
    ],
)
def test_any_exception_while_interpreting_is_permanent_whatever_its_type(
    emulator, runtime, dead_dir, monkeypatch, error
):
    """The phase decides, not the type: whatever the model layer raises while validating is the message's fault."""

    def refuse(*_: Any, **__: Any) -> Any:
        raise error

    monkeypatch.setattr("pushfn.specs.push_spec.build_request", refuse)
    assert _failed(handler(sqs_event([SqsRecord(_push(), "m")]), None)) == []
    assert handler(mns_topic_stream(_push()), None)["failed_permanently"] == 1
    for letter in _letters(dead_dir):
        _assert_reasoned(letter, "spec", "unreadable")
        assert type(error).__name__ in letter["failure"]["message"]


def test_a_service_failure_is_still_transient(emulator, runtime, dead_dir):
    emulator.add_fault("internal_error", count=1)
    assert _failed(handler(sqs_event([SqsRecord(_push(), "m")]), None)) == ["m"]
    assert _letters(dead_dir) == []


# --- item 14: an SQS record without a usable messageId -------------------------------------------


@pytest.mark.parametrize("message_id", ["", None, "absent", 0, ["m"]])
def test_an_sqs_record_without_id_that_fails_transiently_fails_the_whole_batch(emulator, runtime, message_id):
    event = sqs_event([SqsRecord(_push("no-id"), "placeholder"), SqsRecord(_push("with-id"), "has-id")])
    if message_id == "absent":
        del event["Records"][0]["messageId"]
    else:
        event["Records"][0]["messageId"] = message_id
    emulator.add_fault("throttle", count=1)  # hits the first push: the record without an id

    reply = handler(event, None)

    # An empty itemIdentifier makes Lambda retry the whole batch; leaving it out would delete it.
    assert _failed(reply) == [""]
    assert _titles(emulator) == ["with-id"]
    # Lambda redelivers the whole batch: the finished message replays, the other goes out once.
    assert _failed(handler(event, None)) == []
    assert sorted(_titles(emulator)) == ["no-id", "with-id"]


def test_an_sqs_record_without_id_that_fails_permanently_is_dead_lettered(emulator, runtime, dead_dir):
    event = sqs_event([SqsRecord("not json", "x")])
    event["Records"][0]["messageId"] = ""
    assert _failed(handler(event, None)) == []
    [letter] = _letters(dead_dir)
    assert letter["message_id"] is None
    assert letter["key"].startswith("sha256:")


# --- item 12: a BOM is accepted on every queue path ----------------------------------------------

BOM = "\ufeff"


@pytest.mark.parametrize(
    "build",
    [
        lambda text: sqs_event([SqsRecord(text, "bom")]),
        lambda text: text.encode("utf-8"),  # MNS topic STREAM, raw
        lambda text: json.dumps({"body": text, "attrs": {}}).encode("utf-8"),  # STREAM with attributes
        lambda text: mns_topic_json(text, message_id="bom"),
        lambda text: mns_queue_batch([mns_queue_cloudevent(text, message_id="bom")]),  # base64
        lambda text: mns_queue_batch([mns_queue_cloudevent(text, message_id="bom", base64_body=False)]),
    ],
    ids=["sqs", "stream", "stream-attrs", "topic-json", "mns-queue-base64", "mns-queue-raw"],
)
def test_a_body_with_a_utf8_bom_is_accepted(emulator, runtime, build):
    reply = handler(build(BOM + json.dumps(_push("bom"))), None)
    assert reply in ({"batchItemFailures": []}, {"processed": 1, "succeeded": 1, "failed_permanently": 0})
    assert _titles(emulator) == ["bom"]


# --- property tests: arbitrary JSON and bytes through every queue shape --------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=15,
)
#: Envelope- and spec-shaped junk: the keys the consumer looks at, with arbitrary values.
spec_like = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["push", "mass_push", "chunk", "other"]) | json_values,
        "version": st.sampled_from([1, 2, True, 1.0]) | json_values,
        "push": json_values,
        "push_time": st.from_regex(r"\+[0-9]{1,30}[smhdw]", fullmatch=True) | json_values,
        "expire_after": st.from_regex(r"[0-9]{1,30}[smhdw]", fullmatch=True) | json_values,
        "PushTime": st.sampled_from(["9999-12-31T23:59:58Z", "0001-01-01T00:00:00Z", "2024-13-01T00:00:00Z"]),
        "Title": json_values,
        "template": json_values,
    },
)


@st.composite
def bodies(draw: Any) -> tuple[bytes, str | None]:
    """``(body bytes, key)``: key is set for a body that is a valid push (its idempotency key, or None
    to key by message id), unset (``"-"``) for junk."""
    kind = draw(st.sampled_from(["json", "spec", "bytes", "deep", "valid", "keyed"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), "-"
    if kind == "spec":
        return json.dumps(draw(spec_like)).encode(), "-"
    if kind == "bytes":
        return draw(st.binary(max_size=64)), "-"
    if kind == "deep":
        depth = draw(st.integers(min_value=33, max_value=3000))
        return ("[" * depth + "]" * depth).encode(), "-"
    title = uuid.uuid4().hex
    if kind == "valid":
        return json.dumps(_push(title)).encode(), None
    key = draw(st.sampled_from(["k1", "k2"]))
    return json.dumps({"kind": "push", "version": 1, "key": key, "push": _push(title)}).encode(), key


def _as_text(body: bytes) -> str:
    return body.decode("utf-8", "surrogateescape")  # lone surrogates for the bytes that are not UTF-8


def _sqs(items: list[bytes]) -> list[Any]:
    event = sqs_event([SqsRecord("", uuid.uuid4().hex) for _ in items])
    for record, body in zip(event["Records"], items, strict=True):
        record["body"] = _as_text(body)  # as Lambda's runtime would decode a JSON string with \udcxx escapes
        record["md5OfBody"] = hashlib.md5(body).hexdigest()
    return [event]


def _stream(items: list[bytes]) -> list[Any]:
    return list(items)


def _stream_attrs(items: list[bytes]) -> list[Any]:
    return [json.dumps({"body": _as_text(b), "attrs": {"Extend": "{}"}}).encode() for b in items]


def _topic_json(items: list[bytes], attributes: bool = False) -> list[Any]:
    events = []
    for b in items:
        event = {
            "TopicOwner": "1",
            "Message": _as_text(b),
            "Subscriber": "1",
            "PublishTime": 1550216480040,
            "SubscriptionName": "s",
            "MessageMD5": hashlib.md5(b).hexdigest().upper(),
            "TopicName": "t",
            "MessageId": uuid.uuid4().hex,
        }
        if attributes:
            event["Extend"] = '{"k": "v"}'
        events.append(json.dumps(event).encode())
    return events


def _mns_queue(items: list[bytes], raw: bool = False) -> list[Any]:
    events = []
    for n, b in enumerate(items):
        event = mns_queue_cloudevent("", message_id=uuid.uuid4().hex)
        event["data"]["messageBody"] = base64.b64encode(b).decode() if n % 2 == 0 and not raw else _as_text(b)
        events.append(event)
    if raw:  # IsBase64Decode true, the bodies' own bytes in the batch: not UTF-8 when a body is not
        return [json.dumps(events, ensure_ascii=False).encode("utf-8", "surrogateescape")]
    return [json.dumps(events).encode()]


SHAPES: dict[str, Callable[[list[bytes]], list[Any]]] = {
    "sqs": _sqs,
    "mns-topic-stream": _stream,
    "mns-topic-stream-attrs": _stream_attrs,
    "mns-topic-json": _topic_json,
    "mns-topic-json-attrs": lambda items: _topic_json(items, attributes=True),
    "mns-queue-eventbridge": _mns_queue,
    "mns-queue-eventbridge-raw-bytes": lambda items: _mns_queue(items, raw=True),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(bodies(), min_size=1, max_size=5))
def test_arbitrary_bodies_never_raise_never_push_twice_and_failures_are_dead_lettered(
    emulator, runtime, tmp_path_factory, monkeypatch, shape, items
):
    emulator.reset()
    set_runtime(Runtime(client=runtime.client, store=MemoryStore()))
    dead = tmp_path_factory.mktemp("dead")
    monkeypatch.setenv(DEAD_LETTER_ENV, str(dead))
    events = SHAPES[shape]([body for body, _ in items])

    for event in events:
        try:
            reply = handler(event, None)
        except RetryLaterError:  # pragma: no cover - the emulator and store are healthy: nothing to retry
            pytest.fail("a healthy service gave a transient failure")
        if shape == "sqs":
            assert reply == {"batchItemFailures": []}

    valid = [key for _, key in items if key != "-"]
    distinct = len({key for key in valid if key is not None}) + sum(key is None for key in valid)
    titles = _titles(emulator)
    assert len(titles) == len(set(titles)) == distinct  # one push per key, every valid key pushed once
    letters = _letters(dead)
    assert len(letters) == len(items) - distinct  # everything else is dead-lettered ...
    for letter in letters:  # ... with its reason
        assert letter["failure"]["status"] == "permanent"
        assert letter["failure"]["reason"] in ("invalid_spec", "payload_mismatch")
        assert letter["failure"]["message"]

    for event in events:  # a redelivery pushes nothing
        handler(event, None)
    assert _titles(emulator) == titles


# --- item 17: dead letters never overwrite each other ---------------------------------------------


def test_sqs_ids_with_one_safe_form_get_one_letter_each(emulator, runtime, dead_dir):
    """The issue's input, through the deployed handler: SQS ids ``a/b``, ``a:b`` and ``a_b`` (one
    filename-safe form) each dead-lettered; then the same id dead-lettered again on a redelivery."""
    ids = ["a/b", "a:b", "a_b", "a\\b", "A/b"]
    records = [SqsRecord({"kind": [], "version": 1, "n": n}, message_id) for n, message_id in enumerate(ids)]
    assert _failed(handler(sqs_event(records), None)) == []
    assert _failed(handler(sqs_event(records[:1]), None)) == []  # the first one again
    letters = _letters(dead_dir)
    assert sorted(letter["message_id"] for letter in letters) == sorted([*ids, "a/b"])
    assert {json.loads(letter["body"])["n"] for letter in letters} == set(range(len(ids)))
    assert len(list(dead_dir.iterdir())) == len(ids) + 1  # and no temporary file left behind


def test_two_mns_stream_messages_with_the_same_key_get_one_letter_each(emulator, runtime, dead_dir):
    """The issue's input: MNS STREAM gives no message id, so two deliveries of one poison body share
    their content key; each is kept. Other shapes whose id repeats (MNS JSON) too."""
    poison = {"kind": "push", "version": 1, "push": _push(push_time="+999999999w")}
    for _ in range(2):
        assert handler(mns_topic_stream(poison), None)["failed_permanently"] == 1
    for _ in range(2):
        assert handler(mns_topic_json(poison, message_id="same-id"), None)["failed_permanently"] == 1
    letters = _letters(dead_dir)
    assert len(letters) == len(list(dead_dir.iterdir())) == 4
    stream = [letter for letter in letters if letter["message_id"] is None]
    assert len(stream) == 2 and stream[0]["key"] == stream[1]["key"]
    assert [letter["message_id"] for letter in letters].count("same-id") == 2
    assert emulator.pushes() == []


@pytest.mark.parametrize(
    ("target", "value"),
    [("ACCOUNT", "   "), ("ALIAS", "alice,\u3000"), ("DEVICE", " "), ("ACCOUNT", "user-1, \t")],
    ids=["spaces", "ideographic space item", "device space", "blank second item"],
)
def test_a_blank_target_item_is_dead_lettered_by_rule_not_sent(emulator, runtime, dead_dir, target, value):
    """Regression (issue 13 item 4's kind, in a push spec): a TargetValue item of only spaces passed the
    empty-item check and reached CloudPush, which refused it (MissingTargetValue): a service-rejected push
    instead of a rule naming the field. It is refused as ``TargetValue`` / ``required`` before sending
    (the rule the HTTP function names for a blank name, as :mod:`pushfn.identifiers` does)."""
    event = sqs_event(
        [SqsRecord(body=json.dumps({**_push(), "Target": target, "TargetValue": value}), message_id="m-1")]
    )

    assert handler(event, None) == {"batchItemFailures": []}

    assert emulator.pushes() == [] and not [c for c in emulator.calls() if c.get("action") == "Push"]
    [letter] = _letters(dead_dir)
    _assert_reasoned(letter, "TargetValue", "required")
