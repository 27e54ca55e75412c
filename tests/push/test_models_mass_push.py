"""MassPush model: task flattening to the form body, per-task rules reported as PushTask.N.Field."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pushfn.push.errors import InvalidRequestError
from pushfn.push.models import MassPush, PushTask, parse_request

NOW = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
APP_KEY = 23267207
VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "signature_vectors.json"


def task(**params: Any) -> dict[str, Any]:
    return {
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": "d1",
        "Title": "T",
        "Body": "B",
        **params,
    }


def parse(data: dict[str, Any]) -> MassPush:
    request = parse_request("MassPush", data, app_key=APP_KEY, now=NOW)
    assert isinstance(request, MassPush)
    return request


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("MassPush", data, app_key=APP_KEY, now=NOW)
    assert caught.value.action == "MassPush"
    return [(p.field, p.rule) for p in caught.value.problems]


def test_form_flattening_matches_the_reference_vector_exactly() -> None:
    vector = next(v for v in json.loads(VECTORS.read_text()) if v["id"] == "rpc-v2-masspush-form-body")
    tasks = [
        {
            "DeviceType": "ALL",
            "PushType": "MESSAGE",
            "Target": "ACCOUNT",
            "TargetValue": "acc1,acc2",
            "Title": "T1",
            "Body": "B 1",
        },
        {
            "DeviceType": "iOS",
            "PushType": "NOTICE",
            "Target": "DEVICE",
            "TargetValue": "e2ba19de97604f55b165576736477b74",
            "Title": "T2",
            "Body": "B2",
            "iOSApnsEnv": "DEV",
        },
    ]
    request = parse({"AppKey": vector["params"]["AppKey"], "PushTask": tasks})
    assert request.to_form() == vector["body_params"]
    assert list(request.to_form()) == list(vector["body_params"])  # same order too
    assert request.to_query() == {"AppKey": "23267207"}


@pytest.mark.parametrize("key", ["PushTask", "push_task", "tasks"])
def test_tasks_accept_three_spellings(key: str) -> None:
    assert parse({key: [task()]}).to_form() == {
        "PushTask.1.DeviceType": "ANDROID",
        "PushTask.1.PushType": "NOTICE",
        "PushTask.1.Target": "DEVICE",
        "PushTask.1.TargetValue": "d1",
        "PushTask.1.Title": "T",
        "PushTask.1.Body": "B",
    }


def test_idempotent_token_goes_in_the_query_and_tasks_use_wire_strings() -> None:
    token = "6f1d2f4e-8f57-4b8e-9a3c-2f1e0d9c8b7a"
    request = parse(
        {
            "IdempotentToken": token,
            "tasks": [
                task(StoreOffline=True, TargetValue=["a", "b"], ExpireTime=NOW + timedelta(hours=1)),
                task(AndroidExtParameters={"k": "中"}),
            ],
        }
    )
    assert request.to_query() == {"AppKey": str(APP_KEY), "IdempotentToken": token}
    form = request.to_form()
    assert form["PushTask.1.StoreOffline"] == "true"
    assert form["PushTask.1.TargetValue"] == "a,b"
    assert form["PushTask.1.ExpireTime"] == "2024-01-15T09:30:00Z"
    assert form["PushTask.2.AndroidExtParameters"] == '{"k":"中"}'


def test_task_models_can_be_passed_directly() -> None:
    request = parse({"tasks": [PushTask(**task()), task(Title="T2")]})
    assert request.to_form()["PushTask.2.Title"] == "T2"


def test_one_to_one_hundred_tasks() -> None:
    assert len(parse({"tasks": [task() for _ in range(100)]}).push_task) == 100
    assert problems({"tasks": [task() for _ in range(101)]}) == [("PushTask", "max_items")]
    assert problems({"tasks": []}) == [("PushTask", "min_items")]
    assert problems({}) == [("PushTask", "required")]


def test_task_problems_are_named_push_task_n_field_one_based() -> None:
    found = problems(
        {
            "tasks": [
                task(),
                task(Title="x" * 201),
                task(PushType="MESSAGE", Body="b" * 1800),  # content rule, found by the task's cross-field check
                task(AndroidOpenType="URL", iOSBadge=1, iOSBadgeAutoIncrement=True),
            ]
        }
    )
    assert found == [
        ("PushTask.2.Title", "max_bytes"),
        ("PushTask.3.Body", "max_bytes"),
        ("PushTask.4.AndroidOpenUrl", "required_with"),
        ("PushTask.4.iOSBadge", "mutually_exclusive"),
    ]


@pytest.mark.parametrize("target", ["TAG", "ALL", "TBD"])
def test_task_targets_are_device_account_alias_only(target: str) -> None:
    assert problems({"tasks": [task(Target=target, TargetValue=target)]}) == [("PushTask.1.Target", "enum")]


@pytest.mark.parametrize("field", ["SmsParams", "SmsDelaySecs", "AppKey", "IdempotentToken"])
def test_push_only_fields_are_unknown_in_a_task(field: str) -> None:
    assert problems({"tasks": [task(**{field: "1"})]}) == [(f"PushTask.1.{field}", "unknown_field")]


def test_unknown_task_field_gets_a_hint_from_the_task_fields() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("MassPush", {"tasks": [task(), task(IOSApnsEnv="DEV")]}, app_key=APP_KEY, now=NOW)
    (problem,) = caught.value.problems
    assert problem.field == "PushTask.2.IOSApnsEnv"
    assert "did you mean 'iOSApnsEnv'?" in problem.message


def test_unknown_top_level_field_gets_a_hint() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("MassPush", {"PushTasks": [task()]}, app_key=APP_KEY, now=NOW)
    messages = {p.field: p.message for p in caught.value.problems}
    assert "did you mean 'PushTask'?" in messages["PushTasks"]


def test_task_time_rules_use_the_reference_time() -> None:
    assert problems({"tasks": [task(PushTime=NOW + timedelta(days=8))]}) == [("PushTask.1.PushTime", "range")]
