"""Reading a request body: media type, size, strict JSON, and pydantic errors as field problems.

``problems_from_validation`` and ``unknown_field`` are re-exported from :mod:`pushfn.problems`, the one
translator of every input path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pushfn.http.problems import (
    invalid_request,
    malformed_json,
    payload_too_large,
    unsupported_media_type,
)
from pushfn.json_input import JsonInputError, decode_json, describe_json_type
from pushfn.problems import problems_from_validation, unknown_field
from pushfn.triggers.http import HttpRequest

if TYPE_CHECKING:
    from pydantic import BaseModel


def check_size(request: HttpRequest, limit: int) -> None:
    """413 when the body (or the length a WSGI client announced) is over ``limit`` bytes."""
    if len(request.body) > limit or (request.declared_length or 0) > limit:
        raise payload_too_large(limit)


def check_json_media_type(request: HttpRequest) -> None:
    """415 unless ``Content-Type`` is ``application/json`` (or ``+json``) in UTF-8."""
    raw = request.headers.get("content-type")
    if not raw:
        raise unsupported_media_type(None)
    media_type, *params = (part.strip() for part in raw.split(";"))
    media_type = media_type.lower()
    if not (
        media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))
    ):
        raise unsupported_media_type(raw[:100])
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise unsupported_media_type(raw[:100])


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, decoded by :func:`pushfn.json_input.decode_json` (the one decoder of
    every input path: BOM dropped, strict UTF-8, no duplicate keys, no NaN, bounded depth, string size
    and numbers, no lone surrogates).

    Raises the 400 ``malformed-json`` problem naming the rule and the field: ``body`` for the document
    itself, else the dotted path of the offending value (``PushTask.1.Title``).
    """
    if not body.strip():
        raise malformed_json("the body is empty; send a JSON object", rule="required")
    try:
        value = decode_json(body)
    except JsonInputError as exc:
        raise malformed_json(exc.detail, rule=exc.rule, field=exc.path or "body") from None
    if not isinstance(value, dict):
        raise malformed_json(f"the body must be a JSON object, not {describe_json_type(value)}", rule="type")
    return value


def validate(model: type[BaseModel], data: Any, *, prefix: str = "") -> Any:
    """``model.model_validate(data)``; pydantic errors become the 400 ``invalid-request`` problem naming
    each field (JSON path, positions from 0, ``prefix`` first) and rule (pydantic's error type, or
    ``unknown_field`` with a "did you mean" hint), as :func:`pushfn.problems.problems_from_validation` words them."""
    from pydantic import ValidationError  # only routes with a body model get here; the push routes do not

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_request(problems_from_validation(exc, model, prefix=prefix)) from None


__all__ = [
    "check_json_media_type",
    "check_size",
    "parse_json_object",
    "problems_from_validation",
    "unknown_field",
    "validate",
]
