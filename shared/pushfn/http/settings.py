"""Settings of the HTTP function, taken from the process's :class:`~pushfn.settings.Settings` (one read
of the environment, at cold start).

=============================  ===========================================================  ==========
variable                       meaning                                                      default
=============================  ===========================================================  ==========
``PUSHFN_HTTP_AUTH``           ``required`` (webhook signature or API key) or ``none``        required
``PUSHFN_WEBHOOK_SECRETS``     comma-separated Standard Webhooks secrets (``whsec_<base64>``;  —
                               any other value is used as its UTF-8 bytes); several = rotation;
                               each at least 24 bytes
``PUSHFN_API_KEYS``            comma-separated ``tenant:<sha256 hex of the key>``              —
                               (``pushfn.http.hash_api_key(key)`` computes the hash; keys
                               are at least 24 bytes)
``PUSHFN_HTTP_MAX_BODY_BYTES`` largest accepted body                                          262144
``PUSHFN_HTTP_DEDUPE_SECONDS`` window in which an identical request without an                60
                               ``Idempotency-Key`` is answered from the first (0 = off)
``PUSHFN_WEBHOOK_TOLERANCE``   seconds a ``webhook-timestamp`` may differ from now            300
``PUSHFN_IDEMPOTENCY_TTL``     seconds an ``Idempotency-Key`` is remembered                   86400
``PUSHFN_HTTP_BASE_PATH``      prefix stripped before routing (e.g. ``/api``)                 —
=============================  ===========================================================  ==========

The templates (``PUSHFN_TEMPLATES``) are the runtime's (:meth:`pushfn.runtime.Runtime.templates`),
loaded once for every function of the process.

A weak or malformed secret is a configuration error, never a usable key: a ``whsec_`` secret that is
not base64, a secret (or API key) under :data:`MIN_SECRET_BYTES` bytes — the Standard Webhooks minimum —
an empty entry in a comma list (``whsec_a…,,whsec_b…``, a trailing comma), or an API key entry that is
not ``tenant:<64 lowercase hex>``. :meth:`HttpSettings.from_settings` raises
:class:`~pushfn.push.errors.ConfigurationError` for each (the message never echoes the value), and the
function then answers every request with the ``misconfigured`` problem until the operator fixes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pushfn.errors import ConfigurationError
from pushfn.settings import Settings

AUTH_REQUIRED = "required"
AUTH_NONE = "none"

_TENANT = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_WHSEC = "whsec_"

#: Shortest webhook secret or API key accepted, in bytes (the Standard Webhooks minimum: 24 bytes).
MIN_SECRET_BYTES = 24


def hash_api_key(key: str) -> str:
    """The hex SHA-256 of an API key: what ``PUSHFN_API_KEYS`` stores instead of the key itself.

    Raises :class:`ValueError` for a key shorter than :data:`MIN_SECRET_BYTES` UTF-8 bytes (or that is
    not Unicode text): such a key is guessable, so it must never be configured.
    """
    try:
        raw = key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("an API key must be Unicode text") from None
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(f"an API key must be at least {MIN_SECRET_BYTES} bytes (got {len(raw)})")
    return hashlib.sha256(raw).hexdigest()


def webhook_secret_bytes(secret: str, *, position: int | None = None) -> bytes:
    """HMAC key of a secret: ``whsec_<base64>`` is decoded (Standard Webhooks); anything else is UTF-8.

    Raises :class:`ConfigurationError` when a ``whsec_`` secret is not base64 or the key is shorter
    than :data:`MIN_SECRET_BYTES` bytes; ``position`` (1-based, in ``PUSHFN_WEBHOOK_SECRETS``) is named
    in the message, the secret never is.
    """
    where = f"PUSHFN_WEBHOOK_SECRETS entry {position}" if position else "PUSHFN_WEBHOOK_SECRETS"
    if secret.startswith(_WHSEC):
        try:
            raw = base64.b64decode(secret[len(_WHSEC) :], validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(f"{where}: a whsec_ secret must be base64 after 'whsec_'") from None
    else:
        try:
            raw = secret.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigurationError(f"{where}: the secret is not Unicode text") from None
    if len(raw) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"{where}: the secret is {len(raw)} bytes; at least {MIN_SECRET_BYTES} are required "
            "(whsec_ followed by the base64 of 24-64 random bytes)"
        )
    return raw


def parse_webhook_secrets(value: str) -> tuple[bytes, ...]:
    """``PUSHFN_WEBHOOK_SECRETS`` → HMAC keys; unset or blank → none. Raises :class:`ConfigurationError`
    for an empty entry (``a,,b`` or a trailing comma) or a weak or malformed secret."""
    if not value.strip():
        return ()
    secrets = []
    for position, item in enumerate((i.strip() for i in value.split(",")), start=1):
        if not item:
            raise ConfigurationError(f"PUSHFN_WEBHOOK_SECRETS entry {position} is empty (a stray comma?)")
        secrets.append(webhook_secret_bytes(item, position=position))
    return tuple(secrets)


@dataclass(frozen=True)
class HttpSettings:
    """The HTTP function's settings (the table in the module docstring); times in seconds, sizes in bytes.

    ``webhook_secrets`` are HMAC keys (bytes, each at least :data:`MIN_SECRET_BYTES`); ``api_keys`` maps
    the SHA-256 hex of each key to its tenant. Built in code, the same rules hold: a weak secret or a
    malformed key entry raises :class:`~pushfn.push.errors.ConfigurationError`.
    """

    auth: str = AUTH_REQUIRED
    webhook_secrets: tuple[bytes, ...] = ()
    #: sha256 hex (lower case) of each key → the tenant it names.
    api_keys: Mapping[str, str] = field(default_factory=dict)
    max_body_bytes: int = 256 * 1024
    dedupe_seconds: int = 60
    webhook_tolerance_seconds: int = 300
    idempotency_ttl_seconds: int = 86400
    base_path: str = ""

    def __post_init__(self) -> None:
        # Settings built in code get the same rules as the environment: a weak key never authenticates.
        for position, secret in enumerate(self.webhook_secrets, start=1):
            if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
                raise ConfigurationError(f"webhook secret {position} must be at least {MIN_SECRET_BYTES} bytes")
        for position, (digest, tenant) in enumerate(self.api_keys.items(), start=1):
            if not _SHA256_HEX.match(digest) or not _TENANT.match(tenant):
                raise ConfigurationError(f"API key {position} must map 64 lowercase hex chars to a tenant name")

    @property
    def anonymous(self) -> bool:
        """True when ``PUSHFN_HTTP_AUTH=none``: requests need no signature or API key."""
        return self.auth == AUTH_NONE

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpSettings:
        """The HTTP function's part of ``settings`` (typed and range-checked there), with the secrets
        and API keys parsed and checked here. Raises :class:`ConfigurationError` (see the module docstring)."""
        base_path = (settings.pushfn_http_base_path or "").strip().rstrip("/")
        if base_path and not base_path.startswith("/"):
            base_path = "/" + base_path
        return cls(
            auth=settings.pushfn_http_auth,
            webhook_secrets=parse_webhook_secrets(settings.pushfn_webhook_secrets or ""),
            api_keys=parse_api_keys(settings.pushfn_api_keys or ""),
            max_body_bytes=settings.pushfn_http_max_body_bytes,
            dedupe_seconds=settings.pushfn_http_dedupe_seconds,
            webhook_tolerance_seconds=settings.pushfn_webhook_tolerance,
            idempotency_ttl_seconds=settings.pushfn_idempotency_ttl,
            base_path=base_path,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HttpSettings:
        """:meth:`from_settings` of ``Settings.from_env(env)`` (default: the process environment).
        Raises :class:`ConfigurationError` (a malformed variable is a :class:`~pushfn.settings.SettingsError`)."""
        return cls.from_settings(Settings.from_env(env))


def parse_api_keys(value: str) -> dict[str, str]:
    """``"tenant-a:<sha256hex>,tenant-b:<sha256hex>"`` → ``{hash: tenant}``; unset or blank → none.

    Each entry must be ``tenant:<64 lowercase hex>`` with a tenant of 1-64 letters, digits or
    ``_ . : @ -``; anything else — a raw key, an empty entry, upper-case hex — raises
    :class:`ConfigurationError` naming the entry's position, never its value.
    """
    keys: dict[str, str] = {}
    if not value.strip():
        return keys
    for position, item in enumerate((i.strip() for i in value.split(",")), start=1):
        if not item:
            raise ConfigurationError(f"PUSHFN_API_KEYS entry {position} is empty (a stray comma?)")
        tenant, sep, digest = item.rpartition(":")
        if not sep or not _TENANT.match(tenant) or not _SHA256_HEX.match(digest):
            # Never echo the item: it may be a raw key pasted by mistake.
            raise ConfigurationError(
                f"PUSHFN_API_KEYS entry {position} must be 'tenant:<64 lowercase hex chars of sha256(key)>' "
                "(tenant: 1-64 letters, digits or _ . : @ -)"
            )
        if digest in keys:
            # One key naming two tenants would silently belong to whichever came last.
            raise ConfigurationError(f"PUSHFN_API_KEYS entry {position} repeats the key hash of an earlier entry")
        keys[digest] = tenant
    return keys
