"""The report of one target file: every line's fate and every chunk's outcome, as one JSON document.

``Report.to_dict()`` (written as ``<key>.report.json`` by the file function)::

    {"version": 1,
     "source": {"bucket": "b", "key": "lists/july.csv", "version": "\\"etag\\"",
                "format": {"kind": "csv", "gzip": false}},
     "status": "planned" | "complete" | "partial" | "rejected",
     "rejected": null | {"rule": "format" | "gzip" | "header" | "csv", "message": "...", "line": 12 | null},
     "campaign": null | {"mode": "continuous", "message_id": "..." | null},   # one MessageId for the file
     "lines_read": 2503,                        # physical lines of the (decompressed) file
     "targets": {"valid": 2497, "invalid": 3, "duplicate": 1},
     "invalid": [{"line": 7, "rule": "device_id", "message": "..."}, ...],   # first 1,000, file order
     "invalid_by_rule": {"device_id": 2, "encoding": 1},                     # every invalid line counted
     "duplicate_lines": [12, ...],              # first 1,000 lines whose target came earlier in the file
     "chunks": {
       "planned": [{"index": 0, "key": "chunk-0000", "action": "Push", "target_type": "DEVICE",
                    "count": 1000, "first_line": 1, "last_line": 1004}, ...],
       "sent": [{"index": 0, "message_id": "...", "request_id": "...", "count": 1000}, ...],
       "failed": [{"index": 2, "code": "InvalidParameter", "request_id": "...", "retryable": false,
                   "count": 497, "message": "...", "dead_letter": "..."}],   # dead_letter: queue function's
       "maybe_sent": [{"index": 1, "count": 1000, "request_id": null, "reason": "..."}],
       "queued": [{"index": 3, "count": 1000, "sink": "sqs", "job_id": "..."}]},   # fanned out, no outcome yet
     "totals": {"chunks": 3, "sent": 1, "failed": 1, "maybe_sent": 1, "pending": 0,
                "targets_sent": 1000, "targets_failed": 497, "targets_maybe_sent": 1000,
                "targets_pending": 0, "queued": 0, "targets_queued": 0},  # the last two when fanned out
     "durations": {"started_at": "2024-07-01T08:00:00Z", "plan_seconds": 0.004, "send_seconds": 1.2}}

Line numbers are physical lines of the file, from 1. ``status`` is ``rejected`` when the file as a
whole could not be read (rows before the failure were still planned: see ``rejected.line``),
``planned`` until a chunk has an outcome, ``partial`` while some planned chunk has none, ``complete``
when every planned chunk was sent, failed or maybe sent. Targets are never listed (the file holds
them); a problem's message never quotes a target.

**Fan-out.** A chunk handed to the queue function is ``queued`` (with the sink and job id) until its
outcome is known, so the file function's own report of a fanned-out file says ``partial``. The queue
function records each chunk job's outcome as a *part* beside the report, and the report is rewritten
``complete`` once every queued chunk has one (:mod:`pushfn.targets.parts`): each queued entry then moves
to ``sent``, ``failed`` (with the dead letter's location when the queue function parked the job) or
``maybe_sent``, keeping ``"via": <sink>``. :meth:`Report.from_dict` reads a written report back for that
merge, so the counts and totals are computed in one place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pushfn.api_time import format_api_time, parse_api_time

#: Invalid lines (and duplicate lines) listed in a report; all of them are counted.
MAX_LISTED_LINES = 1000
#: Version of the report's JSON shape.
REPORT_VERSION = 1


@dataclass(frozen=True, slots=True)
class LineProblem:
    """One line of the file that is not sent: ``line`` (physical, 1-based), ``rule`` (a stable id such
    as ``device_id``, ``encoding``, ``template.missing``) and ``message`` for a person."""

    line: int
    rule: str
    message: str

    def reason(self) -> tuple[str, str]:
        """``(rule, message)`` without the line."""
        return (self.rule, self.message)

    def to_dict(self) -> dict[str, Any]:
        """``{"line", "rule", "message"}``."""
        return {"line": self.line, "rule": self.rule, "message": self.message}


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """A planned chunk as the report lists it: its position, key part, action, type and size."""

    index: int
    key: str
    action: str
    target_type: str
    count: int
    first_line: int
    last_line: int

    def to_dict(self) -> dict[str, Any]:
        """``{"index", "key", "action", "target_type", "count", "first_line", "last_line"}``."""
        return {
            "index": self.index,
            "key": self.key,
            "action": self.action,
            "target_type": self.target_type,
            "count": self.count,
            "first_line": self.first_line,
            "last_line": self.last_line,
        }


@dataclass
class Report:
    """Counts and outcomes of one file, filled by the planner (lines, targets, chunks planned) and by
    the sender (:meth:`chunk_sent`, :meth:`chunk_failed`, :meth:`chunk_maybe_sent`)."""

    bucket: str = ""
    key: str = ""
    version: str = ""
    format: dict[str, Any] | None = None
    lines_read: int = 0
    valid: int = 0
    invalid: int = 0
    duplicate: int = 0
    invalid_lines: list[LineProblem] = field(default_factory=list)
    invalid_by_rule: dict[str, int] = field(default_factory=dict)
    duplicate_lines: list[int] = field(default_factory=list)
    planned: list[ChunkPlan] = field(default_factory=list)
    sent: dict[int, dict[str, Any]] = field(default_factory=dict)
    failed: dict[int, dict[str, Any]] = field(default_factory=dict)
    maybe_sent: dict[int, dict[str, Any]] = field(default_factory=dict)
    queued: dict[int, dict[str, Any]] = field(default_factory=dict)
    rejected: dict[str, Any] | None = None
    campaign: dict[str, Any] | None = None
    started_at: float = field(default_factory=time.time)
    plan_seconds: float | None = None
    send_seconds: float | None = None

    # --- filled while planning -----------------------------------------------------------------

    def add_invalid(self, problem: LineProblem) -> None:
        """Count one invalid line; list it while fewer than :data:`MAX_LISTED_LINES` are listed."""
        self.invalid += 1
        self.invalid_by_rule[problem.rule] = self.invalid_by_rule.get(problem.rule, 0) + 1
        if len(self.invalid_lines) < MAX_LISTED_LINES:
            self.invalid_lines.append(problem)

    def add_duplicate(self, line: int) -> None:
        """Count one line whose target came earlier in the file; list it while the list is short."""
        self.duplicate += 1
        if len(self.duplicate_lines) < MAX_LISTED_LINES:
            self.duplicate_lines.append(line)

    def add_planned(self, plan: ChunkPlan) -> None:
        """Record a planned chunk; its index must be the next one (chunks are numbered 0, 1, 2…)."""
        if plan.index != len(self.planned):
            raise ValueError(f"chunk {plan.index} planned out of order (expected {len(self.planned)})")
        self.planned.append(plan)

    # --- filled while sending ------------------------------------------------------------------

    def chunk_sent(self, index: int, *, message_id: str, request_id: str | None) -> None:
        """Chunk ``index`` was accepted by CloudPush (``MessageId``, ``RequestId``)."""
        self._outcome(index, self.sent, {"message_id": message_id, "request_id": request_id})

    def chunk_failed(
        self,
        index: int,
        *,
        code: str,
        request_id: str | None,
        retryable: bool,
        message: str = "",
        dead_letter: str | None = None,
    ) -> None:
        """Chunk ``index`` was refused for certain (nothing sent): the service's ``Code`` and ``RequestId``;
        ``dead_letter`` is where the queue function parked the chunk job, when it did."""
        entry = {"code": code, "request_id": request_id, "retryable": retryable, "message": message[:300]}
        if dead_letter:
            entry["dead_letter"] = dead_letter
        self._outcome(index, self.failed, entry)

    def chunk_maybe_sent(self, index: int, *, reason: str, request_id: str | None = None) -> None:
        """Chunk ``index`` may or may not have gone out (no answer, or a 5xx without a safe retry)."""
        self._outcome(index, self.maybe_sent, {"request_id": request_id, "reason": reason[:300]})

    def chunk_queued(self, index: int, *, sink: str, job_id: str) -> None:
        """Chunk ``index`` was handed to the queue function (fan-out) through ``sink`` as ``job_id``."""
        if not 0 <= index < len(self.planned):
            raise ValueError(f"chunk {index} was never planned")
        self.queued[index] = {"index": index, "count": self.planned[index].count, "sink": sink, "job_id": job_id}

    def _outcome(self, index: int, table: dict[int, dict[str, Any]], entry: dict[str, Any]) -> None:
        if not 0 <= index < len(self.planned):
            raise ValueError(f"chunk {index} was never planned")
        for other in (self.sent, self.failed, self.maybe_sent):
            if other is not table:
                other.pop(index, None)  # a later, surer outcome replaces an earlier one
        queued = self.queued.pop(index, None)  # a fanned-out chunk's outcome, from its part
        if queued is not None:
            entry = {**entry, "via": queued["sink"]}
        table[index] = {"index": index, **entry, "count": self.planned[index].count}

    # --- reading it ----------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        """The report of a document :meth:`to_dict` wrote (read back to merge fan-out parts into it).

        Every number must be a whole number >= 0 (not a bool, a float or text) and every name text, so a
        report edited by hand cannot break the merge later. Raises ValueError naming what is wrong when
        ``data`` is not such a document (another version, a missing or mistyped field, an outcome for a
        chunk never planned, a queued chunk without its sink)."""
        try:
            if not isinstance(data, dict) or data.get("version") != REPORT_VERSION:
                raise ValueError(f"not a version {REPORT_VERSION} report")
            source, targets, chunks = _object(data, "source"), _object(data, "targets"), _object(data, "chunks")
            durations = data.get("durations") or {}
            if not isinstance(durations, dict):
                raise ValueError("durations must be an object")
            report = cls(
                bucket=_text(source, "bucket", "source"),
                key=_text(source, "key", "source"),
                version=_text(source, "version", "source"),
                format=source.get("format"),
                lines_read=_count(data, "lines_read"),
                valid=_count(targets, "valid", "targets"),
                invalid=_count(targets, "invalid", "targets"),
                duplicate=_count(targets, "duplicate", "targets"),
                invalid_lines=[
                    LineProblem(
                        _count(p, "line", "invalid[]"), _text(p, "rule", "invalid[]"), _text(p, "message", "invalid[]")
                    )
                    for p in _objects(data, "invalid")
                ],
                invalid_by_rule={
                    str(rule): _count(_object(data, "invalid_by_rule"), rule, "invalid_by_rule")
                    for rule in _object(data, "invalid_by_rule")
                },
                duplicate_lines=[_whole(line, "duplicate_lines[]") for line in _list(data, "duplicate_lines")],
                planned=[
                    ChunkPlan(
                        _count(plan, "index", "chunks.planned[]"),
                        _text(plan, "key", "chunks.planned[]"),
                        _text(plan, "action", "chunks.planned[]"),
                        _text(plan, "target_type", "chunks.planned[]"),
                        _count(plan, "count", "chunks.planned[]"),
                        _count(plan, "first_line", "chunks.planned[]"),
                        _count(plan, "last_line", "chunks.planned[]"),
                    )
                    for plan in _objects(chunks, "planned", "chunks")
                ],
                rejected=data.get("rejected"),
                campaign=data.get("campaign"),
                started_at=parse_api_time(durations.get("started_at")) or time.time(),
                plan_seconds=durations.get("plan_seconds"),
                send_seconds=durations.get("send_seconds"),
            )
            for name in ("sent", "failed", "maybe_sent", "queued"):
                table = getattr(report, name)
                for entry in _objects(chunks, name, "chunks", required=False):
                    index = entry.get("index")
                    if type(index) is not int or not 0 <= index < len(report.planned):
                        raise ValueError(f"chunks.{name} names chunk {str(index)[:20]}, which was never planned")
                    _count(entry, "count", f"chunks.{name}[]")
                    if name == "queued":
                        _text(entry, "sink", "chunks.queued[]")
                    table[index] = dict(entry)
        except ValueError as exc:  # a rule above
            raise ValueError(f"not a report pushfn wrote: {exc}") from None
        return report

    @property
    def status(self) -> str:
        """``rejected``, ``planned``, ``partial`` or ``complete`` (see the module docstring)."""
        if self.rejected is not None:
            return "rejected"
        done = len(self.sent) + len(self.failed) + len(self.maybe_sent)
        if done == 0 and self.planned and not self.queued:
            return "planned"
        return "complete" if done == len(self.planned) else "partial"

    def invariant_problems(self) -> list[str]:
        """What breaks "every valid target is in exactly one chunk, and each chunk has at most one outcome"
        (empty when all holds): chunk indices 0…n-1 in order, planned counts summing to the valid
        targets, no empty or over-full chunk, outcomes only for planned chunks and never two for one."""
        problems = []
        if [plan.index for plan in self.planned] != list(range(len(self.planned))):
            problems.append("chunk indices are not 0..n-1 in order")
        planned_targets = sum(plan.count for plan in self.planned)
        if planned_targets != self.valid:
            problems.append(f"{self.valid} valid targets but {planned_targets} in chunks")
        if any(plan.count < 1 for plan in self.planned):
            problems.append("an empty chunk was planned")
        outcomes = [*self.sent, *self.failed, *self.maybe_sent]
        if len(outcomes) != len(set(outcomes)):
            problems.append("a chunk has two outcomes")
        if any(not 0 <= index < len(self.planned) for index in outcomes):
            problems.append("an outcome names a chunk that was never planned")
        return problems

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON (the shape is in this module's docstring)."""
        chunks = len(self.planned)

        def targets(table: dict[int, dict[str, Any]]) -> int:
            return sum(entry["count"] for entry in table.values())

        pending = chunks - len(self.sent) - len(self.failed) - len(self.maybe_sent) - len(self.queued)
        pending_targets = self.valid - targets(self.sent) - targets(self.failed) - targets(self.maybe_sent)
        return {
            "version": REPORT_VERSION,
            "source": {"bucket": self.bucket, "key": self.key, "version": self.version, "format": self.format},
            "status": self.status,
            "rejected": self.rejected,
            "campaign": self.campaign,
            "lines_read": self.lines_read,
            "targets": {"valid": self.valid, "invalid": self.invalid, "duplicate": self.duplicate},
            "invalid": [problem.to_dict() for problem in self.invalid_lines],
            "invalid_by_rule": dict(sorted(self.invalid_by_rule.items())),
            "duplicate_lines": list(self.duplicate_lines),
            "chunks": {
                "planned": [plan.to_dict() for plan in self.planned],
                "sent": [self.sent[i] for i in sorted(self.sent)],
                "failed": [self.failed[i] for i in sorted(self.failed)],
                "maybe_sent": [self.maybe_sent[i] for i in sorted(self.maybe_sent)],
                **({"queued": [self.queued[i] for i in sorted(self.queued)]} if self.queued else {}),
            },
            "totals": {
                "chunks": chunks,
                "sent": len(self.sent),
                "failed": len(self.failed),
                "maybe_sent": len(self.maybe_sent),
                "pending": pending,
                "targets_sent": targets(self.sent),
                "targets_failed": targets(self.failed),
                "targets_maybe_sent": targets(self.maybe_sent),
                "targets_pending": pending_targets - targets(self.queued),
                **({"queued": len(self.queued), "targets_queued": targets(self.queued)} if self.queued else {}),
            },
            "durations": {
                "started_at": format_api_time(self.started_at),
                "plan_seconds": self.plan_seconds,
                "send_seconds": self.send_seconds,
            },
        }


