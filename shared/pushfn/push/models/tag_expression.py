"""Target=TAG values: one tag name, or a JSON tag expression
(tag format, https://help.aliyun.com/document_detail/48055.html).

Grammar: a node is an object with exactly one key -- ``tag`` (a tag name), ``and`` / ``or`` (an
array of 1..10 sub-expressions), ``not`` (one sub-expression). and/or nest at most 2 deep, at most
50 tags in all, and ``not`` cannot be the whole expression (there is no universal set to negate).
"""

from __future__ import annotations

from pushfn.identifiers import is_blank
from pushfn.json_input import JsonInputError, decode_json

TYPE_CHECKING = False  # `typing` stays off the cold path (type checkers read this as typing.TYPE_CHECKING)
if TYPE_CHECKING:
    from typing import Any

MAX_TAG_CHARS = 128
MAX_DEPTH = 2
MAX_OPERANDS = 10
MAX_TAGS = 50
_KEYS = ("and", "or", "not", "tag")

#: (rule, message) pairs; empty when the value is fine.
Issues = list[tuple[str, str]]


def check_tag_target(value: str) -> Issues:
    """The problems of a ``Target=TAG`` ``TargetValue``: JSON text starting with ``{`` is a tag expression
    (:func:`check_tag_expression`), anything else one tag name (1-128 characters, no comma)."""
    if value.lstrip().startswith("{"):
        try:
            expression = decode_json(value)
        except JsonInputError as exc:
            if exc.rule == "json":
                return [("format", "looks like a tag expression but is not valid JSON")]
            return [(exc.rule, f"tag expression: {exc.detail}")]
        return check_tag_expression(expression)
    return _check_tag_name(value, "TargetValue")


def check_tag_expression(expression: Any) -> Issues:
    """Every ``(rule, message)`` by which a decoded tag expression breaks the grammar above; each
    message starts with the node's path (``$.and[1]``). Empty when it is fine."""
    if isinstance(expression, dict) and list(expression) == ["not"]:
        return [
            (
                "format",
                "a 'not' expression cannot stand alone; combine it with 'and', e.g. "
                '{"and":[{"tag":"a"},{"not":{"tag":"b"}}]}',
            )
        ]
    walker = _Walker()
    walker.visit(expression, depth=0, path="$")
    if walker.tags > MAX_TAGS:
        walker.issues.append(("max_items", f"a tag expression may use at most {MAX_TAGS} tags; got {walker.tags}"))
    return walker.issues


def _check_tag_name(name: Any, where: str) -> Issues:
    if not isinstance(name, str) or not name:
        return [("format", f"{where}: a tag name must be a non-empty string")]
    if is_blank(name):  # nothing visible names no tag (pushfn.identifiers refuses it the same way)
        return [("required", f"{where}: a tag name must not be blank")]
    if len(name) > MAX_TAG_CHARS:
        return [("max_length", f"{where}: a tag name may be at most {MAX_TAG_CHARS} characters; got {len(name)}")]
    if "," in name:
        return [("format", f"{where}: one tag name cannot contain ','; use a JSON tag expression for several tags")]
    return []


class _Walker:
    def __init__(self) -> None:
        self.issues: Issues = []
        self.tags = 0

    def visit(self, node: Any, depth: int, path: str) -> None:
        if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in _KEYS:
            self.issues.append(
                ("format", f"{path}: each node must be an object with exactly one of 'and', 'or', 'not', 'tag'")
            )
            return
        key, value = next(iter(node.items()))
        if key == "tag":
            self.tags += 1
            self.issues.extend(_check_tag_name(value, path))
        elif key == "not":
            # Recursion here is bounded: TargetValue's JSON was checked to nest at most 32 deep.
            self.visit(value, depth, f"{path}.not")
        else:
            self._visit_operands(key, value, depth + 1, f"{path}.{key}")

    def _visit_operands(self, key: str, operands: Any, depth: int, path: str) -> None:
        if depth > MAX_DEPTH:
            self.issues.append(("max_depth", f"{path}: 'and'/'or' may nest at most {MAX_DEPTH} levels deep"))
            return
        if not isinstance(operands, list) or not operands:
            self.issues.append(("format", f"{path}: '{key}' needs an array of at least one sub-expression"))
            return
        if len(operands) > MAX_OPERANDS:
            self.issues.append(
                ("max_items", f"{path}: '{key}' may have at most {MAX_OPERANDS} operands; got {len(operands)}")
            )
        for index, operand in enumerate(operands):
            self.visit(operand, depth, f"{path}[{index}]")
