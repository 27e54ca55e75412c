"""Who is calling: V2 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256) verification, timestamps and nonces.

Verification reuses :mod:`pushfn.push.signing` — the same pure functions the client signs with —
but rebuilds every input from the wire (parsed query, form body, the headers the client declared),
so a client bug in what it *sends* still fails here. Error codes and the
``server string to sign is:`` message are those of the real gateway (error-code page,
https://help.aliyun.com/document_detail/48054.html, and ``alibabacloud-tea-openapi`` 0.4.6).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from pushfn.api_time import parse_api_time
from pushfn.emulator.errors import ApiError
from pushfn.emulator.wire import WireRequest
from pushfn.push import signing

#: Both the timestamp skew and the nonce memory: "request time vs server > 15 min" (error-code page,
#: InvalidTimeStamp.Expired).
WINDOW_SECONDS = 15 * 60
V2_REQUIRED = ("AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp")
#: Headers a V3 request must sign (the doc: host and every x-acs-* header it relies on).
V3_MUST_SIGN = ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")
MISMATCH = "Specified signature is not matched with our calculation. server string to sign is:"


def canonical_query_v2(params: Mapping[str, str]) -> str:
    """:func:`pushfn.push.signing.canonical_query` of ``params`` without ``Signature``, the same text.

    Through :func:`pushfn.push.signing.encode_pairs`, which remembers the encodings of short texts
    that repeat (names, ``Action``, a title) in a bounded table: the emulator's memory stays bounded by
    its ring. A lone surrogate raises ``UnicodeEncodeError`` as ``percent_encode`` does.
    """
    signed = {k: v for k, v in params.items() if k != "Signature"} if "Signature" in params else params
    return signing.join_pairs(sorted(signing.encode_pairs(signed)))


@dataclass(frozen=True)
class Credential:
    """A known AccessKey's secret; ``security_token`` is set for an STS key, whose requests must carry exactly it."""

    secret: str
    security_token: str | None = None  # set for STS keys: requests must carry exactly this token


@dataclass(frozen=True)
class Caller:
    """Who a verified request came from: ``access_key_id`` and ``signature_version`` (``"v2"`` or ``"v3"``)."""

    access_key_id: str
    signature_version: str  # "v2" | "v3"


