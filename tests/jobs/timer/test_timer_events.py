"""The timer adapter on every event shape of the reference samples, and the event factories."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from pushfn.push.errors import ConfigurationError, InvalidRequestError
from pushfn.settings import Settings
from pushfn.specs.tables import load_schedules
from pushfn.triggers.events.timer import eventbridge_rule_event, fc_timer_event, scheduler_input
from pushfn.triggers.timer import (
    EVENTBRIDGE_RULE,
    EVENTBRIDGE_SCHEDULER,
    FC_TIMER,
    SCHEDULES_ENV,
    parse_timer_event,
)

SPEC = {"Target": "ACCOUNT", "TargetValue": "u1", "DeviceType": "ALL", "PushType": "NOTICE", "Title": "T", "Body": "B"}


def _configured() -> dict:
    """The schedules table as the runtime loads it: from the settings' ``PUSHFN_SCHEDULES`` value."""
    return load_schedules(Settings.from_env().pushfn_schedules)


def _problem(exc: pytest.ExceptionInfo[InvalidRequestError]) -> tuple[str, str]:
    problem = exc.value.problems[0]
    return problem.field, problem.rule


@pytest.mark.parametrize(
    ("name", "trigger", "when"),
    [
        ("fc_timer.json", "timer-trigger", datetime(2023, 12, 26, 7, 49, tzinfo=timezone.utc)),
        ("fc_timer_awesomefc.json", "TestTimer", datetime(2022, 7, 29, 10, 2, 58, tzinfo=timezone.utc)),
    ],
)
def test_fc_timer_samples_are_recognised_but_their_text_payload_is_not_a_spec(sample, name, trigger, when):
    raw = sample(name)
    data = json.loads(raw)
    # The samples carry plain text ("awesome-fc"): the event is understood, the payload refused.
    with pytest.raises(InvalidRequestError) as exc:
        parse_timer_event(raw)
    assert _problem(exc) == ("payload", "json")
    data["payload"] = json.dumps(SPEC)
    invocation = parse_timer_event(json.dumps(data).encode())
    assert (invocation.trigger_name, invocation.scheduled_time, invocation.source) == (trigger, when, FC_TIMER)
    assert invocation.payload == SPEC


def test_fc_timer_payload_arrives_double_encoded_and_is_decoded_once_more():
    event = fc_timer_event([SPEC, SPEC], trigger_name="digest", trigger_time="2024-05-01T08:00:00Z")
    assert isinstance(event, bytes)
    assert isinstance(json.loads(event)["payload"], str)
    invocation = parse_timer_event(event, schedules=_configured)
    assert invocation.payload == [SPEC, SPEC]
    assert invocation.trigger_name == "digest"
    assert invocation.scheduled_time == datetime(2024, 5, 1, 8, tzinfo=timezone.utc)


def test_fc_timer_factory_matches_the_sample_shape(sample_json):
    assert fc_timer_event(as_bytes=False) == sample_json("fc_timer.json")


@pytest.mark.parametrize(
    ("name", "rule", "when"),
    [
        (
            "aws_eventbridge_scheduled_rule.json",
            "my-scheduled-rule",
            datetime(2015, 10, 8, 16, 53, 6, tzinfo=timezone.utc),
        ),
        ("aws_eventbridge_scheduled_samcli.json", "nightly-job", datetime(1970, 1, 1, tzinfo=timezone.utc)),
    ],
)
def test_eventbridge_rule_samples_take_their_spec_from_configuration(sample_json, monkeypatch, name, rule, when):
    event = sample_json(name)
    with pytest.raises(InvalidRequestError) as exc:
        parse_timer_event(event, schedules=_configured)
    assert _problem(exc) == ("spec", "missing")

    monkeypatch.setenv(SCHEDULES_ENV, json.dumps({rule: SPEC}))
    invocation = parse_timer_event(event, schedules=_configured)
    assert (invocation.trigger_name, invocation.scheduled_time, invocation.source) == (rule, when, EVENTBRIDGE_RULE)
    assert invocation.payload == SPEC


