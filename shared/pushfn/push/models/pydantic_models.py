"""The pydantic request models, built from the field table: the explainer of every refusal.

Each :class:`~pushfn.push.models.fields.RequestSpec` becomes one model class, on first use (building a
model's schema dominates a cold start, and a function that only pushes never builds the device
models). Each field is ``Annotated[<python type>, <parser>, <value rules>...]`` where the parser and
the rules are the very functions of :mod:`~pushfn.push.models.rules`, wrapped so that a
:class:`~pushfn.push.models.rules.RuleError` becomes a ``PydanticCustomError`` whose type is the rule
id. The models make the HTTP API's OpenAPI schemas and every error message; pydantic's
``ValidationError`` is translated here, at the edge, by :func:`pushfn.problems.problems_from_validation`
(``PushTask.1.Title``, rule ids such as ``required`` / ``max_items`` / ``enum``), so callers only ever
see :class:`~pushfn.push.errors.InvalidRequestError`.

Input names may be the API names (``iOSBadge``) or snake_case (``ios_badge``); anything else fails
with a "did you mean" hint.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pushfn.errors import FieldProblem
from pushfn.problems import PROBLEMS_ERROR, did_you_mean, printable, problems_from_validation
from pushfn.push.errors import InvalidRequestError
from pushfn.push.models.fields import PUSH_TASK, REQUESTS, TEXT, FieldSpec, Kind, RequestSpec
from pushfn.push.models.rules import RuleError
from pushfn.push.models.wire import api_name


def _pydantic_error(exc: RuleError) -> PydanticCustomError:
    if exc.at:
        # A path inside the field is appended to the field's own name (AndroidExtParameters.key).
        return _problems_error([FieldProblem(exc.at, exc.rule, exc.message)])
    # No ctx: pydantic then leaves the message untouched, braces included.
    return PydanticCustomError(exc.rule, exc.message)


def _problems_error(problems: list[FieldProblem]) -> PydanticCustomError:
    """Several problems at once, each keeping its own field name (unpacked by the error translation)."""
    return PydanticCustomError(
        PROBLEMS_ERROR, "{count} rule(s) broken", {"count": len(problems), "problems": tuple(problems)}
    )


def _before(parse: Any) -> BeforeValidator:
    def validate(value: Any) -> Any:
        try:
            return parse(value)
        except RuleError as exc:
            raise _pydantic_error(exc) from None

    return BeforeValidator(validate)


def _after(check: Any) -> AfterValidator:
    def validate(value: Any) -> Any:
        try:
            check(value)
        except RuleError as exc:
            raise _pydantic_error(exc) from None
        return value

    return AfterValidator(validate)


def _target_value_before(parse: Any) -> BeforeValidator:
    def validate(value: Any, info: ValidationInfo) -> Any:
        try:
            return parse(value, info.data.get("target"))
        except RuleError as exc:
            raise _pydantic_error(exc) from None

    return BeforeValidator(validate)


_PYTHON_TYPES: dict[str, Any] = {
    "text": str,
    "token": str,
    "int": int,
    "float": float,
    "bool": bool,
    "time": datetime,
    "json_map": dict[str, Any],
    "str_map": dict[str, str],
    "json_array": list[str],
    "json_text": Any,
    "target_value": str,
}
#: Kinds whose Python value is not already its wire form: dumped (``model_dump``) as the wire string.
_SERIALISED = frozenset({"time", "json_map", "str_map", "json_array", "json_text", "comma_list"})


@functools.cache
def _kind_type(kind: Kind) -> Any:
    """The annotation of one kind: its Python type, its parser, its own checks, its serialiser."""
    if kind.name == "enum":
        return Literal[kind.choices]
    if kind.name == "tasks":
        return list[model_class(kind.tasks.name)]  # type: ignore[union-attr,misc]
    if kind.name == "comma_list":
        base: Any = list[_kind_type(TEXT)]
    else:
        base = _PYTHON_TYPES[kind.name]
    parse = _target_value_before(kind.parse) if kind.name == "target_value" else _before(kind.parse)
    metadata: list[Any] = [parse, *(_after(check) for check in kind.checks)]
    if kind.name in _SERIALISED:
        metadata.append(PlainSerializer(kind.wire, return_type=str))
    return Annotated[(base, *metadata)]  # type: ignore[return-value]


def _annotation(field: FieldSpec) -> Any:
    annotation = _kind_type(field.kind)
    if field.checks:
        annotation = Annotated[(annotation, *(_after(check) for check in field.checks))]
    return annotation if field.required else annotation | None


def reference_time(info: ValidationInfo) -> datetime:
    """The ``now`` that time rules compare against (validation context, else the clock)."""
    context = info.context if isinstance(info.context, Mapping) else {}
    now = context.get("now")
    return now.astimezone(timezone.utc) if isinstance(now, datetime) else datetime.now(timezone.utc)


class WireModel(BaseModel):
    """A set of CloudPush parameters (a whole request, or one ``MassPush`` task), built from ``spec``."""

    model_config = ConfigDict(alias_generator=api_name, extra="forbid", frozen=True)

    #: The table entry this model was built from.
    spec: ClassVar[RequestSpec]
    #: Extra input spellings accepted for a parameter, beyond its API and snake_case names.
    input_synonyms: ClassVar[Mapping[str, str]] = {}

    def __init__(self, /, **data: Any) -> None:
        # Direct construction fails like parse_request does: with InvalidRequestError.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            # Not chained: the pydantic error holds the raw input, which may be too deep to print.
            raise invalid_request_error(exc, type(self)) from None

    # Tell pydantic this is still its own __init__ (as RootModel does): otherwise model_validate
    # would route through it and lose the validation context that carries `now`.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def api_names(cls) -> tuple[str, ...]:
        """Every parameter's API name (``iOSBadge``), in declaration order."""
        return tuple(field.api for field in cls.spec.fields)

    @model_validator(mode="before")
    @classmethod
    def _accept_both_spellings(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        names = cls.spec.input_names
        renamed: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        for key, value in data.items():
            # Unknown names pass through so that pydantic reports them (extra="forbid") together
            # with every other problem; the error translation adds the "did you mean" hint.
            api = names.get(key, key) if isinstance(key, str) else str(key)
            if not api.isprintable():
                # An unknown name holding a lone surrogate or a control character is reported with
                # the others, escaped: pydantic itself would refuse it as the whole "(request)".
                api = printable(api)
            if api in renamed:
                problems.append(FieldProblem(api, "duplicate_field", "is given twice (under two spellings)"))
            renamed[api] = value
        if problems:
            raise _problems_error(problems)
        return renamed

    @model_validator(mode="after")
    def _check_rules(self, info: ValidationInfo) -> WireModel:
        problems = self.rule_problems(reference_time(info))
        if problems:
            raise _problems_error(problems)
        return self

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        """Every broken request rule of the table (``spec.rules``) at ``now`` (an aware datetime)."""
        if not self.spec.rules:
            return []
        values, wire = vars(self), self.wire_params()
        return [problem for rule in self.spec.rules for problem in rule(values, wire, now)]

    def wire_params(self) -> dict[str, str]:
        """Every set parameter as ``{API name: wire string}``, in table order (MassPush tasks excepted:
        see :meth:`ApiRequest.to_form`)."""
        values = vars(self)
        return {
            field.api: field.kind.wire(values[field.name])
            for field in self.spec.fields
            if field.kind.wire is not None and values[field.name] is not None
        }


class ApiRequest(WireModel):
    """One CloudPush 2016-08-01 action's request parameters."""

    action: ClassVar[str]

    def to_query(self) -> dict[str, str]:
        """Parameters sent in the URL query string (all of them, except MassPush tasks)."""
        return self.wire_params()

    def to_form(self) -> dict[str, str]:
        """Parameters sent in the form body: MassPush's ``PushTask.N.Name`` (N from 1); empty otherwise."""
        tasks = getattr(self, "push_task", None)
        if not tasks:
            return {}
        return {
            f"PushTask.{number}.{name}": value
            for number, task in enumerate(tasks, 1)
            for name, value in task.wire_params().items()
        }


@functools.cache
def model_class(name: str) -> type[WireModel]:
    """The model of the table entry ``name`` (an action, or ``PushTask``), built on first use."""
    spec = PUSH_TASK if name == PUSH_TASK.name else REQUESTS[name]
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": spec.name,
        "__doc__": spec.doc,
        "spec": spec,
        "input_synonyms": spec.synonyms,
        "__annotations__": annotations,
    }
    base: type[WireModel] = WireModel
    if spec.action is not None:
        base = ApiRequest
        namespace["action"] = spec.action
    for field in spec.fields:
        annotations[field.name] = _annotation(field)
        if not field.required:
            namespace[field.name] = None
    return type(base)(spec.name, (base,), namespace)


