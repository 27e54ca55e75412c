"""Test helpers shared across folders: a hand-moved clock, a runtime whose guards read it, moto, file
places no SQLite database can live in, and the request reader of raw loopback test servers."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pushfn.idempotency import IdempotencyConfig, IdempotencyGuard
from pushfn.runtime import Runtime

SHARED = Path(__file__).resolve().parents[1] / "shared"


def fresh_python(code: str, env: dict[str, str] | None = None) -> str:
    """What ``python -c code`` prints in a fresh interpreter that sees only ``shared/`` (and ``env``):
    a cold start, with nothing this test process imported. Raises ``CalledProcessError`` when it fails."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SHARED), "PATH": "/usr/bin:/bin", **(env or {})},
    ).stdout


class Clock:
    """The guard's clock, moved by hand: lets a test step past an in-progress window without sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ClockedRuntime(Runtime):
    """The real runtime, except that its guards read :attr:`clock`."""

    def __init__(self, *, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self._clocked: dict[str, IdempotencyGuard] = {}

    def guard(self, function_name: str) -> IdempotencyGuard:
        if function_name not in self._clocked:
            self._clocked[function_name] = IdempotencyGuard(
                self.store, IdempotencyConfig(), function_name=function_name, clock=self.clock
            )
        return self._clocked[function_name]


class MotoServer:
    """moto in server mode on 127.0.0.1 (S3, SQS, DynamoDB…), reached over real HTTP.

    DynamoDB requests are served one at a time. moto evaluates a ``ConditionExpression`` and then
    writes as two steps with no lock between them, so under a threaded server two concurrent
    ``attribute_not_exists`` puts on one key could both succeed (seen in CI: two winners of a
    32-thread race). Real DynamoDB applies a conditional write atomically; serialising moto's
    DynamoDB handling restores that contract. Other services stay concurrent, because SQS long
    polls (``WaitTimeSeconds``) must not hold up everything else.
    """

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        moto_app = DomainDispatcherApplication(create_backend_app)
        dynamodb_lock = threading.Lock()

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
                with dynamodb_lock:
                    return list(moto_app(environ, start_response))
            return moto_app(environ, start_response)

        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.running = True

    def stop(self) -> None:
        """Shut the server down; requests after this fail to connect."""
        if self.running:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self.running = False


def make_unusable_place(folder: Path, name: str) -> Path:
    """``folder / name`` made into a place no SQLite file can live: ``fifo``, ``socket``, ``link-to-null``
    (a link to /dev/null) or ``below-a-file/…`` (a path under a regular file); other names are left as
    they are. Returns the path."""
    import os
    import socket

    if name == "fifo":
        os.mkfifo(folder / name)
    elif name == "socket":
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(folder / name))
    elif name == "link-to-null":
        (folder / name).symlink_to("/dev/null")
    elif name.startswith("below-a-file/"):
        (folder / "below-a-file").write_text("x")
    return folder / name


def read_request_head(conn: socket.socket) -> bytes:
    """What a raw test server reads of a request: bytes up to the end of its head (or the connection's end)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data
