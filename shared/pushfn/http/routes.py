"""The route table, :data:`ROUTES`, and its handlers: what each reads, which CloudPush action it calls,
and what it answers.

The table is data: the app matches a request against it, authenticates the caller, decodes the path
parameters, parses a JSON body, and calls the route's handler with the :class:`~pushfn.http.call.Call`
and the :class:`~pushfn.http.call.Deps` (:mod:`pushfn.http.call`). A handler returns an
:class:`~pushfn.triggers.http.HttpResponse`; errors are raised and translated in one place (``app``).
"""

from __future__ import annotations

from typing import Any

from pushfn import __version__
from pushfn.errors import ConfigurationError, FieldProblem
from pushfn.http.call import Call, Deps, Route, interpret
from pushfn.http.idempotency import once
from pushfn.http.openapi import openapi_document
from pushfn.http.parsing import validate
from pushfn.push.errors import InvalidRequestError
from pushfn.triggers.http import HttpResponse

__all__ = ["ROUTES", "Route"]

# --- push ----------------------------------------------------------------------------------------


def push(call: Call, deps: Deps) -> HttpResponse:
    """``POST /push``: one push, from its parameters or a named template; 202 with its MessageId."""
    data = call.body
    if "template" in data:
        from pushfn.http import schemas  # pydantic: not on the plain push's path

        body = interpret(validate, schemas.TemplatePush, data)
        from pushfn.specs.templates import render_template

        overrides = {key: value for key, value in data.items() if key not in ("template", "params")}
        data = interpret(render_template, deps.templates, body.template, body.params, overrides=overrides)
    client = deps.client
    from pushfn.push.models.fast import check_request  # pydantic only to explain a refusal

    interpret(_check_app_key, data, deps.app_key)
    request = interpret(check_request, "Push", data, app_key=deps.app_key)
    canonical = interpret(request.to_query)

    def send(token: str | None) -> dict[str, Any]:
        result = client.push(request, idempotent_token=token)
        return {"status": 202, "body": {"messageId": result.message_id, "requestId": result.request_id}}

    return once(call, deps, canonical, send)


def mass_push(call: Call, deps: Deps) -> HttpResponse:
    """``POST /mass-push``: up to 100 personalised pushes in one request; 202 with their MessageIds."""
    client = deps.client
    from pushfn.push.models.fast import check_request  # pydantic only to explain a refusal

    interpret(_check_app_key, call.body, deps.app_key)
    request = interpret(check_request, "MassPush", call.body, app_key=deps.app_key)
    canonical = interpret(lambda: {**request.to_query(), **request.to_form()})

    def send(token: str | None) -> dict[str, Any]:
        result = client.mass_push(request, idempotent_token=token)
        return {"status": 202, "body": {"messageIds": list(result.message_ids), "requestId": result.request_id}}

    return once(call, deps, canonical, send)


#: The parameter names (API and snake_case) the push models accept for the IdempotentToken.
_TOKEN_NAMES = ("IdempotentToken", "idempotent_token")


def _check_app_key(data: dict[str, Any], configured: int | None) -> None:
    """The function pushes for its configured app only: a caller cannot borrow its credentials for another.

    The ``IdempotentToken`` is the function's too: the idempotency guard draws a fresh one whenever a new
    push is due (a new ``Idempotency-Key``, an expired record). A caller's own token would win over it in
    the client, so CloudPush would drop every push the guard let through for 15 minutes — 202 with the
    old MessageId and nothing sent (issue 13 item 3). It is refused, naming the field."""
    if configured is None:  # the operator's setting, not the caller's field: 500 misconfigured, not 400
        raise ConfigurationError("PUSH_APP_KEY is not set: the HTTP function pushes for its configured app only")
    for name in ("AppKey", "app_key"):
        if name in data and str(data[name]) != str(configured):
            message = "is set by the function's configuration; leave it out"
            raise InvalidRequestError([FieldProblem(name, "not_allowed", message)], "Push")
    for name in _TOKEN_NAMES:
        if name in data:
            message = "is set by the function for each new push; send an Idempotency-Key header instead"
            raise InvalidRequestError([FieldProblem(name, "not_allowed", message)], "Push")


