"""The device registry: target resolution, association actions, and the control API."""

from __future__ import annotations

import json

import pytest
from emulator_support import APP_KEY, OTHER_APP_KEY, error_code, notice

from pushfn.emulator import Emulator
from pushfn.emulator.server import is_loopback_client


@pytest.fixture
def fleet(emu: Emulator) -> Emulator:
    emu.register_device("a1", account="alice", aliases=["al"], tags=["vip", "beta"])
    emu.register_device("a2", account="alice", tags=["vip"])
    emu.register_device("b1", account="bob", aliases=["al", "bobby"], tags=["beta"], device_type="iOS")
    emu.register_device("c1", tags=["news"], device_type="HARMONY")
    return emu


def _devices(api, emu, **overrides) -> list[str]:
    response = api.v2("Push", notice(**overrides))
    assert response.status_code == 200, response.text
    return emu.pushes()[-1]["devices"]


def test_device_targets_keep_unknown_ids_and_drop_other_platforms(api, fleet) -> None:
    assert _devices(api, fleet, TargetValue="a1, zz,b1,a1") == ["a1", "zz"]
    assert _devices(api, fleet, DeviceType="ALL", TargetValue="a1,b1") == ["a1", "b1"]


def test_account_and_alias_targets(api, fleet) -> None:
    assert _devices(api, fleet, Target="ACCOUNT", TargetValue="alice,nobody") == ["a1", "a2"]
    assert _devices(api, fleet, Target="ALIAS", TargetValue="al", DeviceType="ALL") == ["a1", "b1"]
    assert _devices(api, fleet, Target="ALIAS", TargetValue="al", DeviceType="iOS") == ["b1"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("vip", ["a1", "a2"]),
        ({"and": [{"tag": "vip"}, {"tag": "beta"}]}, ["a1"]),
        ({"or": [{"tag": "beta"}, {"tag": "news"}]}, ["a1", "b1", "c1"]),
        ({"and": [{"tag": "beta"}, {"not": {"tag": "vip"}}]}, ["b1"]),
        ({"and": [{"or": [{"tag": "vip"}, {"tag": "news"}]}, {"not": {"tag": "beta"}}]}, ["a2", "c1"]),
    ],
)
def test_tag_expressions(api, fleet, expression, expected) -> None:
    value = expression if isinstance(expression, str) else json.dumps(expression)
    assert _devices(api, fleet, Target="TAG", TargetValue=value, DeviceType="ALL") == expected


def test_all_reaches_every_device_of_the_type(api, fleet, clock) -> None:
    assert _devices(api, fleet, Target="ALL", TargetValue="ALL") == ["a1", "a2"]
    assert _devices(api, fleet, Target="ALL", TargetValue="ALL", DeviceType="ALL") == ["a1", "a2", "b1", "c1"]


def test_devices_are_per_app(api, fleet) -> None:
    assert _devices(api, fleet, Target="ACCOUNT", TargetValue="alice") == ["a1", "a2"]
    other = api.v2("Push", notice(Target="ACCOUNT", TargetValue="alice"), app_key=OTHER_APP_KEY)
    assert other.status_code == 200 and fleet.pushes()[-1]["devices"] == []


def test_alias_actions(api, fleet) -> None:
    assert api.v3("BindAlias", {"DeviceId": "a2", "AliasName": "x,y"}).status_code == 200
    aliases = api.v2("QueryAliases", {"DeviceId": "a2"}).json()["AliasInfos"]["AliasInfo"]
    assert aliases == [{"AliasName": "x"}, {"AliasName": "y"}]
    assert api.v2("QueryDevicesByAlias", {"Alias": "x"}).json()["DeviceIds"]["DeviceId"] == ["a2"]
    assert api.v2("UnbindAlias", {"DeviceId": "a2", "AliasName": "x"}).status_code == 200
    assert api.v2("QueryDevicesByAlias", {"Alias": "x"}).json()["DeviceIds"]["DeviceId"] == []
    assert api.v2("UnbindAlias", {"DeviceId": "b1", "UnbindAll": "True"}).status_code == 200
    assert api.v2("QueryAliases", {"DeviceId": "b1"}).json()["AliasInfos"]["AliasInfo"] == []
    assert error_code(api.v2("UnbindAlias", {"DeviceId": "a2"})) == (400, "MissingAliasName")


def test_tag_actions(api, fleet) -> None:
    bind = {"ClientKey": "a2,c1", "KeyType": "DEVICE", "TagName": "promo"}
    assert api.v2("BindTag", bind).status_code == 200
    assert api.v2("QueryTags", {"ClientKey": "c1", "KeyType": "DEVICE"}).json()["TagInfos"]["TagInfo"] == [
        {"TagName": "news"},
        {"TagName": "promo"},
    ]
    tags = [t["TagName"] for t in api.v2("ListTags").json()["TagInfos"]["TagInfo"]]
    assert tags == ["beta", "news", "promo", "vip"]
    assert api.v2("UnbindTag", {**bind, "ClientKey": "c1"}).status_code == 200
    assert _devices(api, fleet, Target="TAG", TargetValue="promo", DeviceType="ALL") == ["a2"]
    assert api.v2("RemoveTag", {"TagName": "promo"}).status_code == 200
    assert "promo" not in [t["TagName"] for t in api.v2("ListTags").json()["TagInfos"]["TagInfo"]]
    assert _devices(api, fleet, Target="TAG", TargetValue="promo", DeviceType="ALL") == []
    assert error_code(api.v2("BindTag", {**bind, "ClientKey": "ghost"})) == (400, "InvalidDeviceId.NotFound")


