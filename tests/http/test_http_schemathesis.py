"""Property-based run of schemathesis against ``/openapi.json`` served by a real local WSGI server.

The FC 2.0 WSGI handler is served by ``wsgiref`` on 127.0.0.1 (port 0), with the emulator behind
it; whatever schemathesis generates from the document, the function must never answer 5xx and
every answer must match what the document declares.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import schemathesis
from http_support import HttpEnv, configure
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pushfn.http import handler, reset_default_app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # keep test output readable
        pass


@pytest.fixture
def wsgi_url(http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[str]:
    # The platform authenticates in this setup; auth itself is tested elsewhere.
    configure(monkeypatch, tmp_path, {"PUSHFN_HTTP_AUTH": "none"})
    server = make_server("127.0.0.1", 0, handler, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        reset_default_app()


def test_no_server_errors_and_answers_match_the_document(wsgi_url: str) -> None:
    """Every operation, 20 generated cases each (derandomized, so a failure reproduces).

    The cases come from each operation's hypothesis strategy and are run with plain hypothesis, not
    through schemathesis' pytest plugin: that plugin reads pytest internals (``item._nodeid``) that
    pytest 9.2 removed.
    """
    api = schemathesis.openapi.from_url(f"{wsgi_url}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 8, "the document should describe every route"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])
            case.validate_response(
                response, checks=[status_code_conformance, content_type_conformance, response_schema_conformance]
            )

        check()
