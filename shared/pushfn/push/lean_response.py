"""http.client's response, with its header fields read per RFC 9112 §5 instead of by ``email.parser``.

Why this exists (the one place pushfn reads HTTP itself): ``http.client`` hands every answer's header
block to ``email.parser`` — a MIME parser (feed parser, policy objects, content-type probing) — which
was a fifth of the client's CPU per push. Measured with ``bench/bench_throughput.py``'s canned-answer
server, 1 thread, 5,000 pushes per figure, 2 cores (2026-11-30): the client's user CPU per push was
122–140 µs with ``email.parser`` and 93–103 µs with this reader (system CPU 23–37 µs either way);
issue 10 budgets 150 µs for the whole push, which ``email.parser`` alone put out of reach (146–165 µs
in the bench's own runs). The standard library offers no other header parser, and no HTTP library
on it does better: urllib3 and requests sit on the same ``http.client`` parse.

The header fields are read here, and the framing decisions made from them (:meth:`LeanHTTPResponse.begin`
keeps CPython 3.10–3.13's ``HTTPResponse.begin`` logic, the same in all four, but where it guessed on
malformed answers: listed below). The status line (``_read_status``), body and chunked reads and the
connection's state stay ``http.client``'s.

The fields are an ``http.client.HTTPMessage`` as before (case-insensitive ``get``, ``get_all``,
``items``), built with its public item assignment. For a well-formed head the result equals
``http.client.parse_headers``' (a differential test checks it), except that a value's trailing
blanks are dropped (RFC 9112 §5.5: they are not part of the value; ``email`` kept them). Where the
two differ on a malformed head, this one follows RFC 9112:

- an obsolete line fold (a line starting with a space or a tab) continues the previous field's value,
  joined by one space (§5.2; ``email`` kept the line break inside the value);
- a line that is no field — no colon, an empty name, blanks or control characters in the name —
  is refused with :class:`http.client.HTTPException` (§5.1 allows no whitespace before the colon);
  ``email`` took it as the start of the body and silently dropped every field after it;
- a ``Content-Length`` that is not digits, or several that differ, is refused (RFC 9112 §6.3;
  ``http.client`` took ``int()`` of the first: ``+5``, ``1_0``, and left a second one's bytes unread);
- a ``Transfer-Encoding`` other than one ``chunked`` is refused (RFC 9112 §6.1: pushfn decodes no other
  coding; ``http.client`` read the first field only and took ``gzip, chunked`` as no coding at all);
  a chunked answer that also has a ``Content-Length``, or is HTTP/1.0, is read but its connection
  closed (§6.1, §6.3: a possible smuggling attempt);
- ``close`` in any ``Connection`` field closes the connection (``http.client`` read the first field);
- a NUL or a bare CR in a line becomes a space (RFC 9110 §5.5; both readers kept them);
- more than ``MAX_HEADER_FIELDS`` fields (``_max_headers`` when the connection sets one) or a line over
  ``MAX_LINE_BYTES`` is refused, as ``http.client`` refuses them.

Interim answers: every 1xx head before the final answer is skipped (RFC 9110 §15.2; ``http.client``
skips only 100 Continue and returned a 103 Early Hints as the answer, leaving the real one on the
connection for the next request); a 101 Switching Protocols, never asked for, is refused.

The transport turns those refusals into :class:`~pushfn.push.errors.AmbiguousResponseError`: the
request was sent, its answer is unreadable.
"""

from __future__ import annotations

import http.client
import re

#: Most header fields read from one answer (``http.client``'s own limit).
MAX_HEADER_FIELDS = 100
#: Most interim (1xx) answers skipped before the answer (a server sending them without end is refused).
MAX_INTERIM_ANSWERS = 100
#: Longest header line read, in bytes (``http.client``'s own limit).
MAX_LINE_BYTES = 65536
# A field name as email.parser accepts one: printable ASCII except the colon (RFC 9112's token is stricter,
# but a name email accepted must keep working).
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_BLANKS = " \t"
_END_OF_HEAD = (b"\r\n", b"\n")


def read_field_lines(fp: object, limit: int = MAX_HEADER_FIELDS) -> list[bytes]:
    """The header lines of a head from ``fp`` (a binary file with ``readline``), up to the empty line.

    Raises ``http.client.LineTooLong`` for a line over :data:`MAX_LINE_BYTES` and ``HTTPException``
    for more than ``limit`` lines or a head the connection's end cut off (RFC 9112 §8: incomplete;
    ``email.parser`` took the end for the end of the head, and a cut 200 for a whole answer).
    """
    lines: list[bytes] = []
    readline = fp.readline  # type: ignore[attr-defined]
    while True:
        line = readline(MAX_LINE_BYTES + 1)
        if len(line) > MAX_LINE_BYTES:
            raise http.client.LineTooLong("header line")
        if line in _END_OF_HEAD:
            return lines
        if not line:
            raise http.client.HTTPException("the connection closed inside the answer's head")
        if len(lines) >= limit:
            raise http.client.HTTPException(f"got more than {limit} headers")
        lines.append(line)


