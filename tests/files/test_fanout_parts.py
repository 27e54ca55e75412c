"""The parts of a fanned-out report: each chunk job records its outcome beside the report, and the report
turns ``complete`` once every queued chunk has one — with jobs finishing at once, redelivered, failing for
good, or unable to store their part. Real parts throughout: the queue handler, the guard on SQLite, the
emulator, a local folder, and S3 and SQS on moto; the jobs are kept by a small sink of pushfn's own
interface (no platform is faked) and delivered as SQS events to the queue handler."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from functions.file_push.index import handler
from functions.queue_push.index import handler as queue_handler
from test_fanout import CONTENT, IDS, bucket_with, device_ids, push_calls, runtime_for

from pushfn.jobs.fanout import Fanout, FanoutSink
from pushfn.jobs.files import process_object
from pushfn.runtime import reset_runtime
from pushfn.targets.parts import ChunkOutcome, complete_report, part_key, record_part
from pushfn.targets.readers import LocalFolderReader
from pushfn.targets.report import ChunkPlan, Report
from pushfn.triggers.events.objects import StoredObject, oss_event, s3_event
from pushfn.triggers.events.queue import SqsRecord, sqs_event
from pushfn.triggers.objects import parse_object_event

REPORT = "big.txt.report.json"


class KeptJobs(FanoutSink):
    """A sink that keeps the chunk jobs, so a test delivers them to the queue handler when and as it likes."""

    name = "kept"

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def hand_over(self, job: dict[str, Any]) -> str:
        self.jobs.append(job)
        return str(job["key"])


def fan_out(root: Path, runtime: Any, client: Any) -> tuple[KeptJobs, dict[str, Any]]:
    """Run the file function on ``big.txt`` with its chunks after the first 1,000 targets kept; the
    jobs and the file function's own report."""
    sink = KeptJobs()
    reader = LocalFolderReader(str(root))
    outcome = process_object(
        parse_object_event(oss_event(["big.txt"])).objects[0],
        reader=reader,
        guard=runtime.guard("file_push"),
        client=client,
        runtime=runtime,
        fanout=Fanout(sink, 1000, reader),
    )
    assert outcome.summary["status"] == "partial" and len(sink.jobs) == 3
    return sink, read(root)


def deliver(job: dict[str, Any], *, receive_count: int = 1) -> dict[str, Any]:
    """One chunk job as an SQS event to the queue handler; its answer."""
    record = SqsRecord(json.dumps(job), message_id=f"m-{job['job']['chunk']}", receive_count=receive_count)
    return queue_handler(sqs_event([record]), None)


def read(root: Path) -> dict[str, Any]:
    return json.loads((root / REPORT).read_text("utf-8"))


@pytest.fixture
def local(emulator: Any, tmp_path: Path) -> Any:
    root = bucket_with(tmp_path, "big.txt", IDS)
    runtime, client = runtime_for(emulator, tmp_path / "idem.db", pushfn_file_root=str(root))
    yield root, runtime, client
    reset_runtime()
    client.close()


def test_each_part_is_recorded_and_the_last_one_completes_the_report(local: Any, emulator: Any) -> None:
    root, runtime, client = local
    sink, before = fan_out(root, runtime, client)
    for number, job in enumerate(sink.jobs, 1):
        assert deliver(job)["batchItemFailures"] == []
        assert (root / part_key(REPORT, job["job"]["chunk"], job["job"]["etag"])).exists()
        if number < len(sink.jobs):
            assert read(root) == before  # not every part is in: the report is left as the file function wrote it
    report = read(root)
    assert report["status"] == "complete" and report["totals"]["sent"] == 4 and report["totals"]["pending"] == 0
    assert [s.get("via") for s in report["chunks"]["sent"]] == [None, "kept", "kept", "kept"]
    # Everything the file function wrote is kept: counts, plan, durations.
    for name in ("source", "lines_read", "targets", "invalid", "duplicate_lines", "durations"):
        assert report[name] == before[name]
    assert report["chunks"]["planned"] == before["chunks"]["planned"]
    assert push_calls(emulator) == 4


