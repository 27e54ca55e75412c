"""Who is calling: a Standard Webhooks signature, a bearer API key, or (only if configured) anyone.

Webhooks (https://www.standardwebhooks.com): ``webhook-signature`` holds space-separated
``v1,<base64 HMAC-SHA256>`` over ``"{webhook-id}.{webhook-timestamp}.{raw body}"``. Any signature
matching any configured secret is accepted, so secrets can rotate without downtime; the timestamp
must be within the tolerance in both directions (a captured request cannot be replayed later, and a
forged future one cannot be banked). Replays *inside* the window are handled by idempotency: the
signed ``webhook-id`` is the request's idempotency key, always. An ``Idempotency-Key`` header on a
signed request is ignored (it is not covered by the signature, so anyone replaying a captured request
could change it and push again); the answer says so with ``Idempotency-Key-Ignored: true``.

With ``PUSHFN_HTTP_AUTH=none`` anyone may call, yet a request whose signature verifies is still keyed
on its signed ``webhook-id``, so the same rule holds there.

API keys: ``Authorization: Bearer <key>``; the function stores only SHA-256 hashes, each naming the
tenant that owns the key (``PUSHFN_API_KEYS``). All comparisons are constant-time. Secrets and keys
under 24 bytes are refused when the settings are read (:mod:`pushfn.http.settings`), so a weak key
never authenticates anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from pushfn.http.problems import HttpProblem, unauthorized
from pushfn.http.settings import MIN_SECRET_BYTES, HttpSettings, hash_api_key
from pushfn.idempotency.keys import MAX_KEY_LENGTH
from pushfn.triggers.http import HttpRequest

WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
WEBHOOK_HEADERS = (WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE)

#: Idempotency scope of webhook callers: one signing party per function.
WEBHOOK_TENANT = "webhook"
ANONYMOUS_TENANT = "anonymous"
_MAX_SIGNATURES = 16


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: ``tenant`` names it in logs; ``method`` says how it authenticated."""

    tenant: str
    method: str  # "api-key" | "webhook" | "none"
    webhook_id: str | None = None

    @property
    def idempotency_scope(self) -> str:
        """The scope of this caller's idempotency keys: API-key tenants live under ``key:<tenant>``.

        Namespaced by how the caller authenticated, so no tenant name (``webhook``, ``anonymous``…)
        can ever share the signed webhooks' or the anonymous callers' keys.
        """
        return f"key:{self.tenant}" if self.method == "api-key" else self.tenant


def authenticate(request: HttpRequest, settings: HttpSettings, now: float) -> Principal:
    """The caller of ``request``, or :class:`HttpProblem` 401.

    With ``PUSHFN_HTTP_AUTH=none`` nobody is refused, but a request whose webhook signature verifies
    against a configured secret is still the signed webhook's: its key is the signed ``webhook-id``
    (a sender's retries, or a replay with a fresh ``Idempotency-Key``, do not push again). Any other
    request, a badly signed one included, is anonymous.
    """
    if settings.anonymous:
        signed = settings.webhook_secrets and any(name in request.headers for name in WEBHOOK_HEADERS)
        if signed:
            try:
                webhook_id = verify_webhook(request, settings.webhook_secrets, now, settings.webhook_tolerance_seconds)
            except HttpProblem:
                return Principal(ANONYMOUS_TENANT, "none")
            return Principal(WEBHOOK_TENANT, "webhook", webhook_id=webhook_id)
        return Principal(ANONYMOUS_TENANT, "none")
    authorization = request.headers.get("authorization")
    if authorization is not None:
        return Principal(_api_key_tenant(authorization, settings), "api-key")
    if any(name in request.headers for name in WEBHOOK_HEADERS):
        webhook_id = verify_webhook(request, settings.webhook_secrets, now, settings.webhook_tolerance_seconds)
        return Principal(WEBHOOK_TENANT, "webhook", webhook_id=webhook_id)
    raise unauthorized(
        "send 'Authorization: Bearer <api key>' or Standard Webhooks signature headers", "missing_credentials"
    )


