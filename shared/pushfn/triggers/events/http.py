"""HTTP trigger events of every platform, built from a few arguments.

Each factory returns what the platform hands the handler for one request: an FC 2.0 WSGI ``environ``,
an FC 3.0 JSON event (as ``bytes``, like the runtime passes it, or a dict), an API Gateway REST (v1) or
HTTP API (v2) proxy event, or a Lambda Function URL event. The fixed parts (request context, ids,
domain names) mirror the reference samples; :func:`call_wsgi` runs a WSGI handler and collects its answer.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

Body = bytes | str | Mapping[str, Any] | list[Any] | None
Query = Mapping[str, str | list[str]] | None

# Fixed parts, trimmed from the reference samples (fc_http_v3.json, aws_apigw_rest_v1.json,
# aws_apigw_http_v2.json, aws_lambda_function_url.json).
_FC3_CONTEXT = {
    "accountId": "123456*********",
    "domainName": "<http-trigger-id>.<region-id>.fcapp.run",
    "domainPrefix": "<http-trigger-id>",
    "http": {
        "method": "GET",
        "path": "/",
        "protocol": "HTTP/1.1",
        "sourceIp": "11.11.11.11",
        "userAgent": "pushfn-test",
    },
    "requestId": "1-64f6cd87-0123456789abcdef",
    "time": "2023-09-05T06:41:11Z",
    "timeEpoch": "1693896071895",
}
_V1_CONTEXT = {
    "accountId": "123456789012",
    "apiId": "id",
    "domainName": "id.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "id",
    "extendedRequestId": "request-id",
    "httpMethod": "GET",
    "identity": {"sourceIp": "192.168.0.1", "userAgent": "pushfn-test", "accessKey": None, "user": None},
    "path": "/",
    "protocol": "HTTP/1.1",
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "requestTime": "04/Mar/2020:19:15:17 +0000",
    "requestTimeEpoch": 1583349317135,
    "resourcePath": "/{proxy+}",
    "stage": "$default",
}
_V2_CONTEXT = {
    "accountId": "123456789012",
    "apiId": "api-id",
    "domainName": "id.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "id",
    "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "192.168.0.1", "userAgent": "agent"},
    "requestId": "id",
    "routeKey": "$default",
    "stage": "$default",
    "time": "12/Mar/2020:19:03:58 +0000",
    "timeEpoch": 1583348638390,
}
_URL_CONTEXT = {
    **_V2_CONTEXT,
    "accountId": "anonymous",
    "apiId": "<url-id>",
    "domainName": "<url-id>.lambda-url.us-east-1.on.aws",
    "domainPrefix": "<url-id>",
}


def _body_bytes(body: Body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def _with_json_type(headers: Mapping[str, str] | None, body: Body) -> dict[str, str]:
    result = dict(headers or {})
    if isinstance(body, (Mapping, list)) and not any(k.lower() == "content-type" for k in result):
        result["content-type"] = "application/json"
    return result


def _query_pairs(query: Query) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in (query or {}).items():
        for item in [value] if isinstance(value, str) else value:
            pairs.append((name, item))
    return pairs


def _encoded_body(raw: bytes, base64_body: bool) -> tuple[str, bool]:
    if base64_body:
        return base64.b64encode(raw).decode("ascii"), True
    return raw.decode("utf-8"), False


def fc3_event(
    method: str = "POST",
    path: str = "/push",
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    query: Query = None,
    *,
    base64_body: bool = False,
    as_bytes: bool = True,
) -> bytes | dict[str, Any]:
    """An FC 3.0 HTTP trigger event; ``bytes`` by default, as the Python runtime passes it."""
    raw = _body_bytes(body)
    text, encoded = _encoded_body(raw, base64_body)
    queries: dict[str, list[str]] = {}
    for name, value in _query_pairs(query):
        queries.setdefault(name, []).append(value)
    merged: dict[str, list[str]] = {}
    for name, value in _with_json_type(headers, body).items():
        merged.setdefault(name, []).append(value)
    context = copy.deepcopy(_FC3_CONTEXT)
    context["http"].update(method=method.upper(), path=path)
    event = {
        "version": "v1",
        "rawPath": quote(path, safe="/%"),
        "body": text,
        "isBase64Encoded": encoded,
        "headers": {name: ",".join(values) for name, values in merged.items()},
        "queryParameters": {name: ",".join(values) for name, values in queries.items()},
        "requestContext": context,
    }
    return json.dumps(event).encode("utf-8") if as_bytes else event


def apigw_v1_event(
    method: str = "POST",
    path: str = "/push",
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    query: Query = None,
    *,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST API (v1) proxy event."""
    raw = _body_bytes(body)
    text, encoded = _encoded_body(raw, base64_body)
    hdrs = _with_json_type(headers, body)
    multi_query: dict[str, list[str]] = {}
    for name, value in _query_pairs(query):
        multi_query.setdefault(name, []).append(value)
    context = copy.deepcopy(_V1_CONTEXT)
    context.update(httpMethod=method.upper(), path=path)
    return {
        "version": "1.0",
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method.upper(),
        "headers": dict(hdrs),
        "multiValueHeaders": {name: [value] for name, value in hdrs.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": context,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "body": text if raw or encoded else None,
        "isBase64Encoded": encoded,
    }


def _payload_v2(
    context_base: dict[str, Any],
    method: str,
    path: str,
    body: Body,
    headers: Mapping[str, str] | None,
    query: Query,
    base64_body: bool,
    cookies: list[str] | None,
    stage: str = "$default",
) -> dict[str, Any]:
    raw = _body_bytes(body)
    text, encoded = _encoded_body(raw, base64_body)
    pairs = _query_pairs(query)
    joined: dict[str, list[str]] = {}
    for name, value in pairs:
        joined.setdefault(name, []).append(value)
    if stage != "$default":  # a named stage is part of the URL, so of rawPath and http.path
        path = f"/{stage}{path}"
    context = copy.deepcopy(context_base)
    context["http"].update(method=method.upper(), path=path)
    context["stage"] = stage
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": quote(path, safe="/%"),
        "rawQueryString": urlencode(pairs),
        "headers": {k.lower(): v for k, v in _with_json_type(headers, body).items()},
        "requestContext": context,
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = list(cookies)
    if joined:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in joined.items()}
    if raw or encoded:
        event["body"] = text
    return event


