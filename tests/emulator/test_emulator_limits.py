"""The documented limits, enforced by the emulator on its own (an independent check of the client)."""

from __future__ import annotations

import json

import pytest
from emulator_support import error_code, notice

from pushfn.api_time import format_api_time


def _task(n: int, **fields: str) -> dict[str, str]:
    base = {"DeviceType": "ANDROID", "PushType": "MESSAGE", "Target": "DEVICE", "TargetValue": f"d{n}", "Title": "t"}
    return {f"PushTask.{n}.{k}": v for k, v in {**base, "Body": f"task {n}", **fields}.items()}


def _tasks(count: int, **fields: str) -> dict[str, str]:
    form: dict[str, str] = {}
    for n in range(1, count + 1):
        form.update(_task(n, **fields))
    return form


@pytest.mark.parametrize("param", ["DeviceType", "PushType", "Target", "TargetValue", "Title", "Body"])
def test_missing_required_push_parameter(api, emu, param) -> None:
    assert error_code(api.v2("Push", notice(**{param: None}))) == (400, f"Missing{param}")
    assert emu.pushes() == []


def test_title_is_optional_for_ios_only(api) -> None:
    assert api.v2("Push", notice(DeviceType="iOS", Title=None)).status_code == 200
    assert error_code(api.v2("Push", notice(DeviceType="HARMONY", Title=None))) == (400, "MissingTitle")
    assert error_code(api.v2("Push", notice(DeviceType="ALL", Title=None))) == (400, "MissingTitle")


def test_missing_or_unknown_app_key(api) -> None:
    assert error_code(api.v2("Push", notice(), app_key=None)) == (400, "MissingAppKey")
    assert error_code(api.v2("Push", notice(), app_key=999)) == (400, "InvalidAppKey.NotFound")
    assert error_code(api.v3("Push", notice(), app_key=999)) == (400, "InvalidAppKey.NotFound")
    assert error_code(api.v2("Push", notice(AppKey="abc"), app_key=None)) == (400, "InvalidAppKey.Format")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("DeviceType", "ios", "InvalidDeviceType.Format"),
        ("PushType", "notice", "InvalidPushType.Format"),
        ("Target", "EVERYONE", "InvalidTarget.Format"),
        ("StoreOffline", "yes", "InvalidStoreOffline.Format"),
        ("iOSBadge", "x", "InvalidiOSBadge.Format"),
        ("AndroidBadgeSetNum", "100", "InvalidAndroidBadgeSetNum.Range"),
        ("AndroidNotificationBarPriority", "3", "InvalidAndroidNotificationBarPriority.Range"),
        ("iOSApnsEnv", "PROD", "InvalidiOSApnsEnv.Format"),
        ("AndroidOpenType", "WEB", "InvalidAndroidOpenType.Format"),
        ("AndroidExtParameters", "[1, 2]", "InvalidAndroidExtParameters.Format"),
        ("iOSExtParameters", "not json", "InvalidiOSExtParameters.Format"),
        ("JobKey", "has space", "InvalidJobKey.Format"),
        ("JobKey", "x" * 33, "InvalidJobKey.Format"),
        ("SendChannels", "accs,pigeon", "InvalidSendChannels.Format"),
        ("iOSRelevanceScore", "1.5", "InvalidiOSRelevanceScore.Range"),
        ("AndroidPopupTitle", "x" * 51, "InvalidAndroidPopupTitle.LengthExceed"),
        ("AndroidBigBody", "é" * 501, "InvalidAndroidBigBody.BytesExceed"),
        ("AndroidInboxBody", json.dumps(["a"] * 6), "InvalidAndroidInboxBody.Format"),
        ("IdempotentToken", "not-a-uuid", "InvalidIdempotentToken.Format"),
    ],
)
def test_format_violations(api, emu, field, value, code) -> None:
    assert error_code(api.v2("Push", notice(**{field: value}))) == (400, code)
    assert emu.pushes() == []


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "false", "False"])
def test_booleans_accept_any_case(api, value) -> None:
    assert api.v2("Push", notice(StoreOffline=value)).status_code == 200


def test_title_byte_limit_counts_utf8_bytes(api) -> None:
    assert api.v2("Push", notice(Title="中" * 66 + "ab")).status_code == 200  # 200 bytes
    assert error_code(api.v2("Push", notice(Title="中" * 67))) == (400, "InvalidTitle.BytesExceed")  # 201 bytes


