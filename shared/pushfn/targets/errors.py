"""Errors of the target-file reader: a file that cannot be read as a list of targets as a whole.

A single bad line is never an error: it is a :class:`~pushfn.targets.report.LineProblem` in the report
and the file goes on. These are raised only when the *file* is unusable (its name says no known
format, its gzip stream is corrupt, its CSV header names no target type, its quoting runs away).
"""

from __future__ import annotations

from pushfn.errors import PushfnError


class TargetFileError(PushfnError, ValueError):
    """The file cannot be read as a list of targets: ``rule`` is a stable id (``format``, ``gzip``,
    ``header``, ``csv``), ``line`` the physical line (1-based) where reading stopped, or ``None`` when the
    file was refused before any line was read. Permanent: reading it again gives the same answer.
    """

    def __init__(self, rule: str, message: str, line: int | None = None) -> None:
        self.rule = rule
        self.detail = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)

    def to_dict(self) -> dict[str, object]:
        """``{"rule", "message", "line"}``, the ``rejected`` entry of a file report."""
        return {"rule": self.rule, "message": self.detail, "line": self.line}


class UnsupportedFormatError(TargetFileError):
    """The object name ends in no known format (``.txt``, ``.csv``, ``.jsonl``, each optionally ``.gz``);
    rule ``format``. Raised before a byte is read."""

    def __init__(self, message: str) -> None:
        super().__init__("format", message)


class ObjectStoreError(PushfnError):
    """Reading or writing an object failed. ``reason`` is a stable id (``not_found``, ``forbidden``,
    ``name``, ``too_large``, ``unavailable``, ``credentials``); ``transient`` says whether a retry can
    help (a network failure, a 5xx, throttling, credentials not given) or not (a missing or forbidden
    object, a refused name)."""

    def __init__(self, message: str, *, reason: str, transient: bool = False) -> None:
        self.reason = reason
        self.transient = transient
        super().__init__(message)


class ObjectNameError(ObjectStoreError, ValueError):
    """An object name the local reader refuses: ``..`` segments, an absolute path, a NUL or control
    character, an empty name. Permanent (reason ``name``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="name")


__all__ = ["ObjectNameError", "ObjectStoreError", "TargetFileError", "UnsupportedFormatError"]
