"""The HTTP application: route matching, authentication, error translation and one log line per call.

No web framework: a route table (:data:`pushfn.http.routes.ROUTES`, data) and a dispatcher, so the
function imports fast and behaves the same behind every trigger. For each request the app matches a
route, checks the body size, authenticates the caller, decodes the path parameters, parses a JSON
body (routes with one), and calls ``route.handler(call, deps)`` (:mod:`pushfn.http.call`): the handler
gets what it needs as arguments and returns its answer. Errors are translated here, once:

==========================================  =========================================
raised                                      answer
==========================================  =========================================
:class:`HttpProblem`                        as given (400, 401, 404, 405, 409, 413, 415, 422…)
``InvalidRequestError``                     400 naming each field and rule
``JsonInputError``                          400 naming the field (its ``path``) and rule
anything else raised while *interpreting*   400 ``invalid-request`` (rule ``unprocessable``): the request
the request (``call.interpret``)            is the cause, so it is never a 500 (the type is logged)
``ServiceError`` ``Invalid<Param>.<Rule>``  400 with the service's Code and RequestId (the caller's data)
``ThrottledError``                          503 + ``Retry-After``, with Code and RequestId
other ``ServiceError``                      502 with the service's Code and RequestId (auth, quota, 5xx)
``ConnectError``                            502 (nothing was sent; retry is safe)
``AmbiguousResponseError``                  504 (may have been sent; retry with the same key)
``ConfigurationError``/``CredentialsError`` 500 "misconfigured" (the operator's mistake), also when
``IdempotencyConfigError``                  raised while the runtime (client, store) is first built
anything else                               500, no details (the type is logged)
==========================================  =========================================
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pushfn.errors import ConfigurationError, FieldProblem
from pushfn.functions import HTTP_PUSH
from pushfn.http import problems
from pushfn.http.auth import Principal, authenticate
from pushfn.http.call import Call, Deps, Route, interpret
from pushfn.http.identifiers import decode_path_parameter
from pushfn.http.parsing import check_json_media_type, check_size, parse_json_object
from pushfn.http.problems import HttpProblem, UninterpretableRequest, retry_after_header
from pushfn.http.routes import ROUTES
from pushfn.http.settings import HttpSettings
from pushfn.idempotency.exceptions import IdempotencyConfigError
from pushfn.json_input import JsonInputError
from pushfn.logs import current_request_id, get_logger
from pushfn.masking import scrub_cut
from pushfn.push.errors import (
    AmbiguousResponseError,
    AuthError,
    CredentialsError,
    InvalidRequestError,
    PushError,
    ServerError,
    ServiceError,
    ThrottledError,
    TransportError,
)
from pushfn.triggers.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from pushfn.runtime import Runtime

logger = get_logger("pushfn.http")

#: Idempotency records of this function live under this name (scoped further per tenant).
FUNCTION_NAME = HTTP_PUSH
_COMMON_HEADERS = {"Cache-Control": "no-store"}


class HttpApp:
    """``HttpRequest -> HttpResponse`` for every route; one instance per process.

    ``settings`` are the function's HTTP settings; ``runtime`` supplies the push client and the
    idempotency store (default: the process runtime, :func:`pushfn.runtime.get_runtime`); ``routes``
    is the route table; ``clock`` gives Unix seconds (webhook timestamps are checked against it).
    """

    def __init__(
        self,
        settings: HttpSettings,
        *,
        runtime: Runtime | None = None,
        routes: Iterable[Route] = ROUTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.routes = tuple(routes)
        self._runtime = runtime
        self._clock = clock
        self._lock = threading.Lock()
        self._misconfigurations: set[str] = set()

    def runtime(self, request: HttpRequest) -> Runtime:
        """The runtime serving ``request``: the one given, else the process runtime."""
        if self._runtime is not None:
            return self._runtime
        from pushfn.runtime import get_runtime

        return get_runtime(request.context)

    def deps(self, request: HttpRequest) -> Deps:
        """What the handlers of ``request`` may use; the client, the guard and the templates are
        built (or taken from the process) only when a handler first reads them."""
        return Deps(
            self.settings,
            client=lambda: self.runtime(request).client,
            app_key=lambda: self.runtime(request).client.app_key,
            guard=lambda: self.runtime(request).guard(FUNCTION_NAME),
            templates=lambda: self.runtime(request).templates(),
            clock=self._clock,
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        log: dict[str, Any] = {"platform": request.platform, "method": request.method, "route": None}
        matched: list[Route] = []  # the route, once matched: its names for CloudPush's parameters
        try:
            response = self._dispatch(request, log, matched)
        except UninterpretableRequest as problem:
            log["error"] = problem.cause
            logger.warning(
                "http request could not be interpreted (%s)",
                problem.cause,
                extra={"fields": {"error": problem.cause, "route": log["route"]}},
            )
            response = problem.to_response()
        except HttpProblem as problem:
            response = problem.to_response()
        except Exception as exc:  # the edge: whatever escaped becomes a problem, never a stack trace
            problem = translate(exc, dict(matched[0].service_fields) if matched else None)
            if problem.slug == "misconfigured":
                self._report_misconfiguration(exc)
            response = problem.to_response()
            log["error"] = type(exc).__name__
        response = HttpResponse(response.status, {**response.headers, **_COMMON_HEADERS}, response.body)
        log.update(status=response.status, duration_ms=round((time.monotonic() - started) * 1000, 1))
        if request.request_id and request.request_id != current_request_id():
            # The gateway's own id (API Gateway's requestContext.requestId) when it is not the invocation's.
            log["gateway_request_id"] = request.request_id
        logger.info("http %s %s -> %s", request.method, log["route"] or "?", response.status, extra={"fields": log})
        return response

    def _report_misconfiguration(self, exc: BaseException) -> None:
        """Log why the runtime (client, store) cannot be built — once per reason, not per request.
        Configuration messages name the setting and the rule, never a secret's value."""
        # Masked before it is cut (a store path or driver message may name a device id or a key).
        reason = scrub_cut(f"{type(exc).__name__}: {exc}", 500)
        with self._lock:
            if reason in self._misconfigurations or len(self._misconfigurations) >= 32:
                return
            self._misconfigurations.add(reason)
        logger.error("http function misconfigured: %s", reason, extra={"fields": {"error": type(exc).__name__}})

    def _dispatch(self, request: HttpRequest, log: dict[str, Any], matched: list[Route]) -> HttpResponse:
        route, params = self.match(request.method, request.path)
        log["route"] = route.pattern
        matched.append(route)
        check_size(request, self.settings.max_body_bytes)
        principal = Principal("public", "none") if route.public else authenticate(request, self.settings, self._clock())
        log.update(tenant=principal.tenant, auth=principal.method)
        decoded = decode_path_parameters(params)
        body: dict[str, Any] = {}
        if route.body is not None:
            check_json_media_type(request)
            body = interpret(parse_json_object, request.body)
        call = Call(request, decoded, principal, body, log)
        return route.handler(call, self.deps(request))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for ``method path`` with its path parameters, still percent-encoded; 404 / 405
        otherwise. :func:`decode_path_parameters` decodes and checks them."""
        path = self._strip_base(path)
        segments = tuple(path.strip("/").split("/")) if path.strip("/") else ()
        allowed: set[str] = set()
        for route in self.routes:
            params = _match_segments(route.segments, segments)
            if params is None:
                continue
            if route.method == method:
                return route, params
            allowed.add(route.method)
        if allowed:
            raise problems.method_not_allowed(method, allowed)
        raise problems.not_found(path)

    def _strip_base(self, path: str) -> str:
        base = self.settings.base_path
        if base and (path == base or path.startswith(base + "/")):
            return path[len(base) :] or "/"
        return path


def _match_segments(pattern: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(pattern, segments, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            if not actual:
                return None
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


def decode_path_parameters(raw: Mapping[str, str]) -> dict[str, str]:
    """Each path parameter percent-decoded once and checked as exactly one identifier of its kind
    (:mod:`pushfn.http.identifiers`); 400 naming every parameter that is not."""
    decoded: dict[str, str] = {}
    failed: list[FieldProblem] = []
    for name, value in raw.items():
        decoded[name], problem = decode_path_parameter(name, value)
        if problem is not None:
            failed.append(problem)
    if failed:
        raise problems.invalid_request(failed)
    return decoded


def _callers_fault(exc: ServiceError) -> bool:
    """``Invalid<Param>.<Rule>`` / ``Missing<Param>`` about the caller's data (an unknown device, a bad
    tag): the caller must change the request, so it is a 4xx. Credentials, the app key, quotas and
    server errors are not the caller's doing: those stay 502, and so does a 2xx answer the client could
    not read (``InvalidResponse``: the service accepted the request; nothing the caller changes helps)."""
    if isinstance(exc, (AuthError, ServerError)) or exc.code.startswith(("InvalidAppKey", "InvalidAccessKey")):
        return False
    if exc.http_status is not None and 200 <= exc.http_status < 300:
        return False
    return exc.code.startswith(("Invalid", "Missing")) and (exc.http_status or 400) < 500


def translate(exc: BaseException, service_fields: Mapping[str, str] | None = None) -> HttpProblem:
    """The problem answer for an exception raised while handling a request; a CloudPush refusal that
    names a parameter is reported against the route's own field for it (``service_fields``)."""
    if isinstance(exc, HttpProblem):
        return exc
    if isinstance(exc, InvalidRequestError):
        return problems.invalid_request(exc.problems)
    if isinstance(exc, JsonInputError):
        return problems.invalid_request([FieldProblem(problems.safe_field(exc.path or "body"), exc.rule, exc.detail)])
    if isinstance(exc, ThrottledError):
        return HttpProblem(
            503,
            "throttled",
            "CloudPush is throttling this app",
            f"{exc.code}: retry later",
            headers=retry_after_header(exc.retry_after),
            code=exc.code,
            requestId=exc.request_id,
        )
    if isinstance(exc, ServiceError) and _callers_fault(exc):
        field, _, rule = exc.code.removeprefix("Invalid").removeprefix("Missing").partition(".")
        field = (service_fields or {}).get(field, field)
        return HttpProblem(
            400,
            "service-rejected",
            "CloudPush rejected the request",
            f"{exc.code}: {exc.message}"[:500],
            errors=[FieldProblem(field or "body", rule or exc.code, exc.message[:300])],
            code=exc.code,
            requestId=exc.request_id,
        )
    if isinstance(exc, ServiceError):
        return HttpProblem(
            502,
            "service-refused",
            "CloudPush refused the request",
            f"{exc.code}: {exc.message}"[:500],
            code=exc.code,
            requestId=exc.request_id,
        )
    if isinstance(exc, AmbiguousResponseError):
        return HttpProblem(
            504,
            "outcome-unknown",
            "CloudPush did not answer",
            "the push may have been sent; retry with the same Idempotency-Key to get its outcome without a duplicate",
            headers=retry_after_header(5),
        )
    if isinstance(exc, TransportError):
        return HttpProblem(
            502,
            "service-unreachable",
            "CloudPush could not be reached",
            "nothing was sent; retry later",
            headers=retry_after_header(1),
        )
    if isinstance(exc, (ConfigurationError, CredentialsError, IdempotencyConfigError)):
        return HttpProblem(500, "misconfigured", "The function is misconfigured", "the operator must fix its settings")
    if isinstance(exc, PushError):
        return HttpProblem(502, "push-failed", "The push failed", type(exc).__name__)
    return HttpProblem(500, "internal-error", "Internal error", "the error was logged")