def test_android_notice_content_budget_includes_display_fields(api) -> None:
    body = "x" * (1800 - len("Order shipped"))
    assert api.v2("Push", notice(Body=body)).status_code == 200
    too_big = api.v2("Push", notice(Body=body, AndroidOpenUrl="u", AndroidOpenType="URL"))
    assert error_code(too_big) == (400, "InvalidBody.BytesExceed")


def test_ios_notice_budget_ignores_title_but_message_counts_it(api) -> None:
    body = "x" * 1800
    assert api.v2("Push", notice(DeviceType="iOS", Body=body, Title="extra")).status_code == 200
    message = notice(DeviceType="iOS", PushType="MESSAGE", Body=body, Title="extra")
    assert error_code(api.v2("Push", message)) == (400, "InvalidBody.BytesExceed")


def test_device_type_all_checks_every_platform(api) -> None:
    body = "x" * (1800 - len("Order shipped") - 1)
    assert api.v2("Push", notice(DeviceType="ALL", Body=body)).status_code == 200
    # iOS fields do not count for Android, but push this body over the iOS budget
    with_ios_fields = notice(DeviceType="ALL", Body=body, iOSExtParameters=json.dumps({"k": "v" * 20}))
    assert error_code(api.v2("Push", with_ios_fields)) == (400, "InvalidBody.BytesExceed")


@pytest.mark.parametrize("target", ["DEVICE", "ACCOUNT", "ALIAS"])
def test_at_most_1000_list_targets(api, target) -> None:
    values = ",".join(f"v{i}" for i in range(1000))
    assert api.v2("Push", notice(Target=target, TargetValue=values)).status_code == 200
    too_many = api.v2("Push", notice(Target=target, TargetValue=values + ",v1000"))
    assert error_code(too_many) == (400, "InvalidTargetValue.CountExceed")


def test_account_and_alias_byte_limits(api) -> None:
    assert error_code(api.v2("Push", notice(Target="ACCOUNT", TargetValue="a" * 65)))[1] == (
        "InvalidTargetValue.BytesExceed"
    )
    assert error_code(api.v2("Push", notice(Target="ALIAS", TargetValue="a" * 129)))[1] == (
        "InvalidTargetValue.BytesExceed"
    )


def test_target_value_must_be_all_or_tbd(api) -> None:
    assert api.v2("Push", notice(Target="ALL", TargetValue="all")).status_code == 200
    assert error_code(api.v2("Push", notice(Target="ALL", TargetValue="d1"))) == (400, "InvalidTargetValue.Format")
    assert error_code(api.v2("Push", notice(Target="TBD", TargetValue="ALL"))) == (400, "InvalidTargetValue.Format")


@pytest.mark.parametrize(
    "expression",
    [
        {"not": {"tag": "a"}},  # not cannot stand alone
        {"and": []},
        {"and": [{"tag": f"t{i}"} for i in range(11)]},  # > 10 operands
        {"and": [{"or": [{"and": [{"tag": "a"}]}]}]},  # nesting depth 3
        {"xor": [{"tag": "a"}]},
        {"tag": "a", "or": []},
        {"or": [{"and": [{"tag": f"t{i}-{j}"} for j in range(10)]} for i in range(6)]},  # 60 tags
    ],
)
def test_invalid_tag_expressions(api, expression) -> None:
    response = api.v2("Push", notice(Target="TAG", TargetValue=json.dumps(expression)))
    assert error_code(response) == (400, "InvalidTargetValue.Format")


def test_tag_name_length(api) -> None:
    assert api.v2("Push", notice(Target="TAG", TargetValue="t" * 128)).status_code == 200
    assert (
        error_code(api.v2("Push", notice(Target="TAG", TargetValue="t" * 129)))[1] == "InvalidTargetValue.BytesExceed"
    )
    assert error_code(api.v2("Push", notice(Target="TAG", TargetValue="{bad json")))[1] == "InvalidTargetValue.Format"


def test_push_time_at_most_7_days_ahead_and_not_with_tbd(api, clock) -> None:
    week = format_api_time(clock.now + 7 * 24 * 3600)
    assert api.v2("Push", notice(PushTime=week)).status_code == 200
    later = format_api_time(clock.now + 7 * 24 * 3600 + 1)
    assert error_code(api.v2("Push", notice(PushTime=later))) == (400, "InvalidPushTime.ExceedDays")
    tbd = notice(Target="TBD", TargetValue="TBD", PushTime=week)
    assert error_code(api.v2("Push", tbd)) == (400, "InvalidPushTime.Conflict")
    assert error_code(api.v2("Push", notice(PushTime="2024-01-01 00:00"))) == (400, "InvalidPushTime.Format")