def parse_fields(lines: list[bytes]) -> http.client.HTTPMessage:
    """The header fields of ``lines`` (as :func:`read_field_lines` gives them) as an ``HTTPMessage``.

    Bytes are read as ISO-8859-1, as ``http.client`` reads them. Raises ``http.client.HTTPException``
    for a line that is no field (see the module docstring).
    """
    message = http.client.HTTPMessage()
    name: str | None = None
    value = ""
    for raw in lines:
        line = raw.decode("iso-8859-1").rstrip("\r\n")
        if "\x00" in line or "\r" in line:  # RFC 9110 §5.5, RFC 9112 §2.2: each becomes a space
            line = line.replace("\x00", " ").replace("\r", " ")
        if line[:1] in (" ", "\t"):
            if name is None:
                raise http.client.HTTPException("the header block starts with a folded line")
            value = f"{value} {line.strip(_BLANKS)}" if value else line.strip(_BLANKS)
            continue
        if name is not None:
            message[name] = value
        name, colon, value = line.partition(":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            raise http.client.HTTPException(f"malformed header line {line[:80]!r}")
        value = value.strip(_BLANKS)
    if name is not None:
        message[name] = value
    return message


class LeanHTTPResponse(http.client.HTTPResponse):
    """``http.client.HTTPResponse`` reading its header fields with :func:`parse_fields` (module docstring).

    Set as a connection's ``response_class``. Attributes after :meth:`begin` are those of the standard
    class: ``status``, ``reason``, ``version``, ``headers``/``msg``, ``chunked``, ``length``, ``will_close``.
    """

    def begin(self, _max_headers: int | None = None) -> None:
        """Read the status line and the header fields; decide the framing as ``http.client`` does.

        ``_max_headers`` is what ``HTTPConnection.getresponse`` passes on Python versions that let a
        connection set it. Raises what ``http.client`` raises (``RemoteDisconnected``, ``BadStatusLine``,
        ``UnknownProtocol``, ``LineTooLong``, ``HTTPException``) and ``OSError`` from the socket.
        """
        if self.headers is not None:
            return  # already begun
        limit = _max_headers or MAX_HEADER_FIELDS
        for _ in range(MAX_INTERIM_ANSWERS + 1):
            version, status, reason = self._read_status()  # type: ignore[attr-defined]
            if status == http.client.SWITCHING_PROTOCOLS:
                # RFC 9110 §15.2.2: the connection now speaks another protocol, and pushfn asks for none.
                raise http.client.HTTPException("101 Switching Protocols, which no request asks for")
            if status >= 200:
                break
            # RFC 9110 §15.2: any interim 1xx (100 Continue, 103 Early Hints...) before the final answer is
            # parsed and ignored; http.client skips only 100 and takes a 103 for the answer.
            read_field_lines(self.fp, limit)
        else:
            raise http.client.HTTPException(f"more than {MAX_INTERIM_ANSWERS} interim (1xx) answers")
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10  # a "0.9" is taken as 1.0, as http.client does
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = parse_fields(read_field_lines(self.fp, limit))
        # From here on, CPython's HTTPResponse.begin as it is (3.10 to 3.13), but for Transfer-Encoding
        # and Content-Length (module docstring).
        codings = self.headers.get_all("transfer-encoding")
        self.chunked = codings is not None
        if codings is not None:
            if [c.strip(_BLANKS).lower() for field in codings for c in field.split(",")] != ["chunked"]:
                raise http.client.HTTPException(f"Transfer-Encoding {', '.join(codings)[:80]!r}: only chunked is read")
            self.chunk_left = None
        self.will_close = self._check_close()  # type: ignore[attr-defined]
        if self.chunked and (self.version == 10 or "content-length" in self.headers):
            self.will_close = True  # RFC 9112 §6.1, §6.3 (3): framing not to be trusted for another answer
        self.length = None
        lengths = self.headers.get_all("content-length")
        if lengths is not None:
            length = _content_length(lengths)  # checked even when chunked: a bad one is a malformed head
            if not self.chunked:
                self.length = length
        if (
            status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED)
            or 100 <= status < 200
            or self._method == "HEAD"
        ):  # type: ignore[attr-defined]
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # no length and no chunks: the body ends when the connection does

    def _check_close(self) -> bool:
        """Whether the server closes the connection after this answer (RFC 9112 §9.3).

        A ``close`` option in any ``Connection`` field closes it (the fields are one list, RFC 9110 §5.3;
        ``http.client`` read the first field only); HTTP/1.0 stays open only when asked to
        (``Connection: keep-alive``, a ``Keep-Alive`` field or ``Proxy-Connection: keep-alive``).
        """
        fields = self.headers.get_all("connection") or ()
        options = {option.strip(_BLANKS).lower() for field in fields for option in field.split(",")}
        if "close" in options:
            return True
        if self.version == 11:
            return False
        proxy = self.headers.get("proxy-connection") or ""
        return not ("keep-alive" in options or self.headers.get("keep-alive") or "keep-alive" in proxy.lower())


_DIGITS = re.compile(r"[0-9]+")


def _content_length(fields: list[str]) -> int:
    """The one length that the ``Content-Length`` ``fields`` give, in bytes.

    RFC 9112 §6.3 (5): each value is ``1*DIGIT``; a list of equal values (in one field or repeated
    fields) is that value. Raises ``http.client.HTTPException`` otherwise — ``http.client`` took
    ``int()`` of the first field (``+5``, ``1_0``; a second, different length ignored, its bytes left on
    the connection) and read to the connection's end when ``int()`` failed.
    """
    values = {value.strip(_BLANKS) for field in fields for value in field.split(",")}
    if len(values) != 1:
        raise http.client.HTTPException(f"Content-Length fields disagree: {sorted(values)[:4]!r}")
    (value,) = values
    if not _DIGITS.fullmatch(value):
        raise http.client.HTTPException(f"Content-Length {value[:40]!r} is not a number of bytes")
    return int(value)
