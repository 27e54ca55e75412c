"""The wire: one API request as it arrived (parsed once), and its answer rendered as JSON or XML.

Parsing follows the SDKs: business parameters sit in the query string and, for MassPush, in an
``application/x-www-form-urlencoded`` body; both use form encoding, so ``+`` is a space.

Answers: the V2 docs make XML the default ``Format``; the old SDK's deprecated ``do_action`` sends no
usable Format (``Format=None``) and the integration guide's code then parses ``<MessageId>`` out of
XML, so the emulator answers XML there too. V3 calls (``accept: application/json``) always get JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, unquote_to_bytes
from xml.sax.saxutils import escape

from pushfn.emulator.errors import ApiError

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
#: Longest escaped piece whose decoding is remembered (longer ones, e.g. 1,000 device ids, are decoded each time).
CACHED_DECODING_CHARS = 256


def _unquote_plus(piece: str) -> str:
    text = piece.replace("+", " ")
    if text.isascii():
        # What unquote does with one ASCII run, without its split into ASCII and non-ASCII runs.
        return unquote_to_bytes(text).decode("utf-8")
    return unquote(text, errors="strict")


@lru_cache(maxsize=512)
def _cached_decode(piece: str) -> str:
    return _unquote_plus(piece)


def _decode(piece: str, name: str) -> str:
    # A Timestamp within its second, a title, a body: escaped pieces repeat from call to call; a
    # Signature never does, so it stays out of the cache (512 at most: memory stays bounded by the ring).
    if len(piece) <= CACHED_DECODING_CHARS and name != "Signature":
        return _cached_decode(piece)
    return _unquote_plus(piece)


def parse_form(text: str) -> dict[str, str]:
    """Form-decode a query string or body: ``+`` is a space, empty values kept, a repeated name keeps its last value.

    Raises :class:`ApiError` ``InvalidParameter.Encoding`` when a percent-escape is not UTF-8.
    """
    # What parse_qsl(keep_blank_values=True, errors="strict") gives, decoding only the pieces that
    # carry an escape: most names and values need none, and parse_qsl was a fifth of a request's CPU.
    form: dict[str, str] = {}
    try:
        for piece in text.split("&"):
            if not piece:
                continue
            name, _, value = piece.partition("=")
            if "%" in piece or "+" in piece:  # then look at each half (most pieces carry no escape)
                if "%" in name or "+" in name:
                    name = _decode(name, "")
                if "%" in value or "+" in value:
                    value = _decode(value, name)
            form[name] = value
    except UnicodeDecodeError:
        raise ApiError("InvalidParameter.Encoding", "Parameters must be UTF-8.") from None
    return form


def is_utf8(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8: aiohttp hands header bytes that are not UTF-8 over as
    lone surrogates (``surrogateescape``), which every later ``.encode()`` would raise on."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def utf8_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` with names in lower case and only the values that are UTF-8 (see :func:`is_utf8`)."""
    return {name.lower(): value for name, value in headers.items() if is_utf8(value)}


@dataclass(frozen=True)
class WireRequest:
    """One API request as received.

    ``method``: upper case; ``query``: the decoded query; ``headers``: names in lower case; ``body``:
    the raw bytes; ``form``: the fields of a form-encoded body (else empty). Derived from them:
    ``params``, query and form-body parameters together (V2 signs their union; both carry business
    params), and ``is_v3``, whether the request is signed with V3 (an ``Authorization`` header
    starting with ``ACS3-``).
    """

    method: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""
    form: dict[str, str] = field(default_factory=dict)
    # Worked out at once: every request reads both, and functools.cached_property takes a lock on
    # Python 3.11 (three times the cost).
    params: dict[str, str] = field(init=False, repr=False, compare=False)
    is_v3: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", {**self.query, **self.form})
        object.__setattr__(self, "is_v3", self.headers.get("authorization", "").lstrip().startswith("ACS3-"))

    @classmethod
    def parse(cls, method: str, raw_query: str, headers: dict[str, str], body: bytes) -> WireRequest:
        """Build a request from the HTTP layer's pieces (``raw_query`` without the ``?``).

        Raises :class:`ApiError` ``InvalidParameter.Encoding`` when the query, a form body or a header
        value is not UTF-8 (a V3 request signs its headers, and every answer quotes ``Host``).
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        # Header values are ASCII almost always: one test of them all, each value's only when it fails.
        if not "".join(lowered.values()).isascii():
            bad = sorted(name for name, value in lowered.items() if not is_utf8(value))
            if bad:
                raise ApiError("InvalidParameter.Encoding", f"Header values must be UTF-8: {', '.join(bad[:5])}.")
        form: dict[str, str] = {}
        if body and lowered.get("content-type", "").split(";")[0].strip().lower() == FORM_CONTENT_TYPE:
            try:
                form = parse_form(body.decode("utf-8"))
            except UnicodeDecodeError:
                raise ApiError("InvalidParameter.Encoding", "The form body must be UTF-8.") from None
        return cls(method.upper(), parse_form(raw_query), lowered, body, form)

    @property
    def action(self) -> str | None:
        """The API action: the ``x-acs-action`` header (V3) or the ``Action`` parameter (V2); ``None`` if absent."""
        return self.headers.get("x-acs-action") if self.is_v3 else self.params.get("Action")

    @property
    def version(self) -> str | None:
        """The API version (``2016-08-01`` for Push): ``x-acs-version`` (V3) or ``Version`` (V2); ``None`` if absent."""
        return self.headers.get("x-acs-version") if self.is_v3 else self.params.get("Version")


# --- answers ------------------------------------------------------------------------------------

JSON_TYPE = "application/json;charset=utf-8"
#: What json.dumps(..., ensure_ascii=False) builds on every call, built once (its encode keeps no state).
_JSON = json.JSONEncoder(ensure_ascii=False)
XML_TYPE = "text/xml;charset=utf-8"


def wants_xml(request: WireRequest | None) -> bool:
    """Whether to answer XML: a V2 request without ``Format=JSON``; V3 and unparsed (``None``) requests get JSON."""
    if request is None or request.is_v3:
        return False
    return (request.params.get("Format") or "XML").upper() != "JSON"


def render(body: dict[str, Any], root: str, xml: bool) -> tuple[bytes, str]:
    """``body`` as ``(UTF-8 bytes, Content-Type)``: JSON, or XML under ``<root>``.

    In XML a list repeats its element and booleans read ``true`` / ``false``.
    """
    if not xml:
        return _JSON.encode(body).encode("utf-8"), JSON_TYPE
    text = f"<?xml version='1.0' encoding='UTF-8'?><{root}>{_elements(body)}</{root}>"
    return text.encode("utf-8"), XML_TYPE


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _elements(value: dict[str, Any]) -> str:
    parts = []
    for name, item in value.items():
        # A list repeats its element, as the service renders MessageIds/MessageId and friends.
        for entry in item if isinstance(item, list) else [item]:
            parts.append(f"<{name}>{_content(entry)}</{name}>")
    return "".join(parts)


def _content(value: Any) -> str:
    if isinstance(value, dict):
        return _elements(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    text = escape("" if value is None else str(value))
    # XML 1.0 has no way to carry these (not even as &#1;): a message quoting a parameter name such as
    # "PushTask.\x01.Title" made the whole answer not well-formed, so the SDK could not read its Code.
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if not text.isprintable() else text
