"""Target files, streamed: an object name and a binary stream become rows of targets, one line at a time.

Formats, chosen by the object name's extension (case-insensitive), each optionally gzip-compressed
(``.txt.gz``, ``.csv.gz``, ``.jsonl.gz``, decompressed as it is read):

- ``.txt`` — one target per line; the target type is the caller's (the push spec's, default DEVICE).
- ``.csv`` — RFC 4180 through the :mod:`csv` module. The header's first column is ``device_id``,
  ``account`` or ``alias`` (the target type); the other columns are per-row template variables, named
  by the header (unique identifiers). A line that starts a record with an unquoted ``#`` is a comment,
  before or after the header (RFC 4180 has no comments; a target beginning with ``#`` is written quoted,
  ``"#tag"``); a ``#`` line inside a quoted field that spans lines is data. Blank rows are skipped.
  A quoted field may span lines; its row is reported by the physical line it starts on.
- ``.jsonl`` — one JSON object per line, ``{"device_id"|"account"|"alias": "...", "vars": {...}}``,
  each decoded by :func:`pushfn.json_input.decode_json`.

Every format: UTF-8 with or without a BOM, LF or CRLF line ends, blank lines and lines starting with
``#`` ignored (for CSV, an unquoted ``#`` starting a record: see above). Lines are numbered as
physical lines of the (decompressed) file, from 1, split on LF only. A line longer than
:data:`MAX_LINE_BYTES` is reported, not buffered.

A bad line is yielded as a :class:`~pushfn.targets.report.LineProblem` and reading goes on. Only a
file that is unusable as a whole raises :class:`~pushfn.targets.errors.TargetFileError`: an unknown
extension (:class:`~pushfn.targets.errors.UnsupportedFormatError`, before reading), a corrupt or
truncated gzip stream, a CSV header naming no target type, or CSV quoting that runs past
:data:`MAX_RECORD_LINES` lines or the :mod:`csv` field size limit (the rest of the file cannot be
read reliably). Rows before the failure have already been yielded.

A row is a plain tuple ``(line, target_type, value, vars)`` — the cheapest object Python makes, since a
million-line file yields a million of them; ``vars`` is ``None`` or a ``dict`` of template variables.

Memory is bounded by :data:`BLOCK_BYTES` + :data:`MAX_LINE_BYTES` (+ one CSV record), whatever the file
size: nothing here keeps a line after yielding its row.
"""

from __future__ import annotations

import codecs
import csv
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from pushfn.json_input import JsonInputError, decode_json
from pushfn.targets.errors import TargetFileError, UnsupportedFormatError
from pushfn.targets.report import LineProblem
from pushfn.targets.rules import CHECKS, TARGET_FIELDS, TARGET_TYPES

#: Bytes asked of the stream per read. Equal to MAX_LINE_BYTES, so any line that ends inside one read
#: is short enough without measuring it (only a line spanning reads is measured).
BLOCK_BYTES = 64 * 1024
#: Longest physical line accepted, in bytes (a target is at most 128 bytes; a JSON line with its
#: variables stays far below this). Longer lines are reported as ``line_too_long`` and skipped.
MAX_LINE_BYTES = BLOCK_BYTES
#: Most physical lines one CSV record may span (quoted newlines); beyond it the quoting has run away.
MAX_RECORD_LINES = 100
#: Extensions recognised, without the optional ``.gz``.
FORMATS = ("txt", "csv", "jsonl")

Row = tuple  # (line: int, target_type: str, value: str, vars: dict[str, Any] | None)


