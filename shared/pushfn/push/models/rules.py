"""Every validation rule of the request models, as plain Python: one definition each, no pydantic.

Two things use these functions and nothing else does the checking: the pydantic models of
:mod:`pushfn.push.models.pydantic_models` (which wrap them as validators and explain failures) and the
fast checker of :mod:`pushfn.push.models.fast` (which accepts a request without loading pydantic).

- *Value parsers* (``parse_text``, ``parse_int``…) take what a caller gave for one kind of parameter
  and return its Python value, or raise :class:`RuleError`. Each takes only its own kind of value, so
  nothing is stringified or truncated on the way to the wire: a dict is never ``"{}"``, ``10**30`` is
  never an iOSBadge, 1 is never a boolean, and a string is text that can be signed and shown.
- *Value rules* (``between``, ``max_bytes``…) are factories of checks ``check(value) -> None`` that
  raise :class:`RuleError`; its ``rule`` becomes ``FieldProblem.rule``.
- *Request rules* (``push_rules``…) span several parameters: ``rule(values, wire, now)`` returns a
  list of :class:`~pushfn.errors.FieldProblem`, ``values`` mapping snake_case names to parsed values
  (absent or ``None`` when unset), ``wire`` the API names to wire strings, ``now`` an aware datetime.

Limits: the SDK's field docs (``alibabacloud-push20160801`` 2.1.8) and the limits page,
https://help.aliyun.com/document_detail/92832.html.
"""

from __future__ import annotations

import math
import re
import sys
from datetime import datetime, timedelta, timezone

from pushfn.api_time import format_api_time, parse_iso_time
from pushfn.errors import FieldProblem, PushfnError
from pushfn.identifiers import is_blank
from pushfn.json_input import (
    MAX_DEPTH,
    MAX_INT,
    MAX_STRING_CHARS,
    MIN_INT,
    JsonInputError,
    check_text,
    decode_json,
    describe_json_type,
)
from pushfn.push.models.tag_expression import check_tag_target
from pushfn.push.models.wire import compact_json, join_commas, utf8_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, NoReturn

    #: A request rule: (parsed values by snake_case name, wire parameters, now) -> problems.
    RequestRule = Callable[[Mapping[str, Any], Mapping[str, str], datetime], list[FieldProblem]]


