"""Timer adapter: FC timer triggers and AWS EventBridge schedules → one :class:`ScheduledInvocation`;
the tick's outcome → the platform's answer (:func:`platform_reply`).

Three event shapes arrive at the scheduled function:

- **FC timer** — ``{"triggerTime": "2023-12-26T07:49:00Z", "triggerName": "...", "payload": "..."}``
  (bytes on FC). ``payload`` is always a string: a JSON spec arrives double-encoded.
- **EventBridge rule** — ``{"detail-type": "Scheduled Event", "source": "aws.events", "time": ...,
  "resources": ["arn:aws:events:...:rule/<name>"], "detail": {}}``. A rule's envelope has no room for
  a spec, so it is looked up by rule name in the schedules table the caller passes (the value of
  :data:`SCHEDULES_ENV`, loaded by :mod:`pushfn.specs.tables`; a non-empty ``detail`` is used
  as the spec, which lets ``PutEvents`` drive the function too).
- **EventBridge Scheduler** — no envelope: the schedule's ``Input`` verbatim. Write it with the
  context attributes, e.g. ``{"schedule_arn": "<aws.scheduler.schedule-arn>", "scheduled_time":
  "<aws.scheduler.scheduled-time>", "spec": {...}}``. The name is the last part of ``schedule_arn``,
  else ``schedule``, else ``job``; the spec is ``spec`` or ``payload`` (a string is decoded as JSON),
  else looked up by name in the schedules table. ``execution_id`` changes per attempt, so it is
  never part of the key.

The scheduled time (not the arrival time) names the run, so a redelivered or late tick is the same
run. Anything unusable raises :class:`~pushfn.push.errors.InvalidRequestError`: a retry cannot fix it.

Every JSON document here — the event bytes, a string ``payload``/``spec``, the schedules table —
is decoded by :func:`pushfn.json_input.decode_json`, and an event that arrives already decoded (a
Lambda dict) is checked by :func:`~pushfn.json_input.check_json_value`: a BOM, nesting deeper than
32, a 5,000-digit number or a lone surrogate is refused with its rule, never an ``OverflowError`` or
``RecursionError``. Only an unusable schedules table raises
:class:`~pushfn.push.errors.ConfigurationError` (the operator's mistake, not the tick's).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pushfn.errors import FieldProblem
from pushfn.json_input import JsonInputError, check_json_value, decode_json
from pushfn.push.errors import InvalidRequestError
from pushfn.specs.relative_time import parse_instant

# The setting's name, for messages; the table itself is configuration, loaded by pushfn.specs.tables.
from pushfn.specs.tables import SCHEDULES_ENV as SCHEDULES_ENV
from pushfn.triggers import RetryLaterError

#: ``{schedule or rule name: push spec}``, or a zero-argument loader of it.
Schedules = Mapping[str, Any] | Callable[[], Mapping[str, Any]]

FC_TIMER = "fc_timer"
EVENTBRIDGE_RULE = "eventbridge_rule"
EVENTBRIDGE_SCHEDULER = "eventbridge_scheduler"

#: Marks a spec that is absent, as opposed to a ``null`` one.
_MISSING: Any = object()


class InvalidTickError(InvalidRequestError):
    """An unusable tick; ``trigger_name`` and ``scheduled_time`` are set when they were read before
    the problem was found (an unusable payload of a known schedule), for the report."""

    trigger_name: str | None = None
    scheduled_time: datetime | None = None


@dataclass(frozen=True)
class ScheduledInvocation:
    """One tick: which schedule, for which instant, with which (decoded, not yet validated) spec."""

    trigger_name: str
    scheduled_time: datetime
    payload: Any
    source: str


def parse_timer_event(event: object, *, schedules: Schedules | None = None) -> ScheduledInvocation:
    """Recognise the event shape and normalise it; raise :class:`InvalidRequestError` if unusable.

    ``schedules`` is the ``{name: spec}`` table of :data:`SCHEDULES_ENV`, or a zero-argument loader
    of it (:func:`pushfn.specs.tables.load_schedules`), asked only when the event carries no spec, so
    a broken table never blocks ticks that carry their own; ``None`` means no table. A loader's
    :class:`~pushfn.push.errors.ConfigurationError` passes through.
    """
    data = _as_json(event)
    if not isinstance(data, dict):
        raise _invalid("event", "shape", "a timer event must be a JSON object")
    if "triggerTime" in data and "triggerName" in data:
        return _fc_timer(data)
    if data.get("detail-type") == "Scheduled Event":
        return _eventbridge_rule(data, schedules)
    if "scheduled_time" in data:
        return _scheduler_input(data, schedules)
    raise _invalid(
        "event",
        "shape",
        "not an FC timer event (triggerTime/triggerName), an EventBridge 'Scheduled Event', or a "
        "Scheduler input with scheduled_time",
    )


# --- shapes ------------------------------------------------------------------------------------


def _fc_timer(data: Mapping[str, Any]) -> ScheduledInvocation:
    name = _name(data.get("triggerName"), "triggerName")
    when = _instant(data.get("triggerTime"), "triggerTime")
    payload = data.get("payload")
    with _naming(name, when):
        spec = _decode_payload(payload, "payload") if isinstance(payload, str) else payload
    return ScheduledInvocation(name, when, spec, FC_TIMER)


def _eventbridge_rule(data: Mapping[str, Any], schedules: Schedules | None) -> ScheduledInvocation:
    resources = data.get("resources")
    arn = resources[0] if isinstance(resources, list) and resources else None
    name = _name(_last_part(arn) if isinstance(arn, str) else None, "resources[0]")
    when = _instant(data.get("time"), "time")
    detail = data.get("detail")
    with _naming(name, when):
        spec = detail if detail else _configured_spec(name, schedules)
    return ScheduledInvocation(name, when, spec, EVENTBRIDGE_RULE)


def _scheduler_input(data: Mapping[str, Any], schedules: Schedules | None) -> ScheduledInvocation:
    raw_name = next(
        (data[k] for k in ("schedule_arn", "schedule", "job") if isinstance(data.get(k), str) and data[k]),
        None,
    )
    name = _name(_last_part(raw_name) if raw_name else None, "schedule_arn")
    when = _instant(data.get("scheduled_time"), "scheduled_time")
    with _naming(name, when):
        for key in ("spec", "payload"):
            if key in data:
                value = data[key]
                spec = _decode_payload(value, key) if isinstance(value, str) else value
                break
        else:
            spec = _configured_spec(name, schedules)
    return ScheduledInvocation(name, when, spec, EVENTBRIDGE_SCHEDULER)


# --- helpers -----------------------------------------------------------------------------------


def _as_json(event: object) -> object:
    try:
        if isinstance(event, (bytes, bytearray, memoryview, str)):
            return decode_json(event)
        return check_json_value(event)
    except JsonInputError as exc:
        field = f"event.{exc.path}" if exc.path else "event"
        raise _invalid(field, exc.rule, f"the timer event is not usable JSON: {exc.detail[:200]}") from None


def _decode_payload(text: str, field: str) -> Any:
    """FC delivers the configured payload as a string; a spec is JSON inside it."""
    if not text.strip():
        raise _invalid(field, "missing", "the payload is empty; configure a JSON push spec")
    try:
        return decode_json(text)
    except JsonInputError as exc:
        where = f"{field}.{exc.path}" if exc.path else field
        raise _invalid(where, exc.rule, f"the payload is not usable JSON: {exc.detail[:200]}") from None


def _configured_spec(name: str, schedules: Schedules | None) -> Any:
    table = (schedules() if callable(schedules) else schedules) or {}
    if name not in table:
        raise _invalid("spec", "missing", f"the event carries no push spec and {SCHEDULES_ENV} has none for {name!r}")
    return table[name]


def _name(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(field, "missing", "cannot tell which schedule fired")
    return value.strip()


def _instant(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise _invalid(field, "missing", "the scheduled time is missing")
    try:
        return parse_instant(value)
    except ValueError:
        from pushfn.masking import shorten

        shown = shorten(value.encode("utf-8", "backslashreplace").decode("utf-8"), 40)
        raise _invalid(field, "format", f"not an ISO-8601 time: {shown!r}") from None


def _last_part(arn: str) -> str:
    """``arn:aws:events:…:rule/nightly`` → ``nightly``; ``arn:aws:scheduler:…:schedule/grp/name`` →
    ``grp/name`` (names are unique only within a group or event bus). A plain name stays as it is."""
    if not arn.startswith("arn:") or arn.count(":") < 5:
        return arn
    resource = arn.split(":", 5)[5]
    return resource.split("/", 1)[1] if "/" in resource else resource


def _invalid(field: str, rule: str, message: str) -> InvalidTickError:
    return InvalidTickError([FieldProblem(field, rule, message)], "Push")


@contextlib.contextmanager
def _naming(name: str, when: datetime) -> Iterator[None]:
    """Label an :class:`InvalidTickError` raised inside with the tick it belongs to."""
    try:
        yield
    except InvalidTickError as exc:
        exc.trigger_name, exc.scheduled_time = name, when
        raise


# --- reply -------------------------------------------------------------------------------------


class TickVerdict(Protocol):
    """What the reply needs of one handled tick; :class:`pushfn.jobs.scheduled.TickOutcome` is one.

    ``summary`` is the answer when nothing is left to retry; a non-empty ``retry_reasons`` (short,
    log-safe) means the tick must run again, because of ``cause``. ``key`` names the tick.
    """

    @property
    def summary(self) -> Mapping[str, Any]:
        """The tick's report, returned to the platform when nothing is left to retry (JSON values)."""
        ...

    @property
    def key(self) -> str | None:
        """The tick's idempotency key, or None when the event could not be read."""
        ...

    @property
    def retry_reasons(self) -> Sequence[str]:
        """Short, log-safe reasons the tick must run again; empty when it need not."""
        ...

    @property
    def cause(self) -> BaseException | None:
        """The exception behind the retry, chained to the :class:`RetryLaterError`; None otherwise."""
        ...


def platform_reply(outcome: TickVerdict) -> dict[str, Any]:
    """The platform's answer to one tick: its summary, or a raise when the tick must run again.

    No timer platform reads a handler's return value, and none has a partial reply: FC timer
    triggers, EventBridge rules and EventBridge Scheduler try an invocation again only when it
    fails, within their own retry policies. So a tick to retry raises :class:`RetryLaterError`
    (``"tick <key> will be retried: <reasons>"``, chained from ``outcome.cause``); the retry replays
    the pushes already sent from the idempotency store. Otherwise the summary is returned as a dict.
    """
    if outcome.retry_reasons:
        raise RetryLaterError(f"tick {outcome.key}", outcome.retry_reasons) from outcome.cause
    return dict(outcome.summary)
