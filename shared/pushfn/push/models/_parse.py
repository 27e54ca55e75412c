"""``parse_request``: action name + mapping (or model) -> validated request model."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from pushfn.problems import did_you_mean
from pushfn.push.errors import FieldProblem, InvalidRequestError
from pushfn.push.models._base import ApiRequest
from pushfn.push.models._errors import invalid_request_error


def _push_models() -> dict[str, type[ApiRequest]]:
    from pushfn.push.models._push import MassPush, Push

    return {Push.action: Push, MassPush.action: MassPush}


def _device_models() -> dict[str, type[ApiRequest]]:
    from pushfn.push.models._devices import DEVICE_REQUESTS

    return {model.action: model for model in DEVICE_REQUESTS}


def _model_for(action: str) -> type[ApiRequest] | None:
    # Building a model's schema is the costly part of a cold start: a function that only pushes
    # never builds the device-association models, and vice versa.
    if action in ("Push", "MassPush"):
        return _push_models()[action]
    return _device_models().get(action)


def request_types() -> dict[str, type[ApiRequest]]:
    """Every supported action and its model (builds them all)."""
    return {**_push_models(), **_device_models()}


def __getattr__(name: str) -> object:
    if name == "REQUEST_TYPES":
        return request_types()
    raise AttributeError(name)


def parse_request(
    action: str,
    data: Mapping[str, Any] | ApiRequest,
    *,
    app_key: int | None = None,
    now: datetime | None = None,
) -> ApiRequest:
    """Validate ``data`` as the parameters of ``action``.

    ``app_key`` fills ``AppKey`` when the data has none. ``now`` is the reference time of the
    PushTime/ExpireTime rules (default: the current time). Raises :class:`InvalidRequestError`
    listing every problem, each naming the API field (``Title``, ``PushTask.3.Title``).
    """
    model = _model_for(action) if isinstance(action, str) else None
    if model is None:
        named = action if isinstance(action, str) else ""
        hint = did_you_mean(named, request_types()) if named else None
        shown = ascii(named[:64]) if named else f"of type {type(action).__name__}"
        message = f"unknown or unsupported action {shown}" + (f"; did you mean {hint!r}?" if hint else "")
        raise InvalidRequestError(
            [FieldProblem("Action", "unknown_action", message)],
            named if named.isprintable() and len(named) <= 64 else None,
        )
    if isinstance(data, ApiRequest):
        if not isinstance(data, model):
            message = f"a {type(data).__name__} request cannot be sent as {action}"
            raise InvalidRequestError([FieldProblem("Action", "mismatch", message)], action)
        # Re-validate from the wire form: applies app_key and the time rules against `now`.
        data = data.model_dump(by_alias=True, exclude_none=True)
    if not isinstance(data, Mapping):
        message = f"parameters must be a mapping; got {type(data).__name__}"
        raise InvalidRequestError([FieldProblem("(request)", "type", message)], action)

    params = dict(data)
    if app_key is not None and "AppKey" not in params and "app_key" not in params:
        params["AppKey"] = app_key
    problems: list[FieldProblem] = []
    if params.get("AppKey", params.get("app_key")) is None:
        problems.append(FieldProblem("AppKey", "required", "is required (pass it, or configure the client's app key)"))
        params.pop("AppKey", None)
        params.pop("app_key", None)
    context = {"now": now if now is not None else datetime.now(timezone.utc)}
    try:
        request = model.model_validate(params, context=context)
    except ValidationError as exc:
        # Not chained: the pydantic error holds the raw input, which may be too deep to print.
        raise InvalidRequestError(problems + invalid_request_error(exc, model).problems, action) from None
    if problems:
        raise InvalidRequestError(problems, action)
    return request
