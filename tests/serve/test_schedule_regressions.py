"""Regressions found by attacking ``pushfn serve``'s schedule expressions (review 2).

Each test names the input that broke, and asserts the behaviour the clouds document instead.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushfn.serve.schedules import ScheduleError, parse_expression, read_schedule_files

UTC = timezone.utc
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(99999999999999999999 days)",
        "rate(100000000 minutes)",
        f"rate({'9' * 5000} hours)",
        "@every 99999999999999999h",
        f"@every {'9' * 5000}m",
    ],
)
def test_a_huge_interval_is_refused_by_rule_not_by_overflow(expression: str) -> None:
    with pytest.raises(ScheduleError, match="at most"):
        parse_expression(expression)


@given(st.integers(1, 10**30), st.sampled_from(["minutes", "hours", "days"]))
def test_any_rate_parses_and_fires_or_is_refused_cleanly(count: int, unit: str) -> None:
    text = f"rate({count} {unit})" if count > 1 else f"rate(1 {unit[:-1]})"
    try:
        timing = parse_expression(text)
    except ScheduleError as exc:
        assert "at most" in str(exc)
    else:
        assert timing.next_after(BASE, started=BASE) > BASE


@pytest.mark.parametrize(
    "expression", ["cron(0 0 31 2 ? *)", "cron(0 0 30 2 ? *)", "0 0 0 31 2 ?", "0 0 31 2 *", "0 0 30 2 *", "0 0 31 4 *"]
)
def test_a_cron_that_can_never_fire_is_refused(expression: str) -> None:
    # The five-field lines ("0 0 31 2 *") were only asked whether croniter could read them, so they were
    # accepted and the schedule never fired; every cron form is now checked for a matching date.
    with pytest.raises(ScheduleError, match="never fires"):
        parse_expression(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0\u30000 * * ? *)",  # an ideographic space between fields
        "0\u00a00 * * *",  # a no-break space
        "cron(0 0 * * ?\u2028*)",  # a line separator
        "CRON_TZ=Asia/Shanghai\u30000 0 8 * * *",
        "rate(5\u2003minutes)",
        "0 0 0 * * *\u0301",  # a combining mark after a field
    ],
)
def test_a_schedule_expression_with_a_character_beyond_ascii_is_refused(expression: str) -> None:
    """Regression (the kind of 8c3f903's ASCII digits): str.split() parts fields on any Unicode space, so
    "cron(0\u30000 * * ? *)" ran here every day at midnight while neither cloud reads it."""
    with pytest.raises(ScheduleError, match="not a schedule expression: it holds U\\+"):
        parse_expression(expression)


def test_a_cron_whose_last_year_passed_has_no_next_firing() -> None:
    # It fired in 2020 (so it is a valid expression) but never will again: None, like a past at(…).
    timing = parse_expression("cron(0 12 * * ? 2020)")
    assert timing.next_after(BASE) is None


def test_a_cron_decades_away_is_found() -> None:
    assert parse_expression("cron(0 12 1 1 ? 2099)").next_after(BASE) == datetime(2099, 1, 1, 12, tzinfo=UTC)


def test_the_scheduler_thread_survives_a_schedule_without_a_next_firing() -> None:
    import threading

    from pushfn.serve.schedules import FC_TIMER, Schedule, Timing
    from pushfn.serve.workers import Scheduler

    fired = threading.Event()
    stop = threading.Event()
    past = Schedule("past", "cron(0 12 * * ? 2020)", parse_expression("cron(0 12 * * ? 2020)"), FC_TIMER)
    quick = Schedule("quick", "rate", Timing("rate", interval=0.05), FC_TIMER)
    thread = Scheduler([past, quick], lambda schedule, when: fired.set(), stop)
    thread.start()
    assert fired.wait(30), "the other schedule never fired: the timer thread died"
    stop.set()
    thread.join(30)


@pytest.mark.parametrize(
    ("expression", "first"),
    [
        # AWS: "6L" in Day-of-week is the last Friday of the month; "L" alone the last day of the week
        # (Saturday). Source: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
        ("cron(0 10 ? * 6L *)", datetime(2026, 1, 30, 10, tzinfo=UTC)),
        ("cron(0 10 ? * 2L *)", datetime(2026, 1, 26, 10, tzinfo=UTC)),
        ("cron(0 10 ? * L *)", datetime(2026, 1, 3, 10, tzinfo=UTC)),
    ],
)
def test_aws_last_weekday_of_the_month(expression: str, first: datetime) -> None:
    assert parse_expression(expression).next_after(BASE) == first


def _firings(expression: str, zone: str | None, after: datetime, count: int) -> list[str]:
    timing = parse_expression(expression, zone=zone)
    out, when = [], after
    for _ in range(count):
        when = timing.next_after(when)
        out.append(when.strftime("%m-%d %H:%M"))
    return out


def test_a_zoned_cron_skips_the_wall_time_spring_forward_removes() -> None:
    # 2026-03-08 02:30 does not exist in New York: EventBridge Scheduler skips that day's run.
    assert _firings("cron(30 2 * * ? *)", "America/New_York", datetime(2026, 3, 7, 12, tzinfo=UTC), 2) == [
        "03-09 06:30",
        "03-10 06:30",
    ]


def test_a_zoned_cron_fires_once_in_the_hour_fall_back_repeats() -> None:
    # 2026-11-01 01:30 happens twice in New York: EventBridge Scheduler runs it once (the first).
    assert _firings("cron(30 1 * * ? *)", "America/New_York", datetime(2026, 10, 31, 12, tzinfo=UTC), 2) == [
        "11-01 05:30",
        "11-02 06:30",
    ]
    # Every half hour: 01:00 and 01:30 once each, then 02:00 EST.
    assert _firings("cron(0/30 * * * ? *)", "America/New_York", datetime(2026, 11, 1, 4, 45, tzinfo=UTC), 4) == [
        "11-01 05:00",
        "11-01 05:30",
        "11-01 07:00",
        "11-01 07:30",
    ]


def test_fc_cron_tz_follows_the_same_wall_clock() -> None:
    after = datetime(2026, 10, 31, 12, tzinfo=UTC)
    assert _firings("CRON_TZ=America/New_York 0 30 1 * * *", None, after, 2) == ["11-01 05:30", "11-02 06:30"]


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Shanghai"]),
    st.sampled_from(["cron(0/30 * * * ? *)", "cron(30 1 * * ? *)", "cron(0 2 ? * 1 *)"]),
)
def test_zoned_firings_are_strictly_later_and_never_repeat_a_wall_time(
    after: datetime, zone: str, expression: str
) -> None:
    from zoneinfo import ZoneInfo

    timing = parse_expression(expression, zone=zone)
    seen, when = set(), after
    for _ in range(6):
        following = timing.next_after(when)
        assert following is not None and following > when
        wall = following.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        assert wall not in seen
        seen.add(wall)
        when = following


# --- hostile declaration files --------------------------------------------------------------------------

SAM_EVENT = (
    "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n"
    "        E:\n          Type: Schedule\n          Properties:\n"
)
FC3_TRIGGER = (
    "resources:\n  f:\n    props:\n      triggers:\n        - triggerName: t\n          triggerType: timer\n"
    "          triggerConfig:\n"
)
FC3_EVERY_5M = FC3_TRIGGER + "            cronExpression: '@every 5m'\n"
BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        # CloudFormation functions are not resolved locally: say so, instead of "not a schedule expression"
        # or pushing the unresolved text.
        ("template.yaml", SAM_EVENT + "            Schedule: !Sub 'rate(${M} minutes)'\n", "Schedule uses !Sub"),
        ("template.yaml", SAM_EVENT + "            Schedule: !If [P, 'rate(1 hour)', 'rate(2 hours)']\n", "!If"),
        ("template.yaml", SAM_EVENT + "            Schedule:\n              Ref: Expr\n", "uses Ref"),
        (
            "template.yaml",
            SAM_EVENT + '            Schedule: rate(1 hour)\n            Input: !Sub \'{"a": "${X}"}\'\n',
            "Input uses !Sub",
        ),
        (
            "template.yaml",
            SAM_EVENT + "            Schedule: rate(1 hour)\n            Input:\n              a: !GetAtt X.Arn\n",
            "Input uses !GetAtt",
        ),
        ("template.yaml", SAM_EVENT + "            Schedule: rate(1 hour)\n            Name: !Ref N\n", "Name uses"),
        ("template.yaml", SAM_EVENT + "            Schedule: rate(1 hour)\n            Enabled: 'false'\n", "true or"),
        ("template.yaml", SAM_EVENT + "            Schedule: rate(1 hour)\n            State: OFF\n", "ENABLED or"),
        ("s.yaml", FC3_TRIGGER + "            cronExpression: '${vars.cron}'\n", "does not resolve"),
        ("s.yaml", FC3_EVERY_5M + "            enable: 'false'\n", "true or"),
        ("s.yaml", FC3_EVERY_5M + "            payload: '${vars.p}'\n", "does not resolve"),
        ("pushfn.toml", "[schedules.x]\nexpression = 'rate(1 hour)'\nenabled = 'no'\n", "true or false"),
        ("pushfn.toml", "[schedules.x]\nexpression = 'rate(1 hour)'\ntimezone = 5\n", "time zone name"),
        # Anchors: a billion laughs, and one that refers to itself, are refused before anything walks them.
        ("template.yaml", BOMB + SAM_EVENT + "            Schedule: rate(1 hour)\n            Input: *i\n", "alias"),
        ("template.yaml", "x: &x [*x]\n" + SAM_EVENT + "            Schedule: rate(1 hour)\n", "alias"),
    ],
)
def test_hostile_declarations_are_refused_by_rule(tmp_path: Path, name: str, text: str, says: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScheduleError) as caught:
        read_schedule_files([path])
    assert says in str(caught.value)
    assert path.name in str(caught.value)


TOML_PAYLOAD = "[schedules.x]\nexpression = 'rate(1 hour)'\npayload = "
SAM_INPUT = SAM_EVENT + "            Schedule: rate(1 hour)\n            Input: "


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("pushfn.toml", TOML_PAYLOAD + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
        ("pushfn.toml", TOML_PAYLOAD + "{a=" * 3000 + "1" + "}" * 3000 + "\n", "nested deeper"),
        ("template.yaml", SAM_INPUT + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
        ("s.yaml", FC3_EVERY_5M + "            payload: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
        ("pushfn.toml", TOML_PAYLOAD + "{Title = 'x', iOSBadge = nan}\n", "schedule 'x': the payload is not usable"),
        ("pushfn.toml", TOML_PAYLOAD + "{Title = 'x', iOSBadge = -inf}\n", "not finite"),
        ("template.yaml", SAM_INPUT + "{Title: x, iOSBadge: .nan}\n", "not finite"),
        ("template.yaml", SAM_INPUT + "{Title: x, iOSBadge: 99999999999999999999999}\n", "at iOSBadge: integer"),
        ("template.yaml", SAM_INPUT + '{Title: "\\uD800"}\n', "at Title: contains a lone surrogate"),
        ("template.yaml", SAM_INPUT + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32 levels"),
        ("s.yaml", FC3_EVERY_5M + "            payload: {Title: x, iOSBadge: .inf}\n", "not finite"),
    ],
)
def test_a_payload_table_past_the_json_bounds_is_refused_at_the_start(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    """Regression: a payload or Input written as a table was dumped to JSON text unchecked: nested thousands
    deep it raised RecursionError out of tomllib or PyYAML (pushfn serve died with a traceback); holding nan,
    inf (``NaN`` is not JSON), a number past 64 bits, a lone surrogate or 40 levels it was accepted and every
    firing was then refused as invalid. Each is now refused when the file is read, naming file and schedule."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScheduleError) as caught:
        read_schedule_files([path])
    assert says in str(caught.value) and path.name in str(caught.value)


def test_a_huge_declaration_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    with path.open("wb") as out:
        out.write(b"Resources: {}\n")
        out.truncate(64 * 1024 * 1024)  # sparse: 64 MiB without writing them
    with pytest.raises(ScheduleError, match="larger than"):
        read_schedule_files([path])


def test_a_sam_template_with_intrinsics_elsewhere_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: !Sub '${B}/x.zip'\n"
        "      Environment:\n        Variables:\n          Q: !Ref Queue\n      Events:\n        E:\n"
        "          Type: Schedule\n          Properties:\n            Schedule: rate(1 hour)\n"
        '            Input: \'{"literal": "${not a sub}"}\'\n'
    )
    (schedule,) = read_schedule_files([path])
    assert schedule.payload == '{"literal": "${not a sub}"}'


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "pushfn.toml",
            "[schedules.x]\nexpression = 'rate(1 hour)'\npayload = {Title = 'x', at = 2026-01-02T03:04:05Z}\n",
        ),
        ("s.yaml", FC3_EVERY_5M + "            payload: {Title: x, at: 2026-01-02}\n"),
    ],
)
def test_a_payload_table_with_a_date_becomes_json_text(tmp_path: Path, name: str, text: str) -> None:
    # TOML and YAML read dates as date objects, which JSON has no form for: written as ISO 8601 text.
    path = tmp_path / name
    path.write_text(text)
    (schedule,) = read_schedule_files([path])
    assert "2026-01-02" in json.loads(schedule.payload)["at"]


