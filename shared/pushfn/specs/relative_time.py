"""Relative times in push specs (``"+5m"``, ``"24h"``) and the wire format of absolute ones.

A schedule or a queued job is written once and run many times (late, redelivered, retried), so a
relative time is resolved against a *reference* instant the caller chooses — the scheduled time of
a tick, the send time of a message — never the wall clock: the same input then always yields the
same request.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

#: One or more ``<number><unit>`` parts, e.g. ``90s``, ``5m``, ``1h30m``, ``2d``, ``1w``.
_DURATION = re.compile(r"^(?:\d+[smhdw])+$")
_PART = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class DurationSyntaxError(ValueError):
    """The text is not a duration such as ``+5m`` or ``24h`` (translated to a FieldProblem by callers)."""


def parse_duration(text: str) -> timedelta:
    """``"+5m"`` / ``"5m"`` / ``"1h30m"`` → :class:`timedelta`. Negative durations are refused."""
    compact = text.strip().lstrip("+").replace(" ", "")
    if not _DURATION.match(compact):
        raise DurationSyntaxError(
            f"{text!r} is not a duration: use a number and a unit s/m/h/d/w, e.g. '+5m', '24h', '1h30m'"
        )
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(compact))
    return timedelta(seconds=seconds)


def is_relative(value: object) -> bool:
    """A relative time starts with ``+`` (``"+5m"``); anything else is taken as absolute."""
    return isinstance(value, str) and value.strip().startswith("+")


def format_time(instant: datetime) -> str:
    """CloudPush's time format: ISO-8601 UTC to the second, ``YYYY-MM-DDThh:mm:ssZ``."""
    return as_utc(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_utc(instant: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken to be UTC already (platform timestamps are)."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc)


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 timestamp as platforms send them (``2023-12-26T07:49:00Z``, with or
    without fractional seconds or an offset) into an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(value))