def test_device_queries(api, fleet) -> None:
    checks = api.v2("CheckDevices", {"DeviceIds": "a1,ghost"}).json()["DeviceCheckInfos"]["DeviceCheckInfo"]
    assert checks == [{"DeviceId": "a1", "Available": True}, {"DeviceId": "ghost", "Available": False}]
    assert api.v2("CheckDevice", {"DeviceId": "b1"}).json()["Available"] is True
    info = api.v2("QueryDeviceInfo", {"DeviceId": "b1"}).json()["DeviceInfo"]
    assert info["DeviceType"] == "iOS" and info["Account"] == "bob" and info["Alias"] == "al,bobby"
    assert error_code(api.v2("QueryDeviceInfo", {"DeviceId": "ghost"})) == (400, "InvalidDeviceId.NotFound")
    by_account = api.v2("QueryDevicesByAccount", {"Account": "alice"}).json()["DeviceIds"]["DeviceId"]
    assert by_account == ["a1", "a2"]


# --- control API --------------------------------------------------------------------------------


def test_control_devices_pushes_and_reset(api, emu) -> None:
    one = api.control("POST", "devices", {"device_id": "x1", "account": "acc", "tags": ["t"]})
    many = api.control(
        "POST", "devices", {"devices": [{"device_id": "x2", "device_type": "ios", "app_key": OTHER_APP_KEY}]}
    )
    assert one.status_code == 200 and many.json()["registered"][0]["device_type"] == "iOS"
    listed = api.control("GET", "devices").json()["devices"]
    assert [(d["app_key"], d["device_id"]) for d in listed] == [(APP_KEY, "x1"), (OTHER_APP_KEY, "x2")]
    assert api.session.get(f"{emu.url}/_emulator/devices?app_key={OTHER_APP_KEY}").json()["devices"][0][
        "device_id"
    ] == ("x2")
    api.v2("Push", notice(Target="ACCOUNT", TargetValue="acc"))
    pushes = api.control("GET", "pushes").json()["pushes"]
    assert pushes[0]["devices"] == ["x1"]
    assert api.control("POST", "reset", {"keep_devices": True}).json()["kept_devices"] is True
    assert api.control("GET", "pushes").json()["pushes"] == [] and len(emu.devices()) == 2
    assert api.control("POST", "reset").status_code == 200
    assert emu.devices() == []


@pytest.mark.parametrize(
    ("method", "route", "payload", "status"),
    [
        ("POST", "devices", {"device_id": "x", "device_type": "windows"}, 400),
        ("POST", "devices", {"device_id": "x", "colour": "red"}, 400),
        ("POST", "devices", {"account": "no id"}, 400),
        ("POST", "devices", {"device_id": "x", "app_key": 1}, 400),
        ("GET", "nowhere", None, 404),
        ("DELETE", "pushes", None, 405),
    ],
)
def test_control_api_refuses_bad_input(api, method, route, payload, status) -> None:
    response = api.control(method, route, payload)
    assert response.status_code == status and response.json()["error"]


def test_control_api_rejects_malformed_json(api, emu) -> None:
    headers = {"Content-Type": "application/json"}
    response = api.session.post(f"{emu.url}/_emulator/devices", data=b"{nope", headers=headers, timeout=5)
    assert response.status_code == 400


def test_unknown_path_is_api_not_found(api, emu) -> None:
    response = api.session.post(f"{emu.url}/v1/push", timeout=5)
    assert error_code(response) == (404, "InvalidApi.NotFound")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("192.0.2.2", False), ("fd00::2", False), ("::ffff:10.0.0.1", False), ("nonsense", False)],
)  # fmt: skip
def test_control_api_is_for_loopback_clients_only(address, allowed) -> None:
    # Unit-level: the suite never listens beyond 127.0.0.1, so no remote client can be simulated.
    assert is_loopback_client(address) is allowed


@pytest.mark.parametrize(
    "beside", [{"app_key": OTHER_APP_KEY}, {"aliases": ["vip"]}, {"device_id": "d9"}, {"online": False}]
)
def test_control_fields_beside_a_devices_list_are_refused_not_dropped(api, emu, beside) -> None:
    # {"devices": [...], "app_key": 333} registered d1 in the first AppKey: the app_key was silently dropped.
    response = api.control("POST", "devices", {"devices": [{"device_id": "d1"}], **beside})
    assert response.status_code == 400 and next(iter(beside)) in response.json()["error"]
    assert emu.devices() == []