def request_types() -> dict[str, type[ApiRequest]]:
    """Every supported action and its model (builds them all)."""
    return {action: model_class(action) for action in REQUESTS}  # type: ignore[misc]


def invalid_request_error(exc: Any, model: Any = None) -> InvalidRequestError:
    """All of ``exc``'s errors (a pydantic ``ValidationError``) as one InvalidRequestError; ``model``
    is the class validated (its ``action`` names the request, its fields feed "did you mean")."""
    return InvalidRequestError(problems_from_validation(exc, model, api=True), getattr(model, "action", None))


def unknown_action(action: Any) -> InvalidRequestError:
    """The error for an action that is not in the table (rule ``unknown_action``, with a hint)."""
    named = action if isinstance(action, str) else ""
    hint = did_you_mean(named, REQUESTS) if named else None
    shown = ascii(named[:64]) if named else f"of type {type(action).__name__}"
    message = f"unknown or unsupported action {shown}" + (f"; did you mean {hint!r}?" if hint else "")
    return InvalidRequestError(
        [FieldProblem("Action", "unknown_action", message)],
        named if named.isprintable() and len(named) <= 64 else None,
    )


def parse_request(
    action: str,
    data: Mapping[str, Any] | ApiRequest,
    *,
    app_key: int | None = None,
    now: datetime | None = None,
) -> ApiRequest:
    """Validate ``data`` as the parameters of ``action`` into its model.

    ``app_key`` fills ``AppKey`` when the data has none. ``now`` is the reference time of the
    PushTime/ExpireTime rules (default: the current time). Raises :class:`InvalidRequestError`
    listing every problem, each naming the API field (``Title``, ``PushTask.3.Title``).
    """
    if not isinstance(action, str) or action not in REQUESTS:
        raise unknown_action(action)
    model: Any = model_class(action)
    if isinstance(data, ApiRequest):
        if not isinstance(data, model):
            message = f"a {type(data).__name__} request cannot be sent as {action}"
            raise InvalidRequestError([FieldProblem("Action", "mismatch", message)], action)
        # Re-validate from the wire form: applies app_key and the time rules against `now`.
        data = data.model_dump(by_alias=True, exclude_none=True)
    if not isinstance(data, Mapping):
        message = f"parameters must be a mapping; got {type(data).__name__}"
        raise InvalidRequestError([FieldProblem("(request)", "type", message)], action)

    params = dict(data)
    if app_key is not None and "AppKey" not in params and "app_key" not in params:
        params["AppKey"] = app_key
    problems: list[FieldProblem] = []
    if params.get("AppKey", params.get("app_key")) is None:
        problems.append(FieldProblem("AppKey", "required", "is required (pass it, or configure the client's app key)"))
        params.pop("AppKey", None)
        params.pop("app_key", None)
    context = {"now": now if now is not None else datetime.now(timezone.utc)}
    try:
        request = model.model_validate(params, context=context)
    except ValidationError as exc:
        # Not chained: the pydantic error holds the raw input, which may be too deep to print.
        raise InvalidRequestError(problems + invalid_request_error(exc, model).problems, action) from None
    if problems:
        raise InvalidRequestError(problems, action)
    return request
