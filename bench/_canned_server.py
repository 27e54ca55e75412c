"""A canned-answer loopback server for throughput benches: every request gets the same Push answer.

It does no parsing of the request beyond what aiohttp does (no signature check, no rules), so a
throughput measured against it is bounded by the clients, not by the server. It runs in its own
process (no shared GIL), over HTTPS when given a certificate.
"""

from __future__ import annotations

from pathlib import Path

from _common import free_port, start_child

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
        self.port = free_port()
        self.url = f"{'https' if server_pem else 'http'}://127.0.0.1:{self.port}"
        code = SERVER.format(bench=str(ROOT / "bench"), answer=ANSWER, server_pem=server_pem, port=self.port)
        self.proc = start_child(code, self.port, "canned-answer server")

    def reset(self) -> None:
        """Nothing to forget."""

    def stop(self) -> None:
        """Stop the server process."""
        self.proc.terminate()
        self.proc.wait(timeout=10)
