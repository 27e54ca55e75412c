"""Push specs: expansion, relative times against a reference instant, templates, and every error."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pushfn.push.errors import InvalidRequestError
from pushfn.settings import Settings
from pushfn.specs.push_spec import MAX_ITEMS, resolve_push_spec, resolve_times
from pushfn.specs.relative_time import DurationSyntaxError, parse_duration
from pushfn.specs.templates import load_templates

APP_KEY = 23267207
REF = datetime(2030, 6, 1, 8, 0, tzinfo=timezone.utc)
BASE = {"Target": "ACCOUNT", "TargetValue": "u1", "DeviceType": "ALL", "PushType": "NOTICE", "Title": "T", "Body": "B"}
TEMPLATES = {"shipped": {**BASE, "Title": "Order {order} shipped", "StoreOffline": True}}


def _problems(exc: pytest.ExceptionInfo[InvalidRequestError]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in exc.value.problems}


def _query(spec, reference=REF, **kwargs):
    return [p.request.to_query() for p in resolve_push_spec(spec, reference=reference, app_key=APP_KEY, **kwargs)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+5m", timedelta(minutes=5)),
        ("24h", timedelta(hours=24)),
        ("+1h30m", timedelta(minutes=90)),
        ("90s", timedelta(seconds=90)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "+", "5", "-5m", "5 minutes", "m5", "1.5h", "+5M", "\uff15m", "\u0665h"])
def test_bad_durations_are_refused(text):
    with pytest.raises(DurationSyntaxError):
        parse_duration(text)


def test_one_push_in_api_names_or_snake_case_gives_the_same_request():
    snake = {
        "target": "ACCOUNT",
        "target_value": "u1",
        "device_type": "ALL",
        "push_type": "NOTICE",
        "title": "T",
        "body": "B",
    }
    assert _query(BASE) == _query(snake)
    assert _query(BASE)[0]["AppKey"] == str(APP_KEY)


def test_relative_times_resolve_against_the_reference_not_the_clock():
    spec = {**BASE, "push_time": "+5m", "expire_after": "24h", "StoreOffline": True}
    query = _query(spec)[0]
    assert query["PushTime"] == "2030-06-01T08:05:00Z"
    # expire_after counts from the push time, so the message lives 24 h after it is sent.
    assert query["ExpireTime"] == "2030-06-02T08:05:00Z"
    assert "expire_after" not in query
    # Same input, same reference: the same request, whenever it is computed.
    assert _query(spec) == [query]
    assert _query(spec, reference=REF + timedelta(minutes=1))[0]["PushTime"] == "2030-06-01T08:06:00Z"


def test_relative_expire_time_counts_from_the_reference():
    query = _query({**BASE, "ExpireTime": "+24h"})[0]
    assert query["ExpireTime"] == "2030-06-02T08:00:00Z"
    assert "PushTime" not in query


def test_expire_after_for_an_immediate_push_counts_from_the_reference():
    assert _query({**BASE, "expire_after": "1h"})[0]["ExpireTime"] == "2030-06-01T09:00:00Z"


def test_expire_after_with_an_absolute_push_time():
    query = _query({**BASE, "PushTime": "2030-06-01T12:00:00Z", "expire_after": "2h"})[0]
    assert (query["PushTime"], query["ExpireTime"]) == ("2030-06-01T12:00:00Z", "2030-06-01T14:00:00Z")


def test_absolute_times_pass_through():
    assert _query({**BASE, "PushTime": "2030-06-01T09:00:00Z"})[0]["PushTime"] == "2030-06-01T09:00:00Z"


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"push_time": "+soon"}, ("push_time", "relative_time")),
        ({"ExpireTime": "+1x"}, ("ExpireTime", "relative_time")),
        ({"expire_after": "tomorrow"}, ("expire_after", "relative_time")),
        ({"expire_after": 3600}, ("expire_after", "type")),
        ({"expire_after": "1h", "ExpireTime": "+2h"}, ("expire_after", "exclusive")),
        # Valid syntax, but the model's rules still apply against the reference time.
        ({"push_time": "+8d"}, ("PushTime", "range")),
        ({"expire_after": "4d"}, ("ExpireTime", "range")),
    ],
)
def test_time_problems_name_the_field_and_rule(extra, problem):
    with pytest.raises(InvalidRequestError) as exc:
        resolve_push_spec({**BASE, **extra}, reference=REF, app_key=APP_KEY)
    assert problem in _problems(exc)


def test_a_list_keeps_its_order_and_indexes():
    planned = resolve_push_spec(
        [{**BASE, "TargetValue": "a"}, {**BASE, "TargetValue": "b"}], reference=REF, app_key=APP_KEY
    )
    assert [(p.index, p.request.to_query()["TargetValue"]) for p in planned] == [(0, "a"), (1, "b")]
    assert resolve_push_spec(BASE, reference=REF, app_key=APP_KEY)[0].index is None


def test_every_problem_of_a_list_is_reported_with_its_position():
    with pytest.raises(InvalidRequestError) as exc:
        resolve_push_spec(
            [BASE, {**BASE, "Title": ""}, "hello", {"iosBadge": 1, **BASE}], reference=REF, app_key=APP_KEY
        )
    problems = _problems(exc)
    assert ("[2].spec", "type") in problems
    assert any(field.startswith("[1].") for field, _ in problems)
    assert any(field.startswith("[3].") for field, _ in problems)
    assert not any(field.startswith("[0].") for field, _ in problems)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ([], ("spec", "empty")),
        ([BASE] * (MAX_ITEMS + 1), ("spec", "too_many")),
        ("text", ("spec", "type")),
        (None, ("spec", "type")),
        (7, ("spec", "type")),
    ],
)
def test_malformed_specs(spec, problem):
    with pytest.raises(InvalidRequestError) as exc:
        resolve_push_spec(spec, reference=REF, app_key=APP_KEY)
    assert problem in _problems(exc)


def test_template_reference_with_overrides_and_relative_times():
    spec = {
        "template": "shipped",
        "params": {"order": "42"},
        "TargetValue": "u9",
        "expire_after": "2h",
        "push_time": "+10m",
    }
    query = _query(spec, templates=TEMPLATES)[0]
    assert query["Title"] == "Order 42 shipped"
    assert query["TargetValue"] == "u9"
    assert (query["PushTime"], query["ExpireTime"]) == ("2030-06-01T08:10:00Z", "2030-06-01T10:10:00Z")


def test_templates_load_from_the_environment_only_when_used(monkeypatch):
    def loader():  # what the runtime passes: the templates of the settings' PUSHFN_TEMPLATES value
        return load_templates(Settings.from_env().pushfn_templates)

    monkeypatch.setenv("PUSHFN_TEMPLATES", "/nonexistent/templates.json")
    assert _query(BASE, templates=loader)  # a spec without a template never reads the broken setting
    monkeypatch.setenv(
        "PUSHFN_TEMPLATES",
        '{"shipped": {"Target": "ACCOUNT", "TargetValue": "u", '
        '"DeviceType": "ALL", "PushType": "NOTICE", "Title": "#{order}", "Body": "b"}}',
    )
    assert _query({"template": "shipped", "params": {"order": 7}}, templates=loader)[0]["Title"] == "#7"


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"template": "nope"}, ("template", "unknown_template")),
        ({"template": "shipped"}, ("params.order", "missing")),
        ({"template": "shipped", "params": {"order": "1", "extra": "x"}}, ("params.extra", "unknown")),
        ([BASE, {"template": "shipped", "params": {}}], ("[1].params.order", "missing")),
    ],
)
def test_template_problems(spec, problem):
    with pytest.raises(InvalidRequestError) as exc:
        resolve_push_spec(spec, reference=REF, app_key=APP_KEY, templates=TEMPLATES)
    assert problem in _problems(exc)


def test_a_relative_push_time_already_passed_at_send_time_becomes_immediate():
    planned = resolve_push_spec({**BASE, "push_time": "+5m"}, reference=REF, app_key=APP_KEY)[0]
    assert planned.request_at(REF).push_time is not None
    late = planned.request_at(REF + timedelta(hours=2))
    assert late.push_time is None
    assert planned.request.push_time is not None  # the plan itself is unchanged

    absolute = resolve_push_spec({**BASE, "PushTime": "2030-06-01T08:05:00Z"}, reference=REF, app_key=APP_KEY)[0]
    assert absolute.request_at(REF + timedelta(hours=2)).push_time is not None


def test_resolve_times_leaves_other_fields_alone():
    assert resolve_times({"Title": "+5m"}, REF) == {"Title": "+5m"}
