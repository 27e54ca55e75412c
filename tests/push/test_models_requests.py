"""Device, alias and tag request models: list parameters, per-call limits, required fields."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from pushfn.push.errors import InvalidRequestError
from pushfn.push.models import REQUEST_TYPES, parse_request

NOW = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
APP_KEY = 23267207


def query(action: str, data: dict[str, Any]) -> dict[str, str]:
    request = parse_request(action, data, app_key=APP_KEY, now=NOW)
    assert request.to_form() == {}
    return request.to_query()


def fails(action: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request(action, data, app_key=APP_KEY, now=NOW)
    return [(p.field, p.rule) for p in caught.value.problems]


def test_every_documented_action_has_a_model() -> None:
    wanted = {
        "Push",
        "MassPush",
        "CancelPush",
        "QueryPushStatByMsg",
        "CheckDevices",
        "QueryDeviceInfo",
        "QueryDevicesByAccount",
        "BindAlias",
        "UnbindAlias",
        "QueryAliases",
        "QueryDevicesByAlias",
        "BindTag",
        "UnbindTag",
        "QueryTags",
        "ListTags",
        "RemoveTag",
        "CheckDevice",
    }
    assert wanted <= set(REQUEST_TYPES)
    assert all(model.action == action for action, model in REQUEST_TYPES.items())


@pytest.mark.parametrize("action", ["CancelPush", "QueryPushStatByMsg"])
def test_message_id_is_an_integer(action: str) -> None:
    assert query(action, {"MessageId": "500131"}) == {"AppKey": str(APP_KEY), "MessageId": "500131"}
    assert query(action, {"message_id": 500131})["MessageId"] == "500131"
    assert fails(action, {"MessageId": "msg-1"}) == [("MessageId", "type")]
    assert fails(action, {}) == [("MessageId", "required")]


def test_check_devices_takes_at_most_100_ids_as_list_or_string() -> None:
    ids = [f"d{i}" for i in range(100)]
    assert query("CheckDevices", {"DeviceIds": ids}) == query("CheckDevices", {"device_ids": ",".join(ids)})
    assert query("CheckDevices", {"DeviceIds": ids})["DeviceIds"] == ",".join(ids)
    assert fails("CheckDevices", {"DeviceIds": [*ids, "d100"]}) == [("DeviceIds", "max_items")]
    assert fails("CheckDevices", {"DeviceIds": "a,,b"}) == [("DeviceIds", "format")]


@pytest.mark.parametrize("action", ["QueryDeviceInfo", "CheckDevice", "QueryAliases", "UnbindPhone"])
def test_single_device_actions_need_a_device_id(action: str) -> None:
    assert query(action, {"DeviceId": "d1"}) == {"AppKey": str(APP_KEY), "DeviceId": "d1"}
    assert fails(action, {}) == [("DeviceId", "required")]
    assert fails(action, {"DeviceId": ""}) == [("DeviceId", "not_empty")]


def test_query_devices_by_account_and_alias_limits() -> None:
    assert query("QueryDevicesByAccount", {"Account": "a" * 64})["Account"] == "a" * 64
    assert fails("QueryDevicesByAccount", {"Account": "中" * 22}) == [("Account", "max_bytes")]  # 66 bytes
    assert query("QueryDevicesByAlias", {"Alias": "a" * 128})["Alias"] == "a" * 128
    assert fails("QueryDevicesByAlias", {"Alias": "a" * 129}) == [("Alias", "max_bytes")]


def test_bind_alias_limits() -> None:
    aliases = [f"alias{i}" for i in range(10)]
    assert query("BindAlias", {"DeviceId": "d1", "AliasName": aliases})["AliasName"] == ",".join(aliases)
    assert fails("BindAlias", {"DeviceId": "d1", "AliasName": [*aliases, "x"]}) == [("AliasName", "max_items")]
    assert query("BindAlias", {"DeviceId": "d1", "AliasName": "a" * 128})
    assert fails("BindAlias", {"DeviceId": "d1", "AliasName": "ok," + "中" * 43}) == [("AliasName", "max_bytes")]
    assert fails("BindAlias", {"DeviceId": "d1"}) == [("AliasName", "required")]


def test_unbind_alias_needs_names_unless_unbind_all() -> None:
    assert query("UnbindAlias", {"DeviceId": "d1", "UnbindAll": True})["UnbindAll"] == "true"
    assert query("UnbindAlias", {"DeviceId": "d1", "AliasName": ["a", "b"]})["AliasName"] == "a,b"
    assert fails("UnbindAlias", {"DeviceId": "d1"}) == [("AliasName", "required")]
    assert fails("UnbindAlias", {"DeviceId": "d1", "UnbindAll": False}) == [("AliasName", "required")]
    assert fails("UnbindAlias", {"DeviceId": "d1", "AliasName": [f"a{i}" for i in range(11)]}) == [
        ("AliasName", "max_items")
    ]


@pytest.mark.parametrize("action", ["BindTag", "UnbindTag"])
def test_bind_and_unbind_tag_limits(action: str) -> None:
    base = {"KeyType": "DEVICE", "ClientKey": "d1", "TagName": "t"}
    keys = [f"d{i}" for i in range(1000)]
    assert query(action, {**base, "ClientKey": keys})["ClientKey"] == ",".join(keys)
    assert fails(action, {**base, "ClientKey": [*keys, "x"]}) == [("ClientKey", "max_items")]
    tags = [f"t{i}" for i in range(10)]
    assert query(action, {**base, "TagName": tags})["TagName"] == ",".join(tags)
    assert fails(action, {**base, "TagName": [*tags, "x"]}) == [("TagName", "max_items")]
    assert query(action, {**base, "TagName": "中" * 128})  # characters, not bytes
    assert fails(action, {**base, "TagName": "t," + "a" * 129}) == [("TagName", "max_length")]
    assert query(action, {**base, "KeyType": "DEVICE"})["KeyType"] == "DEVICE"
    # Only devices are tagged today: ACCOUNT and ALIAS are refused before anything is sent.
    for key_type in ("ACCOUNT", "ALIAS", "device"):
        assert fails(action, {**base, "KeyType": key_type}) == [("KeyType", "enum")]


def test_query_tags_list_tags_and_remove_tag() -> None:
    assert query("QueryTags", {"ClientKey": "d1", "KeyType": "ALIAS"}) == {
        "AppKey": str(APP_KEY),
        "ClientKey": "d1",
        "KeyType": "ALIAS",
    }
    assert query("ListTags", {}) == {"AppKey": str(APP_KEY)}
    assert query("RemoveTag", {"TagName": "t" * 128}) == {"AppKey": str(APP_KEY), "TagName": "t" * 128}
    assert fails("RemoveTag", {"TagName": "t" * 129}) == [("TagName", "max_length")]
    assert fails("RemoveTag", {"TagName": "a,b"}) == [("TagName", "max_items")]


def test_list_tags_rejects_unknown_parameters_with_a_hint() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("ListTags", {"appkey": 1}, now=NOW)
    found = {p.field: (p.rule, p.message) for p in caught.value.problems}
    assert found["AppKey"][0] == "required"
    assert found["appkey"][0] == "unknown_field"
    assert "did you mean 'AppKey'?" in found["appkey"][1]


def test_missing_app_key_is_reported_for_every_action() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("QueryAliases", {"DeviceId": "d1"}, now=NOW)
    assert [(p.field, p.rule) for p in caught.value.problems] == [("AppKey", "required")]


def test_continuously_push_targets() -> None:
    params = {"MessageId": "m1", "Target": "ACCOUNT", "TargetValue": [f"a{i}" for i in range(1000)]}
    assert query("ContinuouslyPush", params)["MessageId"] == "m1"
    assert fails("ContinuouslyPush", {**params, "TargetValue": [f"a{i}" for i in range(1001)]}) == [
        ("TargetValue", "max_items")
    ]
    assert fails("ContinuouslyPush", {**params, "Target": "TAG"}) == [("Target", "enum")]


def test_query_device_stat_times() -> None:
    params = {"StartTime": "2024-01-01T00:00:00Z", "EndTime": "2024-01-10T00:00:00Z", "QueryType": "NEW"}
    assert query("QueryDeviceStat", params)["EndTime"] == "2024-01-10T00:00:00Z"
    assert fails("QueryDeviceStat", {**params, "EndTime": "2023-12-31T00:00:00Z"}) == [("EndTime", "range")]


def test_statistics_queries() -> None:
    period = {"StartTime": "2024-01-01T00:00:00Z", "EndTime": "2024-02-01T00:00:00Z"}
    assert query("QueryPushStatByApp", {**period, "Granularity": "DAY"})["Granularity"] == "DAY"
    too_long = {**period, "EndTime": "2024-02-01T00:00:01Z", "Granularity": "DAY"}
    assert fails("QueryPushStatByApp", too_long) == [("EndTime", "range")]
    assert query("QueryUniqueDeviceStat", {**period, "Granularity": "MONTH"})["StartTime"] == "2024-01-01T00:00:00Z"
    records = {**period, "Page": 10_000, "PageSize": 100, "PushType": "LIVE_ACTIVITY", "Target": "TAG"}
    assert query("QueryPushRecords", records)["PageSize"] == "100"
    assert fails("QueryPushRecords", {**records, "PageSize": 101, "Page": 0}) == [
        ("Page", "range"),
        ("PageSize", "range"),
    ]
