"""An FC 2.0 HTTP trigger's WSGI ``environ`` as a JSON object, and back.

A WSGI environ holds a byte stream (``wsgi.input``) and live objects, so it has no JSON form of its
own; ``pushfn event fc2-http`` prints this one and ``pushfn invoke`` reads it:

- every CGI variable (``REQUEST_METHOD``, ``PATH_INFO``, ``QUERY_STRING``, ``CONTENT_TYPE``,
  ``HTTP_*``…) as the string PEP 3333 makes it;
- ``wsgi.input`` — the body as text, or ``wsgi.input_base64`` — the body's base64 when it is not UTF-8;
- ``wsgi.url_scheme``, ``fc.request_uri`` as strings.

Streams, ``wsgi.version``/``wsgi.multi*`` and ``fc.context`` are rebuilt on the way back (the context
is the invocation's). ``CONTENT_LENGTH`` is recomputed from the body unless the request is chunked, so
a body edited by hand is read whole, as a real server would announce it.
"""

from __future__ import annotations

import base64
import binascii
import io
import sys
from collections.abc import Mapping
from typing import Any

from pushfn.local.errors import LocalInputError

INPUT = "wsgi.input"
INPUT_BASE64 = "wsgi.input_base64"
#: Keys that are not CGI variables but are kept as strings in the JSON form.
_STRING_KEYS = ("wsgi.url_scheme", "fc.request_uri")


def is_environ_json(data: object) -> bool:
    """True for a JSON object shaped like an environ (it has ``REQUEST_METHOD``)."""
    return isinstance(data, Mapping) and "REQUEST_METHOD" in data


def environ_to_json(environ: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON form of ``environ`` (see the module docstring); reads ``wsgi.input`` to its end."""
    data: dict[str, Any] = {}
    for name, value in environ.items():
        if isinstance(value, str) and (name.isupper() or name in _STRING_KEYS):
            data[name] = value
    stream = environ.get(INPUT)
    body = stream.read() if stream is not None else b""
    try:
        data[INPUT] = body.decode("utf-8")
    except UnicodeDecodeError:
        data[INPUT_BASE64] = base64.b64encode(body).decode("ascii")
    return data


def environ_from_json(data: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The WSGI environ a JSON environ stands for, with ``fc.context`` set to ``context``.

    Raises :class:`~pushfn.local.errors.LocalInputError` for a CGI variable or body that is not a string, a body given
    twice, a ``wsgi.input_base64`` that is not base64, or a ``REQUEST_METHOD`` that is empty.
    """
    environ: dict[str, Any] = {}
    for name, value in data.items():
        if name in (INPUT, INPUT_BASE64):
            continue
        if not isinstance(value, str):
            raise LocalInputError(
                name, "type", f"must be a string (a WSGI environ holds text), not {type(value).__name__}"
            )
        environ[name] = value
    if not environ.get("REQUEST_METHOD", "").strip():
        raise LocalInputError("REQUEST_METHOD", "missing", "must name the HTTP method, e.g. POST")
    if INPUT in data and INPUT_BASE64 in data:
        raise LocalInputError(INPUT, "conflict", f"give the body once: {INPUT} (text) or {INPUT_BASE64}, not both")
    if INPUT_BASE64 in data:
        encoded = data[INPUT_BASE64]
        if not isinstance(encoded, str):
            raise LocalInputError(INPUT_BASE64, "type", "must be a base64 string")
        try:
            body = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise LocalInputError(INPUT_BASE64, "base64", "is not base64") from None
    else:
        text = data.get(INPUT, "")
        if not isinstance(text, str):
            raise LocalInputError(INPUT, "type", "must be the body as a string")
        try:
            body = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not text a client could have sent
            raise LocalInputError(INPUT, "text", "holds a lone surrogate, which is not text") from None
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.setdefault("SCRIPT_NAME", "")
    environ.setdefault("PATH_INFO", "/")
    environ.setdefault("wsgi.url_scheme", "http")
    environ.update(
        {
            INPUT: io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "fc.context": context,
        }
    )
    return environ
