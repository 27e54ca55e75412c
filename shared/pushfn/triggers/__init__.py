"""Platform adapters: each trigger's event shape in, one normalized input out, and back.

One module per trigger kind, and nothing else lives here — every difference between Function
Compute and Lambda stays in this folder:

- :mod:`pushfn.triggers.http` — FC 2.0 WSGI, FC 3.0 HTTP events, API Gateway v1/v2, Function URLs;
- :mod:`pushfn.triggers.timer` — FC timer, EventBridge rule schedules, EventBridge Scheduler input;
- :mod:`pushfn.triggers.queue` — SQS batches, MNS topic (STREAM/JSON), MNS queue via EventBridge.

"And back" is the adapters' other half: the jobs in :mod:`pushfn.jobs` return platform-neutral
outcomes, and ``platform_reply`` in :mod:`~pushfn.triggers.queue` and :mod:`~pushfn.triggers.timer`
turns them into the platform's answer — a partial-batch reply, a summary, or a raise of
:class:`RetryLaterError` where raising is the platform's only retry signal.

:mod:`pushfn.triggers.events` builds each platform's events from a few arguments, so every handler
is tested without a cloud.
"""

from __future__ import annotations

from collections.abc import Sequence

from pushfn.errors import PushfnError

__all__ = ["RetryLaterError"]


class RetryLaterError(PushfnError):
    """Raised by a handler so the platform delivers the invocation again: part of the work failed in
    a way a retry can fix.

    Raised only by an adapter's ``platform_reply``, after all the work that could be done was done;
    everything that succeeded is recorded by the idempotency guard, so the redelivery replays it
    instead of pushing again. ``reasons`` are short and safe to log (no device ids); ``message_ids``
    name the queue messages to retry (empty for a timer tick; ``None`` for a message without an id).
    Also importable as :class:`pushfn.jobs.errors.RetryLaterError`.
    """

    def __init__(self, what: str, reasons: Sequence[str], *, message_ids: Sequence[str | None] = ()) -> None:
        self.reasons = list(reasons)
        self.message_ids = list(message_ids)
        shown = "; ".join(self.reasons[:3]) + (f"; +{len(self.reasons) - 3} more" if len(self.reasons) > 3 else "")
        super().__init__(f"{what} will be retried: {shown}")
