"""Send planned pushes one by one, each under its own idempotency key.

Order matters to the people who write lists ("reminder, then follow-up"), and resuming a list must
not skip or repeat anything, so the items go out strictly in order:

- a success (or a replay of an earlier success) moves on to the next item;
- a permanent failure is recorded and the next item still goes out — the items are independent
  pushes and a retry would not fix this one anyway;
- a transient failure stops the run: the remaining items are marked ``skipped`` and the caller
  raises, so the platform's retry starts again from the top, replays the finished items from the
  guard's records and resumes exactly at the failed one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pushfn.jobs.outcomes import Failure, Verdict, sending_failure
from pushfn.specs.push_spec import PlannedPush

if TYPE_CHECKING:
    from pushfn.idempotency import Guard
    from pushfn.push import PushSender

PUSHED = "pushed"
REPLAYED = "replayed"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass(frozen=True)
class ItemResult:
    """What happened to one planned push. ``error`` keeps the exception for chaining, not for output."""

    index: int | None
    key: str
    state: str
    result: dict[str, Any] | None = None
    failure: Failure | None = None
    error: BaseException | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"state"}`` (``pushed``, ``replayed``, ``failed`` or ``skipped``) plus ``index``, ``result``
        (the push's answer, e.g. ``{"MessageId", "RequestId"}``) and ``failure`` when set; never ``error``."""
        data: dict[str, Any] = {"state": self.state}
        if self.index is not None:
            data["index"] = self.index
        if self.result is not None:
            data["result"] = self.result
        if self.failure is not None:
            data["failure"] = self.failure.to_dict()
        return data


def item_key(base: str, index: int | None) -> str:
    """The key of one list item: ``base#index`` (a single spec uses ``base`` itself)."""
    return base if index is None else f"{base}#{index}"


def run_planned(
    planned: Sequence[PlannedPush],
    *,
    guard: Guard,
    client: PushSender,
    key: str,
    scope: str,
    context: Any = None,
    expires_after_seconds: int | None = None,
) -> list[ItemResult]:
    """Push each planned request through ``guard``, one result per planned push, in order; see the
    module docstring for the rules. Never raises: every failure becomes a classified result.

    ``context`` is the platform's invocation context, handed to the guard unread (the guard's
    config derives the in-progress window from it); ``expires_after_seconds`` overrides the
    record's lifetime.
    """
    results: list[ItemResult] = []
    for position, plan in enumerate(planned):
        this_key = item_key(key, plan.index)
        try:
            outcome = guard.run(
                this_key,
                scope=scope,
                payload={"action": plan.action, "spec": plan.source},
                operation=lambda token, plan=plan: _send(client, plan, token),
                context=context,
                expires_after_seconds=expires_after_seconds,
            )
        except Exception as exc:  # every failure is classified; none escapes unrecorded
            failure = sending_failure(exc)
            results.append(ItemResult(plan.index, this_key, FAILED, failure=failure, error=exc))
            if failure.status is Verdict.TRANSIENT:
                results.extend(
                    ItemResult(rest.index, item_key(key, rest.index), SKIPPED) for rest in planned[position + 1 :]
                )
                break
            continue
        state = REPLAYED if outcome.replayed else PUSHED
        results.append(ItemResult(plan.index, this_key, state, result=dict(outcome.result)))
    return results


def overall_status(results: Sequence[ItemResult]) -> Verdict:
    """Transient beats permanent beats success: anything retryable must be retried."""
    statuses = {r.failure.status for r in results if r.failure is not None}
    if Verdict.TRANSIENT in statuses:
        return Verdict.TRANSIENT
    if Verdict.PERMANENT in statuses:
        return Verdict.PERMANENT
    return Verdict.SUCCESS


def _send(client: PushSender, plan: PlannedPush, token: str) -> dict[str, Any]:
    request = plan.request_at(datetime.now(timezone.utc))
    if plan.action == "MassPush":
        return client.mass_push(request, idempotent_token=token).to_dict()
    return client.push(request, idempotent_token=token).to_dict()
