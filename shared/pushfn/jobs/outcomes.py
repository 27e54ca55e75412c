"""Which failures are permanent and which transient — one table for every job.

*Permanent* means the input itself is at fault and a retry would fail the same way: a spec that does
not validate, a request the service refused with a 4xx, a key reused with another payload. Those are
reported (and dead-lettered) and never retried.

*Transient* means the input is fine and the world was not: throttling, a 5xx, the network, the same
key still in flight elsewhere, the idempotency store unreachable. Those go back to the platform.

The *phase* decides first (:func:`interpretation_failure`): anything that goes wrong while reading
a message — decoding its JSON, the envelope, the spec, relative times, templates, model validation —
is the message's fault, whatever the exception's type (an ``OverflowError`` from a date in year 9999
is as permanent as a missing Title). Only while *talking to a service* (CloudPush, the idempotency
store) does :func:`sending_failure` sort failures into transient and permanent.

Deliberately transient although the service answered 4xx: authentication failures
(``SignatureDoesNotMatch``, ``InvalidAccessKeyId.*``) and missing configuration. The message is not
at fault; dead-lettering every message while the credentials are wrong would turn one config slip
into a mass re-drive; the same holds for a templates file that cannot be read while a message is
being interpreted. The platform's own retry limit (SQS ``maxReceiveCount``, MNS retry strategy)
still bounds them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pushfn.errors import ConfigurationError, FieldProblem
from pushfn.masking import scrub_cut
from pushfn.push.errors import (
    AuthError,
    CredentialsError,
    InvalidRequestError,
    ServerError,
    ServiceError,
    ThrottledError,
    TransportError,
)


class Verdict(str, enum.Enum):
    """How a message, a push or a failure ended: done, never worth retrying, or worth retrying."""

    SUCCESS = "success"
    PERMANENT = "permanent"
    TRANSIENT = "transient"


@dataclass(frozen=True)
class Failure:
    """Why something failed, safe to log: no device ids, no secrets."""

    status: Verdict
    reason: str
    error: str
    message: str
    code: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    problems_omitted: int = 0

    def to_dict(self) -> dict[str, Any]:
        """``{"status", "reason", "error", "message"}`` plus ``code`` (CloudPush's error Code),
        ``problems`` (``[{"field", "rule", "message"}]``, at most :data:`~pushfn.problems.MAX_ERRORS`) and
        ``problems_omitted`` (how many more there were) when set; ``error`` is the exception's class name."""
        data: dict[str, Any] = {
            "status": self.status.value,
            "reason": self.reason,
            "error": self.error,
            "message": self.message,
        }
        if self.code:
            data["code"] = self.code
        if self.problems:
            data["problems"] = self.problems
        if self.problems_omitted:
            data["problems_omitted"] = self.problems_omitted
        return data


def sending_failure(exc: BaseException) -> Failure:
    """Map any exception raised while planning or sending a push to a :class:`Failure`."""
    from pushfn.idempotency.exceptions import (
        IdempotencyError,
        IdempotencyInProgressError,
        IdempotencyKeyError,
        IdempotencyPayloadMismatchError,
    )

    name = type(exc).__name__
    text = safe_text(str(exc))
    if isinstance(exc, InvalidRequestError):
        return invalid_spec(exc.problems, name)
    if isinstance(exc, IdempotencyPayloadMismatchError):
        return Failure(Verdict.PERMANENT, "payload_mismatch", name, text)
    if isinstance(exc, IdempotencyKeyError):
        return Failure(Verdict.PERMANENT, "invalid_key", name, text)
    if isinstance(exc, IdempotencyInProgressError):
        return Failure(Verdict.TRANSIENT, "in_progress", name, text)
    if isinstance(exc, IdempotencyError):
        return Failure(Verdict.TRANSIENT, "idempotency_store", name, text)
    if isinstance(exc, ThrottledError):
        return Failure(Verdict.TRANSIENT, "throttled", name, text, code=exc.code)
    if isinstance(exc, ServerError):
        return Failure(Verdict.TRANSIENT, "server_error", name, text, code=exc.code)
    if isinstance(exc, AuthError):
        return Failure(Verdict.TRANSIENT, "auth", name, text, code=exc.code)
    if isinstance(exc, ServiceError):
        status = Verdict.TRANSIENT if exc.retryable else Verdict.PERMANENT
        return Failure(
            status, "service_refused" if status is Verdict.PERMANENT else "service_error", name, text, code=exc.code
        )
    if isinstance(exc, TransportError):
        return Failure(Verdict.TRANSIENT, "network", name, text)
    if isinstance(exc, (ConfigurationError, CredentialsError)):
        return Failure(Verdict.TRANSIENT, "configuration", name, text)
    # A bug or an unforeseen library error: the message may be fine, so let the platform retry it
    # (bounded by its retry limit) rather than throw it away.
    return Failure(Verdict.TRANSIENT, "unexpected", name, text)


def interpretation_failure(exc: BaseException, *, field: str = "body") -> Failure:
    """A failure while *reading* a message or spec (before any service is called): permanent.

    Whatever the type — :class:`InvalidRequestError`, :class:`~pushfn.json_input.JsonInputError`,
    or an ``OverflowError``/``RecursionError``/``TypeError`` nobody foresaw — a retry would read the
    same input and fail the same way. ``field`` names what was being read for an exception that
    names no field itself. Configuration errors stay transient (see the module docstring).
    """
    from pushfn.json_input import JsonInputError

    if isinstance(exc, InvalidRequestError):
        return invalid_spec(exc.problems, type(exc).__name__)
    if isinstance(exc, JsonInputError):
        path = f"{field}.{exc.path}" if exc.path else field
        return invalid_spec([FieldProblem(path, exc.rule, exc.detail)], type(exc).__name__)
    if isinstance(exc, (ConfigurationError, CredentialsError)):
        return Failure(Verdict.TRANSIENT, "configuration", type(exc).__name__, safe_text(str(exc)))
    detail = f"{type(exc).__name__}: {str(exc) or 'no detail'}"
    return invalid_spec([FieldProblem(field, "unreadable", detail)], type(exc).__name__)


def invalid_spec(problems: Sequence[FieldProblem], error: str = "InvalidRequestError") -> Failure:
    """The permanent ``invalid_spec`` failure; its message is ``"<field>: <rule>: <detail>; ..."``.

    The first :data:`~pushfn.problems.MAX_ERRORS` problems are kept, the rest counted in
    ``problems_omitted``: the failure goes into a log line and a dead letter, and 20,000 unknown fields in
    a 250 KB SQS message made a 2 MB letter (a dead-letter queue refuses it, so the message was handed
    back forever instead of parked) and a 1.7 MB log line.
    """
    from pushfn.problems import MAX_ERRORS

    shown = [{key: safe_text(value) for key, value in p.to_dict().items()} for p in problems[:MAX_ERRORS]]
    text = "; ".join(f"{p['field']}: {p['rule']}: {p['message']}" for p in shown[:5])
    if len(problems) > 5:
        text += f"; +{len(problems) - 5} more"
    omitted = max(len(problems) - MAX_ERRORS, 0)
    return Failure(
        Verdict.PERMANENT,
        "invalid_spec",
        error,
        safe_text(text or "invalid"),
        problems=shown,
        problems_omitted=omitted,
    )


def safe_text(text: str, limit: int = 500) -> str:
    """``text`` made encodable (a lone surrogate becomes a ``\\udXXX`` escape, so no log handler chokes on
    it), scrubbed by :func:`pushfn.masking.scrub_cut` (device ids, secrets) and cut to ``limit``.

    The masking module's one notion of a device id: a private ``\\b[0-9a-fA-F]{32}\\b`` here missed an id
    after ``_``, after an escape (``\\t``, ``\\x00``) or of letters beyond hex, and the invalid tick's
    answer, a dead letter's failure and a rejected file's report held it in full (only the log filter
    masked the log lines)."""
    return scrub_cut(text.encode("utf-8", "backslashreplace").decode("utf-8"), limit)
