"""Answer bodies in the format the caller asked for: JSON, or XML for V2 calls without ``Format=JSON``.

The V2 docs make XML the default ``Format``; the old SDK's deprecated ``do_action`` sends no usable
Format (``Format=None``) and the integration guide's code then parses ``<MessageId>`` out of XML, so
the emulator answers XML there too. V3 calls (``accept: application/json``) always get JSON.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

from pushfn.emulator.wire import WireRequest

JSON_TYPE = "application/json;charset=utf-8"
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
        return json.dumps(body, ensure_ascii=False).encode("utf-8"), JSON_TYPE
    text = f"<?xml version='1.0' encoding='UTF-8'?><{root}>{_elements(body)}</{root}>"
    return text.encode("utf-8"), XML_TYPE


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
    return escape("" if value is None else str(value))
