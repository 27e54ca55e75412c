"""Request signing for the Alibaba Cloud RPC API: V2 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256).

Pure functions: no clock, no randomness, no I/O. The caller supplies timestamp and nonce, which is
what makes every function here reproducible against the published test vectors, and lets the
emulator verify with exactly the code that signs.

V2 (SignatureVersion 1.0)::

    StringToSign = METHOD & %2F & percent(sorted "k=v" of query ∪ form params, "&"-joined)
    Signature    = base64(HMAC-SHA1(secret + "&", StringToSign))

V3 (ACS3-HMAC-SHA256)::

    CanonicalRequest = METHOD \\n / \\n CanonicalQuery \\n CanonicalHeaders \\n SignedHeaders \\n hex(sha256(body))
    Authorization    = ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<names>,Signature=hex(HMAC-SHA256(secret, ...))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping

V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


#: Text :func:`percent_encode` gives back unchanged (RFC 3986 unreserved characters only).
UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
_RESERVED = re.compile(r"[^A-Za-z0-9_.~-]+")
_ESCAPES = [f"%{byte:02X}" for byte in range(256)]


def _escape(match: re.Match[str]) -> str:
    return "".join([_ESCAPES[byte] for byte in match.group().encode("utf-8")])


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba specifies it: space → %20, ``*`` → %2A, ``~`` kept.

    The same result as ``urllib.parse.quote(value, safe="~")`` (UTF-8; a lone surrogate raises
    ``UnicodeEncodeError``); only the runs of reserved characters are converted, byte by byte.
    """
    # Most names and many values need no escaping at all.
    if UNRESERVED.fullmatch(value):
        return value
    return _RESERVED.sub(_escape, value)


#: Encodings of short texts met at least twice: parameter names and the values that repeat from call
#: to call (Action, Version, AccessKeyId, AppKey, Target, DeviceType...). A text is remembered on its
#: second sighting, so nonces and tokens (never repeated) don't fill the table; both tables are bounded
#: and emptied when full — a Timestamp repeats within its second and is remembered too, so a table that
#: kept its first 512 texts would hold nothing but past seconds after a few minutes of pushing, and the
#: texts that do repeat would be encoded every time again. Races between threads are harmless: at worst
#: a text is encoded once more.
_ENCODED: dict[str, str] = {}
_SEEN_ONCE: set[str] = set()
_ENCODED_MAX_ENTRIES = 512
_SEEN_ONCE_MAX_ENTRIES = 2048
_ENCODED_MAX_LENGTH = 64


def _encode_remembered(text: str) -> str:
    encoded = percent_encode(text)
    if len(text) <= _ENCODED_MAX_LENGTH:
        if text in _SEEN_ONCE:
            if len(_ENCODED) >= _ENCODED_MAX_ENTRIES:
                _ENCODED.clear()
            _ENCODED[text] = encoded
        else:
            if len(_SEEN_ONCE) >= _SEEN_ONCE_MAX_ENTRIES:
                _SEEN_ONCE.clear()
            _SEEN_ONCE.add(text)
    return encoded


def encode_pairs(params: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every ``(key, value)`` of ``params`` percent-encoded, once, in the mapping's order."""
    known = _ENCODED.get
    pairs = []
    for k, v in params.items():
        ek = known(k) or _encode_remembered(k)
        ev = known(v)
        pairs.append((ek, _encode_remembered(v) if ev is None else ev))
    return pairs


def join_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """Already-encoded pairs as ``k=v`` joined by ``&`` (a query string or a form body)."""
    return "&".join([f"{k}={v}" for k, v in pairs])


def canonical_query(params: Mapping[str, str]) -> str:
    """Sorted (byte order), percent-encoded ``k=v`` pairs joined by ``&``; an empty value stays ``k=``.

    Sorted as ``(key, value)`` pairs, not as ``k=v`` text: ``Tag`` comes before ``Tag1``.
    """
    return join_pairs(sorted(encode_pairs(params)))


# --- V2 ----------------------------------------------------------------------------------------


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """The V2 string to sign over every parameter except ``Signature`` (query and form body alike)."""
    signed = {k: v for k, v in params.items() if k != "Signature"}
    return rpc_string_to_sign_canonical(method, canonical_query(signed))


def rpc_string_to_sign_canonical(method: str, canonical: str) -> str:
    """The V2 string to sign from an already-built :func:`canonical_query` (``Signature`` excluded).

    ``percent_encode`` of a canonical query only ever meets unreserved characters, ``%``, ``=`` and
    ``&``, so three replacements do what a second ``quote`` pass would, at a fraction of the cost.
    """
    encoded = canonical.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    return f"{method.upper()}&%2F&{encoded}"


def sign_rpc_v2(method: str, params: Mapping[str, str], secret: str) -> str:
    """Base64 HMAC-SHA1 signature, key ``secret + "&"``."""
    return sign_rpc_v2_string(rpc_string_to_sign(method, params), secret)


def sign_rpc_v2_string(string_to_sign: str, secret: str) -> str:
    """Base64 HMAC-SHA1 of a V2 string to sign, key ``secret + "&"``."""
    # hmac.digest: OpenSSL's one-shot HMAC, without building an ``hmac.HMAC`` object per request.
    digest = hmac.digest(f"{secret}&".encode(), string_to_sign.encode(), "sha1")
    return base64.b64encode(digest).decode("ascii")


def encode_base64(text: str) -> str:
    """:func:`percent_encode` of base64 text (a V2 ``Signature``): only ``+``, ``/`` and ``=`` need it."""
    return text.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


# --- V3 ----------------------------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data`` (the V3 ``x-acs-content-sha256`` of a body)."""
    return hashlib.sha256(data).hexdigest()


def _normalise_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower().strip(): str(v).strip() for k, v in headers.items()}


