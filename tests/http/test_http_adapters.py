"""The HTTP trigger adapters on the published sample events: each becomes the same HttpRequest shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from http_support import load_sample

from pushfn.http.openapi import build_openapi
from pushfn.http.routes import ROUTES
from pushfn.triggers.events.http import call_wsgi, fc2_environ, fc3_event
from pushfn.triggers.http import (
    APIGW_V1,
    APIGW_V2,
    FC3,
    FUNCTION_URL,
    Headers,
    HttpResponse,
    UnsupportedEventError,
    http_handler,
    parse_event,
    to_platform_response,
)


def test_fc3_sample_bytes_and_dict() -> None:
    sample = load_sample("fc_http_v3.json")
    for event in (sample, json.dumps(sample).encode(), json.dumps(sample)):
        request = parse_event(event)
        assert (request.platform, request.method, request.path) == (FC3, "GET", "/example")
        assert request.headers["HEADER2"] == "value1,value2"  # FC joins repeated values with a comma
        assert request.query_value("parameter1") == "value1"
        assert request.body == b"Hello FC!"
        assert request.request_id == sample["requestContext"]["requestId"]


def test_fc3_answer_has_the_documented_response_shape() -> None:
    # The FC 3.0 HTTP trigger reads {statusCode, headers, isBase64Encoded, body} back (sample fixture).
    sample = load_sample("fc_http_v3_response.json")
    body = sample["body"].encode()
    answer = to_platform_response(HttpResponse(200, {"Content-Type": "application/json"}, body), FC3)
    assert answer == sample
    assert {k: type(v) for k, v in answer.items()} == {k: type(v) for k, v in sample.items()}


def test_fc3_devs_template_has_canonical_case_headers() -> None:
    request = parse_event(load_sample("fc_http_v3_devs_template.json"))
    assert request.method == "POST" and request.body == b"haha"
    assert request.headers["content-type"] == request.headers["Content-Type"] == "application/octet-stream"
    assert request.source_ip == "112.10.236.5"


def test_apigw_v1_sample_uses_multi_value_fields() -> None:
    request = parse_event(load_sample("aws_apigw_rest_v1.json"))
    assert (request.platform, request.method, request.path) == (APIGW_V1, "GET", "/my/path")
    assert request.headers.get_all("header2") == ["value1", "value2"]
    assert request.query["parameter1"] == ["value1", "value2"]
    assert request.source_ip == "192.168.0.1/32"


def test_apigw_v1_samcli_base64_body_is_decoded() -> None:
    request = parse_event(load_sample("aws_apigw_rest_v1_samcli.json"))
    assert (request.method, request.path, request.body) == ("POST", "/jobs/submit", b'{"chunk":1}')


def test_apigw_v2_sample_query_and_cookies() -> None:
    request = parse_event(load_sample("aws_apigw_http_v2.json"))
    assert (request.platform, request.method, request.path) == (APIGW_V2, "POST", "/my/path")
    assert request.query["parameter1"] == ["value1", "value2"]  # from rawQueryString, not the joined map
    assert request.headers["cookie"] == "cookie1; cookie2"
    assert json.loads(request.body) == {"message": "hello world", "username": "tom"}


def test_function_url_sample() -> None:
    request = parse_event(load_sample("aws_lambda_function_url.json"))
    assert (request.platform, request.method, request.path, request.body) == (FUNCTION_URL, "GET", "/", b"")
    assert request.source_ip == "123.123.123.123"


@pytest.mark.parametrize(
    "event",
    [b"not json", "[]", 42, {"foo": "bar"}, {"version": "2.0"}],
)
def test_unknown_events_are_refused(event: object) -> None:
    with pytest.raises(UnsupportedEventError):
        parse_event(event)


def test_bad_base64_body_is_refused() -> None:
    event = fc3_event("POST", "/push", b"x", as_bytes=False)
    event.update(body="***", isBase64Encoded=True)
    with pytest.raises(UnsupportedEventError, match="base64"):
        parse_event(event)


def test_encoded_path_segments_survive() -> None:
    """A tag named "a/b" stays one segment: paths stay percent-encoded until the route splits them."""
    assert parse_event(fc3_event("DELETE", "/tags/a%2Fb", as_bytes=False)).path == "/tags/a%2Fb"
    environ = fc2_environ("DELETE", "/tags/é x")
    seen = []
    call_wsgi(http_handler(lambda r: seen.append(r) or HttpResponse(204)), environ)
    assert seen[0].path == "/tags/%C3%A9%20x"


def test_headers_are_case_insensitive_and_hide_values_in_repr() -> None:
    headers = Headers([("Authorization", "Bearer secret"), ("X-A", "1"), ("x-a", "2")])
    assert headers["AUTHORIZATION"] == "Bearer secret" and headers["x-a"] == "1, 2"
    assert "secret" not in repr(headers)


def test_binary_response_is_base64_for_event_platforms() -> None:
    answer = to_platform_response(HttpResponse(200, {"Content-Type": "image/png"}, b"\x89PNG\xff"), APIGW_V2)
    assert answer["isBase64Encoded"] is True and answer["body"] == "iVBOR/8="


def test_openapi_document_is_generated_from_the_models() -> None:
    document = build_openapi(ROUTES)
    assert document["openapi"] == "3.1.0"
    schemas = document["components"]["schemas"]
    assert "iOSBadge" in schemas["Push"]["properties"] and "AppKey" not in schemas["Push"]["properties"]
    assert document["paths"]["/push"]["post"]["responses"]["202"]
    assert document["paths"]["/health"]["get"]["security"] == []
    assert {"/push", "/mass-push", "/tags", "/tags/{tagName}", "/devices/{deviceId}/aliases"} <= set(document["paths"])


def test_importing_the_function_loads_no_cloud_sdk_or_models() -> None:
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, runpy; runpy.run_path('functions/http_push/index.py');"
        "names = ('boto3', 'tablestore', 'oss2', 'pushfn.push.models', 'pushfn.emulator');"
        "heavy = [m for m in names if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
