"""Timer events of each platform, built from a few arguments (shapes of the reference samples
``fc_timer.json``, ``aws_eventbridge_scheduled_rule.json`` and ``aws_eventbridge_scheduler_input.json``).

``payload`` may be any JSON value: the FC factory encodes it to a string the way FC delivers it
(a string payload is passed through untouched).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pushfn.api_time import format_api_time

Time = datetime | str


def fc_timer_event(
    payload: Any = "awesome-fc",
    *,
    trigger_name: str = "timer-trigger",
    trigger_time: Time = "2023-12-26T07:49:00Z",
    as_bytes: bool = True,
) -> bytes | dict[str, Any]:
    """``{"triggerTime", "triggerName", "payload": "<string>"}``; bytes by default, as FC passes it."""
    event = {
        "triggerTime": _time(trigger_time),
        "triggerName": trigger_name,
        "payload": payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False),
    }
    return json.dumps(event, ensure_ascii=False).encode("utf-8") if as_bytes else event


def eventbridge_rule_event(
    *,
    rule_name: str = "my-scheduled-rule",
    time: Time = "2015-10-08T16:53:06Z",
    detail: dict[str, Any] | None = None,
    region: str = "us-east-1",
    account: str = "123456789012",
    event_id: str = "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
) -> dict[str, Any]:
    """An EventBridge rule ``Scheduled Event`` envelope (``detail`` is ``{}`` for a real schedule)."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": _time(time),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{rule_name}"],
        "detail": detail or {},
    }


def scheduler_input(
    spec: Any = None,
    *,
    schedule_name: str | None = None,
    scheduled_time: Time = "2022-03-22T18:59:43Z",
    job: str | None = "nightly",
    execution_id: str = "d32c5kddcf5bb8c3",
    attempt: int = 1,
    group: str = "default",
    region: str = "us-east-1",
    account: str = "123456789012",
) -> dict[str, Any]:
    """An EventBridge Scheduler ``Input`` with its context attributes substituted, as Lambda receives it.

    Without ``schedule_name`` it has the sample's fields only (``job`` names the schedule); with it,
    ``schedule_arn`` is added. ``spec`` (if not None) is put under ``spec``.
    """
    data: dict[str, Any] = {}
    if job is not None:
        data["job"] = job
    if schedule_name is not None:
        data["schedule_arn"] = f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{schedule_name}"
    data["scheduled_time"] = _time(scheduled_time)
    data["execution_id"] = execution_id
    data["attempt"] = str(attempt)
    if spec is not None:
        data["spec"] = spec
    return data


def _time(value: Time) -> str:
    return value if isinstance(value, str) else format_api_time(value)
