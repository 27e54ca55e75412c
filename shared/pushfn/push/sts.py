"""STS (Security Token Service, API version 2015-04-01): a RAM role's temporary credentials.

Loaded only when the credential chain has a role to assume (an OIDC token, a CLI profile in
``RamRoleArn`` mode), never on a function's cold-start path otherwise.

Two RPC-style actions, each answered with JSON:

``AssumeRole``
    signed with the caller's AccessKey (signature V2, HMAC-SHA1, by :mod:`pushfn.push.signing`, the
    same code that signs CloudPush calls); the caller's ``SecurityToken`` is sent when its keys are
    temporary. Parameters: ``RoleArn``, ``RoleSessionName``, ``DurationSeconds`` (900 to the role's
    ``MaxSessionDuration``, default 3600), optional ``Policy`` and ``ExternalId``.
``AssumeRoleWithOIDC``
    anonymous: no AccessKey, no signature; the OIDC token is the proof. Parameters: ``RoleArn``,
    ``OIDCProviderArn``, ``OIDCToken``, ``RoleSessionName``, ``DurationSeconds``, optional ``Policy``.

Both are sent as ``POST`` with the common parameters (``Action``, ``Version``, ``Format``,
``Timestamp`` and, for AssumeRole, the signature's) in the query and the action's own in a form body,
so the token and the policy stay out of URLs; the V2 signature covers query and body together. A
success is HTTP 200 with ``{"RequestId", "AssumedRoleUser": {"Arn", "AssumedRoleId"}, "Credentials":
{"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration": "2015-04-09T11:52:19Z"}}``
(``AssumeRoleWithOIDC`` adds ``OIDCTokenInfo``); a refusal is HTTP 4xx/5xx with ``{"RequestId",
"HostId", "Code", "Message"}``.

Endpoint: ``https://sts.aliyuncs.com``; ``https://sts.<region>.aliyuncs.com`` for a region
(``ALIBABA_CLOUD_STS_REGION``, a CLI profile's ``sts_region``); ``sts-vpc.<region>`` inside a VPC
(``ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED``); ``PUSHFN_STS_ENDPOINT`` names any URL instead.

Sources: the STS API reference (https://www.alibabacloud.com/help/en/ram/developer-reference/api-sts-2015-04-01-assumerole
and ``…-assumerolewithoidc``); ``alibabacloud-credentials`` (github.com/aliyun/credentials-python,
``alibabacloud_credentials/provider/ram_role_arn.py`` and ``oidc.py``: parameters, endpoint rules,
the 900 s minimum); ``credentials-go`` (``credentials/internal/providers/ram_role_arn.go`` and
``oidc.go``: the POST with query and form split); ``alibabacloud_sts20150401`` models (the answers).
"""

from __future__ import annotations

import json
import re
import time

from pushfn.api_time import format_api_time
from pushfn.push import signing
from pushfn.push.credentials import Credentials, parse_expiration
from pushfn.push.errors import CredentialsError, TransportError
from pushfn.random_ids import random16

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pushfn.push._config import Timeout
    from pushfn.push.transport import Transport
    from pushfn.settings import Settings

API_VERSION = "2015-04-01"
_REGION = re.compile(r"[a-z0-9-]{1,40}")
DEFAULT_STS_ENDPOINT = "https://sts.aliyuncs.com"
#: STS refuses sessions shorter than 15 minutes.
MIN_DURATION_SECONDS = 900
DEFAULT_DURATION_SECONDS = 3600


