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

Every event is bounded where it enters (:mod:`pushfn.json_input`: bytes and text through
``decode_json``, dicts through ``check_json_value``) and each field is read with its JSON type
checked; an event that fails either is a :class:`MalformedEventError`, which the handler answers with
a 400 ``malformed-event`` problem — never an exception or a 500.
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
from pushfn.json_input import JsonInputError, check_json_value, decode_json, describe_json_type
from pushfn.logs import get_logger
from pushfn.masking import scrub_cut

__all__ = [
    "APIGW_V1",
    "APIGW_V2",
    "FC2",
    "FC3",
    "FUNCTION_URL",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "MalformedEventError",
    "UnsupportedEventError",
    "http_handler",
    "parse_environ",
    "parse_event",
    "read_to_end",
    "to_platform_response",
]

logger = get_logger("pushfn.http")

FC2 = "fc2"
FC3 = "fc3"
APIGW_V1 = "apigw-v1"
APIGW_V2 = "apigw-v2"
FUNCTION_URL = "function-url"

#: FC 2.0 default-domain URLs carry ``/<api-version>/proxy/<service>/<function>`` before the route.
_FC2_PROXY_PREFIX = re.compile(r"^/\d{4}-\d{2}-\d{2}/proxy/[^/]+/[^/]+(?=/|$)")
#: A ``Content-Length`` of more digits stands for "too large" (a petabyte has 16).
_MAX_LENGTH_DIGITS = 18
_TOO_LARGE = 10**_MAX_LENGTH_DIGITS
#: An HTTP method is an RFC 9110 token; the longest registered one (``UPDATEREDIRECTREF``) has 17
#: characters, so 32 leaves room for extension methods while a 6 MB "method" cannot be echoed back.
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}")
#: Characters kept as-is when re-encoding a decoded path (everything else becomes ``%XX``).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class UnsupportedEventError(PushfnError):
    """The event is not an HTTP trigger shape this module knows (or its body is not decodable)."""


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued headers; ``headers["X"]`` joins repeated values with ``, ``
    (``; `` for ``cookie``, as RFC 6265 / RFC 9113 join cookies)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name.lower(), []).append(value)

    def __getitem__(self, name: str) -> str:
        key = name.lower()
        return ("; " if key == "cookie" else ", ").join(self._values[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), in arrival order; ``[]`` when absent."""
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
        """The first value of query parameter ``name`` (case-sensitive), or None when absent."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class HttpResponse:
    """One HTTP answer, whatever the platform: status code, headers, raw body bytes."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, data: Any, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """``data`` as compact UTF-8 JSON with ``Content-Type: application/json`` (``headers`` are added and
        may replace it). Lone surrogates are written as ``\\uXXXX`` escapes; raises :class:`TypeError` for
        a value JSON cannot hold."""
        try:
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate echoed from the request: escape it, stay valid JSON
            body = json.dumps(data, separators=(",", ":")).encode("ascii")
        return cls(status, {"Content-Type": "application/json", **(headers or {})}, body)


App = Callable[[HttpRequest], HttpResponse]


# --- event → request ---------------------------------------------------------------------------

#: Strings inside a platform event may be as long as the platform allows (the ``body`` carries the
#: whole request, base64 adds a third): the event's own size is bounded by the platform, the body's by
#: the app (413). Depth, numbers and text rules of :mod:`pushfn.json_input` apply unchanged.
EVENT_MAX_STRING_CHARS = 64 * 1024 * 1024


class MalformedEventError(UnsupportedEventError, ValueError):
    """An HTTP trigger event that cannot be read: not JSON, wrong JSON types, bad base64, bad text.

    ``field`` is the dotted path in the event (``headers``, ``requestContext.http.method``, ``body``);
    ``rule`` what is wrong with it (``type``, ``base64``, ``encoding``, ``text``, ``depth``…). The
    handler answers it with a 400 problem, never a 500: a platform hands over what a client sent.
    """

    def __init__(self, message: str, rule: str = "type", field: str = "event") -> None:
        super().__init__(message)
        self.rule = rule
        self.field = field
        self.detail = message


def _bounded_event(event: Any) -> Any:
    """The event as JSON values that passed :mod:`pushfn.json_input` (bytes and text are decoded)."""
    try:
        if isinstance(event, (bytes, bytearray, memoryview, str)):
            return decode_json(event, max_string_chars=EVENT_MAX_STRING_CHARS)
        if isinstance(event, Mapping):
            return check_json_value(dict(event), max_string_chars=EVENT_MAX_STRING_CHARS)
        # Anything else is no HTTP event either; a value of no JSON type (an object of the caller's
        # own) is named as such rather than described as some JSON type it is not.
        return check_json_value(event, max_string_chars=EVENT_MAX_STRING_CHARS)
    except JsonInputError as exc:
        raise MalformedEventError(
            f"the event is not usable JSON: {exc.detail}", exc.rule, exc.path or "event"
        ) from None


def _expect(value: Any, kind: type, field: str, default: Any = None) -> Any:
    """``value`` if it has the JSON type ``kind``; ``default`` for null/absent; else MalformedEventError."""
    if value is None:
        return default
    # A tuple is a JSON array to check_json_value (a test harness's event), so it is one here too.
    if not isinstance(value, (list, tuple) if kind is list else kind):
        wanted = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(kind, kind.__name__)
        raise MalformedEventError(f"{field} must be {wanted}, not {describe_json_type(value)}", "type", field)
    return value


def _text(obj: Mapping[str, Any], key: str, field: str, default: str | None = None) -> str | None:
    return _expect(obj.get(key), str, field, default)


def _text_pairs(obj: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    """``{"name": "value"}`` → pairs; null values are skipped, any other non-string is refused."""
    mapping = _expect(obj.get(key), dict, key, {})
    pairs = []
    for name, value in mapping.items():
        value = _expect(value, str, f"{key}.{name}")
        if value is not None:
            pairs.append((name, value))
    return pairs


def _multi_text_pairs(obj: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    """``{"name": ["v1", "v2"]}`` → pairs, in order."""
    mapping = _expect(obj.get(key), dict, key, {})
    pairs = []
    for name, values in mapping.items():
        for index, value in enumerate(_expect(values, list, f"{key}.{name}", [])):
            value = _expect(value, str, f"{key}.{name}.{index}")
            if value is not None:
                pairs.append((name, value))
    return pairs


def parse_event(event: Any, context: Any = None) -> HttpRequest:
    """Build the :class:`HttpRequest` of an FC 3.0, API Gateway v1/v2 or Function URL event.

    ``event`` is the event as bytes or text (decoded by :func:`pushfn.json_input.decode_json`) or
    already decoded (checked by :func:`~pushfn.json_input.check_json_value`). Raises
    :class:`MalformedEventError` for an event that breaks those rules or has a field of the wrong JSON
    type, and :class:`UnsupportedEventError` for a JSON object that is no HTTP trigger shape.
    """
    event = _bounded_event(event)
    if not isinstance(event, dict):
        raise MalformedEventError(
            f"an HTTP trigger event is a JSON object, not {describe_json_type(event)}", "type", "event"
        )
    ctx = _expect(event.get("requestContext"), dict, "requestContext", {})
    http = _expect(ctx.get("http"), dict, "requestContext.http", {})
    if "httpMethod" in event:
        return _from_apigw_v1(event, ctx, context)
    if event.get("version") == "2.0" and http:
        return _from_payload_v2(event, ctx, http, context)
    if http and ("queryParameters" in event or event.get("version") == "v1"):
        return _from_fc3(event, ctx, http, context)
    raise UnsupportedEventError("unrecognised event: not FC 3.0 HTTP, API Gateway v1/v2 or a Function URL")


def _method(obj: Mapping[str, Any], key: str, field: str) -> str:
    """The request method (absent: ``GET``), upper-cased; a value that is no RFC 9110 token of at most
    32 characters (empty, a space, a control character, megabytes long) is a :class:`MalformedEventError`
    naming ``field`` — it would be echoed in the 405 answer and the log line."""
    return _checked_method(_text(obj, key, field, "GET"), field)


def _checked_method(method: Any, field: str) -> str:
    if not (isinstance(method, str) and _METHOD.fullmatch(method)):
        raise MalformedEventError(f"{field} must be an HTTP method (1-32 token characters, RFC 9110)", "format", field)
    return method.upper()


def _request_id(ctx: Mapping[str, Any], context: Any, attribute: str) -> str | None:
    return _text(ctx, "requestId", "requestContext.requestId") or getattr(context, attribute, None)


def _from_fc3(event: dict, ctx: dict, http: dict, context: Any) -> HttpRequest:
    headers = Headers(_text_pairs(event, "headers"))
    # FC joins repeated query values with commas; a value may legitimately contain one, so keep it whole.
    query = {name: [value] for name, value in _text_pairs(event, "queryParameters")}
    raw_path = _text(event, "rawPath", "rawPath") or quote(
        _text(http, "path", "requestContext.http.path") or "/", safe=_PATH_SAFE
    )
    return HttpRequest(
        method=_method(http, "method", "requestContext.http.method"),
        path=raw_path,
        headers=headers,
        query=query,
        body=_body(event),
        source_ip=_text(http, "sourceIp", "requestContext.http.sourceIp"),
        platform=FC3,
        request_id=_request_id(ctx, context, "request_id"),
        context=context,
    )


def _from_apigw_v1(event: dict, ctx: dict, context: Any) -> HttpRequest:
    multi = _multi_text_pairs(event, "multiValueHeaders")
    headers = Headers(multi if multi else _text_pairs(event, "headers"))
    multi_query = _multi_text_pairs(event, "multiValueQueryStringParameters")
    query: dict[str, list[str]] = {}
    for name, value in multi_query if multi_query else _text_pairs(event, "queryStringParameters"):
        query.setdefault(name, []).append(value)
    identity = _expect(ctx.get("identity"), dict, "requestContext.identity", {})
    return HttpRequest(
        method=_method(event, "httpMethod", "httpMethod"),
        # v1 hands over the decoded path, without the stage (requestContext.path has it).
        path=quote(_text(event, "path", "path") or "/", safe=_PATH_SAFE),
        headers=headers,
        query=query,
        body=_body(event),
        source_ip=_text(identity, "sourceIp", "requestContext.identity.sourceIp"),
        platform=APIGW_V1,
        request_id=_request_id(ctx, context, "aws_request_id"),
        context=context,
    )


def _from_payload_v2(event: dict, ctx: dict, http: dict, context: Any) -> HttpRequest:
    cookies = [
        _expect(cookie, str, f"cookies.{index}", "")
        for index, cookie in enumerate(_expect(event.get("cookies"), list, "cookies", []))
    ]
    pairs = _with_cookies(_text_pairs(event, "headers"), cookies)
    raw_query = _text(event, "rawQueryString", "rawQueryString")
    if raw_query is not None:
        query = parse_qs(raw_query, keep_blank_values=True)
    else:
        query = {name: [value] for name, value in _text_pairs(event, "queryStringParameters")}
    domain = _text(ctx, "domainName", "requestContext.domainName") or ""
    platform = FUNCTION_URL if ".lambda-url." in domain else APIGW_V2
    path = _text(event, "rawPath", "rawPath") or quote(
        _text(http, "path", "requestContext.http.path") or "/", safe=_PATH_SAFE
    )
    if platform == APIGW_V2 and not _is_custom_domain(domain):
        path = _without_stage(path, _text(ctx, "stage", "requestContext.stage"))
    return HttpRequest(
        method=_method(http, "method", "requestContext.http.method"),
        path=path,
        headers=Headers(pairs),
        query=query,
        body=_body(event),
        source_ip=_text(http, "sourceIp", "requestContext.http.sourceIp"),
        platform=platform,
        request_id=_request_id(ctx, context, "aws_request_id"),
        context=context,
    )


def _without_stage(path: str, stage: str | None) -> str:
    """HTTP API puts a named stage in ``rawPath`` (``/dev/health`` for stage ``dev``); ``$default`` has none."""
    if not stage or stage == "$default":
        return path
    prefix = "/" + quote(stage, safe="")
    if path == prefix or path.startswith(prefix + "/"):
        return path[len(prefix) :] or "/"
    return path


def _is_custom_domain(domain: str) -> bool:
    """A request through a custom domain name: its API mapping picks the stage, so ``rawPath`` holds no
    stage segment (only the mapping's base path, :attr:`HttpSettings.base_path`); stripping one would cut
    a route whose first segment is named like the stage (stage ``tags``, ``GET /tags``). The API's own
    ``<api-id>.execute-api.<region>.amazonaws.com`` endpoint (and an event without a domain) has one."""
    return bool(domain) and ".execute-api." not in domain.lower()


def _with_cookies(pairs: list[tuple[str, str]], cookies: list[str]) -> list[tuple[str, str]]:
    """Payload 2.0 moves cookies out of the headers into ``cookies``: put them back as one ``cookie``
    header joined with ``; `` (RFC 6265), merged with a ``cookie`` header if one is still there, each
    cookie once."""
    if not cookies:
        return pairs
    crumbs: list[str] = []
    kept = []
    for name, value in pairs:
        if name.lower() == "cookie":
            crumbs.extend(value.split(";"))
        else:
            kept.append((name, value))
    for cookie in cookies:  # an element may itself hold several (a client's "a=1; b=2" kept whole)
        crumbs.extend(cookie.split(";"))
    unique = list(dict.fromkeys(crumb.strip() for crumb in crumbs if crumb.strip()))
    if unique:
        kept.append(("cookie", "; ".join(unique)))
    return kept


def _body(event: dict) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):  # a test harness handing over a parsed body: keep it as JSON
        body = json.dumps(body)
    if _expect(event.get("isBase64Encoded"), bool, "isBase64Encoded", False):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedEventError("isBase64Encoded is true but the body is not base64", "base64", "body") from None
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:  # unreachable after check_json_value; kept so no path can raise
        raise MalformedEventError("the body holds a lone surrogate, which is not text", "text", "body") from None


def parse_environ(environ: Mapping[str, Any], *, max_body_bytes: int | None = None) -> HttpRequest:
    """Build the :class:`HttpRequest` of an FC 2.0 (WSGI) call, reading at most ``max_body_bytes + 1``.

    A body sent with ``Transfer-Encoding: chunked`` (no ``Content-Length``) is read until the end of
    ``wsgi.input``, bounded the same way, so an oversized one is still detected (413) without being
    read whole. Raises :class:`MalformedEventError` when the body cannot be read.
    """
    pairs = [
        (key[5:].replace("_", "-"), _wire_text(value)) for key, value in environ.items() if key.startswith("HTTP_")
    ]
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            pairs.append((name, _wire_text(environ[key])))
    limit = None if max_body_bytes is None else max_body_bytes + 1
    stream = environ.get("wsgi.input")
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
    declared: int | None
    length = str(environ.get("CONTENT_LENGTH") or "").strip()
    if length and not (length.isascii() and length.isdigit()):
        # int() would take "1_0", "-5" or Arabic-Indic digits and cut or drop the body: refuse instead.
        raise MalformedEventError("Content-Length must be a whole number of bytes", "format", "content-length")
    try:
        if chunked or (not length and environ.get("wsgi.input_terminated")):
            # The length is unknown: the server de-chunks, and the stream ends where the body does.
            declared = None
            body = read_to_end(stream, limit) if stream is not None else b""
        else:
            # More digits than any body has (int() refuses past 4,300 of them): announced as too large,
            # a 413 naming the size, rather than a failure to read.
            declared = int(length) if 0 < len(length) <= _MAX_LENGTH_DIGITS else (_TOO_LARGE if length else 0)
            to_read = declared if limit is None else min(declared, limit)
            body = _read_bytes(stream, to_read) if to_read and stream is not None else b""
    except MalformedEventError:
        raise
    except Exception as exc:  # a client that disconnected, a server's stream that failed: no body to answer
        raise MalformedEventError(f"the body could not be read ({type(exc).__name__})", "read", "body") from None
    # PEP 3333: PATH_INFO is the decoded path as latin-1 text; re-encode it to the wire form.
    raw_path = str(environ.get("PATH_INFO") or "/").encode("latin-1", "replace")
    path = _FC2_PROXY_PREFIX.sub("", quote(raw_path, safe=_PATH_SAFE)) or "/"
    context = environ.get("fc.context")
    return HttpRequest(
        method=_checked_method(environ.get("REQUEST_METHOD") or "GET", "REQUEST_METHOD"),
        path=path,
        headers=Headers(pairs),
        query=parse_qs(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True),
        body=bytes(body),
        source_ip=environ.get("REMOTE_ADDR"),
        platform=FC2,
        request_id=getattr(context, "request_id", None) or environ.get("HTTP_X_FC_REQUEST_ID"),
        context=context,
        declared_length=declared,
    )


def _wire_text(value: Any) -> str:
    """A WSGI header value as the other platforms hand it over: PEP 3333 gives the wire bytes as
    latin-1 text, FC 3.0 and API Gateway give UTF-8 text. Valid UTF-8 is decoded as such, so a
    non-ASCII ``webhook-id`` signs, and an ``Idempotency-Key`` reads, the same behind every trigger;
    anything else stays as it came."""
    text = str(value)
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def read_to_end(stream: Any, limit: int | None) -> bytes:
    """Read ``stream`` until it ends or ``limit`` bytes have been read (``None``: no limit).

    Raises what ``stream.read`` raises, and :class:`MalformedEventError` when it gives no bytes."""
    chunks: list[bytes] = []
    total = 0
    while limit is None or total < limit:
        chunk = _read_bytes(stream, 65536 if limit is None else min(65536, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _read_bytes(stream: Any, size: int) -> bytes:
    """``stream.read(size)``, which PEP 3333 says gives bytes; anything else is a broken server."""
    chunk = stream.read(size)
    if not isinstance(chunk, (bytes, bytearray)):
        raise MalformedEventError(f"wsgi.input gave {type(chunk).__name__}, not bytes", "type", "body")
    return bytes(chunk)


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
    The handler never raises: an event that cannot be read is answered with a 400 ``malformed-event``
    problem (and logged as a malformed platform event), and anything ``app`` lets escape with a 500.
    """

    def handler(event: Any, context_or_start_response: Any) -> Any:
        if _is_wsgi(event, context_or_start_response):
            limit = max_body_bytes() if callable(max_body_bytes) else max_body_bytes
            response = _answer(app, lambda: parse_environ(event, max_body_bytes=limit), FC2)
            headers = [(str(k), str(v)) for k, v in response.headers.items()]
            headers.append(("Content-Length", str(len(response.body))))
            context_or_start_response(_status_line(response.status), headers)
            return [response.body]
        platform = APIGW_V1 if isinstance(event, Mapping) and "httpMethod" in event else "unknown"
        requests: list[HttpRequest] = []

        def parse() -> HttpRequest:
            requests.append(parse_event(event, context_or_start_response))
            return requests[0]

        response = _answer(app, parse, platform)
        return to_platform_response(response, requests[0].platform if requests else platform)

    return handler


def _answer(app: App, parse: Callable[[], HttpRequest], platform: str) -> HttpResponse:
    try:
        request = parse()
    except UnsupportedEventError as exc:
        return malformed_event_response(exc, platform)
    try:
        return app(request)
    except Exception as exc:  # the app translates its own errors; this is the last line of defence
        logger.error(
            "http app raised %s", type(exc).__name__, exc_info=True, extra={"fields": {"error": type(exc).__name__}}
        )
        return HttpResponse.json(
            500,
            {"type": "urn:pushfn:problem:internal-error", "title": "Internal error", "status": 500,
             "detail": "the error was logged"},
            {"Content-Type": "application/problem+json", "Cache-Control": "no-store"},
        )  # fmt: skip


def malformed_event_response(exc: UnsupportedEventError, platform: str = "unknown") -> HttpResponse:
    """The 400 ``malformed-event`` problem for an event that cannot be read; logged once per event."""
    field = getattr(exc, "field", "event")
    rule = getattr(exc, "rule", "shape")
    detail = getattr(exc, "detail", None) or str(exc)
    # Field paths may hold header names from the event: bounded, and lone surrogates made printable.
    # The log's copy is masked before it is cut (a cut device id is too short to be recognised).
    logged = scrub_cut(_printable(field, 264), 200)
    field, detail = _printable(field, 200), _printable(detail, 500)
    logger.warning(
        "malformed platform event: %s (%s)",
        logged,
        rule,
        extra={"fields": {"platform": platform, "field": logged, "rule": rule, "status": 400}},
    )
    problem = {
        "type": "urn:pushfn:problem:malformed-event",
        "title": "The platform event is malformed",
        "status": 400,
        "detail": detail,
        "errors": [{"field": field, "rule": rule, "message": detail}],
    }
    return HttpResponse.json(400, problem, {"Content-Type": "application/problem+json", "Cache-Control": "no-store"})


def _printable(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text``, lone surrogates written as ``\\udXXX`` escapes."""
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def _is_wsgi(event: Any, second: Any) -> bool:
    return isinstance(event, Mapping) and "REQUEST_METHOD" in event and "wsgi.input" in event and callable(second)
