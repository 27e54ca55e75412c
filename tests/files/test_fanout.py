"""Fan-out of big files: chunk jobs through SQS on moto (server mode), through a FAKE Function Compute
on loopback that checks aliyun-fc2's signature and runs the queue handler, and in process; every push
lands at the emulator, each chunk once, and the queue function's outcomes complete the file's report."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from functions.file_push.index import handler
from functions.queue_push.index import handler as queue_handler
from tests.conftest import make_client
from tests.support import Clock, ClockedRuntime

from pushfn.idempotency.stores.sqlite import SqliteStore
from pushfn.jobs.fanout import (
    INVOCATION_ID_HEADER,
    Fanout,
    FanoutError,
    FanoutSink,
    FcFanout,
    SqsFanout,
    invocation_id,
)
from pushfn.jobs.files import process_object
from pushfn.push.credentials import StaticCredentials
from pushfn.runtime import reset_runtime, set_runtime
from pushfn.settings import Settings
from pushfn.targets.parts import part_key
from pushfn.targets.readers import LocalFolderReader
from pushfn.triggers.events.objects import StoredObject, oss_event, s3_event
from pushfn.triggers.events.queue import SqsRecord, sqs_event
from pushfn.triggers.objects import OSS, S3, fanout_sink, parse_object_event

CONTENT = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "Sale", "Body": "Today only"}
IDS = 3500  # 4 Push chunks; the threshold of 1,000 fans out the ones planned after it


def device_ids(count: int) -> str:
    return "".join(f"{n:032x}\n" for n in range(count))


def bucket_with(tmp_path: Path, name: str, ids: int) -> Path:
    """A local bucket folder holding ``name`` (``ids`` device ids) and its ``.push.json`` sidecar."""
    root = tmp_path / "bucket"
    root.mkdir()
    (root / name).write_text(device_ids(ids))
    (root / f"{name}.push.json").write_text(json.dumps(CONTENT))
    return root


def runtime_for(emulator: Any, store: Path, **settings: Any) -> tuple[ClockedRuntime, Any]:
    client = make_client(emulator)
    runtime = ClockedRuntime(
        clock=Clock(),
        settings=Settings(push_app_key="23267207", pushfn_file_fanout_targets=1000, **settings),
        client=client,
        store=SqliteStore(store),
    )
    set_runtime(runtime)
    return runtime, client


def pushed_targets(emulator: Any) -> list[str]:
    """Every target value of every accepted Push call, in call order (one row per call)."""
    calls = {}
    for push in emulator.pushes():
        if push["action"] == "Push":
            calls.setdefault(push["request_id"], push)
    values: list[str] = []
    for push in calls.values():
        values.extend(str(push.get("target_value", push.get("TargetValue", ""))).split(","))
    return values


def push_calls(emulator: Any) -> int:
    return len({p["request_id"] for p in emulator.pushes() if p["action"] == "Push"})


def check_fanned_report(report: dict[str, Any], sink: str) -> None:
    assert report["status"] == "partial"
    chunks = report["chunks"]
    queued = [q["index"] for q in chunks["queued"]]
    sent = [s["index"] for s in chunks["sent"]]
    assert queued and sent and all(q["sink"] == sink for q in chunks["queued"])
    assert sorted(sent + queued) == list(range(4))  # every chunk is either sent here or queued, once
    assert report["totals"]["pending"] == 0 and report["totals"]["targets_pending"] == 0
    assert report["totals"]["targets_sent"] + report["totals"]["targets_queued"] == IDS


def check_completed_report(report: dict[str, Any], sink: str) -> list[int]:
    """The report once every fanned-out chunk's part is in: complete, each chunk sent once; the
    indices of the chunks the queue function sent (through ``sink``)."""
    assert report["status"] == "complete" and report["stopped"] is None
    chunks = report["chunks"]
    assert "queued" not in chunks and chunks["failed"] == [] and chunks["maybe_sent"] == []
    assert [s["index"] for s in chunks["sent"]] == list(range(4))
    assert all(s["message_id"] and s["request_id"] for s in chunks["sent"])
    assert report["totals"]["sent"] == 4 and report["totals"]["pending"] == 0
    assert report["totals"]["targets_sent"] == IDS and "queued" not in report["totals"]
    fanned = [s["index"] for s in chunks["sent"] if s.get("via") == sink]
    assert fanned and all(s.get("via") in (None, sink) for s in chunks["sent"])
    return fanned


# --- SQS on moto -----------------------------------------------------------------------------------


@pytest.fixture
def sqs(s3: Any) -> Any:
    import boto3

    return boto3.client("sqs", region_name="us-east-1")


def test_fan_out_through_sqs_then_the_queue_function_pushes_each_chunk_once(
    s3: Any, sqs: Any, emulator: Any, tmp_path: Path
) -> None:
    s3.create_bucket(Bucket="uploads")
    etag = s3.put_object(Bucket="uploads", Key="big list.txt", Body=device_ids(IDS).encode())["ETag"].strip('"')
    s3.put_object(Bucket="uploads", Key="big list.txt.push.json", Body=json.dumps(CONTENT).encode())
    url = sqs.create_queue(QueueName="fanout")["QueueUrl"]
    _, client = runtime_for(emulator, tmp_path / "idem.db", pushfn_fanout_queue_url=url)

    def read_report() -> dict[str, Any]:
        return json.loads(s3.get_object(Bucket="uploads", Key="big list.txt.report.json")["Body"].read())

    try:
        event = s3_event([StoredObject("big list.txt", etag=etag)], bucket="uploads")
        answer = handler(event, None)
        inline_calls = push_calls(emulator)
        report = read_report()
        check_fanned_report(report, "sqs")
        assert answer["files"][0]["status"] == "partial"
        assert inline_calls == len(report["chunks"]["sent"])

        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert len(messages) == len(report["chunks"]["queued"])
        jobs = [json.loads(m["Body"]) for m in messages]
        assert {j["kind"] for j in jobs} == {"chunk"}
        assert sorted(j["job"]["chunk"] for j in jobs) == [q["index"] for q in report["chunks"]["queued"]]
        assert all(j["job"]["source"] == "uploads/big list.txt" and j["job"]["etag"] == etag for j in jobs)
        assert all(
            j["report"]
            == {"store": "s3", "bucket": "uploads", "key": "big list.txt.report.json", "region": "us-east-1"}
            for j in jobs
        )

        records = [SqsRecord(m["Body"], m["MessageId"]) for m in messages]
        assert queue_handler(sqs_event(records), None)["batchItemFailures"] == []
        assert push_calls(emulator) == 4
        targets = pushed_targets(emulator)
        assert sorted(targets) == sorted(device_ids(IDS).split())  # each target exactly once
        complete = read_report()
        fanned = check_completed_report(complete, "sqs")
        assert fanned == [q["index"] for q in report["chunks"]["queued"]]
        parts = s3.list_objects_v2(Bucket="uploads", Prefix="big list.txt.report.json.parts/")["Contents"]
        assert sorted(p["Key"] for p in parts) == [part_key("big list.txt.report.json", i, etag) for i in fanned]

        # A redelivered message (same body, a new receive) pushes nothing more and counts nothing twice.
        again = [SqsRecord(m["Body"], m["MessageId"], receive_count=2) for m in messages]
        assert queue_handler(sqs_event(again), None)["batchItemFailures"] == []
        assert push_calls(emulator) == 4
        assert read_report() == complete

        # The file's event redelivered: inline chunks replay, queued ones are queued again under the same
        # keys, and the queue function sends none of them twice; the parts already in complete the report.
        assert handler(event, None)["files"][0]["status"] == "complete"
        repeat = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert len(repeat) == len(messages)
        queue_handler(sqs_event([SqsRecord(m["Body"], m["MessageId"]) for m in repeat]), None)
        assert push_calls(emulator) == 4
        assert check_completed_report(read_report(), "sqs") == fanned
    finally:
        reset_runtime()
        client.close()


def test_an_unreachable_queue_stops_the_file_for_a_retry(emulator: Any, tmp_path: Path) -> None:
    root = bucket_with(tmp_path, "big.txt", IDS)
    runtime, client = runtime_for(emulator, tmp_path / "idem.db")
    try:
        obj = parse_object_event(oss_event(["big.txt"])).objects[0]
        sink = SqsFanout("http://127.0.0.1:9/123456789012/gone")  # port 9: nothing listens
        outcome = process_object(
            obj,
            reader=LocalFolderReader(str(root)),
            guard=runtime.guard("file_push"),
            client=client,
            runtime=runtime,
            fanout=Fanout(sink, 1000),
        )
        assert outcome.retry_reason and "not queued" in outcome.retry_reason
        assert outcome.summary["status"] == "partial"
        assert outcome.summary["totals"]["pending"] >= 1
    finally:
        reset_runtime()
        client.close()


# --- FAKE Function Compute ------------------------------------------------------------------------


class FakeFc:
    """FAKE Function Compute (no local stand-in exists): answers aliyun-fc2's InvokeFunction on loopback.

    Checks the signature the way FC documents it (HMAC-SHA256 over method, content-md5, content-type,
    date, the sorted ``x-fc-*`` headers and the path), requires ``x-fc-invocation-type: Async`` and an
    invocation id, refuses a repeated id with 409, and runs the queue handler on the payload (FC passes
    an async invocation's payload as the raw event)."""

    def __init__(self, key_id: str = "testid", secret: str = "testsecret") -> None:
        self.key_id, self.secret = key_id, secret
        self.seen: set[str] = set()
        self.invocations: list[dict[str, Any]] = []
        self.refused: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer = fake.invoke(self.command, self.path, dict(self.headers.items()), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("X-Fc-Request-Id", "fake-request")
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def invoke(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        lower = {k.lower(): v for k, v in headers.items()}
        if not path.startswith("/2016-08-15/services/") or not path.endswith("/invocations"):
            return 404, {"ErrorCode": "NotFound", "ErrorMessage": path}
        fc_headers = sorted((k, v) for k, v in lower.items() if k.startswith("x-fc-"))
        canonical = "".join(f"{k}:{v}\n" for k, v in fc_headers)
        to_sign = "\n".join(
            [
                method,
                lower.get("content-md5", ""),
                lower.get("content-type", ""),
                lower.get("date", ""),
                canonical + path,
            ]
        )
        digest = hmac.new(self.secret.encode(), to_sign.encode(), hashlib.sha256).digest()
        if lower.get("authorization") != f"FC {self.key_id}:{base64.b64encode(digest).decode()}":
            return 403, {"ErrorCode": "SignatureNotMatch", "ErrorMessage": "signature"}
        if lower.get("x-fc-invocation-type") != "Async":
            return 400, {"ErrorCode": "InvalidArgument", "ErrorMessage": "not async"}
        ident = lower.get(INVOCATION_ID_HEADER.lower())
        if not ident:
            return 400, {"ErrorCode": "InvalidArgument", "ErrorMessage": "no invocation id"}
        if ident in self.seen:
            self.refused.append(ident)
            return 409, {"ErrorCode": "StatefulAsyncInvocationAlreadyExists", "ErrorMessage": ident}
        self.seen.add(ident)
        self.invocations.append({"path": path, "id": ident, "job": json.loads(body)})
        queue_handler(body, None)
        return 202, {}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_fc() -> Iterator[FakeFc]:
    server = FakeFc()
    try:
        yield server
    finally:
        server.close()


def test_fan_out_through_fc_async_invocation_fake(fake_fc: FakeFc, emulator: Any, tmp_path: Path) -> None:
    root = bucket_with(tmp_path, "big.txt", IDS)
    # The queue function behind the FAKE FC records each chunk's part in the same folder.
    runtime, client = runtime_for(emulator, tmp_path / "idem.db", pushfn_file_root=str(root))
    try:
        obj = parse_object_event(oss_event(["big.txt"])).objects[0]
        sink = FcFanout(
            endpoint=fake_fc.endpoint,
            function="pushfn/queue_push",
            credentials=StaticCredentials("testid", "testsecret"),
        )

        def run() -> Any:
            return process_object(
                obj,
                reader=LocalFolderReader(str(root)),
                guard=runtime.guard("file_push"),
                client=client,
                runtime=runtime,
                fanout=Fanout(sink, 1000, LocalFolderReader(str(root))),
            )

        outcome = run()
        report = json.loads((root / "big.txt.report.json").read_text())
        assert outcome.retry_reason is None and outcome.summary["status"] == "complete"
        fanned = check_completed_report(report, "fc")
        assert all(
            i["path"] == "/2016-08-15/services/pushfn/functions/queue_push/invocations" for i in fake_fc.invocations
        )
        assert fanned == [i["job"]["job"]["chunk"] for i in fake_fc.invocations]
        assert [i["id"] for i in fake_fc.invocations] == [invocation_id(i["job"]["key"]) for i in fake_fc.invocations]
        assert all(i["job"]["report"]["store"] == "local" for i in fake_fc.invocations)
        assert sorted(str(p.relative_to(root)) for p in (root / "big.txt.report.json.parts").iterdir()) == [
            part_key("big.txt.report.json", i, obj.version) for i in fanned
        ]
        assert push_calls(emulator) == 4
        assert sorted(pushed_targets(emulator)) == sorted(device_ids(IDS).split())

        # Run again (the event redelivered): FC refuses each repeated id with 409 — already queued — and
        # the parts already stored complete the report again, each chunk counted once.
        again = run()
        assert again.retry_reason is None and again.summary["status"] == "complete"
        assert len(fake_fc.refused) == len(fanned)
        assert check_completed_report(json.loads((root / "big.txt.report.json").read_text()), "fc") == fanned
        assert push_calls(emulator) == 4
    finally:
        reset_runtime()
        client.close()


def test_fc_refusing_the_signature_is_a_permanent_chunk_failure(fake_fc: FakeFc, emulator: Any, tmp_path: Path) -> None:
    root = bucket_with(tmp_path, "big.txt", IDS)
    runtime, client = runtime_for(emulator, tmp_path / "idem.db")
    try:
        obj = parse_object_event(oss_event(["big.txt"])).objects[0]
        sink = FcFanout(
            endpoint=fake_fc.endpoint, function="pushfn/queue_push", credentials=StaticCredentials("testid", "wrong")
        )
        outcome = process_object(
            obj,
            reader=LocalFolderReader(str(root)),
            guard=runtime.guard("file_push"),
            client=client,
            runtime=runtime,
            fanout=Fanout(sink, 1000),
        )
        report = json.loads((root / "big.txt.report.json").read_text())
        assert outcome.retry_reason is None
        assert report["status"] == "complete"  # every chunk has an outcome: sent here, or refused by FC
        assert {f["code"] for f in report["chunks"]["failed"]} == {"fanout.refused"}
        assert fake_fc.invocations == []
    finally:
        reset_runtime()
        client.close()


def test_fc2s_error_log_of_request_headers_never_shows_the_sts_token(
    fake_fc: FakeFc, caplog: pytest.LogCaptureFixture
) -> None:
    token = "CAIS-secret-sts-session-token-0123456789"
    sink = FcFanout(
        endpoint=fake_fc.endpoint, function="pushfn/queue_push", credentials=StaticCredentials("testid", "wrong", token)
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(FanoutError):
        sink.hand_over({"kind": "chunk", "version": 1, "key": "k-1", "job": {}, "params": {}})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "x-fc-security-token" in logged  # fc2 did log the headers...
    assert token not in logged  # ...with the token masked


# --- in process (local runs) and the platform choice ----------------------------------------------


def test_fan_out_in_process_runs_the_queue_function(emulator: Any, tmp_path: Path) -> None:
    root = bucket_with(tmp_path, "big.txt", IDS)
    _, client = runtime_for(emulator, tmp_path / "idem.db", pushfn_file_root=str(root))
    try:
        answer = handler(oss_event(["big.txt"]), None)
        # The queue function ran (in process) before the report was written: the file function's
        # own merge, right after writing it, completes it.
        assert answer["files"][0]["status"] == "complete"
        fanned = check_completed_report(json.loads((root / "big.txt.report.json").read_text()), "in_process")
        # Every chunk planned after the first 1,000 targets, full ones included (not only the last one).
        assert fanned == [1, 2, 3]
        assert push_calls(emulator) == 4
        assert sorted(pushed_targets(emulator)) == sorted(device_ids(IDS).split())
        assert handler(oss_event(["big.txt"]), None)["files"][0]["status"] == "complete"  # again: nothing more sent
        assert push_calls(emulator) == 4
        assert check_completed_report(json.loads((root / "big.txt.report.json").read_text()), "in_process") == fanned
    finally:
        reset_runtime()
        client.close()


def test_small_files_are_not_fanned_out(emulator: Any, tmp_path: Path) -> None:
    root = bucket_with(tmp_path, "small.txt", 900)
    _, client = runtime_for(emulator, tmp_path / "idem.db", pushfn_file_root=str(root))
    try:
        handler(oss_event(["small.txt"]), None)
        report = json.loads((root / "small.txt.report.json").read_text())
        assert report["status"] == "complete" and "queued" not in report["chunks"]
    finally:
        reset_runtime()
        client.close()


@pytest.mark.parametrize(
    ("platform", "settings", "context", "expected"),
    [
        (S3, {"pushfn_fanout_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/q"}, None, "sqs"),
        (S3, {}, None, None),
        (
            OSS,
            {"pushfn_fanout_fc_function": "svc/queue_push", "pushfn_fanout_fc_endpoint": "http://127.0.0.1:1"},
            None,
            "fc",
        ),
        (
            OSS,
            {"pushfn_fanout_fc_function": "svc/queue_push"},
            type("Ctx", (), {"account_id": "1", "region": "cn-x"}),
            "fc",
        ),
        (OSS, {}, None, None),
        (OSS, {"pushfn_file_root": "/tmp/x"}, None, "in_process"),
    ],
)
def test_the_platform_chooses_the_sink(platform: str, settings: dict[str, Any], context: Any, expected: Any) -> None:
    event = s3_event(["a.txt"]) if platform == S3 else oss_event(["a.txt"])
    obj = parse_object_event(event).objects[0]
    sink = fanout_sink(obj, Settings(**settings), StaticCredentials("a", "b"), context)
    assert (sink.name if sink else None) == expected
    if context is not None:
        assert sink.endpoint == "https://1.cn-x-internal.fc.aliyuncs.com"


class SmallJobs(FanoutSink):
    """A sink that takes jobs of at most ``max_job_bytes`` (as FC's 128 KB asynchronous payload limit),
    refusing bigger ones for good as the platform does (FC answers 413)."""

    name = "small"
    max_job_bytes = 10_000

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def hand_over(self, job: dict[str, Any]) -> str:
        if len(json.dumps(job).encode()) > 10_000:
            raise FanoutError("413 the payload is too large", transient=False)
        self.jobs.append(job)
        return str(job["key"])


def test_a_chunk_too_big_for_the_sinks_message_limit_is_sent_inline(emulator: Any, tmp_path: Path) -> None:
    """Review regression. A chunk job larger than its sink's message limit (1,000 aliases of 128 bytes
    are ~130 KB: more than FC's 128 KB asynchronous payload). Before: handed over anyway, the platform
    refused it for good, and the chunk was reported failed ('fanout.refused'): its targets never sent.
    Now a chunk whose job would not fit is sent by the file function itself; the others are queued."""
    root = bucket_with(tmp_path, "big.txt", IDS)
    runtime, client = runtime_for(emulator, tmp_path / "idem.db", pushfn_file_root=str(root))
    try:
        sink = SmallJobs()
        reader = LocalFolderReader(str(root))
        outcome = process_object(
            parse_object_event(oss_event(["big.txt"])).objects[0],
            reader=reader,
            guard=runtime.guard("file_push"),
            client=client,
            runtime=runtime,
            fanout=Fanout(sink, 1000, reader),
        )
        report = json.loads((root / "big.txt.report.json").read_text())
        assert report["chunks"]["failed"] == [] and "queued" not in report["chunks"]
        assert outcome.summary["status"] == "complete" and sink.jobs == []
        assert report["totals"]["targets_sent"] == IDS and push_calls(emulator) == 4
    finally:
        reset_runtime()
        client.close()
