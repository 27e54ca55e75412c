"""One local invocation of a function: an FC context (:mod:`pushfn.local.contexts`, the one ``pushfn
invoke`` uses), a request id bound to its log lines, and one readable log line saying what it came to
(function, trigger, key, outcome, MessageId, ms), in aligned columns (:func:`column_key`).

The line goes to the ``pushfn.serve`` logger at INFO with the same values as ``fields`` (for
``--log-format json``): ``function``, ``trigger``, ``key``, ``outcome``, ``message_ids`` (count),
``message_id`` (the first), ``ms``. The handlers' own records stay at WARNING unless ``--verbose``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pushfn.local.contexts import FC, FcContext, make_context
from pushfn.logs import bind_request_id, get_logger, unbind_request_id

logger = get_logger("pushfn.serve")

#: Seconds a local invocation may run (FC's context.function.timeout; the file function stops between
#: chunks before it, as in the cloud).
TIMEOUT_SECONDS = 900


def new_context(function: str) -> FcContext:
    """An FC context (:mod:`pushfn.local.contexts`, as ``pushfn invoke`` makes them) with a fresh request
    id and :data:`TIMEOUT_SECONDS` for one invocation of ``function``; no role keys, so the credential
    chain uses the settings' keys, as it would off FC."""
    return make_context(FC, function, timeout_seconds=TIMEOUT_SECONDS)


@dataclass
class InvocationOutcome:
    """What one invocation came to: ``outcome`` (``ok``, ``partial``, ``invalid``, ``rejected``, an HTTP
    status such as ``202``, ``retry`` or ``error``), the MessageIds it produced, in order, and the ``key``
    it reported, if any."""

    outcome: str
    message_ids: list[str] = field(default_factory=list)
    #: The idempotency key the handler reported (a tick's ``name#time``), shown instead of the one given.
    key: str | None = None


@dataclass(frozen=True)
class InvocationLine:
    """What one invocation's log line said: ``function``, ``trigger``, ``key``, ``outcome``,
    ``message_ids``, ``ms`` and the ``platform_request_id`` (the invocation's context's)."""

    function: str
    trigger: str
    key: str
    outcome: str
    message_ids: tuple[str, ...]
    ms: int
    platform_request_id: str


#: Characters of the key column of the readable line (as in the README's example).
KEY_COLUMN = 30
#: Invocation lines kept for ``GET /_serve/`` and tests (the log has them all).
KEPT_LINES = 1000


class Invocations:
    """Runs handlers under a fresh request id and logs one line per invocation; counts them and keeps the
    last :data:`KEPT_LINES` as :attr:`lines` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self._lines: deque[InvocationLine] = deque(maxlen=KEPT_LINES)

    @property
    def lines(self) -> list[InvocationLine]:
        """The kept invocation lines, oldest first (a copy)."""
        with self._lock:
            return list(self._lines)

    def run(
        self,
        function: str,
        trigger: str,
        key: str,
        call: Callable[[FcContext], Any],
        describe: Callable[[Any], InvocationOutcome],
    ) -> Any:
        """``call(context)`` under the context's request id; ``describe(result)`` names the outcome.

        Returns the result. An exception is logged as the outcome (``retry`` for
        :class:`~pushfn.triggers.RetryLaterError`, else ``error: <class>``) and raised again.
        """
        from pushfn.triggers import RetryLaterError

        context = new_context(function)
        token = bind_request_id(context.request_id)
        started = time.monotonic()
        try:
            try:
                result = call(context)
            except RetryLaterError as exc:
                retry = InvocationOutcome("retry: " + "; ".join(exc.reasons)[:200])
                self._line(function, trigger, key, retry, started, context.request_id)
                raise
            except Exception as exc:
                failed = InvocationOutcome(f"error: {type(exc).__name__}")
                self._line(function, trigger, key, failed, started, context.request_id)
                raise
            self._line(function, trigger, key, describe(result), started, context.request_id)
            return result
        finally:
            unbind_request_id(token)

    def _line(
        self, function: str, trigger: str, key: str, outcome: InvocationOutcome, started: float, request_id: str
    ) -> None:
        ms = round((time.monotonic() - started) * 1000)
        ids = outcome.message_ids
        key = outcome.key or key
        with self._lock:
            self.count += 1
            self._lines.append(InvocationLine(function, trigger, key, outcome.outcome, tuple(ids), ms, request_id))
        shown = f"MessageId {ids[0]}" + (f" (+{len(ids) - 1})" if len(ids) > 1 else "") if ids else "no push"
        logger.info(
            "%-14s %-8s %-30s %-10s %s  %d ms",
            function,
            trigger,
            column_key(key),
            outcome.outcome,
            shown,
            ms,
            extra={
                "fields": {
                    "event": "serve.invocation",
                    "function": function,
                    "trigger": trigger,
                    "key": key,
                    "outcome": outcome.outcome,
                    "message_id": ids[0] if ids else None,
                    "message_ids": len(ids),
                    "ms": ms,
                }
            },
        )


def column_key(key: str, width: int = KEY_COLUMN) -> str:
    """``key`` as the readable line shows it: at most ``width`` characters, a longer one shortened in the
    middle (``reports/2026/long…#chunk-0007``), so the outcome and MessageId columns stay aligned; its end
    is kept, since that is what tells one chunk from the next. Device ids and secrets are masked first
    (:func:`pushfn.logs.scrub_text`), control characters become ``?`` (one line per invocation). The JSON
    fields carry the whole key (masked by the logger's filter)."""
    from pushfn.logs import scrub_text

    # Masked before it is padded: masking the padded line afterwards (a webhook id is 32 hex digits, masked
    # as a device id would be) shortened the column and moved the ones after it.
    key = "".join(c if c.isprintable() else "?" for c in scrub_text(key))
    if len(key) <= width:
        return key
    head = width // 2
    return f"{key[:head]}…{key[-(width - 1 - head) :]}"


def message_ids(value: Any, *, _depth: int = 0) -> list[str]:
    """Every ``message_id`` / ``messageId`` / ``MessageId`` string in a handler's answer, in order."""
    found: list[str] = []
    if _depth > 12:
        return found
    if isinstance(value, dict):
        for name, item in value.items():
            if name in ("message_id", "messageId", "MessageId") and isinstance(item, str) and item:
                found.append(item)
            else:
                found.extend(message_ids(item, _depth=_depth + 1))
    elif isinstance(value, list):
        for item in value:
            found.extend(message_ids(item, _depth=_depth + 1))
    return found


__all__ = [
    "TIMEOUT_SECONDS",
    "InvocationLine",
    "InvocationOutcome",
    "Invocations",
    "column_key",
    "message_ids",
    "new_context",
]