@pytest.mark.parametrize(
    ("file_name", "text", "shown"),
    [
        (
            "pushfn.toml",
            '[schedules."morning\\nFAKE LINE"]\nexpression = "rate(1 hour)"\npayload = "{}"\n',
            "morning\\nFAKE LINE",
        ),
        ("pushfn.toml", '[schedules."with space"]\nexpression = "rate(1 hour)"\npayload = "{}"\n', "with space"),
        ("pushfn.toml", '[schedules."' + "a" * 65 + '"]\nexpression = "rate(1 hour)"\npayload = "{}"\n', "a" * 65),
        ("pushfn.toml", '[schedules.""]\nexpression = "rate(1 hour)"\npayload = "{}"\n', "''"),
        (
            "template.yaml",
            "Resources:\n  S:\n    Type: AWS::Scheduler::Schedule\n    Properties:\n"
            '      Name: "bad/name"\n      ScheduleExpression: rate(1 hour)\n'
            "      FlexibleTimeWindow: {Mode: 'OFF'}\n      Target: {Arn: x, RoleArn: y}\n",
            "bad/name",
        ),
    ],
)
def test_a_schedule_name_outside_the_platforms_rule_is_refused(
    tmp_path: Path, file_name: str, text: str, shown: str
) -> None:
    # A newline in a name went into the banner and every log line of its ticks.
    path = tmp_path / file_name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError) as caught:
        read_schedule_files([path])
    message = str(caught.value)
    assert file_name in message and "1 to 64 letters, digits, '-', '_' or '.'" in message
    assert shown in message and "\n" not in message


@pytest.mark.parametrize("name", ["morning", "a", "Daily-digest_v2.1", "z" * 64])
def test_names_inside_the_rule_are_taken(tmp_path: Path, name: str) -> None:
    path = tmp_path / "pushfn.toml"
    path.write_text(f'[schedules."{name}"]\nexpression = "rate(1 hour)"\npayload = "{{}}"\n', encoding="utf-8")
    assert [s.name for s in read_schedule_files([path])] == [name]
