"""The HTTP function behind a local threaded WSGI server (the standard library's ``wsgiref``), called the
way FC 2.0 calls it: ``handler(environ, start_response)`` with ``environ["fc.context"]`` set — the same
adapter path as on the platform (:func:`pushfn.triggers.http.http_handler`).

Besides the function's routes, ``/_serve/`` holds the control routes of ``pushfn serve``:

- ``GET /_serve/`` — what runs where (JSON);
- ``POST /_serve/fire/NAME`` — fire schedule NAME now; the timer function's answer;
- ``POST /_serve/queue`` — a JSON message for the queue function (an SQS record on the local queue).

Every route, the function's included, refuses a ``Host`` header that does not name this machine
(``421``): a web page whose name an attacker re-points at 127.0.0.1 (DNS rebinding) makes same-origin
requests, which would otherwise push through a ``--no-auth`` function. The control routes follow the
emulator's rules (:func:`pushfn.emulator.server.check_local_request`): loopback peers only, a browser's
cross-site request (an ``Origin`` not this server) ``403``, a ``POST`` only with ``Content-Type:
application/json`` (``415``), a method a route does not take ``405`` — so a web page cannot fire pushes.
Errors are ``{"error": ...}``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import unquote
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
    """No access log of its own (each invocation already logs one line), ``Expect: 100-continue``
    answered, and a body sent with ``Transfer-Encoding: chunked`` de-chunked, as FC 2.0's front end
    hands it to the function.

    ``wsgiref`` passes the socket on as ``wsgi.input`` untouched: a chunked body would reach the function
    with its framing, and without a ``Content-Length`` the read would wait for an end the client never
    sends (it waits for the answer). The body is read through Werkzeug's de-chunking reader and
    ``wsgi.input_terminated`` is set (the stream ends where the body does); a malformed chunk fails the
    read with ``OSError``, which the function answers with a 400.
    """

    _dechunked = False

    def log_message(self, format: str, *args: Any) -> None:
        """Drop ``wsgiref``'s access line."""

    def parse_request(self) -> bool:
        """``wsgiref``'s parsing, then ``Expect: 100-continue`` answered and the chunked body wrapped
        (see the class docstring)."""
        if not super().parse_request():
            return False
        if (self.headers.get("Expect") or "").strip().lower() == "100-continue" and self.request_version >= "HTTP/1.1":
            # wsgiref speaks HTTP/1.0 and never says "continue": curl then waits a second before every
            # body it announces so (all chunked uploads); FC's front end answers at once.
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        codings = [c.strip().lower() for c in (self.headers.get("Transfer-Encoding") or "").split(",")]
        if codings[-1:] == ["chunked"]:  # RFC 9112 §6.1: chunked is the last coding, and wins over Content-Length
            from werkzeug.serving import DechunkedInput

            self.rfile = DechunkedInput(self.rfile)  # type: ignore[assignment]
            self._dechunked = True
        return True

    def get_environ(self) -> dict[str, Any]:
        """``wsgiref``'s environ; a de-chunked body is marked ``wsgi.input_terminated`` and has no length."""
        environ = super().get_environ()
        if self._dechunked:
            environ["wsgi.input_terminated"] = True
            environ.pop("CONTENT_LENGTH", None)
        return environ


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
        from pushfn.emulator.server import host_name

        path = str(environ.get("PATH_INFO") or "/")
        if host_name(environ.get("HTTP_HOST")) not in self._names:
            return self._json(start_response, 421, {"error": _WRONG_HOST})
        if path == CONTROL_PREFIX.rstrip("/") or path.startswith(CONTROL_PREFIX):
            return self._answer_control(environ, start_response, path)
        return self._function(environ, start_response)

    @property
    def _names(self) -> frozenset[str]:
        """Host names that mean this server: loopback's, and the bound host."""
        from pushfn.emulator.server import LOOPBACK_NAMES

        return LOOPBACK_NAMES | {str(self._server.server_address[0]).lower()}

    def _answer_control(
        self, environ: dict[str, Any], start_response: Callable[..., Any], path: str
    ) -> Iterable[bytes]:
        try:
            body = self._check_control(environ)
            route = unquote(path[len(CONTROL_PREFIX) :]) if path.startswith(CONTROL_PREFIX) else ""
            status, answer = self._control(str(environ.get("REQUEST_METHOD", "GET")).upper(), route, body)
        except ServeRequestError as exc:
            status, answer = exc.status, {"error": exc.message}
        return self._json(start_response, status, answer)

    @staticmethod
    def _json(start_response: Callable[..., Any], status: int, answer: Any) -> list[bytes]:
        data = json.dumps(answer, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        start_response(
            f"{status} {_REASONS.get(status, 'Error')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data))), ("Cache-Control", "no-store")],
        )
        return [data]

    def _check_control(self, environ: dict[str, Any]) -> bytes:
        from pushfn.emulator.server import check_local_request

        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        refusal = check_local_request(
            str(environ.get("REMOTE_ADDR") or ""),
            # Only a POST carries a body here; any other method is the route's to refuse (405), not 415.
            "POST" if method == "POST" else "GET",
            environ.get("HTTP_HOST"),
            environ.get("HTTP_ORIGIN"),
            environ.get("CONTENT_TYPE"),
            self._names,
            self.port,
        )
        if refusal is not None:
            raise ServeRequestError(int(refusal.status), refusal.error)
        if method != "POST":
            return b""
        stream = environ.get("wsgi.input")
        if environ.get("wsgi.input_terminated") and stream is not None:  # chunked: read to its end, bounded
            from pushfn.triggers.http import read_to_end

            try:
                body = read_to_end(stream, MAX_CONTROL_BODY + 1)
            except (OSError, ValueError):
                raise ServeRequestError(400, "the chunked body is malformed") from None
            if len(body) > MAX_CONTROL_BODY:
                raise ServeRequestError(413, f"at most {MAX_CONTROL_BODY} bytes")
            return body
        length = str(environ.get("CONTENT_LENGTH") or "0").strip() or "0"
        if not length.isascii() or not length.isdigit():
            raise ServeRequestError(400, "Content-Length must be a whole number")
        if int(length) > MAX_CONTROL_BODY:
            raise ServeRequestError(413, f"at most {MAX_CONTROL_BODY} bytes")
        return stream.read(int(length)) if stream is not None and int(length) else b""


_WRONG_HOST = "the Host header must name this machine (127.0.0.1, localhost, [::1])"

_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    421: "Misdirected Request",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

__all__ = ["CONTROL_PREFIX", "LocalHttp", "ServeRequestError"]
