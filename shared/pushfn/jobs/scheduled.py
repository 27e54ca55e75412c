"""One timer tick: the schedule's spec → pushes, each at most once per (schedule, scheduled time, item).

Keys: ``<trigger name>#<scheduled time, ISO UTC>`` for a single push and ``…#<index>`` for each list
item, in the ``scheduled_push`` function's namespace (scope ``schedule``). Relative times resolve
against the scheduled time, so a redelivered or late tick plans exactly the same requests and
the guard replays the ones already sent.

Failure policy (see :mod:`pushfn.jobs.outcomes` for the classes):

- the spec does not validate (or the event is unusable) → one structured log line naming the field
  and rule (masked), and a normal return: a retry would fail the same way. That holds for *any*
  exception while reading the event or resolving the spec — an ``OverflowError`` from a date past
  year 9999 or a ``RecursionError`` is reported as invalid just like a missing Title (see
  :func:`~pushfn.jobs.outcomes.interpretation_failure`); only an unusable configuration
  (``PUSHFN_SCHEDULES``, ``PUSHFN_TEMPLATES``) raises, since fixing it makes the retry succeed;
- an item refused permanently by the service → logged, the other items still go out, normal return;
- a transient failure → the items after it are not attempted and the tick's outcome asks for a
  retry; the retry replays the finished items and resumes at the failed one.

:func:`run_tick` returns a platform-neutral :class:`TickOutcome`; how the platform is answered (a
summary, or a raise of :class:`~pushfn.triggers.RetryLaterError` to get the tick again) is decided
by :func:`pushfn.triggers.timer.platform_reply`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pushfn.api_time import format_api_time
from pushfn.errors import ConfigurationError
from pushfn.functions import SCHEDULED_PUSH
from pushfn.idempotency.keys import fit_key
from pushfn.jobs.outcomes import Failure, Verdict, interpretation_failure, safe_text
from pushfn.jobs.runner import FAILED, ItemResult, run_planned
from pushfn.logs import get_logger
from pushfn.push.errors import CredentialsError
from pushfn.specs.push_spec import Templates, resolve_push_spec
from pushfn.triggers.timer import ScheduledInvocation, parse_timer_event, platform_reply

if TYPE_CHECKING:
    from pushfn.idempotency import Guard
    from pushfn.push import PushSender

FUNCTION_NAME = SCHEDULED_PUSH
SCOPE = "schedule"
logger = get_logger("pushfn.jobs.scheduled")


@dataclass(frozen=True)
class TickOutcome:
    """What one tick came to, whatever platform fired it.

    ``summary`` is the report the handler answers with: ``{"status": "ok" | "partial", "trigger",
    "scheduled_time", "key", "items"}``, or ``{"status": "invalid", "trigger", "scheduled_time",
    "problems"}``. ``retry_reasons`` is non-empty when a transient failure stopped the tick (the
    platform must run it again); ``cause`` is the exception behind that, for chaining. ``key`` is the
    tick's idempotency key, None when the event could not be read.
    """

    summary: dict[str, Any]
    key: str | None = None
    retry_reasons: tuple[str, ...] = ()
    cause: BaseException | None = None


def handle_timer_event(event: object, context: Any = None) -> dict[str, Any]:
    """The ``scheduled_push`` handler: the platform's timer event in, the tick's summary out.

    Raises :class:`~pushfn.triggers.RetryLaterError` (from
    :func:`~pushfn.triggers.timer.platform_reply`) when a transient failure stopped the tick, and
    :class:`~pushfn.errors.ConfigurationError`/``CredentialsError`` when the configuration is
    unusable; everything else is reported in the summary and not retried.
    """
    return platform_reply(_tick(event, context))


def _tick(event: object, context: Any) -> TickOutcome:
    from pushfn.runtime import get_runtime

    try:
        # The schedules table is configuration: loaded by the runtime, and only for a tick without a spec.
        invocation = parse_timer_event(event, schedules=lambda: get_runtime(context).schedules())
    except (ConfigurationError, CredentialsError) as exc:
        _misconfigured(exc)
        raise
    except Exception as exc:  # reading the event: never the platform's to retry (see the docstring)
        return _invalid(None, interpretation_failure(exc, field="event"), exc)
    runtime = get_runtime(context)
    return run_tick(
        invocation,
        guard=runtime.guard(FUNCTION_NAME),
        client=runtime.client,
        context=context,
        templates=runtime.templates,
    )


def tick_key(invocation: ScheduledInvocation) -> str:
    """``name#2024-05-01T08:00:00Z``; one that is no valid key (too long, unprintable) becomes its digest."""
    when = format_api_time(invocation.scheduled_time)
    return fit_key(f"{invocation.trigger_name}#{when}")


