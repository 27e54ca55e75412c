"""Logging helpers: a record scrubber, the JSON-lines and text formatters, request ids, one configuration.

Masking itself (:func:`mask`, :func:`scrub`…) lives in :mod:`pushfn.masking`, re-exported here; this
module applies it to log records. The cold push path logs through :class:`pushfn.lazy_logger.LazyLogger`,
which loads this module (and ``logging``) only when a record can be emitted.

Every logger made by :func:`get_logger` carries :class:`MaskingFilter`, so records are scrubbed
whatever formatter the platform uses (Lambda's and Function Compute's own); :class:`JsonFormatter`
scrubs again, for records of other libraries reaching a handler it formats.

Every entry point configures logging once (:func:`configure_logging`): the functions (wrapped by
:func:`entry_point` in ``functions/*/index.py``) one JSON line per record — the platform's own root
handler keeps its stream and gets :class:`JsonFormatter` — and ``pushfn serve`` / the CLI the readable
:class:`TextFormatter` (or JSON on request). The invocation's request id (FC ``context.request_id``,
Lambda ``context.aws_request_id``, FC 2.0 ``environ["fc.context"]``; ``pushfn serve`` and ``pushfn
invoke`` make one per invocation) is bound by :func:`bind_request_id` and put on every record by
:class:`RequestIdFilter`.

Two request ids, two names that cannot be confused: the platform's id of the invocation is
``platform_request_id`` (:data:`PLATFORM_REQUEST_ID`: the record attribute and the JSON key); the
``RequestId`` CloudPush answers a call with is ``cloudpush_request_id`` in log fields
(:data:`CLOUDPUSH_REQUEST_ID`).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar

from pushfn.lazy_logger import CLOUDPUSH_REQUEST_ID as CLOUDPUSH_REQUEST_ID
from pushfn.lazy_logger import PLATFORM_REQUEST_ID
from pushfn.masking import is_secret_name as is_secret_name
from pushfn.masking import mask as mask
from pushfn.masking import mask_all
from pushfn.masking import mask_list as mask_list
from pushfn.masking import scrub as scrub
from pushfn.masking import scrub_text as scrub_text

TYPE_CHECKING = False  # `typing` stays off the cold-start path; type checkers read this as typing's
if TYPE_CHECKING:
    from typing import Any


#: Attributes every LogRecord has: anything else on a record came from ``extra`` and is scrubbed.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class MaskingFilter(logging.Filter):
    """Scrubs a record in place before any handler sees it: message, extra attributes, exception text.

    Attached to every pushfn logger by :func:`get_logger`, and usable on any handler
    (``handler.addFilter(MaskingFilter())``) to cover other libraries' records too. Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log the template, scrubbed, rather than fail
            message = str(record.msg)
        clean = scrub_text(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_ATTRIBUTES:
                setattr(record, name, mask_all(value) if is_secret_name(name) else scrub(value))
        if record.exc_info and record.exc_info[0] is not None:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = _masked_exc_info(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info)
        return True


_FILTER = MaskingFilter()


def _masked_exc_info(exc_info: Any) -> Any:
    """Formatters that read ``exc_info`` themselves (Lambda's JSON format prints ``str(exception)``)
    get a stand-in of the same class name whose message is scrubbed; the traceback is kept."""
    exc_type, exc, tb = exc_info
    try:
        text = str(exc)
    except Exception:
        text = ""
    clean = scrub_text(text)
    if clean == text:
        return exc_info
    stand_in = type(exc_type.__name__, (Exception,), {"__module__": exc_type.__module__})
    return (stand_in, stand_in(clean), tb)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what Function Compute's and Lambda's log services index best.

    Keys: ``level``, ``logger``, ``message``, ``platform_request_id`` (when the record carries one, see
    :class:`RequestIdFilter`), then the record's ``extra={"fields": {...}}``. The whole entry is scrubbed
    (:func:`scrub`) as it is written, whichever logger the record came from.
    """

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        entry: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        request_id = getattr(record, PLATFORM_REQUEST_ID, None)
        if request_id:
            entry[PLATFORM_REQUEST_ID] = request_id
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(scrub(entry), ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The readable form for a terminal: ``HH:MM:SS [LEVEL ]message`` (the level only when not INFO), on
    one line, scrubbed like JSON.

    Structured ``fields`` and the request id are left to the JSON form (the message says what matters to
    a reader); an exception adds its class name, never a traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        when = self.formatTime(record, "%H:%M:%S")
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        error = f" ({record.exc_info[0].__name__})" if record.exc_info and record.exc_info[0] is not None else ""
        return scrub_text(f"{when} {level}{' '.join(message.splitlines())}{error}")


#: The request id of the invocation running in this thread / task (see :func:`bind_request_id`).
_REQUEST_ID: ContextVar[str | None] = ContextVar("pushfn_request_id", default=None)


def bind_request_id(request_id: str | None) -> Any:
    """Make ``request_id`` the current invocation's (this thread or task); returns the token for
    :func:`unbind_request_id`."""
    return _REQUEST_ID.set(str(request_id) if request_id else None)


def unbind_request_id(token: Any) -> None:
    """Restore the request id bound before :func:`bind_request_id` returned ``token``."""
    _REQUEST_ID.reset(token)


def current_request_id() -> str | None:
    """The request id bound in this thread or task, or ``None``."""
    return _REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Puts the bound request id on every record as ``record.platform_request_id`` (kept when already
    set: a record may name its own; without a bound id, the ``aws_request_id`` Lambda's own handler sets)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, PLATFORM_REQUEST_ID, None):
            setattr(record, PLATFORM_REQUEST_ID, _REQUEST_ID.get() or getattr(record, "aws_request_id", None))
        return True


def platform_request_id(context: Any, event: Any = None) -> str | None:
    """The platform's request id of one invocation: FC ``context.request_id``, Lambda
    ``context.aws_request_id``, or for an FC 2.0 WSGI call (``event`` the environ)
    ``environ["fc.context"].request_id``, else the ``x-fc-request-id`` header. ``None`` when none is
    given. The one reader of a context's request id (the handlers' wrapper, ``pushfn invoke``)."""
    for source in (context, event.get("fc.context") if isinstance(event, Mapping) else None):
        for name in ("request_id", "aws_request_id"):
            value = getattr(source, name, None)
            if isinstance(value, str) and value:
                return value
    if isinstance(event, Mapping):
        value = event.get("HTTP_X_FC_REQUEST_ID")
        if isinstance(value, str) and value:
            return value
    return None


_configured: str | None = None


def configure_logging(log_format: str = "json", *, stream: Any = None, level: int = logging.INFO) -> bool:
    """Install pushfn's formatter once per process; ``False`` (and nothing changed) when already done.

    ``log_format`` is ``"json"`` (:class:`JsonFormatter`, the cloud) or ``"text"`` (:class:`TextFormatter`).
    When the root logger already has handlers (the platform's: Lambda's and FC's runtimes install one
    writing to their log stream) each gets the formatter; otherwise one handler writing to ``stream``
    (default ``sys.stderr``) is added. Each handler also gets :class:`MaskingFilter` (records of other
    libraries are scrubbed too) and :class:`RequestIdFilter`. The ``pushfn`` logger is set to ``level``.
    Raises ``ValueError`` for another ``log_format``.
    """
    global _configured
    if log_format not in ("json", "text"):
        raise ValueError(f"log format must be 'json' or 'text', not {log_format!r}")
    if _configured is not None:
        return False
    _configured = log_format
    formatter: logging.Formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    root = logging.getLogger()
    handlers = list(root.handlers)
    if not handlers:
        handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
        root.addHandler(handler)
        handlers = [handler]
    for handler in handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(_FILTER)
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
    logging.getLogger("pushfn").setLevel(level)
    return True


def assume_configured(label: str = "external") -> None:
    """Declare logging configured by someone else (an application embedding the handlers, a test
    runner): :func:`entry_point` then leaves it alone. ``label`` is what :func:`logging_configured` returns."""
    global _configured
    _configured = label


def logging_configured() -> str | None:
    """The format :func:`configure_logging` installed (``"json"``/``"text"``), or ``None`` before."""
    return _configured


def reset_logging() -> None:
    """Forget :func:`configure_logging` (tests): handlers it added stay until the caller removes them."""
    global _configured
    _configured = None


def entry_point(handler: Any) -> Any:
    """Wrap a function handler so every invocation logs JSON lines carrying its request id.

    The first call configures logging (:func:`configure_logging`, JSON; a no-op when ``pushfn serve``
    already did); each call binds :func:`platform_request_id` of the context (and event) for its duration.
    ``handler(event, context)`` (or ``(environ, start_response)``) is called unchanged; whatever it
    returns or raises passes through.
    """

    def invoke(event: Any, context: Any = None) -> Any:
        if _configured is None:
            configure_logging("json")
        token = _REQUEST_ID.set(platform_request_id(context, event))
        try:
            return handler(event, context)
        finally:
            _REQUEST_ID.reset(token)

    invoke.__name__ = getattr(handler, "__name__", "handler")
    invoke.__qualname__ = getattr(handler, "__qualname__", "handler")
    invoke.__doc__ = getattr(handler, "__doc__", None)
    invoke.__wrapped__ = handler  # type: ignore[attr-defined]
    return invoke


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with :class:`MaskingFilter` attached (once)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, MaskingFilter) for f in logger.filters):
        logger.addFilter(_FILTER)
    return logger
