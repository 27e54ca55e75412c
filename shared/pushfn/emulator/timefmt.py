"""The one time format of the API, ``YYYY-MM-DDThh:mm:ssZ`` (UTC), and the injectable clock."""

from __future__ import annotations

import re
import time
from calendar import timegm
from collections.abc import Callable

#: Seconds since the epoch; tests inject their own to walk through the 15-minute windows.
Clock = Callable[[], float]

API_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_API_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def system_clock() -> float:
    return time.time()


def parse_api_time(value: str) -> float | None:
    """Epoch seconds of an API timestamp, ``None`` when it is not exactly the documented format."""
    if not isinstance(value, str) or not _API_PATTERN.fullmatch(value):
        return None
    try:
        parsed = time.strptime(value, API_FORMAT)
    except (ValueError, TypeError):
        return None
    return float(timegm(parsed))


def format_api_time(epoch: float) -> str:
    return time.strftime(API_FORMAT, time.gmtime(epoch))
