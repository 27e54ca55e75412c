"""The HTTP function behind a local threaded WSGI server (the standard library's ``wsgiref``), called the
way FC 2.0 calls it: ``handler(environ, start_response)`` with ``environ["fc.context"]`` set — the same
adapter path as on the platform (:func:`pushfn.triggers.http.http_handler`).

Besides the function's routes, ``/_serve/`` holds the control routes of ``pushfn serve``:

- ``GET /_serve/`` — what runs where (JSON);
- ``POST /_serve/fire/NAME`` — fire schedule NAME now; the timer function's answer;
- ``POST /_serve/queue`` — a JSON message for the queue function (an SQS record on the local queue).

They answer loopback peers only, refuse a browser's cross-site request (an ``Origin`` header not on
this host: ``403``) and take a ``POST`` only with ``Content-Type: application/json`` (``415``), so a web
page cannot fire pushes. Errors are ``{"error": ...}``.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import unquote, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from pushfn.errors import PushfnError

CONTROL_PREFIX = "/_serve/"
#: Largest control request body (a queue message; CloudPush requests are a few KB).
MAX_CONTROL_BODY = 256 * 1024


class ThreadingWsgiServer(ThreadingMixIn, WSGIServer):
    """``wsgiref``'s server, one thread per request; :meth:`server_close` waits for requests in flight."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True


class QuietHandler(WSGIRequestHandler):
    """No access log of its own: each invocation already logs one line."""

    def log_message(self, format: str, *args: Any) -> None:
        """Drop ``wsgiref``'s access line."""


class ServeRequestError(PushfnError):
    """A refused control request: ``status`` and a message for ``{"error": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LocalHttp:
    """Serves ``function(environ, start_response)`` and the control routes on ``host:port`` (0 = free port).

    ``control(method, route, body)`` answers a control request with ``(status, JSON value)`` and may
    raise :class:`ServeRequestError`. :meth:`start` binds and serves on a thread; :meth:`stop` stops
    accepting, lets the requests in flight finish, and frees the port.
    """

    def __init__(
        self,
        host: str,
        port: int,
        function: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]],
        control: Callable[[str, str, bytes], tuple[int, Any]],
    ) -> None:
        self._function = function
        self._control = control
        self._server = ThreadingWsgiServer((host, port), QuietHandler)
        self._server.set_app(self._app)
        self._thread = threading.Thread(target=self._server.serve_forever, name="pushfn-http", daemon=False)

    @property
    def url(self) -> str:
        """``http://host:port`` of the bound socket."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    def start(self) -> LocalHttp:
        """Serve on a thread; returns ``self``."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, wait for the requests in flight, close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "/")
        if path == CONTROL_PREFIX.rstrip("/") or path.startswith(CONTROL_PREFIX):
            return self._answer_control(environ, start_response, path)
        return self._function(environ, start_response)

    def _answer_control(
        self, environ: dict[str, Any], start_response: Callable[..., Any], path: str
    ) -> Iterable[bytes]:
        try:
            body = self._check_control(environ)
            route = unquote(path[len(CONTROL_PREFIX) :]) if path.startswith(CONTROL_PREFIX) else ""
            status, answer = self._control(str(environ.get("REQUEST_METHOD", "GET")).upper(), route, body)
        except ServeRequestError as exc:
            status, answer = exc.status, {"error": exc.message}
        data = json.dumps(answer, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        start_response(
            f"{status} {_REASONS.get(status, 'Error')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data))), ("Cache-Control", "no-store")],
        )
        return [data]

    @staticmethod
    def _check_control(environ: dict[str, Any]) -> bytes:
        peer = str(environ.get("REMOTE_ADDR") or "")
        try:
            loopback = ipaddress.ip_address(peer).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ServeRequestError(403, "the control routes answer this machine only")
        origin = environ.get("HTTP_ORIGIN")
        if origin:
            host = urlsplit(str(origin)).hostname or ""
            if host not in ("127.0.0.1", "localhost", "::1"):
                raise ServeRequestError(403, "cross-site requests to the control routes are refused")
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if method == "GET":
            return b""
        content_type = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ServeRequestError(415, "send Content-Type: application/json")
        length = str(environ.get("CONTENT_LENGTH") or "0").strip() or "0"
        if not length.isascii() or not length.isdigit():
            raise ServeRequestError(400, "Content-Length must be a whole number")
        if int(length) > MAX_CONTROL_BODY:
            raise ServeRequestError(413, f"at most {MAX_CONTROL_BODY} bytes")
        stream = environ.get("wsgi.input")
        return stream.read(int(length)) if stream is not None and int(length) else b""


_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

__all__ = ["CONTROL_PREFIX", "LocalHttp", "ServeRequestError"]
