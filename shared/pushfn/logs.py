"""Logging helpers: masking of secrets and device ids, and one JSON-lines formatter.

Masking lives in one place so every module hides values the same way, and a test can check that
no log line carries a secret or a full device id.
"""

from __future__ import annotations

import json
import logging
from typing import Any

#: Characters of a sensitive value left visible (enough to correlate, not to reuse).
_VISIBLE = 4


def mask(value: object) -> str:
    """``"e2ba19de97604f55b165576736477b74"`` → ``"e2ba…(32)"``; short values are hidden entirely."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    if len(text) <= _VISIBLE * 2:
        return f"…({len(text)})"
    return f"{text[:_VISIBLE]}…({len(text)})"


def mask_list(values: str, sep: str = ",") -> str:
    """Mask each item of a comma-separated target list, keeping at most three for brevity."""
    items = [v for v in values.split(sep) if v]
    shown = ",".join(mask(v) for v in items[:3])
    return shown + (f",+{len(items) - 3} more" if len(items) > 3 else "")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what Function Compute's and Lambda's log services index best."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False, default=str)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
