"""Push request model: every documented limit at its boundary (passes) and one past it (fails)."""

from __future__ import annotations

import inspect
import json
import typing
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pushfn.push.errors import InvalidRequestError
from pushfn.push.models import REQUEST_TYPES, Push, PushTask, parse_request

NOW = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
APP_KEY = 23267207


def android(**params: Any) -> dict[str, Any]:
    return {
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": "d1",
        "Title": "T",
        "Body": "B",
        **params,
    }


def ios(**params: Any) -> dict[str, Any]:
    return {"DeviceType": "iOS", "PushType": "NOTICE", "Target": "DEVICE", "TargetValue": "d1", "Body": "B", **params}


def parse(data: dict[str, Any]) -> Push:
    request = parse_request("Push", data, app_key=APP_KEY, now=NOW)
    assert isinstance(request, Push)
    return request


def problems(data: dict[str, Any], action: str = "Push") -> list[tuple[str, str]]:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request(action, data, app_key=APP_KEY, now=NOW)
    assert caught.value.action == action
    return [(p.field, p.rule) for p in caught.value.problems]


def fails(data: dict[str, Any], field: str, rule: str) -> str:
    """Assert exactly this (field, rule) is among the problems; return its message."""
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("Push", data, app_key=APP_KEY, now=NOW)
    found = [p for p in caught.value.problems if (p.field, p.rule) == (field, rule)]
    assert found, f"expected {field}/{rule}, got {caught.value.problems}"
    return found[0].message


# --- field set vs the official SDK -------------------------------------------------------------


def _sdk_fields(cls: type) -> dict[str, str]:
    """API name -> annotation of an official SDK request class (probed through its to_map)."""
    fields = {}
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        (api,) = [k for k, v in cls(**{name: "probe"}).to_map().items() if v == "probe"]
        fields[api] = str(parameter.annotation)
    return fields


def _base_types(annotation: Any) -> set[type]:
    if isinstance(annotation, type):
        return {annotation}
    return {t for arg in typing.get_args(annotation) for t in _base_types(arg)} - {type(None)}


def test_push_fields_equal_the_official_sdk_push_request() -> None:
    sdk = pytest.importorskip("alibabacloud_push20160801.models", reason="official SDK (test-only) not installed")
    expected = _sdk_fields(sdk.PushRequest)
    ours = {field.alias: field.annotation for field in Push.model_fields.values()}
    assert len(expected) == 121
    assert set(ours) == set(expected)
    scalar = {"int": int, "bool": bool, "float": float}
    for api, sdk_type in expected.items():
        if sdk_type in scalar:
            assert _base_types(ours[api]) == {scalar[sdk_type]}, api


def test_push_task_fields_equal_the_official_sdk_mass_push_task() -> None:
    sdk = pytest.importorskip("alibabacloud_push20160801.models", reason="official SDK (test-only) not installed")
    expected = set(_sdk_fields(sdk.MassPushRequestPushTask))
    assert len(expected) == 114
    assert {field.alias for field in PushTask.model_fields.values()} == expected


# --- names ---------------------------------------------------------------------------------------


def test_snake_case_and_api_names_give_identical_wire_params() -> None:
    api = parse(
        ios(
            iOSBadge=3,
            iOSApnsEnv="DEV",
            AndroidOpenType="URL",
            AndroidOpenUrl="https://x",
            StoreOffline=True,
            iOSExtParameters={"a": 1},
        )
    )
    snake = parse(
        {
            "device_type": "iOS",
            "push_type": "NOTICE",
            "target": "DEVICE",
            "target_value": "d1",
            "body": "B",
            "ios_badge": 3,
            "ios_apns_env": "DEV",
            "android_open_type": "URL",
            "android_open_url": "https://x",
            "store_offline": True,
            "ios_ext_parameters": {"a": 1},
        }
    )
    assert api.to_query() == snake.to_query()
    assert api.to_query()["iOSBadge"] == "3"
    assert snake.ios_badge == 3


@pytest.mark.parametrize("wrong", ["IOSBadge", "iosBadge", "IosBadge", "iosbadge", "IOS_BADGE"])
def test_wrong_case_ios_name_is_rejected_with_a_hint(wrong: str) -> None:
    message = fails(ios(**{wrong: 1}), wrong, "unknown_field")
    assert "did you mean 'iOSBadge'?" in message


