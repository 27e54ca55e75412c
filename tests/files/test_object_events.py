"""The object-storage trigger adapter: published OSS/S3 samples, factories, and arbitrary input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushfn.triggers.events.objects import StoredObject, oss_event, s3_event
from pushfn.triggers.objects import (
    OSS,
    S3,
    ObjectEventError,
    is_control_object,
    parse_object_event,
)


def test_fc_oss_put_doc_sample(sample: Callable[[str], bytes]) -> None:
    events = parse_object_event(sample("fc_oss_put.json"))
    assert events.platform == OSS and events.skipped == ()
    (obj,) = events.objects
    assert (obj.bucket, obj.key, obj.etag, obj.size, obj.region) == (
        "testbucket",
        "source/a.png",
        "688A7BF4F233DC9C88A80BF985AB****",
        122539,
        "cn-hangzhou",
    )
    assert obj.platform == OSS and obj.event_name == "ObjectCreated:PutObject"
    assert obj.version == obj.etag and obj.version_id is None


def test_fc_oss_postobject_and_devs_template(sample: Callable[[str], bytes]) -> None:
    (post,) = parse_object_event(sample("fc_oss_postobject_objectmeta.json")).objects
    assert (post.key, post.event_name, post.size) == ("source/greyPOP.jpg", "ObjectCreated:PostObject", 7107)
    (put,) = parse_object_event(sample("fc_oss_put_devs_template.json")).objects
    assert (put.bucket, put.key, put.region) == ("testbucket", "image/a.jpg", "cn-shanghai")


def test_s3_powertools_sample(sample_json: Callable[[str], Any]) -> None:
    events = parse_object_event(sample_json("aws_s3_put_powertools.json"))
    (obj,) = events.objects
    assert events.platform == S3
    assert (obj.bucket, obj.key, obj.region, obj.size) == (
        "lambda-artifacts-deafc19498e3f2df",
        "b21b84d653bb07b05b1e6b33684dc11b",
        "us-east-2",
        1305107,
    )
    assert obj.platform == S3 and obj.version == "b21b84d653bb07b05b1e6b33684dc11b"


def test_s3_samcli_raw_key_is_decoded(sample: Callable[[str], bytes]) -> None:
    (obj,) = parse_object_event(sample("aws_s3_put_samcli_raw.json")).objects
    assert obj.key == "incoming/my report 2024+final.csv"


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("incoming/my report 2024+final.csv", "incoming/my+report+2024%2Bfinal.csv"),
        ("lists/niño 東京.txt", "lists/ni%C3%B1o+%E6%9D%B1%E4%BA%AC.txt"),
        ("a+b/c d.jsonl.gz", "a%2Bb/c+d.jsonl.gz"),
    ],
)
def test_s3_keys_form_encoded(key: str, encoded: str) -> None:
    event = s3_event([key])
    assert event["Records"][0]["s3"]["object"]["key"] == encoded
    assert parse_object_event(event).objects[0].key == key


def test_several_records_in_order_both_platforms() -> None:
    keys = ["a/1.txt", "a/2 two.csv", "a/3+three.jsonl"]
    assert [o.key for o in parse_object_event(oss_event(keys)).objects] == keys
    assert [o.key for o in parse_object_event(s3_event(keys)).objects] == keys


def test_oss_keys_used_as_written() -> None:
    (obj,) = parse_object_event(oss_event(["a+b%20c.txt"])).objects
    assert obj.key == "a+b%20c.txt"


def test_s3_version_id_wins_over_etag() -> None:
    (obj,) = parse_object_event(s3_event([StoredObject("a.txt", version_id="v1")])).objects
    assert obj.version == "v1" and obj.etag == StoredObject("a.txt").etag


def test_other_events_and_control_objects_skipped() -> None:
    objects = [
        StoredObject("a/list.txt"),
        StoredObject("a/list.txt", event_name="ObjectRemoved:DeleteObject"),
        StoredObject("a/list.txt.push.json"),
        StoredObject("a/list.txt.report.json"),
        StoredObject("a/LIST.TXT.REPORT.JSON"),
        StoredObject("a/list.txt.report.json.parts/000003.json"),  # a fanned-out chunk's part
    ]
    for event in (oss_event(objects), s3_event(objects)):
        parsed = parse_object_event(event)
        assert [o.key for o in parsed.objects] == ["a/list.txt"]
        assert [(s.index, s.reason) for s in parsed.skipped] == [
            (1, "other_event"),
            (2, "control_object"),
            (3, "control_object"),
            (4, "control_object"),
            (5, "control_object"),
        ]


@pytest.mark.parametrize("offset", range(0, 80, 7))
def test_a_device_id_in_a_skipped_records_name_is_masked_before_the_cut(offset: int) -> None:
    """Regression (item 18, mask before cut): the eventName and eventSource of a skipped record were cut
    at 80 and 40 characters first, so a device id across the cut kept up to 30 of its characters, no
    longer shaped like one, in the record's detail (logged and returned in the answer)."""
    device = "e2ba19de97604f55b165576736477b74"
    name = "ObjectRemoved:" + "x" * offset + "-" + device
    oss = parse_object_event(oss_event([StoredObject("a/list.txt", event_name=name)]))
    s3 = s3_event([StoredObject("a/list.txt")])
    s3["Records"][0]["eventSource"] = "aws:" + "y" * (offset // 2) + "-" + device
    for parsed in (oss, parse_object_event(s3)):
        [skipped] = parsed.skipped
        assert skipped.reason == "other_event" and device[:5] not in skipped.detail


def test_is_control_object() -> None:
    assert is_control_object("x.csv.push.json") and is_control_object("x.report.json")
    assert not is_control_object("x.json") and not is_control_object("push.json.txt")
    assert is_control_object("in/x.csv.report.json.parts/000000.json")
    assert not is_control_object("in/x.csv.parts/000000.json.txt")


def test_one_bad_record_does_not_sink_the_others() -> None:
    event = oss_event(["good.txt", "other.txt"], as_bytes=False)
    assert isinstance(event, dict)
    del event["events"][0]["oss"]["object"]["key"]
    event["events"].append("not a record")
    parsed = parse_object_event(event)
    assert [o.key for o in parsed.objects] == ["other.txt"]
    assert [(s.index, s.reason) for s in parsed.skipped] == [(0, "malformed"), (2, "malformed")]


def test_bad_s3_key_encoding_and_control_characters_skipped() -> None:
    event = s3_event(["x.txt", "y.txt"])
    event["Records"][0]["s3"]["object"]["key"] = "%FF.txt"
    event["Records"][1]["s3"]["object"]["key"] = "a%00b.txt"
    parsed = parse_object_event(event)
    assert parsed.objects == () and [s.reason for s in parsed.skipped] == ["malformed", "malformed"]


@pytest.mark.parametrize(
    "event",
    [b"not json", b"\xff\xfe", "[]", {"foo": 1}, {"events": "x"}, 42, None, b'{"Records": 1}'],
)
def test_malformed_events_raise_object_event_error(event: Any) -> None:
    with pytest.raises(ObjectEventError):
        parse_object_event(event)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
record_fields = st.fixed_dictionaries(
    {},
    optional={
        "eventName": st.sampled_from(["ObjectCreated:Put", "ObjectRemoved:Delete", "", "ObjectCreated:"]) | json_values,
        "eventSource": st.sampled_from(["aws:s3", "acs:oss"]) | json_values,
        "oss": st.fixed_dictionaries({}, optional={"bucket": json_values, "object": json_values}) | json_values,
        "s3": st.fixed_dictionaries({}, optional={"bucket": json_values, "object": json_values}) | json_values,
        "region": json_values,
        "awsRegion": json_values,
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        json_values,
        st.builds(lambda r: {"events": r}, st.lists(record_fields | json_values, max_size=4)),
        st.builds(lambda r: {"Records": r}, st.lists(record_fields | json_values, max_size=4)),
        st.binary(max_size=50),
    )
)
def test_arbitrary_events_never_raise_anything_else(event: Any) -> None:
    try:
        parsed = parse_object_event(event)
    except ObjectEventError:
        return
    for obj in parsed.objects:
        assert obj.key and obj.bucket and not is_control_object(obj.key)
    if isinstance(event, bytes):
        return
    assert len(parsed.objects) + len(parsed.skipped) == len(event.get("events") or event.get("Records") or [])


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60))
def test_any_s3_key_round_trips(key: str) -> None:
    parsed = parse_object_event(json.loads(json.dumps(s3_event([key]))))
    if is_control_object(key):
        assert parsed.objects == ()
    else:
        assert [o.key for o in parsed.objects] == [key]
