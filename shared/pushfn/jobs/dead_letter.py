"""Dead letters: where a message that failed permanently goes, with the reason, so nothing is lost.

``PUSHFN_DEAD_LETTER_URL`` names the destination:

- a directory — ``file:///var/pushfn/dead`` or a plain path: one JSON file per message, named after
  the message id (a redelivered message overwrites its own letter instead of adding a second one);
- an SQS queue — ``https://sqs.<region>.amazonaws.com/<account>/<name>``, ``sqs://<host>/<account>/<name>``
  (HTTPS), or ``sqs+http://127.0.0.1:<port>/<account>/<name>`` for a local stand-in. boto3 is
  imported only when the first letter is sent.

Unset means no dead-letter destination: the structured log line is then the only record. A letter
that cannot be written raises :class:`~pushfn.jobs.errors.DeadLetterError`; the queue job then
treats the message as transient, because deleting it would lose it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pushfn.jobs.errors import DeadLetterError
from pushfn.push.errors import ConfigurationError

DEAD_LETTER_ENV = "PUSHFN_DEAD_LETTER_URL"

_SQS_HOST = re.compile(r"^sqs[.-]([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class DeadLetter:
    """One permanently failed message: the body as received (so it can be fixed and re-sent) and why."""

    function: str
    message_id: str | None
    key: str
    source: str
    failure: dict[str, Any]
    body: str
    failed_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


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
        self.directory = Path(directory).expanduser()

    def describe(self) -> str:
        return f"file://{self.directory}"

    def write(self, letter: DeadLetter) -> str:
        name = _UNSAFE_FILE_CHARS.sub("_", letter.message_id or letter.key)[:200] + ".json"
        target = self.directory / name
        temporary = target.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary.write_text(letter.to_json() + "\n", encoding="utf-8")
            os.replace(temporary, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise DeadLetterError(f"cannot write dead letter to {self.directory}: {exc.strerror}") from exc
        return str(target)


class SqsSink(DeadLetterSink):
    """Send each letter as one SQS message (attribute ``reason`` for filtering)."""

    def __init__(self, queue_url: str, *, region: str | None = None, client: Any = None) -> None:
        self.queue_url = queue_url
        parts = urlsplit(queue_url)
        self._endpoint = f"{parts.scheme}://{parts.netloc}"
        match = _SQS_HOST.match(parts.hostname or "")
        self._region = region or (match.group(1) if match else None)
        self._client = client
        self._lock = threading.Lock()

    def describe(self) -> str:
        return self.queue_url

    def write(self, letter: DeadLetter) -> str:
        reason = str(letter.failure.get("reason", "unknown"))
        try:
            answer = self._sqs().send_message(
                QueueUrl=self.queue_url,
                MessageBody=letter.to_json(),
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

                    region = (
                        self._region
                        or os.environ.get("AWS_REGION")
                        or os.environ.get("AWS_DEFAULT_REGION")
                        or "us-east-1"
                    )
                    self._client = boto3.client("sqs", endpoint_url=self._endpoint, region_name=region)
        return self._client


def sink_from_url(url: str) -> DeadLetterSink:
    """Build the sink a ``PUSHFN_DEAD_LETTER_URL`` value names (see the module docstring)."""
    text = url.strip()
    if "://" not in text:
        return DirectorySink(text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigurationError(f"{DEAD_LETTER_ENV}: file URLs must be file:///absolute/path")
        return DirectorySink(unquote(parts.path))
    if scheme in ("sqs", "sqs+https", "sqs+http"):
        real_scheme = "http" if scheme == "sqs+http" else "https"
        return SqsSink(f"{real_scheme}://{parts.netloc}{parts.path}")
    if scheme in ("http", "https") and _SQS_HOST.match(parts.hostname or ""):
        return SqsSink(text)
    raise ConfigurationError(
        f"{DEAD_LETTER_ENV}: use a directory (file:///dir or a path) or an SQS queue URL "
        "(https://sqs.<region>.amazonaws.com/..., sqs://host/..., sqs+http://host:port/...)"
    )


_cache: dict[str, DeadLetterSink] = {}
_cache_lock = threading.Lock()


def dead_letter_from_env(env: Mapping[str, str] | None = None) -> DeadLetterSink | None:
    """The configured sink (one per URL per process, so the SQS client is reused), or None."""
    url = (env if env is not None else os.environ).get(DEAD_LETTER_ENV, "").strip()
    if not url:
        return None
    with _cache_lock:
        sink = _cache.get(url)
        if sink is None:
            sink = _cache[url] = sink_from_url(url)
    return sink
