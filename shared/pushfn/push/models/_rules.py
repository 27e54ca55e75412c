"""Reusable validation rules, each failing with a short machine rule id and a sentence.

Field rules are pydantic ``AfterValidator``/``BeforeValidator`` objects to put in ``Annotated``.
They raise ``PydanticCustomError(rule, message)`` so that the rule id survives pydantic and
becomes ``FieldProblem.rule``. Rules spanning several fields return :class:`FieldProblem` lists and are
raised together with :func:`raise_problems`, so one call reports every broken rule at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, NoReturn
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from pushfn.api_time import format_api_time
from pushfn.errors import FieldProblem
from pushfn.json_input import MAX_DEPTH, MAX_INT, MIN_INT, JsonInputError, check_text, decode_json, describe_json_type
from pushfn.problems import PROBLEMS_ERROR  # the error type raise_problems uses
from pushfn.push.models._wire import compact_json, join_commas, utf8_len


def fail(rule: str, message: str) -> PydanticCustomError:
    """The error a field rule raises: ``rule`` becomes ``FieldProblem.rule``, ``message`` its sentence."""
    # No ctx: pydantic then leaves the message untouched, braces included.
    return PydanticCustomError(rule, message)


def raise_problems(problems: Sequence[FieldProblem]) -> NoReturn:
    """Raise every problem of a whole-request rule at once, each keeping its own field name.

    Raises a :class:`~pydantic_core.PydanticCustomError` of type
    :data:`pushfn.problems.PROBLEMS_ERROR`, which the error translation unpacks into
    :class:`~pushfn.push.errors.InvalidRequestError` problems.
    """
    raise PydanticCustomError(
        PROBLEMS_ERROR, "{count} rule(s) broken", {"count": len(problems), "problems": tuple(problems)}
    )


# --- single-value rules ------------------------------------------------------------------------


def max_bytes(limit: int) -> AfterValidator:
    """A string of at most ``limit`` UTF-8 bytes (rule ``max_bytes``): the unit of CloudPush's size limits."""

    def check(value: str) -> str:
        size = utf8_len(value)
        if size > limit:
            raise fail("max_bytes", f"must be at most {limit} UTF-8 bytes (a CJK character counts 3); got {size}")
        return value

    return AfterValidator(check)


def max_chars(limit: int) -> AfterValidator:
    """A string of at most ``limit`` characters (code points; rule ``max_length``)."""

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
    """A number from ``low`` to ``high``, both included (rule ``range``)."""

    def check(value: float) -> float:
        if not low <= value <= high:
            raise fail("range", f"must be between {low} and {high}; got {_short(value)}")
        return value

    return AfterValidator(check)


def one_of(*allowed: int) -> AfterValidator:
    """For integer codes: the API documents them as a closed set of numbers."""

    def check(value: int) -> int:
        if value not in allowed:
            raise fail("range", f"must be one of {', '.join(map(str, allowed))}; got {_short(value)}")
        return value

    return AfterValidator(check)


