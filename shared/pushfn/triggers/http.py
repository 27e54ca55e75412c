"""HTTP triggers of every platform, reduced to one :class:`HttpRequest` and back.

Five shapes reach an HTTP function and every platform difference is handled here, nowhere else:

==================  =====================================================  ==============================
platform            what arrives                                           what must go back
==================  =====================================================  ==============================
FC 2.0              WSGI ``handler(environ, start_response)``               ``start_response`` + bytes
FC 3.0              JSON event (bytes, str or dict), ``queryParameters``,   ``{statusCode, headers,
                    comma-joined multi-value headers                        isBase64Encoded, body}``
API Gateway REST    ``httpMethod``, ``multiValueHeaders``,                  same four keys
(v1)                ``multiValueQueryStringParameters``
API Gateway HTTP    ``version "2.0"``, ``requestContext.http.method``,      same four keys
(v2), Function URL  ``rawQueryString``, ``cookies``
==================  =====================================================  ==============================

:func:`http_handler` wraps an application (``HttpRequest -> HttpResponse``) into the one
``handler(event_or_environ, context_or_start_response)`` entry point that works behind all of them.
Header names are looked up case-insensitively: the samples do not agree on their case.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote

from pushfn.errors import PushfnError

__all__ = [
    "APIGW_V1",
    "APIGW_V2",
    "FC2",
    "FC3",
    "FUNCTION_URL",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "UnsupportedEventError",
    "http_handler",
    "parse_environ",
    "parse_event",
    "to_platform_response",
]

FC2 = "fc2"
FC3 = "fc3"
APIGW_V1 = "apigw-v1"
APIGW_V2 = "apigw-v2"
FUNCTION_URL = "function-url"

#: FC 2.0 default-domain URLs carry ``/<api-version>/proxy/<service>/<function>`` before the route.
_FC2_PROXY_PREFIX = re.compile(r"^/\d{4}-\d{2}-\d{2}/proxy/[^/]+/[^/]+(?=/|$)")
#: Characters kept as-is when re-encoding a decoded path (everything else becomes ``%XX``).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class UnsupportedEventError(PushfnError):
    """The event is not an HTTP trigger shape this module knows (or its body is not decodable)."""


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued headers; ``headers["X"]`` joins repeated values with ``, ``."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name.lower(), []).append(value)

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._values[name.lower()])

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def get_all(self, name: str) -> list[str]:
        return list(self._values.get(name.lower(), []))

    def __repr__(self) -> str:  # values may be secrets (Authorization): show names only
        return f"Headers({sorted(self._values)})"


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request, whatever the platform.

    ``path`` is percent-encoded (so a ``/`` inside a path segment survives); ``body`` is the raw
    bytes, already base64-decoded when the platform encoded it — what a webhook signature covers.
    """

    method: str
    path: str
    headers: Headers = field(default_factory=Headers)
    query: Mapping[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    source_ip: str | None = None
    platform: str = "test"
    request_id: str | None = None
    #: The platform's context object (FC context / Lambda context), for in-progress expiry.
    context: Any = None
    #: ``Content-Length`` announced by the client, when the body was not read whole (WSGI).
    declared_length: int | None = None

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, data: Any, headers: Mapping[str, str] | None = None) -> HttpResponse:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, {"Content-Type": "application/json", **(headers or {})}, body)


App = Callable[[HttpRequest], HttpResponse]


# --- event → request ---------------------------------------------------------------------------


def parse_event(event: Any, context: Any = None) -> HttpRequest:
    """Build the :class:`HttpRequest` of an FC 3.0, API Gateway v1/v2 or Function URL event."""
    if isinstance(event, (bytes, bytearray)):
        event = event.decode("utf-8")
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except ValueError:
            raise UnsupportedEventError("the event is not JSON, so not an HTTP trigger event") from None
    if not isinstance(event, dict):
        raise UnsupportedEventError(f"an HTTP trigger event is a JSON object, not {type(event).__name__}")
    ctx = event.get("requestContext") if isinstance(event.get("requestContext"), dict) else {}
    http = ctx.get("http") if isinstance(ctx.get("http"), dict) else {}
    if "httpMethod" in event:
        return _from_apigw_v1(event, ctx, context)
    if event.get("version") == "2.0" and http:
        return _from_payload_v2(event, ctx, http, context)
    if http and ("queryParameters" in event or event.get("version") == "v1"):
        return _from_fc3(event, ctx, http, context)
    raise UnsupportedEventError("unrecognised event: not FC 3.0 HTTP, API Gateway v1/v2 or a Function URL")


def _from_fc3(event: dict, ctx: dict, http: dict, context: Any) -> HttpRequest:
    headers = Headers((str(k), str(v)) for k, v in (event.get("headers") or {}).items())
    # FC joins repeated query values with commas; a value may legitimately contain one, so keep it whole.
    query = {str(k): [str(v)] for k, v in (event.get("queryParameters") or {}).items()}
    raw_path = event.get("rawPath") or quote(http.get("path") or "/", safe=_PATH_SAFE)
    return HttpRequest(
        method=str(http.get("method") or "GET").upper(),
        path=raw_path,
        headers=headers,
        query=query,
        body=_body(event),
        source_ip=http.get("sourceIp"),
        platform=FC3,
        request_id=ctx.get("requestId") or getattr(context, "request_id", None),
        context=context,
    )


