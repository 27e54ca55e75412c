"""One API request as it arrived: method, query, form body and headers, parsed once.

Parsing follows the SDKs: business parameters sit in the query string and, for MassPush, in an
``application/x-www-form-urlencoded`` body; both use form encoding, so ``+`` is a space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from pushfn.emulator.errors import ApiError

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def parse_form(text: str) -> dict[str, str]:
    """Form-decode a query string or body: ``+`` is a space, empty values kept, a repeated name keeps its last value.

    Raises :class:`ApiError` ``InvalidParameter.Encoding`` when a percent-escape is not UTF-8.
    """
    try:
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict"))
    except UnicodeDecodeError:
        raise ApiError("InvalidParameter.Encoding", "Parameters must be UTF-8.") from None


@dataclass(frozen=True)
class WireRequest:
    """One API request as received.

    ``method``: upper case; ``query``: the decoded query; ``headers``: names in lower case; ``body``:
    the raw bytes; ``form``: the fields of a form-encoded body (else empty).
    """

    method: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""
    form: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, method: str, raw_query: str, headers: dict[str, str], body: bytes) -> WireRequest:
        """Build a request from the HTTP layer's pieces (``raw_query`` without the ``?``).

        Raises :class:`ApiError` ``InvalidParameter.Encoding`` when the query or a form body is not UTF-8.
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        form: dict[str, str] = {}
        content_type = lowered.get("content-type", "").split(";")[0].strip().lower()
        if body and content_type == FORM_CONTENT_TYPE:
            try:
                form = parse_form(body.decode("utf-8"))
            except UnicodeDecodeError:
                raise ApiError("InvalidParameter.Encoding", "The form body must be UTF-8.") from None
        return cls(method.upper(), parse_form(raw_query), lowered, body, form)

    @property
    def params(self) -> dict[str, str]:
        """Query and form-body parameters together (V2 signs their union; both carry business params)."""
        return {**self.query, **self.form}

    @property
    def is_v3(self) -> bool:
        """Whether the request is signed with V3 (an ``Authorization`` header starting with ``ACS3-``)."""
        return self.headers.get("authorization", "").lstrip().startswith("ACS3-")

    @property
    def action(self) -> str | None:
        """The API action: the ``x-acs-action`` header (V3) or the ``Action`` parameter (V2); ``None`` if absent."""
        return self.headers.get("x-acs-action") if self.is_v3 else self.params.get("Action")

    @property
    def version(self) -> str | None:
        """The API version (``2016-08-01`` for Push): ``x-acs-version`` (V3) or ``Version`` (V2); ``None`` if absent."""
        return self.headers.get("x-acs-version") if self.is_v3 else self.params.get("Version")
