"""``pushfn serve`` end to end, as a user runs it: a real subprocess, real HTTP, a real folder, real SQLite.

A signed webhook (with the secret the banner prints), a bearer call, a dropped CSV (its report appears
beside it), a fired schedule (``pushfn serve --fire``), a queued message — every push is then found at
the emulator serve started — and SIGINT stops it: exit 0 within 10 s, no thread left, no secret in
the log. A second start keeps the secrets (kept in the data folder) and stops on SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pushfn
from pushfn.http import sign_webhook
from pushfn.http.settings import webhook_secret_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "serve"
DEVICE = "0123456789abcdef0123456789abcdef"  # serve registers it in its emulator, alias "demo"
PUSH = {
    "Target": "ALIAS",
    "TargetValue": "demo",
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "Order shipped",
    "Body": "On its way",
}
pytestmark = pytest.mark.slow


class Served:
    """A running ``pushfn serve`` and what its banner said."""

    def __init__(self, process: subprocess.Popen[bytes], out: Path, err: Path) -> None:
        self.process, self.out, self.err = process, out, err
        banner = wait_for(lambda: "Try:" in out.read_text() and out.read_text(), f"the banner ({err})", process)
        self.banner = banner
        self.http = _field(banner, r"HTTP function\s+(http://\S+)")
        self.emulator = _field(banner, r"inbox\s+(http://\S+?)/\s")
        no_auth = "(--no-auth)" in banner
        self.secret = "" if no_auth else _field(banner, r"webhook secret\s+(\S+)")
        self.api_key = "" if no_auth else _field(banner, r"API key\s+(\S+)")

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.err.read_text().splitlines() if line.strip()]


def _field(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the banner:\n{text}"
    return match.group(1)


def wait_for(check: Callable[[], Any], what: str, process: subprocess.Popen[bytes] | None = None) -> Any:
    """Poll ``check`` until it returns something true (30 s at most)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if process is not None and process.poll() is not None:
            logs = Path(what.split("(", 1)[1].rstrip(")")).read_text() if "(" in what else ""
            raise AssertionError(f"pushfn serve exited while waiting for {what}:\n{logs}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    started: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(Path(pushfn.__file__).resolve().parents[1]),
        PUSHFN_DATA_DIR=str(tmp_path / "data"),
        HOME=str(tmp_path / "home"),
    )

    def run(*args: str, name: str = "serve") -> Served:
        out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "pushfn.cli", "serve", "--http-port", "0", "--emulator-port", "0", *args],
                cwd=tmp_path,
                env=env,
                stdout=stdout,
                stderr=stderr,
            )
        started.append(process)
        return Served(process, out, err)

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def request(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def signed(secret: str, body: bytes) -> dict[str, str]:
    ident, stamp = f"msg_{uuid.uuid4().hex}", int(time.time())
    return {
        "Content-Type": "application/json",
        "webhook-id": ident,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_webhook(webhook_secret_bytes(secret), ident, stamp, body),
    }


def fire(served: Served, name: str) -> subprocess.CompletedProcess[str]:
    port = served.http.rsplit(":", 1)[1]
    return subprocess.run(
        [sys.executable, "-m", "pushfn.cli", "serve", "--fire", name, "--http-port", port],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(pushfn.__file__).resolve().parents[1])},
    )


