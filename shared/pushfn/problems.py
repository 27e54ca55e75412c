"""Field problems from validation errors: the one translator, and the one "did you mean" helper.

Every input path explains a refused input with pydantic (the push models, the HTTP bodies, the queue
envelope; the push requests and the envelope are *accepted* without it, by plain checks driven by the
same rules) and reports mistakes as :class:`~pushfn.errors.FieldProblem`; this module is the only
place that turns a pydantic ``ValidationError`` into them, so a field name is always escaped and bounded, an unknown
name always gets the same hint, and no input value is ever echoed.

It lives at the top of the package, beside :mod:`pushfn.errors`, because every layer uses it (nothing
here imports a sub-package), and apart from it, because the base error module must stay cheap for
cold starts: the functions' happy paths use only its light :func:`fold_name`, and it never
imports pydantic itself — the error is taken duck-typed (anything with pydantic's ``.errors()``) and
models are read through ``model_fields`` — and ``difflib`` loads only when a hint is computed.

Positions in a list count from 1 everywhere, as CloudPush numbers its list parameters on the wire
(``PushTask.1.Title``) and as :mod:`pushfn.json_input` locates a value: one field has one name,
whichever check finds the problem. Two conventions name the rules (``api``):

- CloudPush parameters (``api=True``, the push models): pydantic's error types become the models'
  rule ids (``required``, ``max_items``, ``range``, ``enum``, ``type``…), with person-worded messages.
- pushfn's own documents (``api=False``, HTTP bodies and queue envelopes): the rule is pydantic's own
  error type (``too_short``, ``missing``…).

In both, an unknown name is rule ``unknown_field`` with a hint drawn from the names the model at that
depth accepts.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pushfn.errors import FieldProblem

#: Error type under which a validator reports several problems at once: ``ctx["problems"]`` holds
#: objects with ``field``, ``rule`` and ``message`` (``field`` relative to the location of the error).
PROBLEMS_ERROR = "pushfn_problems"

#: Similarity (difflib ratio, 0–1) a name must reach, once case and underscores are folded away, to be
#: offered as "did you mean". Folding already catches exactly the usual slips (``IOSBadge``,
#: ``ios_badge``, ``appkey``), so the fuzzy part only has to catch a transposed, missing or extra
#: letter or two: ``Tilte``→``Title`` (0.8), ``alias``→``aliases`` (0.83), ``PushTasks``→``PushTask``
#: (0.94). At 0.6 (the HTTP body's old cutoff) unrelated names drew hints that mislead more than they
#: help (``Text``→``Target``, ``Extras``→``tags``, both 0.6); 0.75 keeps every typo above and drops those.
HINT_CUTOFF = 0.75

#: Longest field name segment and message shown; longer ones are cut (an unknown name can be 60 KB).
MAX_SEGMENT_CHARS = 64
MAX_MESSAGE_CHARS = 1000

#: Field problems listed in one report (an HTTP problem answer, a dead letter, a log line, a tick's
#: summary); the rest are only counted. Without a bound a 250 KB body of 20,000 unknown fields was
#: answered with 1.6 MB of errors, and dead-lettered as a 2 MB letter no SQS queue takes.
MAX_ERRORS = 100

# pydantic's own error types -> the push models' rule ids (types not listed pass through unchanged).
_API_RULES = {
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
# JSON documents keep pydantic's types, except the one rule every input path shares.
_JSON_RULES = {"extra_forbidden": "unknown_field"}
_QUOTED = re.compile(r"'([^']*)'")
#: pydantic names the members of a plain union after their types (``dict[str,any]``) in locations.
_UNION_MEMBER = re.compile(r"^[a-z_]+\[.*\]$")


class ValidationErrorLike(Protocol):
    """What the translator needs of pydantic's ``ValidationError``."""

    def errors(self, *, include_url: bool = ...) -> Any:
        """Each error as a dict with ``type``, ``loc`` (a tuple of names and 0-based positions),
        ``msg`` and, for some types, ``ctx`` and ``input`` (pydantic's ``ValidationError.errors()``)."""
        ...


def printable(text: str) -> str:
    """``text`` with every unprintable character (control, lone surrogate…) escaped as ``\\uXXXX``."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def clean(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` made safe to put in a problem: at most ``limit`` characters (then ``…``), printable.

    Names of unknown fields come straight from the caller and may hold a lone surrogate or a NUL;
    problems are written to HTTP answers and logs, so they must never carry one on.
    """
    if len(text) > limit:
        from pushfn.masking import shorten  # device ids masked before the cut, which would unshape them

        text = shorten(text, limit + 1, "…")
    return printable(text)


def fold_name(name: str) -> str:
    """``name`` without case and underscores: ``iOSBadge``, ``IOSBadge`` and ``ios_badge`` all fold to
    ``iosbadge`` (case and underscores are what people get wrong, so names are compared folded)."""
    return name.replace("_", "").lower()