def test_eventbridge_rule_factory_matches_the_sample(sample_json):
    assert eventbridge_rule_event() == sample_json("aws_eventbridge_scheduled_rule.json")


def test_a_rule_event_with_a_detail_uses_it_as_the_spec():
    invocation = parse_timer_event(eventbridge_rule_event(rule_name="r", detail=SPEC))
    assert invocation.payload == SPEC


def test_schedules_can_come_from_a_file(tmp_path, monkeypatch):
    path = tmp_path / "schedules.json"
    path.write_text(json.dumps({"my-scheduled-rule": [SPEC]}), encoding="utf-8")
    monkeypatch.setenv(SCHEDULES_ENV, str(path))
    assert parse_timer_event(eventbridge_rule_event(), schedules=_configured).payload == [SPEC]

    monkeypatch.setenv(SCHEDULES_ENV, str(tmp_path / "missing.json"))
    with pytest.raises(ConfigurationError):
        parse_timer_event(eventbridge_rule_event(), schedules=_configured)


def test_scheduler_input_sample_is_named_by_its_job_and_needs_a_spec(sample_json, monkeypatch):
    event = sample_json("aws_eventbridge_scheduler_input.json")
    with pytest.raises(InvalidRequestError) as exc:
        parse_timer_event(event, schedules=_configured)
    assert _problem(exc) == ("spec", "missing")

    monkeypatch.setenv(SCHEDULES_ENV, json.dumps({"nightly": SPEC}))
    invocation = parse_timer_event(event, schedules=_configured)
    assert invocation.trigger_name == "nightly"
    assert invocation.scheduled_time == datetime(2022, 3, 22, 18, 59, 43, tzinfo=timezone.utc)
    assert invocation.source == EVENTBRIDGE_SCHEDULER


def test_scheduler_factory_matches_the_sample(sample_json):
    assert scheduler_input() == sample_json("aws_eventbridge_scheduler_input.json")


def test_scheduler_input_with_schedule_arn_and_inline_spec():
    event = scheduler_input(SPEC, schedule_name="reminders", group="team-a", job=None)
    invocation = parse_timer_event(event, schedules=_configured)
    # Schedule names are unique within a group only, so the group is part of the name.
    assert invocation.trigger_name == "team-a/reminders"
    assert invocation.payload == SPEC


def test_scheduler_payload_string_is_decoded_like_fc():
    event = {"schedule": "s", "scheduled_time": "2024-01-01T00:00:00Z", "payload": json.dumps(SPEC)}
    assert parse_timer_event(event, schedules=_configured).payload == SPEC


@pytest.mark.parametrize(
    ("event", "field", "rule"),
    [
        (b"not json", "event", "json"),
        (b"[1, 2]", "event", "shape"),
        ({"hello": "world"}, "event", "shape"),
        ({"triggerTime": "yesterday", "triggerName": "t", "payload": "{}"}, "triggerTime", "format"),
        ({"triggerTime": "2024-01-01T00:00:00Z", "triggerName": "", "payload": "{}"}, "triggerName", "missing"),
        ({"triggerTime": "2024-01-01T00:00:00Z", "triggerName": "t", "payload": ""}, "payload", "missing"),
        (
            {"detail-type": "Scheduled Event", "time": "2024-01-01T00:00:00Z", "resources": []},
            "resources[0]",
            "missing",
        ),
        ({"scheduled_time": "2024-01-01T00:00:00Z", "spec": SPEC}, "schedule_arn", "missing"),
    ],
)
def test_unusable_events_name_the_field_and_rule(event, field, rule):
    with pytest.raises(InvalidRequestError) as exc:
        parse_timer_event(event, schedules=_configured)
    assert _problem(exc) == (field, rule)
