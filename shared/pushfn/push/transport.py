"""The transport seam: the only place that touches the network.

``PushClient`` hands a signed :class:`PreparedRequest` to a transport and gets a
:class:`RawResponse` back. :class:`StdlibTransport` is the default: keep-alive connections of the
standard library's ``http.client`` (which does the HTTP parsing, but for the answer's header fields:
:mod:`pushfn.push.lean_response` reads those, for the reason and measurement given there), one TLS
context, ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` and a custom CA bundle honoured.
:class:`RequestsTransport` (one ``requests`` session) is there for those who want ``requests``;
``PUSH_TRANSPORT=requests`` selects it (:func:`transport_from_settings`). ``MockTransport(handler)``
turns a plain function into a fake server for unit tests, as in httpx.

Network errors are translated here into the two cases that matter for a push:
:class:`ConnectError` (certainly not sent) and :class:`AmbiguousResponseError` (sent, no answer).

When may a transport send a request again by itself? Only when the service cannot have received it
whole (RFC 9112 §9.3.1: a non-idempotent request is retried automatically only when it is known not
to have been applied). :class:`StdlibTransport` knows that in two cases, both on a *reused*
keep-alive connection:

- before writing, the idle connection is found readable (the server's FIN, a reset or stray bytes):
  it is dropped and a fresh one opened — nothing was written;
- writing the request fails (reset, broken pipe, timeout): a socket send that fails never queued
  the request's last byte, so the server holds at best a truncated request it cannot act on.

An error *after* the whole request was written — no answer, the connection closed or reset before
the first byte of the answer, even on a reused connection — is not resent: the server may have acted
on the request and then failed to answer. It is an :class:`AmbiguousResponseError`; the client
retries it only when that is safe (an ``IdempotentToken``, or a naturally idempotent action).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from pushfn.lazy_logger import LazyLogger
from pushfn.push._config import Timeout
from pushfn.push.errors import AmbiguousResponseError, ConfigurationError, ConnectError

# Type-only names stay off the import path (`typing` costs milliseconds); type checkers treat this
# constant like `typing.TYPE_CHECKING` and see a real Protocol.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from http.client import HTTPConnection
    from logging import LogRecord
    from typing import Protocol

    from pushfn.settings import Settings
else:
    Protocol = object

#: Idle keep-alive connections kept per origin (more concurrent requests open more; extras are closed).
DEFAULT_POOL_SIZE = 16
#: Largest answer read (bytes). CloudPush answers are a few KB; a bigger one is refused, not buffered.
MAX_ANSWER_BYTES = 16 * 1024 * 1024


class PreparedRequest:
    """A signed request, ready to send (``body`` is the exact bytes that were hashed/signed)."""

    __slots__ = ("action", "body", "headers", "method", "url")

    def __init__(self, method: str, url: str, headers: Mapping[str, str], body: bytes = b"", action: str = "") -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.action = action

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PreparedRequest):
            return NotImplemented
        return (self.method, self.url, dict(self.headers), self.body, self.action) == (
            other.method,
            other.url,
            dict(other.headers),
            other.body,
            other.action,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable headers: not hashable

    def __repr__(self) -> str:
        # The query carries targets and the STS token: never shown.
        return f"PreparedRequest({self.method} {self.url.split('?', 1)[0]}, action={self.action!r})"


class RawResponse:
    """What came back, undecoded: the HTTP status, the headers and the body bytes."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str] | None = None, body: bytes = b"") -> None:
        self.status = status
        self.headers = {} if headers is None else headers
        self.body = body

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawResponse):
            return NotImplemented
        return (self.status, dict(self.headers), self.body) == (other.status, dict(other.headers), other.body)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RawResponse(status={self.status}, {len(self.body)} bytes)"


