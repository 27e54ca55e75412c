"""``/openapi.json``: an OpenAPI 3.1 document generated from a route table and the pydantic models.

The request schemas are the very models that validate requests (``pushfn.push.models.Push`` …), so
the description cannot drift from the behaviour. The table is given (``pushfn.http.routes.ROUTES`` for
the function), so this module depends on the shape of a route only, not on the routes. Built once per
process and table, on first request.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pushfn import __version__

if TYPE_CHECKING:
    from pushfn.http.call import Route

_PROBLEM_TITLES = {
    400: "Invalid request: malformed JSON, unknown field, a broken limit or a bad Idempotency-Key",
    401: "Missing or invalid credentials",
    404: "No such route",
    409: "A request with the same Idempotency-Key is still in progress",
    413: "Body larger than the configured limit",
    415: "Content-Type is not application/json",
    422: "Idempotency-Key reused with a different request",
    500: "The function is misconfigured",
    502: "CloudPush refused the request (with its Code and RequestId) or could not be reached",
    503: "Throttled by CloudPush, or duplicate protection unavailable (see Retry-After)",
    504: "CloudPush did not answer; retry with the same Idempotency-Key",
}
_PARAM = re.compile(r"\{([A-Za-z]+)\}")


def _models() -> dict[str, Any]:
    from pushfn.http import schemas
    from pushfn.push.models import MassPush, Push

    return {
        "Push": Push,
        "MassPush": MassPush,
        "TemplatePush": schemas.TemplatePush,
        "AliasesBody": schemas.AliasesBody,
        "UnbindAliasesBody": schemas.UnbindAliasesBody,
        "TagsBody": schemas.TagsBody,
        "Accepted": schemas.Accepted,
        "MassAccepted": schemas.MassAccepted,
        "Done": schemas.Done,
        "AliasList": schemas.AliasList,
        "TagList": schemas.TagList,
        "Health": schemas.Health,
        "Problem": schemas.Problem,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def component_schemas() -> dict[str, Any]:
    """``components.schemas`` of the document: ``{name: JSON Schema}`` of the request and answer models,
    plus ``PushBody`` (Push parameters or a template) and ``OpenAPI``. ``AppKey`` and ``IdempotentToken``
    are left out of ``Push`` and ``MassPush``: the function sets them. Imports pydantic and the push models."""
    from pydantic.json_schema import models_json_schema

    models = _models()
    _, top = models_json_schema(
        [(model, "validation") for model in models.values()], ref_template="#/components/schemas/{model}"
    )
    defs: dict[str, Any] = top.get("$defs", {})
    for name in ("Push", "MassPush"):
        # AppKey comes from the function's configuration (a different one is refused), IdempotentToken
        # from its idempotency guard (one is refused).
        for owned in ("AppKey", "IdempotentToken"):
            defs[name]["properties"].pop(owned, None)
        defs[name]["required"] = [
            field for field in defs[name].get("required", []) if field not in ("AppKey", "IdempotentToken")
        ]
    defs["PushBody"] = {
        "title": "PushBody",
        "description": "Push parameters (API names such as iOSBadge, or snake_case), or a named template.",
        "anyOf": [_ref("Push"), _ref("TemplatePush")],
    }
    defs["OpenAPI"] = {"title": "OpenAPI", "type": "object"}
    return defs


def _operation(route: Route) -> dict[str, Any]:
    status, answer = route.success
    responses: dict[str, Any] = {
        str(status): {"description": "Success", "content": {"application/json": {"schema": _ref(answer)}}}
    }
    codes = set(route.errors) | ({401} if not route.public else set())
    for code in sorted(codes):
        responses[str(code)] = {
            "description": _PROBLEM_TITLES.get(code, "Error"),
            "content": {"application/problem+json": {"schema": _ref("Problem")}},
        }
    operation: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary, "responses": responses}
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _PATH_SCHEMAS.get(name, {"type": "string", "minLength": 1, "maxLength": 128}),
        }
        for name in _PARAM.findall(route.pattern)
    ]
    if route.body in ("PushBody", "MassPush"):
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "IETF draft SF String (quoted) or bare token; 1-255 printable ASCII characters.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
            }
        )
    if parameters:
        operation["parameters"] = parameters
    if route.body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(route.body)}}}
    if route.public:
        operation["security"] = []
    return operation


# Mirrors pushfn.http.identifiers (which is what the function enforces).
_NAME_PATTERN = "^[^,\\x00-\\x1f\\x7f-\\x9f]+$"
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "deviceId": {"type": "string", "pattern": "^[A-Za-z0-9]{32}$", "description": "one device id"},
    "tagName": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": _NAME_PATTERN,
                "description": "one tag (percent-encoded in the path)"},
}  # fmt: skip


def build_openapi(routes: Iterable[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a JSON-ready dict) describing ``routes``, their bodies, answers and
    problem types. Imports pydantic's JSON schema support and the request models (on first call)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.pattern, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pushfn HTTP push",
            "version": __version__,
            "description": "Send Alibaba Cloud Push notifications over HTTP. Errors are RFC 9457 problem details.",
        },
        "paths": paths,
        "components": {
            "schemas": component_schemas(),
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "API key (PUSHFN_API_KEYS)"},
                "webhook": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "webhook-signature",
                    "description": "Standard Webhooks signature with webhook-id and webhook-timestamp",
                },
            },
        },
        "security": [{"apiKey": []}, {"webhook": []}],
    }


@functools.lru_cache(maxsize=4)
def openapi_document(routes: tuple[Route, ...]) -> dict[str, Any]:
    """:func:`build_openapi` of ``routes``, built once per table (the caller must not change it)."""
    return build_openapi(routes)
