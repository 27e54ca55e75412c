"""Reusable validation rules, each failing with a short machine rule id and a sentence.

Field rules are pydantic ``AfterValidator``/``BeforeValidator`` objects to put in ``Annotated``.
They raise ``PydanticCustomError(rule, message)`` so that the rule id survives pydantic and
becomes ``FieldProblem.rule``. Rules spanning several fields return :class:`Problem` lists and are
raised together with :func:`raise_problems`, so one call reports every broken rule at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple, NoReturn
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from pushfn.push.models._wire import utf8_len

#: Error type carrying several problems at once (see :func:`raise_problems`).
PROBLEMS_ERROR = "pushfn_problems"


class Problem(NamedTuple):
    """A broken rule; ``field`` is the API name relative to the model that found it."""

    field: str
    rule: str
    message: str


def fail(rule: str, message: str) -> PydanticCustomError:
    # No ctx: pydantic then leaves the message untouched, braces included.
    return PydanticCustomError(rule, message)


def raise_problems(problems: Sequence[Problem]) -> NoReturn:
    raise PydanticCustomError(
        PROBLEMS_ERROR, "{count} rule(s) broken", {"count": len(problems), "problems": tuple(problems)}
    )


# --- single-value rules ------------------------------------------------------------------------


def max_bytes(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        size = utf8_len(value)
        if size > limit:
            raise fail("max_bytes", f"must be at most {limit} UTF-8 bytes (a CJK character counts 3); got {size}")
        return value

    return AfterValidator(check)


def max_chars(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > limit:
            raise fail("max_length", f"must be at most {limit} characters; got {len(value)}")
        return value

    return AfterValidator(check)


def _check_not_empty(value: str) -> str:
    if not value:
        raise fail("not_empty", "must not be empty")
    return value


NOT_EMPTY = AfterValidator(_check_not_empty)


def between(low: float, high: float) -> AfterValidator:
    def check(value: float) -> float:
        if not low <= value <= high:
            raise fail("range", f"must be between {low} and {high}; got {value}")
        return value

    return AfterValidator(check)


def one_of(*allowed: int) -> AfterValidator:
    """For integer codes: the API documents them as a closed set of numbers."""

    def check(value: int) -> int:
        if value not in allowed:
            raise fail("range", f"must be one of {', '.join(map(str, allowed))}; got {value}")
        return value

    return AfterValidator(check)


def matches(pattern: str, description: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise fail("format", f"must be {description}")
        return value

    return AfterValidator(check)


def max_items(limit: int, what: str = "items") -> AfterValidator:
    def check(values: Sequence[Any]) -> Sequence[Any]:
        if len(values) > limit:
            raise fail("max_items", f"must have at most {limit} {what}; got {len(values)}")
        return values

    return AfterValidator(check)


def min_items(limit: int, what: str = "items") -> AfterValidator:
    def check(values: Sequence[Any]) -> Sequence[Any]:
        if len(values) < limit:
            raise fail("min_items", f"must have at least {limit} {what}; got {len(values)}")
        return values

    return AfterValidator(check)


def each_max_bytes(limit: int) -> AfterValidator:
    def check(values: Sequence[str]) -> Sequence[str]:
        for position, value in enumerate(values, 1):
            if utf8_len(value) > limit:
                raise fail(
                    "max_bytes",
                    f"item {position} is {utf8_len(value)} UTF-8 bytes; each item may be at most {limit}",
                )
        return values

    return AfterValidator(check)


def each_max_chars(limit: int) -> AfterValidator:
    def check(values: Sequence[str]) -> Sequence[str]:
        for position, value in enumerate(values, 1):
            if len(value) > limit:
                raise fail(
                    "max_length", f"item {position} is {len(value)} characters; each item may be at most {limit}"
                )
        return values

    return AfterValidator(check)


def each_in(allowed: Sequence[str]) -> AfterValidator:
    def check(values: Sequence[str]) -> Sequence[str]:
        for value in values:
            if value not in allowed:
                raise fail("enum", f"{value!r} is not one of {', '.join(allowed)}")
        return values

    return AfterValidator(check)


# --- input normalisation (before validators) ---------------------------------------------------


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, (list, tuple)):
        return [str(item) if isinstance(item, int) and not isinstance(item, bool) else item for item in value]
    return value


def _check_no_empty_item(values: list[str]) -> list[str]:
    for position, value in enumerate(values, 1):
        if not value:
            raise fail("format", f"item {position} is empty; separate values with single commas")
    return values


SPLIT_COMMAS = BeforeValidator(_split_commas)
NO_EMPTY_ITEM = AfterValidator(_check_no_empty_item)


def _json_of(kind: type, example: str) -> BeforeValidator:
    name = "object" if kind is dict else "array"

    def parse(value: Any) -> Any:
        if isinstance(value, (str, bytes)):
            try:
                value = json.loads(value)
            except ValueError:
                raise fail("format", f"must be a JSON {name} (e.g. {example}); the text is not valid JSON") from None
        if not isinstance(value, kind):
            raise fail("format", f"must be a JSON {name} (e.g. {example}); got {type(value).__name__}")
        return value

    return BeforeValidator(parse)


def _parse_json_text(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            raise fail("format", "must be JSON text (or a dict/list); the text is not valid JSON") from None
    if isinstance(value, (dict, list)):
        return value
    raise fail("format", f"must be JSON text or a dict/list; got {type(value).__name__}")


PARSE_JSON_OBJECT = _json_of(dict, '{"key":"value"}')
PARSE_JSON_ARRAY = _json_of(list, '["line 1","line 2"]')
PARSE_JSON_TEXT = BeforeValidator(_parse_json_text)


def _parse_utc(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        try:
            # Python 3.10's fromisoformat does not know the "Z" suffix.
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise fail("format", "must be an ISO-8601 time such as 2024-01-15T08:30:00Z") from None
        value = parsed
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise fail("format", "timezone required: give an aware datetime or a time ending in Z (UTC)")
        return value.astimezone(timezone.utc)
    return value


PARSE_UTC = BeforeValidator(_parse_utc)


def _uuid_to_str(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value


UUID_TO_STR = BeforeValidator(_uuid_to_str)
