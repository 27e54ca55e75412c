"""Errors of the signed-push module, one hierarchy under :class:`PushError`.

Lower libraries' errors (``requests``, ``pydantic``) are translated at the edge, so callers only
ever see these classes. Every error says whether a retry is safe (``retryable``) and whether the
push may already have reached the service (``maybe_sent``): the idempotency guard keys its
decision off that second flag.

No message here ever contains a secret or a full device id. Where each class sits in the whole tree,
and how every entry point answers it, is drawn in :mod:`pushfn.errors`.
"""

from __future__ import annotations

# ConfigurationError and FieldProblem serve every package (they live in pushfn.errors); re-exported
# here, where the push module's callers have always imported them.
from pushfn.errors import ConfigurationError as ConfigurationError
from pushfn.errors import FieldProblem as FieldProblem
from pushfn.errors import PushfnError


class PushError(PushfnError):
    """Base class of every error raised by :mod:`pushfn.push`."""

    #: A retry of the same request may succeed.
    retryable: bool = False
    #: The request may have reached CloudPush (so a blind retry could push twice).
    maybe_sent: bool = False


# --- before anything is sent ------------------------------------------------------------------


class InvalidRequestError(PushError, ValueError):
    """The request breaks a documented rule; nothing was sent."""

    def __init__(self, problems: list[FieldProblem], action: str | None = None) -> None:
        self.problems = list(problems)
        self.action = action
        where = f"{action}: " if action else ""
        super().__init__(where + "; ".join(str(p) for p in self.problems))


class CredentialsError(PushError):
    """No usable credentials were found, or a role-credential source failed."""


# --- the service answered with an error ------------------------------------------------------


class ServiceError(PushError):
    """CloudPush answered with an error body (``Code``, ``Message``, ``RequestId``)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        http_status: int | None = None,
        retryable: bool = False,
        maybe_sent: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.retryable = retryable
        self.maybe_sent = maybe_sent
        self.retry_after = retry_after
        super().__init__(f"{code}: {message} (HTTP {http_status}, RequestId {request_id or 'unknown'})")


class ThrottledError(ServiceError):
    """``Throttling.*`` (CloudPush sends these as HTTP 400, not 429), or any refusal carrying a positive
    ``x-acs-retry-after``. Safe to retry later; ``retry_after`` is in seconds when the service gave one."""


class ServerError(ServiceError):
    """5xx / ``InternalError`` / ``ServiceUnavailable``. Retryable; the push may have happened."""


class AuthError(ServiceError):
    """Signature, timestamp, nonce or key rejected (``SignatureDoesNotMatch``, ``InvalidAccessKeyId.NotFound``…)."""


# --- the network failed ------------------------------------------------------------------------


class TransportError(PushError):
    """The HTTP exchange failed before a complete answer arrived."""

    retryable = True


class ConnectError(TransportError):
    """The connection was never made: the request certainly did not reach the service."""

    maybe_sent = False


class AmbiguousResponseError(TransportError):
    """The request left but no answer came (read timeout, connection dropped after sending).

    Only a request carrying an ``IdempotentToken`` (or an action that is naturally idempotent) may be
    retried after this; anything else could push twice.
    """

    maybe_sent = True


#: Error codes the service uses for authentication and signing failures.
AUTH_CODES = frozenset(
    {
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "InvalidAccessKeySecret",
        "InvalidTimeStamp.Expired",
        "InvalidTimeStamp.Format",
        "SignatureNonceUsed",
        "InvalidSecurityToken.Expired",
        "InvalidSecurityToken.Malformed",
        "InvalidSecurityToken.MismatchWithAccessKey",
        "Forbidden.RAM",
    }
)


def error_from_answer(
    code: str, message: str, *, http_status: int, request_id: str | None, retry_after: float | None = None
) -> ServiceError:
    """Turn a CloudPush error body into the right :class:`ServiceError` subclass.

    ``retry_after`` (seconds, from ``x-acs-retry-after``) makes any refusal a :class:`ThrottledError`,
    whatever its code, as the official SDK does (alibabacloud-tea-openapi 0.4.6: a positive
    ``x-acs-retry-after`` on an HTTP 4xx/5xx raises ``ThrottlingException`` before the code is looked
    at). A 5xx keeps ``maybe_sent``: the service said "later", but a 5xx never proves nothing was done.
    """
    if retry_after is not None and retry_after > 0 and http_status >= 400:
        return ThrottledError(
            code,
            message,
            request_id=request_id,
            http_status=http_status,
            retryable=True,
            maybe_sent=http_status >= 500,
            retry_after=retry_after,
        )
    if code.startswith("Throttling"):
        return ThrottledError(
            code, message, request_id=request_id, http_status=http_status, retryable=True, retry_after=retry_after
        )
    if http_status >= 500 or code in {"InternalError", "ServiceUnavailable", "UnknownError"}:
        return ServerError(
            code,
            message,
            request_id=request_id,
            http_status=http_status,
            retryable=True,
            maybe_sent=True,
            retry_after=retry_after,
        )
    if code == "SignatureNonceUsed":
        # Re-signing with a fresh nonce is safe: the service refused this one before acting on it.
        return AuthError(code, message, request_id=request_id, http_status=http_status, retryable=True)
    if code in AUTH_CODES:
        return AuthError(code, message, request_id=request_id, http_status=http_status)
    return ServiceError(code, message, request_id=request_id, http_status=http_status)
