"""Relative times in push specs (``"+5m"``, ``"24h"``) and the wire format of absolute ones.

A schedule or a queued job is written once and run many times (late, redelivered, retried), so a
relative time is resolved against a *reference* instant the caller chooses — the scheduled time of
a tick, the send time of a message — never the wall clock: the same input then always yields the
same request.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pushfn.api_time import as_utc, format_api_time, parse_iso_time
from pushfn.errors import PushfnError

#: One or more ``<number><unit>`` parts, e.g. ``90s``, ``5m``, ``1h30m``, ``2d``, ``1w``.
# ASCII digits only: \d and int() also take "５" (fullwidth), which no one means in a duration.
_DURATION = re.compile(r"^(?:[0-9]+[smhdw])+$")
_PART = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: Longest duration accepted. CloudPush schedules at most 7 days ahead and expires at most 3 days
#: later, so a year is generous, and it keeps every sum far from datetime's year-9999 edge.
MAX_DURATION = timedelta(days=366)
#: Longest duration text looked at; anything longer is refused before any number is converted.
_MAX_DURATION_CHARS = 64


class DurationSyntaxError(PushfnError, ValueError):
    """The text is not a duration such as ``+5m`` or ``24h`` (translated to a FieldProblem by callers).

    A :class:`ValueError` too, as it always was, so existing ``except ValueError`` code still catches it.
    """


def parse_duration(text: str) -> timedelta:
    """``"+5m"`` / ``"5m"`` / ``"1h30m"`` → :class:`timedelta`.

    Raises :class:`DurationSyntaxError` for anything else, a negative duration, or one longer than
    :data:`MAX_DURATION` (``"+999999999w"`` is refused here, never left to overflow a datetime).
    """
    if not isinstance(text, str):
        raise DurationSyntaxError("must be a duration string such as '+5m' or '24h'")
    compact = text.strip().lstrip("+").replace(" ", "")
    if len(compact) > _MAX_DURATION_CHARS or not _DURATION.match(compact):
        raise DurationSyntaxError(
            f"{_shown(text)} is not a duration: use a number and a unit s/m/h/d/w, e.g. '+5m', '24h', '1h30m'"
        )
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(compact))
    if seconds > MAX_DURATION.total_seconds():
        raise DurationSyntaxError(f"{_shown(text)} is longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def shift(instant: datetime, delta: timedelta) -> datetime:
    """``instant + delta``, raising :class:`DurationSyntaxError` instead of ``OverflowError`` when the
    result falls outside the years 1-9999 (a reference time near year 9999 plus any offset)."""
    try:
        return instant + delta
    except OverflowError:
        raise DurationSyntaxError(f"{format_api_time(instant)} plus {delta} is past the year 9999") from None


def is_relative(value: object) -> bool:
    """A relative time starts with ``+`` (``"+5m"``); anything else is taken as absolute."""
    return isinstance(value, str) and value.strip().startswith("+")


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 timestamp as platforms send them (``2023-12-26T07:49:00Z``, with or
    without fractional seconds or an offset) into an aware UTC datetime.

    Raises ``ValueError`` for anything else, including a time whose UTC form falls outside the
    years 1-9999 (``9999-12-31T23:00:00-05:00``).
    """
    if not isinstance(text, str) or len(text) > 64:
        raise ValueError("not an ISO-8601 time")
    try:
        return as_utc(parse_iso_time(text))
    except OverflowError:
        raise ValueError("the time in UTC is outside the years 1-9999") from None


def _shown(text: str) -> str:
    from pushfn.masking import shorten

    return repr(shorten(text.encode("utf-8", "backslashreplace").decode("utf-8"), 40))