def test_chunk_jobs_finishing_at_once_lose_no_outcome(local: Any, emulator: Any) -> None:
    root, runtime, client = local
    sink, _ = fan_out(root, runtime, client)
    start = threading.Barrier(len(sink.jobs))
    answers: list[Any] = []

    def run(job: dict[str, Any]) -> None:
        start.wait()
        answers.append(deliver(job))

    threads = [threading.Thread(target=run, args=(job,)) for job in sink.jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a["batchItemFailures"] for a in answers] == [[], [], []]
    report = read(root)
    assert report["status"] == "complete" and [s["index"] for s in report["chunks"]["sent"]] == [0, 1, 2, 3]
    assert push_calls(emulator) == 4


def test_many_parts_written_at_once_always_complete_the_report(tmp_path: Path) -> None:
    """The merge alone, 16 writers racing, 15 rounds: whichever job writes the last part sees all of them,
    and every job that completes the report writes the same document."""
    reader = LocalFolderReader(tmp_path)
    chunks = 16
    for round_ in range(15):
        key = f"r{round_}.txt"
        report = Report(bucket="b", key=key, version="e", valid=chunks * 10)
        for index in range(chunks):
            report.add_planned(
                ChunkPlan(index, f"chunk-{index}", "Push", "DEVICE", 10, index * 10 + 1, index * 10 + 10)
            )
            report.chunk_queued(index, sink="sqs", job_id=f"j{index}")
        reader.write_report("b", key, {**report.to_dict(), "stopped": None})
        start = threading.Barrier(chunks)
        written: list[dict[str, Any]] = []

        def finish(index: int, key: str = key, start: threading.Barrier = start, written: list[Any] = written) -> None:
            start.wait()
            merged = record_part(
                reader, "b", key + ".report.json", ChunkOutcome(index, "sent", "e", message_id=f"m{index}")
            )
            if merged is not None:
                written.append(merged)

        threads = [threading.Thread(target=finish, args=(i,)) for i in range(chunks)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = json.loads((tmp_path / f"{key}.report.json").read_text())
        assert final["status"] == "complete" and final["totals"]["sent"] == chunks
        assert written and all(doc == final for doc in written)


def test_a_redelivered_chunk_job_counts_once(local: Any, emulator: Any) -> None:
    root, runtime, client = local
    sink, before = fan_out(root, runtime, client)
    first = sink.jobs[0]
    deliver(first)
    part = (root / part_key(REPORT, first["job"]["chunk"], first["job"]["etag"])).read_bytes()
    assert deliver(first, receive_count=2)["batchItemFailures"] == []  # redelivered: replayed by the guard
    assert (
        root / part_key(REPORT, first["job"]["chunk"], first["job"]["etag"])
    ).read_bytes() == part  # the same part, rewritten
    assert read(root) == before
    for job in sink.jobs[1:]:
        deliver(job)
    deliver(first, receive_count=3)  # and once more after the report is complete: it stays as it is
    report = read(root)
    assert report["status"] == "complete" and report["totals"]["sent"] == 4
    assert [s["index"] for s in report["chunks"]["sent"]] == [0, 1, 2, 3] and report["totals"]["targets_sent"] == IDS
    assert push_calls(emulator) == 4


def test_a_chunk_failing_for_good_completes_the_report_under_failed(emulator: Any, tmp_path: Path) -> None:
    root = bucket_with(tmp_path, "big.txt", IDS)
    letters = tmp_path / "dead"
    runtime, client = runtime_for(
        emulator, tmp_path / "idem.db", pushfn_file_root=str(root), pushfn_dead_letter_url=str(letters)
    )
    try:
        sink, _ = fan_out(root, runtime, client)
        refused = sink.jobs[1]
        refused["params"]["AppKey"] = 11111111  # an AppKey the service does not know: a permanent refusal
        answers = [deliver(job) for job in sink.jobs]
        assert [a["batchItemFailures"] for a in answers] == [[], [], []]  # permanent: not handed back
        report = read(root)
        assert report["status"] == "complete" and report["stopped"] is None
        (failed,) = report["chunks"]["failed"]
        assert failed["index"] == refused["job"]["chunk"] and failed["retryable"] is False
        assert failed["via"] == "kept" and failed["count"] == 1000 and failed["code"]
        assert failed["dead_letter"] and Path(failed["dead_letter"]).parent == letters
        assert [s["index"] for s in report["chunks"]["sent"]] == sorted({0, 1, 2, 3} - {failed["index"]})
        assert report["totals"]["failed"] == 1 and report["totals"]["targets_failed"] == 1000
        assert push_calls(emulator) == 3
    finally:
        reset_runtime()
        client.close()


def test_a_sent_chunk_whose_part_cannot_be_stored_is_handed_back(emulator: Any, tmp_path: Path) -> None:
    root = bucket_with(tmp_path, "big.txt", IDS)
    runtime, client = runtime_for(emulator, tmp_path / "idem.db", pushfn_file_root=str(root))
    try:
        sink, before = fan_out(root, runtime, client)
        job = sink.jobs[0]
        # The queue function deployed without the folder: it sends, cannot record, hands the job back.
        runtime_for(emulator, tmp_path / "idem.db")
        assert deliver(job)["batchItemFailures"] == [{"itemIdentifier": f"m-{job['job']['chunk']}"}]
        assert push_calls(emulator) == 2 and read(root) == before
        # Fixed: the retry replays the push from the guard and records the part.
        runtime_for(emulator, tmp_path / "idem.db", pushfn_file_root=str(root))
        for each in sink.jobs:
            assert deliver(each)["batchItemFailures"] == []
        assert read(root)["status"] == "complete" and push_calls(emulator) == 4
    finally:
        reset_runtime()
        client.close()


def test_two_sqs_chunk_jobs_finishing_at_once_complete_the_s3_report(
    s3: Any, emulator: Any, tmp_path: Path, moto_url: str
) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    s3.create_bucket(Bucket="uploads")
    etag = s3.put_object(Bucket="uploads", Key="big.txt", Body=device_ids(IDS).encode())["ETag"].strip('"')
    s3.put_object(Bucket="uploads", Key="big.txt.push.json", Body=json.dumps(CONTENT).encode())
    url = sqs.create_queue(QueueName="parts")["QueueUrl"]
    _, client = runtime_for(emulator, tmp_path / "idem.db", pushfn_fanout_queue_url=url)
    try:
        assert (
            handler(s3_event([StoredObject("big.txt", etag=etag)], bucket="uploads"), None)["files"][0]["status"]
            == "partial"
        )
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert len(messages) == 3
        # The first alone, then the last two at the same moment, each on its own thread.
        assert queue_handler(sqs_event([SqsRecord(messages[0]["Body"], messages[0]["MessageId"])]), None) == {
            "batchItemFailures": []
        }
        start = threading.Barrier(2)
        answers: list[Any] = []

        def run(message: dict[str, Any]) -> None:
            start.wait()
            answers.append(queue_handler(sqs_event([SqsRecord(message["Body"], message["MessageId"])]), None))

        threads = [threading.Thread(target=run, args=(m,)) for m in messages[1:]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [{"batchItemFailures": []}] * 2
        report = json.loads(s3.get_object(Bucket="uploads", Key="big.txt.report.json")["Body"].read())
        assert report["status"] == "complete" and report["totals"]["sent"] == 4
        assert sorted(s.get("via") or "inline" for s in report["chunks"]["sent"]) == ["inline", "sqs", "sqs", "sqs"]
        assert push_calls(emulator) == 4
    finally:
        reset_runtime()
        client.close()


# --- the merge's rules ------------------------------------------------------------------------------


def queued_report(tmp_path: Path, **extra: Any) -> LocalFolderReader:
    report = Report(bucket="b", key="f.txt", version="e", valid=20)
    for index in range(2):
        report.add_planned(ChunkPlan(index, f"chunk-{index}", "Push", "DEVICE", 10, index * 10 + 1, index * 10 + 10))
        report.chunk_queued(index, sink="sqs", job_id=f"j{index}")
    reader = LocalFolderReader(tmp_path)
    reader.write_report("b", "f.txt", {**report.to_dict(), "stopped": None, **extra})
    return reader


def test_a_stopped_runs_report_is_not_completed_by_parts(tmp_path: Path) -> None:
    reader = queued_report(tmp_path, stopped="f.txt: near the function's timeout before chunk 2")
    for index in range(2):
        assert record_part(reader, "b", "f.txt.report.json", ChunkOutcome(index, "sent", "e", message_id="m")) is None
    assert json.loads((tmp_path / "f.txt.report.json").read_text())["status"] == "partial"


def test_maybe_sent_and_failed_parts_land_in_their_lists(tmp_path: Path) -> None:
    reader = queued_report(tmp_path)
    record_part(
        reader, "b", "f.txt.report.json", ChunkOutcome(0, "maybe_sent", "e", request_id="r0", reason="no answer")
    )
    merged = record_part(
        reader, "b", "f.txt.report.json", ChunkOutcome(1, "failed", "e", code="InvalidParameter", message="bad")
    )
    assert merged is not None and merged["status"] == "complete"
    assert merged["chunks"]["maybe_sent"] == [
        {"index": 0, "request_id": "r0", "reason": "no answer", "via": "sqs", "count": 10}
    ]
    assert merged["chunks"]["failed"][0]["code"] == "InvalidParameter"
    assert merged["totals"]["maybe_sent"] == 1 and merged["totals"]["failed"] == 1


@pytest.mark.parametrize(
    "part",
    [
        b"not json",
        b'{"version": 2, "index": 1, "outcome": "sent"}',
        b'{"version": 1, "index": -1, "outcome": "sent"}',
        b'{"version": 1, "index": 1, "outcome": "lost"}',
        b'{"version": 1, "index": 1, "outcome": "sent", "source_version": "e", "message_id": 5}',
        b'{"version": 1, "index": 1, "outcome": "sent", "source_version": 5}',
        b'{"version": 1, "index": 0, "outcome": "sent", "source_version": "e"}',  # stored under chunk 1's name
    ],
)
def test_an_unusable_part_is_refused_by_name(tmp_path: Path, part: bytes) -> None:
    reader = queued_report(tmp_path)
    record_part(reader, "b", "f.txt.report.json", ChunkOutcome(0, "sent", "e", message_id="m0"))
    reader.write_bytes("b", part_key("f.txt.report.json", 1, "e"), part)
    with pytest.raises(ValueError, match="part of chunk 1"):
        complete_report(reader, "b", "f.txt.report.json")
    assert json.loads((tmp_path / "f.txt.report.json").read_text())["status"] == "partial"


@pytest.mark.parametrize("key", ["../f.txt.report.json", "/abs/f.txt.report.json", "f.txt", ".report.json"])
def test_parts_refuse_a_report_key_that_is_no_report(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        record_part(LocalFolderReader(tmp_path), "b", key, ChunkOutcome(0, "sent", "e"))
    assert list(tmp_path.iterdir()) == []


def test_parts_on_oss_through_the_queue_functions_own_oss_reader(fake_oss: Any, emulator: Any, tmp_path: Path) -> None:
    """The job names an OSS report; the queue function builds its reader from the job's region and
    PUSHFN_OSS_ENDPOINT, signed with its credential chain (checked by the FAKE OSS server)."""
    from fake_oss import ACCESS_KEY_ID, ACCESS_KEY_SECRET

    from pushfn.targets.readers import OssReader

    fake_oss.put("lists", "big.txt", device_ids(IDS).encode())
    fake_oss.put("lists", "big.txt.push.json", json.dumps(CONTENT).encode())
    runtime, client = runtime_for(
        emulator,
        tmp_path / "idem.db",
        pushfn_oss_endpoint=fake_oss.endpoint,
        push_access_key_id=ACCESS_KEY_ID,
        push_access_key_secret=ACCESS_KEY_SECRET,
    )
    try:
        reader = OssReader(endpoint=fake_oss.endpoint, credentials=runtime.credentials)
        sink = KeptJobs()
        outcome = process_object(
            parse_object_event(oss_event(["big.txt"], bucket="lists")).objects[0],
            reader=reader,
            guard=runtime.guard("file_push"),
            client=client,
            runtime=runtime,
            fanout=Fanout(sink, 1000, reader),
        )
        assert outcome.summary["status"] == "partial"
        assert {j["report"]["store"] for j in sink.jobs} == {"oss"}
        assert {j["report"]["region"] for j in sink.jobs} == {"cn-hangzhou"}
        for job in sink.jobs:
            assert deliver(job)["batchItemFailures"] == []
        report = json.loads(fake_oss.objects[("lists", "big.txt.report.json")][0])
        assert report["status"] == "complete" and report["totals"]["sent"] == 4
        parts = sorted(k for b, k in fake_oss.objects if k.startswith("big.txt.report.json.parts/"))
        assert parts == [part_key(REPORT, j["job"]["chunk"], j["job"]["etag"]) for j in sink.jobs]
        assert any(r[0] == "GET" and r[2] == "" for r in fake_oss.requests)  # listed through ListObjects
    finally:
        reset_runtime()
        client.close()


def test_a_second_run_of_a_completed_file_merges_its_parts_once(
    emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file version run again after its first run completed, with the guard's records gone (they
    expired, or another store): every chunk goes out again, with new MessageIds. Before: each of the new
    run's parts differed from the complete report, so each in-process chunk job read every part and
    rewrote the report — N² part reads (1,000 chunks: 90 s of a 100 s run). Now the new run marks the old
    report stopped before fanning out, the jobs only write their parts, and the run merges them once."""
    chunks = 12  # 11 fanned out after the first 1,000 targets
    root = bucket_with(tmp_path, "big.txt", chunks * 1000)
    part_reads = []
    read_bytes = LocalFolderReader.read_bytes

    def counted(self: LocalFolderReader, bucket: str, key: str, limit: int) -> bytes | None:
        if ".parts/" in key:
            part_reads.append(key)
        return read_bytes(self, bucket, key, limit)

    monkeypatch.setattr(LocalFolderReader, "read_bytes", counted)
    for run in range(2):
        _, client = runtime_for(emulator, tmp_path / f"idem-{run}.db", pushfn_file_root=str(root))
        try:
            part_reads.clear()
            assert handler(oss_event(["big.txt"]), None)["files"][0]["status"] == "complete"
        finally:
            reset_runtime()
            client.close()
        assert len(part_reads) == chunks - 1 == len(set(part_reads))  # one merge, each part read once
        report = read(root)
        assert report["status"] == "complete" and report["stopped"] is None
        assert [s["index"] for s in report["chunks"]["sent"]] == list(range(chunks))
    assert push_calls(emulator) == 2 * chunks  # each chunk once per run: the second run's guard was empty
    sent = {s["message_id"] for s in report["chunks"]["sent"]}
    fanned = [s["message_id"] for s in report["chunks"]["sent"] if s.get("via") == "in_process"]
    assert len(sent) == chunks and len(fanned) == chunks - 1


def test_supersede_report_marks_only_a_standing_unstopped_report(tmp_path: Path) -> None:
    """No report: nothing written. A report of a run that stopped: left as it is (parts never complete
    it). A complete report: replaced by the new run's, ``stopped``, so later parts do not rebuild it."""
    from pushfn.targets.parts import RERUN_UNDER_WAY, supersede_report

    reader = LocalFolderReader(tmp_path)
    new = Report(bucket="b", key="f.txt", version="e").to_dict()
    assert supersede_report(reader, "b", "f.txt.report.json", new) is False
    assert not (tmp_path / "f.txt.report.json").exists()

    reader.write_report("b", "f.txt", {**new, "stopped": "near the timeout"})
    assert supersede_report(reader, "b", "f.txt.report.json", new) is False
    assert json.loads((tmp_path / "f.txt.report.json").read_text())["stopped"] == "near the timeout"

    reader.write_report("b", "f.txt", {**new, "stopped": None})
    assert supersede_report(reader, "b", "f.txt.report.json", new) is True
    assert json.loads((tmp_path / "f.txt.report.json").read_text()) == {**new, "stopped": RERUN_UNDER_WAY}
    with pytest.raises(ValueError):
        supersede_report(reader, "b", "f.txt.json", new)
