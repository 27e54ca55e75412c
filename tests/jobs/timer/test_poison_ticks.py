"""Poison ticks (issue 13 items 7 and 12): every unusable payload, through every timer shape, is
reported as an invalid spec (logged with its reason, masked) and not retried — never an
OverflowError or RecursionError — and arbitrary JSON or bytes never raise nor push twice per tick.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from functions.scheduled_push.index import handler  # the deployed entry point
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushfn.idempotency.stores.memory import MemoryStore
from pushfn.jobs.errors import RetryLaterError
from pushfn.json_input import JsonInputError, decode_json
from pushfn.push.errors import ConfigurationError
from pushfn.runtime import Runtime, set_runtime
from pushfn.specs.tables import load_schedules
from pushfn.triggers.events.timer import eventbridge_rule_event, fc_timer_event, scheduler_input
from pushfn.triggers.timer import SCHEDULES_ENV, parse_timer_event

DEVICE = "e2ba19de97604f55b165576736477b74"
BASE = {"Target": "ACCOUNT", "TargetValue": "u1", "DeviceType": "ALL", "PushType": "NOTICE", "Title": "T", "Body": "B"}
DEEP = "[" * 5000 + "]" * 5000


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Raw(str):
    """A payload string passed verbatim where the shape carries a string (FC ``payload``, Scheduler
    ``payload``); where it carries decoded JSON, it is just a JSON string."""


def _as_payload(spec: Any) -> str:
    return str(spec) if isinstance(spec, Raw) else json.dumps(spec)


def _fc(spec: Any, when: datetime | str, _: Any) -> Any:
    return fc_timer_event(_as_payload(spec), trigger_name="t", trigger_time=when)


def _rule_detail(spec: Any, when: datetime | str, _: Any) -> Any:
    event = eventbridge_rule_event(rule_name="r", time=when)
    event["detail"] = str(spec) if isinstance(spec, Raw) else spec  # an empty detail: look in the table
    return event


def _rule_table(spec: Any, when: datetime | str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(SCHEDULES_ENV, json.dumps({"r": str(spec) if isinstance(spec, Raw) else spec}))
    return eventbridge_rule_event(rule_name="r", time=when)


def _scheduler_spec(spec: Any, when: datetime | str, _: Any) -> Any:
    event = scheduler_input(schedule_name="s", scheduled_time=when)
    event["spec"] = str(spec) if isinstance(spec, Raw) else spec  # a string spec is decoded like FC's
    return event


def _scheduler_payload(spec: Any, when: datetime | str, _: Any) -> Any:
    event = scheduler_input(schedule_name="s", scheduled_time=when)
    event["payload"] = _as_payload(spec)
    return event


SHAPES: dict[str, Callable[[Any, Any, Any], Any]] = {
    "fc-timer": _fc,
    "eventbridge-rule-detail": _rule_detail,
    "eventbridge-rule-schedules-table": _rule_table,
    "scheduler-spec": _scheduler_spec,
    "scheduler-payload-string": _scheduler_payload,
}

#: (payload as written, field expected among the problems or a tuple of acceptable ones)
POISON_SPECS = [
    ({**BASE, "push_time": "+999999999w"}, "push_time"),  # the issue's OverflowError
    ({**BASE, "push_time": "+" + "9" * 5000 + "s"}, "push_time"),
    ({**BASE, "expire_after": "99999999999999999999w"}, "expire_after"),
    ({**BASE, "expire_time": "+9999999d"}, "expire_time"),
    ([{**BASE, "push_time": "+999999999w"}] * 3, "[2].push_time"),
    ({**BASE, "PushTime": "9999-12-31T23:59:58Z"}, "PushTime"),
    ({**BASE, "PushTime": "9999-12-31T23:59:59-05:00"}, "PushTime"),
    ({**BASE, "iOSBadge": 10**30}, ("iOSBadge", "payload", "spec", "event.spec.iOSBadge", "event.detail.iOSBadge")),
    ({"template": ["x"], "params": {}}, "template"),
    ({**BASE, "Title": {"a": [1]}}, "Title"),
    ([], "spec"),
    (None, "spec"),
    ({}, ("spec", "Target")),  # an empty rule detail means "look it up": missing there
]
STRING_ONLY = [  # documents that are not JSON values at all: only string payloads can carry them
    (DEEP, ("payload", "spec")),
    ('{"Title": ' + "9" * 5000 + "}", ("payload.Title", "spec.Title")),
    ('{"Title": 1e400}', ("payload.Title", "spec.Title")),
    ("\ufeff{", ("payload", "spec")),
    ('{"Title": "\\ud800"}', ("payload.Title", "spec.Title")),
]


def _fields(summary: dict[str, Any]) -> set[str]:
    return {p["field"] for p in summary["problems"]}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize(("spec", "field"), POISON_SPECS, ids=[str(i) for i in range(len(POISON_SPECS))])
def test_a_poison_spec_is_reported_invalid_and_not_retried(emulator, runtime, monkeypatch, caplog, shape, spec, field):
    caplog.set_level(logging.ERROR, logger="pushfn.jobs")
    event = SHAPES[shape](spec, _now(), monkeypatch)
    if shape == "eventbridge-rule-schedules-table" and isinstance(spec, dict) and "iOSBadge" in spec:
        # In PUSHFN_SCHEDULES the number breaks the operator's table, not one tick: a configuration
        # error, named as such (and logged), like every other unusable configuration.
        with pytest.raises(ConfigurationError, match=r"PUSHFN_SCHEDULES: .*number"):
            handler(event, None)
        assert "scheduled_push.misconfigured" in [getattr(r, "fields", {}).get("event") for r in caplog.records]
        return
    summary = handler(event, None)  # returns: a retry cannot help

    assert summary["status"] == "invalid", summary
    assert emulator.pushes() == []
    wanted = set(field) if isinstance(field, tuple) else {field}
    assert any(f in wanted or any(f.startswith(w + ".") for w in wanted) for f in _fields(summary)), summary
    assert all(p["rule"] and p["message"] for p in summary["problems"])
    [record] = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "scheduled_push.invalid"]
    assert record.fields["reason"] == "invalid_spec"  # type: ignore[attr-defined]


@pytest.mark.parametrize("shape", ["fc-timer", "scheduler-payload-string"])
@pytest.mark.parametrize(("text", "field"), STRING_ONLY, ids=[str(i) for i in range(len(STRING_ONLY))])
def test_a_payload_string_that_is_not_bounded_json_is_invalid(emulator, runtime, monkeypatch, shape, text, field):
    summary = handler(SHAPES[shape](Raw(text), _now(), monkeypatch), None)
    assert summary["status"] == "invalid"
    assert summary["trigger"] in ("t", "default/s")  # the tick is named even when its payload is unusable
    assert _fields(summary) & set(field), summary


@pytest.mark.parametrize(
    "event",
    [
        DEEP.encode(),
        b"\xff\xfe{}",
        b'{"triggerTime": "2024-01-01T00:00:00Z", "triggerName": "t", "payload": "{}", "x": ' + b"9" * 5000 + b"}",
        b'{"triggerTime": "9999-12-31T23:59:59-05:00", "triggerName": "t", "payload": "{}"}',
        b'{"triggerTime": "2024-01-01T00:00:00Z", "triggerName": "\\ud800", "payload": "{}"}',
        {"scheduled_time": "2024-01-01T00:00:00Z", "schedule": "s", "spec": json.loads("[" * 40 + "]" * 40)},
        {"scheduled_time": "2024-01-01T00:00:00Z", "schedule": "s", "spec": {"Title": "\ud800"}},
        {"scheduled_time": "2024-01-01T00:00:00Z", "schedule": "s", "spec": {"iOSBadge": 10**5000 if False else 2**70}},
        {"scheduled_time": ["x"], "schedule": "s"},
        {"detail-type": "Scheduled Event", "resources": [{"a": 1}], "time": "2024-01-01T00:00:00Z"},
        None,
        42,
    ],
)
def test_an_unusable_event_is_reported_invalid_not_raised(emulator, runtime, event):
    summary = handler(event, None)
    assert summary["status"] == "invalid"
    assert summary["problems"] and all(p["field"] and p["rule"] for p in summary["problems"])
    assert emulator.pushes() == []


def test_a_relative_time_past_year_9999_is_invalid(emulator, runtime):
    summary = handler(fc_timer_event({**BASE, "push_time": "+5m"}, trigger_time="9999-12-31T23:59:00Z"), None)
    assert summary["status"] == "invalid"
    assert summary["problems"][0]["field"] == "push_time"


@pytest.mark.parametrize("error", [OverflowError("date value out of range"), RecursionError("deep"), TypeError("x")])
def test_any_exception_while_resolving_the_spec_is_invalid_whatever_its_type(emulator, runtime, monkeypatch, error):
    def refuse(*_: Any, **__: Any) -> Any:
        raise error

    monkeypatch.setattr("pushfn.specs.push_spec.build_request", refuse)
    summary = handler(fc_timer_event(BASE, trigger_time=_now()), None)
    assert summary["status"] == "invalid"
    assert summary["problems"][0]["rule"] == "unreadable"
    assert type(error).__name__ in summary["problems"][0]["message"]


def test_the_invalid_report_masks_device_ids(emulator, runtime, caplog):
    caplog.set_level(logging.ERROR, logger="pushfn.jobs")
    spec = {**BASE, DEVICE: 1, "ExtParameters": {DEVICE: "x"}, "push_time": f"+{DEVICE}"}
    summary = handler(fc_timer_event(spec, trigger_time=_now()), None)
    assert summary["status"] == "invalid"
    [record] = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "scheduled_push.invalid"]
    assert DEVICE not in json.dumps(record.fields, ensure_ascii=False)  # type: ignore[attr-defined]
    assert DEVICE not in record.getMessage()
    assert DEVICE not in json.dumps(summary)


# --- item 12: a BOM is accepted in the timer payload, the event and the schedules table ----------

BOM = "\ufeff"


def test_a_bom_is_accepted_in_the_payload_the_event_and_the_schedules_file(emulator, runtime, tmp_path, monkeypatch):
    when = _now()
    payload = BOM + json.dumps({**BASE, "Title": "payload"})
    assert handler(fc_timer_event(payload, trigger_name="a", trigger_time=when), None)["status"] == "ok"
    event = b"\xef\xbb\xbf" + fc_timer_event({**BASE, "Title": "event"}, trigger_name="b", trigger_time=when)
    assert handler(event, None)["status"] == "ok"

    path = tmp_path / "schedules.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"nightly": {**BASE, "Title": "file"}}).encode())
    # Settings are read once per runtime (the cold start): a new value needs a new runtime.
    monkeypatch.setenv(SCHEDULES_ENV, str(path))
    set_runtime(Runtime(client=runtime.client, store=runtime.store))
    assert handler(eventbridge_rule_event(rule_name="nightly", time=when), None)["status"] == "ok"
    monkeypatch.setenv(SCHEDULES_ENV, BOM + json.dumps({"inline": {**BASE, "Title": "inline"}}))
    set_runtime(Runtime(client=runtime.client, store=runtime.store))
    assert handler(eventbridge_rule_event(rule_name="inline", time=when), None)["status"] == "ok"

    assert sorted(p["params"]["Title"] for p in emulator.pushes()) == ["event", "file", "inline", "payload"]


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        ('{"a": ' + "[" * 40 + "]" * 40 + "}", "depth"),
        ('{"a": {"Title": ' + "9" * 5000 + "}}", "number"),
        ('{"a": {}, "a": {}}', "duplicate_key"),
        (b'{"a": "\xff"}', "encoding"),
    ],
)
def test_a_schedules_table_that_is_not_bounded_json_is_a_configuration_error(tmp_path, document, rule):
    path = tmp_path / "schedules.json"
    path.write_bytes(document if isinstance(document, bytes) else document.encode())
    with pytest.raises(ConfigurationError, match=rule):
        load_schedules(str(path))


def test_a_payload_with_a_bom_decodes_like_any_other():
    assert parse_timer_event(fc_timer_event(BOM + json.dumps(BASE))).payload == BASE


# --- property tests: arbitrary JSON and bytes through every timer shape ---------------------------

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
spec_like = st.fixed_dictionaries(
    {},
    optional={
        "push_time": st.from_regex(r"\+[0-9]{1,30}[smhdw]", fullmatch=True) | json_values,
        "expire_after": st.from_regex(r"[0-9]{1,30}[smhdw]", fullmatch=True) | json_values,
        "PushTime": st.sampled_from(["9999-12-31T23:59:58Z", "0001-01-01T00:00:00Z"]) | json_values,
        "Title": json_values,
        "template": json_values,
        "params": json_values,
    },
)
#: A payload: ("valid", spec) pushes; anything else must be reported invalid.
payloads = st.one_of(
    json_values.map(lambda v: ("json", v)),
    spec_like.map(lambda v: ("json", v)),
    st.lists(spec_like, max_size=3).map(lambda v: ("json", v)),
    st.text(max_size=40).map(lambda v: ("text", v)),
    st.integers(min_value=33, max_value=3000).map(lambda n: ("text", "[" * n + "]" * n)),
    st.builds(lambda: ("valid", {**BASE, "Title": uuid.uuid4().hex})),
    st.builds(lambda: ("valid", [{**BASE, "Title": uuid.uuid4().hex}, {**BASE, "Title": uuid.uuid4().hex}])),
)
times = st.one_of(
    st.just("now"),
    st.sampled_from(
        ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00", "2024-02-30T00:00:00Z"]
    ),
    st.text(max_size=30),
)


def _fresh_runtime(emulator: Any, runtime: Any) -> None:
    emulator.reset()
    set_runtime(Runtime(client=runtime.client, store=MemoryStore()))


def _run(event: Any) -> dict[str, Any]:
    try:
        return handler(event, None)
    except RetryLaterError:  # pragma: no cover - the emulator and store are healthy: nothing to retry
        pytest.fail("a healthy service gave a transient failure")


@pytest.mark.parametrize("shape", sorted(SHAPES))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads, when=times)
def test_arbitrary_payloads_never_raise_and_never_push_twice(emulator, runtime, monkeypatch, shape, payload, when):
    _fresh_runtime(emulator, runtime)
    kind, spec = payload
    event = SHAPES[shape](Raw(spec) if kind == "text" else spec, _now() if when == "now" else when, monkeypatch)

    if shape == "eventbridge-rule-schedules-table":
        try:
            decode_json(os.environ[SCHEDULES_ENV])
        except JsonInputError:
            # Not bounded JSON, the operator's table is unusable: a configuration error, named as such
            # (unless the event itself is unusable first, e.g. its time is not a time).
            try:
                assert handler(event, None)["status"] == "invalid"
            except ConfigurationError as exc:
                assert SCHEDULES_ENV in str(exc)
            assert emulator.pushes() == []
            return
    first = _run(event)
    pushed = [p["params"]["Title"] for p in emulator.pushes()]
    assert first["status"] in ("ok", "partial", "invalid")
    if first["status"] == "invalid":
        assert pushed == [] and first["problems"]
    if kind == "valid" and when == "now":
        assert first["status"] == "ok" and len(pushed) == (len(spec) if isinstance(spec, list) else 1)
    assert len(pushed) == len(set(pushed))

    second = _run(event)  # a redelivered tick pushes nothing new
    assert second["status"] == first["status"]
    assert [p["params"]["Title"] for p in emulator.pushes()] == pushed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()) | json_values)
def test_arbitrary_events_never_raise(emulator, runtime, event):
    _fresh_runtime(emulator, runtime)
    assert _run(event)["status"] in ("ok", "partial", "invalid")
    assert emulator.pushes() == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "triggerTime": json_values | times,
            "triggerName": json_values,
            "payload": json_values,
            "detail-type": st.just("Scheduled Event") | json_values,
            "resources": json_values,
            "time": json_values | times,
            "detail": json_values,
            "scheduled_time": json_values | times,
            "schedule_arn": json_values,
            "spec": json_values,
        },
    ),
    as_bytes=st.booleans(),
)
def test_arbitrary_event_fields_never_raise(emulator, runtime, fields, as_bytes):
    _fresh_runtime(emulator, runtime)
    event = json.dumps(fields).encode() if as_bytes else fields
    assert _run(event)["status"] in ("ok", "partial", "invalid")


def test_a_spec_of_thousands_of_field_errors_is_reported_with_the_first_100(emulator, runtime, caplog):
    """Regression (the kind of the HTTP side's 100-error cap): the invalid tick's summary and its log line
    listed every problem, 5,000 unknown fields → 5,000 entries (the platform keeps the answer, the log
    service cuts the line). The first 100 are listed, ``problems_omitted`` counts the rest."""
    spec = {**BASE, **{f"x{i}": 1 for i in range(5000)}}
    caplog.set_level(logging.ERROR)

    summary = handler(scheduler_input(spec), None)

    assert summary["status"] == "invalid"
    assert len(summary["problems"]) == 100 and summary["problems_omitted"] == 4900
    assert summary["problems"][0]["field"] == "x0"
    [record] = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "scheduled_push.invalid"]
    assert len(record.fields["problems"]) == 100 and record.fields["problems_omitted"] == 4900
    assert not emulator.pushes()