def matches(pattern: str, description: str) -> AfterValidator:
    """A string that ``pattern`` matches in full (rule ``format``; the message says "must be ``description``")."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise fail("format", f"must be {description}")
        return value

    return AfterValidator(check)


def max_items(limit: int, what: str = "items") -> AfterValidator:
    """A list of at most ``limit`` items (rule ``max_items``); ``what`` names them in the message."""

    def check(values: Sequence[Any]) -> Sequence[Any]:
        if len(values) > limit:
            raise fail("max_items", f"must have at most {limit} {what}; got {len(values)}")
        return values

    return AfterValidator(check)


def min_items(limit: int, what: str = "items") -> AfterValidator:
    """A list of at least ``limit`` items (rule ``min_items``); ``what`` names them in the message."""

    def check(values: Sequence[Any]) -> Sequence[Any]:
        if len(values) < limit:
            raise fail("min_items", f"must have at least {limit} {what}; got {len(values)}")
        return values

    return AfterValidator(check)


def each_max_bytes(limit: int) -> AfterValidator:
    """A list of strings, each at most ``limit`` UTF-8 bytes (rule ``max_bytes``, naming the 1-based item)."""

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
    """A list of strings, each at most ``limit`` characters (rule ``max_length``, naming the 1-based item)."""

    def check(values: Sequence[str]) -> Sequence[str]:
        for position, value in enumerate(values, 1):
            if len(value) > limit:
                raise fail(
                    "max_length", f"item {position} is {len(value)} characters; each item may be at most {limit}"
                )
        return values

    return AfterValidator(check)


def each_in(allowed: Sequence[str]) -> AfterValidator:
    """A list whose every item is one of ``allowed`` (rule ``enum``; case-sensitive)."""

    def check(values: Sequence[str]) -> Sequence[str]:
        for value in values:
            if value not in allowed:
                raise fail("enum", f"{value!r} is not one of {', '.join(allowed)}")
        return values

    return AfterValidator(check)


# --- what each kind of parameter accepts (before validators) ----------------------------------
#
# Every value a caller gives is checked for its kind here, before pydantic's own coercion runs, so
# that nothing is stringified or truncated on the way to the wire: a dict is never "{}", 10**30 is
# never an iOSBadge, 1 is never a boolean, and a string is text that can be signed and shown.

#: C0 controls other than tab, line feed and carriage return, and DEL. None of them is visible text;
#: vendor channels drop or cut a payload at some of them (NUL ends a C string), and a field that looks
#: empty or truncated on the device is not what the caller meant to send. DEL is refused with them:
#: it is a control character too, and no notification text needs it.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ALLOWED_CONTROLS = "tab, line feed and carriage return are the only control characters allowed"
#: A JSON path segment (an object key) is shown in a field name only if it is short, plain text.
_MAX_SEGMENT_CHARS = 64
#: Times are accepted from the Unix epoch to the end of 2099: far beyond any push (at most 7 days
#: ahead) or statistics period, and far inside what ``datetime`` arithmetic can represent, so no rule
#: comparing or shifting a time can overflow.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST_TIME = datetime(2099, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
#: The same window in Unix seconds, for the parameters that take one (iOS Live Activity dates).
EARLIEST_UNIX = 0
LATEST_UNIX = int(LATEST_TIME.timestamp())
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
#: Integers this large are not printed or converted from text; they stand for "out of any range".
_HUGE = 10**20
#: Paths inside a JSON field are shown this many segments deep at most.
_MAX_PATH_SEGMENTS = 8


def _short(value: Any) -> str:
    """A number for a message, without printing a 5,000-digit one."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _HUGE:
        return f"a number of more than {len(str(_HUGE)) - 1} digits"
    return str(value)


def kind_of(value: Any) -> str:
    """``"an object"``, ``"a boolean"``… for JSON values; the Python type's name for anything else."""
    if value is None or isinstance(value, (dict, list, tuple, str, bool, int, float)):
        return describe_json_type(value)
    return f"a {type(value).__name__}"


def text_problem(value: str) -> tuple[str, str] | None:
    """``(rule, message)`` when ``value`` is not sendable text, else None.

    Rules: ``text`` (a lone surrogate: not Unicode, cannot be UTF-8 encoded for signing),
    ``max_length`` (over :data:`pushfn.json_input.MAX_STRING_CHARS`), ``control_character``.
    The same check as :func:`pushfn.json_input.check_text`, plus control characters.
    """
    try:
        check_text(value)
    except JsonInputError as exc:
        return exc.rule, exc.detail
    found = _CONTROL.search(value)
    if found is not None:
        return (
            "control_character",
            f"contains the control character U+{ord(found.group()):04X} at character {found.start()}; "
            f"{_ALLOWED_CONTROLS}",
        )
    return None


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        raise fail("type", f"must be a string; got {kind_of(value)}")
    problem = text_problem(value)
    if problem is not None:
        raise fail(*problem)
    return value


#: A string parameter: only ``str`` (no number, list or dict is turned into one), valid text.
TEXT = BeforeValidator(_text)


def _to_int(value: Any) -> int:
    """The integer ``value`` stands for; out-of-range values pass, for the field's range rule to name.

    Every integer field pairs this with :func:`between` or :func:`one_of` (at least int32/int64).
    """
    if isinstance(value, bool):
        raise fail("type", "must be an integer; got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise fail("type", "must be a whole number")
        return int(value) if abs(value) < _HUGE else int(math.copysign(_HUGE, value))
    if isinstance(value, str):
        # Strings of decimal digits are accepted because the CLI's --param and query strings give them.
        digits = value.strip()
        if not _INT_TEXT.fullmatch(digits):
            raise fail("type", "must be an integer (decimal digits)")
        if len(digits.lstrip("+-")) > len(str(_HUGE)):  # before int(): no 5,000-digit conversions
            return -_HUGE if digits.startswith("-") else _HUGE
        return int(digits)
    raise fail("type", f"must be an integer; got {kind_of(value)}")


#: An integer parameter: an int (not a bool), a whole float, or decimal digits. Pair it with a range.
INTEGER = BeforeValidator(_to_int)


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise fail("type", "must be a number; got a boolean")
    if isinstance(value, int):
        if abs(value) >= _HUGE:
            raise fail("range", f"is out of range; got {_short(value)}")
        return float(value)
    if isinstance(value, str) and len(value) <= 64:
        try:
            value = float(value)
        except ValueError:
            raise fail("type", "must be a number") from None
    if not isinstance(value, float):
        raise fail("type", f"must be a number; got {kind_of(value)}")
    if not math.isfinite(value):
        raise fail("range", "must be a finite number")
    return value


#: A decimal parameter: an int or float (not a bool), or its decimal text; finite.
NUMBER = BeforeValidator(_to_float)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    # "true"/"false" are the wire form (and what the CLI's --param gives); nothing else is a boolean.
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise fail("type", f"must be a boolean (true or false); got {kind_of(value)}")


BOOLEAN = BeforeValidator(_to_bool)


# --- lists and JSON -----------------------------------------------------------------------------


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, (list, tuple)):
        # Numeric identifiers (account 42) are their decimal text; anything else is refused per item.
        return [
            str(item) if isinstance(item, int) and not isinstance(item, bool) and MIN_INT <= item <= MAX_INT else item
            for item in value
        ]
    return value


