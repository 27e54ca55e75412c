"""The context objects Function Compute and Lambda pass a handler, faked for local invocations.

FC (Python runtimes; https://alibabacloud.com/help/doc-detail/422182.html):
``request_id``, ``credentials`` (``access_key_id``, ``access_key_secret``, ``security_token``),
``function`` (``name``, ``handler``, ``memory``, ``timeout``), ``service`` (``name``, ``log_project``,
``log_store``, ``qualifier``, ``version_id``), ``region``, ``account_id``. FC has no remaining-time
call: pushfn reads ``function.timeout``.

Lambda (https://docs.aws.amazon.com/lambda/latest/dg/python-context.html): ``aws_request_id``,
``function_name``, ``function_version``, ``invoked_function_arn``, ``memory_limit_in_mb``,
``log_group_name``, ``log_stream_name`` and ``get_remaining_time_in_millis()``, counted down from
the moment the context is made.

Their request id is read by :func:`pushfn.logs.platform_request_id`, as the deployed handlers read it.
``pushfn invoke`` and ``pushfn serve`` make their contexts here.

The fake FC context carries no role keys (``credentials`` fields are None), so the credential chain
goes on to the environment, as a local run must.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

FC = "fc"
AWS = "aws"
PLATFORMS = (FC, AWS)

#: Where the fakes say they run (any valid region would do; these match the reference samples).
FC_REGION = "cn-hangzhou"
AWS_REGION = "us-east-1"
FC_ACCOUNT_ID = "1234567890123456"
AWS_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class FcCredentials:
    """``context.credentials``: the role's temporary keys on FC; all None locally."""

    access_key_id: str | None = None
    access_key_secret: str | None = None
    security_token: str | None = None


@dataclass(frozen=True)
class FcFunction:
    """``context.function``: ``timeout`` in seconds, ``memory`` in MB."""

    name: str
    handler: str = "index.handler"
    memory: int = 512
    timeout: int = 60


@dataclass(frozen=True)
class FcService:
    """``context.service`` (FC 2.0 naming; FC 3.0 keeps the attributes)."""

    name: str = "pushfn"
    log_project: str = ""
    log_store: str = ""
    qualifier: str = "LATEST"
    version_id: str = ""


@dataclass(frozen=True)
class FcContext:
    """An FC invocation context (see the module docstring)."""

    request_id: str
    function: FcFunction
    credentials: FcCredentials = field(default_factory=FcCredentials)
    service: FcService = field(default_factory=FcService)
    region: str = FC_REGION
    account_id: str = FC_ACCOUNT_ID
    tracing: Any = None


class LambdaContext:
    """A Lambda invocation context; ``get_remaining_time_in_millis()`` counts down from creation."""

    def __init__(self, function_name: str, request_id: str, timeout_seconds: float, memory_mb: int = 512) -> None:
        self.aws_request_id = request_id
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{AWS_REGION}:{AWS_ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (notional) timeout; never below 0."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def make_context(platform: str, function_name: str, *, timeout_seconds: int, request_id: str | None = None) -> Any:
    """A fresh context for one invocation of ``function_name`` on ``platform`` (``fc`` or ``aws``).

    ``request_id`` defaults to a new UUID. Raises :class:`ValueError` for another platform.
    """
    rid = request_id or str(uuid.uuid4())
    if platform == FC:
        return FcContext(rid, FcFunction(function_name, timeout=timeout_seconds))
    if platform == AWS:
        return LambdaContext(function_name, rid, timeout_seconds)
    raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
