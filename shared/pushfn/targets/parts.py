"""The parts of a fanned-out file's report: one small object per chunk job, merged once all are in.

Names, beside the report and named after it (:func:`~pushfn.targets.readers.report_key`,
:func:`~pushfn.targets.readers.parts_prefix`)::

    lists/july.txt.report.json                                      the file function's report
    lists/july.txt.report.json.parts/000003.9f86d081884c7d65.json   chunk 3's outcome for one file
                                                                    version (its tag), by the queue function

A part (:class:`ChunkOutcome`)::

    {"version": 1, "index": 3, "source_version": "<the file's ETag or version id>",
     "outcome": "sent" | "failed" | "maybe_sent",
     "message_id": "..." | null, "request_id": "..." | null,          # sent (maybe_sent: request_id)
     "code": "..." | null, "message": "...", "dead_letter": "..." | null,   # failed
     "reason": "..."}                                                  # maybe_sent

**Why parts, not an update of the report.** S3 and OSS offer no common compare-and-swap on an object, so
two chunk jobs that each read the report, add their outcome and write it back would lose one of the two
outcomes. Here every part has exactly one writer (the job of that chunk), so no update is lost, and a
redelivered job only rewrites its own part with the same outcome: a chunk is never counted twice.

**Versions.** Parts are named after the report, and the report after the object's key, so the parts of
an earlier upload of the same key are still there when a new one is fanned out, and its late jobs may
still finish. A part's name therefore carries a tag of the file version it is of (:func:`version_tag`
of the chunk job's ``etag``, the report's ``source.version``; the part repeats the version as
``source_version``): the versions never share a name, and only the report's own version's parts count.

**Completing** (:func:`complete_report`). After writing its part a job lists the parts; when every chunk
the report lists as ``queued`` has one, it rebuilds the report from the file function's document and
every part (:meth:`~pushfn.targets.report.Report.from_dict`) and writes it ``complete``. The job whose
part is written last sees every part in its listing (S3 and OSS list strongly consistently what was
written before), so some job always completes the report; two jobs that both see every part write the
same document, since it is a function of the report and the parts alone. A job that sees fewer parts
writes nothing. The file function runs the same step right after writing its own report, because a
chunk job may finish before that report exists (always so in process, often on FC).

**Later parts.** A complete report is rebuilt from its fanned-out chunks' parts when a job writes a part
that says otherwise than the report (a dead-lettered chunk job sent again after its cause was fixed):
the report follows the parts. A redelivered job's part, the same as before, rewrites nothing.

A report whose run ``stopped`` (a timeout or a transient failure: the platform runs the file again and
hands over the rest) is never completed by parts; the run that finishes the file is. A new run of a file
version whose report stands complete (the event delivered again, the same content uploaded again) marks
that report stopped before its first chunk is fanned out (:func:`supersede_report`): else each of its
jobs' parts, differing from the old report, would rebuild the whole report from every part.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pushfn.logs import get_logger
from pushfn.targets.readers import REPORT_SUFFIX, parts_prefix

if TYPE_CHECKING:
    from pushfn.targets.readers import ObjectReader

#: Version of a part's JSON shape.
PART_VERSION = 1
#: A chunk's outcomes a part can record (a transient failure records none: the job is retried).
OUTCOMES = ("sent", "failed", "maybe_sent")
#: Largest part read back (a part is a few hundred bytes).
MAX_PART_BYTES = 16 * 1024
#: Largest report read back for a merge (10,000 planned chunks and 2,000 listed lines are ~2 MB).
MAX_REPORT_BYTES = 32 * 1024 * 1024

logger = get_logger("pushfn.targets.parts")


def version_tag(version: str) -> str:
    """16 hex digits of the SHA-256 of a file version (ETag or version id): a part name's version."""
    return hashlib.sha256(version.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def part_key(report_key: str, index: int, version: str) -> str:
    """``<report key>.parts/<index, 6 digits>.<version tag>.json``: where chunk ``index``'s outcome for
    file version ``version`` is stored (:func:`version_tag`)."""
    return f"{parts_prefix(report_key)}{index:06d}.{version_tag(version)}.json"


def part_index(name: str, report_key: str, version: str) -> int | None:
    """The chunk index of a part's object name under ``report_key`` for file ``version``, or None when
    ``name`` is no part of that version."""
    prefix, suffix = parts_prefix(report_key), f".{version_tag(version)}.json"
    if not name.startswith(prefix) or not name.endswith(suffix):
        return None
    digits = name[len(prefix) : -len(suffix)]
    return int(digits) if digits.isascii() and digits.isdigit() else None


@dataclass(frozen=True)
class ChunkOutcome:
    """What one fanned-out chunk came to (see the module docstring for the JSON); ``outcome`` is one of
    :data:`OUTCOMES`, ``source_version`` the version of the file the chunk is of (its job's ``etag``)."""

    index: int
    outcome: str
    source_version: str = ""
    message_id: str | None = None
    request_id: str | None = None
    code: str | None = None
    message: str = ""
    dead_letter: str | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The part's JSON document."""
        return {
            "version": PART_VERSION,
            "index": self.index,
            "source_version": self.source_version,
            "outcome": self.outcome,
            "message_id": self.message_id,
            "request_id": self.request_id,
            "code": self.code,
            "message": self.message[:300],
            "dead_letter": self.dead_letter,
            "reason": self.reason[:300],
        }

    @classmethod
    def from_dict(cls, data: Any) -> ChunkOutcome:
        """A part read back; ValueError naming the field when ``data`` is not one this version wrote."""
        if not isinstance(data, dict) or data.get("version") != PART_VERSION:
            raise ValueError(f"not a version {PART_VERSION} part")
        index, outcome = data.get("index"), data.get("outcome")
        if type(index) is not int or index < 0:
            raise ValueError("index must be a chunk index (an integer >= 0)")
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        texts = {}
        if not isinstance(data.get("source_version"), str):
            raise ValueError("source_version must be a string (the file's ETag or version id)")
        texts["source_version"] = data["source_version"]
        for name in ("message_id", "request_id", "code", "dead_letter"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string or null")
            texts[name] = value
        message, reason = data.get("message", ""), data.get("reason", "")
        if not isinstance(message, str) or not isinstance(reason, str):
            raise ValueError("message and reason must be strings")
        return cls(index, outcome, message=message, reason=reason, **texts)

    def apply(self, report: Any) -> None:
        """Record this outcome in ``report`` (a :class:`~pushfn.targets.report.Report`)."""
        if self.outcome == "sent":
            report.chunk_sent(self.index, message_id=self.message_id or "", request_id=self.request_id)
        elif self.outcome == "failed":
            report.chunk_failed(
                self.index,
                code=self.code or "failed",
                request_id=self.request_id,
                retryable=False,
                message=self.message,
                dead_letter=self.dead_letter,
            )
        else:
            report.chunk_maybe_sent(self.index, reason=self.reason, request_id=self.request_id)


def record_part(reader: ObjectReader, bucket: str, report_key: str, outcome: ChunkOutcome) -> dict[str, Any] | None:
    """Store ``outcome`` as its part, then :func:`complete_report`; the completed report, or None when
    it is not complete yet (or was completed by another job). Raises ObjectStoreError (the store failed:
    transient or not) and ValueError (the report there is not one pushfn wrote)."""
    check_report_key(report_key)
    data = json.dumps(outcome.to_dict(), ensure_ascii=True).encode("ascii")
    reader.write_bytes(bucket, part_key(report_key, outcome.index, outcome.source_version), data)
    return complete_report(reader, bucket, report_key, changed=outcome)


def complete_report(
    reader: ObjectReader, bucket: str, report_key: str, *, changed: ChunkOutcome | None = None
) -> dict[str, Any] | None:
    """When every chunk the report at ``report_key`` lists as queued has a part, write the report merged
    and return it; else None, writing nothing (see the module docstring). A report already complete is
    merged again only when ``changed`` (the part just written) says otherwise than it does. Raises
    ObjectStoreError and ValueError (an unreadable report or part)."""
    from pushfn.json_input import JsonInputError, decode_json
    from pushfn.targets.report import Report

    check_report_key(report_key)
    # Listed before the report is read: a report written after the listing names chunks it may miss,
    # and then this job writes nothing (the writer of that report merges after writing it).
    names = reader.list_keys(bucket, parts_prefix(report_key))
    raw = reader.read_bytes(bucket, report_key, MAX_REPORT_BYTES)
    if raw is None or not names:
        return None
    try:
        document = decode_json(raw)
    except JsonInputError as exc:
        raise ValueError(f"the report is not readable JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("stopped"):
        return None
    report = Report.from_dict(document)
    listed = (part_index(name, report_key, report.version) for name in names)
    present = {index for index in listed if index is not None}
    waiting = set(report.queued)
    if not waiting:
        # Complete already: a part that says otherwise (a dead-lettered job sent again after a fix)
        # rebuilds the fanned-out chunks from their parts; a redelivered job's same outcome changes nothing.
        if changed is None or changed.source_version != report.version or not _differs(document, changed):
            return None
        waiting = _fanned_out(report)
        if changed.index not in waiting:
            return None
    if not waiting <= present:
        return None
    outcomes = []
    for index in sorted(waiting):
        part = reader.read_bytes(bucket, part_key(report_key, index, report.version), MAX_PART_BYTES)
        if part is None:  # listed, then gone: only a person deleting parts does that
            return None
        try:
            outcome = ChunkOutcome.from_dict(decode_json(part))
        except (JsonInputError, ValueError) as exc:
            raise ValueError(f"the part of chunk {index} is unusable: {exc}") from None
        if outcome.index != index:
            raise ValueError(f"the part of chunk {index} names chunk {outcome.index}")
        if outcome.source_version != report.version:
            raise ValueError(f"the part of chunk {index} is of another file version than its name says")
        outcomes.append(outcome)
    for outcome in outcomes:
        via = _via(report, outcome.index)
        outcome.apply(report)
        if via is not None:
            _entry(report, outcome.index)["via"] = via
    merged = report.to_dict()
    merged["stopped"] = None
    reader.write_report(bucket, report_key[: -len(REPORT_SUFFIX)], merged)
    logger.info(
        "fanned-out file complete: every chunk has its outcome",
        extra={"fields": {"event": "file_push.parts_merged", "chunks": len(report.planned), "merged": len(waiting)}},
    )
    return merged


def _entry(report: Any, index: int) -> dict[str, Any]:
    """The outcome entry of chunk ``index`` (sent, failed or maybe sent), or an empty dict."""
    for table in (report.sent, report.failed, report.maybe_sent):
        if index in table:
            return table[index]
    return {}


def _via(report: Any, index: int) -> str | None:
    """The sink chunk ``index`` was fanned out through: its queued entry's, or its outcome's ``via``."""
    queued = report.queued.get(index)
    return queued["sink"] if queued is not None else _entry(report, index).get("via")


def _fanned_out(report: Any) -> set[int]:
    """The chunks of ``report`` that went through a queue (queued, or an outcome with ``via``)."""
    return set(report.queued) | {
        index for table in (report.sent, report.failed, report.maybe_sent) for index, e in table.items() if "via" in e
    }


def _differs(document: dict[str, Any], part: ChunkOutcome) -> bool:
    """True when ``part`` applied to the report ``document`` would change its entry for the chunk."""
    from pushfn.targets.report import Report

    before, after = Report.from_dict(document), Report.from_dict(document)
    if not 0 <= part.index < len(before.planned):
        return False
    part.apply(after)
    strip = ("via",)
    old = {k: v for k, v in _entry(before, part.index).items() if k not in strip}
    new = {k: v for k, v in _entry(after, part.index).items() if k not in strip}
    return old != new


#: ``stopped`` of the report a new run of a file writes over an earlier run's (:func:`supersede_report`).
RERUN_UNDER_WAY = "a new run of this file is under way; its report follows when it ends"


def supersede_report(reader: ObjectReader, bucket: str, report_key: str, document: dict[str, Any]) -> bool:
    """Before a run of a file hands its first chunk to the queue function: when an earlier run's report
    that is not ``stopped`` stands at ``report_key``, write ``document`` (this run's report so far) over
    it with ``stopped`` set (:data:`RERUN_UNDER_WAY`); True when it did. Writes nothing otherwise.

    Why: this run's chunk jobs write parts of the same file version as the earlier run's. Against a
    report that says ``complete`` each part that differs from it (a chunk sent again, a new MessageId)
    is a "later part" (module docstring), and each made :func:`complete_report` read every part and
    rewrite the whole report: N chunk jobs, N² part reads (1,000 chunks: a million GETs, 90 s in
    process). A ``stopped`` report is never completed by parts, so the jobs only write their parts, and
    this run merges them once, after writing its own report. Raises ObjectStoreError."""
    from pushfn.json_input import JsonInputError, decode_json

    check_report_key(report_key)
    raw = reader.read_bytes(bucket, report_key, MAX_REPORT_BYTES)
    if raw is None:
        return False
    try:
        old = decode_json(raw)
    except JsonInputError:
        old = None  # not a report pushfn can read: this run's report replaces it all the same
    if isinstance(old, dict) and old.get("stopped"):
        return False
    reader.write_report(bucket, report_key[: -len(REPORT_SUFFIX)], {**document, "stopped": RERUN_UNDER_WAY})
    return True


def check_report_key(report_key: str) -> str:
    """``report_key`` when it names a report (``<key>.report.json``, a safe object name); else ValueError."""
    from pushfn.targets.readers import check_object_name

    check_object_name(report_key)
    if not report_key.endswith(REPORT_SUFFIX) or len(report_key) == len(REPORT_SUFFIX):
        raise ValueError(f"a report key ends in {REPORT_SUFFIX} after the object's name")
    return report_key


__all__ = [
    "MAX_PART_BYTES",
    "MAX_REPORT_BYTES",
    "OUTCOMES",
    "PART_VERSION",
    "RERUN_UNDER_WAY",
    "ChunkOutcome",
    "check_report_key",
    "complete_report",
    "part_index",
    "part_key",
    "record_part",
    "supersede_report",
    "version_tag",
]
