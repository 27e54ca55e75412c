"""The official Alibaba SDKs, pointed at the emulator, are accepted: the emulator verifies what the
real signers produce, not only what our signer produces.

- ``aliyun-python-sdk-core`` + ``aliyun-python-sdk-push`` (old SDK, V2 HMAC-SHA1, plain HTTP):
  ``AcsClient(..., port=<emulator port>)`` and ``request.set_endpoint("127.0.0.1")``.
- ``alibabacloud-push20160801`` (new SDK): ``Config(endpoint="127.0.0.1:<port>", protocol="http")``,
  with its default V3 (ACS3-HMAC-SHA256) signing and with ``signature_algorithm="v2"``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator_support import APP_KEY, STS_KEY

from pushfn.emulator import Emulator

pytest.importorskip("aliyunsdkcore")
pytest.importorskip("alibabacloud_push20160801")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """On the real clock: the SDKs stamp their requests with the time of day."""
    key_id, secret, token = STS_KEY
    with Emulator(app_keys=(APP_KEY,), security_tokens={key_id: (secret, token)}) as emulator:
        yield emulator


@pytest.fixture
def device(emu: Emulator) -> str:
    emu.register_device("dev-sdk-1", account="acc-1")
    return "dev-sdk-1"


# --- old SDK -------------------------------------------------------------------------------------


def _old_client(emu: Emulator, key_id: str = "testid", secret: str = "testsecret", token: str | None = None):
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient

    if token:
        return AcsClient(region_id="cn-hangzhou", credential=StsTokenCredential(key_id, secret, token), port=emu.port)
    return AcsClient(key_id, secret, "cn-hangzhou", port=emu.port)


def _old(request):
    request.set_endpoint("127.0.0.1")  # plain HTTP is the old core's default protocol
    request.set_AppKey(APP_KEY)
    return request


def _old_push():
    from aliyunsdkpush.request.v20160801.PushRequest import PushRequest

    request = _old(PushRequest())
    request.set_Target("ACCOUNT")
    request.set_TargetValue("acc-1")
    request.set_DeviceType("ANDROID")
    request.set_PushType("NOTICE")
    request.set_Title("Order * shipped ~")
    request.set_Body("Your order 42 + tea is on its way — 中文")
    request.set_StoreOffline(True)  # sent as "True"
    return request


def test_old_sdk_push_mass_push_and_bind_alias(emu, device) -> None:
    import json

    from aliyunsdkpush.request.v20160801.BindAliasRequest import BindAliasRequest
    from aliyunsdkpush.request.v20160801.MassPushRequest import MassPushRequest

    client = _old_client(emu)
    pushed = json.loads(client.do_action_with_exception(_old_push()))
    mass = _old(MassPushRequest())
    task = {"Target": "DEVICE", "TargetValue": device, "DeviceType": "ANDROID", "PushType": "MESSAGE"}
    mass.set_PushTasks([{**task, "Title": "one", "Body": "a b"}, {**task, "Title": "two", "Body": "c&d"}])
    mass_ids = json.loads(client.do_action_with_exception(mass))["MessageIds"]["MessageId"]
    bind = _old(BindAliasRequest())
    bind.set_DeviceId(device)
    bind.set_AliasName("vip alias")
    assert "RequestId" in json.loads(client.do_action_with_exception(bind))

    records = emu.pushes()
    assert [r["message_id"] for r in records] == [pushed["MessageId"], *mass_ids]
    assert records[0]["devices"] == [device] and records[0]["body"] == "Your order 42 + tea is on its way — 中文"
    assert records[0]["params"]["StoreOffline"] == "True"
    assert [r["title"] for r in records[1:]] == ["one", "two"] and records[2]["body"] == "c&d"
    assert {r["signature_version"] for r in records} == {"v2"}
    assert emu.devices()[0]["aliases"] == ["vip alias"]


def test_old_sdk_with_sts_token(emu, device) -> None:
    key_id, secret, token = STS_KEY
    _old_client(emu, key_id, secret, token).do_action_with_exception(_old_push())
    assert emu.pushes()[0]["access_key_id"] == key_id


def test_old_sdk_recognises_the_server_string_to_sign(emu) -> None:
    """The old core compares our ``server string to sign`` with its own and, when they are equal,
    reports ``InvalidAccessKeySecret``: proof that the emulator's message matches the real format."""
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    with pytest.raises(ServerException) as caught:
        _old_client(emu, secret="wrong").do_action_with_exception(_old_push())
    assert caught.value.get_error_code() == "InvalidAccessKeySecret"
    assert caught.value.get_http_status() == 400
    assert emu.pushes() == []


