"""Timer schedules for ``pushfn serve``: expressions of both clouds, and where they are declared.

Expressions (parsed by :func:`parse_expression`; cron fields by ``croniter``):

- AWS (EventBridge rules and Scheduler): ``rate(5 minutes)`` (``minute(s)``, ``hour(s)``, ``day(s)``),
  ``cron(Minutes Hours Day-of-month Month Day-of-week Year)`` — six fields, one of the two day fields
  ``?``, day-of-week ``1``–``7`` = Sunday–Saturday (or ``SUN``–``SAT``), ``L``, ``W`` and ``#`` as
  documented; ``at(yyyy-mm-ddThh:mm:ss)`` one-time schedules fire once.
  Source: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
- Function Compute timer triggers: ``@every 5m`` (``h``/``m``/``s`` units, combined like ``1h30m``) or
  six fields with seconds first, ``Seconds Minutes Hours Day-of-month Month Day-of-week``, optionally
  prefixed ``CRON_TZ=Area/City``. Source: https://alibabacloud.com/help/en/functioncompute/api-fc-2023-03-30-struct-timertriggerconfig
- A plain five-field Unix cron line (``pushfn.toml`` only, for convenience).

Times are UTC unless the expression names a zone (``CRON_TZ=``, SAM ``ScheduleExpressionTimezone``). On a
zone's clock a wall time that the spring-forward skips does not fire and one the fall-back repeats fires
once, as EventBridge Scheduler documents (applied to ``CRON_TZ=`` alike). A cron no date matches
(``cron(0 0 31 2 ? *)``, ``0 0 31 2 *``) is refused, and so is any character beyond ASCII (a Unicode space
between fields, a fullwidth digit: neither cloud reads them); one whose last year has passed has no next
firing. Intervals are at most 100 years.

Declarations (:func:`read_schedule_files`), each schedule firing the timer function with the event its
platform would send (:meth:`Schedule.event`):

- SAM ``template.yaml``: ``Schedule`` (an EventBridge rule: the ``Input`` verbatim, else the
  ``Scheduled Event`` envelope) and ``ScheduleV2`` events (Scheduler: the ``Input`` verbatim, with the
  ``<aws.scheduler.*>`` context attributes filled in) of any function, and ``AWS::Scheduler::Schedule``
  resources (``Target.Input``);
- Serverless Devs ``s.yaml`` (FC 3.0): ``triggers`` with ``triggerType: timer``,
  ``triggerConfig.cronExpression`` and ``payload`` (an FC timer event);
- ``pushfn.toml``: ``[schedules.NAME]`` with ``expression`` and ``payload`` (an FC timer event).

Disabled schedules (``Enabled: false``, ``State: DISABLED``, ``enable: false``) are listed but never
fire on their own. A problem raises :class:`ScheduleError` naming the file, the schedule and the rule.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pushfn.api_time import format_api_time
from pushfn.errors import ConfigurationError

#: Files read when ``--config`` is not given, in this order (those that exist).
DEFAULT_FILES = ("pushfn.toml", "template.yaml", "template.yml", "s.yaml", "s.yml")

#: Largest declaration file read (CloudFormation takes templates of at most 1 MB).
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Most values a YAML document may hold once its aliases are expanded (a "billion laughs" holds 10⁹).
MAX_YAML_VALUES = 100_000

#: The names a schedule may have: EventBridge Scheduler's rule for a schedule name (``[0-9a-zA-Z-_.]+``,
#: 1 to 64 characters; EventBridge rule names and FC trigger names are no wider), so no name carries a
#: newline or a control character into the banner and the log lines. Source: the Scheduler API
#: reference, CreateSchedule ``Name``.
SCHEDULE_NAME = re.compile(r"[0-9A-Za-z._-]{1,64}")

FC_TIMER = "fc_timer"
EVENTBRIDGE_RULE = "eventbridge_rule"
EVENTBRIDGE_SCHEDULER = "eventbridge_scheduler"

# ASCII digits only: \d (and int()) also take "５" (fullwidth) or "٥", which neither cloud accepts in a schedule.
_RATE = re.compile(r"^rate\(\s*([0-9]+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.I)
_AT = re.compile(r"^at\(\s*([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})\s*\)$", re.I)
_AWS_CRON = re.compile(r"^cron\((.*)\)$", re.I | re.S)
_EVERY = re.compile(r"^@every\s+((?:[0-9]+[hms])+)$", re.I)
_EVERY_PART = re.compile(r"([0-9]+)([hms])", re.I)
_CRON_TZ = re.compile(r"^CRON_TZ=(\S+)\s+(.*)$", re.S)
#: A day-of-week number not preceded by ``#`` or ``/`` (AWS counts 1 = Sunday, croniter 0 = Sunday).
_AWS_DOW_NUMBER = re.compile(r"(?<![#/\d])([1-7])(?![\d])")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "h": 3600, "m": 60, "s": 1}
#: FC's smallest interval: ``@every`` counts at least one minute. Source: the TimerTriggerConfig page above.
_MIN_EVERY_SECONDS = 60
#: Longest interval taken: the clouds state no maximum, but a datetime ends at year 9999 and Python refuses
#: to read numbers of more than 4300 digits, so a longer one is refused by this rule rather than by a crash.
_MAX_INTERVAL_SECONDS = 100 * 365 * 86400
#: Years a cron search looks ahead: AWS cron years reach 2199, and Feb 29 on a Monday recurs within 28.
_MAX_CRON_YEARS = 200
#: Digits read from an interval's count: enough for any count within :data:`_MAX_INTERVAL_SECONDS`.
_MAX_COUNT_DIGITS = 12


class ScheduleError(ConfigurationError):
    """A schedule that cannot be used: a bad expression or declaration (the message names which)."""


@dataclass(frozen=True)
class Timing:
    """When a schedule fires: ``kind`` ``"cron"``/``"rate"``/``"at"``, with the croniter expression (and
    ``seconds_first``), the interval in seconds, or the one instant; ``zone`` an IANA name or None (UTC)."""

    kind: str
    cron: str | None = None
    seconds_first: bool = False
    interval: float | None = None
    at: datetime | None = None
    zone: str | None = None

    def next_after(self, after: datetime, *, started: datetime | None = None) -> datetime | None:
        """The first firing strictly after ``after`` (aware, UTC), or None (a past ``at``). A rate counts
        from ``started`` (default ``after``), as a schedule created then would."""
        if self.kind == "rate":
            assert self.interval is not None
            origin = started or after
            steps = int((after - origin).total_seconds() // self.interval) + 1
            return origin + timedelta(seconds=self.interval * steps)
        if self.kind == "at":
            assert self.at is not None
            return self.at if self.at > after else None
        from croniter import CroniterBadDateError, croniter

        assert self.cron is not None
        zone = _zone(self.zone) if self.zone else timezone.utc
        # Counted on the zone's wall clock, as EventBridge Scheduler documents for daylight saving time: a
        # wall time the spring-forward skips does not fire, one the fall-back repeats fires once (the first).
        wall = after.astimezone(zone).replace(tzinfo=None)
        times = croniter(
            self.cron, wall, second_at_beginning=self.seconds_first, max_years_between_matches=_MAX_CRON_YEARS
        )
        try:
            while True:
                candidate = times.get_next(datetime)
                instant = candidate.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
                if instant.astimezone(zone).replace(tzinfo=None) != candidate:
                    continue  # not on this day's clock (the hour the spring-forward skips)
                if instant > after:
                    return instant
        except CroniterBadDateError:  # no firing left (its last year has passed)
            return None


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}") from None


def parse_expression(text: str, *, zone: str | None = None) -> Timing:
    """One schedule expression of either cloud (see the module docstring) → :class:`Timing`.

    ``zone`` is the IANA zone of a cron expression (SAM ``ScheduleExpressionTimezone``). Raises
    :class:`ScheduleError` naming the rule that failed.
    """
    from croniter import croniter

    odd = next((ch for ch in str(text) if not ch.isascii()), None)
    if odd is not None:
        # str.split() parts fields on any Unicode space (U+3000, U+00A0, U+2028), so "0\u30000 * * *"
        # ran here as "0 0 * * *" while neither cloud reads it: refused like the non-ASCII digits.
        raise ScheduleError(
            f"{_shown(str(text))}: not a schedule expression: it holds U+{ord(odd):04X}; "
            "schedule expressions are ASCII on both clouds"
        )
    expression = " ".join(str(text).split())
    if not expression:
        raise ScheduleError("empty schedule expression")
    if zone is not None:
        _zone(zone)
    match = _RATE.match(expression)
    if match:
        count, unit = _count(match.group(1), expression), match.group(2).lower().rstrip("s")
        if count < 1:
            raise ScheduleError(f"{expression!r}: a rate must be at least 1 {unit}")
        if (count == 1) != (not match.group(2).lower().endswith("s")):
            # AWS: "rate(1 minute)" but "rate(5 minutes)"; the other form is refused there too.
            raise ScheduleError(f"{expression!r}: write 'rate(1 {unit})' for one, 'rate(N {unit}s)' for more")
        return Timing("rate", interval=_interval(count * _UNIT_SECONDS[unit], expression))
    match = _AT.match(expression)
    if match:
        try:
            when = datetime.fromisoformat(match.group(1))
        except ValueError:
            raise ScheduleError(f"{expression!r}: not a valid date and time") from None
        local = when.replace(tzinfo=_zone(zone)) if zone else when.replace(tzinfo=timezone.utc)
        return Timing("at", at=local.astimezone(timezone.utc), zone=zone)
    match = _EVERY.match(expression)
    if match:
        parts = _EVERY_PART.findall(match.group(1))
        seconds = sum(_count(n, expression) * _UNIT_SECONDS[u.lower()] for n, u in parts)
        if seconds < _MIN_EVERY_SECONDS:
            raise ScheduleError(f"{expression!r}: Function Compute's @every is at least 1m")
        return Timing("rate", interval=_interval(seconds, expression))
    match = _AWS_CRON.match(expression)
    if match:
        fields = match.group(1).split()
        if len(fields) != 6:
            raise ScheduleError(
                f"{expression!r}: AWS cron takes six fields (Minutes Hours Day-of-month Month Day-of-week Year)"
            )
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise ScheduleError(f"{expression!r}: exactly one of Day-of-month and Day-of-week must be '?'")
        dow = _aws_day_of_week(dow)
        cron = f"{minute} {hour} {dom} {month} {dow} 0 {year}"
        _check_cron(cron, expression, seconds_first=False)
        return Timing("cron", cron=cron, zone=zone)
    match = _CRON_TZ.match(expression)
    if match:
        zone, expression = match.group(1), match.group(2)
        _zone(zone)
    fields = expression.split()
    if len(fields) == 6:
        _check_cron(expression, expression, seconds_first=True)
        return Timing("cron", cron=expression, seconds_first=True, zone=zone)
    if len(fields) == 5 and croniter.is_valid(expression):
        _check_cron(expression, expression, seconds_first=False)  # "0 0 31 2 *" is valid and never fires
        return Timing("cron", cron=expression, zone=zone)
    raise ScheduleError(
        f"{expression!r}: not a schedule expression (rate(5 minutes), cron(0 12 * * ? *), at(…), "
        "@every 5m, 6-field FC cron with seconds first, or a 5-field cron line)"
    )


def _aws_day_of_week(field: str) -> str:
    """An AWS Day-of-week field in croniter's terms: 1–7 (Sunday first) become 0–6, ``nL`` (the last
    weekday n of the month) becomes ``Ln``, and ``L`` alone the last day of the week (Saturday)."""
    if field.upper() == "L":
        return "6"
    field = _AWS_DOW_NUMBER.sub(lambda m: str(int(m.group(1)) - 1), field)
    return re.sub(r"^([0-6])L$", r"L\1", field, flags=re.I)


def _count(digits: str, expression: str) -> int:
    """An interval's count, refused by rule when it has more digits than any usable interval."""
    digits = digits.lstrip("0") or "0"
    if len(digits) > _MAX_COUNT_DIGITS:
        raise ScheduleError(f"{_shown(expression)}: an interval is at most 100 years")
    return int(digits)