class Transport(Protocol):
    """What :class:`~pushfn.push.client.PushClient` needs to reach the service (see the module docstring)."""

    def send(self, request: PreparedRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` as signed and return the answer, whatever its HTTP status.

        ``timeout`` is in seconds. Raises :class:`~pushfn.push.errors.ConnectError` when nothing was sent
        and :class:`~pushfn.push.errors.AmbiguousResponseError` when the request may have arrived but no
        answer did; never retries by itself (the client decides), except to resend a request the server
        certainly did not receive whole (see the module docstring).
        """
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...


def transport_from_settings(settings: Settings) -> Transport:
    """The transport ``settings`` ask for: ``PUSH_TRANSPORT`` (``stdlib``, the default, or ``requests``),
    with the CA bundle (``SSL_CERT_FILE``, else ``REQUESTS_CA_BUNDLE``) and the proxies (``HTTPS_PROXY``,
    ``HTTP_PROXY``, ``NO_PROXY``) they hold."""
    ca_file = settings.ssl_cert_file or settings.requests_ca_bundle
    proxies = Proxies(https=settings.https_proxy, http=settings.http_proxy, no_proxy=settings.no_proxy)
    if settings.push_transport == "requests":
        return RequestsTransport(ca_file=ca_file, proxies=proxies)
    return StdlibTransport(ca_file=ca_file, proxies=proxies)


class Proxies:
    """Which proxy, if any, carries a request to an origin: ``https`` for HTTPS endpoints (a CONNECT
    tunnel), ``http`` for plain-HTTP ones, none for hosts matched by ``no_proxy``.

    ``no_proxy`` is the usual comma-separated list: host names (a name also covers its subdomains,
    a leading dot is optional), ``host:port``, or ``*`` for every host; matched by the standard
    library's ``urllib.request.proxy_bypass_environment``. IP ranges (CIDR) are not understood.
    """

    __slots__ = ("http", "https", "no_proxy")

    def __init__(self, https: str | None = None, http: str | None = None, no_proxy: str | None = None) -> None:
        self.https = https or None
        self.http = http or None
        self.no_proxy = no_proxy or None

    def for_origin(self, scheme: str, netloc: str) -> str | None:
        """The proxy URL for ``scheme://netloc``, or ``None`` to connect directly."""
        proxy = self.https if scheme == "https" else self.http
        if proxy is None:
            return None
        if self.no_proxy:
            from urllib.request import proxy_bypass_environment  # only when a proxy is configured

            if proxy_bypass_environment(netloc, {"no": self.no_proxy}) or self._bypasses_ipv6(netloc):
                return None
        return proxy

    def _bypasses_ipv6(self, netloc: str) -> bool:
        # The standard library compares "::1" with "[::1]"; curl, Go and requests accept either form.
        if not netloc.startswith("["):
            return False
        host = netloc[1:].partition("]")[0].lower()
        entries = (entry.strip().lower().strip("[]") for entry in (self.no_proxy or "").split(","))
        return host in entries


def _proxy_parts(proxy: str) -> tuple[str, dict[str, str]]:
    """``host:port`` of an ``http://[user:password@]host[:port]`` proxy, and its ``Proxy-Authorization``."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    netloc = f"{host}:{parts.port or 80}"
    if parts.username is None:
        return netloc, {}
    import base64

    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return netloc, {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


class _Route:
    """How to reach one origin (``scheme://netloc``): directly, through a CONNECT tunnel or an HTTP proxy."""

    __slots__ = ("absolute", "connect_to", "proxy_headers", "scheme", "tunnel_to", "where")

    def __init__(self, scheme: str, netloc: str, proxy: str | None) -> None:
        self.scheme = scheme
        self.where = f"{scheme}://{netloc}"  # for messages and logs: never the query
        self.tunnel_to: str | None = None
        self.absolute = False  # plain HTTP through a proxy: the request line carries the whole URL
        self.proxy_headers: dict[str, str] = {}
        if proxy is None:
            self.connect_to = netloc
        else:
            self.connect_to, self.proxy_headers = _proxy_parts(proxy)
            if scheme == "https":
                self.tunnel_to = netloc
            else:
                self.absolute = True


class StdlibTransport:
    """Keep-alive HTTP(S) on the standard library's ``http.client``; safe to share between threads.

    Each request takes an idle connection to its origin from a small pool (or opens one) and puts it
    back once the answer is read, so concurrent threads each use their own connection. HTTPS uses one
    TLS context (``ssl.create_default_context``), built at the first HTTPS request: the system's CAs,
    or only those of ``ca_file`` when given. ``proxies`` routes requests through a proxy (a CONNECT
    tunnel for HTTPS). Timeouts: ``timeout.connect`` covers TCP connect, proxy CONNECT and the TLS
    handshake; ``timeout.read`` every wait afterwards. Redirects are not followed.
    """

    def __init__(
        self, *, ca_file: str | None = None, proxies: Proxies | None = None, pool_size: int = DEFAULT_POOL_SIZE
    ) -> None:
        self._ca_file = ca_file
        self._proxies = proxies or Proxies()
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self._idle: dict[str, list[HTTPConnection]] = {}
        self._routes: dict[str, _Route] = {}
        self._ssl_context: object = None
        self._closed = False
        #: Connections opened so far (for tests and diagnostics).
        self.connections_opened = 0

    # --- the public face ----------------------------------------------------------------------------

    def send(self, request: PreparedRequest, timeout: Timeout) -> RawResponse:
        """:meth:`Transport.send` over a pooled keep-alive connection (see the class and module docstrings)."""
        from http.client import HTTPException

        origin, target = _split_url(request.url)
        route = self._routes.get(origin) or self._route(origin)
        headers = {**request.headers, **route.proxy_headers} if route.proxy_headers else request.headers
        if route.absolute:
            target = origin + target
        conn = self._checkout(route)
        reused = conn is not None
        while True:
            if conn is None:
                conn = self._open(route, request.action, timeout)
            elif conn.sock.gettimeout() != timeout.read:  # type: ignore[union-attr]
                conn.sock.settimeout(timeout.read)  # type: ignore[union-attr]
            try:
                conn.request(request.method, target, request.body, headers)
            except (OSError, HTTPException) as exc:
                conn.close()
                if reused:
                    # The request did not reach the server whole (module docstring): resend it once, fresh.
                    _log_debug(
                        "keep-alive connection to %s failed before the request was written whole (%s); reopening",
                        route.where,
                        type(exc).__name__,
                    )
                    conn, reused = None, False
                    continue
                raise ConnectError(
                    f"{request.action}: connection lost while sending the request ({_reason(exc)}); "
                    "it did not arrive whole"
                ) from None
            break
        try:
            response = conn.getresponse()
            # Bounded: http.client would allocate a claimed Content-Length at once (MemoryError on 10**11).
            announced = response.length
            too_large = announced is not None and announced > MAX_ANSWER_BYTES
            body = b"" if too_large else response.read(MAX_ANSWER_BYTES + 1)
        except TimeoutError:
            conn.close()
            raise AmbiguousResponseError(
                f"{request.action}: no answer within {timeout.read:g} s after the request was sent"
            ) from None
        except (OSError, HTTPException) as exc:
            conn.close()
            raise AmbiguousResponseError(
                f"{request.action}: connection lost before the answer arrived ({_reason(exc)})"
            ) from None
        if too_large or len(body) > MAX_ANSWER_BYTES:
            conn.close()
            raise AmbiguousResponseError(
                f"{request.action}: the answer is larger than {MAX_ANSWER_BYTES} bytes (no CloudPush answer is); "
                "the request may have been acted on"
            )
        if response.length:
            # Bytes of the announced Content-Length never came: http.client's read(amt) returns what it
            # got when the connection ends early, where read() raised IncompleteRead (RFC 9112 §8).
            conn.close()
            raise AmbiguousResponseError(
                f"{request.action}: connection lost inside the answer ({len(body)} of {len(body) + response.length} "
                "bytes); the request may have been acted on"
            )
        if response.will_close or conn.sock is None:
            conn.close()
        else:
            self._checkin(route, conn)
        # The parsed header block as it is (case-insensitive get, items): each header is decoded only
        # if asked for, and the client asks only on a refusal (x-acs-retry-after).
        return RawResponse(response.status, response.msg, body)

    def close(self) -> None:
        """Close every idle connection; connections in use are closed when their request ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    # --- connections ----------------------------------------------------------------------------

    def _route(self, origin: str) -> _Route:
        scheme, _, netloc = origin.partition("://")
        if scheme not in ("http", "https"):
            raise ConfigurationError(f"unsupported URL scheme {scheme!r} (http or https)")
        route = _Route(scheme, netloc, self._proxies.for_origin(scheme, netloc))
        self._routes[origin] = route
        return route

    def _checkout(self, route: _Route) -> HTTPConnection | None:
        """An idle connection to ``route`` that is still open, or ``None``; dead ones are closed on the way."""
        while True:
            with self._lock:
                idle = self._idle.get(route.where)
                conn = idle.pop() if idle else None
            if conn is None or not _dropped(conn):
                return conn
            _log_debug("idle keep-alive connection to %s was closed by the server; dropped", route.where)
            conn.close()

    def _checkin(self, route: _Route, conn: HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(route.where, [])
            if not self._closed and len(idle) < self._pool_size:
                idle.append(conn)
                return
        conn.close()

    def _open(self, route: _Route, action: str, timeout: Timeout) -> HTTPConnection:
        """A new, connected connection (proxy tunnel and TLS handshake done); :class:`ConnectError` otherwise."""
        import http.client

        from pushfn.push.lean_response import LeanHTTPResponse

        if route.scheme == "https":
            conn: HTTPConnection = http.client.HTTPSConnection(
                route.connect_to,
                timeout=timeout.connect,
                context=self._context(),  # type: ignore[arg-type]
            )
        else:
            conn = http.client.HTTPConnection(route.connect_to, timeout=timeout.connect)
        conn.response_class = LeanHTTPResponse  # header fields without email.parser: see its module
        if route.tunnel_to is not None:
            conn.set_tunnel(route.tunnel_to, headers=route.proxy_headers)
        try:
            conn.connect()
        except TimeoutError:
            conn.close()
            raise ConnectError(f"{action}: connection to {route.where} timed out (nothing was sent)") from None
        except OSError as exc:
            conn.close()
            what = "TLS handshake failed" if _is_tls_error(exc) else "could not connect"
            raise ConnectError(f"{action}: {what} to {route.where}: {_reason(exc)} (nothing was sent)") from None
        conn.sock.settimeout(timeout.read)  # type: ignore[union-attr]
        with self._lock:
            self.connections_opened += 1
        return conn

    def _context(self) -> object:
        """The one TLS context, built on first use (loading CAs costs milliseconds: not for HTTP-only use)."""
        if self._ssl_context is None:
            with self._lock:
                if self._ssl_context is None:
                    import ssl

                    try:
                        self._ssl_context = ssl.create_default_context(cafile=self._ca_file)
                    except (OSError, ValueError) as exc:
                        raise ConfigurationError(
                            f"cannot load the CA bundle {self._ca_file!r} (SSL_CERT_FILE / REQUESTS_CA_BUNDLE): "
                            f"{_reason(exc)}"
                        ) from None
        return self._ssl_context


def _split_url(url: str) -> tuple[str, str]:
    """``("scheme://netloc", "/path?query")`` of an absolute URL, without parsing the (long) query."""
    scheme_end = url.find("://") + 3
    slash = url.find("/", scheme_end)
    if slash < 0:
        return url, "/"
    return url[:slash], url[slash:]


def _dropped(conn: HTTPConnection) -> bool:
    """Whether an idle keep-alive connection is unusable: closed, or readable (EOF, reset or stray bytes)."""
    import select

    sock = conn.sock
    if sock is None:
        return True
    pending = getattr(sock, "pending", None)  # TLS bytes already decrypted
    if pending is not None and pending():
        return True
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _is_tls_error(exc: BaseException) -> bool:
    import ssl

    return isinstance(exc, ssl.SSLError)


def _reason(exc: BaseException) -> str:
    """A short, safe description of a network error (these never carry the URL or its query)."""
    reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or getattr(exc, "strerror", None)
    text = str(reason) if reason else str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


logger = LazyLogger("pushfn.push.transport")


def _log_debug(message: str, *args: object) -> None:
    # Callers pass the origin (scheme://host:port) only: never the path or query.
    logger.debug(message, *args)


# --- requests -----------------------------------------------------------------------------------


class _QueryScrubber:
    """urllib3 logs every request line at DEBUG, query string included — and a V2 query carries the
    targets and the STS SecurityToken. Keep the line, drop the query. (A logging filter is any object
    with this ``filter`` method: no ``logging.Filter`` base, so this module does not import ``logging``.)"""

    def filter(self, record: LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                a.split("?", 1)[0] + "?…" if isinstance(a, str) and "?" in a else a for a in record.args
            )
        return True


def _scrub_urllib3_logs() -> None:
    import logging  # with requests only, which loads it anyway

    pool_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _QueryScrubber) for f in pool_logger.filters):
        pool_logger.addFilter(_QueryScrubber())


class RequestsTransport:
    """One ``requests.Session`` per transport: connections are reused across pushes.

    Selected by ``PUSH_TRANSPORT=requests``. ``ca_file`` replaces the CAs ``requests`` trusts; ``proxies``
    as for :class:`StdlibTransport`. The environment is never consulted by ``requests`` itself
    (``trust_env`` is off): proxies and CAs come from pushfn's settings only.
    """

    def __init__(
        self,
        session: object | None = None,
        *,
        pool_maxsize: int = DEFAULT_POOL_SIZE,
        ca_file: str | None = None,
        proxies: Proxies | None = None,
    ) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        _scrub_urllib3_logs()

        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # Proxies and CAs come from pushfn's settings, not from whatever requests finds in the environment.
            session.trust_env = False
            if ca_file:
                session.verify = ca_file
        self._session = session
        self._proxies = proxies or Proxies()
        self._ca_file = ca_file

    def send(self, request: PreparedRequest, timeout: Timeout) -> RawResponse:
        """:meth:`Transport.send` over the session, sending the signed bytes as they are; redirects are not followed."""
        import requests

        # The URL and body are already encoded exactly as they were signed. Building the
        # PreparedRequest by hand skips requests' re-parse of the (long) query string, which cost
        # about a third of a push's CPU, and guarantees nothing re-encodes the signed bytes.
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = request.url
        prepared.headers = requests.structures.CaseInsensitiveDict(request.headers)
        prepared.headers["Content-Length"] = str(len(request.body))
        prepared.body = request.body or None
        prepared.hooks = {"response": []}
        scheme, _, netloc = _split_url(request.url)[0].partition("://")
        if scheme == "https" and self._ca_file:
            import os

            if not os.path.isfile(self._ca_file):
                # requests would raise a bare OSError here; name the setting, as the stdlib transport does.
                raise ConfigurationError(
                    f"cannot load the CA bundle {self._ca_file!r} (SSL_CERT_FILE / REQUESTS_CA_BUNDLE): no such file"
                )
        proxy = self._proxies.for_origin(scheme, netloc)
        try:
            resp = self._session.send(  # type: ignore[attr-defined]
                prepared,
                timeout=timeout.as_tuple(),
                allow_redirects=False,
                proxies={scheme: proxy} if proxy else {},
            )
        except requests.exceptions.ConnectTimeout:
            raise ConnectError(f"{request.action}: connection timed out (nothing was sent)") from None
        except requests.exceptions.ReadTimeout:
            raise AmbiguousResponseError(
                f"{request.action}: no answer within {timeout.read:g} s after the request was sent"
            ) from None
        except requests.exceptions.SSLError:
            raise ConnectError(f"{request.action}: TLS handshake failed (nothing was sent)") from None
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise ConnectError(f"{request.action}: could not connect (nothing was sent)") from None
            raise AmbiguousResponseError(f"{request.action}: connection lost before the answer arrived") from None
        except requests.exceptions.RequestException as exc:
            raise AmbiguousResponseError(f"{request.action}: HTTP failure ({type(exc).__name__})") from None
        return RawResponse(resp.status_code, dict(resp.headers), resp.content)

    def close(self) -> None:
        """Close the session and its pooled connections."""
        self._session.close()  # type: ignore[attr-defined]


def _never_connected(exc: BaseException) -> bool:
    """True when urllib3 failed while opening the connection (refused, DNS, connect timeout)."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        # A ProxyError alone proves nothing: the proxy may have delivered the request and then hung up.
        # Only a failure to open a connection (to the proxy or the service) says nothing was sent.
        if isinstance(current, (NewConnectionError, ConnectTimeoutError, ConnectionRefusedError)):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException) and id(reason) not in seen:
            current = reason
            continue
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException) and id(arg) not in seen:
                current = arg
                break
        else:
            current = current.__cause__ or current.__context__
    return False


class MockTransport:
    """A fake server in one line: ``MockTransport(lambda req: RawResponse(200, body=b'{...}'))``."""

    def __init__(self, handler: Callable[[PreparedRequest], RawResponse]) -> None:
        self._handler = handler
        self.requests: list[PreparedRequest] = []

    def send(self, request: PreparedRequest, timeout: Timeout) -> RawResponse:
        """Record ``request`` in :attr:`requests` and return the handler's answer (``timeout`` is ignored)."""
        self.requests.append(request)
        return self._handler(request)

    def close(self) -> None:
        """Nothing to release."""
        return None