def test_unknown_name_gets_a_close_match_hint_and_other_problems_still_reported() -> None:
    found = problems(android(Tilte="x", AndroidOpenTyp="URL", Zzzzzz=1, Body=""))
    assert ("Tilte", "unknown_field") in found
    assert ("AndroidOpenTyp", "unknown_field") in found
    assert ("Zzzzzz", "unknown_field") in found
    assert ("Body", "not_empty") in found
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("Push", android(Tilte="x"), app_key=APP_KEY, now=NOW)
    assert "did you mean 'Title'?" in caught.value.problems[0].message


def test_both_spellings_of_one_field_is_a_duplicate() -> None:
    assert ("iOSBadge", "duplicate_field") in problems(ios(iOSBadge=1, ios_badge=2))


def test_unknown_action_gets_a_hint() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("push", android(), app_key=APP_KEY, now=NOW)
    (problem,) = caught.value.problems
    assert (problem.field, problem.rule) == ("Action", "unknown_action")
    assert "did you mean 'Push'?" in problem.message


# --- AppKey and entry points ---------------------------------------------------------------------


def test_app_key_is_filled_when_absent_and_kept_when_given() -> None:
    assert parse(android()).to_query()["AppKey"] == str(APP_KEY)
    given = parse_request("Push", android(AppKey="333"), app_key=APP_KEY, now=NOW)
    assert given.to_query()["AppKey"] == "333"


def test_missing_app_key_is_a_problem_on_app_key_reported_with_the_others() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("Push", android(Title=None), now=NOW)
    assert [(p.field, p.rule) for p in caught.value.problems] == [("AppKey", "required"), ("Title", "required")]


def test_a_model_instance_is_revalidated_against_now() -> None:
    later = NOW + timedelta(days=1)
    # Built against `later` (direct construction would check against the real clock).
    request = Push.model_validate(android(PushTime=later + timedelta(days=6, hours=1)), context={"now": later})
    assert parse_request("Push", request, app_key=APP_KEY, now=later).to_query()["AppKey"] == str(APP_KEY)
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("Push", request, app_key=APP_KEY, now=NOW)
    assert [(p.field, p.rule) for p in caught.value.problems] == [("PushTime", "range")]


def test_a_model_of_another_action_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("CancelPush", parse(android()), app_key=APP_KEY, now=NOW)
    assert caught.value.problems[0].field == "Action"


def test_direct_construction_raises_invalid_request_error() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        Push(DeviceType="iOS", PushType="NOTICE", Target="DEVICE", TargetValue="d1", iOSBadge="many")
    assert [(p.field, p.rule) for p in caught.value.problems] == [("iOSBadge", "type")]


def test_request_types_cover_push_and_mass_push() -> None:
    assert REQUEST_TYPES["Push"] is Push
    assert REQUEST_TYPES["MassPush"].action == "MassPush"


# --- serialisation -------------------------------------------------------------------------------


def test_wire_strings_for_booleans_numbers_times_and_json() -> None:
    query = parse(
        android(
            StoreOffline=True,
            Trim="false",
            AndroidRemind=False,
            iOSRelevanceScore=0.5,
            AndroidNotificationBarPriority="-2",
            PushTime=datetime(2024, 1, 15, 17, 0, 5, 999, tzinfo=timezone(timedelta(hours=8))),
            AndroidExtParameters='{ "k" : "中文", "n": [1, 2] }',
            SendChannels=["huawei", "xiaomi"],
        )
    ).to_query()
    assert query["StoreOffline"] == "true"
    assert query["Trim"] == "false"
    assert query["AndroidRemind"] == "false"
    assert query["iOSRelevanceScore"] == "0.5"
    assert query["AndroidNotificationBarPriority"] == "-2"
    assert query["PushTime"] == "2024-01-15T09:00:05Z"
    assert query["AndroidExtParameters"] == '{"k":"中文","n":[1,2]}'
    assert query["SendChannels"] == "huawei,xiaomi"