@dataclass(frozen=True)
class FileFormat:
    """What an object name says it holds: ``kind`` (``txt``, ``csv``, ``jsonl``) and whether it is gzipped."""

    kind: str
    gzip: bool

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "gzip"}``, the ``format`` entry of a file report."""
        return {"kind": self.kind, "gzip": self.gzip}


def detect_format(name: str) -> FileFormat:
    """The format of object ``name`` from its extension; raise :class:`UnsupportedFormatError` saying why not."""
    base = name.rsplit("/", 1)[-1]
    lowered = base.lower()
    compressed = lowered.endswith(".gz")
    inner = lowered[:-3] if compressed else lowered
    stem, dot, extension = inner.rpartition(".")
    if dot and stem and extension in FORMATS:
        return FileFormat(extension, compressed)
    shown = base.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")[:120]
    known = ", ".join(f".{kind}" for kind in FORMATS)
    if compressed:
        reason = f"{shown!r} is gzipped but does not say what it holds: name it <name>.txt.gz, .csv.gz or .jsonl.gz"
    elif not dot or not stem:
        reason = f"{shown!r} has no extension; a target file is {known}, optionally gzipped (.gz)"
    else:
        reason = f"{shown!r}: .{extension[:20]} is not a target file format; use {known}, optionally gzipped (.gz)"
    raise UnsupportedFormatError(reason)


class TargetRows:
    """The rows of one target file, streamed: iterate once for rows and problems.

    ``stream`` is a binary file-like object with ``read(n)`` (what a reader hands over: a file, an
    ``oss2`` or ``boto3`` body, a ``BytesIO``); ``name`` is the object name (its extension picks the
    format, checked here so an unsupported file is refused before a byte is read); ``target_type``
    is the type of a ``.txt`` file's lines (CSV and JSON lines say their own).

    Iterating yields ``(line, target_type, value, vars)`` tuples for valid targets and
    :class:`LineProblem` for bad lines, in file order. :attr:`lines_read` is the number of physical
    lines read so far (final once iteration ends, normally or by :class:`TargetFileError`).
    """

    def __init__(self, stream: BinaryIO, name: str, *, target_type: str = "DEVICE") -> None:
        if target_type not in TARGET_TYPES:
            raise ValueError(f"target_type must be one of {TARGET_TYPES}, not {target_type!r}")
        self.format = detect_format(name)
        self.name = name
        self.target_type = target_type
        self.lines_read = 0
        self._stream = stream
        self._started = False

    def __iter__(self) -> Iterator[Row | LineProblem]:
        if self._started:
            raise RuntimeError("a target file is streamed once; open it again to read it again")
        self._started = True
        lines = physical_lines(_reader(self._stream, self.format.gzip))
        parse = {"txt": self._txt, "csv": self._csv, "jsonl": self._jsonl}[self.format.kind]
        return parse(lines)

    # --- .txt ----------------------------------------------------------------------------------

    def _txt(self, lines: Iterator[bytes | None]) -> Iterator[Row | LineProblem]:
        target_type = self.target_type
        check = CHECKS[target_type]
        number = 0
        try:
            for number, raw in enumerate(lines, 1):
                if raw is None:
                    yield _too_long(number)
                    continue
                try:
                    value = raw.decode("utf-8").strip()
                except UnicodeDecodeError as exc:
                    yield _not_utf8(number, exc)
                    continue
                if not value or value[0] == "#":
                    continue
                problem = check(value)
                if problem is None:
                    yield (number, target_type, value, None)
                else:
                    yield LineProblem(number, *problem)
        finally:
            self.lines_read = number

    # --- .jsonl --------------------------------------------------------------------------------

    def _jsonl(self, lines: Iterator[bytes | None]) -> Iterator[Row | LineProblem]:
        number = 0
        try:
            for number, raw in enumerate(lines, 1):
                if raw is None:
                    yield _too_long(number)
                    continue
                stripped = raw.strip()
                if not stripped or stripped[:1] == b"#":
                    continue
                try:
                    data = decode_json(stripped)
                except JsonInputError as exc:
                    yield LineProblem(number, exc.rule, f"not a valid JSON line: {exc}")
                    continue
                yield _json_row(number, data)
        finally:
            self.lines_read = number

    # --- .csv ----------------------------------------------------------------------------------

    def _csv(self, lines: Iterator[bytes | None]) -> Iterator[Row | LineProblem]:
        feed = _CsvFeed(lines)
        try:
            header = feed.header()
            if header is None:
                return  # empty, or only comments: no targets
            target_type, names = _read_header(header, feed.number)
            check = CHECKS[target_type]
            reader = csv.reader(feed, strict=False)
            while True:
                feed.record_start = feed.number + 1
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise TargetFileError(
                        "csv", f"CSV quoting cannot be read from line {feed.record_start} on ({exc})", feed.record_start
                    ) from None
                start = feed.record_start
                if not record or not any(record):
                    continue  # a blank row (a bare newline, or only separators)
                bad = feed.bad_lines(start)
                if bad is not None:
                    yield LineProblem(start, *bad)
                    continue
                if len(record) != len(names) + 1:
                    yield LineProblem(
                        start, "columns", f"{len(record)} fields; the header has {len(names) + 1} columns"
                    )
                    continue
                value = record[0].strip()
                problem = check(value)
                if problem is not None:
                    yield LineProblem(start, *problem)
                    continue
                yield (start, target_type, value, dict(zip(names, record[1:], strict=True)) if names else None)
        finally:
            self.lines_read = feed.number


class _CsvFeed:
    """Decoded physical lines for :func:`csv.reader`, numbered, with the lines that broke a rule noted."""

    def __init__(self, lines: Iterator[bytes | None]) -> None:
        self._lines = lines
        self.number = 0
        self.record_start = 1
        self._bad: dict[int, tuple[str, str]] = {}

    def header(self) -> list[str] | None:
        """The header's fields, after skipping blank and ``#`` lines; None at the end of the file."""
        for raw in self._lines:
            self.number += 1
            if raw is None:
                raise TargetFileError("header", "the CSV header line is too long", self.number)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                message = f"the CSV header is not UTF-8 ({_position(exc)})"
                raise TargetFileError("header", message, self.number) from None
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            try:
                return next(csv.reader([text]))
            except csv.Error as exc:
                raise TargetFileError("header", f"the CSV header cannot be read: {exc}", self.number) from None
        return None

    def __iter__(self) -> _CsvFeed:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.number += 1
        # A line starting a record with an unquoted ``#`` is a comment (a quoted field starts with ``"``,
        # so a target that begins with ``#`` can still be written); a line inside a quoted field is data.
        while self.number == self.record_start and raw is not None and raw.lstrip(b" \t\xef\xbb\xbf").startswith(b"#"):
            raw = next(self._lines)
            self.number += 1
            self.record_start = self.number
        if self.number - self.record_start >= MAX_RECORD_LINES:
            raise csv.Error(f"a record spans more than {MAX_RECORD_LINES} lines (an unclosed quote?)")
        if raw is None:
            self._bad[self.number] = _too_long(self.number).reason()
            return "\n"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._bad[self.number] = _not_utf8(self.number, exc).reason()
            text = raw.decode("utf-8", "replace")
        if "\x00" in text:  # the csv module of Python < 3.11 refuses NUL; it is a control character anyway
            self._bad.setdefault(self.number, ("control_character", "the line holds a NUL character"))
            text = text.replace("\x00", "")
        return text + "\n"

    def bad_lines(self, start: int) -> tuple[str, str] | None:
        """The first problem noted on the lines of the record that started at ``start``, forgetting them."""
        if not self._bad:
            return None
        found = next((self._bad[n] for n in sorted(self._bad) if n >= start), None)
        self._bad.clear()
        return found