def _object(data: dict[str, Any], name: str, where: str = "") -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ValueError(f"{_field(where, name)} must be an object")
    return value


def _list(data: dict[str, Any], name: str, where: str = "", *, required: bool = True) -> list[Any]:
    value = data.get(name, None if required else [])
    if not isinstance(value, list):
        raise ValueError(f"{_field(where, name)} must be a list")
    return value


def _objects(data: dict[str, Any], name: str, where: str = "", *, required: bool = True) -> list[dict[str, Any]]:
    items = _list(data, name, where, required=required)
    if not all(isinstance(item, dict) for item in items):
        raise ValueError(f"{_field(where, name)} must be a list of objects")
    return items


def _text(data: dict[str, Any], name: str, where: str = "") -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{_field(where, name)} must be text")
    return value


def _count(data: dict[str, Any], name: str, where: str = "") -> int:
    return _whole(data.get(name), _field(where, name))


def _whole(value: Any, field: str) -> int:
    # type() rather than isinstance: True is an int in Python, and 1.5 or "10" would be coerced by int().
    if type(value) is not int or value < 0:
        raise ValueError(f"{field} must be a whole number >= 0")
    return value


def _field(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


__all__ = ["MAX_LISTED_LINES", "REPORT_VERSION", "ChunkPlan", "LineProblem", "Report"]
