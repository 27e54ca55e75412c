"""Issue 13, third attack on the HTTP side: more inputs of the kinds the issue names.

- a platform field echoed unbounded (item 8, the kind of 737e382's capped answers): the request method
  was taken as any string, upper-cased and echoed in the 405 answer and the log line — a 7 MB
  ``httpMethod`` made a 7 MB answer, past Lambda's 6 MB limit (a platform error, not a 400); an empty
  one was served as ``GET``. A method is an RFC 9110 token of at most 32 characters, on every shape.
"""

from __future__ import annotations

from typing import Any

import pytest
from http_support import (
    HttpEnv,
    bearer,
    call_handler,
    encode,
    platform_event,
    push_body,
)

from pushfn.triggers.events.http import fc2_environ

_METHOD_FIELD = {
    "fc3-bytes": "requestContext.http.method",
    "fc3-dict": "requestContext.http.method",
    "apigw-v1": "httpMethod",
    "apigw-v2": "requestContext.http.method",
    "function-url": "requestContext.http.method",
}


def _with_method(platform: str, method: str) -> Any:
    event = platform_event("fc3-dict" if platform == "fc3-bytes" else platform, "POST", "/push", bearer(), b"{}")
    if platform == "apigw-v1":
        event["httpMethod"] = method
    else:
        event["requestContext"]["http"]["method"] = method
    if platform == "fc3-bytes":
        import json

        return json.dumps(event).encode("utf-8")
    return event


@pytest.mark.parametrize("platform", list(_METHOD_FIELD))
@pytest.mark.parametrize(
    "method",
    ["P" * 7_000_000, "", "POST /push", "PO\x00ST", "GET\r\nX-Injected: 1", "PÖST", "P" * 33],
    ids=["7-MB", "empty", "space", "nul", "crlf", "non-ascii", "33-chars"],
)
def test_a_method_that_is_no_http_token_is_a_malformed_event(http_env: HttpEnv, platform: str, method: str) -> None:
    """Before: 405 echoing the method whole (7 MB of answer) or, when empty, the request served as GET."""
    answer = call_handler(_with_method(platform, method), platform)
    assert answer.status == 400, answer.body[:300]
    assert len(answer.body) < 2000
    problem = answer.json()
    assert problem["type"] == "urn:pushfn:problem:malformed-event"
    assert problem["errors"][0]["field"] == _METHOD_FIELD[platform]
    assert problem["errors"][0]["rule"] == "format"
    assert http_env.pushes() == []


def test_fc2_request_method_is_checked_the_same_way(http_env: HttpEnv) -> None:
    environ = fc2_environ("POST", "/push", encode(push_body()), bearer())
    environ["REQUEST_METHOD"] = "P" * 100
    answer = call_handler(environ, "fc2")
    assert answer.status == 400
    assert answer.json()["errors"][0]["field"] == "REQUEST_METHOD"
    assert http_env.pushes() == []


@pytest.mark.parametrize("method", ["post", "PATCH", "M-SEARCH", "X" * 32])
def test_token_methods_are_still_routed(http_env: HttpEnv, method: str) -> None:
    """A token method reaches the router: POST in any case pushes; others are 405 naming the method."""
    answer = call_handler(_with_method("apigw-v2", method), "apigw-v2")
    if method == "post":
        assert answer.status == 400 and answer.json()["type"] != "urn:pushfn:problem:malformed-event"
    else:
        assert answer.status == 405 and method.upper() in answer.json()["detail"]