def _api_key_tenant(authorization: str, settings: HttpSettings) -> str:
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise unauthorized("the Authorization header must be 'Bearer <api key>'", "scheme")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not text, so not any configured key
        raise unauthorized("the API key is not valid", "invalid_api_key") from None
    if len(encoded) < MIN_SECRET_BYTES:
        # A short key is refused even when its hash is configured (a hash made outside hash_api_key
        # cannot be checked for length): such a key is guessable, whatever the settings say.
        raise unauthorized("the API key is not valid", "invalid_api_key")
    presented = hashlib.sha256(encoded).hexdigest().encode("ascii")
    tenant = None
    # Compare against every stored hash, so timing says nothing about which one (if any) matched.
    for digest, owner in settings.api_keys.items():
        if hmac.compare_digest(presented, digest.encode("ascii")):
            tenant = owner
    if tenant is None:
        raise unauthorized("the API key is not valid", "invalid_api_key")
    return tenant


def sign_webhook(secret: bytes, webhook_id: str, timestamp: int | str, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body`` — what a sender puts in ``webhook-signature``."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret, content, hashlib.sha256).digest()).decode("ascii")


def verify_webhook(request: HttpRequest, secrets: tuple[bytes, ...], now: float, tolerance: int) -> str:
    """Check the three webhook headers against ``secrets``; return the ``webhook-id`` or raise 401."""
    values = {}
    for name in WEBHOOK_HEADERS:
        value = (request.headers.get(name) or "").strip()
        if not value:
            raise unauthorized(f"the {name} header is missing", "missing_header", field=name)
        values[name] = value
    webhook_id, timestamp = values[WEBHOOK_ID], values[WEBHOOK_TIMESTAMP]
    if len(webhook_id) > MAX_KEY_LENGTH or not webhook_id.isprintable():  # it becomes the idempotency key
        raise unauthorized(f"webhook-id must be 1-{MAX_KEY_LENGTH} printable characters", "format", field=WEBHOOK_ID)
    # ASCII digits only: int() would also take "+1700000000", "1_700_000_000" or full-width and
    # Arabic-Indic digits, none of which a Standard Webhooks sender writes. The bound keeps int()
    # off huge numbers (20 digits reach far past any tolerance).
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 20):
        raise unauthorized("webhook-timestamp must be integer Unix seconds", "format", field=WEBHOOK_TIMESTAMP)
    sent_at = int(timestamp)
    if sent_at < now - tolerance:
        raise unauthorized(
            f"webhook-timestamp is more than {tolerance} s in the past", "timestamp_too_old", field=WEBHOOK_TIMESTAMP
        )
    if sent_at > now + tolerance:
        raise unauthorized(
            f"webhook-timestamp is more than {tolerance} s in the future", "timestamp_too_new", field=WEBHOOK_TIMESTAMP
        )
    if not secrets:
        raise unauthorized("this function has no webhook secret configured", "no_secret", field=WEBHOOK_SIGNATURE)
    offered = [
        part.split(",", 1)[1].encode("ascii", "replace")
        for part in values[WEBHOOK_SIGNATURE].split()[:_MAX_SIGNATURES]
        if part.startswith("v1,")
    ]
    matched = False
    # Settings refuse short secrets; checked again here so a weak key can never authenticate.
    for secret in (s for s in secrets if len(s) >= MIN_SECRET_BYTES):
        expected = sign_webhook(secret, webhook_id, timestamp, request.body)[3:].encode("ascii")
        for candidate in offered:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise unauthorized("no webhook signature matches", "signature_mismatch", field=WEBHOOK_SIGNATURE)
    return webhook_id


__all__ = [
    "ANONYMOUS_TENANT",
    "WEBHOOK_HEADERS",
    "WEBHOOK_TENANT",
    "Principal",
    "authenticate",
    "hash_api_key",
    "sign_webhook",
    "verify_webhook",
]
