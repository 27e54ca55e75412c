"""What one CloudPush identifier may look like: device ids, aliases, accounts and tags.

A route such as ``POST /devices/{deviceId}/tags`` acts on exactly one device. CloudPush takes
comma-separated lists in the same parameters (``DeviceId=a,b``), so a path parameter that decoded to
``id1,id2`` would silently widen a one-device route to two. Every path parameter is therefore
percent-decoded once and checked as exactly one identifier of its kind; the same rules apply to the
alias and tag names of request bodies (:mod:`pushfn.http.schemas`).

==========  ==========================================================================
kind        rule
==========  ==========================================================================
device id   exactly 32 ASCII letters or digits
alias       1-128 UTF-8 bytes, no comma, no control character
account     1-64 UTF-8 bytes, no comma, no control character
tag         1-128 characters, no comma, no control character
==========  ==========================================================================

Control characters are C0 (U+0000-U+001F), DEL and C1 (U+007F-U+009F): no name needs them and they
break logs, consoles and CloudPush's own parsing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import unquote

from pushfn.push.errors import FieldProblem

_DEVICE_ID = re.compile(r"[A-Za-z0-9]{32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: ``check(value) -> (rule, message)`` of the first rule broken, or ``None`` when the value is fine.
Check = Callable[[str], "tuple[str, str] | None"]


def check_device_id(value: str) -> tuple[str, str] | None:
    """One device id: exactly 32 ASCII letters or digits."""
    if _DEVICE_ID.fullmatch(value):
        return None
    if "," in value:
        return "single_value", "must be exactly one device id, not a list"
    return "device_id", "must be exactly one device id: 32 letters or digits"


def _name_check(kind: str, limit: int, *, unit: str) -> Check:
    def check(value: str) -> tuple[str, str] | None:
        if not value:
            return "required", f"must be one {kind}, not empty"
        if "," in value:
            return "single_value", f"must be exactly one {kind}: a comma would make it a list"
        if _CONTROL.search(value):
            return "control_character", f"must not contain control characters (one {kind})"
        try:
            size = len(value.encode("utf-8")) if unit == "bytes" else len(value)
        except UnicodeEncodeError:
            return "encoding", f"must be Unicode text (one {kind})"
        if size > limit:
            return ("max_bytes" if unit == "bytes" else "max_length"), f"must be at most {limit} {unit} (one {kind})"
        return None

    check.__doc__ = f"One {kind}: 1-{limit} {unit}, no comma, no control character."
    return check


check_alias = _name_check("alias", 128, unit="bytes")
check_account = _name_check("account", 64, unit="bytes")
check_tag = _name_check("tag", 128, unit="characters")

#: Path parameter name → its rule. A route may only use names listed here.
PATH_PARAMETERS: Mapping[str, Check] = {
    "deviceId": check_device_id,
    "aliasName": check_alias,
    "alias": check_alias,
    "account": check_account,
    "tagName": check_tag,
    "tag": check_tag,
}


def decode_path_parameter(name: str, raw: str) -> tuple[str, FieldProblem | None]:
    """Percent-decode ``raw`` once and check it as one identifier of ``name``'s kind.

    Returns the decoded value and ``None``, or the raw value and the :class:`FieldProblem` naming the
    parameter and the rule (``encoding`` for escapes that are not UTF-8). A name without a rule is
    refused (``KeyError``), so a new route cannot forget to choose one.
    """
    check = PATH_PARAMETERS[name]
    try:
        value = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return raw, FieldProblem(name, "encoding", "path parameter: percent-escapes must be UTF-8")
    broken = check(value)
    if broken is not None:
        rule, message = broken
        return raw, FieldProblem(name, rule, f"path parameter: {message}")
    return value, None


def body_name_validator(check: Check) -> Callable[[str], str]:
    """A pydantic ``AfterValidator`` applying ``check`` to a name in a request body."""

    def validate(value: str) -> str:
        broken = check(value)
        if broken is not None:
            raise ValueError(broken[1])
        return value

    return validate


__all__ = [
    "PATH_PARAMETERS",
    "body_name_validator",
    "check_account",
    "check_alias",
    "check_device_id",
    "check_tag",
    "decode_path_parameter",
]