def _read_header(header: list[str], line: int) -> tuple[str, list[str]]:
    columns = [column.strip() for column in header]
    target_type = TARGET_FIELDS.get(columns[0].lower()) if columns else None
    if target_type is None:
        first = columns[0][:40] if columns else ""
        raise TargetFileError(
            "header",
            f"the CSV header's first column must be device_id, account or alias (the target type), not {first!r}",
            line,
        )
    names = columns[1:]
    for name in names:
        if not name.isidentifier() or not name.isascii():
            message = f"column {name[:40]!r} is not a variable name (letters, digits and _, not first a digit)"
            raise TargetFileError("header", message, line)
    if len(set(names)) != len(names):
        raise TargetFileError("header", "two columns of the CSV header have the same name", line)
    return target_type, names


# --- shared pieces ----------------------------------------------------------------------------


_SHAPE = 'a JSON line is an object: {"device_id"|"account"|"alias": "...", "vars": {...}}'


def _json_row(number: int, data: Any) -> Row | LineProblem:
    if not isinstance(data, dict):
        return LineProblem(number, "shape", _SHAPE)
    fields = [key for key in data if key in TARGET_FIELDS]
    unknown = [key for key in data if key not in TARGET_FIELDS and key != "vars"]
    if len(fields) != 1:
        return LineProblem(number, "shape", "a JSON line names exactly one of device_id, account or alias")
    if unknown:
        return LineProblem(number, "unknown_field", f"unknown key {unknown[0][:40]!r} (known: the target key and vars)")
    value = data[fields[0]]
    if not isinstance(value, str):
        return LineProblem(number, "type", f"{fields[0]} must be a string")
    variables = data.get("vars")
    if variables is not None and not isinstance(variables, dict):
        return LineProblem(number, "type", "vars must be a JSON object of template variables")
    target_type = TARGET_FIELDS[fields[0]]
    value = value.strip()
    problem = CHECKS[target_type](value)
    if problem is not None:
        return LineProblem(number, *problem)
    return (number, target_type, value, variables or None)


