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
    try:
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict"))
    except UnicodeDecodeError:
        raise ApiError("InvalidParameter.Encoding", "Parameters must be UTF-8.") from None


@dataclass(frozen=True)
class WireRequest:
    method: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""
    form: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, method: str, raw_query: str, headers: dict[str, str], body: bytes) -> WireRequest:
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
        return self.headers.get("authorization", "").lstrip().startswith("ACS3-")

    @property
    def action(self) -> str | None:
        return self.headers.get("x-acs-action") if self.is_v3 else self.params.get("Action")

    @property
    def version(self) -> str | None:
        return self.headers.get("x-acs-version") if self.is_v3 else self.params.get("Version")
