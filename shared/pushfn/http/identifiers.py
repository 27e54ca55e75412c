"""What one CloudPush identifier may look like: device ids, aliases, accounts and tags.

A route such as ``POST /devices/{deviceId}/tags`` acts on exactly one device. CloudPush takes
comma-separated lists in the same parameters (``DeviceId=a,b``), so a path parameter that decoded to
``id1,id2`` would silently widen a one-device route to two. Every path parameter is therefore
percent-decoded once and checked as exactly one identifier of its kind by the rules of
:mod:`pushfn.identifiers` (re-exported here); the same rules apply to the alias and tag names of request
bodies (:mod:`pushfn.http.schemas`) and to the lines of target files (:mod:`pushfn.targets`).

The table of rules is in :mod:`pushfn.identifiers`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import unquote

from pushfn.errors import FieldProblem
from pushfn.identifiers import Check, check_account, check_alias, check_device_id, check_tag

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
