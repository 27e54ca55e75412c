"""The one time format of the CloudPush API, ``YYYY-MM-DDThh:mm:ssZ`` (ISO 8601, UTC, whole seconds).

Used for the V2 ``Timestamp`` of every signed request, ``PushTime``/``ExpireTime`` and the query
periods, role-credential ``Expiration`` and the emulator's answers (``alibabacloud-tea-openapi`` 0.4.6
``get_timestamp``; the Push API's parameter docs). Spelled here once, for the client, the models, the
push specs, the credentials and the emulator alike.
"""

from __future__ import annotations

import math
import re
import time
from calendar import timegm
from datetime import datetime, timezone

TYPE_CHECKING = False  # typing stays off the cold-start path; checkers read this as typing's own
if TYPE_CHECKING:
    from collections.abc import Callable

    #: Seconds since the epoch; tests inject their own to walk through time windows.
    Clock = Callable[[], float]

API_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_API_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def system_clock() -> float:
    """``time.time()``: the default :data:`Clock`."""
    return time.time()


def as_utc(instant: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already (platform timestamps are)."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc)


def format_api_time(instant: datetime | float) -> str:
    """``2024-05-01T08:00:00Z`` for a datetime (naive = UTC) or epoch seconds; fractions are dropped.

    Raises what ``time.gmtime`` raises for epoch seconds out of its range (``OverflowError``, ``ValueError``
    for NaN).
    """
    global _last_second
    if isinstance(instant, datetime):
        utc = as_utc(instant)
        return _api_text(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
    # Epoch seconds come many to a second (each request's Timestamp, each emulator record): the text
    # of the last second is kept and reused.
    whole = math.floor(instant)  # the second time.gmtime takes (it floors too)
    last = _last_second
    if last[0] == whole:
        return last[1]
    text = _api_text(*time.gmtime(instant)[:6])
    _last_second = (whole, text)  # one tuple, replaced at once: threads need no lock
    return text


_last_second: tuple[int, str] = (0, "1970-01-01T00:00:00Z")


def _api_text(year: int, month: int, day: int, hour: int, minute: int, second: int) -> str:
    # Not strftime: its %Y leaves a year below 1000 unpadded on glibc ("1-01-01"), which is no API time.
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def parse_iso_time(text: str) -> datetime:
    """``text`` (surrounding blanks ignored) read as ISO 8601 by ``datetime.fromisoformat``, a ``Z``/``z``
    suffix taken as UTC (Python 3.10's ``fromisoformat`` does not know it). A time without an offset
    stays naive: the caller decides whether that is UTC or an error. Raises ``ValueError`` for any
    other text, and for more than 64 characters (no ISO time is that long)."""
    value = text.strip()
    if len(value) > 64:
        raise ValueError("not an ISO-8601 time")
    return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)


def parse_api_time(text: object) -> float | None:
    """Epoch seconds of ``text`` when it is exactly the API format (a real date), else ``None``."""
    global _last_parsed
    last = _last_parsed
    if type(text) is str and text == last[0]:
        return last[1]  # requests share their Timestamp within each second: the last one read is kept
    seconds = _parse_api_time(text)
    if type(text) is str:
        _last_parsed = (text, seconds)  # one tuple, replaced at once: threads need no lock
    return seconds


_last_parsed: tuple[str, float | None] = ("", None)


def _parse_api_time(text: object) -> float | None:
    match = _API_TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second = map(int, match.groups())
    # The checks of time.strptime's %H %M %S (a leap second's 60 and 61 pass), without its cost.
    if hour > 23 or minute > 59 or second > 61:
        return None
    try:
        datetime(year, month, day)
    except ValueError:  # 2024-02-30T00:00:00Z: the right shape, no such day
        return None
    return float(timegm((year, month, day, hour, minute, second)))


__all__ = ["API_TIME_FORMAT", "as_utc", "format_api_time", "parse_api_time", "parse_iso_time", "system_clock"]
