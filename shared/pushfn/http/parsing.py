"""Reading a request body: media type, size, strict JSON, and pydantic errors as field problems."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from pushfn.http.problems import (
    invalid_request,
    malformed_json,
    payload_too_large,
    unsupported_media_type,
)
from pushfn.json_input import JsonInputError, decode_json, describe_json_type
from pushfn.push.errors import FieldProblem
from pushfn.triggers.http import HttpRequest


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
    """``model.model_validate(data)``, with pydantic errors as a 400 naming each field and rule."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        known = _field_names(model)
        raise invalid_request(problems_from_validation(exc, known, prefix=prefix)) from None


def problems_from_validation(exc: ValidationError, known: Iterable[str] = (), prefix: str = "") -> list[FieldProblem]:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"])
        field = f"{prefix}{location}" if location else (prefix.rstrip(".") or "body")
        if error["type"] == "extra_forbidden":
            problems.append(unknown_field(field, str(error["loc"][-1]), known))
        else:
            problems.append(FieldProblem(field, error["type"], error["msg"]))
    return problems


def unknown_field(field: str, name: str, known: Iterable[str]) -> FieldProblem:
    """An unknown field, with a "did you mean" hint when a known name is close."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return FieldProblem(field, "unknown_field", f"unknown field {name[:64]!r}{hint}")


def _field_names(model: type[BaseModel]) -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        names.append(info.alias or name)
    return names


__all__ = [
    "check_json_media_type",
    "check_size",
    "parse_json_object",
    "problems_from_validation",
    "unknown_field",
    "validate",
]
