"""Keys: validation, scoping, payload hashing and the provider-side token.

A key is checked *before* any lookup (IETF draft: validate the format first), then scoped as
``function#scope#key`` so two functions, or two callers, using the same key never see each other's
record. Function names and scopes may not contain ``#``, which keeps that composite unambiguous.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pushfn.idempotency.exceptions import IdempotencyKeyError
from pushfn.logs import mask

MAX_KEY_LENGTH = 255
MAX_NAME_LENGTH = 128
SEPARATOR = "#"
#: Scope used when a function has no notion of caller (timers, queues owned by one team).
DEFAULT_SCOPE = "-"
#: How long CloudPush (and the emulator) drop a repeated ``IdempotentToken``.
PROVIDER_TOKEN_WINDOW_SECONDS = 15 * 60


def validate_key(key: object) -> str:
    """1–255 printable characters (no control characters, no newline)."""
    if not isinstance(key, str):
        raise IdempotencyKeyError("idempotency key must be a string")
    if not key or not key.strip():
        raise IdempotencyKeyError("idempotency key is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyError(f"idempotency key is longer than {MAX_KEY_LENGTH} characters ({len(key)})")
    if not key.isprintable():
        raise IdempotencyKeyError(f"idempotency key {mask(key)} contains non-printable characters")
    return key


#: Characters a caller may append to a fitted key (``#<index>`` of a list item).
ITEM_SUFFIX_RESERVE = 15


def fit_key(raw: str, *, reserve: int = ITEM_SUFFIX_RESERVE) -> str:
    """``raw`` as a valid key with ``reserve`` characters to spare: itself when it already is one, else
    ``sha256:<64 hex>`` of it (deterministic, so every redelivery of the same id gets the same key).

    For identifiers that platforms hand us (message ids, trigger names): any text, including control
    characters, lone surrogates or 10,000 characters, becomes a usable key instead of an error. A
    blank identifier is not one; callers should treat it as absent.
    """
    if raw.strip() and len(raw) <= MAX_KEY_LENGTH - reserve and raw.isprintable():
        return raw
    return _digest(raw)


def fit_name(raw: str) -> str:
    """``raw`` as a valid scope or function name (printable, no ``#``, ≤ 128 characters), like :func:`fit_key`."""
    if raw.strip() and len(raw) <= MAX_NAME_LENGTH and raw.isprintable() and SEPARATOR not in raw:
        return raw
    return _digest(raw)


def validate_name(value: object, what: str) -> str:
    """Function names and scopes: 1–128 printable characters without ``#``."""
    if not isinstance(value, str) or not value.strip():
        raise IdempotencyKeyError(f"idempotency {what} is empty")
    if len(value) > MAX_NAME_LENGTH:
        raise IdempotencyKeyError(f"idempotency {what} is longer than {MAX_NAME_LENGTH} characters")
    if not value.isprintable() or SEPARATOR in value:
        raise IdempotencyKeyError(f"idempotency {what} {mask(value)} must be printable and contain no '#'")
    return value


#: The longest scoped key handed to a store, in UTF-8 bytes: Tablestore's limit on a string primary-key
#: column, 1 KB (https://help.aliyun.com/en/tablestore/product-overview/general-limits-of-tablestore/),
#: the tightest of the stores (DynamoDB allows 2,048 bytes for a partition key,
#: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html). 255 characters
#: of 4-byte UTF-8 are 1,020 bytes: a valid key alone can reach it.
MAX_STORED_KEY_BYTES = 1024


def scoped_key(function_name: str, scope: str, key: str) -> str:
    """``function_name#scope#key``, the key records are stored under, after checking each part.

    At most :data:`MAX_STORED_KEY_BYTES` UTF-8 bytes: when the parts are longer (non-ASCII text near
    the length limits), the key, then if need be the scope, are replaced by ``sha256:<64 hex>`` of
    themselves (a function name alone is at most 512 bytes) — deterministic, so the same key always
    finds the same record, and every ordinary key is stored as it reads.

    Raises :class:`IdempotencyKeyError` when a name or scope is not 1-128 printable characters without
    ``#``, or the key is not 1-255 printable characters.
    """
    parts = [validate_name(function_name, "function name"), validate_name(scope, "scope"), validate_key(key)]
    for index in (2, 1):
        if sum(len(part.encode("utf-8")) for part in parts) + 2 <= MAX_STORED_KEY_BYTES:
            break
        parts[index] = _digest(parts[index])
    return SEPARATOR.join(parts)


def _digest(text: str) -> str:
    # surrogatepass: platform identifiers given to fit_key may carry lone surrogates.
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def split_scoped_key(value: str) -> tuple[str, str, str]:
    """Inverse of :func:`scoped_key` (for operators pasting a stored key into ``pushfn store show``)."""
    parts = value.split(SEPARATOR, 2)
    if len(parts) != 3:
        raise IdempotencyKeyError("a scoped key looks like FUNCTION#SCOPE#KEY")
    function_name, scope, key = parts
    scoped_key(function_name, scope, key)
    return function_name, scope, key


def new_token() -> str:
    """A fresh CloudPush ``IdempotentToken`` (random UUID) for a new record: one per life of a key.

    The token must change whenever the guard decides a *new* push is due (key never seen, record
    expired, or deleted after a definite failure): CloudPush drops a repeated token for 15 minutes, so
    a token derived from the key alone would silently swallow every legitimate repeat inside that
    window. Only a takeover of a stale IN_PROGRESS record (a crash or an ambiguous failure) reuses the
    stored token, which is what lets CloudPush de-duplicate a push that may already have gone out.
    """
    return str(uuid.uuid4())


def select_fields(payload: Any, fields: Iterable[str] | None) -> Any:
    """The declared subset of ``payload`` that the hash covers (dotted paths; absent ones hash as null).

    Hashing a whole platform event would make a changed header look like a new request (Powertools'
    "choosing a payload subset"), so functions declare which fields define "the same push".
    """
    if fields is None:
        return payload
    data = _plain(payload)
    selected: dict[str, Any] = {}
    for path in fields:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        selected[path] = value
    return selected


def payload_hash(payload: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no spaces): equal data always gives the same hash."""
    canonical = json.dumps(_plain(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """Pydantic models and dataclasses become their JSON form; everything else must already be JSON."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value
