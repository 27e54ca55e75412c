"""The transport seam: the only place that touches the network.

``PushClient`` hands a signed :class:`PreparedRequest` to a transport and gets a
:class:`RawResponse` back. ``RequestsTransport`` is the real one (one keep-alive session);
``MockTransport(handler)`` turns a plain function into a fake server for unit tests, as in httpx.

Network errors are translated here into the two cases that matter for a push:
:class:`ConnectError` (never sent) and :class:`AmbiguousResponseError` (sent, no answer).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pushfn.push._config import Timeout
from pushfn.push.errors import AmbiguousResponseError, ConnectError


@dataclass(frozen=True)
class PreparedRequest:
    """A signed request, ready to send (``body`` is the exact bytes that were hashed/signed)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""
    action: str = ""


@dataclass(frozen=True)
class RawResponse:
    """What came back, undecoded: the HTTP status, the headers and the body bytes."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class Transport(Protocol):
    """What :class:`~pushfn.push.client.PushClient` needs to reach the service (see the module docstring)."""

    def send(self, request: PreparedRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` as signed and return the answer, whatever its HTTP status.

        ``timeout`` is in seconds. Raises :class:`~pushfn.push.errors.ConnectError` when nothing was sent
        and :class:`~pushfn.push.errors.AmbiguousResponseError` when the request may have arrived but no
        answer did; never retries by itself (the client decides).
        """
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...


class _QueryScrubber(logging.Filter):
    """urllib3 logs every request line at DEBUG, query string included — and a V2 query carries the
    targets and the STS SecurityToken. Keep the line, drop the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                a.split("?", 1)[0] + "?…" if isinstance(a, str) and "?" in a else a for a in record.args
            )
        return True


def _scrub_urllib3_logs() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _QueryScrubber) for f in logger.filters):
        logger.addFilter(_QueryScrubber())


class RequestsTransport:
    """One ``requests.Session`` per transport: connections are reused across pushes."""

    def __init__(self, session: object | None = None, *, pool_maxsize: int = 16) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        _scrub_urllib3_logs()

        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # Proxies from the environment would route signed requests through unknown hosts.
            session.trust_env = False
        self._session = session

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
        try:
            resp = self._session.send(  # type: ignore[attr-defined]
                prepared, timeout=timeout.as_tuple(), allow_redirects=False
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