def apigw_v2_event(
    method: str = "POST",
    path: str = "/push",
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    query: Query = None,
    *,
    base64_body: bool = False,
    cookies: list[str] | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """An API Gateway HTTP API event, payload format 2.0; a named ``stage`` prefixes ``rawPath``."""
    return _payload_v2(_V2_CONTEXT, method, path, body, headers, query, base64_body, cookies, stage)


def function_url_event(
    method: str = "POST",
    path: str = "/push",
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    query: Query = None,
    *,
    base64_body: bool = False,
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    """A Lambda Function URL event (payload 2.0, ``accountId: "anonymous"`` as for AuthType NONE)."""
    return _payload_v2(_URL_CONTEXT, method, path, body, headers, query, base64_body, cookies)


def fc2_environ(
    method: str = "POST",
    path: str = "/push",
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    query: Query = None,
    *,
    context: Any = None,
    chunked: bool = False,
) -> dict[str, Any]:
    """An FC 2.0 HTTP trigger WSGI ``environ`` (PEP 3333 plus FC's ``fc.context`` / ``fc.request_uri``).

    ``chunked``: sent with ``Transfer-Encoding: chunked``, so no ``CONTENT_LENGTH``; ``wsgi.input``
    holds the de-chunked body and ends where it does.
    """
    raw = _body_bytes(body)
    query_string = urlencode(_query_pairs(query))
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": query_string,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "fc.context": context,
        "fc.request_uri": path + (f"?{query_string}" if query_string else ""),
    }
    if chunked:
        del environ["CONTENT_LENGTH"]
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    for name, value in _with_json_type(headers, body).items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ[f"HTTP_{key}"] = value
    return environ


@dataclass
class WsgiAnswer:
    """What a WSGI handler sent back through ``start_response`` and its iterable."""

    status: int = 0
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body decoded as JSON; raises :class:`json.JSONDecodeError` when it is not."""
        return json.loads(self.body)


def call_wsgi(handler: Callable[..., Any], environ: dict[str, Any]) -> WsgiAnswer:
    """Call ``handler(environ, start_response)`` and collect the status line, headers and body."""
    answer = WsgiAnswer()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        code, _, reason = status.partition(" ")
        answer.status, answer.reason = int(code), reason
        answer.headers = {name.lower(): value for name, value in headers}

    chunks = handler(environ, start_response)
    answer.body = b"".join(chunks)
    return answer
