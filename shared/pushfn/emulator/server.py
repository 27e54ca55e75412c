"""HTTP: an asyncio server (aiohttp) answering the API at ``/``, the control routes, the live feed and the inbox.

One event loop on a daemon thread serves every connection (keep-alive, pipelined or not); the API
pipeline is short CPU work under the state lock, so it runs on the loop itself. Each answer goes out
in one write.

Local routes — the control API (``/_emulator/...``), the live feed and the inbox files (``/`` and
``/static/<name>``) — carry no signature, so :func:`check_local_request` guards them: loopback peers
only, a ``Host`` that names this machine or the configured host (no DNS rebinding), no foreign
``Origin``, and ``Content-Type: application/json`` on anything that changes state (no CSRF from a
web page: a form or a ``no-cors`` fetch cannot send it). Every refusal and every bad payload is a
JSON answer, never a dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from pushfn.emulator import actions
from pushfn.emulator import state as operations
from pushfn.emulator.app import is_loopback_address
from pushfn.emulator.errors import ApiError, ControlError, EmulatorError
from pushfn.emulator.history import CALL_STATUSES, MAX_PAGE
from pushfn.emulator.state import EmulatorState
from pushfn.emulator.wire import JSON_TYPE, WireRequest, render, utf8_headers
from pushfn.json_input import decode_json

MAX_BODY_BYTES = 16 * 1024 * 1024
CONTROL_PREFIX = "/_emulator/"
STATIC_DIR = Path(__file__).with_name("static")
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
#: Host names that always mean this machine.
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
#: A comment line on the live feed this often, so proxies and browsers keep it open.
HEARTBEAT_SECONDS = 15.0
#: Calls a slow live-feed reader may fall behind before it is disconnected (it reconnects with Last-Event-ID).
FEED_BACKLOG = 1000
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Query names each local route reads; any other is refused (a typo such as ``devcie=`` would silently match all).
QUERY_NAMES: dict[str, frozenset[str]] = {
    "pushes": frozenset({"since", "device", "limit"}),
    "calls": frozenset({"since", "before", "limit", "device", "alias", "account", "tag", "status", "q"}),
    "devices": frozenset({"app_key"}),
    "events": frozenset({"since"}),
}
_ACTION_IN_QUERY = re.compile(r"(?:^|&)Action(?:[=&]|$)")
_STATIC_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def is_loopback_client(address: str) -> bool:
    """Whether a peer address is this machine (IPv4-mapped IPv6 included, for dual-stack binds)."""
    return is_loopback_address(address)


def host_name(value: str | None) -> str | None:
    """The lower-case host of a ``Host`` header (``[::1]:9100`` → ``::1``); ``None`` if malformed or absent."""
    if not value:
        return None
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1 :]
        if end < 0 or (rest and not re.fullmatch(r":[0-9]{1,5}", rest)):
            return None
        return value[1:end]
    name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    return name or None


@dataclass(frozen=True)
class Refusal:
    """Why a local route refuses a request: the HTTP ``status`` and the ``error`` text of the JSON answer."""

    status: int
    error: str


def check_local_request(
    peer: str | None,
    method: str,
    host: str | None,
    origin: str | None,
    content_type: str | None,
    allowed_hosts: frozenset[str],
    port: int,
    scheme: str = "http",
) -> Refusal | None:
    """The rules of the control API and the inbox; ``None`` when the request may proceed.

    ``peer``: the client address; ``host`` / ``origin`` / ``content_type``: those headers as sent;
    ``allowed_hosts``: host names that mean this emulator (:data:`LOOPBACK_NAMES` and the configured
    host); ``port`` and ``scheme`` (``https`` when serving TLS): the emulator's, which a same-origin
    ``Origin`` carries. In order: a peer that is not loopback → 403; a ``Host`` not allowed → 421; an
    ``Origin`` other than ``<scheme>://<allowed host>:<port>`` → 403; a state-changing method without
    ``application/json`` → 415.
    """
    if peer is None or not is_loopback_client(peer):
        return Refusal(HTTPStatus.FORBIDDEN, "the control API and the inbox answer loopback clients only")
    name = host_name(host)
    if name is None or name not in allowed_hosts:
        return Refusal(
            HTTPStatus.MISDIRECTED_REQUEST,
            "the Host header must name this machine (127.0.0.1, localhost, [::1]) or the emulator's --host",
        )
    if origin is not None and not _same_origin(origin, allowed_hosts, port, scheme):
        return Refusal(HTTPStatus.FORBIDDEN, "cross-origin requests are refused (the Origin is not this emulator)")
    if method in STATE_CHANGING:
        media = (content_type or "").split(";")[0].strip().lower()
        if media != "application/json":
            return Refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"send Content-Type: application/json to {method}")
    return None


def _same_origin(origin: str, allowed_hosts: frozenset[str], port: int, scheme: str) -> bool:
    try:
        parts = urlsplit(origin.strip())
        origin_port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    # The page an HTTPS emulator serves sends Origin: https://…; http://… on that port is no page of it.
    return parts.scheme == scheme and (parts.hostname or "") in allowed_hosts and origin_port == port


def http_error_reason(exc: BaseException | None) -> str:
    """aiohttp's multi-line message for a request it could not parse or decode, as one short printable line."""
    if exc is None:
        return "no detail"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if lines and lines[0].endswith("message:"):  # "400, message:" then the reason
        lines = lines[1:]
    reason = (lines[0] if lines else type(exc).__name__).rstrip(":")
    return "".join(c if c.isprintable() else "?" for c in reason[:120])