def _check_no_empty_item(values: list[str]) -> list[str]:
    # An empty list would go out as an empty parameter, which no comma-list parameter means.
    if not values:
        raise fail("min_items", "must list at least one value")
    for position, value in enumerate(values, 1):
        if not value:
            raise fail("format", f"item {position} is empty; separate values with single commas")
    return values


SPLIT_COMMAS = BeforeValidator(_split_commas)
NO_EMPTY_ITEM = AfterValidator(_check_no_empty_item)


def _segment(key: str) -> str | None:
    """``key`` as a field-name segment, or None when it is no plain short text (then it is not shown)."""
    if len(key) <= _MAX_SEGMENT_CHARS and key.isprintable():
        return key
    return None


def json_problem(value: Any) -> FieldProblem | None:
    """The first broken rule inside a decoded JSON value, located by a dotted path, or None.

    The rules of :func:`pushfn.json_input.check_json_value` (depth, string size, lone surrogates, int64,
    finite floats, JSON types only) plus control characters in keys and strings. Iterative: a value
    nested a million deep costs no recursion. Paths name object keys (when they are plain text; a bad
    key is reported on its object) and 1-based array positions, as field names do.
    """
    # (value, its path, whether the path was cut at an unprintable key, depth)
    stack: list[tuple[Any, str, bool, int]] = [(value, "", False, 1)]
    while stack:
        item, here, cut, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                return FieldProblem(here, *problem)
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not MIN_INT <= item <= MAX_INT:
                return FieldProblem(here, "number", "holds an integer outside the signed 64-bit range")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return FieldProblem(here, "number", "holds a number that is not finite")
        elif isinstance(item, (dict, list, tuple)):
            if depth > MAX_DEPTH:
                return FieldProblem(here, "depth", f"is nested deeper than {MAX_DEPTH} levels")
            children: list[tuple[Any, str | None]] = []
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        return FieldProblem(here, "type", f"has a key that is {kind_of(key)}; keys must be strings")
                    problem = text_problem(key)
                    if problem is not None:
                        return FieldProblem(here, problem[0], f"has a key that {problem[1]}")
                    children.append((child, _segment(key)))
            else:
                children = [(child, str(position)) for position, child in enumerate(item, 1)]
            if here.count(".") + 1 >= _MAX_PATH_SEGMENTS:
                cut = True
            for child, segment in reversed(children):  # reversed: the first problem in document order wins
                if cut or segment is None:
                    stack.append((child, here, True, depth + 1))
                else:
                    stack.append((child, f"{here}.{segment}" if here else segment, False, depth + 1))
        else:
            return FieldProblem(here, "type", f"holds {kind_of(item)}, which is not a JSON value")
    return None


def _raise_at(problem: FieldProblem) -> NoReturn:
    # A path inside the field is appended to the field's own name (AndroidExtParameters.key).
    if problem.field:
        raise_problems([problem])
    raise fail(problem.rule, problem.message)


def decode_field_json(value: Any, what: str) -> Any:
    """JSON text (``str``/``bytes``) decoded with :func:`pushfn.json_input.decode_json`, or a value
    already decoded, with every JSON rule applied; raises a field problem (rule ``format`` for text that
    is not JSON, else the :mod:`pushfn.json_input` rule)."""
    if isinstance(value, (str, bytes, bytearray)):
        try:
            value = decode_json(value)
        except JsonInputError as exc:
            if exc.rule == "json":
                raise fail("format", f"must be {what}; the text is not valid JSON ({exc.detail})") from None
            raise fail(exc.rule, f"JSON text: {exc.detail}") from None
    problem = json_problem(value)
    if problem is not None:
        _raise_at(problem)
    return value