# --- device association --------------------------------------------------------------------------


def _done(deps: Deps, action: str, params: dict[str, str]) -> HttpResponse:
    response = deps.client.call(action, params)
    return HttpResponse.json(200, {"requestId": response.request_id})


def _names(data: dict[str, Any], outer: str, inner: str, field: str) -> list[str]:
    """``{"AliasInfos": {"AliasInfo": [{"AliasName": "a"}]}}`` → ``["a"]`` (and list/missing variants).

    Raises :class:`~pushfn.push.errors.ServiceError` ``InvalidResponse`` (a 502) for an answer of another
    shape — a number where the list belongs, a name that is not text — instead of a ``TypeError`` (a 500)
    or a name made up from ``str()`` of an object."""
    items: Any = data.get(outer) or []
    if isinstance(items, dict):
        items = items.get(inner) or []
    if isinstance(items, dict):
        items = [items]
    names: list[str] = []
    for item in items if isinstance(items, list) else [None]:
        name = item.get(field) if isinstance(item, dict) else None
        if not isinstance(name, str):
            from pushfn.push.errors import ServiceError

            raise ServiceError("InvalidResponse", f"the service answered {outer} in another shape", http_status=200)
        names.append(name)
    return names


def _body(call: Call, model_name: str) -> Any:
    from pushfn.http import schemas  # pydantic: only the routes with a body model load it

    return interpret(validate, getattr(schemas, model_name), call.body)


def bind_aliases(call: Call, deps: Deps) -> HttpResponse:
    """``POST /devices/{deviceId}/aliases``: BindAlias."""
    body = _body(call, "AliasesBody")
    return _done(deps, "BindAlias", {"DeviceId": call.params["deviceId"], "AliasName": ",".join(body.aliases)})


def unbind_aliases(call: Call, deps: Deps) -> HttpResponse:
    """``POST /devices/{deviceId}/aliases/unbind``: UnbindAlias, of some aliases or all."""
    body = _body(call, "UnbindAliasesBody")
    params = {"DeviceId": call.params["deviceId"]}
    if body.all:
        params["UnbindAll"] = "true"
    else:
        params["AliasName"] = ",".join(body.aliases)
    return _done(deps, "UnbindAlias", params)


def query_aliases(call: Call, deps: Deps) -> HttpResponse:
    """``GET /devices/{deviceId}/aliases``: QueryAliases, answered as ``{"aliases": [...]}``."""
    response = deps.client.call("QueryAliases", {"DeviceId": call.params["deviceId"]})
    aliases = _names(response.data, "AliasInfos", "AliasInfo", "AliasName")
    return HttpResponse.json(200, {"aliases": aliases, "requestId": response.request_id})


def bind_tags(call: Call, deps: Deps) -> HttpResponse:
    """``POST /devices/{deviceId}/tags``: BindTag on one device."""
    body = _body(call, "TagsBody")
    params = {"ClientKey": call.params["deviceId"], "KeyType": "DEVICE", "TagName": ",".join(body.tags)}
    return _done(deps, "BindTag", params)


def unbind_tags(call: Call, deps: Deps) -> HttpResponse:
    """``POST /devices/{deviceId}/tags/unbind``: UnbindTag on one device."""
    body = _body(call, "TagsBody")
    params = {"ClientKey": call.params["deviceId"], "KeyType": "DEVICE", "TagName": ",".join(body.tags)}
    return _done(deps, "UnbindTag", params)


def query_tags(call: Call, deps: Deps) -> HttpResponse:
    """``GET /devices/{deviceId}/tags``: QueryTags, answered as ``{"tags": [...]}``."""
    response = deps.client.call("QueryTags", {"ClientKey": call.params["deviceId"], "KeyType": "DEVICE"})
    tags = _names(response.data, "TagInfos", "TagInfo", "TagName")
    return HttpResponse.json(200, {"tags": tags, "requestId": response.request_id})


