"""Helpers of the target-file tests: device ids, files in every encoding, planning a file in one call."""

from __future__ import annotations

import gzip
import io
from typing import Any

from pushfn.specs.templates import compile_template
from pushfn.targets.chunks import Chunk, plan_chunks
from pushfn.targets.formats import TargetRows
from pushfn.targets.report import Report

CONTENT = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "Sale", "Body": "Today only"}
PERSONAL = compile_template(
    "welcome",
    {
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Title": "Hi {name}",
        "Body": "{city}",
        "ExtParameters": {"n": "{name}"},
    },
)


def device_id(n: int) -> str:
    """The ``n``-th of a family of valid device ids (32 hex digits)."""
    return f"{n:032x}"


def plan(data: bytes, name: str, content: Any = None, **kwargs: Any) -> tuple[list[Chunk], Report]:
    """Plan ``data`` as object ``name``: every chunk and the filled report."""
    report = Report(bucket="bucket", key=name, version="etag")
    target_type = kwargs.pop("target_type", "DEVICE")
    rows = TargetRows(io.BytesIO(data), name, target_type=target_type)
    chunks = list(plan_chunks(rows, CONTENT if content is None else content, report, **kwargs))
    assert report.invariant_problems() == []
    return chunks, report


def gz(data: bytes) -> bytes:
    """``data`` gzipped."""
    return gzip.compress(data)


def sent_targets(chunks: list[Chunk]) -> list[tuple[str, str]]:
    """Every (Target, value) the chunks' requests would send, read back from their parameters."""
    found = []
    for chunk in chunks:
        if chunk.action == "Push":
            found += [(chunk.params["Target"], value) for value in chunk.params["TargetValue"].split(",")]
        else:
            found += [(task["Target"], task["TargetValue"]) for task in chunk.params["PushTask"]]
    return found


def problems(report: Report) -> list[tuple[int, str]]:
    """``(line, rule)`` of every listed invalid line."""
    return [(p.line, p.rule) for p in report.invalid_lines]