class RuleError(PushfnError, ValueError):
    """One value broke one field rule: ``rule`` (``range``, ``max_bytes``…) and ``message`` (a sentence
    that never echoes the value). ``at`` locates the problem inside a JSON field (``key.sub``), or is
    ``None`` for the value itself. Never escapes the models: it becomes an InvalidRequestError problem."""

    def __init__(self, rule: str, message: str, at: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.at = at


# --- value rules -------------------------------------------------------------------------------


def max_bytes(limit: int) -> Callable[[str], None]:
    """A string of at most ``limit`` UTF-8 bytes (rule ``max_bytes``): the unit of CloudPush's size limits."""

    def check(value: str) -> None:
        size = utf8_len(value)
        if size > limit:
            raise RuleError("max_bytes", f"must be at most {limit} UTF-8 bytes (a CJK character counts 3); got {size}")

    return check


def max_chars(limit: int) -> Callable[[str], None]:
    """A string of at most ``limit`` characters (code points; rule ``max_length``)."""

    def check(value: str) -> None:
        if len(value) > limit:
            raise RuleError("max_length", f"must be at most {limit} characters; got {len(value)}")

    return check


def not_empty(value: str) -> None:
    """A non-empty string (rule ``not_empty``)."""
    if not value:
        raise RuleError("not_empty", "must not be empty")


def between(low: float, high: float) -> Callable[[float], None]:
    """A number from ``low`` to ``high``, both included (rule ``range``)."""

    def check(value: float) -> None:
        if not low <= value <= high:
            raise RuleError("range", f"must be between {low} and {high}; got {_short(value)}")

    return check


def one_of(*allowed: int) -> Callable[[int], None]:
    """For integer codes: the API documents them as a closed set of numbers (rule ``range``)."""

    def check(value: int) -> None:
        if value not in allowed:
            raise RuleError("range", f"must be one of {', '.join(map(str, allowed))}; got {_short(value)}")

    return check


def matches(pattern: str, description: str) -> Callable[[str], None]:
    """A string that ``pattern`` matches in full (rule ``format``; the message says "must be ``description``")."""
    compiled = re.compile(pattern)

    def check(value: str) -> None:
        if not compiled.fullmatch(value):
            raise RuleError("format", f"must be {description}")

    return check


def max_items(limit: int, what: str = "items") -> Callable[[Sequence[Any]], None]:
    """A list of at most ``limit`` items (rule ``max_items``); ``what`` names them in the message."""

    def check(values: Sequence[Any]) -> None:
        if len(values) > limit:
            raise RuleError("max_items", f"must have at most {limit} {what}; got {len(values)}")

    return check


def min_items(limit: int, what: str = "items") -> Callable[[Sequence[Any]], None]:
    """A list of at least ``limit`` items (rule ``min_items``); ``what`` names them in the message."""

    def check(values: Sequence[Any]) -> None:
        if len(values) < limit:
            raise RuleError("min_items", f"must have at least {limit} {what}; got {len(values)}")

    return check


def each_max_bytes(limit: int) -> Callable[[Sequence[str]], None]:
    """A list of strings, each at most ``limit`` UTF-8 bytes (rule ``max_bytes``, naming the 1-based item)."""
    return _each_at_most(limit, utf8_len, "max_bytes", "UTF-8 bytes")


def each_max_chars(limit: int) -> Callable[[Sequence[str]], None]:
    """A list of strings, each at most ``limit`` characters (rule ``max_length``, naming the 1-based item)."""
    return _each_at_most(limit, len, "max_length", "characters")


def _each_at_most(limit: int, measure: Callable[[str], int], rule: str, unit: str) -> Callable[[Sequence[str]], None]:
    def check(values: Sequence[str]) -> None:
        for position, value in enumerate(values, 1):
            size = measure(value)
            if size > limit:
                raise RuleError(rule, f"item {position} is {size} {unit}; each item may be at most {limit}")

    return check


def each_in(allowed: Sequence[str]) -> Callable[[Sequence[str]], None]:
    """A list whose every item is one of ``allowed`` (rule ``enum``; case-sensitive)."""

    def check(values: Sequence[str]) -> None:
        for value in values:
            if value not in allowed:
                raise RuleError("enum", f"{value!r} is not one of {', '.join(allowed)}")

    return check


def no_empty_item(values: Sequence[str]) -> None:
    """A comma list with at least one item and no empty one (rules ``min_items``, ``format``): an empty
    list would go out as an empty parameter, which no comma-list parameter means."""
    if not values:
        raise RuleError("min_items", "must list at least one value")
    for position, value in enumerate(values, 1):
        if is_blank(value):  # nothing visible names nothing either (CloudPush: MissingTargetValue)
            raise RuleError("format", f"item {position} is empty or blank; separate values with single commas")


# --- value parsers: what each kind of parameter accepts ------------------------------------------

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
#: Floats hold every integer exactly only up to 2**53: above it a "whole" float may stand for another integer.
_EXACT_FLOAT = 2.0**53
#: Decimal text a number parameter accepts: ASCII digits only (``float()`` would also take ``1_0`` and
#: full-width digits, which no API client sends as a number).
#: ``nan``/``inf`` are read so that the finiteness rule names them.
_FLOAT_TEXT = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)", re.IGNORECASE)
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
    if value.isascii() and value.isprintable() and len(value) <= MAX_STRING_CHARS:
        return None  # the common case, decided at once: ASCII has no surrogates, printable no controls
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


def parse_text(value: Any) -> str:
    """A string parameter: only ``str`` (no number, list or dict is turned into one), valid text."""
    if not isinstance(value, str):
        raise RuleError("type", f"must be a string; got {kind_of(value)}")
    problem = text_problem(value)
    if problem is not None:
        raise RuleError(*problem)
    return value


