"""RFC 9457 problem details: every error answer of the HTTP function, in one shape.

::

    {"type": "urn:pushfn:problem:invalid-request", "title": "The request is invalid", "status": 400,
     "detail": "2 fields failed validation",
     "errors": [{"field": "iOSBadge", "rule": "type", "message": "..."}]}

Handlers raise :class:`HttpProblem`; the app turns it into an ``application/problem+json`` answer.
Nothing here ever carries a stack trace, a secret or a full device id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pushfn.errors import FieldProblem, PushfnError
from pushfn.problems import MAX_ERRORS
from pushfn.triggers.http import HttpResponse

PROBLEM_JSON = "application/problem+json"
_TYPE_PREFIX = "urn:pushfn:problem:"


class HttpProblem(PushfnError):
    """An error answer: status, a stable ``slug`` (the problem type), a title, and field errors."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        errors: Iterable[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extensions = {k: v for k, v in extensions.items() if v is not None}
        super().__init__(f"{status} {slug}: {detail or title}")

    @property
    def type(self) -> str:
        """The problem type URI: ``urn:pushfn:problem:<slug>``."""
        return _TYPE_PREFIX + self.slug

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: ``type``, ``title``, ``status``, then ``detail`` and ``errors``
        (``[{"field", "rule", "message"}]``, the first :data:`~pushfn.problems.MAX_ERRORS`, ``errorsOmitted``
        counting the rest) when set, then the extensions (``code``, ``requestId``…)."""
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = [problem.to_dict() for problem in self.errors[:MAX_ERRORS]]
            if len(self.errors) > MAX_ERRORS:
                body["errorsOmitted"] = len(self.errors) - MAX_ERRORS
        body.update(self.extensions)
        return body

    def to_response(self) -> HttpResponse:
        """The answer: ``status``, :meth:`to_dict` as ``application/problem+json``, and ``headers``."""
        response = HttpResponse.json(self.status, self.to_dict(), self.headers)
        return HttpResponse(response.status, {**response.headers, "Content-Type": PROBLEM_JSON}, response.body)


class UninterpretableRequest(HttpProblem):
    """400 ``invalid-request`` (rule ``unprocessable``): interpreting the caller's data raised an
    exception that is no pushfn error (:func:`pushfn.http.call.interpret`). ``cause`` is that
    exception's type name, for the log line only: the answer never says more than the rule."""

    def __init__(self, cause: str) -> None:
        self.cause = cause
        problem = FieldProblem("body", "unprocessable", "the request could not be interpreted; check its values")
        detail = str(problem)
        super().__init__(400, "invalid-request", "The request is invalid", detail, errors=[problem])


def retry_after_header(seconds: float | None, default: int = 1) -> dict[str, str]:
    """``Retry-After`` in whole seconds (HTTP allows no fractions), at least one."""
    value = default if seconds is None or seconds <= 0 else math.ceil(seconds)
    return {"Retry-After": str(max(1, int(value)))}


def safe_field(name: str, limit: int = 200) -> str:
    """A field name taken from the caller's data, fit for an answer and a log line: at most ``limit``
    characters, lone surrogates (not text) written as ``\\udXXX`` escapes."""
    name = name[:limit]
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return name


# --- the problems clients cause ---------------------------------------------------------------


def invalid_request(problems: Iterable[FieldProblem], detail: str | None = None) -> HttpProblem:
    """400 ``invalid-request`` listing ``problems``; ``detail`` defaults to the first five joined by ``; ``."""
    problems = list(problems)
    if detail is None:
        detail = "; ".join(str(p) for p in problems[:5]) or "the request is invalid"
    return HttpProblem(400, "invalid-request", "The request is invalid", detail, errors=problems)


def malformed_json(message: str, rule: str = "json", field: str = "body") -> HttpProblem:
    """400 ``malformed-json``: ``field`` is ``body`` for the document, else the dotted path inside it."""
    return HttpProblem(
        400,
        "malformed-json",
        "The body is not valid JSON",
        message,
        errors=[FieldProblem(safe_field(field), rule, message)],
    )


def unsupported_media_type(got: str | None) -> HttpProblem:
    """415 ``unsupported-media-type`` with ``Accept-Post: application/json``; ``got`` is the Content-Type
    received (None when absent)."""
    detail = f"send Content-Type: application/json (got {got!r})" if got else "send Content-Type: application/json"
    return HttpProblem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        detail,
        errors=[FieldProblem("Content-Type", "media_type", detail)],
        headers={"Accept-Post": "application/json"},
    )


def payload_too_large(limit: int) -> HttpProblem:
    """413 ``payload-too-large``, rule ``max_bytes`` on ``body``; ``limit`` is the largest body in bytes."""
    detail = f"the body is larger than {limit} bytes"
    return HttpProblem(
        413, "payload-too-large", "Payload too large", detail, errors=[FieldProblem("body", "max_bytes", detail)]
    )


def unauthorized(detail: str, rule: str, field: str = "Authorization") -> HttpProblem:
    """401 ``unauthorized`` naming the credential ``field`` (a header) and ``rule`` it broke, with
    ``WWW-Authenticate: Bearer realm="pushfn"``."""
    return HttpProblem(
        401,
        "unauthorized",
        "Authentication failed",
        detail,
        errors=[FieldProblem(field, rule, detail)],
        headers={"WWW-Authenticate": 'Bearer realm="pushfn"'},
    )


def not_found(path: str) -> HttpProblem:
    """404 ``not-found`` for ``path`` (the first 200 characters are shown)."""
    return HttpProblem(404, "not-found", "No such route", f"no route for {path[:200]}")


def method_not_allowed(method: str, allowed: Iterable[str]) -> HttpProblem:
    """405 ``method-not-allowed`` with an ``Allow`` header listing ``allowed`` (sorted)."""
    allow = ", ".join(sorted(allowed))
    return HttpProblem(
        405,
        "method-not-allowed",
        "Method not allowed",
        f"{method} is not allowed here; use {allow}",
        headers={"Allow": allow},
    )