def list_tags(call: Call, deps: Deps) -> HttpResponse:
    """``GET /tags``: ListTags, answered as ``{"tags": [...]}``."""
    response = deps.client.call("ListTags", {})
    tags = _names(response.data, "TagInfos", "TagInfo", "TagName")
    return HttpResponse.json(200, {"tags": tags, "requestId": response.request_id})


def remove_tag(call: Call, deps: Deps) -> HttpResponse:
    """``DELETE /tags/{tagName}``: RemoveTag."""
    return _done(deps, "RemoveTag", {"TagName": call.params["tagName"]})


# --- service ---------------------------------------------------------------------------------------


def health(call: Call, deps: Deps) -> HttpResponse:
    """``GET /health``: ``{"status": "ok", "version": ...}``."""
    # Deliberately reads nothing from deps: a health probe must not build a client or open the store.
    return HttpResponse.json(200, {"status": "ok", "version": __version__})


def openapi(call: Call, deps: Deps) -> HttpResponse:
    """``GET /openapi.json``: the OpenAPI 3.1 document of :data:`ROUTES`."""
    return HttpResponse.json(200, openapi_document(ROUTES))


_PUSH_ERRORS = (400, 409, 413, 415, 422, 502, 503, 504)
_CALL_ERRORS = (400, 413, 415, 502, 503, 504)

#: CloudPush's parameters named by a refusal (``InvalidDeviceId.NotFound``) → the caller's own fields.
_DEVICE_ALIASES = (("DeviceId", "deviceId"), ("AliasName", "aliases"))
_DEVICE_TAGS = (("DeviceId", "deviceId"), ("ClientKey", "deviceId"), ("TagName", "tags"))

ROUTES: tuple[Route, ...] = (
    Route("POST", "/push", push, "push", "Send one push (parameters or a named template)",
          body="PushBody", success=(202, "Accepted"), errors=_PUSH_ERRORS),
    Route("POST", "/mass-push", mass_push, "massPush", "Send up to 100 personalised pushes",
          body="MassPush", success=(202, "MassAccepted"), errors=_PUSH_ERRORS),
    Route("GET", "/devices/{deviceId}/aliases", query_aliases, "queryAliases", "Aliases bound to a device",
          success=(200, "AliasList"), errors=(400, 502, 503, 504), service_fields=_DEVICE_ALIASES),
    Route("POST", "/devices/{deviceId}/aliases", bind_aliases, "bindAliases", "Bind aliases to a device",
          body="AliasesBody", errors=_CALL_ERRORS, service_fields=_DEVICE_ALIASES),
    Route("POST", "/devices/{deviceId}/aliases/unbind", unbind_aliases, "unbindAliases",
          "Unbind some or all aliases of a device", body="UnbindAliasesBody", errors=_CALL_ERRORS,
          service_fields=_DEVICE_ALIASES),
    Route("GET", "/devices/{deviceId}/tags", query_tags, "queryTags", "Tags bound to a device",
          success=(200, "TagList"), errors=(400, 502, 503, 504), service_fields=_DEVICE_TAGS),
    Route("POST", "/devices/{deviceId}/tags", bind_tags, "bindTags", "Bind tags to a device",
          body="TagsBody", errors=_CALL_ERRORS, service_fields=_DEVICE_TAGS),
    Route("POST", "/devices/{deviceId}/tags/unbind", unbind_tags, "unbindTags", "Unbind tags from a device",
          body="TagsBody", errors=_CALL_ERRORS, service_fields=_DEVICE_TAGS),
    Route("GET", "/tags", list_tags, "listTags", "All tags of the app",
          success=(200, "TagList"), errors=(502, 503, 504)),
    Route("DELETE", "/tags/{tagName}", remove_tag, "removeTag", "Delete a tag from the app",
          errors=(400, 502, 503, 504), service_fields=(("TagName", "tagName"),)),
    Route("GET", "/health", health, "health", "Liveness probe", public=True, success=(200, "Health")),
    Route("GET", "/openapi.json", openapi, "openapi", "This API description (OpenAPI 3.1)", public=True,
          success=(200, "OpenAPI")),
)  # fmt: skip