def test_only_set_fields_are_sent_and_form_is_empty() -> None:
    request = parse(android())
    assert request.to_query() == {
        "AppKey": str(APP_KEY),
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": "d1",
        "Title": "T",
        "Body": "B",
    }
    assert request.to_form() == {}


def test_target_value_list_is_comma_joined() -> None:
    assert parse(android(TargetValue=["a", "b", "c"])).to_query()["TargetValue"] == "a,b,c"


# --- Title / Body ----------------------------------------------------------------------------------


def test_title_limit_is_200_utf8_bytes() -> None:
    parse(android(Title="x" * 200))
    parse(android(Title="中" * 66 + "xx"))  # 200 bytes
    assert "200" in fails(android(Title="x" * 201), "Title", "max_bytes")
    fails(android(Title="中" * 67), "Title", "max_bytes")  # 201 bytes


@pytest.mark.parametrize("device_type", ["ANDROID", "HARMONY", "ALL"])
def test_title_required_except_for_ios(device_type: str) -> None:
    fails(android(DeviceType=device_type, Title=None), "Title", "required")


def test_title_optional_for_ios_and_empty_values_rejected() -> None:
    parse(ios())
    fails(ios(Title=""), "Title", "not_empty")
    fails(ios(Body=""), "Body", "not_empty")


def test_body_required_unless_ios_live_activity() -> None:
    fails(android(Body=None), "Body", "required")
    fails(ios(Body=None), "Body", "required")
    parse(ios(Body=None, iOSLiveActivityEvent="update", iOSLiveActivityId="a1"))


# --- content size (1,800 bytes) ------------------------------------------------------------------


def test_android_message_title_plus_body_limit() -> None:
    parse(android(PushType="MESSAGE", Title="t" * 100, Body="b" * 1700))
    message = fails(android(PushType="MESSAGE", Title="t" * 100, Body="b" * 1701), "Body", "max_bytes")
    assert "1801" in message and "1800" in message


def test_android_notice_counts_music_open_fields_and_ext_parameters() -> None:
    ext = {"k": "v"}  # {"k":"v"} = 9 bytes
    fixed = dict(Title="t", AndroidMusic="m", AndroidOpenType="URL", AndroidOpenUrl="u", AndroidExtParameters=ext)
    used = 1 + 1 + 3 + 1 + 9
    parse(android(**fixed, Body="b" * (1800 - used)))
    message = fails(android(**fixed, Body="b" * (1801 - used)), "Body", "max_bytes")
    assert "AndroidExtParameters" in message


def test_cjk_counts_three_bytes_in_content() -> None:
    parse(android(PushType="MESSAGE", Title="t", Body="中" * 599 + "xx"))  # 1 + 1797 + 2
    fails(android(PushType="MESSAGE", Title="t", Body="中" * 600), "Body", "max_bytes")  # 1801


def test_ios_notice_counts_body_music_badge_ext_not_title() -> None:
    fixed = dict(Title="t" * 150, iOSMusic="m", iOSBadge=12, iOSExtParameters={"a": "b"})  # 1+2+9
    parse(ios(**fixed, Body="b" * (1800 - 12)))
    fails(ios(**fixed, Body="b" * (1801 - 12)), "Body", "max_bytes")


def test_ios_message_title_plus_body() -> None:
    parse(ios(PushType="MESSAGE", Title="t" * 100, Body="b" * 1700))
    fails(ios(PushType="MESSAGE", Title="t" * 100, Body="b" * 1701), "Body", "max_bytes")


def test_device_type_all_must_satisfy_each_platform_rule() -> None:
    # Only the iOS notice rule counts iOSExtParameters; only the Android one counts Title.
    big_ext = {"a": "x" * 1790}  # 1798 bytes of JSON
    message = fails(android(DeviceType="ALL", iOSExtParameters=big_ext, Body="bbb"), "Body", "max_bytes")
    assert message.startswith("iOS notice")
    parse(android(DeviceType="iOS", Title=None, Body="b", iOSExtParameters={"a": "x" * 1789}))
    message = fails(android(DeviceType="ALL", Title="t" * 200, Body="b" * 1601), "Body", "max_bytes")
    assert message.startswith("Android notice")


# --- Target / TargetValue ----------------------------------------------------------------------