def _interval(seconds: int, expression: str) -> float:
    if seconds > _MAX_INTERVAL_SECONDS:
        raise ScheduleError(f"{_shown(expression)}: an interval is at most 100 years")
    return float(seconds)


def _shown(expression: str) -> str:
    """The expression as quoted in a message: its start only when it is long."""
    return repr(expression if len(expression) <= 80 else expression[:77] + "...")


def _check_cron(cron: str, shown: str, *, seconds_first: bool) -> None:
    """Refuse a cron croniter cannot read, or one no date matches (Feb 30: it would never fire)."""
    from croniter import CroniterBadDateError, croniter

    try:
        times = croniter(
            cron, datetime(1970, 1, 1), second_at_beginning=seconds_first, max_years_between_matches=_MAX_CRON_YEARS
        )
    except (ValueError, KeyError) as exc:  # croniter's errors subclass ValueError
        raise ScheduleError(f"{shown!r}: {exc}") from None
    try:
        times.get_next(datetime)
    except CroniterBadDateError:
        raise ScheduleError(f"{shown!r}: never fires (no date matches every field)") from None


@dataclass(frozen=True)
class Schedule:
    """One declared schedule: ``name``, its ``expression`` as written, the parsed ``timing``, the
    ``kind`` of event it sends (:data:`FC_TIMER`, :data:`EVENTBRIDGE_RULE`, :data:`EVENTBRIDGE_SCHEDULER`),
    its ``payload`` (FC: a string; AWS: the ``Input`` text, or None), ``enabled`` and ``source`` (file)."""

    name: str
    expression: str
    timing: Timing
    kind: str
    payload: str | None = None
    enabled: bool = True
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def event(self, when: datetime) -> Any:
        """The event the platform would send for the firing at ``when`` (aware): FC timer bytes, an
        EventBridge ``Scheduled Event`` envelope, or the ``Input`` (a JSON value when it parses, else text)."""
        from pushfn.triggers.events.timer import eventbridge_rule_event, fc_timer_event

        when = when.astimezone(timezone.utc).replace(microsecond=0)
        stamp = format_api_time(when)
        if self.kind == FC_TIMER:
            return fc_timer_event(
                self.payload if self.payload is not None else "", trigger_name=self.name, trigger_time=stamp
            )
        if self.kind == EVENTBRIDGE_RULE and self.payload is None:
            return eventbridge_rule_event(rule_name=self.name, time=stamp)
        text = self.payload or ""
        if self.kind == EVENTBRIDGE_SCHEDULER:
            arn = f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{self.name}"
            for attribute, value in (
                ("schedule-arn", arn),
                ("scheduled-time", stamp),
                ("execution-id", str(uuid.uuid4())),
                ("attempt-number", "1"),
            ):
                text = text.replace(f"<aws.scheduler.{attribute}>", value)
        from pushfn.json_input import JsonInputError, decode_json

        try:
            return decode_json(text.encode("utf-8", "surrogatepass"))
        except JsonInputError:  # not JSON: delivered as text, as the platform would (the handler says why)
            return text