def run_tick(
    invocation: ScheduledInvocation,
    *,
    guard: Guard,
    client: PushSender,
    context: Any = None,
    templates: Templates | None = None,
) -> TickOutcome:
    """Plan and send the tick's pushes; see the module docstring for the policy.

    Raises only :class:`~pushfn.errors.ConfigurationError`/``CredentialsError`` (an unusable
    configuration: fixing it makes the retry succeed); any other failure is in the outcome.
    ``context`` is the platform's invocation context, handed to the guard unread. ``templates`` (a
    mapping or a zero-argument loader, e.g. the runtime's) serve template references.
    """
    key = tick_key(invocation)
    try:
        planned = resolve_push_spec(
            invocation.payload,
            reference=invocation.scheduled_time,
            app_key=getattr(client, "app_key", None),
            templates=templates,
        )
    except (ConfigurationError, CredentialsError) as exc:
        _misconfigured(exc)
        raise
    except Exception as exc:  # resolving the spec: any failure is the spec's (see the docstring)
        return _invalid(invocation, interpretation_failure(exc, field="spec"))

    results = run_planned(planned, guard=guard, client=client, key=key, scope=SCOPE, context=context)
    summary = _summary(invocation, key, results)
    for item in results:
        if item.state == FAILED and item.failure is not None and item.failure.status is Verdict.PERMANENT:
            _log_failure(invocation, item, "scheduled push refused permanently; not retried")
    transient = next((r for r in results if r.failure is not None and r.failure.status is Verdict.TRANSIENT), None)
    if transient is not None:
        _log_failure(invocation, transient, "scheduled push failed transiently; the tick will be retried")
        assert transient.failure is not None
        reason = f"item {transient.index}: {transient.failure.reason} ({transient.failure.error})"
        return TickOutcome(summary, key, (reason,), transient.error)
    return TickOutcome(summary, key)


# --- reporting ---------------------------------------------------------------------------------


def _summary(invocation: ScheduledInvocation, key: str, results: list[ItemResult]) -> dict[str, Any]:
    failed = [r for r in results if r.state == FAILED]
    return {
        "status": "partial" if failed else "ok",
        "trigger": invocation.trigger_name,
        "scheduled_time": format_api_time(invocation.scheduled_time),
        "key": key,
        "items": [r.to_dict() for r in results],
    }


def _invalid(
    invocation: ScheduledInvocation | None, failure: Failure, error: BaseException | None = None
) -> TickOutcome:
    trigger = invocation.trigger_name if invocation else getattr(error, "trigger_name", None)
    when = invocation.scheduled_time if invocation else getattr(error, "scheduled_time", None)
    fields = {
        "event": "scheduled_push.invalid",
        "function": FUNCTION_NAME,
        "trigger": safe_text(trigger) if trigger else None,
        "scheduled_time": format_api_time(when) if when else None,
        **failure.to_dict(),
    }
    logger.error("invalid schedule payload, not retried: %s", failure.message, extra={"fields": fields})
    summary = {
        "status": "invalid",
        "trigger": fields["trigger"],
        "scheduled_time": fields["scheduled_time"],
        "problems": failure.problems,
    }
    if failure.problems_omitted:
        summary["problems_omitted"] = failure.problems_omitted
    return TickOutcome(summary)


def _misconfigured(exc: Exception) -> None:
    fields = {
        "event": "scheduled_push.misconfigured",
        "function": FUNCTION_NAME,
        "error": type(exc).__name__,
        "message": safe_text(str(exc)),
    }
    logger.error("configuration unusable; the platform will retry: %s", fields["message"], extra={"fields": fields})


def _log_failure(invocation: ScheduledInvocation, item: ItemResult, message: str) -> None:
    assert item.failure is not None
    level = logging.ERROR if item.failure.status is Verdict.PERMANENT else logging.WARNING
    fields = {
        "event": f"scheduled_push.{item.failure.status.value}_failure",
        "function": FUNCTION_NAME,
        "trigger": invocation.trigger_name,
        "scheduled_time": format_api_time(invocation.scheduled_time),
        "index": item.index,
        **item.failure.to_dict(),
    }
    logger.log(level, "%s: %s", message, item.failure.message, extra={"fields": fields})
