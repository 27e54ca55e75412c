"""The file function killed with SIGKILL mid-file and run again: no chunk twice, none lost.

A worker process (``file_worker.py``) runs the real handler, configured only through the environment
(the emulator's endpoint and keys, a SQLite idempotency store, a local folder of objects), and is
killed after the second of five chunks (indices 0 and 1: "chunks 1-2" in the issue), either between
chunks or while the third is at CloudPush but not yet recorded. The run again happens in this process
over the same SQLite file. Pushes are counted at the emulator: ``pushes()`` holds what was accepted
and recorded (a call answered from an earlier IdempotentToken records nothing), ``calls()`` every Push
call that reached it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from functions.file_push.index import handler
from test_file_push import CONTENT, Files, device_ids

from pushfn.runtime import reset_runtime
from pushfn.triggers.events.objects import oss_event

WORKER = Path(__file__).resolve().parent / "file_worker.py"
KEY = "in/five.txt"


def run_worker(mode: str, files: Files, event: bytes, marker: Path) -> dict[str, Any]:
    settings = files.emulator.settings
    env = {
        **os.environ,
        "PUSH_ENDPOINT": files.emulator.url,
        "PUSH_APP_KEY": str(settings.app_keys[0]),
        "PUSH_ACCESS_KEY_ID": settings.access_key_id,
        "PUSH_ACCESS_KEY_SECRET": settings.access_key_secret,
        "PUSHFN_IDEMPOTENCY_URL": f"sqlite:///{files.store_path}",
        "PUSHFN_FILE_ROOT": str(files.root),
        "PYTHONUNBUFFERED": "1",
        # The kill points are positions in a sequential run ("after chunk 2 of 5").
        "PUSHFN_FILE_CONCURRENCY": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), mode, event.decode("utf-8"), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() or not marker.read_text():
            if proc.poll() is not None:
                raise AssertionError(f"worker exited early: {proc.communicate()[1][-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("worker never reached its stop point")
            time.sleep(0.01)
        stop = json.loads(marker.read_text())
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        return stop
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)


def push_calls(files: Files) -> list[dict[str, Any]]:
    return [c for c in files.emulator.calls() if c["action"] == "Push" and c["status"] == "sent"]


def recorded(files: Files) -> list[str]:
    """Target values of the pushes the emulator accepted and recorded, oldest first."""
    by_request = {p["request_id"]: p["target_value"] for p in files.emulator.pushes() if p["action"] == "Push"}
    return list(by_request.values())


def chunk_values(index: int) -> str:
    return ",".join(f"{n:032x}" for n in range(index * 1000, (index + 1) * 1000))


@pytest.mark.parametrize("mode", ["between", "mid_chunk"])
def test_killed_after_chunk_2_of_5_and_run_again(files: Files, tmp_path: Path, mode: str) -> None:
    files.put(KEY, device_ids(5000), CONTENT)
    event = oss_event([KEY])
    stop = run_worker(mode, files, event, tmp_path / "marker.json")

    # At the kill: chunks 0 and 1 (and in mid_chunk chunk 2 too) reached the emulator, nothing else.
    sent_before = 3 if mode == "mid_chunk" else 2
    assert recorded(files) == [chunk_values(i) for i in range(sent_before)]
    assert not (files.root / f"{KEY}.report.json").exists()  # the killed run wrote no report

    runtime = files.install()  # the run again: a fresh runtime over the same SQLite file
    if mode == "mid_chunk":
        # Chunk 2 was taken but never recorded as sent: its record stays in progress until the
        # window passes; then the run again takes it over with the same IdempotentToken.
        runtime.clock.advance(3600)
    try:
        answer = handler(event, None)
    finally:
        reset_runtime()

    assert answer["files"][0]["status"] == "complete"
    # Each chunk's targets were accepted exactly once: chunks 0-1 were not resent. (In any order: the
    # run again sends its chunks concurrently.)
    assert sorted(recorded(files)) == [chunk_values(i) for i in range(5)]
    assert len(recorded(files)) == 5
    calls = push_calls(files)
    if mode == "mid_chunk":
        # Chunk 2 reached the emulator twice, the second time with the first call's token: answered
        # from it (same MessageId), nothing recorded again.
        assert len(calls) == 6
        again = [c for c in calls if c["params"].get("TargetValue") == chunk_values(2)]
        assert len(again) == 2 and {c["message_id"] for c in again} == {stop["message_id"]}
    else:
        assert len(calls) == 5
    report = files.report(KEY)
    assert report["status"] == "complete" and report["stopped"] is None
    assert report["totals"] == {
        "chunks": 5,
        "sent": 5,
        "failed": 0,
        "maybe_sent": 0,
        "pending": 0,
        "targets_sent": 5000,
        "targets_failed": 0,
        "targets_maybe_sent": 0,
        "targets_pending": 0,
    }
    assert [c["index"] for c in report["chunks"]["sent"]] == [0, 1, 2, 3, 4]
    message_ids = {p["request_id"]: p["message_id"] for p in files.emulator.pushes()}
    assert sorted(c["message_id"] for c in report["chunks"]["sent"]) == sorted(message_ids.values())


def sent_push_calls(files: Files) -> list[dict[str, Any]]:
    """The Push calls the emulator accepted and recorded, from its ``/_emulator/calls`` history over HTTP."""
    import urllib.request

    url = f"{files.emulator.url}/_emulator/calls?status=sent&limit=1000"
    with urllib.request.urlopen(url, timeout=10) as answer:
        calls = json.loads(answer.read())["calls"]
    return [c for c in calls if c["action"] == "Push"]


@pytest.mark.parametrize("chunks", [5, 20])
def test_killed_mid_file_at_the_default_concurrency_and_run_again(files: Files, tmp_path: Path, chunks: int) -> None:
    """The default concurrency (8): the worker is killed once two chunks are recorded at the emulator,
    with others in flight (every Push is answered 1.5 s late, recorded at once). The run again sends
    each chunk not yet accepted, resends none that was (the in-flight ones go out again with their first
    IdempotentToken and are answered from it), and writes a complete report."""
    key = f"in/{chunks}.txt"
    files.put(key, device_ids(chunks * 1000), CONTENT)
    event = oss_event([key])
    files.emulator.add_fault("latency", count=10_000, latency_ms=1500, actions=["Push"])
    marker = tmp_path / "marker.json"
    env = {
        **os.environ,
        "PUSH_ENDPOINT": files.emulator.url,
        "PUSH_APP_KEY": str(files.emulator.settings.app_keys[0]),
        "PUSH_ACCESS_KEY_ID": files.emulator.settings.access_key_id,
        "PUSH_ACCESS_KEY_SECRET": files.emulator.settings.access_key_secret,
        "PUSHFN_IDEMPOTENCY_URL": f"sqlite:///{files.store_path}",
        "PUSHFN_FILE_ROOT": str(files.root),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PUSHFN_FILE_CONCURRENCY", None)  # the default: 8 chunks in flight
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), "run", event.decode("utf-8"), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while len(sent_push_calls(files)) < 2:
            if proc.poll() is not None:
                raise AssertionError(f"worker exited early: {proc.communicate()[1][-3000:]}")
            assert time.monotonic() < deadline, "no two chunks reached the emulator"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)

    before = {c["params"]["TargetValue"] for c in sent_push_calls(files)}
    assert 2 <= len(before) <= min(chunks, 8)  # at most the 8 in flight had reached it
    assert not (files.root / f"{key}.report.json").exists()  # killed before any report

    files.emulator.clear_faults()
    files.install().clock.advance(3600)  # the in-flight chunks' in-progress records are taken over
    try:
        answer = handler(event, None)
    finally:
        reset_runtime()

    assert answer["files"][0]["status"] == "complete"
    # Every chunk was recorded by the emulator exactly once (a repeat of a token records nothing)...
    assert sorted(recorded(files)) == sorted(chunk_values(i) for i in range(chunks))
    # ...and every call of a chunk, before and after the kill, got the same MessageId: one push each.
    message_ids: dict[str, set[str]] = {}
    for call in sent_push_calls(files):
        message_ids.setdefault(call["params"]["TargetValue"], set()).add(call["message_id"])
    assert set(message_ids) == {chunk_values(i) for i in range(chunks)} and set(message_ids) >= before
    assert all(len(ids) == 1 for ids in message_ids.values())
    report = files.report(key)
    assert report["status"] == "complete" and report["totals"]["sent"] == chunks and report["stopped"] is None
    assert report["totals"]["targets_sent"] == chunks * 1000