# --- declarations ------------------------------------------------------------------------------------


def default_files(folder: Path) -> list[Path]:
    """The :data:`DEFAULT_FILES` present in ``folder``."""
    return [folder / name for name in DEFAULT_FILES if (folder / name).is_file()]


def read_schedule_files(paths: list[Path]) -> list[Schedule]:
    """Every schedule declared in ``paths`` (kind by file name: ``*.toml``; ``s.yaml``/``s.yml`` or any
    YAML with ``resources`` holding fc3 components; else SAM). Raises :class:`ScheduleError` for a file
    that cannot be read, a bad declaration, a name :data:`SCHEDULE_NAME` refuses, or a name declared twice."""
    found: dict[str, Schedule] = {}
    for path in paths:
        for schedule in _load_file(path):
            if not SCHEDULE_NAME.fullmatch(schedule.name):
                raise ScheduleError(
                    f"{path.name}: schedule name {schedule.name[:80]!r} is not allowed: use 1 to 64 letters, "
                    "digits, '-', '_' or '.' (EventBridge Scheduler's rule for schedule names)"
                )
            if schedule.name in found:
                raise ScheduleError(
                    f"schedule {schedule.name!r} is declared twice ({found[schedule.name].source} and {path.name})"
                )
            found[schedule.name] = schedule
    return list(found.values())