@pytest.mark.parametrize("target", ["DEVICE", "ACCOUNT", "ALIAS"])
def test_list_targets_take_at_most_1000_values(target: str) -> None:
    parse(android(Target=target, TargetValue=[f"v{i}" for i in range(1000)]))
    message = fails(android(Target=target, TargetValue=[f"v{i}" for i in range(1001)]), "TargetValue", "max_items")
    assert "1000" in message


@pytest.mark.parametrize("value", ["a,,b", "a,", ",a", ""])
def test_list_targets_reject_empty_items(value: str) -> None:
    fails(android(TargetValue=value), "TargetValue", "format")


@pytest.mark.parametrize(("target", "limit"), [("ACCOUNT", 64), ("ALIAS", 128)])
def test_account_and_alias_item_byte_limits(target: str, limit: int) -> None:
    parse(android(Target=target, TargetValue=f"ok,{'a' * limit}"))
    message = fails(android(Target=target, TargetValue=f"ok,{'a' * (limit + 1)}"), "TargetValue", "max_bytes")
    assert "a" * 10 not in message  # the value itself is never echoed


def test_all_and_tbd_need_their_fixed_values() -> None:
    parse(android(Target="ALL", TargetValue="ALL"))
    fails(android(Target="ALL", TargetValue="all"), "TargetValue", "format")
    parse(android(Target="TBD", TargetValue="TBD"))
    fails(android(Target="TBD", TargetValue="d1"), "TargetValue", "format")


def test_tbd_forbids_push_time() -> None:
    fails(android(Target="TBD", TargetValue="TBD", PushTime=NOW + timedelta(hours=1)), "PushTime", "not_allowed")


def test_plain_tag_name_limits() -> None:
    parse(android(Target="TAG", TargetValue="t" * 128))
    fails(android(Target="TAG", TargetValue="t" * 129), "TargetValue", "max_length")
    fails(android(Target="TAG", TargetValue="a,b"), "TargetValue", "format")


def test_tag_expression_as_dict_or_json_text_is_sent_compact() -> None:
    expression = {"and": [{"tag": "t1"}, {"not": {"tag": "t2"}}, {"or": [{"tag": "t3"}, {"tag": "t4"}]}]}
    compact = json.dumps(expression, separators=(",", ":"))
    assert parse(android(Target="TAG", TargetValue=expression)).to_query()["TargetValue"] == compact
    spaced = json.dumps(expression, indent=2)
    assert parse(android(Target="TAG", TargetValue=spaced)).to_query()["TargetValue"] == compact


def _nest(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"tag": "leaf"}
    for level in range(depth):
        node = {("and", "or")[level % 2]: [node, {"tag": f"t{level}"}]}
    return node


def test_tag_expression_depth_operands_and_tag_count_limits() -> None:
    tag = dict(Target="TAG")
    parse(android(**tag, TargetValue=_nest(2)))
    fails(android(**tag, TargetValue=_nest(3)), "TargetValue", "max_depth")
    parse(android(**tag, TargetValue={"or": [{"tag": f"t{i}"} for i in range(10)]}))
    fails(android(**tag, TargetValue={"or": [{"tag": f"t{i}"} for i in range(11)]}), "TargetValue", "max_items")
    fifty = {"or": [{"and": [{"tag": f"t{i}-{j}"} for j in range(5)]} for i in range(10)]}
    parse(android(**tag, TargetValue=fifty))
    fifty_one = {"or": [*fifty["or"][:9], {"and": [{"tag": f"x{j}"} for j in range(6)]}]}
    assert "at most 50 tags" in fails(android(**tag, TargetValue=fifty_one), "TargetValue", "max_items")


@pytest.mark.parametrize(
    "expression",
    [
        {"not": {"tag": "a"}},  # not alone at the top
        {"and": []},  # no operands
        {"xor": [{"tag": "a"}]},  # unknown keyword
        {"tag": "a", "or": [{"tag": "b"}]},  # two keywords in one node
        {"or": [{"tag": ""}]},  # empty tag
        {"or": ["a"]},  # operand is not an object
        "{not json",
    ],
)
def test_malformed_tag_expressions(expression: Any) -> None:
    fails(android(Target="TAG", TargetValue=expression), "TargetValue", "format")


