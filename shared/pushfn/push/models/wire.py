"""Parameter names and values as CloudPush sees them: every name has two spellings, every value is a string.

Names: fields are declared in snake_case (``ios_badge``) and sent under their case-sensitive API name
(``iOSBadge``). CloudPush names are case-sensitive and every iOS one starts with a lowercase ``iOS``;
clients that re-capitalised them (``IOSBadge``) silently lost the parameter, so a name that differs only
in case is *rejected* with a hint rather than quietly accepted (the hint: :func:`pushfn.problems.did_you_mean`).

Values: both official Python SDKs send booleans as ``True``/``False`` (``str()``); the docs say
``true``/``false``, so that is what we send.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from pushfn.api_time import format_api_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

_IOS_PREFIX = "iOS"
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def api_name(snake: str) -> str:
    """``ios_badge`` -> ``iOSBadge``; ``android_open_type`` -> ``AndroidOpenType``."""
    head, *rest = snake.split("_")
    first = _IOS_PREFIX if head == "ios" else head.capitalize()
    return first + "".join(part.capitalize() for part in rest)


def snake_name(api: str) -> str:
    """``iOSBadge`` -> ``ios_badge``; ``AndroidXiaoMiActivity`` -> ``android_xiao_mi_activity``."""
    if api.startswith(_IOS_PREFIX):
        api = "Ios" + api[len(_IOS_PREFIX) :]
    return _CAMEL_BOUNDARY.sub("_", api).lower()


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