def test_expire_time_rules(api, clock) -> None:
    now = clock.now
    assert api.v2("Push", notice(ExpireTime=format_api_time(now + 4))).status_code == 200
    assert error_code(api.v2("Push", notice(ExpireTime=format_api_time(now + 3)))) == (400, "InvalidExpireTime.Range")
    scheduled = format_api_time(now + 3600)
    before_send = notice(PushTime=scheduled, ExpireTime=format_api_time(now + 3600 + 2))
    assert error_code(api.v2("Push", before_send)) == (400, "InvalidExpireTime.Range")
    beyond_72h = notice(ExpireTime=format_api_time(now + 72 * 3600 + 1))
    assert error_code(api.v2("Push", beyond_72h)) == (400, "InvalidExpireTime.Range")


def test_ios_badge_and_auto_increment_are_exclusive(api) -> None:
    assert api.v2("Push", notice(iOSBadgeAutoIncrement="True")).status_code == 200
    both = notice(iOSBadgeAutoIncrement="true", iOSBadge="3")
    assert error_code(api.v2("Push", both)) == (400, "InvalidiOSBadge.Conflict")
    assert api.v2("Push", notice(iOSBadgeAutoIncrement="false", iOSBadge="3")).status_code == 200


def test_popup_activity_needs_popup_title_and_body(api) -> None:
    response = api.v2("Push", notice(AndroidPopupActivity="com.example.Popup"))
    assert error_code(response) == (400, "MissingAndroidPopupTitle")


def test_unknown_parameters_are_ignored_but_reported(api, emu) -> None:
    assert api.v2("Push", notice(IOSBadge="3")).status_code == 200
    assert emu.pushes()[0]["ignored_params"] == ["IOSBadge"]


# --- MassPush ---------------------------------------------------------------------------------


def test_mass_push_at_most_100_tasks(api, emu) -> None:
    response = api.v2("MassPush", form=_tasks(100))
    assert response.status_code == 200
    assert len(response.json()["MessageIds"]["MessageId"]) == 100
    assert error_code(api.v2("MassPush", form=_tasks(101))) == (400, "InvalidPushTask.CountExceed")
    assert len(emu.pushes()) == 100


def test_mass_push_needs_tasks(api) -> None:
    assert error_code(api.v2("MassPush")) == (400, "MissingPushTask")


@pytest.mark.parametrize("target", ["TAG", "ALL", "TBD"])
def test_mass_push_tasks_target_only_lists(api, emu, target) -> None:
    form = {**_task(1), **_task(2, Target=target, TargetValue="x")}
    response = api.v3("MassPush", form=form)
    assert error_code(response) == (400, "InvalidTarget.Format")
    assert "PushTask.2.Target" in response.json()["Message"]
    assert emu.pushes() == []  # one bad task refuses the whole call


def test_mass_push_task_rules_name_the_task(api) -> None:
    form = {**_task(1), **_task(2, Title="x" * 201)}
    response = api.v2("MassPush", form=form)
    assert error_code(response) == (400, "InvalidTitle.BytesExceed")
    assert "PushTask.2.Title" in response.json()["Message"]
    sms = {**_task(1), "PushTask.1.SmsTemplateName": "tpl"}
    assert error_code(api.v2("MassPush", form=sms)) == (400, "InvalidPushTask.Format")
    malformed = {**_task(1), "PushTask.x.Title": "t"}
    assert error_code(api.v2("MassPush", form=malformed)) == (400, "InvalidPushTask.Format")


# --- device association limits ------------------------------------------------------------------


def test_check_devices_at_most_100(api) -> None:
    ids = ",".join(f"d{i}" for i in range(100))
    assert api.v2("CheckDevices", {"DeviceIds": ids}).status_code == 200
    too_many = api.v2("CheckDevices", {"DeviceIds": ids + ",d100"})
    assert error_code(too_many) == (400, "InvalidDeviceIds.CountExceed")


def test_bind_alias_at_most_10_aliases_of_128_bytes(api, emu) -> None:
    emu.register_device("d1")
    ten = ",".join(f"a{i}" for i in range(10))
    assert api.v2("BindAlias", {"DeviceId": "d1", "AliasName": ten}).status_code == 200
    eleven = ten + ",a10"
    assert error_code(api.v2("BindAlias", {"DeviceId": "d1", "AliasName": eleven})) == (
        400,
        "InvalidAliasName.CountExceed",
    )
    long = api.v2("BindAlias", {"DeviceId": "d1", "AliasName": "a" * 129})
    assert error_code(long) == (400, "InvalidAliasName.BytesExceed")
    assert error_code(api.v2("BindAlias", {"DeviceId": "d1"})) == (400, "MissingAliasName")


