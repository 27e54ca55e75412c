"""Chunking to the API's limits, chunk keys, the report, streaming, and properties of line parsing."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from targets_support import CONTENT, PERSONAL, device_id, gz, plan, sent_targets

from pushfn.errors import FieldProblem
from pushfn.idempotency.keys import validate_key
from pushfn.specs.envelope import MAX_JOB_KEY_CHARS, job_from_data
from pushfn.targets.chunks import MASS_PUSH_TASKS, PUSH_TARGETS, chunk_key, chunk_part, plan_chunks
from pushfn.targets.errors import TargetFileError
from pushfn.targets.formats import BLOCK_BYTES, TargetRows
from pushfn.targets.report import MAX_LISTED_LINES, Report


def test_2500_device_ids_become_3_push_chunks_in_file_order():
    ids = [device_id(n) for n in range(2500)]
    chunks, report = plan(("\n".join(ids) + "\n").encode(), "ids.txt")
    assert [(c.index, c.action, c.count, c.key_part) for c in chunks] == [
        (0, "Push", 1000, "chunk-0000"),
        (1, "Push", 1000, "chunk-0001"),
        (2, "Push", 500, "chunk-0002"),
    ]
    assert chunks[1].params["TargetValue"].split(",") == ids[1000:2000]
    assert chunks[1].params["Target"] == "DEVICE" and chunks[1].params["Title"] == "Sale"
    assert (chunks[2].first_line, chunks[2].last_line) == (2001, 2500)
    assert [p["count"] for p in report.to_dict()["chunks"]["planned"]] == [1000, 1000, 500]


def test_250_personalised_rows_become_3_mass_push_chunks():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["device_id", "name", "city"])
    for n in range(250):
        writer.writerow([device_id(n), f"N{n}", f"City, {n}"])
    chunks, report = plan(buffer.getvalue().encode(), "p.csv", PERSONAL)
    assert [(c.action, c.count) for c in chunks] == [("MassPush", 100), ("MassPush", 100), ("MassPush", 50)]
    task = chunks[2].params["PushTask"][49]
    assert task["TargetValue"] == device_id(249) and task["Title"] == "Hi N249" and task["Body"] == "City, 249"
    assert report.valid == 250 and report.invariant_problems() == []


def test_the_same_file_always_plans_the_same_chunks():
    lines = [json.dumps({"account" if n % 3 else "device_id": f"u{n}" if n % 3 else device_id(n)}) for n in range(3000)]
    data = "\n".join(lines).encode()
    first, _ = plan(data, "m.jsonl")
    again, _ = plan(data, "m.jsonl")
    assert [(c.index, c.target_type, c.targets) for c in first] == [(c.index, c.target_type, c.targets) for c in again]
    # Chunks are numbered as they fill: the 1,000th account (line 1500), device (2998), account (3000).
    assert [(c.target_type, c.count) for c in first] == [("ACCOUNT", 1000), ("DEVICE", 1000), ("ACCOUNT", 1000)]


def test_content_targets_are_replaced_and_objects_become_json():
    content = {**CONTENT, "target": "ALL", "TargetValue": "ALL", "AndroidExtParameters": {"k": "v"}}
    chunks, _ = plan(b"u1\n", "a.txt", content, target_type="ALIAS")
    params = chunks[0].params
    assert params["Target"] == "ALIAS" and params["TargetValue"] == "u1" and "target" not in params
    assert params["AndroidExtParameters"] == '{"k":"v"}'


def test_a_task_check_turns_an_unsendable_row_into_a_line_problem():
    def check(task):
        return [FieldProblem("Title", "max_bytes", "too long")] if len(task["Title"]) > 10 else []

    data = f"device_id,name,city\n{device_id(1)},Ann,x\n{device_id(2)},{'A' * 20},y\n".encode()
    chunks, report = plan(data, "c.csv", PERSONAL, check_task=check)
    assert [c.count for c in chunks] == [1]
    assert [(p.line, p.rule) for p in report.invalid_lines] == [(3, "template.max_bytes")]


def test_chunk_sizes_outside_the_api_limits_are_refused():
    with pytest.raises(ValueError):
        list(plan_chunks([], CONTENT, Report(), push_targets=PUSH_TARGETS + 1))
    with pytest.raises(ValueError):
        list(plan_chunks([], CONTENT, Report(), mass_push_tasks=MASS_PUSH_TASKS + 1))


# --- chunk keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bucket", "key", "version"),
    [
        ("b", "lists/july.csv", '"9b2cf535f27731c974343645a3985328"'),
        ("b", "dir with spaces/ü+é #1.txt", "v1"),
        ("b" * 63, "k" * 1024, "CAEQ" * 40),
        ("b", "ctl\x00\n\ud800.txt", "e"),
    ],
)
def test_chunk_keys_fit_the_guard_and_the_chunk_envelope(bucket, key, version):
    keys = [chunk_key(bucket, key, version, index) for index in (0, 7, 12345, 10**8)]
    assert keys[1].endswith("#chunk-0007") and keys[2].endswith("#chunk-12345")
    for made in keys:
        validate_key(made)
        assert len(made) <= MAX_JOB_KEY_CHARS and made.isascii() and " " not in made
        job_from_data(
            {
                "kind": "chunk",
                "version": 1,
                "key": made,
                "job": {"source": "b/k", "etag": "e", "chunk": 0},
                "params": {},
            }
        )
    assert len(set(keys)) == 4
    assert chunk_key(bucket, key, version, 7) == keys[1]  # deterministic
    assert chunk_key(bucket, key, version + "x", 7) != keys[1]  # a new version, new keys


def test_chunk_part_refuses_what_is_no_index():
    for bad in (-1, True, 1.0, "3"):
        with pytest.raises(ValueError):
            chunk_part(bad)


# --- the report ------------------------------------------------------------------------------------


def test_report_records_outcomes_and_totals():
    ids = [device_id(n) for n in range(2500)]
    _, report = plan("\n".join(ids).encode(), "ids.txt")
    assert report.status == "planned"
    report.chunk_sent(0, message_id="m0", request_id="r0")
    assert report.status == "partial"
    report.chunk_failed(2, code="InvalidParameter", request_id="r2", retryable=False, message="bad")
    report.chunk_maybe_sent(1, reason="no answer")
    report.send_seconds = 1.5
    shape = report.to_dict()
    assert shape["status"] == "complete"
    assert shape["chunks"]["sent"] == [{"index": 0, "message_id": "m0", "request_id": "r0", "count": 1000}]
    assert shape["chunks"]["failed"][0] == {
        "index": 2,
        "code": "InvalidParameter",
        "request_id": "r2",
        "retryable": False,
        "message": "bad",
        "count": 500,
    }
    assert shape["chunks"]["maybe_sent"][0]["count"] == 1000
    assert shape["totals"] == {
        "chunks": 3,
        "sent": 1,
        "failed": 1,
        "maybe_sent": 1,
        "pending": 0,
        "targets_sent": 1000,
        "targets_failed": 500,
        "targets_maybe_sent": 1000,
        "targets_pending": 0,
    }
    assert shape["source"] == {"bucket": "bucket", "key": "ids.txt", "version": "etag", "format": None}
    assert shape["durations"]["send_seconds"] == 1.5 and shape["durations"]["plan_seconds"] >= 0
    json.dumps(shape)
    report.chunk_sent(1, message_id="m1", request_id="r1")  # a surer outcome replaces maybe_sent
    assert report.invariant_problems() == [] and 1 not in report.maybe_sent
    with pytest.raises(ValueError, match="never planned"):
        report.chunk_sent(3, message_id="m", request_id=None)


def test_invariant_problems_name_what_is_broken():
    _, report = plan(b"u1\nu2\n", "a.txt", target_type="ACCOUNT")
    report.valid += 1
    report.sent[0] = {"index": 0}
    report.failed[0] = {"index": 0}
    assert report.invariant_problems() == ["3 valid targets but 2 in chunks", "a chunk has two outcomes"]


def test_only_the_first_1000_problems_are_listed_but_all_are_counted():
    data = b"bad\n" * 1500 + (device_id(1) + "\n").encode() * 1500
    _, report = plan(data, "a.txt")
    assert report.invalid == 1500 and len(report.invalid_lines) == MAX_LISTED_LINES
    assert report.invalid_by_rule == {"device_id": 1500} and report.invalid_lines[-1].line == 1000
    assert report.duplicate == 1499 and len(report.duplicate_lines) == MAX_LISTED_LINES


# --- streaming -------------------------------------------------------------------------------------


class GeneratedFile(io.RawIOBase):
    """A binary stream of ``lines`` device ids generated as it is read: the file never exists whole."""

    def __init__(self, lines: int) -> None:
        self._lines = self._produce(lines)
        self._pending = b""
        self.bytes_read = 0
        self.largest_read = 0
        self.reads = 0

    @staticmethod
    def _produce(lines: int) -> Iterator[bytes]:
        for n in range(lines):
            yield f"{n:032x}\r\n".encode()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the reader must ask for bounded reads"
        self.reads += 1
        out = bytearray(self._pending)
        while len(out) < size:
            line = next(self._lines, None)
            if line is None:
                break
            out += line
        data, self._pending = bytes(out[:size]), bytes(out[size:])
        self.bytes_read += len(data)
        self.largest_read = max(self.largest_read, len(data))
        return data


def test_a_200000_line_file_is_streamed_through_iterators_without_being_materialised():
    source = GeneratedFile(200_000)
    rows = TargetRows(source, "big.txt")
    report = Report()
    chunks = plan_chunks(rows, CONTENT, report)
    assert iter(chunks) is chunks  # a generator: nothing has been read yet
    assert source.bytes_read == 0
    first = next(chunks)
    assert first.count == PUSH_TARGETS
    # One chunk needs ~34 KB of the file; the reader has read at most a couple of blocks, not 6.8 MB.
    assert source.bytes_read <= 2 * BLOCK_BYTES
    count, total = 1, first.count
    for chunk in chunks:
        count += 1
        total += chunk.count
    assert (count, total, report.valid, report.lines_read) == (200, 200_000, 200_000, 200_000)
    assert source.largest_read <= BLOCK_BYTES and source.bytes_read == 200_000 * 34


def test_a_gzipped_stream_is_decompressed_as_it_is_read():
    data = gz("".join(f"{n:032x}\n" for n in range(50_000)).encode())
    source = io.BytesIO(data)
    chunks = plan_chunks(TargetRows(source, "big.txt.gz"), CONTENT, Report())
    next(chunks)
    assert source.tell() < len(data)  # the first chunk did not need the whole compressed file
    assert sum(c.count for c in chunks) == 49_000


# --- properties ------------------------------------------------------------------------------------

NAMES = ["f.txt", "f.csv", "f.jsonl", "f.txt.gz", "f.csv.gz", "f.jsonl.gz"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), name=st.sampled_from(NAMES), gzip_it=st.booleans())
def test_arbitrary_bytes_never_raise_anything_but_the_documented_rejection(data, name, gzip_it):
    if name.endswith(".gz") and gzip_it:
        data = gz(data)
    try:
        rows = list(TargetRows(io.BytesIO(data), name))
    except TargetFileError:
        rows = None
    for row in rows or []:
        assert row.__class__ is tuple or hasattr(row, "rule")
    report = Report()
    chunks = list(plan_chunks(TargetRows(io.BytesIO(data), name), PERSONAL if ".csv" in name else CONTENT, report))
    assert report.invariant_problems() == []
    assert sum(c.count for c in chunks) == report.valid
    assert (report.rejected is not None) == (rows is None)


_line = st.one_of(
    st.integers(0, 300).map(device_id),  # valid, often repeated
    st.text(alphabet="0123456789abcdefXYZ,# \t\r\x00é", max_size=40),  # mostly invalid
    st.just(""),
)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_line, max_size=400), size=st.integers(1, 7))
def test_every_valid_target_lands_in_exactly_one_chunk(lines, size):
    data = "\n".join(lines).encode()
    chunks, report = plan(data, "p.txt", push_targets=size)
    sent = [value for _, value in sent_targets(chunks)]
    expected = []
    for line in lines:
        value = line.strip()
        if len(value) == 32 and value.isascii() and value.isalnum() and value not in expected:
            expected.append(value)
    assert sent == expected  # each valid target once, in file order
    assert all(1 <= c.count <= size for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert report.valid + report.duplicate == sum(
        1 for line in lines if len(line.strip()) == 32 and line.strip().isascii() and line.strip().isalnum()
    )


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 50), st.text(max_size=30), st.text(max_size=30)),
        max_size=60,
    ),
    size=st.integers(1, 9),
)
def test_csv_rows_round_trip_and_each_valid_row_is_one_task(rows, size):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["device_id", "name", "city"])
    for n, name, city in rows:
        writer.writerow([device_id(n), name, city])
    chunks, report = plan(buffer.getvalue().encode("utf-8", "surrogatepass"), "p.csv", PERSONAL, mass_push_tasks=size)
    tasks = [task for c in chunks for task in c.params["PushTask"]]
    assert all(c.count <= size for c in chunks)
    assert len({t["TargetValue"] for t in tasks}) == len(tasks) == report.valid
    firsts: dict[str, tuple[str, str]] = {}
    for n, name, city in rows:
        if "\x00" in name + city or any(0xD800 <= ord(ch) <= 0xDFFF for ch in name + city):
            continue
        firsts.setdefault(device_id(n), (name, city))
    for task in tasks:
        name, city = firsts[task["TargetValue"]]
        assert task["Title"] == f"Hi {name}" and task["Body"] == city


def test_device_ids_kept_as_numbers_never_merge_two_different_ids():
    ids = ["0x" + "ab" * 15, "00" + "ab" * 15, "AB" * 16, "ab" * 16, "g" * 32, "0" * 32]
    data = "\n".join(ids + ids).encode()
    chunks, report = plan(data, "a.txt")
    assert [v for _, v in sent_targets(chunks)] == ids
    assert report.duplicate_lines == list(range(7, 13))


# --- a written report read back (the merge of a fanned-out file's parts) -----------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.sampled_from(["ok", "dup", "bad", "blank"]), min_size=0, max_size=60),
    fates=st.lists(st.sampled_from(["sent", "failed", "maybe_sent", "queued", None]), min_size=30, max_size=30),
)
def test_a_report_reads_back_as_it_was_written(lines, fates):
    text = []
    for n, kind in enumerate(lines):
        text.append({"ok": device_id(n), "dup": device_id(0), "bad": "short", "blank": ""}[kind])
    chunks, report = plan(("\n".join(text) + "\n").encode(), "f.txt", push_targets=3)
    for chunk, fate in zip(chunks, fates, strict=False):
        if fate == "sent":
            report.chunk_sent(chunk.index, message_id=f"m{chunk.index}", request_id="r")
        elif fate == "failed":
            report.chunk_failed(chunk.index, code="InvalidParameter", request_id=None, retryable=False, message="x")
        elif fate == "maybe_sent":
            report.chunk_maybe_sent(chunk.index, reason="no answer")
        elif fate == "queued":
            report.chunk_queued(chunk.index, sink="sqs", job_id=f"j{chunk.index}")
    written = json.loads(json.dumps(report.to_dict()))
    again = Report.from_dict(written)
    assert again.to_dict() == written
    assert again.status == report.status and again.invariant_problems() == []


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.update(version=2), "version"),
        (lambda d: d.pop("targets"), "targets must be an object"),
        (lambda d: d["chunks"]["sent"].append({"index": 9}), "never planned"),
        (lambda d: d["chunks"]["planned"][0].update(count="1"), r"chunks.planned\[\].count must be a whole number"),
        (lambda d: d.update(lines_read="many"), "not a report pushfn wrote"),
    ],
)
def test_a_report_that_pushfn_did_not_write_is_refused(change, says):
    _, report = plan(f"{device_id(1)}\n".encode(), "f.txt")
    document = json.loads(json.dumps(report.to_dict()))
    change(document)
    with pytest.raises(ValueError, match=says):
        Report.from_dict(document)
