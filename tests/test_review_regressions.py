"""Review regressions: faults found by attacking fan-out parts, chunk envelopes, the CLI profile and STS.

Each test failed before its fix; its docstring says the input, what went wrong and what is expected.
Real parts throughout: a local folder as the store, the queue handler's envelope parser, real files for
CLI profiles, and STS answers handed to the product's own answer reader.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pushfn.push.errors import InvalidRequestError
from pushfn.specs.envelope import parse_job
from pushfn.targets.parts import ChunkOutcome, complete_report, record_part
from pushfn.targets.readers import LocalFolderReader
from pushfn.targets.report import ChunkPlan, Report

# --- fan-out parts --------------------------------------------------------------------------------


def _queued(reader: LocalFolderReader, version: str, chunks: int = 2) -> None:
    """The file function's report of ``f.txt`` at ``version``: ``chunks`` chunks of 10, all queued."""
    report = Report(bucket="b", key="f.txt", version=version, valid=10 * chunks)
    for index in range(chunks):
        report.add_planned(ChunkPlan(index, f"chunk-{index}", "Push", "DEVICE", 10, index * 10 + 1, index * 10 + 10))
        report.chunk_queued(index, sink="sqs", job_id=f"{version}-{index}")
    reader.write_report("b", "f.txt", {**report.to_dict(), "stopped": None})


def test_parts_of_an_earlier_version_of_the_file_do_not_complete_the_new_report(tmp_path: Path) -> None:
    """The file is uploaded again (a new ETag) after its first version was fanned out and completed.
    Before: the new run's report was merged at once with the first version's parts (same names), so it
    said ``complete`` with the old MessageIds before any new chunk was sent, and the new parts were then
    ignored. Now a part names the file version it is of, and only the report's own version's parts count."""
    reader = LocalFolderReader(tmp_path)
    _queued(reader, '"v1"')
    for index in range(2):
        outcome = ChunkOutcome(index, "sent", message_id=f"old-{index}", source_version='"v1"')
        record_part(reader, "b", "f.txt.report.json", outcome)
    assert json.loads((tmp_path / "f.txt.report.json").read_text())["status"] == "complete"

    _queued(reader, '"v2"')  # the new upload's run: its chunks are queued, none sent yet
    assert complete_report(reader, "b", "f.txt.report.json") is None
    assert json.loads((tmp_path / "f.txt.report.json").read_text())["status"] == "partial"
    record_part(reader, "b", "f.txt.report.json", ChunkOutcome(0, "sent", message_id="new-0", source_version='"v2"'))
    merged = record_part(
        reader, "b", "f.txt.report.json", ChunkOutcome(1, "sent", message_id="new-1", source_version='"v2"')
    )
    assert merged is not None and merged["status"] == "complete"
    assert [s["message_id"] for s in merged["chunks"]["sent"]] == ["new-0", "new-1"]


def _chunk_body(**report: Any) -> str:
    return json.dumps(
        {
            "kind": "chunk",
            "version": 1,
            "job": {"source": "uploads/lists/a.txt", "etag": "e", "chunk": 0},
            "params": {"Target": "DEVICE", "TargetValue": "x", "Title": "t", "Body": "b", "PushType": "NOTICE"},
            "report": {"store": "local", "bucket": "uploads", "key": "lists/a.txt.report.json", **report},
        }
    )


@pytest.mark.parametrize(
    "report",
    [
        {"key": "lists/other.txt.report.json"},  # another file's report in the same bucket
        {"bucket": "victims"},  # the same name in another bucket
        {"key": "a.txt.report.json"},  # a suffix of the source's name, not the source
    ],
)
def test_a_chunk_job_cannot_record_its_part_in_another_files_report(report: dict[str, str]) -> None:
    """A chunk envelope whose ``report`` names a report other than its own source's. Before: accepted,
    so a hostile (or mixed-up) job wrote its outcome among another file's parts and could complete that
    report with a chunk it never sent. Now refused by name, before any store is touched."""
    with pytest.raises(InvalidRequestError) as caught:
        parse_job(_chunk_body(**report))
    assert "report" in str(caught.value)
    parse_job(_chunk_body())  # its own report is accepted