def default_signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """The documented minimum: ``host``, ``content-type`` and every ``x-acs-*`` header."""
    names = _normalise_headers(headers)
    return sorted(n for n in names if n in ("host", "content-type") or n.startswith("x-acs-"))


def canonical_request_v3(
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    hashed_payload: str,
    *,
    signed_header_names: Iterable[str] | None = None,
    pathname: str = "/",
    encoded_query: str | None = None,
) -> tuple[str, str]:
    """Return ``(canonical_request, signed_headers)``.

    ``signed_header_names`` defaults to the documented minimum; the verifier passes the list the
    client declared in ``Authorization``, since SDKs sign more headers than the minimum.
    ``encoded_query``: :func:`canonical_query` of ``query`` when the caller already built it (the
    client sends that same string as the URL's query).
    """
    lower = _normalise_headers(headers)
    names = (
        sorted(n.lower() for n in signed_header_names)
        if signed_header_names is not None
        else default_signed_header_names(lower)
    )
    canonical_headers = "".join(f"{n}:{lower.get(n, '')}\n" for n in names)
    signed_headers = ";".join(names)
    canonical = "\n".join(
        [
            method.upper(),
            pathname,
            canonical_query(query) if encoded_query is None else encoded_query,
            canonical_headers,
            signed_headers,
            hashed_payload,
        ]
    )
    return canonical, signed_headers


def v3_string_to_sign(canonical_request: str) -> str:
    """``ACS3-HMAC-SHA256`` and the hex SHA-256 of the UTF-8 canonical request, on two lines."""
    return f"{V3_ALGORITHM}\n{sha256_hex(canonical_request.encode())}"


def sign_v3(secret: str, canonical_request: str) -> str:
    """Hex HMAC-SHA256 over the V3 string to sign; the key is the bare secret (no ``&``)."""
    return hmac.digest(secret.encode(), v3_string_to_sign(canonical_request).encode(), "sha256").hex()


def v3_authorization(access_key_id: str, signed_headers: str, signature: str) -> str:
    """The V3 ``Authorization`` header value; ``signed_headers`` is the ``;``-joined lower-case names."""
    return f"{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"


class V3Authorization:
    """A parsed V3 ``Authorization`` header: the AccessKey id, the signed header names, the hex signature."""

    __slots__ = ("credential", "signature", "signed_headers")

    def __init__(self, credential: str, signed_headers: tuple[str, ...], signature: str) -> None:
        self.credential = credential
        self.signed_headers = signed_headers
        self.signature = signature

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, V3Authorization):
            return NotImplemented
        return (self.credential, self.signed_headers, self.signature) == (
            other.credential,
            other.signed_headers,
            other.signature,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"V3Authorization(credential={self.credential!r}, signed_headers={self.signed_headers!r})"


def parse_v3_authorization(value: str) -> V3Authorization | None:
    """Parse an ``Authorization`` header; ``None`` when it is not a well-formed V3 value."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != V3_ALGORITHM:
        return None
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if not sep:
            return None
        fields[key] = val
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        return None
    names = tuple(n for n in fields["SignedHeaders"].split(";") if n)
    return V3Authorization(fields["Credential"], names, fields["Signature"])


def signatures_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two signatures."""
    return hmac.compare_digest(a.encode(), b.encode())
