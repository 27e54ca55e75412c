"""Where JSON from outside enters pushfn: one decoder, one set of bounds, for every input path.

Every document a caller, a platform or an operator hands us — an HTTP body, a queue message, a timer
payload, a templates or schedules file, ``pushfn push --json``, a tag expression or ext-parameters map
inside a field — goes through :func:`decode_json`. Values that arrive already decoded (a Lambda event
is parsed by the runtime before our handler sees it) go through :func:`check_json_value`. Both apply
the same rules, so a poison document is refused the same way, with the same words, wherever it enters:

==================  =====================================================================================
rule                refused
==================  =====================================================================================
``encoding``        bytes that are not UTF-8 (a leading BOM is dropped, with or without ``utf-8-sig``)
``json``            malformed JSON, ``NaN`` / ``Infinity`` (not JSON, RFC 8259 §6)
``duplicate_key``   an object naming a key twice (parsers disagree on which value wins, RFC 8259 §4)
``depth``           arrays and objects nested deeper than :data:`MAX_DEPTH`
``max_length``      a string (value or key) longer than :data:`MAX_STRING_CHARS` characters
``number``          an integer outside the signed 64-bit range, or a number that overflows a double
``text``            a string holding a lone UTF-16 surrogate (``"\\ud800"``), which is not Unicode text
                    and cannot be encoded to UTF-8 for signing
==================  =====================================================================================

Every refusal names the dotted path of the value at fault (``PushTask.2.iOSBadge``, ``""`` for the
document), the parser's own (numbers, ``NaN``, duplicate keys) included, so the caller learns which
field to fix.

The bounds are far above anything CloudPush accepts (its largest text field is a few KB, its tag
expressions nest two deep) and far below what hurts: Python's recursion limit, the 4,300-digit
integer-conversion limit, memory.
"""

from __future__ import annotations

import json
import math

from pushfn.errors import PushfnError

TYPE_CHECKING = False  # `typing` stays off the cold path (type checkers read this as typing.TYPE_CHECKING)
if TYPE_CHECKING:
    from typing import Any

#: Deepest nesting of arrays and objects accepted (the document itself is depth 1).
MAX_DEPTH = 32
#: Longest string, value or key, in characters.
MAX_STRING_CHARS = 65_536
#: Integers are accepted in the signed 64-bit range, the widest any CloudPush parameter uses.
MIN_INT = -(2**63)
MAX_INT = 2**63 - 1
_MAX_INT_DIGITS = len(str(MAX_INT))


class JsonInputError(PushfnError, ValueError):
    """A JSON document (or decoded value) broke one of the rules in this module's table.

    ``rule`` is the table's name for it; ``path`` locates the offending value with dots
    (``PushTask.3.Title``, positions counted from 1; ``""`` for the document itself), in the form field problems use.
    """

    def __init__(self, message: str, rule: str, path: str = "") -> None:
        self.rule = rule
        self.path = path
        self.detail = message
        super().__init__(f"{path}: {message}" if path else message)


