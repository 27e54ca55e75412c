"""What one CloudPush identifier may look like: device ids, aliases, accounts and tags.

CloudPush takes comma-separated lists in the parameters that name devices, accounts and aliases
(``DeviceId=a,b``, ``TargetValue=u1,u2``), so wherever pushfn takes *one* identifier — an HTTP path
parameter (:mod:`pushfn.http.identifiers`), an alias or tag in a request body, a line of a target file
(:mod:`pushfn.targets`) — it checks it with these rules, so one identifier can never widen into two:

==========  ==========================================================================
kind        rule
==========  ==========================================================================
device id   exactly 32 ASCII letters or digits
alias       1-128 UTF-8 bytes, not blank, no comma, no control character
account     1-64 UTF-8 bytes, not blank, no comma, no control character
tag         1-128 characters, not blank, no comma, no control character
==========  ==========================================================================

Blank (:func:`is_blank`) is nothing visible: only whitespace and invisible format characters (U+200B
zero width space, U+FEFF, U+2060 word joiner, bidi marks: Unicode category Cf), which name nobody.
Control characters are C0 (U+0000-U+001F), DEL and C1 (U+007F-U+009F): no name needs them and they
break logs, consoles and CloudPush's own parsing. Each check returns ``(rule, message)`` of the first
rule broken (rules ``device_id``, ``single_value``, ``required``, ``control_character``, ``encoding``,
``max_bytes``, ``max_length``), or ``None``. This module imports nothing of pushfn's, so any entry
point may use it without paying for the HTTP app.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_DEVICE_ID = re.compile(r"[A-Za-z0-9]{32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: empty, or only whitespace and invisible format characters
    (Unicode category Cf: U+200B, U+FEFF, U+2060, bidi marks). ``str.strip`` keeps the latter, so a
    name of one U+FEFF passed as a name and reached CloudPush as one that names nobody."""
    if text.isascii():  # no ASCII character is a format character (Cf)
        return not text or text.isspace()
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


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
        if is_blank(value):  # nothing visible names nothing (the emulator answers MissingAliasName for " ")
            return "required", f"must be one {kind}, not empty or blank"
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

    check.__doc__ = f"One {kind}: 1-{limit} {unit}, not blank, no comma, no control character."
    return check


check_alias = _name_check("alias", 128, unit="bytes")
check_account = _name_check("account", 64, unit="bytes")
check_tag = _name_check("tag", 128, unit="characters")


__all__ = ["Check", "check_account", "check_alias", "check_device_id", "check_tag"]
