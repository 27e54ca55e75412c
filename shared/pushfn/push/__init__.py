"""The signed-push module: everything needed to talk to CloudPush, nothing else.

Public API::

    from pushfn.push import PushClient, Timeout, Retry
    client = PushClient.from_env()
    result = client.push({"Target": "DEVICE", "TargetValue": "...", "DeviceType": "ANDROID",
                          "PushType": "NOTICE", "Title": "Hi", "Body": "Hello"})
    result.message_id

The modules behind it: ``signing`` (pure V2/V3 signatures), ``credentials`` (the chain),
``models`` (the field table, its fast checker and the pydantic models that explain refusals),
``client`` (send and retry), ``transport`` (the network seam), ``errors`` (one hierarchy).
"""

from pushfn.push._config import NO_RETRY, Retry, Timeout
from pushfn.push.client import ApiResponse, MassPushResult, PushClient, PushResult, PushSender
from pushfn.push.credentials import Credentials, StaticCredentials
from pushfn.push.errors import (
    AmbiguousResponseError,
    AuthError,
    ConfigurationError,
    ConnectError,
    CredentialsError,
    FieldProblem,
    InvalidRequestError,
    PushError,
    ServerError,
    ServiceError,
    ThrottledError,
    TransportError,
)
from pushfn.push.transport import MockTransport, PreparedRequest, RawResponse

__all__ = [
    "NO_RETRY",
    "AmbiguousResponseError",
    "ApiResponse",
    "AuthError",
    "ConfigurationError",
    "ConnectError",
    "Credentials",
    "CredentialsError",
    "FieldProblem",
    "InvalidRequestError",
    "MassPushResult",
    "MockTransport",
    "PreparedRequest",
    "PushClient",
    "PushError",
    "PushResult",
    "PushSender",
    "RawResponse",
    "Retry",
    "ServerError",
    "ServiceError",
    "StaticCredentials",
    "ThrottledError",
    "Timeout",
    "TransportError",
]
