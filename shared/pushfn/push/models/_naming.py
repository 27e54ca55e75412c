"""The two spellings of every parameter (the "did you mean" hint is :func:`pushfn.problems.did_you_mean`).

CloudPush parameter names are case-sensitive and every iOS one starts with a lowercase ``iOS``
(``iOSBadge``). Clients that re-capitalised them (``IOSBadge``) silently lost the parameter, so a
name that differs only in case is *rejected* with a hint rather than quietly accepted.
"""

from __future__ import annotations

import re

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