def test_tag_in_expression_is_at_most_128_chars() -> None:
    parse(android(Target="TAG", TargetValue={"or": [{"tag": "a" * 128}]}))
    fails(android(Target="TAG", TargetValue={"or": [{"tag": "a" * 129}]}), "TargetValue", "max_length")


# --- PushTime / ExpireTime -------------------------------------------------------------------------


def test_push_time_at_most_7_days_ahead() -> None:
    parse(android(PushTime=NOW + timedelta(days=7)))
    assert "7 days" in fails(android(PushTime=NOW + timedelta(days=7, seconds=1)), "PushTime", "range")


def test_push_time_may_be_slightly_in_the_past_only() -> None:
    parse(android(PushTime=NOW - timedelta(seconds=60)))
    fails(android(PushTime=NOW - timedelta(seconds=61)), "PushTime", "range")


def test_naive_times_are_rejected_z_and_offsets_accepted() -> None:
    assert "timezone required" in fails(android(PushTime=datetime(2024, 1, 15, 9)), "PushTime", "format")
    fails(android(PushTime="2024-01-15T09:00:00"), "PushTime", "format")
    fails(android(PushTime="tomorrow"), "PushTime", "format")
    assert parse(android(PushTime="2024-01-15T09:00:00Z")).to_query()["PushTime"] == "2024-01-15T09:00:00Z"
    assert parse(android(PushTime="2024-01-15T17:00:00+08:00")).to_query()["PushTime"] == "2024-01-15T09:00:00Z"


def test_expire_time_window_relative_to_now() -> None:
    parse(android(ExpireTime=NOW + timedelta(seconds=4)))
    fails(android(ExpireTime=NOW + timedelta(seconds=3)), "ExpireTime", "range")
    parse(android(ExpireTime=NOW + timedelta(hours=72)))
    fails(android(ExpireTime=NOW + timedelta(hours=72, seconds=1)), "ExpireTime", "range")


def test_expire_time_window_relative_to_push_time() -> None:
    push_at = NOW + timedelta(days=2)
    parse(android(PushTime=push_at, ExpireTime=push_at + timedelta(hours=72)))
    fails(android(PushTime=push_at, ExpireTime=push_at + timedelta(hours=72, seconds=1)), "ExpireTime", "range")
    fails(android(PushTime=push_at, ExpireTime=push_at + timedelta(seconds=3)), "ExpireTime", "range")
    parse(android(PushTime=push_at, ExpireTime=push_at + timedelta(seconds=4)))


# --- JSON parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["AndroidExtParameters", "iOSExtParameters", "HarmonyExtParameters"])
def test_ext_parameters_take_a_dict_or_json_object_text(field: str) -> None:
    assert parse(android(**{field: {"a": 1}})).to_query()[field] == '{"a":1}'
    assert parse(android(**{field: '{"a": 1}'})).to_query()[field] == '{"a":1}'
    fails(android(**{field: "[1, 2]"}), field, "format")
    fails(android(**{field: "a=1"}), field, "format")


@pytest.mark.parametrize("field", ["AndroidOppoPrivateContentParameters", "AndroidOppoPrivateTitleParameters"])
def test_oppo_private_parameters_are_string_maps_sent_as_json(field: str) -> None:
    assert parse(android(**{field: {"name": "张三"}})).to_query()[field] == '{"name":"张三"}'
    fails(android(**{field: "not json"}), field, "format")


def test_inbox_item_limits() -> None:
    parse(android(AndroidInboxBody=["l"] * 5))
    parse(android(AndroidInboxBody=json.dumps(["l"] * 5)))
    fails(android(AndroidInboxBody=["l"] * 6), "AndroidInboxBody", "max_items")
    fails(android(AndroidInboxBody='{"a": 1}'), "AndroidInboxBody", "format")
    harmony = dict(DeviceType="HARMONY", HarmonyRenderStyle="MULTI_LINE")
    parse(android(**harmony, HarmonyInboxContent=["l"] * 3))
    fails(android(**harmony, HarmonyInboxContent=["l"] * 4), "HarmonyInboxContent", "max_items")
    fails(android(**harmony), "HarmonyInboxContent", "required_with")