def _from_apigw_v1(event: dict, ctx: dict, context: Any) -> HttpRequest:
    multi = event.get("multiValueHeaders")
    if isinstance(multi, dict) and multi:
        headers = Headers((str(k), str(v)) for k, vs in multi.items() for v in (vs or []))
    else:
        headers = Headers((str(k), str(v)) for k, v in (event.get("headers") or {}).items())
    multi_query = event.get("multiValueQueryStringParameters")
    if isinstance(multi_query, dict) and multi_query:
        query = {str(k): [str(v) for v in (vs or [])] for k, vs in multi_query.items()}
    else:
        query = {str(k): [str(v)] for k, v in (event.get("queryStringParameters") or {}).items()}
    identity = ctx.get("identity") if isinstance(ctx.get("identity"), dict) else {}
    return HttpRequest(
        method=str(event.get("httpMethod") or "GET").upper(),
        path=quote(event.get("path") or "/", safe=_PATH_SAFE),  # v1 hands over the decoded path
        headers=headers,
        query=query,
        body=_body(event),
        source_ip=identity.get("sourceIp"),
        platform=APIGW_V1,
        request_id=ctx.get("requestId") or getattr(context, "aws_request_id", None),
        context=context,
    )


def _from_payload_v2(event: dict, ctx: dict, http: dict, context: Any) -> HttpRequest:
    pairs = [(str(k), str(v)) for k, v in (event.get("headers") or {}).items()]
    cookies = event.get("cookies") or []
    if cookies:  # payload 2.0 moves cookies out of the headers; put them back where HTTP has them
        pairs.append(("cookie", "; ".join(str(c) for c in cookies)))
    raw_query = event.get("rawQueryString")
    if raw_query is not None:
        query = parse_qs(raw_query, keep_blank_values=True)
    else:
        query = {str(k): [str(v)] for k, v in (event.get("queryStringParameters") or {}).items()}
    domain = str(ctx.get("domainName") or "")
    return HttpRequest(
        method=str(http.get("method") or "GET").upper(),
        path=event.get("rawPath") or quote(http.get("path") or "/", safe=_PATH_SAFE),
        headers=Headers(pairs),
        query=query,
        body=_body(event),
        source_ip=http.get("sourceIp"),
        platform=FUNCTION_URL if ".lambda-url." in domain else APIGW_V2,
        request_id=ctx.get("requestId") or getattr(context, "aws_request_id", None),
        context=context,
    )


def _body(event: dict) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):  # a test harness handing over a parsed body: keep it as JSON
        body = json.dumps(body)
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise UnsupportedEventError("isBase64Encoded is true but the body is not base64") from None
    return body.encode("utf-8")


def parse_environ(environ: Mapping[str, Any], *, max_body_bytes: int | None = None) -> HttpRequest:
    """Build the :class:`HttpRequest` of an FC 2.0 (WSGI) call, reading at most ``max_body_bytes + 1``."""
    pairs = [(key[5:].replace("_", "-"), str(value)) for key, value in environ.items() if key.startswith("HTTP_")]
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            pairs.append((name, str(environ[key])))
    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    declared = max(declared, 0)
    to_read = declared if max_body_bytes is None else min(declared, max_body_bytes + 1)
    body = environ["wsgi.input"].read(to_read) if to_read and environ.get("wsgi.input") else b""
    # PEP 3333: PATH_INFO is the decoded path as latin-1 text; re-encode it to the wire form.
    raw_path = str(environ.get("PATH_INFO") or "/").encode("latin-1", "replace")
    path = _FC2_PROXY_PREFIX.sub("", quote(raw_path, safe=_PATH_SAFE)) or "/"
    context = environ.get("fc.context")
    return HttpRequest(
        method=str(environ.get("REQUEST_METHOD") or "GET").upper(),
        path=path,
        headers=Headers(pairs),
        query=parse_qs(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True),
        body=body,
        source_ip=environ.get("REMOTE_ADDR"),
        platform=FC2,
        request_id=getattr(context, "request_id", None) or environ.get("HTTP_X_FC_REQUEST_ID"),
        context=context,
        declared_length=declared,
    )


# --- response → platform -----------------------------------------------------------------------


def to_platform_response(response: HttpResponse, platform: str) -> dict[str, Any]:
    """The dict FC 3.0, API Gateway (v1, v2) and Function URLs expect back from the handler."""
    headers = {str(k): str(v) for k, v in response.headers.items()}
    try:
        body, encoded = response.body.decode("utf-8"), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(response.body).decode("ascii"), True
    result: dict[str, Any] = {
        "statusCode": response.status,
        "headers": headers,
        "isBase64Encoded": encoded,
        "body": body,
    }
    if platform == APIGW_V1:
        result["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    return result


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


# --- the one entry point -----------------------------------------------------------------------


def http_handler(app: App, *, max_body_bytes: int | Callable[[], int] | None = None) -> Callable[[Any, Any], Any]:
    """Wrap ``app`` into ``handler(event_or_environ, context_or_start_response)`` for every platform.

    ``max_body_bytes`` only bounds how much of a WSGI body is read; the app enforces the limit itself.
    """

    def handler(event: Any, context_or_start_response: Any) -> Any:
        if _is_wsgi(event, context_or_start_response):
            limit = max_body_bytes() if callable(max_body_bytes) else max_body_bytes
            response = app(parse_environ(event, max_body_bytes=limit))
            headers = [(str(k), str(v)) for k, v in response.headers.items()]
            headers.append(("Content-Length", str(len(response.body))))
            context_or_start_response(_status_line(response.status), headers)
            return [response.body]
        request = parse_event(event, context_or_start_response)
        return to_platform_response(app(request), request.platform)

    return handler


def _is_wsgi(event: Any, second: Any) -> bool:
    return isinstance(event, Mapping) and "REQUEST_METHOD" in event and "wsgi.input" in event and callable(second)
