"""``Idempotency-Key`` over HTTP, per draft-ietf-httpapi-idempotency-key-header.

* same key, same body, first request finished → its stored answer, with ``Idempotent-Replayed: true``;
* same key while the first request is still running → ``409 Conflict`` (retry later, no change needed);
* same key, different body → ``422 Unprocessable Content``;
* keys are scoped per tenant, so two callers can never see each other's answers.

The key of a signed webhook is its ``webhook-id``, always: it is covered by the signature, and an
``Idempotency-Key`` header is not, so on a signed request that header is ignored (answered with
``Idempotency-Key-Ignored: true``) — otherwise a captured request resent with a fresh header would
push again. It is remembered at least as long as the signed request stays valid (twice the
timestamp tolerance), whatever ``PUSHFN_IDEMPOTENCY_TTL`` says. Other callers choose the key with
``Idempotency-Key`` (an SF String ``"..."``; a bare token is accepted too). Without a key, a hash of
the canonical request is the key for a short window (``PUSHFN_HTTP_DEDUPE_SECONDS``): a client
retrying a timed-out call does not push twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pushfn.errors import FieldProblem
from pushfn.http.auth import Principal
from pushfn.http.call import Call, Deps
from pushfn.http.problems import HttpProblem, retry_after_header
from pushfn.idempotency import keys
from pushfn.idempotency.exceptions import (
    IdempotencyConfigError,
    IdempotencyError,
    IdempotencyInProgressError,
    IdempotencyKeyError,
    IdempotencyPayloadMismatchError,
)
from pushfn.logs import mask
from pushfn.triggers.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from pushfn.idempotency import Guard

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
#: Answer header set when a signed request also carried an ``Idempotency-Key`` (which is not used).
IGNORED = "Idempotency-Key-Ignored"
#: What the guard stores for one answered request: ``{"status": 202, "body": {...}}``.
StoredAnswer = dict[str, Any]
#: ``send(idempotent_token)``: push once and return the answer to store; the token is ``None`` when
#: the request runs unguarded (no key and no dedupe window), else the one CloudPush dedupes on.
Send = Callable[[str | None], StoredAnswer]


def bad_key(message: str) -> HttpProblem:
    """400 ``invalid-idempotency-key`` naming the ``Idempotency-Key`` header, rule ``format``; ``message``
    says what is wrong with the key (callers show it masked, if at all)."""
    return HttpProblem(
        400,
        "invalid-idempotency-key",
        "Invalid Idempotency-Key",
        message,
        errors=[FieldProblem(HEADER, "format", message)],
    )


def parse_key(value: str | None) -> str | None:
    """The key from an ``Idempotency-Key`` header value; ``None`` if absent, 400 if malformed."""
    if value is None:
        return None
    value = value.strip()
    quoted = value.startswith('"')
    if quoted:
        value = _sf_string(value)
    if not value:
        raise bad_key("the key is empty")
    # The header's key becomes the guard's key: one limit for both.
    if len(value) > keys.MAX_KEY_LENGTH:
        raise bad_key(f"the key is longer than {keys.MAX_KEY_LENGTH} characters")
    if not all(" " <= ch <= "~" for ch in value):
        raise bad_key("the key must be printable ASCII")
    if "," in value and not quoted:
        # A comma means two header fields were joined (FC / API Gateway do that): the draft allows one.
        raise bad_key("send exactly one Idempotency-Key")
    return value


def _sf_string(value: str) -> str:
    """RFC 8941 sf-string: ``"`` … ``"``, with ``\\"`` and ``\\\\`` the only escapes."""
    out: list[str] = []
    escaped = False
    for index, ch in enumerate(value[1:], start=1):
        if escaped:
            if ch not in '"\\':
                raise bad_key('only \\" and \\\\ may be escaped in a quoted key')
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            if value[index + 1 :].strip():
                raise bad_key("send exactly one Idempotency-Key")
            return "".join(out)
        else:
            out.append(ch)
    raise bad_key("the quoted key has no closing quote")


def request_key(request: HttpRequest, principal: Principal) -> str | None:
    """The request's key: the signed ``webhook-id`` for a signed webhook (an ``Idempotency-Key`` header
    is then ignored), else ``Idempotency-Key`` (400 if malformed), else ``None``."""
    if principal.webhook_id is not None:
        return principal.webhook_id
    return parse_key(request.headers.get(HEADER))


def signed_key_lifetime(tolerance_seconds: int) -> int:
    """Seconds a signed ``webhook-id`` must be remembered: as long as a captured request stays valid.

    A request signed at ``T`` is accepted from ``T - tolerance`` to ``T + tolerance`` (the timestamp
    check works both ways), so its record must outlive its first use by ``2 × tolerance``; one second
    more covers expiries kept in whole seconds. With a shorter ``PUSHFN_IDEMPOTENCY_TTL`` a replay late
    in the window would find the key forgotten and push again.
    """
    return 2 * tolerance_seconds + 1