def test_vendor_json_payloads_must_be_json() -> None:
    payload = {"x": [1, "二"]}
    assert parse(android(AndroidXiaomiFocusParam=payload)).to_query()["AndroidXiaomiFocusParam"] == '{"x":[1,"二"]}'
    fails(android(HarmonyLiveViewPayload="{broken"), "HarmonyLiveViewPayload", "format")


# --- dependencies between fields ---------------------------------------------------------------


def test_ios_badge_and_auto_increment_are_mutually_exclusive() -> None:
    parse(ios(iOSBadge=5, iOSBadgeAutoIncrement=False))
    parse(ios(iOSBadgeAutoIncrement=True))
    fails(ios(iOSBadge=5, iOSBadgeAutoIncrement=True), "iOSBadge", "mutually_exclusive")


def test_android_open_type_needs_its_target() -> None:
    fails(android(AndroidOpenType="ACTIVITY"), "AndroidActivity", "required_with")
    parse(android(AndroidOpenType="ACTIVITY", AndroidActivity="com.example.Main"))
    fails(android(AndroidOpenType="URL"), "AndroidOpenUrl", "required_with")
    parse(android(AndroidOpenType="URL", AndroidOpenUrl="https://example.com"))


def test_popup_needs_title_and_body_within_char_limits() -> None:
    found = problems(android(AndroidPopupActivity="com.example.Popup"))
    assert ("AndroidPopupTitle", "required_with") in found and ("AndroidPopupBody", "required_with") in found
    popup = dict(AndroidPopupActivity="com.example.Popup")
    parse(android(**popup, AndroidPopupTitle="中" * 50, AndroidPopupBody="中" * 200))  # characters, not bytes
    fails(android(**popup, AndroidPopupTitle="中" * 51, AndroidPopupBody="b"), "AndroidPopupTitle", "max_length")
    fails(android(**popup, AndroidPopupTitle="t", AndroidPopupBody="b" * 201), "AndroidPopupBody", "max_length")


def test_big_title_and_big_body_byte_limits() -> None:
    parse(android(AndroidBigTitle="中" * 66 + "xx", AndroidBigBody="b" * 1000))
    fails(android(AndroidBigTitle="x" * 201), "AndroidBigTitle", "max_bytes")
    fails(android(AndroidBigBody="中" * 334), "AndroidBigBody", "max_bytes")  # 1002 bytes


def test_oppo_notify_level_needs_a_category() -> None:
    fails(android(AndroidMessageOppoNotifyLevel=2), "AndroidMessageOppoCategory", "required_with")
    parse(android(AndroidMessageOppoNotifyLevel=16, AndroidMessageOppoCategory="IM"))


def test_live_activity_start_needs_attributes_and_harmony_custom_page_needs_a_target() -> None:
    found = problems(ios(iOSLiveActivityEvent="start"))
    assert ("iOSLiveActivityAttributes", "required_with") in found
    assert ("iOSLiveActivityAttributesType", "required_with") in found
    fails(android(DeviceType="HARMONY", HarmonyActionType="APP_CUSTOM_PAGE"), "HarmonyAction", "required_with")
    parse(android(DeviceType="HARMONY", HarmonyActionType="APP_CUSTOM_PAGE", HarmonyUri="app://page"))


def test_sms_fallback_needs_template_sign_and_delay() -> None:
    found = problems(android(SmsParams="code=1"))
    assert {
        ("SmsTemplateName", "required_with"),
        ("SmsSignName", "required_with"),
        ("SmsDelaySecs", "required_with"),
    } <= set(found)
    parse(android(SmsParams="code=1", SmsTemplateName="SMS_1", SmsSignName="Shop", SmsDelaySecs=15))


# --- ranges and enums --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("AndroidNotificationBarType", [1, 100], [0, 101]),
        ("AndroidNotificationBarPriority", [-2, 2], [-3, 3]),
        ("AndroidBadgeAddNum", [1, 99], [0, 100]),
        ("AndroidBadgeSetNum", [0, 99], [-1, 100]),
        ("iOSRelevanceScore", [0, 1, 0.25], [-0.01, 1.01]),
        ("AndroidRenderStyle", [0, 3], [-1, 4]),
        ("SmsSendPolicy", [0, 1], [-1, 2]),
        ("AndroidHuaweiTargetUserType", [0, 1], [2]),
    ],
)
def test_numeric_ranges(field: str, good: list[float], bad: list[float]) -> None:
    sms = dict(SmsTemplateName="SMS_1", SmsSignName="Shop", SmsDelaySecs=15) if field.startswith("Sms") else {}
    for value in good:
        parse(android(**sms, **{field: value}))
    for value in bad:
        fails(android(**sms, **{field: value}), field, "range")


