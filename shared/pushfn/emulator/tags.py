"""Target=TAG values: a plain tag name, or a JSON expression of ``and`` / ``or`` / ``not`` / ``tag``.

Grammar and limits from the tag-format page (https://help.aliyun.com/document_detail/48055.html):
and/or take an array of 1..10
operands and nest at most 2 deep, ``not`` takes one operand, at most 50 tags in all, and ``not``
cannot stand alone (there is no universal set to subtract from).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from pushfn.emulator.errors import invalid

MAX_TAG_CHARS = 128
MAX_OPERANDS = 10
MAX_NESTING = 2
MAX_TAGS = 50


@dataclass(frozen=True)
class TagNode:
    """One node of a tag expression: ``op`` ``tag`` with a ``name``, or ``and`` / ``or`` / ``not`` with ``operands``."""

    op: str  # "tag" | "and" | "or" | "not"
    name: str = ""
    operands: tuple[TagNode, ...] = ()


def _fail(path: str, why: str) -> Exception:
    return invalid("TargetValue", "Format", f"{path} is not a valid tag expression: {why}.")


def check_tag_name(name: object, path: str) -> str:
    """``name`` if it is a non-blank string of at most 128 characters.

    Raises :class:`ApiError` ``InvalidTargetValue.Format`` or ``InvalidTargetValue.BytesExceed``, naming ``path``.
    """
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "a tag name must be a non-empty string")
    if len(name) > MAX_TAG_CHARS:
        raise invalid("TargetValue", "BytesExceed", f"{path}: tag names are limited to {MAX_TAG_CHARS} characters.")
    return name


def parse_tag_target(value: str, path: str = "TargetValue") -> TagNode:
    """Parse and validate; a value that is not a JSON object is one tag name."""
    if not value.lstrip().startswith("{"):
        return TagNode("tag", check_tag_name(value, path))
    try:
        data = json.loads(value)
    except ValueError:
        raise _fail(path, "malformed JSON") from None
    if isinstance(data, dict) and set(data) == {"not"}:
        raise _fail(path, "'not' cannot stand alone")
    counter = [0]
    return _parse_node(data, path, depth=0, counter=counter)


def _parse_node(data: object, path: str, depth: int, counter: list[int]) -> TagNode:
    if not isinstance(data, dict) or len(data) != 1:
        raise _fail(path, "each node must be an object with exactly one of and/or/not/tag")
    ((op, arg),) = data.items()
    if op == "tag":
        counter[0] += 1
        if counter[0] > MAX_TAGS:
            raise _fail(path, f"at most {MAX_TAGS} tags")
        return TagNode("tag", check_tag_name(arg, path))
    if op == "not":
        return TagNode("not", operands=(_parse_node(arg, path, depth, counter),))
    if op in ("and", "or"):
        if depth >= MAX_NESTING:
            raise _fail(path, f"and/or nest at most {MAX_NESTING} deep")
        if not isinstance(arg, list) or not 1 <= len(arg) <= MAX_OPERANDS:
            raise _fail(path, f"'{op}' takes an array of 1 to {MAX_OPERANDS} operands")
        return TagNode(op, operands=tuple(_parse_node(item, path, depth + 1, counter) for item in arg))
    raise _fail(path, f"unknown keyword {op!r}")


def evaluate(node: TagNode, members: Callable[[str], set[str]], universe: set[str]) -> set[str]:
    """Device ids matched by the expression; ``not`` is relative to ``universe``."""
    if node.op == "tag":
        return members(node.name) & universe
    if node.op == "not":
        return universe - evaluate(node.operands[0], members, universe)
    results = [evaluate(operand, members, universe) for operand in node.operands]
    if node.op == "and":
        return set.intersection(*results)
    return set.union(*results)