def test_bind_tag_at_most_10_tags_device_keys_only(api, emu) -> None:
    emu.register_device("d1")
    ten = ",".join(f"t{i}" for i in range(10))
    assert api.v2("BindTag", {"ClientKey": "d1", "KeyType": "DEVICE", "TagName": ten}).status_code == 200
    eleven = api.v2("BindTag", {"ClientKey": "d1", "KeyType": "DEVICE", "TagName": ten + ",t10"})
    assert error_code(eleven) == (400, "InvalidTagName.CountExceed")
    account_key = api.v2("BindTag", {"ClientKey": "d1", "KeyType": "ACCOUNT", "TagName": "t"})
    assert error_code(account_key) == (400, "InvalidKeyType.Format")
    long = api.v2("BindTag", {"ClientKey": "d1", "KeyType": "DEVICE", "TagName": "t" * 129})
    assert error_code(long) == (400, "InvalidTagName.LengthExceed")


def test_association_with_unknown_device(api) -> None:
    response = api.v2("BindAlias", {"DeviceId": "ghost", "AliasName": "a"})
    assert error_code(response) == (400, "InvalidDeviceId.NotFound")


@pytest.mark.parametrize("app_key", ["２３２６７２０７", "23_267_207", " 23267207", "23267207 ", "٢٣٢٦٧٢٠٧"])
def test_app_key_takes_ascii_digits_only(api, emu, app_key) -> None:
    # int() read each of these as the served AppKey 23267207, so the push went out.
    assert error_code(api.v2("Push", notice(), app_key=app_key)) == (400, "InvalidAppKey.Format")
    assert error_code(api.v3("Push", notice(), app_key=app_key)) == (400, "InvalidAppKey.Format")
    assert emu.pushes() == []


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("Push", notice(DeviceType="iOS", iOSBadge="１"), "InvalidiOSBadge.Format"),
        ("Push", notice(DeviceType="iOS", iOSBadge="1_0"), "InvalidiOSBadge.Format"),
        ("QueryPushStatByMsg", {"MessageId": "500_000_000_001"}, "InvalidMessageId.Format"),
        ("Push", notice(DeviceType="iOS", iOSRelevanceScore="０.５"), "InvalidiOSRelevanceScore.Format"),
        ("Push", notice(DeviceType="iOS", iOSRelevanceScore=" 0.5"), "InvalidiOSRelevanceScore.Format"),
        ("Push", notice(DeviceType="iOS", iOSRelevanceScore="0_5"), "InvalidiOSRelevanceScore.Format"),
        ("Push", notice(DeviceType="iOS", iOSRelevanceScore="nan"), "InvalidiOSRelevanceScore.Format"),
    ],
)
def test_number_parameters_take_ascii_digits_only(api, emu, action, params, code) -> None:
    assert error_code(api.v2(action, params)) == (400, code)
    assert emu.pushes() == []


@pytest.mark.parametrize("index", ["１", "01", "9" * 5000, "٣"])
def test_mass_push_task_index_is_ascii_digits_without_leading_zero(api, emu, index) -> None:
    # "１" and "01" were read as task 1 and merged into it; 5,000 digits raised ValueError (a 500).
    form = {**_task(1), f"PushTask.{index}.Title": "other title"}
    response = api.v2("MassPush", form=form)
    assert error_code(response) == (400, "InvalidPushTask.Format")
    assert len(response.json()["Message"]) < 200 and emu.pushes() == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"AndroidExtParameters": "[" * 1500}, "InvalidAndroidExtParameters.Format"),
        ({"AndroidInboxBody": "[" * 2000}, "InvalidAndroidInboxBody.Format"),
        ({"Target": "TAG", "TargetValue": '{"not":' * 3000}, "InvalidTargetValue.Format"),
        ({"Target": "TAG", "TargetValue": '{"and":' + "[" * 3000}, "InvalidTargetValue.Format"),
    ],
    ids=["ext", "inbox", "tag-not", "tag-and"],
)
def test_json_parameters_nested_thousands_deep_are_a_format_error(api, emu, params, code) -> None:
    # json.loads raised RecursionError: a 500 'internal emulator error', the call kept out of the inbox.
    response = api.v2("Push", {"Action": "Push"}, form=notice(**params))
    assert error_code(response) == (400, code)
    assert emu.pushes() == [] and [c["code"] for c in emu.calls()] == [code]
