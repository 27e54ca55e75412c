"""HTTP plumbing: a stdlib threaded server, keep-alive, the API route, control routes and the inbox.

Stdlib only (``http.server``), so the emulator starts in milliseconds and the product does not
depend on a web framework. Control routes (``/_emulator/...``) carry no signature and therefore
answer loopback clients only.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import socketserver
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pushfn.emulator import control, service
from pushfn.emulator.errors import ApiError, EmulatorError
from pushfn.emulator.inbox import render_inbox
from pushfn.emulator.render import JSON_TYPE, render
from pushfn.emulator.state import EmulatorState
from pushfn.emulator.wire import WireRequest
from pushfn.json_input import decode_json

MAX_BODY_BYTES = 16 * 1024 * 1024
CONTROL_PREFIX = "/_emulator/"


def is_loopback_client(address: str) -> bool:
    """Whether a peer address is this machine (IPv4-mapped IPv6 included, for dual-stack binds)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool((mapped or ip).is_loopback)


class EmulatorHTTPServer(ThreadingHTTPServer):
    """The HTTP server of one emulator: a daemon thread per connection, all sharing one :class:`EmulatorState`.

    Binds IPv6 when the host contains a colon. ``log_requests`` writes one line per API call to stderr
    (the action and the answer's status and code; never the query string). ``ssl_context`` (a server-side
    :class:`ssl.SSLContext` holding the certificate) serves HTTPS instead: the TLS handshake runs in each
    connection's own thread.
    """

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], state: EmulatorState, log_requests: bool = False, ssl_context: Any = None
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.state = state
        self.log_requests = log_requests
        self.ssl_context = ssl_context
        #: Set on stop: wakes handlers sleeping on a latency fault so shutdown is prompt.
        self.stopping = threading.Event()
        super().__init__(address, EmulatorRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN (a DNS round trip); a loopback emulator
        # has no use for it and must start in milliseconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        if self.ssl_context is not None:
            # Handshake later, in the connection's thread: a slow or failing client must not stall accept().
            self.socket = self.ssl_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or fails the TLS handshake is no emulator fault: no traceback for that."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    """One keep-alive connection: the API at ``/``, the inbox at ``GET /``, control routes under ``/_emulator/``.

    Bodies up to 16 MiB, sized by Content-Length or chunked; control routes answer loopback peers only.
    """

    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    server_version = "pushfn-emulator"
    sys_version = ""
    server: EmulatorHTTPServer

    def setup(self) -> None:
        """Set up the connection's streams, with TCP_NODELAY on TCP sockets (after the TLS handshake on HTTPS)."""
        if self.server.ssl_context is not None:
            self.request.settimeout(30)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm meets the client's
        # delayed ACK and every keep-alive answer waits ~40 ms.
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        """Answer a GET: the inbox page, a control route, or an API call.

        A GET of ``/`` is an API call when its query has ``Action`` or it carries ``Authorization``.
        """
        self._dispatch()

    def do_POST(self) -> None:
        """Answer a POST: an API call at ``/`` or a control route."""
        self._dispatch()

    def do_DELETE(self) -> None:
        """Answer a DELETE: control routes only (``/_emulator/faults``)."""
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        # The default line holds the whole query string (device ids, signatures): never written.
        pass

    def _log_call(self, request_line: str, status: int, code: str) -> None:
        if self.server.log_requests:
            sys.stderr.write(f"emulator: {request_line} -> {status} {code}\n")

    # --- routing ------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        try:
            body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        if split.path.startswith(CONTROL_PREFIX):
            self._control(split.path[len(CONTROL_PREFIX) :].rstrip("/"), split.query, body)
        elif split.path == "/" and self.command == "GET" and not self._is_api_call(split.query):
            self._send(HTTPStatus.OK, render_inbox(self.server.state.snapshot()).encode(), "text/html;charset=utf-8")
        elif split.path == "/" and self.command in ("GET", "POST"):
            self._api(split.query, body)
        else:
            error = ApiError(
                "InvalidApi.NotFound", "Specified api is not found, please check your url and method.", 404
            )
            self._send_json(404, service.error_body(error, service.new_request_id(), self.headers.get("host")))

    def _is_api_call(self, query: str) -> bool:
        return "Action" in parse_qs(query) or "authorization" in {k.lower() for k in self.headers}

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY_BYTES:
            raise ValueError(f"body of {length} bytes refused")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise ValueError("chunked body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    # --- the API ------------------------------------------------------------------------------

    def _api(self, query: str, body: bytes) -> None:
        try:
            request = WireRequest.parse(self.command, query, dict(self.headers.items()), body)
            outcome = service.handle(self.server.state, request)
        except ApiError as error:  # malformed encoding, caught before the pipeline
            outcome = service.Answer(
                error.status, service.error_body(error, service.new_request_id(), self.headers.get("host"))
            )
        fault = outcome.fault
        if fault is not None and fault.kind == "drop":
            # Processed (the push is recorded) but never answered: the client sees the connection die.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind == "latency":
            self.server.stopping.wait(fault.latency_ms / 1000)
        action = (self.headers.get("x-acs-action") or parse_qs(query).get("Action", ["-"])[0])[:64]
        action = "".join(c if c.isprintable() else "?" for c in action)  # no forged log lines
        self._log_call(f"{self.command} {action}", outcome.status, str(outcome.body.get("Code", "OK")))
        payload, content_type = render(outcome.body, outcome.root, outcome.xml)
        self._send(outcome.status, payload, content_type, {"x-acs-request-id": str(outcome.body.get("RequestId", ""))})

    # --- control routes -----------------------------------------------------------------------

    def _control(self, route: str, query: str, body: bytes) -> None:
        if not is_loopback_client(str(self.client_address[0])):
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "the control API answers loopback clients only"})
            return
        emulator_routes = {
            ("GET", "health"): lambda _: {"ok": True},
            ("GET", "pushes"): lambda _: {"pushes": self.server.state.snapshot()},
            ("POST", "reset"): self._reset,
            ("GET", "devices"): lambda _: {"devices": self._devices(query)},
            ("POST", "devices"): self._register_devices,
            ("GET", "faults"): lambda _: {"faults": self._faults_list()},
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): self._clear_faults,
        }
        handler = emulator_routes.get((self.command, route))
        if handler is None:
            known = any(r == route for _, r in emulator_routes)
            status = HTTPStatus.METHOD_NOT_ALLOWED if known else HTTPStatus.NOT_FOUND
            self._send_json(status, {"error": f"no control route {self.command} /_emulator/{route}"})
            return
        try:
            # The one bounded decoder: no lone surrogates (which could not be answered), no 1e999, no depth bomb.
            payload = decode_json(body) if body.strip() else {}
            result = handler(payload)
        except (ValueError, TypeError, EmulatorError) as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self._send_json(HTTPStatus.OK, result)

    def _reset(self, payload: Any) -> dict[str, Any]:
        keep = bool(payload.get("keep_devices", False)) if isinstance(payload, dict) else False
        self.server.state.reset(keep_devices=keep)
        return {"reset": True, "kept_devices": keep}

    def _devices(self, query: str) -> list[dict[str, Any]]:
        app_key = parse_qs(query).get("app_key", [None])[0]
        return control.list_devices(self.server.state, int(app_key) if app_key else None)

    def _register_devices(self, payload: Any) -> dict[str, Any]:
        entries = payload.get("devices", [payload]) if isinstance(payload, dict) else payload
        if not isinstance(entries, list):
            raise EmulatorError("send one device object, a list of them, or {'devices': [...]}")
        return {"registered": control.register_devices(self.server.state, entries)}

    def _faults_list(self) -> list[dict[str, Any]]:
        with self.server.state.lock:
            return self.server.state.faults.list()

    def _add_fault(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise EmulatorError("send a JSON object: {kind, count?, rate?, latency_ms?, actions?}")
        return {"fault": control.add_fault(self.server.state, **payload)}

    def _clear_faults(self, _: Any) -> dict[str, Any]:
        with self.server.state.lock:
            self.server.state.faults.clear()
        return {"cleared": True}

    # --- writing ------------------------------------------------------------------------------

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), JSON_TYPE, headers)

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(int(status))
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its read timeout beat a latency fault)