def sts_endpoint(settings: Settings, region: str | None = None, region_from: str = "sts_region") -> str:
    """The STS URL for ``settings``: ``PUSHFN_STS_ENDPOINT`` when set, else built from ``region`` (a CLI
    profile's ``sts_region``; ``region_from`` names it in errors) or ``ALIBABA_CLOUD_STS_REGION``,
    ``sts-vpc`` when ``ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED``; ``https://sts.aliyuncs.com`` without a
    region (as ``alibabacloud-credentials`` does: the VPC endpoint needs one). Raises
    :class:`~pushfn.push.errors.CredentialsError` naming the source for a region that is not 1-40 of
    ``a-z 0-9 -`` (it becomes part of the host)."""
    if settings.pushfn_sts_endpoint:
        return settings.pushfn_sts_endpoint.rstrip("/")
    where = f"{region_from}" if region else "ALIBABA_CLOUD_STS_REGION"
    region = region or settings.alibaba_cloud_sts_region
    if not region:
        return DEFAULT_STS_ENDPOINT
    if not _REGION.fullmatch(region):
        # It becomes part of the host: "evil.example/x#" would send the signed AssumeRole elsewhere.
        raise CredentialsError(f"{where}: a region is 1-40 of a-z 0-9 - (such as cn-hangzhou)")
    prefix = "sts-vpc" if settings.alibaba_cloud_vpc_endpoint_enabled else "sts"
    return f"https://{prefix}.{region}.aliyuncs.com"


def default_session_name() -> str:
    """``pushfn-<epoch seconds>``: a ``RoleSessionName`` (2–64 of ``[A-Za-z0-9.@_-]``) when none is set."""
    return f"pushfn-{int(time.time())}"


def check_duration(seconds: object, where: str) -> int:
    """``seconds`` as a whole number of at least 900 (STS's minimum); ``None`` or ``0`` → 3600.

    Raises :class:`~pushfn.push.errors.CredentialsError` naming ``where`` (the setting or file field).
    """
    if seconds is None or seconds == 0:
        return DEFAULT_DURATION_SECONDS
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < MIN_DURATION_SECONDS:
        raise CredentialsError(f"{where} must be a whole number of seconds, at least {MIN_DURATION_SECONDS}")
    return seconds


class StsClient:
    """Calls STS at ``endpoint`` (``scheme://host[:port]``) through a pushfn :class:`~pushfn.push.transport.Transport`.

    ``transport`` defaults to the one ``settings`` ask for (proxies and CA bundle honoured), built on
    first use; ``timeout`` defaults to the official SDKs' 5 s connect / 10 s read. Every failure is a
    :class:`~pushfn.push.errors.CredentialsError` naming the action, with STS's ``Code`` and its
    ``Message`` scrubbed of secrets; no secret, token or signature ever appears in one.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_STS_ENDPOINT,
        *,
        settings: Settings | None = None,
        transport: Transport | None = None,
        timeout: Timeout | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._settings = settings
        self._transport = transport
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"StsClient({self.endpoint})"

    def assume_role(
        self,
        caller: Credentials,
        role_arn: str,
        session_name: str,
        *,
        duration_seconds: int = DEFAULT_DURATION_SECONDS,
        policy: str | None = None,
        external_id: str | None = None,
        source: str = "ram-role-arn",
    ) -> Credentials:
        """``AssumeRole`` of ``role_arn``, signed with ``caller``'s keys: the role's temporary credentials.

        Raises :class:`~pushfn.push.errors.CredentialsError` when STS is unreachable or refuses.
        """
        form = {"RoleArn": role_arn, "RoleSessionName": session_name, "DurationSeconds": str(duration_seconds)}
        if policy:
            form["Policy"] = policy
        if external_id:
            form["ExternalId"] = external_id
        query = self._common("AssumeRole")
        query.update(
            {
                "AccessKeyId": caller.access_key_id,
                "SignatureMethod": "HMAC-SHA1",
                "SignatureVersion": "1.0",
                "SignatureNonce": random16().hex(),
            }
        )
        if caller.security_token:
            query["SecurityToken"] = caller.security_token
        query["Signature"] = signing.sign_rpc_v2("POST", {**query, **form}, caller.access_key_secret)
        return self._call("AssumeRole", query, form, source)

    def assume_role_with_oidc(
        self,
        role_arn: str,
        oidc_provider_arn: str,
        oidc_token: str,
        session_name: str,
        *,
        duration_seconds: int = DEFAULT_DURATION_SECONDS,
        policy: str | None = None,
        source: str = "oidc-role-arn",
    ) -> Credentials:
        """``AssumeRoleWithOIDC``: anonymous, the ``oidc_token`` is the proof. The role's temporary credentials.

        Raises :class:`~pushfn.push.errors.CredentialsError` when STS is unreachable or refuses.
        """
        form = {
            "RoleArn": role_arn,
            "OIDCProviderArn": oidc_provider_arn,
            "OIDCToken": oidc_token,
            "RoleSessionName": session_name,
            "DurationSeconds": str(duration_seconds),
        }
        if policy:
            form["Policy"] = policy
        return self._call("AssumeRoleWithOIDC", self._common("AssumeRoleWithOIDC"), form, source)

    def close(self) -> None:
        """Release the transport's pooled connections."""
        if self._transport is not None:
            self._transport.close()

    # --- internals -------------------------------------------------------------------------------

    @staticmethod
    def _common(action: str) -> dict[str, str]:
        # Real time, not an injected clock: STS refuses a Timestamp far from its own.
        return {"Action": action, "Version": API_VERSION, "Format": "JSON", "Timestamp": format_api_time(time.time())}

    def _call(self, action: str, query: dict[str, str], form: dict[str, str], source: str) -> Credentials:
        from pushfn.push._config import Timeout
        from pushfn.push.transport import PreparedRequest, transport_from_settings

        if self._transport is None:
            from pushfn.settings import Settings

            self._transport = transport_from_settings(self._settings or Settings())
        url = f"{self.endpoint}/?{signing.join_pairs(signing.encode_pairs(query))}"
        body = signing.join_pairs(signing.encode_pairs(form)).encode()
        headers = {
            "accept": "application/json",
            "content-type": "application/x-www-form-urlencoded",
            "user-agent": "pushfn/0.1",
        }
        request = PreparedRequest("POST", url, headers, body, action)
        try:
            raw = self._transport.send(request, self._timeout or Timeout())
        except TransportError as exc:
            raise CredentialsError(f"{source}: STS {action} at {self.endpoint} unreachable ({exc})") from None
        return _credentials_from_answer(action, raw.status, raw.body, source)


