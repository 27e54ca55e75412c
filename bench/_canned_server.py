"""A canned-answer loopback server for throughput benches: every request gets the same Push answer.

It does no parsing of the request beyond what aiohttp does (no signature check, no rules), so a
throughput measured against it is bounded by the clients, not by the server. It runs in its own
process (no shared GIL), over HTTPS when given a certificate.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSWER = b'{"MessageId":"500000000001","RequestId":"9D4C1E36-1A2B-4C3D-8E9F-0A1B2C3D4E5F"}'

SERVER = r"""
import sys
sys.path.insert(0, {bench!r})
from aiohttp import web
answer = {answer!r}

async def handle(request):
    await request.read()
    return web.Response(body=answer, content_type="application/json")

app = web.Application()
app.router.add_route("*", "/{{tail:.*}}", handle)
context = None
if {server_pem!r}:
    from _common import server_context
    context = server_context({server_pem!r})
web.run_app(app, host="127.0.0.1", port={port}, ssl_context=context, print=None, access_log=None)
"""


class CannedServer:
    """The canned-answer server on a free loopback port (``url``), HTTPS when ``server_pem`` is given."""

    def __init__(self, server_pem: str | None = None) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"{'https' if server_pem else 'http'}://127.0.0.1:{self.port}"
        code = SERVER.format(bench=str(ROOT / "bench"), answer=ANSWER, server_pem=server_pem, port=self.port)
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, env={**os.environ})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("canned-answer server did not start")

    def reset(self) -> None:
        """Nothing to forget."""

    def stop(self) -> None:
        """Stop the server process."""
        self.proc.terminate()
        self.proc.wait(timeout=10)
