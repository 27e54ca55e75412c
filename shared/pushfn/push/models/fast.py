"""The fast checker: accept a request and build its wire parameters without loading pydantic.

:func:`check_request` walks the field table of :mod:`~pushfn.push.models.fields` with the rule
functions of :mod:`~pushfn.push.models.rules` — the same definitions the pydantic models are built
from — and returns a :class:`ValidRequest`. It only ever *accepts*: whenever a value is refused, or is
of a type it does not handle itself (a ``str`` subclass, a model, a ``set``…), it hands the request to
:func:`~pushfn.push.models.pydantic_models.parse_request`, which raises the exact, complete
:class:`~pushfn.push.errors.InvalidRequestError` (or accepts it, and the result is taken from the
model). ``tests/push/test_models_fast.py`` proves on generated requests, at and around every limit,
that both accept the same requests with the same wire parameters.

Validate once: a :class:`ValidRequest` handed to the client again is not re-validated; only the time
rules (:func:`~pushfn.push.models.rules.schedule`), which depend on when it is sent, are checked again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from pushfn.errors import FieldProblem
from pushfn.push.errors import InvalidRequestError
from pushfn.push.models.fields import MASS_PUSH, REQUESTS
from pushfn.push.models.rules import parse_text, schedule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pushfn.push.models.fields import RequestSpec

#: The only input types the fast checker reads; anything else (subclasses included) goes to pydantic.
_PLAIN = frozenset({str, int, float, bool, dict, list, tuple, bytes, bytearray, datetime, type(None)})
#: What the time rules read of one push.
_SCHEDULE_FIELDS = ("push_time", "expire_time", "target")


class ValidRequest:
    """An accepted request, ready to sign: ``action``, its URL ``query`` and form-body ``form``
    parameters (``{API name: wire string}``), and what the send-time checks need (PushTime, ExpireTime
    and Target of the push, or of each MassPush task). Immutable by convention; build with
    :func:`check_request`."""

    __slots__ = ("_schedules", "action", "form", "query")

    def __init__(
        self,
        action: str,
        query: dict[str, str],
        form: dict[str, str],
        schedules: tuple[tuple[str, dict[str, Any]], ...],
    ) -> None:
        self.action = action
        self.query = query
        self.form = form
        self._schedules = schedules

    @classmethod
    def from_model(cls, model: Any) -> ValidRequest:
        """The accepted request a validated pydantic model stands for."""
        tasks = getattr(model, "push_task", None)
        pushes = [(f"PushTask.{n}.", task) for n, task in enumerate(tasks, 1)] if tasks else [("", model)]
        schedules = tuple(
            (prefix, {name: getattr(push, name, None) for name in _SCHEDULE_FIELDS}) for prefix, push in pushes
        )
        return cls(model.action, model.to_query(), model.to_form(), schedules)

    def to_query(self) -> dict[str, str]:
        """The URL query parameters (a copy)."""
        return dict(self.query)

    def to_form(self) -> dict[str, str]:
        """The form-body parameters (a copy; only MassPush has any)."""
        return dict(self.form)

    @property
    def push_time(self) -> datetime | None:
        """A Push's PushTime (aware UTC), or None (unset, or not a Push)."""
        return self._schedules[0][1].get("push_time") if self.action == "Push" else None

    def without_push_time(self) -> ValidRequest:
        """The same Push sent now: PushTime dropped (ExpireTime is then checked against the send time)."""
        query = {name: value for name, value in self.query.items() if name != "PushTime"}
        schedules = tuple((prefix, {**values, "push_time": None}) for prefix, values in self._schedules)
        return ValidRequest(self.action, query, dict(self.form), schedules)

    def time_problems(self, now: datetime) -> list[FieldProblem]:
        """The problems of the time rules at ``now`` (an aware datetime), named as validation names them."""
        return [
            FieldProblem(prefix + problem.field, problem.rule, problem.message)
            for prefix, values in self._schedules
            for problem in schedule(values, {}, now)
        ]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValidRequest):
            return NotImplemented
        return (self.action, self.query, self.form) == (other.action, other.query, other.form)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ValidRequest({self.action!r}, {len(self.query)} query and {len(self.form)} form parameters)"