def _load_file(path: Path) -> list[Schedule]:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScheduleError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScheduleError(f"{path.name}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not a declaration file")
    if path.suffix.lower() == ".toml":
        return _from_toml(path, data)
    document = _yaml(path, data)
    if not isinstance(document, dict):
        raise ScheduleError(f"{path.name}: not a YAML mapping")
    if "Resources" in document or "AWSTemplateFormatVersion" in document or "Transform" in document:
        return _from_sam(path, document)
    if "resources" in document:
        return _from_fc3(path, document)
    raise ScheduleError(f"{path.name}: neither a SAM template (Resources) nor a Serverless Devs file (resources)")


def _yaml(path: Path, data: bytes) -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that reads CloudFormation's short tags (``!Ref``, ``!Sub``…) as :class:`Intrinsic`."""

    def tagged(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return Intrinsic(suffix, loader.construct_scalar(node))
        if isinstance(node, yaml.SequenceNode):
            return Intrinsic(suffix, loader.construct_sequence(node, deep=True))
        return Intrinsic(suffix, loader.construct_mapping(node, deep=True))

    Loader.add_multi_constructor("!", tagged)
    try:
        loader = Loader(data)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _check_expanded_size(path, root)
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ScheduleError(f"{path.name}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except RecursionError:  # PyYAML composes and constructs nested nodes recursively
        raise ScheduleError(f"{path.name}: nested deeper than any declaration needs") from None


def _check_expanded_size(path: Path, root: Any) -> None:
    """Refuse a node graph whose aliases expand past :data:`MAX_YAML_VALUES` values or refer to themselves,
    before anything (the loader, ``json.dumps`` of an ``Input``) walks it expanded. Linear in the nodes."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ScheduleError(f"{path.name}: an alias refers to the node that holds it (a loop)")
        open_nodes.add(key)
        children = node.value if isinstance(node.value, list) else []
        total = 1
        for child in children:
            for part in child if isinstance(child, tuple) else (child,):
                total += size(part)
                if total > MAX_YAML_VALUES:
                    raise ScheduleError(f"{path.name}: its alias expansion exceeds {MAX_YAML_VALUES} values")
        open_nodes.discard(key)
        sizes[key] = total
        return total

    import sys

    depth = sys.getrecursionlimit()
    try:
        size(root)
    except RecursionError:
        raise ScheduleError(f"{path.name}: nested deeper than {depth} levels") from None


@dataclass(frozen=True)
class Intrinsic:
    """A CloudFormation function written with a short tag (``!Sub 'x'``): ``function`` (``"Sub"``) and its
    argument. ``pushfn serve`` does not resolve them: a schedule whose fields use one is refused by name."""

    function: str
    value: Any


def _intrinsic_in(value: Any) -> str | None:
    """The first CloudFormation function in ``value`` (short tag ``!Sub``, or long form ``Ref`` /
    ``Fn::Sub``), or None."""
    if isinstance(value, Intrinsic):
        return f"!{value.function}"
    if isinstance(value, dict):
        if len(value) == 1:
            (key,) = value
            if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
                return str(key)
        return next((found for item in value.values() if (found := _intrinsic_in(item))), None)
    if isinstance(value, list):
        return next((found for item in value if (found := _intrinsic_in(item))), None)
    return None


def _resolved(path: Path, name: str, what: str, value: Any) -> Any:
    """``value`` of field ``what``, refused when it needs a CloudFormation function resolved."""
    function = _intrinsic_in(value)
    if function:
        raise ScheduleError(
            f"{path.name}: schedule {name!r}: {what} uses {function}, which pushfn serve does not resolve; "
            "write the value itself, or declare the schedule in a pushfn.toml (--config)"
        )
    return value


def _unexpanded(path: Path, name: str, what: str, value: Any) -> Any:
    """``value`` of an s.yaml field, refused when it holds a Serverless Devs variable (``${vars.x}``)."""
    if isinstance(value, str) and "${" in value:
        raise ScheduleError(
            f"{path.name}: schedule {name!r}: {what} holds a Serverless Devs variable (${{…}}), which pushfn "
            "serve does not resolve; write the value itself, or declare the schedule in a pushfn.toml (--config)"
        )
    return value


def _flag(path: Path, name: str, what: str, value: Any, default: bool = True) -> bool:
    """A boolean field (``Enabled``, ``enable``, ``enabled``): absent is ``default``, else true or false."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ScheduleError(f"{path.name}: schedule {name!r}: {what} must be true or false, not {value!r:.40}")
    return value


def _state(path: Path, name: str, value: Any) -> bool:
    """A Scheduler/rule ``State``: ENABLED (the default) or DISABLED → enabled."""
    if value is None:
        return True
    if value not in ("ENABLED", "DISABLED"):
        raise ScheduleError(f"{path.name}: schedule {name!r}: State must be ENABLED or DISABLED, not {value!r:.40}")
    return value == "ENABLED"


def _text(path: Path, name: str, value: Any) -> str | None:
    """A payload or Input as the platform passes it: text as is, anything else as JSON, held to the bounds
    of every JSON input (:mod:`pushfn.json_input`: depth, numbers, text) now, so a table holding ``nan``, a
    number past 64 bits or 40 levels of arrays is refused at the start, not by every firing."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    from pushfn.json_input import JsonInputError, decode_json

    try:
        text = json.dumps(value, ensure_ascii=False, default=_json_value, allow_nan=False)
        decode_json(text)
    except (JsonInputError, ValueError, RecursionError) as exc:
        if isinstance(exc, ScheduleError):
            raise
        where = f" at {exc.path}" if isinstance(exc, JsonInputError) and exc.path else ""
        detail = exc.detail if isinstance(exc, JsonInputError) else "a number that is not finite (nan, inf)"
        raise ScheduleError(
            f"{path.name}: schedule {name!r}: the payload is not usable JSON{where}: {detail}"
        ) from None
    return text


def _json_value(value: Any) -> Any:
    """TOML and YAML dates and times (no JSON form) as ISO 8601 text; anything else is refused."""
    from datetime import date, time

    if isinstance(value, (date, time)):
        return value.isoformat()
    raise ScheduleError(f"a payload holds a {type(value).__name__}, which has no JSON form")


def _parse(path: Path, name: str, expression: Any, zone: Any = None) -> Timing:
    if not isinstance(expression, str):
        raise ScheduleError(f"{path.name}: schedule {name!r} has no expression (a string)")
    if zone is not None and not isinstance(zone, str):
        raise ScheduleError(f"{path.name}: schedule {name!r}: the time zone must be a time zone name (text)")
    try:
        return parse_expression(expression, zone=zone)
    except ScheduleError as exc:
        raise ScheduleError(f"{path.name}: schedule {name!r}: {exc}") from None


def _from_sam(path: Path, document: dict[str, Any]) -> list[Schedule]:
    out: list[Schedule] = []
    resources = document.get("Resources") or {}
    if not isinstance(resources, dict):
        raise ScheduleError(f"{path.name}: Resources is not a mapping")
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        kind, props = resource.get("Type"), resource.get("Properties") or {}
        if kind == "AWS::Scheduler::Schedule" and isinstance(props, dict):
            name = str(_resolved(path, str(logical_id), "Name", props.get("Name")) or logical_id)
            target = props.get("Target") if isinstance(props.get("Target"), dict) else {}
            expression = _resolved(path, name, "ScheduleExpression", props.get("ScheduleExpression"))
            zone = _resolved(path, name, "ScheduleExpressionTimezone", props.get("ScheduleExpressionTimezone"))
            out.append(
                Schedule(
                    name,
                    str(expression),
                    _parse(path, name, expression, zone),
                    EVENTBRIDGE_SCHEDULER,
                    _text(path, name, _resolved(path, name, "Input", target.get("Input"))),
                    _state(path, name, _resolved(path, name, "State", props.get("State"))),
                    path.name,
                )
            )
        if kind not in ("AWS::Serverless::Function", "AWS::Lambda::Function") or not isinstance(props, dict):
            continue
        events = props.get("Events") or {}
        for event_id, event in events.items() if isinstance(events, dict) else ():
            if not isinstance(event, dict) or event.get("Type") not in ("Schedule", "ScheduleV2"):
                continue
            eprops = event.get("Properties") or {}
            if not isinstance(eprops, dict):
                raise ScheduleError(f"{path.name}: event {event_id!r}: Properties is not a mapping")
            name = str(_resolved(path, str(event_id), "Name", eprops.get("Name")) or event_id)
            fields = {key: _resolved(path, name, key, value) for key, value in eprops.items()}
            state = _state(path, name, fields.get("State"))
            if event["Type"] == "Schedule":
                expression = fields.get("Schedule")
                timing = _parse(path, name, expression)
                enabled = _flag(path, name, "Enabled", fields.get("Enabled")) and state
                kind_of_event = EVENTBRIDGE_RULE
            else:
                expression = fields.get("ScheduleExpression")
                timing = _parse(path, name, expression, fields.get("ScheduleExpressionTimezone"))
                enabled, kind_of_event = state, EVENTBRIDGE_SCHEDULER
            out.append(
                Schedule(
                    name,
                    str(expression),
                    timing,
                    kind_of_event,
                    _text(path, name, fields.get("Input")),
                    enabled,
                    path.name,
                )
            )
    return out


def _from_fc3(path: Path, document: dict[str, Any]) -> list[Schedule]:
    out: list[Schedule] = []
    resources = document.get("resources") or {}
    if not isinstance(resources, dict):
        raise ScheduleError(f"{path.name}: resources is not a mapping")
    for resource in resources.values():
        props = resource.get("props") if isinstance(resource, dict) else None
        triggers = props.get("triggers") if isinstance(props, dict) else None
        for trigger in triggers if isinstance(triggers, list) else ():
            if not isinstance(trigger, dict) or str(trigger.get("triggerType", "")).lower() != "timer":
                continue
            name = str(trigger.get("triggerName") or "timer")
            config = trigger.get("triggerConfig") if isinstance(trigger.get("triggerConfig"), dict) else {}
            expression = _unexpanded(path, name, "cronExpression", config.get("cronExpression"))
            timing = _parse(path, name, expression)
            out.append(
                Schedule(
                    name,
                    str(expression),
                    timing,
                    FC_TIMER,
                    _unexpanded(path, name, "payload", _text(path, name, config.get("payload"))),
                    _flag(path, name, "enable", config.get("enable")),
                    path.name,
                )
            )
    return out


def _from_toml(path: Path, data: bytes) -> list[Schedule]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    try:
        document = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScheduleError(f"{path.name}: not valid TOML ({exc})") from None
    except RecursionError:  # tomllib descends arrays and inline tables recursively
        raise ScheduleError(f"{path.name}: nested deeper than any declaration needs") from None
    table = document.get("schedules", {})
    if not isinstance(table, dict):
        raise ScheduleError(f"{path.name}: [schedules] must be a table of [schedules.NAME] tables")
    out = []
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise ScheduleError(f"{path.name}: schedules.{name} must be a table with 'expression' and 'payload'")
        unknown = set(entry) - {"expression", "payload", "enabled", "timezone"}
        if unknown:
            raise ScheduleError(f"{path.name}: schedules.{name}: unknown key(s) {', '.join(sorted(unknown))}")
        timing = _parse(path, name, entry.get("expression"), entry.get("timezone"))
        enabled = _flag(path, name, "enabled", entry.get("enabled"))
        payload = _text(path, name, entry.get("payload"))
        # It becomes an FC timer's payload, the tick's only push spec: without one every firing is
        # refused as invalid, so refuse it at the start rather than at the first firing.
        if not (payload or "").strip():
            raise ScheduleError(
                f"{path.name}: schedule {name!r} has no payload: give it the push spec it sends, as JSON text "
                """(payload = '{"Target": "ALIAS", "TargetValue": "demo", …}') or a TOML table"""
            )
        out.append(Schedule(name, str(entry["expression"]), timing, FC_TIMER, payload, enabled, path.name))
    return out


__all__ = [
    "DEFAULT_FILES",
    "MAX_FILE_BYTES",
    "MAX_YAML_VALUES",
    "Intrinsic",
    "Schedule",
    "ScheduleError",
    "Timing",
    "default_files",
    "parse_expression",
    "read_schedule_files",
]
