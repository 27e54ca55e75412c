"""The one error the emulator raises on purpose: an API error answered to the client.

Every check (auth, limits, registry) raises :class:`ApiError`; the server turns it into the JSON
error body CloudPush sends (``RequestId, HostId, Code, Message, Recommend``) with its HTTP status.
"""

from __future__ import annotations

from pushfn.errors import PushfnError


class EmulatorError(PushfnError):
    """Base class of the emulator's own errors (bad control-API input, misuse of the class)."""


class ApiError(EmulatorError):
    """A CloudPush error answer: ``code`` and ``message`` as the real service words them."""

    def __init__(self, code: str, message: str, status: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        #: Extra response headers (``x-acs-retry-after`` on a throttling answer).
        self.headers = dict(headers or {})


class ControlError(EmulatorError):
    """A control-API request refused with its own HTTP ``status`` (400 unless said, 413 for a body too large)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def missing(param: str) -> ApiError:
    """``Missing<Param>``: a mandatory parameter is absent or empty (400)."""
    return ApiError(f"Missing{param}", f"{param} is mandatory for this action.")


def invalid(param: str, rule: str, message: str) -> ApiError:
    """``Invalid<Param>.<Rule>`` — the per-API code pattern the Push API pages show (400)."""
    return ApiError(f"Invalid{param}.{rule}", message)


def throttled(message: str, code: str | None = None, retry_after_ms: int | None = None) -> ApiError:
    """``Throttling.User`` (or ``code``) with HTTP 400, not 429: how CloudPush throttles; with
    ``retry_after_ms``, the ``x-acs-retry-after`` header the gateway adds (milliseconds).

    Sources: the Mobile Push error-code page, https://help.aliyun.com/document_detail/48054.html; the
    header as alibabacloud-tea-openapi 0.4.6 reads it (``Utils.get_throttling_time_left``).
    """
    headers = {} if retry_after_ms is None else {"x-acs-retry-after": str(retry_after_ms)}
    return ApiError(code or "Throttling.User", message, headers=headers)


def internal_error() -> ApiError:
    """``InternalError`` (500) with the service's generic message, as an ``internal_error`` fault answers."""
    return ApiError(
        "InternalError",
        "The request processing has failed due to some unknown error, exception or failure.",
        500,
    )
