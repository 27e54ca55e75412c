"""The routes: what each one reads, which CloudPush action it calls, and what it answers.

Every handler takes a :class:`~pushfn.http.app.Call` (the request, its path parameters, the
authenticated caller and the app's shared parts) and returns an
:class:`~pushfn.triggers.http.HttpResponse`; errors are raised and translated in one place (``app``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from pushfn import __version__
from pushfn.http import schemas
from pushfn.http.parsing import validate
from pushfn.push.errors import ConfigurationError, FieldProblem, InvalidRequestError
from pushfn.triggers.http import HttpResponse

if TYPE_CHECKING:
    from pushfn.http.app import Call

Handler = Callable[["Call"], HttpResponse]


@dataclass(frozen=True)
class Route:
    """One ``METHOD /path/{param}`` → handler, with what ``/openapi.json`` says about it."""

    method: str
    pattern: str
    handler: Handler
    operation_id: str
    summary: str
    #: No authentication (health check, API description).
    public: bool = False
    #: Name of the request body schema in ``/openapi.json`` (JSON routes only).
    body: str | None = None
    #: Success status and the name of its answer schema.
    success: tuple[int, str] = (200, "Done")
    #: Status codes the route can answer besides the success and the generic ones.
    errors: tuple[int, ...] = ()

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.pattern.strip("/").split("/")) if self.pattern != "/" else ()


# --- push ----------------------------------------------------------------------------------------


def push(call: Call) -> HttpResponse:
    data = call.json()
    if "template" in data:
        body = call.interpret(validate, schemas.TemplatePush, data)
        from pushfn.specs.templates import render_template

        overrides = {key: value for key, value in data.items() if key not in ("template", "params")}
        templates = call.templates()
        data = call.interpret(render_template, templates, body.template, body.params, overrides=overrides)
    client = call.client()
    from pushfn.push.models import parse_request

    call.interpret(_check_app_key, data, client.app_key)
    request = call.interpret(parse_request, "Push", data, app_key=client.app_key)
    canonical = call.interpret(request.to_query)

    def send(token: str | None) -> dict[str, Any]:
        result = client.push(request, idempotent_token=token)
        return {"status": 202, "body": {"messageId": result.message_id, "requestId": result.request_id}}

    return call.once(canonical, send)


def mass_push(call: Call) -> HttpResponse:
    data = call.json()
    client = call.client()
    from pushfn.push.models import parse_request

    call.interpret(_check_app_key, data, client.app_key)
    request = call.interpret(parse_request, "MassPush", data, app_key=client.app_key)
    canonical = call.interpret(lambda: {**request.to_query(), **request.to_form()})

    def send(token: str | None) -> dict[str, Any]:
        result = client.mass_push(request, idempotent_token=token)
        return {"status": 202, "body": {"messageIds": list(result.message_ids), "requestId": result.request_id}}

    return call.once(canonical, send)


def _check_app_key(data: dict[str, Any], configured: int | None) -> None:
    """The function pushes for its configured app only: a caller cannot borrow its credentials for another."""
    if configured is None:  # the operator's setting, not the caller's field: 500 misconfigured, not 400
        raise ConfigurationError("PUSH_APP_KEY is not set: the HTTP function pushes for its configured app only")
    for name in ("AppKey", "app_key"):
        if name in data and str(data[name]) != str(configured):
            message = "is set by the function's configuration; leave it out"
            raise InvalidRequestError([FieldProblem(name, "not_allowed", message)], "Push")


# --- device association --------------------------------------------------------------------------


def _done(call: Call, action: str, params: dict[str, str]) -> HttpResponse:
    response = call.client().call(action, params)
    return HttpResponse.json(200, {"requestId": response.request_id})


def _names(data: dict[str, Any], outer: str, inner: str, field: str) -> list[str]:
    """``{"AliasInfos": {"AliasInfo": [{"AliasName": "a"}]}}`` → ``["a"]`` (and list/missing variants)."""
    items: Any = data.get(outer) or []
    if isinstance(items, dict):
        items = items.get(inner) or []
    if isinstance(items, dict):
        items = [items]
    return [str(item.get(field)) for item in items if isinstance(item, dict) and item.get(field) is not None]


def _body(call: Call, model: type[BaseModel]) -> Any:
    return call.interpret(validate, model, call.json())


def bind_aliases(call: Call) -> HttpResponse:
    body = _body(call, schemas.AliasesBody)
    return _done(call, "BindAlias", {"DeviceId": call.params["deviceId"], "AliasName": ",".join(body.aliases)})


def unbind_aliases(call: Call) -> HttpResponse:
    body = _body(call, schemas.UnbindAliasesBody)
    params = {"DeviceId": call.params["deviceId"]}
    if body.all:
        params["UnbindAll"] = "true"
    else:
        params["AliasName"] = ",".join(body.aliases)
    return _done(call, "UnbindAlias", params)


def query_aliases(call: Call) -> HttpResponse:
    response = call.client().call("QueryAliases", {"DeviceId": call.params["deviceId"]})
    aliases = _names(response.data, "AliasInfos", "AliasInfo", "AliasName")
    return HttpResponse.json(200, {"aliases": aliases, "requestId": response.request_id})


def bind_tags(call: Call) -> HttpResponse:
    body = _body(call, schemas.TagsBody)
    params = {"ClientKey": call.params["deviceId"], "KeyType": "DEVICE", "TagName": ",".join(body.tags)}
    return _done(call, "BindTag", params)


def unbind_tags(call: Call) -> HttpResponse:
    body = _body(call, schemas.TagsBody)
    params = {"ClientKey": call.params["deviceId"], "KeyType": "DEVICE", "TagName": ",".join(body.tags)}
    return _done(call, "UnbindTag", params)


def query_tags(call: Call) -> HttpResponse:
    response = call.client().call("QueryTags", {"ClientKey": call.params["deviceId"], "KeyType": "DEVICE"})
    tags = _names(response.data, "TagInfos", "TagInfo", "TagName")
    return HttpResponse.json(200, {"tags": tags, "requestId": response.request_id})


def list_tags(call: Call) -> HttpResponse:
    response = call.client().call("ListTags", {})
    tags = _names(response.data, "TagInfos", "TagInfo", "TagName")
    return HttpResponse.json(200, {"tags": tags, "requestId": response.request_id})


def remove_tag(call: Call) -> HttpResponse:
    return _done(call, "RemoveTag", {"TagName": call.params["tagName"]})


# --- service ---------------------------------------------------------------------------------------


def health(call: Call) -> HttpResponse:
    # Deliberately touches no dependency: a health probe must not build a client or open the store.
    return HttpResponse.json(200, {"status": "ok", "version": __version__})


def openapi(call: Call) -> HttpResponse:
    from pushfn.http.openapi import openapi_document

    return HttpResponse.json(200, openapi_document())


_PUSH_ERRORS = (400, 409, 413, 415, 422, 502, 503, 504)
_CALL_ERRORS = (400, 413, 415, 502, 503, 504)

ROUTES: tuple[Route, ...] = (
    Route("POST", "/push", push, "push", "Send one push (parameters or a named template)",
          body="PushBody", success=(202, "Accepted"), errors=_PUSH_ERRORS),
    Route("POST", "/mass-push", mass_push, "massPush", "Send up to 100 personalised pushes",
          body="MassPush", success=(202, "MassAccepted"), errors=_PUSH_ERRORS),
    Route("GET", "/devices/{deviceId}/aliases", query_aliases, "queryAliases", "Aliases bound to a device",
          success=(200, "AliasList"), errors=(400, 502, 503, 504)),
    Route("POST", "/devices/{deviceId}/aliases", bind_aliases, "bindAliases", "Bind aliases to a device",
          body="AliasesBody", errors=_CALL_ERRORS),
    Route("POST", "/devices/{deviceId}/aliases/unbind", unbind_aliases, "unbindAliases",
          "Unbind some or all aliases of a device", body="UnbindAliasesBody", errors=_CALL_ERRORS),
    Route("GET", "/devices/{deviceId}/tags", query_tags, "queryTags", "Tags bound to a device",
          success=(200, "TagList"), errors=(400, 502, 503, 504)),
    Route("POST", "/devices/{deviceId}/tags", bind_tags, "bindTags", "Bind tags to a device",
          body="TagsBody", errors=_CALL_ERRORS),
    Route("POST", "/devices/{deviceId}/tags/unbind", unbind_tags, "unbindTags", "Unbind tags from a device",
          body="TagsBody", errors=_CALL_ERRORS),
    Route("GET", "/tags", list_tags, "listTags", "All tags of the app",
          success=(200, "TagList"), errors=(502, 503, 504)),
    Route("DELETE", "/tags/{tagName}", remove_tag, "removeTag", "Delete a tag from the app",
          errors=(400, 502, 503, 504)),
    Route("GET", "/health", health, "health", "Liveness probe", public=True, success=(200, "Health")),
    Route("GET", "/openapi.json", openapi, "openapi", "This API description (OpenAPI 3.1)", public=True,
          success=(200, "OpenAPI")),
)  # fmt: skip