def did_you_mean(unknown: str, known: Iterable[str], *, cutoff: float = HINT_CUTOFF) -> str | None:
    """The name in ``known`` that ``unknown`` was most likely meant to be, or None.

    A name equal to a known one but for case and underscores wins outright; otherwise the closest
    one whose similarity (difflib ratio of the folded names) reaches ``cutoff``.
    """
    folded: dict[str, str] = {}
    for name in known:
        folded.setdefault(fold_name(name), name)
    key = fold_name(unknown)
    if key in folded:
        return folded[key]
    import difflib  # only on an error path

    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def unknown_field(field: str, name: str, known: Iterable[str], *, noun: str = "field") -> FieldProblem:
    """The ``unknown_field`` problem for ``name`` (found at ``field``), hinting the closest of ``known``."""
    message = f"unknown {noun} {clean(name, MAX_SEGMENT_CHARS)!r}"
    hint = did_you_mean(name, known)
    if hint is not None:
        message += f"; did you mean {hint!r}? (names are case-sensitive)"
    return FieldProblem(field, "unknown_field", clean(message))


def problems_from_validation(
    exc: ValidationErrorLike,
    model: Any = None,
    *,
    api: bool = False,
    union: Mapping[str, Any] | None = None,
    prefix: str = "",
) -> list[FieldProblem]:
    """Every error of ``exc`` (a pydantic ``ValidationError``) as field problems, in its order.

    ``model`` is the class validated: its fields (at any depth) are the names an unknown one is
    compared with. ``union`` instead maps each tag of a discriminated union to its class: pydantic then
    puts the tag first in every location, which is no field, so it is dropped (with the labels pydantic
    gives plain union members, ``dict[str,any]``). ``api`` picks the naming convention (module
    docstring). ``prefix`` is prepended to every field; an error about the whole input is named
    ``(request)`` (``api``) or ``prefix`` / ``body``. Input values are never put in a message.
    """
    problems: list[FieldProblem] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error.get("loc", ()))
        holder = model
        if union is not None and loc:
            holder = union.get(str(loc[0]))
            loc = tuple(part for part in loc[1:] if not (isinstance(part, str) and _UNION_MEMBER.match(part)))
        problems.extend(_problems_of(error, loc, holder, api=api, prefix=prefix))
    return problems


def _problems_of(
    error: Mapping[str, Any], loc: tuple[Any, ...], model: Any, *, api: bool, prefix: str
) -> list[FieldProblem]:
    path = _field_path(loc, 1)
    where = prefix + path if path else prefix.rstrip(".")
    kind = str(error.get("type", "invalid"))
    if kind == PROBLEMS_ERROR:
        return [
            FieldProblem(_join(where, clean(str(p.field), 4 * MAX_SEGMENT_CHARS)), p.rule, clean(str(p.message)))
            for p in error.get("ctx", {}).get("problems", ())
        ]
    where = where or ("(request)" if api else "body")
    if kind == "extra_forbidden" and loc:
        holder = _model_at(model, loc[:-1])
        return [unknown_field(where, str(loc[-1]), _names_of(holder), noun="parameter" if api else "field")]
    message = str(error.get("msg", ""))
    if api:
        rule = _API_RULES.get(kind) or ("type" if kind.endswith(("_type", "_parsing", "_from_float")) else kind)
        if kind == "missing":
            message = "is required"
        elif kind == "literal_error":
            message = _enum_message(error)
    else:
        rule = _JSON_RULES.get(kind, kind)
    return [FieldProblem(where, rule, clean(message))]


def _field_path(loc: tuple[Any, ...], first_position: int) -> str:
    """``('PushTask', 2, 'Title')`` -> ``PushTask.3.Title`` (first_position 1) or ``PushTask.2.Title`` (0)."""
    return ".".join(
        str(part + first_position) if isinstance(part, int) else clean(str(part), MAX_SEGMENT_CHARS) for part in loc
    )


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


def _enum_message(error: Mapping[str, Any]) -> str:
    expected = error.get("ctx", {}).get("expected", "")
    message = f"must be one of {expected}"
    given = error.get("input")
    if isinstance(given, str):
        for allowed in _QUOTED.findall(expected):
            if allowed.lower() == given.lower():
                return f"{message}; did you mean {allowed!r}? (values are case-sensitive)"
    return message


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and isinstance(getattr(annotation, "model_fields", None), Mapping)


def _nested_model(annotation: Any) -> Any:
    """The first model class inside ``annotation`` (``list[Task] | None`` -> ``Task``), or None."""
    if _is_model(annotation):
        return annotation
    for argument in typing.get_args(annotation):
        found = _nested_model(argument)
        if found is not None:
            return found
    return None


def _model_at(model: Any, loc: tuple[Any, ...]) -> Any:
    """The model class that holds the field at ``loc`` (descending into nested models such as tasks)."""
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        if not _is_model(model):
            return None
        by_alias = {field.alias or name: field for name, field in model.model_fields.items()}
        field = by_alias.get(str(part))
        model = _nested_model(field.annotation) if field is not None else None
    return model if _is_model(model) else None


def _names_of(model: Any) -> list[str]:
    """The names ``model`` accepts: API names (aliases), then any extra input synonyms it declares."""
    if model is None:
        return []
    names = [field.alias or name for name, field in model.model_fields.items()]
    names += list(getattr(model, "input_synonyms", {}))
    return names


__all__ = [
    "HINT_CUTOFF",
    "PROBLEMS_ERROR",
    "clean",
    "did_you_mean",
    "printable",
    "problems_from_validation",
    "unknown_field",
]