def _json_of(kind: type, example: str, strings_only: bool = False) -> BeforeValidator:
    name = "object" if kind is dict else "array"
    what = f"a JSON {name} (e.g. {example})"

    def parse(value: Any) -> Any:
        if not isinstance(value, (str, bytes, bytearray, kind)):
            raise fail("format", f"must be {what}; got {kind_of(value)}")
        value = decode_field_json(value, what)
        if not isinstance(value, kind):
            raise fail("format", f"must be {what}; got {kind_of(value)}")
        if strings_only:
            for key, item in value.items():
                if not isinstance(item, str):
                    _raise_at(FieldProblem(_segment(key) or "", "type", f"must be a string; got {kind_of(item)}"))
        return value

    return BeforeValidator(parse)


def _parse_json_text(value: Any) -> Any:
    if not isinstance(value, (str, bytes, bytearray, dict, list)):
        raise fail("format", f"must be JSON text or a dict/list; got {kind_of(value)}")
    return decode_field_json(value, "JSON text (or a dict/list)")


PARSE_JSON_OBJECT = _json_of(dict, '{"key":"value"}')
PARSE_STRING_MAP = _json_of(dict, '{"key":"value"}', strings_only=True)
PARSE_JSON_ARRAY = _json_of(list, '["line 1","line 2"]')
PARSE_JSON_TEXT = BeforeValidator(_parse_json_text)


# --- times, identifiers, targets -------------------------------------------------------------------

_TIME_EXAMPLE = "an ISO-8601 time such as 2024-01-15T08:30:00Z"


def _parse_utc(value: Any) -> datetime:
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) > 64:
                raise ValueError(text)
            # Python 3.10's fromisoformat does not know the "Z" suffix.
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise fail("format", f"must be {_TIME_EXAMPLE}") from None
    if not isinstance(value, datetime):
        # Numbers are refused rather than read as Unix seconds or milliseconds (a guess either way).
        raise fail("type", f"must be {_TIME_EXAMPLE}; got {kind_of(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise fail("format", "timezone required: give an aware datetime or a time ending in Z (UTC)")
    window = f"must be between {format_api_time(EARLIEST_TIME)} and {format_api_time(LATEST_TIME)}"
    try:
        moment = value.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # year 1 at +14:00, year 9999 at -12:00
        raise fail("range", window) from None
    if not EARLIEST_TIME <= moment <= LATEST_TIME:
        raise fail("range", window)
    return moment


PARSE_UTC = BeforeValidator(_parse_utc)


def _uuid_to_str(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value


UUID_TO_STR = BeforeValidator(_uuid_to_str)


def _target_value_text(value: Any, info: ValidationInfo) -> str:
    """TargetValue is one string on the wire: join lists, serialise tag expressions compactly.

    A list is of strings (or integer ids); a dict, or JSON text starting with ``{``, is a tag
    expression and is taken only with ``Target=TAG``. Nothing else is turned into a string.
    """
    target = info.data.get("target")
    if isinstance(value, (list, tuple)):
        items = []
        for position, item in enumerate(value, 1):
            if isinstance(item, int) and not isinstance(item, bool) and MIN_INT <= item <= MAX_INT:
                item = str(item)
            if not isinstance(item, str):
                raise fail("type", f"item {position} must be a string; got {kind_of(item)}")
            problem = text_problem(item)
            if problem is not None:
                raise fail(problem[0], f"item {position} {problem[1]}")
            items.append(item)
        return join_commas(items)
    if isinstance(value, dict):
        if target != "TAG":
            raise fail(
                "type",
                "must be a string or a list of strings; a JSON object is a tag expression, only for Target=TAG",
            )
        return compact_json(decode_field_json(value, "a tag expression"))
    if not isinstance(value, str):
        raise fail("type", f"must be a string or a list of strings; got {kind_of(value)}")
    problem = text_problem(value)
    if problem is not None:
        raise fail(*problem)
    if target == "TAG" and value.lstrip().startswith("{"):
        try:
            parsed = decode_json(value)
        except JsonInputError as exc:
            if exc.rule == "json":
                return value  # the tag-expression rule reports it, with the grammar
            raise fail(exc.rule, f"tag expression: {exc.detail}") from None
        parsed = decode_field_json(parsed, "a tag expression")
        return compact_json(parsed) if isinstance(parsed, dict) else value
    return value


TARGET_VALUE_TEXT = BeforeValidator(_target_value_text)