def test_oppo_notify_level_is_one_of_1_2_16() -> None:
    category = dict(AndroidMessageOppoCategory="IM")
    for value in (1, 2, 16):
        parse(android(**category, AndroidMessageOppoNotifyLevel=value))
    for value in (0, 3, 15):
        fails(android(**category, AndroidMessageOppoNotifyLevel=value), "AndroidMessageOppoNotifyLevel", "range")


def test_sms_delay_at_most_3_days() -> None:
    sms = dict(SmsTemplateName="SMS_1", SmsSignName="Shop")
    parse(android(**sms, SmsDelaySecs=3 * 86400))
    fails(android(**sms, SmsDelaySecs=3 * 86400 + 1), "SmsDelaySecs", "range")


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("DeviceType", "HARMONY", "ios"),
        ("PushType", "MESSAGE", "notice"),
        ("Target", "ALIAS", "USER"),
        ("iOSApnsEnv", "PRODUCT", "PROD"),
        ("AndroidNotifyType", "BOTH", "LOUD"),
        ("AndroidOpenType", "NONE", "APP"),
        ("iOSInterruptionLevel", "time-sensitive", "urgent"),
        ("iOSLiveActivityEvent", "end", "stop"),
        ("HarmonyActionType", "APP_HOME_PAGE", "HOME"),
        ("HarmonyRenderStyle", "NORMAL", "FANCY"),
        ("AndroidMessageHuaweiUrgency", "HIGH", "LOW"),
    ],
)
def test_enumerations(field: str, good: str, bad: str) -> None:
    parse(android(**{field: good}))
    fails(android(**{field: bad}), field, "enum")


def test_enum_value_in_wrong_case_gets_a_hint() -> None:
    assert "did you mean 'iOS'?" in fails(android(DeviceType="IOS"), "DeviceType", "enum")


def test_send_channels_must_be_documented_channels() -> None:
    assert parse(android(SendChannels="accs,huawei,honor,xiaomi,oppo,vivo,meizu,gcm,fcm,apns,harmony"))
    assert "'pigeon'" in fails(android(SendChannels="huawei,pigeon"), "SendChannels", "enum")
    fails(android(SendChannels="huawei,"), "SendChannels", "format")


# --- JobKey / IdempotentToken --------------------------------------------------------------------


def test_job_key_format() -> None:
    parse(android(JobKey="Ab_-9" + "x" * 27))  # 32 characters
    fails(android(JobKey="x" * 33), "JobKey", "format")
    fails(android(JobKey="has space"), "JobKey", "format")
    fails(android(JobKey="中文"), "JobKey", "format")


def test_idempotent_token_is_a_uuid() -> None:
    token = uuid.UUID("6f1d2f4e-8f57-4b8e-9a3c-2f1e0d9c8b7a")
    assert parse(android(IdempotentToken=token)).to_query()["IdempotentToken"] == str(token)
    parse(android(IdempotentToken=str(token).upper()))
    fails(android(IdempotentToken=str(token)[:-1]), "IdempotentToken", "format")
    fails(android(IdempotentToken="order-42"), "IdempotentToken", "format")


def test_types_are_checked() -> None:
    found = problems(android(iOSBadge="many", StoreOffline="perhaps", AndroidNotificationNotifyId=1.5))
    assert {("iOSBadge", "type"), ("StoreOffline", "type"), ("AndroidNotificationNotifyId", "type")} <= set(found)


def test_every_problem_is_reported_in_one_error() -> None:
    found = problems(android(Title="x" * 201, JobKey="bad key", AndroidBadgeAddNum=0, DeviceType="WINDOWS"))
    assert {
        ("Title", "max_bytes"),
        ("JobKey", "format"),
        ("AndroidBadgeAddNum", "range"),
        ("DeviceType", "enum"),
    } <= set(found)
