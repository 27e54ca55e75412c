"""Settings of the HTTP function, read from the environment once per process (at cold start).

=============================  ===========================================================  ==========
variable                       meaning                                                      default
=============================  ===========================================================  ==========
``PUSHFN_HTTP_AUTH``           ``required`` (webhook signature or API key) or ``none``        required
``PUSHFN_WEBHOOK_SECRETS``     comma-separated Standard Webhooks secrets (``whsec_<base64>``;  —
                               any other value is used as its UTF-8 bytes); several = rotation
``PUSHFN_API_KEYS``            comma-separated ``tenant:<sha256 hex of the key>``              —
                               (``pushfn.http.hash_api_key(key)`` computes the hash)
``PUSHFN_HTTP_MAX_BODY_BYTES`` largest accepted body                                          262144
``PUSHFN_HTTP_DEDUPE_SECONDS`` window in which an identical request without an                60
                               ``Idempotency-Key`` is answered from the first (0 = off)
``PUSHFN_WEBHOOK_TOLERANCE``   seconds a ``webhook-timestamp`` may differ from now            300
``PUSHFN_IDEMPOTENCY_TTL``     seconds an ``Idempotency-Key`` is remembered                   86400
``PUSHFN_HTTP_BASE_PATH``      prefix stripped before routing (e.g. ``/api``)                 —
``PUSHFN_TEMPLATES``           message templates, see :mod:`pushfn.specs.templates`           —
=============================  ===========================================================  ==========
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pushfn.push.errors import ConfigurationError

AUTH_REQUIRED = "required"
AUTH_NONE = "none"

_TENANT = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
_SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_WHSEC = "whsec_"


def hash_api_key(key: str) -> str:
    """The hex SHA-256 of an API key: what ``PUSHFN_API_KEYS`` stores instead of the key itself."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def webhook_secret_bytes(secret: str) -> bytes:
    """HMAC key of a secret: ``whsec_<base64>`` is decoded (Standard Webhooks); anything else is UTF-8."""
    if secret.startswith(_WHSEC):
        try:
            return base64.b64decode(secret[len(_WHSEC) :], validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError("PUSHFN_WEBHOOK_SECRETS: a whsec_ secret is not valid base64") from None
    return secret.encode("utf-8")


@dataclass(frozen=True)
class HttpSettings:
    auth: str = AUTH_REQUIRED
    webhook_secrets: tuple[bytes, ...] = ()
    #: sha256 hex (lower case) of each key → the tenant it names.
    api_keys: Mapping[str, str] = field(default_factory=dict)
    max_body_bytes: int = 256 * 1024
    dedupe_seconds: int = 60
    webhook_tolerance_seconds: int = 300
    idempotency_ttl_seconds: int = 86400
    base_path: str = ""
    templates_source: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.auth == AUTH_NONE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HttpSettings:
        env = os.environ if env is None else env
        auth = (env.get("PUSHFN_HTTP_AUTH") or AUTH_REQUIRED).strip().lower()
        if auth not in (AUTH_REQUIRED, AUTH_NONE):
            raise ConfigurationError("PUSHFN_HTTP_AUTH must be 'required' or 'none'")
        base_path = (env.get("PUSHFN_HTTP_BASE_PATH") or "").strip().rstrip("/")
        if base_path and not base_path.startswith("/"):
            base_path = "/" + base_path
        return cls(
            auth=auth,
            webhook_secrets=tuple(
                webhook_secret_bytes(s.strip())
                for s in (env.get("PUSHFN_WEBHOOK_SECRETS") or "").split(",")
                if s.strip()
            ),
            api_keys=parse_api_keys(env.get("PUSHFN_API_KEYS") or ""),
            max_body_bytes=_int(env, "PUSHFN_HTTP_MAX_BODY_BYTES", 256 * 1024, minimum=1),
            dedupe_seconds=_int(env, "PUSHFN_HTTP_DEDUPE_SECONDS", 60, minimum=0),
            webhook_tolerance_seconds=_int(env, "PUSHFN_WEBHOOK_TOLERANCE", 300, minimum=1),
            idempotency_ttl_seconds=_int(env, "PUSHFN_IDEMPOTENCY_TTL", 86400, minimum=1),
            base_path=base_path,
            templates_source=env.get("PUSHFN_TEMPLATES"),
        )


def parse_api_keys(value: str) -> dict[str, str]:
    """``"tenant-a:<sha256hex>,tenant-b:<sha256hex>"`` → ``{hash: tenant}``; a plain key is refused."""
    keys: dict[str, str] = {}
    for position, item in enumerate((i.strip() for i in value.split(",")), start=1):
        if not item:
            continue
        tenant, sep, digest = item.rpartition(":")
        if not sep or not _TENANT.match(tenant) or not _SHA256_HEX.match(digest):
            # Never echo the item: it may be a raw key pasted by mistake.
            raise ConfigurationError(
                f"PUSHFN_API_KEYS entry {position} must be 'tenant:<64 hex chars of sha256(key)>' "
                "(tenant: 1-64 letters, digits or _ . : @ -)"
            )
        keys[digest.lower()] = tenant
    return keys


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}")
    return value