def decode_json(data: bytes | bytearray | memoryview | str, *, max_string_chars: int = MAX_STRING_CHARS) -> Any:
    """Decode one JSON document from UTF-8 bytes or text, applying every rule of this module.

    Returns the value (``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` or ``None``).
    ``max_string_chars`` raises the string bound for envelopes that carry a whole payload in one
    string (a platform event's ``body``, bounded by the platform and the caller's own size check).
    Raises :class:`JsonInputError` naming the rule broken and, where known, the path.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"not UTF-8 text (invalid byte at offset {exc.start})", "encoding") from None
    elif isinstance(data, str):
        text = data
    else:
        raise JsonInputError(f"expected JSON text, got {type(data).__name__}", "json")
    text = text.removeprefix("\ufeff")
    try:
        # The hooks do not raise: a refused number, constant or object stays in the tree as a
        # _Refused marker, so check_json_value reports it with its path (iOSBadge, not the document).
        value = json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except RecursionError:
        raise JsonInputError(f"nested deeper than {MAX_DEPTH} levels", "depth") from None
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", "json") from None
    except ValueError as exc:  # pragma: no cover - json raises JSONDecodeError for everything we know of
        raise JsonInputError(f"not valid JSON: {exc}", "json") from None
    check_json_value(value, max_string_chars=max_string_chars)
    return value


def check_json_value(value: Any, path: str = "", *, max_string_chars: int = MAX_STRING_CHARS) -> Any:
    """Apply the depth, string, number and text rules to an already decoded value; return it unchanged.

    Accepts only JSON's types (``dict`` with ``str`` keys, ``list``/``tuple``, ``str``, ``int``,
    ``float``, ``bool``, ``None``). Iterative, so a value nested a million deep costs no recursion.
    Raises :class:`JsonInputError`.
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, _Refused):
            raise JsonInputError(item.message, item.rule, item.at(where))
        if isinstance(item, str):
            check_text(item, where, max_string_chars=max_string_chars)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not MIN_INT <= item <= MAX_INT:
                raise JsonInputError("integer outside the signed 64-bit range", "number", where)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise JsonInputError("number is not finite", "number", where)
        elif isinstance(item, dict):
            if depth > MAX_DEPTH:
                raise JsonInputError(f"nested deeper than {MAX_DEPTH} levels", "depth", where)
            for key, child in item.items():
                if not isinstance(key, str):
                    raise JsonInputError("object keys must be strings", "json", where)
                child_path = f"{where}.{_path_part(key)}" if where else _path_part(key)
                check_text(key, child_path, max_string_chars=max_string_chars)
                stack.append((child, child_path, depth + 1))
        elif isinstance(item, (list, tuple)):
            if depth > MAX_DEPTH:
                raise JsonInputError(f"nested deeper than {MAX_DEPTH} levels", "depth", where)
            # Positions count from 1, as CloudPush numbers list parameters (PushTask.1.Title) and as
            # every other pushfn field problem does.
            for position, child in enumerate(item, 1):
                stack.append((child, f"{where}.{position}" if where else str(position), depth + 1))
        else:
            raise JsonInputError(f"{type(item).__name__} is not a JSON type", "json", where)
    return value


def check_text(value: str, path: str = "", *, max_string_chars: int = MAX_STRING_CHARS) -> str:
    """A string's own rules: at most ``max_string_chars`` characters, no lone surrogates."""
    if len(value) > max_string_chars:
        raise JsonInputError(f"string longer than {max_string_chars} characters ({len(value)})", "max_length", path)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JsonInputError(
                f"contains a lone surrogate (U+{ord(value[exc.start]):04X} at character {exc.start}), "
                "which is not Unicode text",
                "text",
                path,
            ) from None
    return value


def _path_part(key: str) -> str:
    # A path is shown to callers and written to logs, so a key becomes safe text first: escaped when it
    # holds a control character or a lone surrogate (neither is printable), and shortened.
    if not key.isprintable():
        key = key.encode("unicode_escape").decode("ascii")
    if len(key) <= 64:
        return key
    from pushfn.masking import shorten  # only for a long key: masking stays off the common path

    return shorten(key, 64, "...")


def describe_json_type(value: Any) -> str:
    """``"an object"``, ``"an array"``, ``"a string"``, ``"a number"``, ``"a boolean"`` or ``"null"``."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number"


class _Refused:
    """Left by the parser where a value breaks a rule (``message``, ``rule``); ``key`` names the
    duplicated key of an object. :func:`check_json_value` raises it with the path where it sits."""

    __slots__ = ("key", "message", "rule")

    def __init__(self, message: str, rule: str, key: str | None = None) -> None:
        self.message, self.rule, self.key = message, rule, key

    def at(self, where: str) -> str:
        if self.key is None:
            return where
        return f"{where}.{_path_part(self.key)}" if where else _path_part(self.key)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> Any:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            from pushfn.masking import shorten  # rare: only a refused document pays for it

            return _Refused(f"duplicate key {shorten(key, 64)!r}", "duplicate_key", key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    return _Refused(f"{name} is not valid JSON", "json")


def _bounded_int(digits: str) -> Any:
    # The digits are counted before int() runs, so a 5,000-digit literal costs nothing.
    if len(digits.lstrip("-")) > _MAX_INT_DIGITS or not MIN_INT <= int(digits) <= MAX_INT:
        return _Refused("integer outside the signed 64-bit range", "number")
    return int(digits)


def _finite_float(digits: str) -> Any:
    number = float(digits)
    if not math.isfinite(number):
        return _Refused(f"number {digits[:32]} overflows a double", "number")
    return number


__all__ = [
    "MAX_DEPTH",
    "MAX_INT",
    "MAX_STRING_CHARS",
    "MIN_INT",
    "JsonInputError",
    "check_json_value",
    "check_text",
    "decode_json",
    "describe_json_type",
]
