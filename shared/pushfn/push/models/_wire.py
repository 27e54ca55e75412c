"""How parameter values travel: every value is a string on the wire.

Both official Python SDKs send booleans as ``True``/``False`` (``str()``); the docs say
``true``/``false``, so that is what we send.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pushfn.api_time import format_api_time


def compact_json(value: Any) -> str:
    """JSON without spaces and with readable non-ASCII text (CJK counts 3 bytes, not 6)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def join_commas(values: Sequence[str]) -> str:
    """A list parameter's wire form: the items joined by ``,`` (no spaces, no escaping)."""
    return ",".join(values)


def to_wire(value: Any) -> str:
    """One already-serialised parameter value as the string that is sent."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return format_api_time(value)
    return compact_json(value)


def utf8_len(text: str) -> int:
    """Size of ``text`` in UTF-8 bytes, the unit of CloudPush's size limits (a CJK character counts 3)."""
    return len(text.encode("utf-8"))
