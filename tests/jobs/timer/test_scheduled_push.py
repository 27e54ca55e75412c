"""The scheduled_push function end to end: event → guard (SQLite) → client → emulator (real HTTP)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from functions.scheduled_push.index import handler  # the deployed entry point, not a copy of it

from pushfn.api_time import format_api_time
from pushfn.idempotency import IdempotencyInProgressError
from pushfn.jobs.errors import RetryLaterError
from pushfn.push.errors import ServerError, ThrottledError
from pushfn.triggers.events.timer import eventbridge_rule_event, fc_timer_event, scheduler_input
from pushfn.triggers.timer import SCHEDULES_ENV

BASE = {"Target": "ACCOUNT", "TargetValue": "u1", "DeviceType": "ALL", "PushType": "NOTICE", "Title": "T", "Body": "B"}


def _next_minute() -> datetime:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return now + timedelta(minutes=1)


def _targets(emulator: Any) -> list[str]:
    return [p["params"]["TargetValue"] for p in emulator.pushes()]


def _item(target: str, **extra: Any) -> dict[str, Any]:
    return {**BASE, "TargetValue": target, **extra}


def test_fc_timer_tick_pushes_with_times_relative_to_the_scheduled_time(emulator, runtime):
    when = _next_minute()
    spec = {**BASE, "push_time": "+5m", "expire_after": "24h", "StoreOffline": True}
    summary = handler(fc_timer_event(spec, trigger_name="digest", trigger_time=when), None)

    assert summary["status"] == "ok"
    [push] = emulator.pushes()
    assert push["params"]["PushTime"] == format_api_time(when + timedelta(minutes=5))
    assert push["params"]["ExpireTime"] == format_api_time(when + timedelta(minutes=5, hours=24))
    assert summary["items"][0]["result"]["MessageId"] == push["message_id"]


def test_a_redelivered_tick_never_pushes_twice(emulator, runtime):
    when = _next_minute()
    event = fc_timer_event({**BASE, "push_time": "+5m"}, trigger_name="digest", trigger_time=when)
    first = handler(event, None)
    second = handler(event, None)

    assert len(emulator.pushes()) == 1
    assert second["items"][0]["state"] == "replayed"
    assert second["items"][0]["result"] == first["items"][0]["result"]
    # The next tick of the same trigger is a new run.
    handler(
        fc_timer_event({**BASE, "push_time": "+5m"}, trigger_name="digest", trigger_time=when + timedelta(minutes=1)),
        None,
    )
    assert len(emulator.pushes()) == 2


def test_a_late_redelivery_computes_the_same_request_and_is_replayed(emulator, runtime):
    """Relative times come from the scheduled time: a tick delivered again later is the same tick."""
    when = _next_minute()
    spec = [_item("a", push_time="+30m"), _item("b", push_time="+30m")]
    handler(fc_timer_event(spec, trigger_name="late", trigger_time=when), None)
    again = handler(fc_timer_event(spec, trigger_name="late", trigger_time=when), None)
    assert [i["state"] for i in again["items"]] == ["replayed", "replayed"]
    assert len(emulator.pushes()) == 2


def test_a_list_that_fails_half_way_resumes_where_it_stopped(emulator, runtime, fault_after_pushes):
    when = _next_minute()
    event = fc_timer_event([_item("a"), _item("b"), _item("c")], trigger_name="fanout", trigger_time=when)
    fault_after_pushes(1, "throttle")

    with pytest.raises(RetryLaterError) as exc:
        handler(event, None)
    assert isinstance(exc.value.__cause__, ThrottledError)
    assert _targets(emulator) == ["a"]  # "c" was not attempted after "b" failed

    # The platform retries the same event: "a" is replayed, "b" and "c" go out, in order.
    summary = handler(event, None)
    assert [i["state"] for i in summary["items"]] == ["replayed", "pushed", "pushed"]
    assert _targets(emulator) == ["a", "b", "c"]

    handler(event, None)  # and a third delivery changes nothing
    assert _targets(emulator) == ["a", "b", "c"]


def test_a_server_error_raises_and_the_retry_reuses_the_same_token(emulator, runtime):
    emulator.add_fault("internal_error", count=1)
    when = _next_minute()
    event = fc_timer_event(BASE, trigger_name="t", trigger_time=when)
    with pytest.raises(RetryLaterError) as exc:
        handler(event, None)
    assert isinstance(exc.value.__cause__, ServerError)

    # A 5xx may have been acted on, so the key stays in progress: an immediate redelivery waits.
    with pytest.raises(RetryLaterError) as exc:
        handler(event, None)
    assert isinstance(exc.value.__cause__, IdempotencyInProgressError)

    runtime.clock.advance(600)  # past the in-progress window
    assert handler(event, None)["status"] == "ok"
    assert handler(event, None)["items"][0]["state"] == "replayed"
    [push] = emulator.pushes()
    assert push["idempotent_token"] == runtime.guard("scheduled_push").idempotent_token(
        f"t#{format_api_time(when)}", "schedule"
    )


def test_an_invalid_payload_is_logged_with_field_and_rule_and_not_retried(emulator, runtime, caplog):
    caplog.set_level(logging.ERROR, logger="pushfn.jobs")
    event = fc_timer_event([_item("a"), {**BASE, "DeviceType": "WINDOWS"}], trigger_time=_next_minute())

    summary = handler(event, None)  # returns: raising would only make the platform retry in vain

    assert summary["status"] == "invalid"
    assert emulator.pushes() == []  # nothing from a broken list goes out, not even the good item
    [record] = [r for r in caplog.records if r.name == "pushfn.jobs.scheduled"]
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["event"] == "scheduled_push.invalid"
    assert {"field": "[1].DeviceType"}.items() <= fields["problems"][0].items()
    assert fields["problems"][0]["rule"]


def test_a_text_payload_like_the_fc_samples_is_invalid_not_retried(emulator, runtime, sample):
    summary = handler(sample("fc_timer.json"), None)
    assert summary["status"] == "invalid"
    assert summary["problems"][0]["field"] == "payload"
    assert emulator.pushes() == []


def test_a_push_the_service_refuses_is_reported_and_the_others_still_go_out(emulator, runtime, caplog):
    caplog.set_level(logging.ERROR, logger="pushfn.jobs")
    spec = [_item("a"), _item("b", AppKey=11111111), _item("c")]  # the emulator knows no such AppKey
    summary = handler(fc_timer_event(spec, trigger_time=_next_minute()), None)

    assert summary["status"] == "partial"
    assert [i["state"] for i in summary["items"]] == ["pushed", "failed", "pushed"]
    assert summary["items"][1]["failure"]["reason"] == "service_refused"
    assert _targets(emulator) == ["a", "c"]
    assert any(getattr(r, "fields", {}).get("event") == "scheduled_push.permanent_failure" for r in caplog.records)


def test_a_tick_delivered_after_its_relative_push_time_goes_out_at_once(emulator, runtime):
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    summary = handler(fc_timer_event(_item("late", push_time="+5m"), trigger_time=when), None)
    assert summary["status"] == "ok"
    [push] = emulator.pushes()
    assert "PushTime" not in push["params"]


def test_eventbridge_rule_tick_uses_the_configured_spec(emulator, runtime, monkeypatch):
    monkeypatch.setenv(SCHEDULES_ENV, json.dumps({"nightly": [_item("x"), _item("y")]}))
    event = eventbridge_rule_event(rule_name="nightly", time=format_api_time(_next_minute()))
    summary = handler(event, None)
    assert summary["key"].startswith("nightly#")
    handler(event, None)
    assert _targets(emulator) == ["x", "y"]


def test_eventbridge_scheduler_input_with_inline_spec(emulator, runtime):
    when = _next_minute()
    event = scheduler_input(_item("s", push_time="+1m"), schedule_name="reminders", scheduled_time=when)
    first = handler(event, None)
    # Scheduler retries carry a new execution id and attempt number; the scheduled time is what counts.
    retry = dict(event, execution_id="another", attempt="2")
    assert handler(retry, None)["items"][0]["state"] == "replayed"
    assert first["key"] == f"default/reminders#{format_api_time(when)}"
    [push] = emulator.pushes()
    assert push["params"]["PushTime"] == format_api_time(when + timedelta(minutes=1))


def test_template_reference_from_the_environment(emulator, runtime, monkeypatch):
    monkeypatch.setenv("PUSHFN_TEMPLATES", json.dumps({"digest": {**BASE, "Title": "Digest for {day}"}}))
    handler(
        fc_timer_event(
            {"template": "digest", "params": {"day": "Mon"}, "TargetValue": "u7"}, trigger_time=_next_minute()
        ),
        None,
    )
    [push] = emulator.pushes()
    assert (push["params"]["Title"], push["params"]["TargetValue"]) == ("Digest for Mon", "u7")