def check_request(
    action: str,
    data: Mapping[str, Any] | Any,
    *,
    app_key: int | None = None,
    now: datetime | None = None,
) -> ValidRequest:
    """Validate ``data`` as the parameters of ``action``; pydantic is loaded only to explain a refusal.

    ``data``: a mapping of API or snake_case names, a :class:`ValidRequest` (only its time rules are
    checked again, at ``now``) or a pydantic request model. ``app_key`` fills ``AppKey`` when absent;
    ``now`` (aware; default: the clock) is the reference of the PushTime/ExpireTime rules. Raises
    :class:`InvalidRequestError` exactly as :func:`~pushfn.push.models.pydantic_models.parse_request`.
    """
    now = now.astimezone(timezone.utc) if isinstance(now, datetime) else datetime.now(timezone.utc)
    if isinstance(data, ValidRequest):
        if data.action != action:
            message = f"a {data.action} request cannot be sent as {action}"
            raise InvalidRequestError([FieldProblem("Action", "mismatch", message)], action)
        problems = data.time_problems(now)
        if problems:
            raise InvalidRequestError(problems, action)
        return data
    spec = REQUESTS.get(action) if isinstance(action, str) else None
    if type(data) is not dict and isinstance(data, Mapping):
        data = dict(data)
    if spec is not None and type(data) is dict:
        accepted = _accept_request(spec, data, app_key, now)
        if accepted is not None:
            return accepted
    from pushfn.push.models.pydantic_models import parse_request

    return ValidRequest.from_model(parse_request(action, data, app_key=app_key, now=now))


def _accept_request(spec: RequestSpec, data: dict[str, Any], app_key: int | None, now: datetime) -> ValidRequest | None:
    if app_key is not None and "AppKey" not in data and "app_key" not in data:
        data = {**data, "AppKey": app_key}
    accepted = _accept(spec, data, now)
    if accepted is None or accepted[0].get("app_key") is None:
        return None
    values, query = accepted
    if spec is not MASS_PUSH:
        return ValidRequest(
            spec.action or "", query, {}, (("", {name: values.get(name) for name in _SCHEDULE_FIELDS}),)
        )
    form: dict[str, str] = {}
    schedules = []
    for number, (task_values, task_wire) in enumerate(values["push_task"], 1):
        prefix = f"PushTask.{number}."
        for name, value in task_wire.items():
            form[prefix + name] = value
        schedules.append((prefix, {name: task_values.get(name) for name in _SCHEDULE_FIELDS}))
    return ValidRequest(spec.action or "", query, form, tuple(schedules))


def _accept(spec: RequestSpec, data: dict[str, Any], now: datetime) -> tuple[dict[str, Any], dict[str, str]] | None:
    """``(values by snake_case name, wire parameters)`` when every field and rule accepts ``data``, else None."""
    names, by_api, order = spec.input_names, spec.by_api, spec.order
    given: dict[str, Any] = {}
    for key, raw in data.items():
        api = names.get(key) if type(key) is str else None
        if api is None or api in given or type(raw) not in _PLAIN:
            return None  # unknown, given twice or unusual: pydantic explains (or accepts) it
        given[api] = raw
    if not spec.required.issubset(given):
        return None
    values: dict[str, Any] = {}
    wire: dict[str, str] = {}
    try:
        # In table order: the wire order, and Target parsed before TargetValue (which reads it).
        for api in sorted(given, key=order.__getitem__):
            raw = given[api]
            field = by_api[api]
            if raw is None:
                if field.required:
                    return None
                continue
            kind = field.kind
            name = kind.name
            if name == "enum":
                if type(raw) is not str or raw not in kind.choices:
                    return None
                value: Any = raw
            elif name == "tasks":
                if type(raw) is not list and type(raw) is not tuple:  # as pydantic's list[PushTask] takes
                    return None
                value = []
                for task in raw:
                    if type(task) is not dict:
                        return None
                    accepted = _accept(kind.tasks, task, now)  # type: ignore[arg-type]
                    if accepted is None:
                        return None
                    value.append(accepted)
            elif name == "comma_list":
                value = kind.parse(raw)  # type: ignore[misc]
                if type(value) is not list:
                    return None
                for item in value:
                    if type(item) is not str:
                        return None
                    parse_text(item)
            elif name == "target_value":
                value = kind.parse(raw, values.get("target"))  # type: ignore[misc]
            else:
                value = kind.parse(raw)  # type: ignore[misc]
            for check in kind.checks:
                check(value)
            for check in field.checks:
                check(value)
            values[field.name] = value
            if kind.wire is not None:
                wire[api] = kind.wire(value)
        for rule in spec.rules:
            if rule(values, wire, now):
                return None
    except Exception:  # whatever a value makes a rule raise, pydantic reports it exactly
        return None
    return values, wire
