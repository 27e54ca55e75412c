"""Regressions found by using ``pushfn serve`` as a hostile newcomer (review 2): the bucket folder."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from tests.serve.test_serve_parts import wait_for

from pushfn.jobs import fanout
from pushfn.serve.server import EMULATOR, ENDPOINT, REAL, Serve, ServeOptions
from pushfn.settings import Settings

DEVICE = "0123456789abcdef0123456789abcdef"
CONTENT = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "Mine", "Body": "Written by me"}


def test_only_the_emulator_gets_the_greeting_as_default_file_content(serve_in: Any) -> None:
    # A list of real devices dropped before its sidecar must not get "Hello from pushfn serve": away from
    # the emulator a file without content is rejected with a report, as in the cloud.
    local = serve_in()
    assert local.service == EMULATOR and local.settings.pushfn_file_push_spec
    local.stop()
    real = serve_in(alibaba_cloud_access_key_id="LTAI-real", alibaba_cloud_access_key_secret="s" * 30,
                    push_app_key="333")  # fmt: skip
    assert real.service == REAL and not real.settings.pushfn_file_push_spec
    real.stop()
    endpoint = serve_in(push_endpoint="http://127.0.0.1:9", alibaba_cloud_access_key_id="mine")
    assert endpoint.service == ENDPOINT and not endpoint.settings.pushfn_file_push_spec


def test_a_sidecar_dropped_after_its_file_runs_the_file_again(serve_in: Any, emulator: Any) -> None:
    keys = emulator.settings
    serve = serve_in(
        push_endpoint=emulator.url,
        alibaba_cloud_access_key_id=keys.access_key_id,
        alibaba_cloud_access_key_secret=keys.access_key_secret,
        push_app_key=str(keys.app_keys[0]),
    )
    target = serve.bucket / "late.csv"
    report = serve.bucket / "late.csv.report.json"
    target.write_text(f"device_id\n{DEVICE}\n")
    first = wait_for(lambda: report.is_file() and json.loads(report.read_text()), "the first report")
    assert first["status"] == "rejected" and not emulator.pushes()
    (serve.bucket / "late.csv.push.json").write_text(json.dumps(CONTENT))
    pushes = wait_for(lambda: emulator.pushes(), "the push once the sidecar arrived")
    assert [p["params"]["Title"] for p in pushes] == ["Mine"]
    assert wait_for(lambda: json.loads(report.read_text())["status"] == "complete", "the new report")


# --- the HTTP port: DNS rebinding and methods -------------------------------------------------------------

PUSH = {"Target": "ALIAS", "TargetValue": "demo", "DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "T",
        "Body": "B"}  # fmt: skip


def _post(url: str, body: Any, **headers: str) -> Any:
    import requests

    with requests.Session() as session:
        session.trust_env = False
        return session.post(url, json=body, headers=headers, timeout=30)


@pytest.mark.parametrize("path", ["/push", "/_serve/fire/nope", "/_serve/queue"])
def test_a_page_rebound_to_loopback_cannot_reach_the_http_port(serve_in: Any, path: str) -> None:
    # DNS rebinding: a web page at attacker.example whose name now resolves to 127.0.0.1 makes same-origin
    # requests (Host: attacker.example:PORT). With --no-auth they would push; every route refuses them.
    serve = serve_in(pushfn_http_auth="none")
    port = serve.http.port
    host = f"attacker.example:{port}"
    answer = _post(f"{serve.http.url}{path}", PUSH, Host=host, Origin=f"http://{host}")
    assert answer.status_code == 421, answer.text
    assert "Host" in answer.json().get("error", answer.text)
    assert not serve.emulator.pushes()


def test_the_http_port_still_answers_its_own_names(serve_in: Any) -> None:
    serve = serve_in(pushfn_http_auth="none")
    for host in (f"127.0.0.1:{serve.http.port}", f"localhost:{serve.http.port}"):
        assert _post(f"{serve.http.url}/push", PUSH, Host=host).status_code == 202


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_a_control_route_names_the_method_it_takes(serve_in: Any, method: str) -> None:
    import requests

    serve = serve_in()
    answer = requests.request(method, f"{serve.http.url}/_serve/", timeout=30)
    assert answer.status_code == 405 and "GET" in answer.json()["error"]


# --- a big file's fan-out -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["big.txt.report.json.parts/000050.json", "sub/big.csv.report.json.parts/000001.json", "x.report.json.parts/a"],
)
def test_the_parts_of_a_fanned_out_report_never_start_a_run(name: str) -> None:
    from pushfn.serve.workers import FolderWatcher

    # Each part written by a fan-out job used to run the file function once (a line per part, and the
    # watcher busy while the queue sends).
    assert FolderWatcher.wanted(Path("bucket") / name) is False


def test_a_fanout_jobs_key_keeps_its_chunk_number() -> None:
    from pushfn.serve.server import _job_key
    from pushfn.targets.chunks import chunk_key

    keys = [
        _job_key(json.dumps({"key": chunk_key("local", "folder/big.txt", "D0" * 16, n)}).encode())
        for n in (10, 11, 131)
    ]
    assert [key.rsplit("#", 1)[1] for key in keys] == ["chunk-0010", "chunk-0011", "chunk-0131"]
    assert all(len(key) <= 60 for key in keys)


@pytest.mark.parametrize("folder", ["", "f/", "folder/", "a/b/c/d/e/f/g/", "x" * 40 + "/"])
def test_a_fanout_jobs_key_masks_a_device_id_before_it_is_cut(folder: str) -> None:
    """Regression (item 18, mask before cut): the key of a file named after a device id was cut in the
    middle first, leaving up to 24 of the id's characters, no longer shaped like an id, for the invocation
    line the log filter could not mask."""
    from pushfn.serve.server import _job_key
    from pushfn.targets.chunks import chunk_key

    device = "e2ba19de97604f55b165576736477b74"
    key = _job_key(json.dumps({"key": chunk_key("local", f"{folder}{device}.txt", "D0" * 16, 7)}).encode())
    assert device[:5] not in key
    assert key.endswith("#chunk-0007") and len(key) <= 60


# --- what the bucket folder runs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("list.CSV", True),
        ("list.jsonl", True),
        ("list.txt.gz", True),
        ("README.md", False),
        ("notes", False),
        ("data/idempotency.db", False),
        ("data/idempotency.db-journal", False),
        ("photo.png", False),
    ],
)
def test_only_the_suffixes_the_deployed_triggers_take_start_a_run(name: str, wanted: bool) -> None:
    from pushfn.serve.workers import FolderWatcher

    # template.yaml and s.yaml filter uploads to .txt/.csv/.jsonl/.gz: `--bucket-dir .` (or a data folder
    # inside the bucket) used to run the file function on every saved file and litter rejected reports.
    assert FolderWatcher.wanted(Path("bucket") / name) is wanted


def test_a_file_of_another_kind_gets_no_report(serve_in: Any) -> None:
    serve = serve_in()
    (serve.bucket / "notes.md").write_text("# not a list of targets\n")
    (serve.bucket / "list.csv").write_text(f"device_id\n{DEVICE}\n")
    wait_for(lambda: (serve.bucket / "list.csv.report.json").is_file(), "the list's report")
    # The report is written before the invocation line is recorded: wait for the line, not just the file.
    wait_for(lambda: [line.key for line in serve.invocations.lines] == ["list.csv"], "the list's invocation line")
    assert not (serve.bucket / "notes.md.report.json").exists()
    assert [line.key for line in serve.invocations.lines] == ["list.csv"]


# --- start-up -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["http_port", "emulator_port"])
def test_a_port_in_use_is_named(tmp_path: Path, which: str) -> None:
    import socket

    from pushfn.errors import ConfigurationError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = ServeOptions(bucket_dir=tmp_path / "bucket", **{"http_port": 0, "emulator_port": 0, which: port})
        serve = Serve(options, Settings(pushfn_data_dir=str(tmp_path / "data")), io.StringIO())
        with pytest.raises(ConfigurationError) as caught:
            serve.start()
    flag = "--" + which.replace("_", "-")
    assert f"{flag} {port}" in str(caught.value) and "in use" in str(caught.value)
    fanout.use_local_queue(None)


def test_a_file_not_yet_started_when_stopping_is_left_for_the_next_start(serve_in: Any) -> None:
    # Ctrl-C while a multi-GB file was being hashed for its ETag waited for the whole hash (35 s for
    # 8 GB) and then ran the file: the hash now stops with the server, and the file is not started.
    serve = serve_in()
    big = serve.bucket / "big.csv"
    with big.open("wb") as out:
        out.write(b"device_id\n")
        out.truncate(256 * 1024 * 1024)  # sparse
    serve.stopping.set()
    assert serve.run_file(big) is None
    assert not serve.invocations.lines


# --- concurrent firing ----------------------------------------------------------------------------------------


def test_concurrent_firings_of_one_tick_push_once_and_the_rest_are_delivered_again_after_the_lease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two --fire (or a --fire and the timer) for the same scheduled time: the one finding the tick in
    # progress raises RetryLaterError. Delivered again at once (as before), each redelivery found it in
    # progress too; now it waits the guard's in-progress lease (short here), then replays the answer.
    import threading
    from datetime import datetime, timezone

    from tests.serve.test_serve_fix1 import short_lease

    from pushfn.serve.schedules import read_schedule_files
    from pushfn.triggers import RetryLaterError

    config = tmp_path / "pushfn.toml"
    config.write_text(f"[schedules.m]\nexpression = 'rate(1 hour)'\npayload = '{json.dumps(PUSH)}'\n")
    options = ServeOptions(
        http_port=0, emulator_port=0, bucket_dir=tmp_path / "bucket", schedules=read_schedule_files([config])
    )
    serve = Serve(options, Settings(pushfn_data_dir=str(tmp_path / "data")), io.StringIO()).start()
    short_lease(serve, monkeypatch, 1)
    try:
        when = datetime(2026, 1, 1, tzinfo=timezone.utc)
        answers: list[Any] = []
        errors: list[BaseException] = []

        def fire() -> None:
            try:
                answers.append(serve.fire("m", when))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=fire) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert all(isinstance(e, RetryLaterError) for e in errors) and len(answers) + len(errors) == 8
        states = sorted(item["state"] for answer in answers for item in answer["items"])
        assert errors and states == ["pushed"] + ["replayed"] * (len(answers) - 1)
        retries = wait_for(
            lambda: (
                (lines := [x for x in serve.invocations.lines if x.trigger == "retry"])
                and len(lines) == len(errors)
                and lines
            ),
            "the redeliveries",
        )
        assert {line.outcome for line in retries} == {"ok"}  # each replays the first firing's answer
        assert len(serve.emulator.pushes()) == 1
    finally:
        serve.stop()
        fanout.use_local_queue(None)


# --- chunked request bodies (issue 13 item 16, on pushfn serve's FC 2.0 stand-in) ----------------------


def _raw_request(port: int, head: str, body: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 request written on a socket as given (framing included); the status and body back."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_a_chunked_push_is_read_whole_not_waited_on(serve_in: Any) -> None:
    """``curl -H 'Transfer-Encoding: chunked' --data-binary @push.json`` hung until the client gave up:
    wsgiref passed the framed socket on, and without a Content-Length the function read until the end."""
    import requests

    serve = serve_in(pushfn_http_auth="none")
    body = json.dumps({**PUSH, "Title": "sent in chunks"}).encode()
    pieces = iter([body[:10], body[10:40], body[40:]])  # a generator body: requests sends it chunked
    with requests.Session() as session:
        session.trust_env = False
        answer = session.post(
            f"{serve.http.url}/push", data=pieces, headers={"Content-Type": "application/json"}, timeout=30
        )
    assert answer.status_code == 202, answer.text
    assert [p["params"]["Title"] for p in serve.emulator.pushes()] == ["sent in chunks"]


@pytest.mark.parametrize(
    ("extra_headers", "framed", "status"),
    [
        # chunked wins over a Content-Length that disagrees (RFC 9112 §6.3)
        ("Transfer-Encoding: chunked\nContent-Length: 5\n", "{size:x}\r\n{body}\r\n0\r\n\r\n", 202),
        ("Transfer-Encoding: Chunked\n", "{size:x}\r\n{body}\r\n0\r\n\r\n", 202),  # names are case-insensitive
        ("Transfer-Encoding: chunked\n", "zz\r\n{body}\r\n0\r\n\r\n", 400),  # a malformed chunk size
    ],
)
def test_chunked_framings_are_answered_never_hung(serve_in: Any, extra_headers: str, framed: str, status: int) -> None:
    serve = serve_in(pushfn_http_auth="none")
    body = json.dumps(PUSH)
    head = (
        f"POST /push HTTP/1.1\nHost: 127.0.0.1:{serve.http.port}\nContent-Type: application/json\n"
        f"{extra_headers}Connection: close\n"
    )
    got, answer = _raw_request(serve.http.port, head, framed.format(size=len(body), body=body).encode())
    assert got == status, answer
    assert len(serve.emulator.pushes()) == (1 if status == 202 else 0)


def test_a_chunked_control_request_is_read(serve_in: Any) -> None:
    serve = serve_in()
    body = json.dumps(PUSH)
    head = (
        f"POST /_serve/queue HTTP/1.1\nHost: 127.0.0.1:{serve.http.port}\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked\nConnection: close\n"
    )
    status, answer = _raw_request(serve.http.port, head, f"{len(body):x}\r\n{body}\r\n0\r\n\r\n".encode())
    assert status == 202 and json.loads(answer)["queued"], answer
    assert wait_for(lambda: serve.emulator.pushes(), "the queued push")


def test_expect_100_continue_is_answered_before_the_body(serve_in: Any) -> None:
    """curl announces every chunked upload with ``Expect: 100-continue`` and waited a second for an
    answer wsgiref never gave (each such push took 1 s more); the interim answer now comes at once."""
    import socket

    serve = serve_in(pushfn_http_auth="none")
    body = json.dumps(PUSH).encode()
    head = (
        f"POST /push HTTP/1.1\r\nHost: 127.0.0.1:{serve.http.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", serve.http.port), timeout=30) as conn:
        conn.sendall(head.encode())
        interim = conn.recv(1024)  # before any body byte was sent
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
        conn.sendall(body)
        data = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n") :]
        while chunk := conn.recv(65536):
            data += chunk
    assert data.split(b" ")[1] == b"202", data
    assert len(serve.emulator.pushes()) == 1


@pytest.mark.parametrize("prefix", ["order-for-", "o-", "a-much-longer-order-name-"])
def test_a_device_id_in_an_idempotency_key_is_masked_in_the_invocation_line(
    serve_in: Any, caplog: pytest.LogCaptureFixture, prefix: str
) -> None:
    """The line's key took the first 40 characters of the header before masking: a device id across the
    cut was logged as its first 20-30 characters (issue 13 item 18, logs from HTTP requests)."""
    import requests

    caplog.set_level(logging.INFO, logger="pushfn")
    serve = serve_in(pushfn_http_auth="none")
    key = prefix + DEVICE
    with requests.Session() as session:
        session.trust_env = False
        answer = session.post(
            f"{serve.http.url}/push",
            json={**PUSH, "Title": prefix},
            headers={"Idempotency-Key": key},
            timeout=30,
        )
    assert answer.status_code == 202, answer.text
    lines = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "serve.invocation"]
    assert lines, "no invocation line"
    logged = "\n".join(f"{r.getMessage()} {r.fields}" for r in lines)  # type: ignore[attr-defined]
    assert DEVICE[:10] not in logged and "…(32)" in logged


@pytest.mark.parametrize(
    "event",
    [b"[" * 100_000, b'{"key": ' * 50_000, b'{"key": {"a": 1}}', b"\xff\xfe", {"Records": [1]}, {"Records": []}],
    ids=["deep array", "deep object", "key not text", "not UTF-8", "record not an object", "no records"],
)
def test_a_queued_job_nobody_can_name_still_runs_and_reaches_the_dead_letters(serve_in: Any, event: Any) -> None:
    """Regression: naming a fan-out job read its bytes with plain ``json.loads``, so a job nested deeper than
    json can walk raised RecursionError before the queue function ran, and again on the way to the dead
    letters: the dead letter was never written and the job was handed back after every visibility timeout,
    forever; an event of no readable record wrote no letter at all. Such a job now runs (the queue function
    dead-letters it with its reason) and, given up, is written whole."""
    from pushfn.functions import QUEUE_PUSH

    serve = serve_in()
    serve.run_queue_job(event)  # never raises: the queue function reports an unreadable message
    assert [line.key for line in serve.invocations.lines][-1] in ("job", "message")
    where = serve.dead_letter(QUEUE_PUSH, event, "raised RecursionError", 3)
    assert where is not None and Path(where).is_file()


@pytest.mark.parametrize("name", [b"\xff.txt", b"sub\xff/x.txt"], ids=["file", "folder"])
def test_a_name_that_is_not_utf8_does_not_stop_the_bucket_watch(
    serve_in: Any, caplog: pytest.LogCaptureFixture, name: bytes
) -> None:
    """Regression: watchfiles raises for a path that is not UTF-8 (a new file's, or every time it starts
    beside such a folder), and the watcher then stopped for good ('the bucket folder is no longer watched'):
    no file dropped afterwards ever ran. The change is logged once and the watch starts again by polling, so
    the next file runs."""
    import logging
    import os

    serve = serve_in()
    bucket = os.fsencode(str(serve.bucket))
    with caplog.at_level(logging.WARNING, logger="pushfn.serve"):
        if b"/" in name:
            os.mkdir(bucket + b"/" + name.split(b"/")[0])
        with open(bucket + b"/" + name, "wb") as out:
            out.write(DEVICE.encode() + b"\n")
        wait_for(lambda: "could not be read" in caplog.text, "the watch to report the name it cannot read")
        (serve.bucket / "after.txt").write_text(f"{DEVICE}\n")
        lines = wait_for(lambda: [line for line in serve.invocations.lines if line.key == "after.txt"], "after.txt")
    assert lines[0].outcome == "complete"
    assert caplog.text.count("could not be read") == 1 and "no longer watched" not in caplog.text