def key_header_ignored(request: HttpRequest, principal: Principal) -> bool:
    """True when ``Idempotency-Key`` was sent but the signed ``webhook-id`` is the key instead."""
    return principal.webhook_id is not None and HEADER in request.headers


def fingerprint(canonical: Mapping[str, Any]) -> str:
    """Key of a request sent without one: a hash of its canonical (validated, wire-form) parameters."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "request-sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def once(call: Call, deps: Deps, canonical: Mapping[str, Any], send: Send) -> HttpResponse:
    """Answer ``call`` by running ``send`` at most once for its key, then replaying the stored answer.

    The key is the request's (:func:`request_key`), scoped to the caller's tenant and kept for
    ``deps.settings.idempotency_ttl_seconds`` (a signed ``webhook-id`` at least as long as a captured
    request stays valid, :func:`signed_key_lifetime`); without one, :func:`fingerprint` of ``canonical`` (the
    validated wire-form parameters) is the key for ``deps.settings.dedupe_seconds``, and with no such
    window ``send`` runs unguarded (the guard, and its store, are then never built). Adds ``key``
    (masked), ``replayed`` and ``idempotency_key_ignored`` to ``call.log``. Raises :class:`HttpProblem`
    400 (bad key), 409 (same key in progress), 422 (same key, other request), 503 (store unavailable);
    what ``send`` raises propagates (the guard records a failed attempt).
    """
    settings = deps.settings
    key = request_key(call.request, call.principal)
    extra_headers = {}
    if key_header_ignored(call.request, call.principal):
        # Signed request: the signed webhook-id is the key; an unsigned header may not replace it.
        extra_headers[IGNORED] = "true"
        call.log["idempotency_key_ignored"] = True
    ttl = settings.idempotency_ttl_seconds
    if call.principal.webhook_id is not None:
        ttl = max(ttl, signed_key_lifetime(settings.webhook_tolerance_seconds))
    if key is None:
        if settings.dedupe_seconds <= 0:
            answer = send(None)
            return HttpResponse.json(answer["status"], answer["body"])
        key, ttl = fingerprint(canonical), settings.dedupe_seconds
    call.log["key"] = mask(key)
    response = run_once(
        deps.guard,
        key=key,
        scope=call.principal.idempotency_scope,
        payload=canonical,
        operation=send,
        context=call.request.context,
        expires_after_seconds=ttl,
    )
    call.log["replayed"] = REPLAYED in response.headers
    if extra_headers:
        response = HttpResponse(response.status, {**response.headers, **extra_headers}, response.body)
    return response


def run_once(
    guard: Guard,
    *,
    key: str,
    scope: str,
    payload: Mapping[str, Any],
    operation: Callable[[str], StoredAnswer],
    context: Any,
    expires_after_seconds: int,
) -> HttpResponse:
    """Run ``operation`` at most once for (scope, key) and answer with its stored status and body."""
    try:
        outcome = guard.run(
            key,
            scope=scope,
            payload=dict(payload),
            operation=operation,
            context=context,
            expires_after_seconds=expires_after_seconds,
        )
    except IdempotencyKeyError as exc:
        raise bad_key(str(exc)) from None
    except IdempotencyInProgressError as exc:
        raise HttpProblem(
            409,
            "request-in-progress",
            "A request with this key is still in progress",
            "retry the same request later; it will get the first request's answer",
            headers=retry_after_header(getattr(exc, "retry_after", None)),
        ) from None
    except IdempotencyPayloadMismatchError:
        raise HttpProblem(
            422,
            "idempotency-key-reused",
            "The key was used with a different request",
            "an idempotency key (or webhook-id) may only be reused with the same request body; use a new key",
            errors=[FieldProblem(HEADER, "payload_mismatch", "already used with a different request")],
        ) from None
    except IdempotencyConfigError:
        raise  # the operator's to fix: answered misconfigured (and logged once), not 503 "retry shortly"
    except IdempotencyError:
        # The store is unreachable or inconsistent: nothing was pushed, so a retry is safe.
        raise _store_unavailable() from None
    answer = outcome.result
    status = answer.get("status")
    if type(status) is not int or not 200 <= status <= 599 or "body" not in answer:
        raise _store_unavailable()  # a stored answer not of our shape: a store problem, never a 500
    headers = {REPLAYED: "true"} if outcome.replayed else {}
    return HttpResponse.json(status, answer["body"], headers)


def _store_unavailable() -> HttpProblem:
    return HttpProblem(
        503,
        "idempotency-store-unavailable",
        "Duplicate protection is unavailable",
        "nothing was sent; retry shortly",
        headers=retry_after_header(1),
    )
