"""pydantic's ``ValidationError`` -> :class:`InvalidRequestError` naming API fields.

Translated here, at the edge of the models package, so callers never see pydantic errors.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from pushfn.push.errors import FieldProblem, InvalidRequestError
from pushfn.push.models._naming import suggest
from pushfn.push.models._rules import PROBLEMS_ERROR

# pydantic's own error types -> our rule ids (ours pass through unchanged).
_RULE_OF_TYPE = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "literal_error": "enum",
    "too_long": "max_items",
    "too_short": "min_items",
    "string_too_long": "max_length",
    "string_too_short": "not_empty",
    "greater_than": "range",
    "greater_than_equal": "range",
    "less_than": "range",
    "less_than_equal": "range",
}
_QUOTED = re.compile(r"'([^']*)'")
#: Longest field name segment and message shown; longer ones are cut (an unknown name can be 60 KB).
_MAX_SEGMENT_CHARS = 64
_MAX_MESSAGE_CHARS = 1000


def _clean(text: str, limit: int) -> str:
    """``text`` made safe to put in a problem: printable (escaped otherwise), UTF-8 encodable, short.

    Names of unknown parameters come straight from the caller and may hold a lone surrogate or a
    NUL; problems are written to HTTP answers and logs, so they must never carry one on.
    """
    if len(text) > limit:
        text = text[:limit] + "…"
    return printable(text)


def printable(text: str) -> str:
    """``text`` with every unprintable character (control, lone surrogate…) escaped as ``\\uXXXX``."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def field_path(loc: tuple[Any, ...]) -> str:
    """``('PushTask', 2, 'Title')`` -> ``PushTask.3.Title`` (1-based, as on the wire)."""
    return ".".join(str(part + 1) if isinstance(part, int) else _clean(str(part), _MAX_SEGMENT_CHARS) for part in loc)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


def _enum_message(error: dict[str, Any]) -> str:
    expected = error.get("ctx", {}).get("expected", "")
    message = f"must be one of {expected}"
    given = error.get("input")
    if isinstance(given, str):
        for allowed in _QUOTED.findall(expected):
            if allowed.lower() == given.lower():
                return f"{message}; did you mean {allowed!r}? (values are case-sensitive)"
    return message


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _nested_model(argument)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the field at ``loc`` (descending into MassPush tasks)."""
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        by_alias = {field.alias or name: field for name, field in model.model_fields.items()}
        field = by_alias.get(str(part))
        model = _nested_model(field.annotation) if field is not None else None
    return model


def _unknown_message(error: dict[str, Any], model: type[BaseModel] | None) -> str:
    name = str(error["loc"][-1])
    message = f"unknown parameter {_clean(name, _MAX_SEGMENT_CHARS)!r}"
    holder = _model_at(model, error["loc"][:-1])
    if holder is not None:
        known = [field.alias or snake for snake, field in holder.model_fields.items()]
        known += list(getattr(holder, "input_synonyms", {}))
        hint = suggest(name, known)
        if hint is not None:
            message += f"; did you mean {hint!r}? (names are case-sensitive)"
    return message


def problems_of(error: dict[str, Any], model: type[BaseModel] | None = None) -> list[FieldProblem]:
    where = field_path(error["loc"])
    kind = error["type"]
    if kind == PROBLEMS_ERROR:
        return [
            FieldProblem(
                _join(where, _clean(p.field, 4 * _MAX_SEGMENT_CHARS)), p.rule, _clean(p.message, _MAX_MESSAGE_CHARS)
            )
            for p in error["ctx"]["problems"]
        ]
    rule = _RULE_OF_TYPE.get(kind)
    if rule is None:
        rule = "type" if kind.endswith(("_type", "_parsing", "_from_float")) else kind
    if kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = _unknown_message(error, model)
    elif kind == "literal_error":
        message = _enum_message(error)
    else:
        message = error["msg"]
    return [FieldProblem(where or "(request)", rule, _clean(message, _MAX_MESSAGE_CHARS))]


def invalid_request(exc: ValidationError, model: type[BaseModel] | None = None) -> InvalidRequestError:
    """All of ``exc``'s errors as one InvalidRequestError; ``model`` is the class validated."""
    problems = [problem for error in exc.errors(include_url=False) for problem in problems_of(error, model)]
    return InvalidRequestError(problems, getattr(model, "action", None))
