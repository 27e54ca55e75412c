"""Schedule expressions of both clouds and the three declaration files ``pushfn serve`` reads.

Every loaded schedule's event is read back by the timer function's own adapter
(:func:`pushfn.triggers.timer.parse_timer_event`), so what ``serve`` fires is what the platform sends.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushfn.serve.schedules import (
    EVENTBRIDGE_RULE,
    EVENTBRIDGE_SCHEDULER,
    FC_TIMER,
    Schedule,
    ScheduleError,
    Timing,
    default_files,
    parse_expression,
    read_schedule_files,
)
from pushfn.serve.workers import Scheduler
from pushfn.triggers.timer import parse_timer_event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "serve"
UTC = timezone.utc
BASE = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # a Thursday


def nexts(expression: str, count: int = 3, after: datetime = BASE, **kwargs: str) -> list[datetime]:
    timing = parse_expression(expression, **kwargs)
    found, when = [], after
    for _ in range(count):
        when = timing.next_after(when, started=after)
        found.append(when)
    return found


# --- AWS ---------------------------------------------------------------------------------------------


def test_aws_cron_six_fields_with_question_mark_and_year() -> None:
    assert nexts("cron(0 12 * * ? *)", 2) == [BASE.replace(hour=12), BASE.replace(day=2, hour=12)]
    assert nexts("cron(15 10 ? * * 2027)", 1) == [datetime(2027, 1, 1, 10, 15, tzinfo=UTC)]
    assert nexts("cron(0/15 * * * ? *)", 3) == [BASE + timedelta(minutes=m) for m in (15, 30, 45)]


def test_aws_day_of_week_counts_one_as_sunday() -> None:
    # AWS: 1 = SUN … 7 = SAT; 2-6 is Monday to Friday. 2026-01-01 is a Thursday.
    assert [d.strftime("%a") for d in nexts("cron(0 9 ? * 2-6 *)", 5)] == ["Thu", "Fri", "Mon", "Tue", "Wed"]
    assert nexts("cron(0 9 ? * 1 *)", 1)[0].strftime("%a %d") == "Sun 04"
    assert nexts("cron(0 9 ? * SUN *)", 1) == nexts("cron(0 9 ? * 1 *)", 1)
    # "6#3": the third Friday (a number after # is the week, not a day).
    assert nexts("cron(0 10 ? * 6#3 *)", 1) == [datetime(2026, 1, 16, 10, tzinfo=UTC)]
    assert nexts("cron(0 10 L * ? *)", 1) == [datetime(2026, 1, 31, 10, tzinfo=UTC)]


def test_aws_cron_in_a_time_zone() -> None:
    # 09:30 in Berlin (UTC+1 in January) is 08:30 UTC.
    assert nexts("cron(30 9 * * ? *)", 1, zone="Europe/Berlin") == [BASE.replace(hour=8, minute=30)]


def test_aws_rate_and_at() -> None:
    assert nexts("rate(5 minutes)", 3) == [BASE + timedelta(minutes=m) for m in (5, 10, 15)]
    assert nexts("rate(1 hour)", 1) == [BASE + timedelta(hours=1)]
    assert nexts("rate(2 days)", 1) == [BASE + timedelta(days=2)]
    timing = parse_expression("at(2026-03-01T10:00:00)")
    assert timing.next_after(BASE) == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert timing.next_after(datetime(2026, 3, 1, 10, tzinfo=UTC)) is None


@given(st.integers(2, 1000), st.sampled_from(["minutes", "hours", "days"]), st.integers(0, 10**7))
def test_a_rate_fires_on_its_grid_from_the_start(count: int, unit: str, offset: int) -> None:
    timing = parse_expression(f"rate({count} {unit})")
    step = timedelta(**{unit: count})
    after = BASE + timedelta(seconds=offset)
    following = timing.next_after(after, started=BASE)
    assert following > after
    assert following - step <= after
    assert (following - BASE) % step == timedelta(0)


# --- Function Compute -------------------------------------------------------------------------------


def test_fc_cron_has_seconds_first() -> None:
    assert nexts("0 0 2 * * *", 2) == [BASE.replace(hour=2), BASE.replace(day=2, hour=2)]
    assert nexts("30 15 10 * * *", 1) == [BASE.replace(hour=10, minute=15, second=30)]
    # 08:00 in Shanghai (UTC+8) is midnight UTC: the next one strictly after BASE is the next day's.
    assert nexts("CRON_TZ=Asia/Shanghai 0 0 8 * * *", 1) == [BASE.replace(day=2)]


def test_fc_every() -> None:
    assert nexts("@every 5m", 2) == [BASE + timedelta(minutes=5), BASE + timedelta(minutes=10)]
    assert nexts("@every 1h30m", 1) == [BASE + timedelta(minutes=90)]


def test_a_unix_cron_line() -> None:
    assert nexts("0 8 * * 1-5", 1) == [BASE.replace(hour=8)]


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("", "empty"),
        ("rate(0 minutes)", "at least 1"),
        ("rate(5 minute)", "rate(N minutes)"),
        ("rate(1 minutes)", "rate(1 minute)"),
        ("rate(5 weeks)", "not a schedule expression"),
        ("cron(0 12 * * * *)", "exactly one of Day-of-month and Day-of-week"),
        ("cron(0 12 ? * ? *)", "exactly one of"),
        ("cron(0 12 * * ?)", "six fields"),
        ("cron(61 12 * * ? *)", "cron(61 12"),
        ("@every 30s", "at least 1m"),
        ("@every", "not a schedule expression"),
        ("0 0 25 * * *", "0 0 25"),
        ("CRON_TZ=Mars/Olympus 0 0 8 * * *", "unknown time zone"),
        ("at(2026-13-01T10:00:00)", "not a valid date"),
        ("every day", "not a schedule expression"),
    ],
)
def test_bad_expressions_are_refused_with_the_rule(expression: str, says: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_expression(expression)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    "expression", ["rate(５ minutes)", "rate(٥ minutes)", "@every ５m", "@every 1h٣٠m", "at(２０２６-03-01T10:00:00)"]
)
def test_digits_other_than_ascii_are_refused(expression: str) -> None:
    """Regression: ``\\d`` and ``int()`` read fullwidth (５) and Arabic-Indic (٥) digits, so ``rate(５ minutes)``
    and ``@every ５m`` ran every 5 minutes here while neither cloud accepts them: a schedule that works locally
    and fails at deploy."""
    with pytest.raises(ScheduleError, match="not a schedule expression"):
        parse_expression(expression)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ScheduleError, match="unknown time zone"):
        parse_expression("cron(0 12 * * ? *)", zone="Nowhere/Town")


@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_cleanly(text: str) -> None:
    try:
        timing = parse_expression(text)
    except ScheduleError as exc:
        assert str(exc)
    else:
        following = timing.next_after(BASE)
        assert following is None or following > BASE


# --- declarations --------------------------------------------------------------------------------------


def test_the_three_files_are_found_in_a_folder(tmp_path: Path) -> None:
    for name in ("s.yaml", "pushfn.toml", "template.yaml"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    (tmp_path / "other.yaml").write_text("x: 1\n")
    assert [p.name for p in default_files(tmp_path)] == ["pushfn.toml", "template.yaml", "s.yaml"]
    schedules = read_schedule_files(default_files(tmp_path))
    assert sorted(s.name for s in schedules) == [
        "Hourly",
        "Weekdays",
        "every-five",
        "every-four",
        "morning",
        "nightly",
        "nightly-rule",
        "paused",
        "quarterly",
    ]


def test_sam_schedules_and_their_events() -> None:
    by_name = {s.name: s for s in read_schedule_files([FIXTURES / "template.yaml"])}
    assert {n: (s.kind, s.enabled) for n, s in by_name.items()} == {
        "Hourly": (EVENTBRIDGE_RULE, True),
        "nightly-rule": (EVENTBRIDGE_RULE, False),
        "Weekdays": (EVENTBRIDGE_SCHEDULER, True),
        "quarterly": (EVENTBRIDGE_SCHEDULER, True),
    }
    when = datetime(2026, 2, 3, 9, 30, 0, 123456, tzinfo=UTC)
    # A Scheduler Input gets its context attributes filled in, as Scheduler does.
    weekdays = parse_timer_event(by_name["Weekdays"].event(when))
    # Named as Lambda sees it: the schedule ARN's last part, group included.
    assert (weekdays.trigger_name, weekdays.scheduled_time) == ("default/Weekdays", when.replace(microsecond=0))
    assert weekdays.payload["Title"] == "Weekdays"
    assert by_name["Weekdays"].timing.zone == "Europe/Berlin"
    assert parse_timer_event(by_name["quarterly"].event(when)).payload["Title"] == "Quarterly"
    # A rule without Input sends the Scheduled Event envelope: its spec comes from PUSHFN_SCHEDULES.
    envelope = by_name["nightly-rule"].event(when)
    assert envelope["detail-type"] == "Scheduled Event" and envelope["resources"][0].endswith("rule/nightly-rule")
    rule = parse_timer_event(envelope, schedules={"nightly-rule": {"template": "x"}})
    assert rule.trigger_name == "nightly-rule" and rule.payload == {"template": "x"}
    # A rule with Input delivers the Input itself.
    assert parse_timer_event(by_name["Hourly"].event(when)).payload["Title"] == "Hourly"


def test_fc3_timer_triggers_and_their_events() -> None:
    schedules = read_schedule_files([FIXTURES / "s.yaml"])
    assert [(s.name, s.kind, s.enabled, s.expression) for s in schedules] == [
        ("nightly", FC_TIMER, True, "0 0 2 * * *"),
        ("every-four", FC_TIMER, False, "@every 4m"),
    ]
    when = datetime(2026, 2, 3, 2, 0, tzinfo=UTC)
    event = schedules[0].event(when)
    assert isinstance(event, bytes)  # as FC passes it
    tick = parse_timer_event(event)
    assert (tick.trigger_name, tick.scheduled_time, tick.payload["Title"]) == ("nightly", when, "Nightly")


def test_pushfn_toml_schedules() -> None:
    by_name = {s.name: s for s in read_schedule_files([FIXTURES / "pushfn.toml"])}
    assert by_name["paused"].enabled is False and by_name["paused"].timing.zone == "Asia/Shanghai"
    # A payload written as a TOML table arrives as JSON text, like FC's payload string.
    tick = parse_timer_event(by_name["morning"].event(BASE))
    assert tick.payload["Title"] == "Morning" and tick.trigger_name == "morning"
    assert json.loads(by_name["every-five"].payload)["Title"] == "Tick"


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("pushfn.toml", "[schedules.x]\nexpression = 'rate(5 weeks)'\n", "pushfn.toml: schedule 'x'"),
        ("pushfn.toml", "[schedules.x]\npayload = '{}'\n", "has no expression"),
        ("pushfn.toml", "[schedules.x]\nexpression = 'rate(1 hour)'\ncron = 1\n", "unknown key(s) cron"),
        ("pushfn.toml", "[schedules.x]\nexpression = 'rate(1 hour)'\n", "schedule 'x' has no payload"),
        ("pushfn.toml", "[schedules.x]\nexpression = 'rate(1 hour)'\npayload = '  '\n", "schedule 'x' has no payload"),
        ("pushfn.toml", "schedules = 3\n", "must be a table"),
        ("pushfn.toml", "[schedules\n", "not valid TOML"),
        ("template.yaml", "Resources: [1\n", "not valid YAML"),
        ("template.yaml", "- 1\n", "not a YAML mapping"),
        ("template.yaml", "hello: 1\n", "neither a SAM template"),
        (
            "template.yaml",
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n"
            "        E:\n          Type: Schedule\n          Properties:\n            Schedule: cron(0 12 * * * *)\n",
            "schedule 'E'",
        ),
        (
            "s.yaml",
            "resources:\n  f:\n    props:\n      triggers:\n        - triggerName: t\n          triggerType: timer\n"
            "          triggerConfig:\n            cronExpression: '@every 10s'\n",
            "schedule 't'",
        ),
    ],
)
def test_bad_declarations_name_the_file_and_schedule(tmp_path: Path, name: str, text: str, says: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScheduleError) as caught:
        read_schedule_files([path])
    assert says in str(caught.value)


def test_a_name_declared_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("[schedules.nightly]\nexpression = 'rate(1 hour)'\npayload = '{}'\n")
    with pytest.raises(ScheduleError, match="'nightly' is declared twice"):
        read_schedule_files([FIXTURES / "s.yaml", tmp_path / "a.toml"])


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="cannot be read"):
        read_schedule_files([tmp_path / "nope.toml"])


# --- the timer thread ------------------------------------------------------------------------------------


def test_the_scheduler_fires_enabled_schedules_in_order_and_stops() -> None:
    fired: list[tuple[str, datetime]] = []
    stop = threading.Event()
    quick = Schedule("quick", "rate", Timing("rate", interval=0.05), FC_TIMER)
    never = Schedule("off", "rate", Timing("rate", interval=0.05), FC_TIMER, enabled=False)

    def fire(schedule: Schedule, when: datetime) -> None:
        fired.append((schedule.name, when))
        if len(fired) >= 3:
            stop.set()
        raise RuntimeError("a failing tick does not stop the timer")

    thread = Scheduler([quick, never], fire, stop)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert [name for name, _ in fired] == ["quick"] * 3
    times = [when for _, when in fired]
    assert times == sorted(times) and len(set(times)) == 3


def test_the_scheduler_stops_while_waiting() -> None:
    stop = threading.Event()
    daily = Schedule("daily", "rate(1 day)", parse_expression("rate(1 day)"), FC_TIMER)
    thread = Scheduler([daily], lambda *_: None, stop)
    thread.start()
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


@given(st.text(max_size=80), st.sampled_from([EVENTBRIDGE_RULE, EVENTBRIDGE_SCHEDULER, FC_TIMER]))
def test_any_payload_becomes_an_event_the_adapter_reads_or_refuses_by_rule(payload: str, kind: str) -> None:
    from pushfn.push.errors import InvalidRequestError

    schedule = Schedule("s", "rate(1 hour)", parse_expression("rate(1 hour)"), kind, payload)
    event = schedule.event(BASE)  # never raises: text that is not JSON is delivered as text
    try:
        parse_timer_event(event)
    except InvalidRequestError as exc:
        assert exc.problems
