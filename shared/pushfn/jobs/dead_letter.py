"""Dead letters: where a message that failed permanently goes, with the reason, so nothing is lost.

``PUSHFN_DEAD_LETTER_URL`` names the destination:

- a directory — ``file:///var/pushfn/dead`` or a plain path: one JSON file per letter, named
  ``<UTC time>_<id, filename-safe, cut>_<digest of the full id>_<random>.json``. The digest keeps
  distinct ids apart even when their safe forms agree (``a/b``, ``a:b``, ``a_b``), the random part
  keeps two letters with the same id apart (two MNS STREAM messages with the same body, a message
  dead-lettered twice), and the time sorts them. Only ``[A-Za-z0-9._-]`` reach the name and it
  never starts with a dot, so an id cannot leave the directory or hide a file. Each file is written
  to a temporary name in the same directory, fsynced, then renamed over (``os.replace``), so a
  reader never sees half a letter; files are readable by their owner only (bodies hold device ids);
- an SQS queue — ``https://sqs.<region>.amazonaws.com/<account>/<name>``, ``sqs://<host>/<account>/<name>``
  (HTTPS), or ``sqs+http://127.0.0.1:<port>/<account>/<name>`` for a local stand-in. boto3 is
  imported only when the first letter is sent.

Unset means no dead-letter destination: the structured log line is then the only record. A letter
that cannot be written raises :class:`~pushfn.jobs.errors.DeadLetterError`; the queue job then
treats the message as transient, because deleting it would lose it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import uuid
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pushfn.errors import ConfigurationError
from pushfn.jobs.errors import DeadLetterError
from pushfn.masking import shorten

DEAD_LETTER_ENV = "PUSHFN_DEAD_LETTER_URL"

_SQS_HOST = re.compile(r"^sqs[.-]([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class DeadLetter:
    """One permanently failed message: the body as received (so it can be fixed and re-sent) and why.

    ``failed_at`` is when it gave up, in the API time format (``2024-05-01T08:00:00Z``,
    :func:`pushfn.api_time.format_api_time`), whichever function or ``pushfn serve`` wrote it.
    ``body_encoding`` is ``"base64"`` when the message was bytes that are not UTF-8 text (``body``
    then holds their base64), ``"text"`` otherwise.
    """

    function: str
    message_id: str | None
    key: str
    source: str
    failure: dict[str, Any]
    body: str
    failed_at: str
    body_encoding: str = "text"

    def to_json(self, *, ascii_only: bool = False) -> str:
        """The letter as one JSON object; always encodable as UTF-8 (a lone surrogate in a body that
        was refused for holding one is written as a ``\\udXXX`` escape)."""
        data = asdict(self)
        if not ascii_only:
            text = json.dumps(data, ensure_ascii=False, sort_keys=True)
            try:
                text.encode("utf-8")
                return text
            except UnicodeEncodeError:
                pass
        return json.dumps(data, ensure_ascii=True, sort_keys=True)


class DeadLetterSink(ABC):
    """Somewhere to put dead letters."""

    @abstractmethod
    def write(self, letter: DeadLetter) -> str:
        """Store the letter; return where it went (a path or a queue message id). Raise DeadLetterError."""

    @abstractmethod
    def describe(self) -> str:
        """The destination, for log lines."""


class DirectorySink(DeadLetterSink):
    """One JSON file per message, written atomically (no half-written letter after a crash)."""

    def __init__(self, directory: str | Path) -> None:
        text = str(directory)
        if not text.strip():
            raise ConfigurationError(f"{DEAD_LETTER_ENV}: the dead-letter directory is empty")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
            # NUL would fail every write with ValueError; other control characters are a pasting slip.
            raise ConfigurationError(f"{DEAD_LETTER_ENV}: the dead-letter directory contains a control character")
        self.directory = Path(text).expanduser()

    def describe(self) -> str:
        return f"file://{self.directory}"

    def write(self, letter: DeadLetter) -> str:
        name = letter_file_name(letter.message_id or letter.key)
        target = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        data = (letter.to_json() + "\n").encode("utf-8")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    temporary.unlink(missing_ok=True)
                raise
            _fsync_directory(self.directory)
        except OSError as exc:
            raise DeadLetterError(
                f"cannot write dead letter to {self.directory}: {exc.strerror or type(exc).__name__}"
            ) from exc
        return str(target)


def letter_file_name(identifier: str, *, now: datetime | None = None) -> str:
    """A fresh, filename-safe name for a letter about ``identifier`` (see the module docstring)."""
    when = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
    safe = _UNSAFE_FILE_CHARS.sub("_", shorten(identifier, 80))
    digest = hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{when}_{safe}_{digest}_{uuid.uuid4().hex[:12]}.json"


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform can open a directory, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class SqsSink(DeadLetterSink):
    """Send each letter as one SQS message (attribute ``reason`` for filtering)."""

    def __init__(
        self, queue_url: str, *, region: str | None = None, fallback_region: str | None = None, client: Any = None
    ) -> None:
        self.queue_url = queue_url
        parts = urlsplit(queue_url)
        self._endpoint = f"{parts.scheme}://{parts.netloc}"
        match = _SQS_HOST.match(parts.hostname or "")
        # The URL's own region wins over the process's (AWS_REGION / AWS_DEFAULT_REGION, from Settings).
        self._region = region or (match.group(1) if match else None) or fallback_region
        self._client = client
        self._lock = threading.Lock()

    def describe(self) -> str:
        return self.queue_url

    def write(self, letter: DeadLetter) -> str:
        reason = str(letter.failure.get("reason", "unknown"))
        try:
            answer = self._sqs().send_message(
                QueueUrl=self.queue_url,
                MessageBody=sqs_text(letter),
                MessageAttributes={"reason": {"DataType": "String", "StringValue": reason}},
            )
        except Exception as exc:  # botocore's errors are many; all mean "not stored"
            raise DeadLetterError(f"cannot send dead letter to {self.queue_url}: {type(exc).__name__}") from exc
        return str(answer.get("MessageId", ""))

    def _sqs(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3  # heavy: only when a letter is actually sent

                    region = self._region or "us-east-1"
                    self._client = boto3.client("sqs", endpoint_url=self._endpoint, region_name=region)
        return self._client


#: What an SQS message body may not hold raw: anything outside the characters SQS accepts (tab, line feed,
#: carriage return, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF; SendMessage ``MessageBody``).
_SQS_REFUSED = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sqs_text(letter: DeadLetter) -> str:
    """``letter`` as the JSON text of one SQS message: UTF-8 where SQS takes the characters raw, a ``\\uXXXX``
    escape for the few it refuses (U+FFFE, U+FFFF, a lone surrogate). All-ASCII escaping made a letter up to
    six times its body (``\\u4e2d`` for 中): a permanently failed message of 180 KB of Chinese text became a
    360 KB letter the dead-letter queue refused, so the message was handed back instead of parked, forever."""
    text = json.dumps(asdict(letter), ensure_ascii=False, sort_keys=True)
    return _SQS_REFUSED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def sink_from_url(url: str, *, region: str | None = None) -> DeadLetterSink:
    """Build the sink a ``PUSHFN_DEAD_LETTER_URL`` value names (see the module docstring).

    ``region`` is the AWS region for an SQS queue whose URL does not name one (``Settings.aws_region_name``).
    Raises :class:`ConfigurationError` for a URL of no supported kind.
    """
    text = url.strip()
    if text[:5].lower() == "file:":
        return DirectorySink(_file_url_path(text))
    if "://" not in text:
        return DirectorySink(text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("sqs", "sqs+https", "sqs+http"):
        real_scheme = "http" if scheme == "sqs+http" else "https"
        return SqsSink(f"{real_scheme}://{parts.netloc}{parts.path}", fallback_region=region)
    if scheme in ("http", "https") and _SQS_HOST.match(parts.hostname or ""):
        return SqsSink(text, fallback_region=region)
    raise ConfigurationError(
        f"{DEAD_LETTER_ENV}: use a directory (file:///dir or a path) or an SQS queue URL "
        "(https://sqs.<region>.amazonaws.com/..., sqs://host/..., sqs+http://host:port/...)"
    )


def _file_url_path(url: str) -> str:
    """The absolute directory of a file URL: ``file:///dir``, ``file://localhost/dir`` or RFC 8089's ``file:/dir``."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/") or parts.query or parts.fragment:
        raise ConfigurationError(f"{DEAD_LETTER_ENV}: a file URL names an absolute directory: file:///dir")
    return unquote(parts.path)


_cache: dict[tuple[str, str | None], DeadLetterSink] = {}
_cache_lock = threading.Lock()


def dead_letter_sink(url: str | None, *, region: str | None = None) -> DeadLetterSink | None:
    """The sink ``url`` (the value of ``PUSHFN_DEAD_LETTER_URL``) names, or ``None`` when unset or blank.

    One sink per URL per process, so the SQS client is reused. Raises :class:`ConfigurationError`
    like :func:`sink_from_url`.
    """
    text = (url or "").strip()
    if not text:
        return None
    with _cache_lock:
        sink = _cache.get((text, region))
        if sink is None:
            sink = _cache[(text, region)] = sink_from_url(text, region=region)
    return sink