def _too_long(number: int) -> LineProblem:
    return LineProblem(number, "line_too_long", f"the line is longer than {MAX_LINE_BYTES} bytes")


def _not_utf8(number: int, exc: UnicodeDecodeError) -> LineProblem:
    return LineProblem(number, "encoding", f"the line is not UTF-8 text ({_position(exc)})")


def _position(exc: UnicodeDecodeError) -> str:
    return f"invalid byte at offset {exc.start}"


def physical_lines(read: Callable[[int], bytes]) -> Iterator[bytes | None]:
    """The lines of a byte stream, split on LF (a CR before it stays, for the parser to trim), a leading
    UTF-8 BOM dropped.

    ``read(n)`` returns up to ``n`` bytes, ``b""`` at the end. A line longer than
    :data:`MAX_LINE_BYTES` is yielded as ``None`` (its bytes are dropped as they arrive, so it costs no
    memory), keeping the line count right.
    """
    head = b""  # the unfinished line carried over from the previous reads
    overlong = False
    block = read(BLOCK_BYTES)
    while 0 < len(block) < len(codecs.BOM_UTF8):  # a short first read must not split the BOM
        more = read(BLOCK_BYTES)
        if not more:
            break
        block += more
    block = block.removeprefix(codecs.BOM_UTF8)
    while True:
        parts = block.split(b"\n")
        tail = parts.pop()
        if parts:
            if overlong or len(head) + len(parts[0]) > MAX_LINE_BYTES:
                parts[0] = None  # type: ignore[call-overload]
            elif head:
                parts[0] = head + parts[0]
            head, overlong = b"", False
            yield from parts  # lines after the first ended inside this block: at most BLOCK_BYTES
        if not overlong:
            if len(head) + len(tail) > MAX_LINE_BYTES:
                head, overlong = b"", True
            else:
                head += tail
        block = read(BLOCK_BYTES)
        if not block:
            break
    if overlong:
        yield None
    elif head:
        yield head


def _reader(stream: BinaryIO, compressed: bool) -> Callable[[int], bytes]:
    if not compressed:
        return stream.read
    import gzip  # only gzipped files pay for it

    decompressor = gzip.GzipFile(fileobj=stream, mode="rb")

    def read_gzip(size: int) -> bytes:
        try:
            return decompressor.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise TargetFileError("gzip", f"the gzip stream is corrupt or truncated ({exc})") from None

    return read_gzip