class _OneLineHandler(logging.Handler):
    """aiohttp's error records (a malformed request, a body it cannot decode) as one line on stderr, no traceback."""

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        message = record.getMessage()
        if message == "Unhandled exception":  # the rest of a body aiohttp could not decode, after the answer
            message = "connection closed"
        sys.stderr.write(f"emulator: {message}: {http_error_reason(exc)}\n")


def _http_logger(log_requests: bool) -> logging.Logger:
    # Its own logger, outside the logging tree: with nothing configured, logging's last resort would
    # print aiohttp's tracebacks for a malformed request on stderr (the "traceback on stderr").
    logger = logging.Logger("pushfn.emulator.http")
    if log_requests:
        logger.addHandler(_OneLineHandler())
    else:
        logger.addHandler(logging.NullHandler())
    return logger


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return web.Response(status=int(status), body=payload, headers={"Content-Type": JSON_TYPE, **(headers or {})})


def _int_arg(query: dict[str, str], name: str, default: int | None, low: int, high: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:  # 18 digits: int() never meets a huge one
        raise ControlError(f"{name} must be a whole number, got {raw[:40]!r}")
    value = int(raw)
    if value < low or (high is not None and value > high):
        raise ControlError(f"{name} must be from {low} to {high if high is not None else 'any'}, got {value}")
    return value


class EmulatorServer:
    """The aiohttp server of one emulator, on its own event loop in a daemon thread.

    ``address``: ``(host, port)``, port 0 for any free one; IPv6 when the host contains a colon.
    ``log_requests`` writes one line per API call to stderr (method, action, status and code; never
    the query string). :meth:`start` binds synchronously, so a port in use raises :class:`OSError` there.
    ``ssl_context`` (a server-side :class:`ssl.SSLContext` with its certificate loaded) serves HTTPS.
    """

    def __init__(
        self, state: EmulatorState, address: tuple[str, int], log_requests: bool = False, ssl_context: Any = None
    ) -> None:
        self.state = state
        self.ssl_context = ssl_context
        self.host = address[0]
        self.log_requests = log_requests
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host.strip("[]"), int(address[1])))
            sock.listen(512)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        wildcard = self.host in ("0.0.0.0", "::", "")
        self.allowed_hosts = LOOPBACK_NAMES | ({self.host.strip("[]").lower()} if not wildcard else set())
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="pushfn-emulator", daemon=True)
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._runner: web.ServerRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._feeds: set[asyncio.Queue[bytes | None]] = set()
        self._routes: dict[tuple[str, str], Callable[[web.BaseRequest, dict[str, str], Any], Any]] = {
            ("GET", "health"): lambda r, q, p: {"ok": True},
            ("GET", "pushes"): self._pushes,
            ("GET", "calls"): self._calls,
            ("POST", "reset"): self._reset,
            ("GET", "devices"): self._devices,
            ("POST", "devices"): self._register_devices,
            ("GET", "faults"): self._faults_list,
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): self._clear_faults,
        }

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Serve on the bound socket from a daemon thread; returns once the server accepts connections."""
        self._thread.start()
        self._ready.wait(10)
        if self._startup_error is not None:
            raise self._startup_error
        with self.state.lock:
            self.state.history.listeners.append(self._publish)

    def stop(self) -> None:
        """Close every connection (live feeds end, latency faults wake) and free the port; waits at most 5 s."""
        with self.state.lock, contextlib.suppress(ValueError):
            self.state.history.listeners.remove(self._publish)
        if self._loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
            with contextlib.suppress(Exception):
                future.result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._socket.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(), which raises it in the caller's thread
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        # Both official SDKs put every Push parameter in the query: 1,000 device ids make a ~35 KB
        # request line, beyond aiohttp's 8 KiB default.
        server = web.Server(
            self._handle,
            access_log=None,
            logger=_http_logger(self.log_requests),
            max_field_size=65536,
            max_line_size=131072,
        )
        self._runner = web.ServerRunner(server, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket, ssl_context=self.ssl_context).start()

    async def _shutdown(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        for feed in list(self._feeds):
            self._end_feed(feed)
        if self._runner is not None:
            await self._runner.cleanup()

    # --- routing ------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            _, _, raw_query = request.raw_path.partition("?")
            path = request.path
            if path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/"):
                return await self._local(request, path, raw_query)
            if path == "/" and request.method in ("GET", "POST") and self._is_api_call(request, raw_query):
                return await self._api(request, raw_query)
            if (path == "/" and request.method == "GET") or path.startswith("/static/"):
                return await self._local(request, path, raw_query)
            error = ApiError("InvalidApi.NotFound", actions.API_NOT_FOUND, 404)
            host = utf8_headers(request.headers).get("host")
            return _json_response(404, actions.error_body(error, actions.new_request_id(), host))
        except ControlError as exc:
            return _json_response(exc.status, {"error": str(exc)})
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug must still be an answer, never a dropped connection
            return _json_response(500, {"error": f"internal emulator error: {type(exc).__name__}"})

    @staticmethod
    def _is_api_call(request: web.BaseRequest, raw_query: str) -> bool:
        """A POST to ``/`` is always the API; a GET is when it names an ``Action`` or carries ``Authorization``."""
        if request.method == "POST":
            return True
        return bool(_ACTION_IN_QUERY.search(raw_query)) or "Authorization" in request.headers

    async def _read_body(self, request: web.BaseRequest) -> bytes:
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            raise ControlError(f"body of {length} bytes refused", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        if not request.body_exists:
            return b""
        chunks: list[bytes] = []
        total = 0
        try:
            async for chunk in request.content.iter_any():
                total += len(chunk)
                if total > MAX_BODY_BYTES:
                    raise ControlError("body too large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                chunks.append(chunk)
        except web.RequestPayloadError as exc:  # e.g. Content-Encoding: gzip on bytes that are not gzip
            raise ControlError(f"the body could not be read: {http_error_reason(exc.__cause__ or exc)}") from None
        return b"".join(chunks)

    # --- the API ------------------------------------------------------------------------------

    async def _api(self, request: web.BaseRequest, raw_query: str) -> web.StreamResponse:
        body = await self._read_body(request)
        wire: WireRequest | None = None
        try:
            wire = WireRequest.parse(request.method, raw_query, dict(request.headers), body)
            outcome = actions.handle(self.state, wire)
        except ApiError as error:  # malformed encoding, caught before the pipeline
            outcome = actions.refuse_unreadable(self.state, request.method, request.headers, error)
        fault = outcome.fault
        if fault is not None and fault.kind == "drop":
            # Processed (the push is recorded) but never answered: the client sees the connection die.
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("drop fault")
        if fault is not None and fault.kind == "latency" and self._stopping is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.latency_ms / 1000)
        if self.log_requests:
            action = (wire.action if wire is not None else None) or "-"
            action = "".join(c if c.isprintable() else "?" for c in action[:64])  # no forged log lines
            sys.stderr.write(
                f"emulator: {request.method} {action} -> {outcome.status} {outcome.body.get('Code', 'OK')}\n"
            )
        payload, content_type = render(outcome.body, outcome.root, outcome.xml)
        return web.Response(
            status=outcome.status,
            body=payload,
            headers={
                **outcome.headers,
                "Content-Type": content_type,
                "x-acs-request-id": str(outcome.body.get("RequestId", "")),
            },
        )

    # --- local routes: control API, live feed, inbox ------------------------------------------

    async def _local(self, request: web.BaseRequest, path: str, raw_query: str) -> web.StreamResponse:
        headers = request.headers
        route = path[len(CONTROL_PREFIX) :].rstrip("/")
        routable = (
            path == "/" or path.startswith("/static/") or route == "events" or any(r == route for _, r in self._routes)
        )
        origins = headers.getall("Origin", [])
        refusal = check_local_request(
            request.remote,
            request.method if routable else "GET",  # an unknown route is a 404 whatever its Content-Type
            headers.get("Host"),
            # A browser sends one Origin; with two, the second could be the real one: refuse both ("").
            origins[0] if len(origins) == 1 else ("" if origins else None),
            headers.get("Content-Type"),
            self.allowed_hosts,
            self.port,
            "https" if self.ssl_context is not None else "http",
        )
        if refusal is not None:
            return _json_response(refusal.status, {"error": refusal.error})
        if path == "/":
            return self._static("index.html")
        if path.startswith("/static/"):
            if request.method != "GET":
                return _json_response(405, {"error": f"no route {request.method} {path}"})
            return self._static(path[len("/static/") :])
        try:
            pairs = parse_qsl(raw_query, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise ControlError("the query string must be UTF-8") from None
        query = dict(pairs)
        if len(query) < len(pairs):  # ?device=a&device=b: the last one alone would filter, silently
            seen = Counter(name for name, _ in pairs)
            repeated = sorted(name[:40] for name, times in seen.items() if times > 1)[:10]
            raise ControlError(f"query parameters {repeated} are given more than once; give each once")
        known = QUERY_NAMES.get(route, frozenset())
        unknown = sorted(name[:40] for name in set(query) - known)
        if unknown:
            expected = f"known: {', '.join(sorted(known))}" if known else "it takes none"
            raise ControlError(f"unknown query parameters {unknown} for /_emulator/{route}; {expected}")
        if route == "events":
            if request.method != "GET":
                return _json_response(405, {"error": f"no control route {request.method} /_emulator/events"})
            return await self._events(request, query)
        handler = self._routes.get((request.method, route))
        if handler is None:
            known = any(r == route for _, r in self._routes)
            status = HTTPStatus.METHOD_NOT_ALLOWED if known else HTTPStatus.NOT_FOUND
            return _json_response(status, {"error": f"no control route {request.method} /_emulator/{route}"})
        body = await self._read_body(request)
        try:
            # The one bounded decoder: no lone surrogates (which could not be answered), no 1e999, no depth bomb.
            payload = decode_json(body) if body.strip() else {}
            result = handler(request, query, payload)
        except (ValueError, TypeError, EmulatorError) as exc:
            status = exc.status if isinstance(exc, ControlError) else HTTPStatus.BAD_REQUEST
            return _json_response(status, {"error": str(exc)})
        return _json_response(HTTPStatus.OK, result)

    def _static(self, name: str) -> web.Response:
        suffix = Path(name).suffix.lower()
        path = STATIC_DIR / name
        if not _STATIC_NAME.fullmatch(name) or suffix not in STATIC_TYPES or not path.is_file():
            return _json_response(404, {"error": f"no inbox file {name[:80]!r}"})
        return web.Response(
            body=path.read_bytes(),
            headers={
                "Content-Type": STATIC_TYPES[suffix],
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                "Referrer-Policy": "no-referrer",
            },
        )

    def _pushes(self, request: web.BaseRequest, query: dict[str, str], payload: Any) -> dict[str, Any]:
        since = _int_arg(query, "since", 0, 0)
        limit = _int_arg(query, "limit", None, 1, MAX_PAGE)
        with self.state.lock:
            return {"pushes": self.state.history.push_page(since or 0, query.get("device") or None, limit)}

    def _calls(self, request: web.BaseRequest, query: dict[str, str], payload: Any) -> dict[str, Any]:
        since = _int_arg(query, "since", 0, 0) or 0
        before = _int_arg(query, "before", None, 1)
        limit = _int_arg(query, "limit", 100, 1, MAX_PAGE) or 100
        status = query.get("status") or None
        if status is not None and status not in CALL_STATUSES:
            raise ControlError(f"status must be one of {', '.join(CALL_STATUSES)}, got {status[:40]!r}")
        match = call_filter(
            device=query.get("device") or None,
            alias=query.get("alias") or None,
            account=query.get("account") or None,
            tag=query.get("tag") or None,
            status=status,
            text=query.get("q") or None,
        )
        with self.state.lock:
            history = self.state.history
            calls = history.call_page(since=since, before=before, limit=limit, match=match)
            return {"calls": calls, "next": history.last_call_seq, "counts": dict(history.counts)}

    def _reset(self, request: web.BaseRequest, query: dict[str, str], payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise ControlError('send a JSON object: {"keep_devices": true|false}')
        operations.check_fields(payload, {"keep_devices": ((bool,), "true or false")}, "reset")
        keep = bool(payload.get("keep_devices", False))
        self.state.reset(keep_devices=keep)
        return {"reset": True, "kept_devices": keep}

    def _devices(self, request: web.BaseRequest, query: dict[str, str], payload: Any) -> dict[str, Any]:
        app_key = _int_arg(query, "app_key", None, 0)
        return {"devices": operations.list_devices(self.state, app_key)}

    def _register_devices(self, request: web.BaseRequest, query: dict[str, str], payload: Any) -> dict[str, Any]:
        if isinstance(payload, dict) and "devices" in payload and len(payload) > 1:
            # {"devices": [...], "app_key": 5}: the app_key (or aliases, account…) beside the list was dropped.
            others = sorted(name[:40] for name in payload if name != "devices")[:10]
            raise EmulatorError(f"fields {others} beside 'devices' apply to nothing; put them in each device")
        entries = payload.get("devices", [payload]) if isinstance(payload, dict) else payload
        if not isinstance(entries, list):
            raise EmulatorError("send one device object, a list of them, or {'devices': [...]}")
        return {"registered": operations.register_devices(self.state, entries)}

    def _faults_list(self, request: web.BaseRequest, query: dict[str, str], payload: Any) -> dict[str, Any]:
        with self.state.lock:
            return {"faults": self.state.faults.list()}

    def _add_fault(self, request: web.BaseRequest, query: dict[str, str], payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise EmulatorError(
                "send a JSON object: {kind, count?, rate?, latency_ms?, actions?, code?, retry_after_ms?}"
            )
        operations.check_fields(payload, operations.FAULT_FIELDS, "fault")
        return {"fault": operations.add_fault(self.state, **payload)}

    def _clear_faults(self, request: web.BaseRequest, query: dict[str, str], payload: Any) -> dict[str, Any]:
        with self.state.lock:
            self.state.faults.clear()
        return {"cleared": True}

    # --- the live feed (Server-Sent Events) ---------------------------------------------------

    def _publish(self, call: dict[str, Any]) -> None:
        """A history listener (called under the state lock): queue ``call`` for every live feed."""
        if not self._feeds:
            return
        event = _event(call)
        if threading.current_thread() is self._thread:
            self._fan_out(event)
        else:
            self._loop.call_soon_threadsafe(self._fan_out, event)

    def _fan_out(self, event: bytes) -> None:
        for feed in list(self._feeds):
            try:
                feed.put_nowait(event)
            except asyncio.QueueFull:
                self._end_feed(feed)  # too far behind: it reconnects with Last-Event-ID and catches up

    def _end_feed(self, feed: asyncio.Queue[bytes | None]) -> None:
        self._feeds.discard(feed)
        while True:
            try:
                feed.get_nowait()
            except asyncio.QueueEmpty:
                break
        feed.put_nowait(None)

    async def _events(self, request: web.BaseRequest, query: dict[str, str]) -> web.StreamResponse:
        """``event: call`` with the call as JSON (``id:`` its seq) for each new call; a comment every 15 s.

        ``Last-Event-ID`` (or ``?since=``) first replays the kept calls after that seq, oldest first.
        """
        last = request.headers.get("Last-Event-ID") or query.get("since") or ""
        since = _int_arg({"since": last}, "since", None, 0)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        )
        feed: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=FEED_BACKLOG)
        with self.state.lock:
            backlog = self.state.history.calls_after(since) if since is not None else []
            self._feeds.add(feed)
        try:
            await response.prepare(request)
            await response.write(b": pushfn emulator live feed\n\n")
            for start in range(0, len(backlog), 100):  # a bounded buffer, not one write of the whole backlog
                await response.write(b"".join(_event(c) for c in backlog[start : start + 100]))
            while True:
                try:
                    event = await asyncio.wait_for(feed.get(), HEARTBEAT_SECONDS)
                except asyncio.TimeoutError:
                    await response.write(b": heartbeat\n\n")
                    continue
                if event is None:
                    break
                await response.write(event)
        except (ConnectionError, RuntimeError):
            pass  # the reader went away
        finally:
            self._feeds.discard(feed)
        return response


def _event(call: dict[str, Any]) -> bytes:
    data = json.dumps(call, ensure_ascii=False)  # one line: json.dumps never writes a raw newline
    return f"id: {call['seq']}\nevent: call\ndata: {data}\n\n".encode()


def call_filter(
    *,
    device: str | None = None,
    alias: str | None = None,
    account: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    text: str | None = None,
) -> Callable[[dict[str, Any]], bool] | None:
    """A predicate over calls for ``GET /_emulator/calls``'s filters (all must hold); ``None`` when none is set.

    ``device``: a resolved device's id, or an id in a DEVICE ``TargetValue``; ``alias`` / ``account`` /
    ``tag``: a resolved device's, or the ``TargetValue`` of that target; ``status``: sent, refused or
    throttled; ``text``: case-insensitive, anywhere in the action, code, MessageId or parameters.
    """
    if not any((device, alias, account, tag, status, text)):
        return None
    needle = text.lower() if text else None

    def targets(call: dict[str, Any], target: str) -> list[str]:
        params = call["params"]
        if params.get("Target") != target:
            return []
        return [v.strip() for v in str(params.get("TargetValue") or "").split(",")]

    def match(call: dict[str, Any]) -> bool:
        devices = call["devices"]
        if status is not None and call["status"] != status:
            return False
        if device is not None and not (
            any(d["device_id"] == device for d in devices) or device in targets(call, "DEVICE")
        ):
            return False
        if alias is not None and not (any(alias in d["aliases"] for d in devices) or alias in targets(call, "ALIAS")):
            return False
        if account is not None and not (
            any(d["account"] == account for d in devices) or account in targets(call, "ACCOUNT")
        ):
            return False
        if tag is not None and not any(tag in d["tags"] for d in devices) and call["params"].get("TargetValue") != tag:
            return False
        if needle is not None:
            haystack = " ".join(
                [call["action"], call["code"] or "", call["message_id"] or "", *map(str, call["params"].values())]
            )
            if needle not in haystack.lower():
                return False
        return True

    return match