# --- new SDK -------------------------------------------------------------------------------------


def _new_client(emu: Emulator, algorithm: str | None, secret: str = "testsecret", **extra):
    from alibabacloud_push20160801.client import Client
    from alibabacloud_tea_openapi.models import Config

    config = Config(
        access_key_id=extra.pop("key_id", "testid"),
        access_key_secret=secret,
        endpoint=emu.endpoint,
        protocol="http",
        **extra,
    )
    if algorithm:
        config.signature_algorithm = algorithm
    return Client(config)


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3-default", "v2"])
def test_new_sdk_push_mass_push_and_bind_alias(emu, device, algorithm) -> None:
    from alibabacloud_push20160801 import models

    client = _new_client(emu, algorithm)
    push = models.PushRequest(
        app_key=APP_KEY,
        target="DEVICE",
        target_value=device,
        device_type="ANDROID",
        push_type="NOTICE",
        title="Hi * there",
        body="a+b c~d 中文",
        store_offline=True,
        i_osbadge=3,
    )
    message_id = client.push(push).body.message_id
    task = {"target": "ALIAS", "target_value": "nobody", "device_type": "iOS", "push_type": "NOTICE", "body": "b"}
    tasks = [models.MassPushRequestPushTask(**task, title=f"t{n}") for n in (1, 2, 3)]
    mass_ids = client.mass_push(models.MassPushRequest(app_key=APP_KEY, push_task=tasks)).body.message_ids.message_id
    client.bind_alias(models.BindAliasRequest(app_key=APP_KEY, device_id=device, alias_name="a1"))

    records = emu.pushes()
    assert [r["message_id"] for r in records] == [message_id, *mass_ids]
    assert records[0]["body"] == "a+b c~d 中文" and records[0]["params"]["iOSBadge"] == "3"
    assert records[0]["ignored_params"] == []
    assert [r["title"] for r in records[1:]] == ["t1", "t2", "t3"]
    assert {r["signature_version"] for r in records} == {"v2" if algorithm else "v3"}
    assert emu.devices()[0]["aliases"] == ["a1"]


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3-default", "v2"])
def test_new_sdk_with_sts_token(emu, device, algorithm) -> None:
    from alibabacloud_push20160801 import models

    key_id, secret, token = STS_KEY
    client = _new_client(emu, algorithm, secret, key_id=key_id, security_token=token)
    client.check_device(models.CheckDeviceRequest(app_key=APP_KEY, device_id=device))
    client.bind_alias(models.BindAliasRequest(app_key=APP_KEY, device_id=device, alias_name="sts"))
    assert emu.devices()[0]["aliases"] == ["sts"]


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3-default", "v2"])
def test_new_sdk_sees_the_error_code(emu, algorithm) -> None:
    from alibabacloud_push20160801 import models

    client = _new_client(emu, algorithm, secret="wrong")
    with pytest.raises(Exception) as caught:
        client.check_device(models.CheckDeviceRequest(app_key=APP_KEY, device_id="x"))
    assert getattr(caught.value, "code", None) == "SignatureDoesNotMatch"
    assert getattr(caught.value, "status_code", None) in (400, None)


def test_old_sdk_do_action_gets_xml_like_the_integration_guide_expects(emu, device) -> None:
    """The guide's code calls the deprecated ``do_action`` (which sends ``Format=None``) and parses
    ``<MessageId>`` with a regex: the emulator answers XML there, as the service's default."""
    import re
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        body = _old_client(emu).do_action(_old_push()).decode("utf-8")
    assert re.findall("<MessageId>(.*)?</MessageId>", body) == [emu.pushes()[0]["message_id"]]