def parse_token(value: Any) -> str:
    """An ``IdempotentToken``: a ``uuid.UUID`` becomes its 36-character text, then as :func:`parse_text`."""
    uuid = sys.modules.get("uuid")  # a caller holding a UUID has imported uuid; no one else pays for it
    if uuid is not None and isinstance(value, uuid.UUID):
        value = str(value)
    return parse_text(value)


def parse_int(value: Any) -> int:
    """An integer parameter: an int (not a bool), a whole float, or decimal digits (the CLI's --param and
    query strings give them). Out-of-range values pass, for the field's range rule to name: every
    integer field pairs this with :func:`between` or :func:`one_of`."""
    if isinstance(value, bool):
        raise RuleError("type", "must be an integer; got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise RuleError("type", "must be a whole number")
        if abs(value) >= _HUGE:  # out of every field's range: the range rule names it
            return int(math.copysign(_HUGE, value))
        if abs(value) > _EXACT_FLOAT:  # 1.2345678901234567e18 is whole, but its last digits are gone
            raise RuleError(
                "type", "must be an integer: a number this large loses digits as a float; send it as digits"
            )
        return int(value)
    if isinstance(value, str):
        digits = value.strip()
        if not _INT_TEXT.fullmatch(digits):
            raise RuleError("type", "must be an integer (decimal digits)")
        significant = digits.lstrip("+-").lstrip("0")  # "0007" is 7: leading zeros do not count
        if len(significant) > len(str(_HUGE)):  # before int(): no 5,000-digit conversions
            return -_HUGE if digits.startswith("-") else _HUGE
        number = int(significant or "0")
        return -number if digits.startswith("-") else number
    raise RuleError("type", f"must be an integer; got {kind_of(value)}")


def parse_float(value: Any) -> float:
    """A decimal parameter: an int or float (not a bool), or its decimal text; finite."""
    if isinstance(value, bool):
        raise RuleError("type", "must be a number; got a boolean")
    if isinstance(value, int):
        if abs(value) >= _HUGE:
            raise RuleError("range", f"is out of range; got {_short(value)}")
        return float(value)
    if isinstance(value, str) and len(value) <= 64:
        if not _FLOAT_TEXT.fullmatch(value.strip()):
            raise RuleError("type", "must be a number (decimal digits)")
        value = float(value)
    if not isinstance(value, float):
        raise RuleError("type", f"must be a number; got {kind_of(value)}")
    if not math.isfinite(value):
        raise RuleError("range", "must be a finite number")
    return value


def parse_bool(value: Any) -> bool:
    """A boolean parameter: ``True``/``False``, or the wire text ``"true"``/``"false"`` (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise RuleError("type", f"must be a boolean (true or false); got {kind_of(value)}")


def split_commas(value: Any) -> Any:
    """A comma-list parameter's items: a string split at ``,``; a list with integer ids (account 42) as
    their decimal text. Anything else is returned as given, for the item checks to refuse."""
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, (list, tuple)):
        return [
            str(item) if isinstance(item, int) and not isinstance(item, bool) and MIN_INT <= item <= MAX_INT else item
            for item in value
        ]
    return value


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
    raise RuleError(problem.rule, problem.message, problem.field or None)


def decode_field_json(value: Any, what: str) -> Any:
    """JSON text (``str``/``bytes``) decoded with :func:`pushfn.json_input.decode_json`, or a value
    already decoded, with every JSON rule applied; raises :class:`RuleError` (rule ``format`` for text
    that is not JSON, else the :mod:`pushfn.json_input` rule)."""
    if isinstance(value, (str, bytes, bytearray)):
        try:
            value = decode_json(value)
        except JsonInputError as exc:
            if exc.rule == "json":
                raise RuleError("format", f"must be {what}; the text is not valid JSON ({exc.detail})") from None
            raise RuleError(exc.rule, f"JSON text: {exc.detail}") from None
    problem = json_problem(value)
    if problem is not None:
        _raise_at(problem)
    return value


def _json_of(kind: type, example: str, strings_only: bool = False) -> Callable[[Any], Any]:
    name = "object" if kind is dict else "array"
    what = f"a JSON {name} (e.g. {example})"

    def parse(value: Any) -> Any:
        if not isinstance(value, (str, bytes, bytearray, kind)):
            raise RuleError("format", f"must be {what}; got {kind_of(value)}")
        value = decode_field_json(value, what)
        if not isinstance(value, kind):
            raise RuleError("format", f"must be {what}; got {kind_of(value)}")
        if strings_only:
            # Map values by key, array items (lines) by their 1-based position, as field paths number them.
            named = value.items() if isinstance(value, dict) else ((str(n), v) for n, v in enumerate(value, 1))
            for key, item in named:
                if not isinstance(item, str):
                    _raise_at(FieldProblem(_segment(key) or "", "type", f"must be a string; got {kind_of(item)}"))
        return value

    parse.__doc__ = f"A parameter holding {what}: the value, or its JSON text (``str``/``bytes``)."
    return parse


#: A JSON map parameter (``*ExtParameters``): a dict, or its JSON text.
parse_json_object = _json_of(dict, '{"key":"value"}')
#: A map of strings (the OPPO private-message template parameters).
parse_string_map = _json_of(dict, '{"key":"value"}', strings_only=True)
#: A JSON array of strings (the inbox lines of ``AndroidInboxBody``, ``HarmonyInboxContent``): a list, or
#: its JSON text. A line that is not a string (``[{}]``, ``[1]``) is refused, not sent for a vendor to show.
parse_json_array = _json_of(list, '["line 1","line 2"]', strings_only=True)


def parse_json_text(value: Any) -> Any:
    """A vendor payload documented as "JSON string of ...": a dict/list, or JSON text."""
    if not isinstance(value, (str, bytes, bytearray, dict, list)):
        raise RuleError("format", f"must be JSON text or a dict/list; got {kind_of(value)}")
    return decode_field_json(value, "JSON text (or a dict/list)")


_TIME_EXAMPLE = "an ISO-8601 time such as 2024-01-15T08:30:00Z"


def parse_utc(value: Any) -> datetime:
    """A time: an aware ``datetime`` or an ISO-8601 string, from 1970 to 2099, as an aware UTC datetime in
    whole seconds (a fraction is dropped, as the wire drops it).
    Numbers are refused rather than read as Unix seconds or milliseconds (a guess either way)."""
    if isinstance(value, str):
        try:
            value = parse_iso_time(value)
        except ValueError:
            raise RuleError("format", f"must be {_TIME_EXAMPLE}") from None
    if not isinstance(value, datetime):
        raise RuleError("type", f"must be {_TIME_EXAMPLE}; got {kind_of(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise RuleError("format", "timezone required: give an aware datetime or a time ending in Z (UTC)")
    window = f"must be between {format_api_time(EARLIEST_TIME)} and {format_api_time(LATEST_TIME)}"
    try:
        # Whole seconds: the wire's precision, so every rule judges the time that is sent.
        moment = value.astimezone(timezone.utc).replace(microsecond=0)
    except (OverflowError, ValueError):  # year 1 at +14:00, year 9999 at -12:00
        raise RuleError("range", window) from None
    if not EARLIEST_TIME <= moment <= LATEST_TIME:
        raise RuleError("range", window)
    return moment


def parse_target_value(value: Any, target: Any) -> str:
    """TargetValue is one string on the wire: join lists, serialise tag expressions compactly.

    A list is of strings (or integer ids); a dict, or JSON text starting with ``{``, is a tag
    expression and is taken only with ``Target=TAG`` (``target``: the parsed Target, or None when it
    is missing or invalid). Nothing else is turned into a string.
    """
    if isinstance(value, (list, tuple)):
        items = []
        for position, item in enumerate(value, 1):
            if isinstance(item, int) and not isinstance(item, bool) and MIN_INT <= item <= MAX_INT:
                item = str(item)
            if not isinstance(item, str):
                raise RuleError("type", f"item {position} must be a string; got {kind_of(item)}")
            problem = text_problem(item)
            if problem is not None:
                raise RuleError(problem[0], f"item {position} {problem[1]}")
            items.append(item)
        return join_commas(items)
    if isinstance(value, dict):
        if target != "TAG":
            raise RuleError(
                "type",
                "must be a string or a list of strings; a JSON object is a tag expression, only for Target=TAG",
            )
        return compact_json(decode_field_json(value, "a tag expression"))
    if not isinstance(value, str):
        raise RuleError("type", f"must be a string or a list of strings; got {kind_of(value)}")
    problem = text_problem(value)
    if problem is not None:
        raise RuleError(*problem)
    if target == "TAG" and value.lstrip().startswith("{"):
        try:
            parsed = decode_json(value)
        except JsonInputError as exc:
            if exc.rule == "json":
                return value  # the tag-expression rule reports it, with the grammar
            raise RuleError(exc.rule, f"tag expression: {exc.detail}") from None
        parsed = decode_field_json(parsed, "a tag expression")
        return compact_json(parsed) if isinstance(parsed, dict) else value
    return value


# --- request rules: a push (a Push, or one MassPush task) --------------------------------------------

CONTENT_LIMIT_BYTES = 1800
MAX_LIST_TARGETS = 1000
#: Per-item byte limit of list targets (None: no documented limit).
LIST_TARGET_ITEM_BYTES: dict[str, int | None] = {"DEVICE": None, "ACCOUNT": 64, "ALIAS": 128}
MAX_SCHEDULE_AHEAD = timedelta(days=7)
#: A PushTime slightly in the past is the caller's clock or a slow hop, not a mistake.
PAST_GRACE = timedelta(seconds=60)
MIN_EXPIRE_AFTER = timedelta(seconds=3)
MAX_EXPIRE_AFTER = timedelta(hours=72)
MAX_SMS_DELAY_SECS = 3 * 24 * 3600

#: Parameters counted together against the 1,800-byte content limit, per (platform, PushType).
CONTENT_PARTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("ANDROID", "MESSAGE"): ("Title", "Body"),
    ("ANDROID", "NOTICE"): (
        "Title",
        "Body",
        "AndroidMusic",
        "AndroidOpenType",
        "AndroidActivity",
        "AndroidOpenUrl",
        "AndroidExtParameters",
    ),
    ("iOS", "MESSAGE"): ("Title", "Body"),
    ("iOS", "NOTICE"): ("Body", "iOSMusic", "iOSBadge", "iOSExtParameters"),
    ("HARMONY", "MESSAGE"): ("Title", "Body"),
    ("HARMONY", "NOTICE"): ("Title", "Body"),
}
_PLATFORM_LABEL = {"ANDROID": "Android", "iOS": "iOS", "HARMONY": "HarmonyOS"}


def title_and_body(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
    """Title is required but for iOS; Body is required but for an iOS Live Activity push (rule ``required``)."""
    problems = []
    device_type = values.get("device_type")
    if values.get("title") is None and device_type != "iOS":
        problems.append(FieldProblem("Title", "required", f"is required when DeviceType is {device_type}"))
    live_activity = device_type == "iOS" and values.get("ios_live_activity_event") is not None
    if values.get("body") is None and not live_activity:
        problems.append(FieldProblem("Body", "required", "is required (only an iOS Live Activity push may omit it)"))
    return problems


def content_size(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
    """The 1,800-byte content limit per platform (rule ``max_bytes`` on Body): :data:`CONTENT_PARTS`."""
    device_type, push_type = values["device_type"], values["push_type"]
    platforms = ("ANDROID", "iOS", "HARMONY") if device_type == "ALL" else (device_type,)
    problems = []
    for platform in platforms:
        parts = CONTENT_PARTS[(platform, push_type)]
        total = utf8_len("".join([wire.get(name, "") for name in parts]))  # one encode, not one per part
        if total > CONTENT_LIMIT_BYTES:
            label = f"{_PLATFORM_LABEL[platform]} {push_type.lower()}"
            problems.append(
                FieldProblem(
                    "Body",
                    "max_bytes",
                    f"{label} content ({'+'.join(parts)}) is {total} UTF-8 bytes; the limit is "
                    f"{CONTENT_LIMIT_BYTES} bytes (a CJK character counts 3)",
                )
            )
    return problems


def target_value(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
    """``TargetValue`` for its ``Target``: at most 1,000 list values (accounts ≤ 64 bytes, aliases ≤ 128),
    ``ALL``/``TBD`` themselves, or a tag name or expression (:mod:`~pushfn.push.models.tag_expression`)."""
    value = values["target_value"]
    target = values["target"]

    def problem(rule: str, message: str) -> list[FieldProblem]:
        return [FieldProblem("TargetValue", rule, message)]

    if target in LIST_TARGET_ITEM_BYTES:
        items = value.split(",")
        for position, item in enumerate(items, 1):
            if not item:
                return problem("format", f"item {position} is empty; separate values with single commas")
            if is_blank(item):
                # Nothing visible names nothing (as in pushfn.identifiers): CloudPush answers Missing… for it,
                # or, beside other values, takes it as one more name that reaches nobody.
                return problem("required", f"item {position} is blank; each value must name one {target.lower()}")
        if len(items) > MAX_LIST_TARGETS:
            return problem("max_items", f"Target={target} takes at most {MAX_LIST_TARGETS} values; got {len(items)}")
        limit = LIST_TARGET_ITEM_BYTES[target]
        if limit is not None:
            for position, item in enumerate(items, 1):
                if utf8_len(item) > limit:
                    # The value itself is not echoed: accounts and aliases can identify people.
                    return problem(
                        "max_bytes",
                        f"item {position} is {utf8_len(item)} UTF-8 bytes; "
                        f"each {target.lower()} may be at most {limit}",
                    )
        return []
    if target in ("ALL", "TBD"):
        return [] if value == target else problem("format", f"must be {target!r} when Target={target}")
    return [FieldProblem("TargetValue", rule, message) for rule, message in check_tag_target(value)]


def schedule(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
    """The time rules, checked again at send time: ``PushTime`` at most 7 days ahead of ``now`` and not in
    the past (60 s grace), never with Target=TBD; ``ExpireTime`` more than 3 s and at most 72 h after
    ``PushTime``, else after ``now``. Reads only ``push_time``, ``expire_time`` and ``target``."""
    problems = []
    push_time, expire_time = values.get("push_time"), values.get("expire_time")
    if push_time is not None:
        if values.get("target") == "TBD":
            problems.append(FieldProblem("PushTime", "not_allowed", "cannot be used with Target=TBD (continuous push)"))
        if push_time > now + MAX_SCHEDULE_AHEAD:
            problems.append(
                FieldProblem(
                    "PushTime",
                    "range",
                    f"must be at most 7 days ahead (latest {format_api_time(now + MAX_SCHEDULE_AHEAD)})",
                )
            )
        elif push_time < now - PAST_GRACE:
            problems.append(FieldProblem("PushTime", "range", f"is in the past (now is {format_api_time(now)})"))
    if expire_time is not None:
        start, label = (push_time, "PushTime") if push_time is not None else (now, "now")
        if expire_time <= start + MIN_EXPIRE_AFTER:
            problems.append(
                FieldProblem(
                    "ExpireTime", "range", f"must be more than 3 seconds after {label} ({format_api_time(start)})"
                )
            )
        elif expire_time > start + MAX_EXPIRE_AFTER:
            problems.append(
                FieldProblem(
                    "ExpireTime",
                    "range",
                    f"must be at most 72 hours after {label} "
                    f"({format_api_time(start + MAX_EXPIRE_AFTER)} at the latest)",
                )
            )
    return problems


def required_with(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
    """Parameters another one needs (rule ``required_with``): AndroidOpenType=ACTIVITY needs
    AndroidActivity, a popup needs its title and body, and so on (the list below)."""
    get = values.get
    popup = get("android_popup_activity") is not None
    starting = get("ios_live_activity_event") == "start"
    dependencies = [
        # (needed parameter, its value, whether it is needed, why)
        (
            "AndroidActivity",
            get("android_activity"),
            get("android_open_type") == "ACTIVITY",
            "AndroidOpenType=ACTIVITY",
        ),
        ("AndroidOpenUrl", get("android_open_url"), get("android_open_type") == "URL", "AndroidOpenType=URL"),
        ("AndroidPopupTitle", get("android_popup_title"), popup, "AndroidPopupActivity is set"),
        ("AndroidPopupBody", get("android_popup_body"), popup, "AndroidPopupActivity is set"),
        (
            "AndroidMessageOppoCategory",
            get("android_message_oppo_category"),
            get("android_message_oppo_notify_level") is not None,
            "AndroidMessageOppoNotifyLevel is set",
        ),
        (
            "HarmonyInboxContent",
            get("harmony_inbox_content"),
            get("harmony_render_style") == "MULTI_LINE",
            "HarmonyRenderStyle=MULTI_LINE",
        ),
        (
            "HarmonyAction",
            get("harmony_action") or get("harmony_uri"),
            get("harmony_action_type") == "APP_CUSTOM_PAGE",
            "HarmonyActionType=APP_CUSTOM_PAGE (give HarmonyAction or HarmonyUri)",
        ),
        ("iOSLiveActivityAttributes", get("ios_live_activity_attributes"), starting, "iOSLiveActivityEvent=start"),
        (
            "iOSLiveActivityAttributesType",
            get("ios_live_activity_attributes_type"),
            starting,
            "iOSLiveActivityEvent=start",
        ),
    ]
    return [
        FieldProblem(field, "required_with", f"is required when {why}")
        for field, value, needed, why in dependencies
        if needed and value is None
    ]


def exclusive(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
    """iOSBadge and iOSBadgeAutoIncrement=true together (rule ``mutually_exclusive``)."""
    if values.get("ios_badge") is not None and values.get("ios_badge_auto_increment"):
        return [FieldProblem("iOSBadge", "mutually_exclusive", "must be empty when iOSBadgeAutoIncrement=true")]
    return []


def sms_fallback(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
    """SMS fallback (any ``Sms*`` parameter) needs SmsTemplateName, SmsSignName and SmsDelaySecs."""
    names = ("sms_delay_secs", "sms_params", "sms_send_policy", "sms_sign_name", "sms_template_name")
    if all(values.get(name) is None for name in names):
        return []
    needed = {"SmsTemplateName": "sms_template_name", "SmsSignName": "sms_sign_name", "SmsDelaySecs": "sms_delay_secs"}
    return [
        FieldProblem(api, "required_with", "is required when SMS fallback (any Sms* parameter) is used")
        for api, snake in needed.items()
        if values.get(snake) is None
    ]


#: The rules of one push, in the order their problems are listed.
PUSH_RULES: tuple[RequestRule, ...] = (title_and_body, content_size, target_value, schedule, required_with, exclusive)


# --- request rules: the other actions ------------------------------------------------------------


def alias_or_all(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
    """UnbindAlias: AliasName unless UnbindAll=true (rule ``required``)."""
    if values.get("alias_name") is None and not values.get("unbind_all"):
        return [FieldProblem("AliasName", "required", "is required unless UnbindAll=true")]
    return []


def continuous_targets(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
    """ContinuouslyPush: TargetValue has no empty item and at most 1,000 values."""
    items = values["target_value"].split(",")
    if any(not item for item in items):
        return [FieldProblem("TargetValue", "format", "has an empty item; separate values with single commas")]
    if len(items) > MAX_LIST_TARGETS:
        return [FieldProblem("TargetValue", "max_items", f"takes at most {MAX_LIST_TARGETS} values; got {len(items)}")]
    return []


def period(max_days: int | None = None) -> RequestRule:
    """EndTime not before StartTime and, with ``max_days``, at most that many days after it (rule ``range``)."""

    def check(values: Mapping[str, Any], wire: Mapping[str, str], now: datetime) -> list[FieldProblem]:
        start, end = values["start_time"], values["end_time"]
        if end < start:
            return [FieldProblem("EndTime", "range", "must not be before StartTime")]
        if max_days is not None and end - start > timedelta(days=max_days):
            return [FieldProblem("EndTime", "range", f"must be at most {max_days} days after StartTime")]
        return []

    return check