class Authenticator:
    """Verifies requests against known keys; remembers nonces for the 15-minute window.

    At most ``max_nonces`` are remembered (the oldest go first): the emulator is bounded by its ring,
    not by time, so a replay is refused as long as its nonce is among the last ``max_nonces`` calls.
    """

    def __init__(self, credentials: Mapping[str, Credential], max_nonces: int = 10_000) -> None:
        self.credentials = dict(credentials)
        self.max_nonces = max(1, max_nonces)
        self._nonces: OrderedDict[tuple[str, str], float] = OrderedDict()

    def reset(self) -> None:
        """Forget every used nonce (a repeated request is then accepted again inside its 15-minute window)."""
        self._nonces.clear()

    def verify(self, request: WireRequest, now: float) -> Caller:
        """The :class:`Caller` of a correctly signed request at ``now`` (epoch seconds), remembering its nonce.

        V3 when the ``Authorization`` header starts with ``ACS3-``, else V2. Raises :class:`ApiError` with the
        gateway's codes (error-code page, https://help.aliyun.com/document_detail/48054.html):
        ``Missing<Param>``, ``InvalidSignatureMethod`` / ``InvalidSignatureVersion`` (V2),
        ``IncompleteSignature`` (V3), ``InvalidTimeStamp.Format`` / ``.Expired`` (more than 15 minutes off),
        ``InvalidAccessKeyId.NotFound``, ``MissingSecurityToken`` / ``InvalidSecurityToken.*``,
        ``SignatureDoesNotMatch`` (the message carries the server's string to sign), ``SignatureNonceUsed``
        (a nonce reused within 15 minutes).
        """
        if request.is_v3:
            return self._verify_v3(request, now)
        return self._verify_v2(request, now)

    # --- V2 -----------------------------------------------------------------------------------

    def _verify_v2(self, request: WireRequest, now: float) -> Caller:
        params = request.params
        for name in V2_REQUIRED:
            if not params.get(name):
                raise ApiError(f"Missing{name}", f"{name} is mandatory for this action.")
        if params["SignatureMethod"] != "HMAC-SHA1":
            # The real code for this case is not published; this name follows the gateway's pattern.
            raise ApiError("InvalidSignatureMethod", "SignatureMethod must be HMAC-SHA1.")
        if params["SignatureVersion"] != "1.0":
            raise ApiError("InvalidSignatureVersion", "SignatureVersion must be 1.0.")
        self._check_time(params["Timestamp"], "Timestamp", now)
        key_id = params["AccessKeyId"]
        credential = self._credential(key_id)
        self._check_token(credential, params.get("SecurityToken"), "SecurityToken")
        # once: it also goes in the error
        string_to_sign = signing.rpc_string_to_sign_canonical(request.method, canonical_query_v2(params))
        digest = hmac.new(f"{credential.secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode("ascii")
        if not signing.signatures_equal(expected, params["Signature"]):
            raise ApiError("SignatureDoesNotMatch", MISMATCH + string_to_sign)
        self._use_nonce(key_id, params["SignatureNonce"], now)
        return Caller(key_id, "v2")

    # --- V3 -----------------------------------------------------------------------------------

    def _verify_v3(self, request: WireRequest, now: float) -> Caller:
        headers = request.headers
        authorization = signing.parse_v3_authorization(headers.get("authorization", ""))
        if authorization is None:
            raise ApiError("IncompleteSignature", "The Authorization header does not conform to ACS3-HMAC-SHA256.")
        for name in ("x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"):
            if not headers.get(name):
                raise ApiError("IncompleteSignature", f"The request must carry the {name} header.")
        declared = {n.lower() for n in authorization.signed_headers}
        must_sign = [*V3_MUST_SIGN, *(n for n in ("x-acs-security-token", "content-type") if n in headers)]
        unsigned = [n for n in must_sign if n not in declared]
        if unsigned:
            raise ApiError("IncompleteSignature", f"These headers must be signed: {', '.join(unsigned)}.")
        self._check_time(headers["x-acs-date"], "x-acs-date", now)
        key_id = authorization.credential
        credential = self._credential(key_id)
        self._check_token(credential, headers.get("x-acs-security-token"), "x-acs-security-token")
        claimed_hash = headers["x-acs-content-sha256"]
        if not signing.signatures_equal(claimed_hash.lower(), signing.sha256_hex(request.body)):
            # No published code for a payload whose hash differs from the header; the request cannot
            # be trusted, so it fails like any other signature mismatch.
            raise ApiError("SignatureDoesNotMatch", "x-acs-content-sha256 is not the SHA-256 of the request body.")
        canonical, _ = signing.canonical_request_v3(
            request.method, request.query, headers, claimed_hash, signed_header_names=authorization.signed_headers
        )
        expected = signing.sign_v3(credential.secret, canonical)
        if not signing.signatures_equal(expected, authorization.signature.lower()):
            raise ApiError("SignatureDoesNotMatch", MISMATCH + signing.v3_string_to_sign(canonical))
        self._use_nonce(key_id, headers["x-acs-signature-nonce"], now)
        return Caller(key_id, "v3")

    # --- shared checks ------------------------------------------------------------------------

    def _credential(self, key_id: str) -> Credential:
        credential = self.credentials.get(key_id)
        if credential is None:
            raise ApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        return credential

    def _check_token(self, credential: Credential, token: str | None, name: str) -> None:
        if credential.security_token is None:
            if token:
                raise ApiError("InvalidSecurityToken.Malformed", f"{name} was sent with a permanent AccessKeyId.")
            return
        if not token:
            raise ApiError("MissingSecurityToken", "SecurityToken is mandatory for this AccessKeyId (STS).")
        if not signing.signatures_equal(token, credential.security_token):
            # Constant-time here too: == stops at the first differing character, timing out another key's token.
            known = any(
                signing.signatures_equal(token, c.security_token)
                for c in self.credentials.values()
                if c.security_token is not None
            )
            if known:
                raise ApiError("InvalidSecurityToken.MismatchWithAccessKey", "The token belongs to another key.")
            raise ApiError("InvalidSecurityToken.Malformed", "The SecurityToken is malformed or unknown.")

    def _check_time(self, value: str, name: str, now: float) -> None:
        sent = parse_api_time(value)
        if sent is None:
            raise ApiError("InvalidTimeStamp.Format", f"{name} must be YYYY-MM-DDThh:mm:ssZ (UTC), got {value!r}.")
        if abs(now - sent) > WINDOW_SECONDS:
            raise ApiError(
                "InvalidTimeStamp.Expired", f"Specified time stamp or date value is expired: {value} (15 min window)."
            )

    def _use_nonce(self, key_id: str, nonce: str, now: float) -> None:
        while self._nonces:
            (oldest_key, oldest_time) = next(iter(self._nonces.items()))
            if now - oldest_time <= WINDOW_SECONDS:
                break
            del self._nonces[oldest_key]
        key = (key_id, nonce)
        if key in self._nonces:
            raise ApiError("SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces[key] = now
        if len(self._nonces) > self.max_nonces:
            self._nonces.popitem(last=False)
