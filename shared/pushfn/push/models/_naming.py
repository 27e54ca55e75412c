"""The two spellings of every parameter, and "did you mean" hints for unknown ones.

CloudPush parameter names are case-sensitive and every iOS one starts with a lowercase ``iOS``
(``iOSBadge``). Clients that re-capitalised them (``IOSBadge``) silently lost the parameter, so a
name that differs only in case is *rejected* with a hint rather than quietly accepted.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

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


def _fold(name: str) -> str:
    # Case and underscores are what people get wrong; fold both away to compare.
    return name.replace("_", "").lower()


def suggest(unknown: str, api_names: Iterable[str]) -> str | None:
    """The API name ``unknown`` was most likely meant to be, or None."""
    folded: dict[str, str] = {}
    for api in api_names:
        folded.setdefault(_fold(api), api)
        folded.setdefault(_fold(snake_name(api)), api)
    key = _fold(unknown)
    if key in folded:
        return folded[key]
    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.75)
    return folded[close[0]] if close else None