def test_serve_end_to_end(start: Callable[..., Served], tmp_path: Path) -> None:
    bucket = tmp_path / "bucket"
    served = start("--bucket-dir", str(bucket), "--config", str(FIXTURES / "pushfn.toml"), "--log-format", "json")
    assert "push service    the emulator at" in served.banner
    assert "morning  cron(0 8 * * ? *)  [pushfn.toml]" in served.banner
    assert "(disabled: fires only with --fire)" in served.banner  # "paused"

    # 1. A signed webhook with the printed secret.
    body = json.dumps(PUSH).encode()
    status, answer = request("POST", f"{served.http}/push", body, signed(served.secret, body))
    assert status == 202, answer
    webhook_id = answer["messageId"]
    # …a bearer call with the printed API key, and a refused anonymous one.
    bearer = {"Authorization": f"Bearer {served.api_key}", "Content-Type": "application/json"}
    status, answer = request("POST", f"{served.http}/push", {**PUSH, "Title": "Bearer"}, bearer)
    assert status == 202, answer
    bearer_id = answer["messageId"]
    status, answer = request("POST", f"{served.http}/push", body, {"Content-Type": "application/json"})
    assert status == 401 and answer["status"] == 401

    # 2. A CSV dropped into the folder: its report appears beside it.
    staging = bucket / ".list.csv.tmp"
    staging.write_text(f"device_id\n{DEVICE}\nnot-a-device\n")
    staging.replace(bucket / "list.csv")
    report_path = bucket / "list.csv.report.json"
    report = wait_for(lambda: report_path.exists() and json.loads(report_path.read_text()), "the report")
    assert report["status"] == "complete", report
    assert report["targets"] == {"valid": 1, "invalid": 1, "duplicate": 0}
    (file_id,) = [sent["message_id"] for sent in report["chunks"]["sent"]]

    # 3. A schedule fired from the command line; an unknown one is refused by name.
    fired = fire(served, "morning")
    assert fired.returncode == 0, fired.stderr
    tick = json.loads(fired.stdout)
    assert tick["status"] == "ok" and tick["trigger"] == "morning"
    (fire_id,) = [item["result"]["MessageId"] for item in tick["items"]]
    unknown = fire(served, "nope")
    assert unknown.returncode == 2 and "no schedule 'nope'" in unknown.stderr and "morning" in unknown.stderr
    assert "restart it after adding or changing pushfn.toml" in unknown.stderr

    # 4. A message on the in-process queue.
    status, answer = request(
        "POST", f"{served.http}/_serve/queue", {**PUSH, "Title": "Queued"}, {"Content-Type": "application/json"}
    )
    assert status == 202 and answer["queued"]

    # Every push is at the emulator, each to the demo device.
    def pushes() -> list[dict[str, Any]]:
        found = request("GET", f"{served.emulator}/_emulator/pushes")[1]["pushes"]
        return found if len(found) >= 5 else []

    found = wait_for(pushes, "five pushes at the emulator")
    assert {p["message_id"] for p in found} >= {webhook_id, bearer_id, file_id, fire_id}
    assert sorted(p["params"]["Title"] for p in found) == [
        "Bearer",
        "Hello from pushfn serve",  # the file function's default content, no sidecar given
        "Morning",
        "Order shipped",
        "Queued",
    ]
    assert all(DEVICE in p["devices"] for p in found)

    # The control routes refuse what a web page could send.
    assert request("POST", f"{served.http}/_serve/fire/morning", b"{}", {"Content-Type": "text/plain"})[0] == 415
    origin = {"Content-Type": "application/json", "Origin": "https://evil.example"}
    assert request("POST", f"{served.http}/_serve/fire/morning", b"{}", origin)[0] == 403
    status, described = request("GET", f"{served.http}/_serve/")
    assert status == 200 and described["push_service"] == "emulator"
    assert {s["name"] for s in described["schedules"]} == {"morning", "every-five", "paused"}
    assert fire_id in [i for line in described["recent"] for i in line["message_ids"]]

    # 5. SIGINT: exit 0 within 10 s.
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(10) == 0
    assert "stopping" in served.out.read_text()
    text = served.err.read_text()
    assert "Traceback" not in text and "thread" not in text
    assert served.secret not in text and served.api_key not in text and served.secret[6:] not in text
    assert DEVICE not in text

    # One JSON line per invocation, each with its request id.
    lines = served.log_lines()
    invocations = [line for line in lines if line.get("event") == "serve.invocation"]
    assert all(line["platform_request_id"] for line in invocations)
    assert len({line["platform_request_id"] for line in invocations}) == len(invocations)
    assert sorted((line["function"], line["trigger"], line["outcome"]) for line in invocations) == [
        ("file_push", "bucket", "complete"),
        ("http_push", "http", "202"),
        ("http_push", "http", "202"),
        ("http_push", "http", "401 unauthorized"),
        ("queue_push", "queue", "ok"),
        ("scheduled_push", "fire", "ok"),
    ]
    by_function = {line["function"]: line for line in invocations if line["message_id"]}
    assert by_function["file_push"]["message_id"] == file_id
    assert by_function["scheduled_push"]["message_id"] == fire_id
    assert all(isinstance(line["ms"], int) for line in invocations)
    # The key each function reports: the tick's name#time, the webhook's id, the object key.
    assert by_function["scheduled_push"]["key"] == tick["key"] and tick["key"].startswith("morning#")
    assert any(line["key"].startswith("POST /push msg_") for line in invocations)
    assert by_function["file_push"]["key"] == "list.csv"

    # The data folder: the idempotency store and the secrets, readable by their owner only.
    data = tmp_path / "data"
    assert (data / "idempotency.db").exists()
    assert (data / "serve-auth.json").stat().st_mode & 0o077 == 0

    # A second start keeps the secrets; SIGTERM stops it cleanly too.
    again = start("--bucket-dir", str(bucket), "--config", str(FIXTURES / "s.yaml"), name="again")
    assert (again.secret, again.api_key) == (served.secret, served.api_key)
    assert "nightly  0 0 2 * * *  [s.yaml]" in again.banner
    # Dropped again unchanged, the file is the same version: its chunk is replayed, nothing resent.
    (bucket / "list.csv.report.json").unlink()
    (bucket / "list.csv").touch()
    replayed = wait_for(lambda: report_path.exists() and json.loads(report_path.read_text()), "the second report")
    assert [s["message_id"] for s in replayed["chunks"]["sent"]] == [file_id]
    again.process.send_signal(signal.SIGTERM)
    assert again.process.wait(10) == 0
    assert "Traceback" not in again.err.read_text()


def test_serve_refuses_bad_schedules_and_busy_ports(start: Callable[..., Served], tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    bad = tmp_path / "bad" / "pushfn.toml"
    bad.write_text("[schedules.x]\nexpression = 'rate(5 weeks)'\n")
    result = subprocess.run(
        [sys.executable, "-m", "pushfn.cli", "serve", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path / "bad",
        env={**os.environ, "PYTHONPATH": str(Path(pushfn.__file__).resolve().parents[1])},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("pushfn: serve: pushfn.toml: schedule 'x'") and "Traceback" not in result.stderr

    served = start("--bucket-dir", str(tmp_path / "b1"), "--no-auth", "--demo")
    assert "auth            none (--no-auth)" in served.banner
    port = served.http.rsplit(":", 1)[1]
    busy = subprocess.run(
        [sys.executable, "-m", "pushfn.cli", "serve", "--http-port", port, "--emulator-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(pushfn.__file__).resolve().parents[1])},
    )
    assert busy.returncode == 2 and "cannot listen" in busy.stderr and "Traceback" not in busy.stderr
    # --demo: one webhook push and the sample file, so the inbox fills at once.
    report = tmp_path / "b1" / "welcome.csv.report.json"
    wait_for(lambda: report.exists() and json.loads(report.read_text())["status"] == "complete", "the demo report")
    pushes = request("GET", f"{served.emulator}/_emulator/pushes")[1]["pushes"]
    assert len(pushes) == 2
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(10) == 0
