"""Helpers of the inbox browser tests: a headless Chromium, and a FAKE inbox server.

FAKE: :class:`FakeInboxServer` is a stand-in for the emulator's inbox routes (the contract in issue 11:
``/``, ``/static/<name>``, ``/_emulator/calls``, ``/_emulator/events``, ``/_emulator/devices``,
``/_emulator/reset``) over loopback, serving the real static files shipped in the package and canned
calls. It lets the page be tested on its own, down to data the real server would never send (a leaked
``SecurityToken``, a faulted call on demand). The real end-to-end test runs against
:class:`pushfn.emulator.Emulator` itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

STATIC = Path(str(files("pushfn.emulator") / "static"))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: The strict policy the page is written for (no inline script or style, no other origin); the FAKE sends
#: it with the page, so every test checks the page works under it.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}

DEVICE_A = "e2ba19de97604f55b165576736477b74"  # Android, alias alice, account user-42
DEVICE_B = "92a1da34bdfd4c9692714917ce22d53d"  # iOS, alias alice, tag vip
DEVICE_C = "0c5d3f6a9b8e4d2c8f1a7b6e5d4c3b2a"  # registered through the page
SECURITY_TOKEN = "CAIS-leaked-session-token-0000000000"
SIGNATURE = "SignatureValueThatMustNotShow00="
IDEMPOTENT_TOKEN = "6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5d6e"


def mask(value: str) -> str:
    """As :func:`pushfn.logs.mask` (which the page mirrors)."""
    from pushfn.logs import mask as logs_mask

    return logs_mask(value)


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 1000) -> Iterator[Any]:
    """A headless Debian Chromium driven by Selenium; skipped outside CI when it is not installed."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        message = (
            f"{CHROMIUM} and {CHROMEDRIVER} are needed: apt-get install -y chromium chromium-driver (.ci/run does)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=en-US",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def device(device_id: str, device_type: str, account: str | None = None, aliases=(), tags=()) -> dict[str, Any]:
    """A device as the contract lists it."""
    return {
        "device_id": device_id,
        "device_type": device_type,
        "account": account,
        "aliases": list(aliases),
        "tags": list(tags),
    }


ANDROID_A = device(DEVICE_A, "ANDROID", "user-42", ["alice"])
IOS_B = device(DEVICE_B, "iOS", None, ["alice"], ["vip"])


def call(seq: int, status: str = "sent", **fields: Any) -> dict[str, Any]:
    """A call record as ``/_emulator/calls`` gives it (defaults: a sent Push, no device)."""
    params = {"AppKey": "23267207", "Target": "DEVICE", "DeviceType": "ALL", "PushType": "NOTICE"}
    params.update(fields.pop("params", {}))
    record = {
        "seq": seq,
        "time": f"2026-05-01T10:00:{seq:02d}Z",
        "action": "Push",
        "status": status,
        "code": None,
        "message_id": str(500_000_000_000 + seq) if status == "sent" else None,
        "request_id": f"REQ-{seq:04d}-0000-0000-0000-000000000000",
        "params": params,
        "devices": [],
        "fault": None,
        "answer": {"MessageId": str(500_000_000_000 + seq), "RequestId": f"REQ-{seq:04d}"},
    }
    record.update(fields)
    return record


def canned_calls() -> list[dict[str, Any]]:
    """Five calls, oldest first: Android, Android+iOS (with an HTML title), refused, throttled+fault, latency fault."""
    return [
        call(
            1,
            params={
                "TargetValue": DEVICE_A,
                "Title": "Order shipped",
                "Body": "On its way",
                "AndroidOpenType": "URL",
                "AndroidOpenUrl": "https://example.com/orders/42",
                "AndroidExtParameters": '{"order": "42"}',
                "AndroidMusic": "default",
                "JobKey": "job-7",
                "IdempotentToken": IDEMPOTENT_TOKEN,
                # The server removes these; the page must mask them even if one slipped through.
                "SecurityToken": SECURITY_TOKEN,
                "Signature": SIGNATURE,
                "AccessKeyId": "testid",
            },
            devices=[ANDROID_A],
        ),
        call(
            2,
            params={
                "Target": "ALIAS",
                "TargetValue": "alice",
                "Title": '<img src=x onerror="window.__xss=1">',
                "Body": "<b>not bold</b> & fine",
                "iOSBadge": "3",
                "iOSMusic": "chime.caf",
                "iOSSubtitle": "Subtitle here",
                "iOSExtParameters": '{"deep": "link"}',
            },
            devices=[ANDROID_A, IOS_B],
        ),
        call(
            3,
            "refused",
            code="InvalidParameter",
            params={"TargetValue": DEVICE_A, "Body": "no title"},
            answer={"Code": "InvalidParameter", "Message": "Title is mandatory for NOTICE.", "RequestId": "REQ-3"},
        ),
        call(
            4,
            "throttled",
            code="Throttling.User",
            fault="throttle",
            params={"TargetValue": DEVICE_B, "Title": "Too many"},
            answer={"Code": "Throttling.User", "Message": "Request was denied due to user flow control."},
        ),
        call(5, fault="latency", params={"TargetValue": DEVICE_B, "Title": "Slow one"}, devices=[IOS_B]),
    ]