def _credentials_from_answer(action: str, status: int, body: bytes, source: str) -> Credentials:
    from pushfn.json_input import JsonInputError, decode_json

    try:
        doc: Any = decode_json(body)
    except JsonInputError:
        doc = None
    if status != 200 or not isinstance(doc, dict) or "Credentials" not in doc:
        raise CredentialsError(f"{source}: STS {action} refused: {_refusal(status, doc)}")
    creds = doc["Credentials"]
    if not isinstance(creds, dict):
        raise CredentialsError(f"{source}: STS {action} answer's Credentials is not an object")
    for field in ("AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"):
        if not isinstance(creds.get(field), str) or not creds[field]:
            raise CredentialsError(f"{source}: STS {action} answer lacks Credentials.{field}")
    try:
        expiration = parse_expiration(creds["Expiration"])
    except CredentialsError as exc:
        raise CredentialsError(f"{source}: STS {action} answer's Credentials.Expiration: {exc}") from None
    return Credentials(
        creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"], expiration=expiration, source=source
    )


def _refusal(status: int, doc: Any) -> str:
    """``HTTP 403 NoPermission: <scrubbed Message> (RequestId …)``, each field one printable line of bounded
    length, or the bare status for a non-JSON answer."""
    if not isinstance(doc, dict):
        return f"HTTP {status}, no JSON answer"
    from pushfn.push.client import service_message  # drops an echoed string-to-sign, masks secrets

    code = _one_line(doc.get("Code"), 80) or "no Code"
    message = _one_line(service_message(str(doc.get("Message") or "")), 300)
    request_id = _one_line(doc.get("RequestId"), 80)
    shown = f"HTTP {status} {code}" + (f": {message}" if message else "")
    return shown + (f" (RequestId {request_id})" if request_id else "")


def _one_line(value: Any, limit: int) -> str:
    """A field of STS's answer as one printable line of at most ``limit`` characters (another type, or
    a newline or escape sequence, would forge log lines or flood them); ``""`` for no value."""
    from pushfn.problems import printable

    if value is None or value == "":
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)[: limit + 1]
    return printable(text[: limit * 4])[:limit]
