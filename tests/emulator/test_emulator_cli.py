"""``pushfn emulator`` as a user runs it: a real process. Start-up errors are one line and exit 2, a host
reachable from the network is warned about, and ``--store FILE`` keeps the history across a restart."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from emulator_support import notice

import pushfn
from pushfn.push import PushClient, StaticCredentials

APP_KEY = 23267207
#: TEST-NET-3 (RFC 5737): never an address of this machine, so binding it fails.
FOREIGN_ADDRESS = "203.0.113.7"


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(Path(pushfn.__file__).resolve().parents[1]),
    }


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pushfn.cli", "emulator", *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
    )


def _sigint_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job (`cmd &`)


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal starts it, however pytest was started


@contextmanager
def _running(
    tmp_path: Path, *args: str, stop_signal: int = signal.SIGINT, sigint_ignored: bool = False
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A ``pushfn emulator`` process on a free port; yields its URL once the banner is out, stops it with
    ``stop_signal`` (Ctrl-C's SIGINT by default) and expects exit 0. ``sigint_ignored``: started with
    SIGINT ignored, as a background job of a script is."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pushfn.cli", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        preexec_fn=_sigint_ignored if sigint_ignored else _sigint_default,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("CloudPush emulator on "), banner + (process.stderr.read() if process.stderr else "")
        yield banner.split()[3], process
    finally:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pushfn: "), done.stderr
    assert done.stdout == ""  # nothing claims the emulator started
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_port_in_use_is_one_line_exit_2(tmp_path, busy_port) -> None:
    line = _one_error_line(_run(tmp_path, "--port", str(busy_port)))
    assert "in use" in line and "--port" in line


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--port", "65536"], "--port"),
        (["--port", "-1"], "--port"),
        (["--port", "1e3"], "--port"),
        (["--port", "٣"], "--port"),  # a digit, but not an ASCII one
        (["--ring-size", "0"], "--ring-size"),
        (["--ring-size", "10000001"], "--ring-size"),
        (["--ring-size", "x"], "--ring-size"),
        (["--host", "0.0.0.0", "--port", "0"], "--allow-remote"),
        (["--host", FOREIGN_ADDRESS, "--allow-remote", "--port", "0"], "--host"),
        (["--host", "no-such-host.invalid", "--allow-remote", "--port", "0"], "--host"),
        # A typo is no address of this machine, not a host "reachable from the network".
        (["--host", "locahost", "--port", "0"], "--host must be an address of this machine"),
        (["--device", "", "--port", "0"], "device_id"),
        (["--device", " d1", "--port", "0"], "device_id"),
        (["--device", "a,b", "--port", "0"], "device_id"),
        # Where pushfn store refuses an SQLite file too: nothing would be kept across a restart.
        (["--store", "/dev/null", "--port", "0"], "--store must name a regular file"),
        (["--store", ":memory:", "--port", "0"], "--store ':memory:' keeps nothing across restarts"),
        (["--store", "file:h?mode=memory", "--port", "0"], "keeps nothing across restarts"),
        (["--store", "", "--port", "0"], "--store needs a file name"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(tmp_path, args, named) -> None:
    line = _one_error_line(_run(tmp_path, *args))
    assert named in line and "Traceback" not in line


def test_unusable_store_is_one_line_exit_2(tmp_path) -> None:
    other = tmp_path / "app.sqlite"  # another program's database, e.g. a mistyped path
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE users (name TEXT)")
    (tmp_path / "garbage").write_bytes(b"not a database at all " * 50)
    for store in (tmp_path / "no" / "such" / "dir.sqlite", tmp_path, tmp_path / "garbage", other):
        line = _one_error_line(_run(tmp_path, "--port", "0", "--store", str(store)))
        assert "--store" in line
    with sqlite3.connect(other) as db:  # left as it was
        assert [name for (name,) in db.execute("SELECT name FROM sqlite_master")] == ["users"]


def test_a_second_emulator_on_the_same_store_is_one_line_exit_2(tmp_path) -> None:
    # Both would hand out the same MessageIds and overwrite each other's history rows.
    store = str(tmp_path / "history.sqlite")
    with _running(tmp_path, "--store", store):
        line = _one_error_line(_run(tmp_path, "--port", "0", "--store", store))
        assert line.startswith(f"pushfn: --store {store!r} is in use by another emulator")


def test_store_keeps_the_history_across_a_restart(tmp_path) -> None:
    store = tmp_path / "history.sqlite"
    credentials = StaticCredentials("testid", "testsecret")
    with _running(tmp_path, "--store", str(store)) as (url, _):
        client = PushClient(endpoint=url, app_key=APP_KEY, credentials=credentials)
        first = client.push(notice(TargetValue="dev-1", Title="before")).message_id
        client.push(notice(TargetValue="dev-2", Title="also before"))
    with _running(tmp_path, "--store", str(store)) as (url, _):
        kept = requests.get(f"{url}/_emulator/pushes", timeout=10).json()["pushes"]
        assert [(p["seq"], p["title"]) for p in kept] == [(1, "before"), (2, "also before")]
        assert kept[0]["message_id"] == first
        client = PushClient(endpoint=url, app_key=APP_KEY, credentials=credentials)
        third = client.push(notice(TargetValue="dev-1", Title="after")).message_id
        assert int(third) > int(first)  # a MessageId is never handed out twice
        page = requests.get(f"{url}/_emulator/pushes", params={"since": 1, "device": "dev-1"}, timeout=10).json()
        assert [(p["seq"], p["title"]) for p in page["pushes"]] == [(3, "after")]
        calls = requests.get(f"{url}/_emulator/calls", timeout=10).json()
        assert [c["seq"] for c in calls["calls"]] == [3, 2, 1] and calls["counts"]["sent"] == 3


@pytest.mark.parametrize(("stop_signal", "sigint_ignored"), [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_a_background_or_killed_emulator_stops_cleanly_and_frees_its_store(
    tmp_path, stop_signal: int, sigint_ignored: bool
) -> None:
    """Started as ``pushfn emulator &`` in a script (SIGINT inherited ignored: Python then installs no Ctrl-C
    handler) and stopped with ``kill -INT``, or stopped with ``kill`` (SIGTERM): exit 0 after a clean stop,
    and the next emulator on the same ``--store`` starts with the history kept."""
    store = tmp_path / "history.sqlite"
    credentials = StaticCredentials("testid", "testsecret")
    with _running(tmp_path, "--store", str(store), stop_signal=stop_signal, sigint_ignored=sigint_ignored) as (
        url,
        _,
    ):
        PushClient(endpoint=url, app_key=APP_KEY, credentials=credentials).push(notice(Title="kept"))
    with _running(tmp_path, "--store", str(store)) as (url, _):
        kept = requests.get(f"{url}/_emulator/pushes", timeout=10).json()["pushes"]
        assert [p["title"] for p in kept] == ["kept"]


def _own_non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_allow_remote_prints_a_warning_and_the_control_api_stays_local(tmp_path) -> None:
    address = _own_non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with _running(tmp_path, "--host", address, "--allow-remote") as (url, process):
        assert url.startswith(f"http://{address}:")
        # The peer is this machine's own network address, not loopback: the control API and the inbox refuse.
        for path in ("/_emulator/pushes", "/", "/_emulator/events"):
            answer = requests.get(f"{url}{path}", timeout=10)
            assert answer.status_code == 403 and "loopback" in answer.json()["error"], path
        refused = requests.post(f"{url}/_emulator/faults", json={"kind": "drop"}, timeout=10)
        assert refused.status_code == 403
        # The signed API is what --allow-remote is for: it answers.
        client = PushClient(endpoint=url, app_key=APP_KEY, credentials=StaticCredentials("testid", "testsecret"))
        assert client.push(notice(TargetValue="dev-1")).message_id
    assert process.stderr is not None
    warning = process.stderr.readline()
    assert warning.startswith("pushfn: warning: ") and address in warning and "reachable from the network" in warning


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--access-key-secret", "sec\udcffret"], {}, "access_key_secret"),  # the byte 0xff on the command line
        (["--access-key-id", "id\udcff"], {}, "access_key_id"),
        ([], {"PUSHFN_EMULATOR_ACCESS_KEY_SECRET": "sec\udcffret"}, "access_key_secret"),
    ],
)
def test_a_key_that_is_not_utf8_is_one_line_exit_2(tmp_path, args, env, named) -> None:
    # It started, and every signed request was answered 500 (UnicodeEncodeError while signing).
    done = subprocess.run(
        [sys.executable, "-m", "pushfn.cli", "emulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        env={**_env(tmp_path), **env},
        timeout=60,
    )
    line = _one_error_line(done)
    assert named in line and "sec" not in line.replace("access_key_secret", "")  # the secret is not quoted