class FakeInboxServer:
    """FAKE inbox routes on 127.0.0.1 (see the module docstring); records every request it gets."""

    def __init__(self, calls: list[dict[str, Any]] | None = None, devices: list[dict[str, Any]] | None = None) -> None:
        self.lock = threading.Lock()
        self.calls = list(calls if calls is not None else canned_calls())
        self.devices = list(devices if devices is not None else [ANDROID_A, IOS_B])
        self.requests: list[dict[str, Any]] = []
        self.events_enabled = True
        self.calls_status = HTTPStatus.OK
        self.subscribers: list[queue.Queue[dict[str, Any] | None]] = []
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FakeInboxServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        with self.lock:
            for subscriber in self.subscribers:
                subscriber.put(None)
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def publish(self, record: dict[str, Any]) -> None:
        """Add a call and send it to every open event stream."""
        with self.lock:
            self.calls.append(record)
            for subscriber in self.subscribers:
                subscriber.put(record)

    def seen(self, method: str, path: str) -> list[dict[str, Any]]:
        """The requests received for ``method path`` (query parsed, body decoded)."""
        with self.lock:
            return [r for r in self.requests if r["method"] == method and r["path"] == path]

    # --- the contract, from canned data -----------------------------------------------------------

    def _matches(self, record: dict[str, Any], query: dict[str, str]) -> bool:
        devices = record.get("devices") or []
        checks = {
            "device": lambda v: any(d["device_id"] == v for d in devices),
            "alias": lambda v: any(v in d["aliases"] for d in devices),
            "account": lambda v: any(d["account"] == v for d in devices),
            "tag": lambda v: any(v in d["tags"] for d in devices),
            "status": lambda v: record["status"] == v,
            "q": lambda v: v.lower() in json.dumps(record, ensure_ascii=False).lower(),
        }
        return all(check(query[name]) for name, check in checks.items() if query.get(name))

    def list_calls(self, query: dict[str, str]) -> dict[str, Any]:
        """``GET /_emulator/calls``: newest first, filtered; counts over the whole inbox."""
        since = int(query.get("since") or 0)
        limit = int(query.get("limit") or 100)
        with self.lock:
            everything = list(self.calls)
        chosen = [c for c in reversed(everything) if c["seq"] > since and self._matches(c, query)][:limit]
        counts = {status: sum(c["status"] == status for c in everything) for status in ("sent", "refused", "throttled")}
        top = max((c["seq"] for c in everything), default=0)
        return {"calls": chosen, "next": top, "counts": counts}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _record(self, body: Any = None) -> tuple[str, dict[str, str]]:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with fake.lock:
                    fake.requests.append(
                        {
                            "method": self.command,
                            "path": parts.path,
                            "query": query,
                            "content_type": self.headers.get("Content-Type"),
                            "body": body,
                        }
                    )
                return parts.path, query

            def _send(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Cache-Control", "no-store")
                if content_type.startswith("text/html"):
                    self.send_header("Content-Security-Policy", CSP)
                self.end_headers()
                self.wfile.write(payload)

            def _json(self, status: int, body: Any) -> None:
                self._send(status, json.dumps(body).encode(), "application/json")

            def do_GET(self) -> None:
                path, query = self._record()
                if path in ("/", "/index.html") or path.startswith("/static/"):
                    name = "index.html" if not path.startswith("/static/") else path.removeprefix("/static/")
                    target = STATIC / name
                    if "/" in name or not target.is_file():
                        self._json(404, {"error": "no such file"})
                        return
                    self._send(200, target.read_bytes(), CONTENT_TYPES.get(target.suffix, "application/octet-stream"))
                elif path == "/_emulator/calls":
                    if fake.calls_status != HTTPStatus.OK:
                        self._json(fake.calls_status, {"error": "FAKE failure"})
                        return
                    self._json(200, fake.list_calls(query))
                elif path == "/_emulator/devices":
                    with fake.lock:
                        self._json(200, list(fake.devices))
                elif path == "/_emulator/events" and fake.events_enabled:
                    self._stream()
                else:
                    self._json(404, {"error": f"no route {path}"})

            def _stream(self) -> None:
                subscriber: queue.Queue[dict[str, Any] | None] = queue.Queue()
                with fake.lock:
                    fake.subscribers.append(subscriber)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Cache-Control", "no-store")
                    self.end_headers()
                    self.wfile.write(b": hello\n\n")
                    self.wfile.flush()
                    while not fake.stopping.is_set():
                        try:
                            record = subscriber.get(timeout=0.5)
                        except queue.Empty:
                            self.wfile.write(b": ping\n\n")
                        else:
                            if record is None:
                                break
                            self.wfile.write(f"event: call\ndata: {json.dumps(record)}\n\n".encode())
                        self.wfile.flush()
                except OSError:
                    pass  # the page went away
                finally:
                    with fake.lock:
                        fake.subscribers.remove(subscriber)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                path, _ = self._record(body)
                if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                    self._json(415, {"error": "Content-Type must be application/json"})
                elif path == "/_emulator/reset":
                    with fake.lock:
                        fake.calls.clear()
                    self._json(200, {"reset": True})
                elif path == "/_emulator/devices":
                    entries = body.get("devices") if isinstance(body, dict) else None
                    if not isinstance(entries, list) or any(e.get("device_id") == "bad id" for e in entries):
                        self._json(400, {"error": "device_id 'bad id' is not a device id <script>"})
                        return
                    with fake.lock:
                        fake.devices.extend(entries)
                    self._json(200, {"registered": entries})
                else:
                    self._json(404, {"error": f"no route {path}"})

        return Handler
