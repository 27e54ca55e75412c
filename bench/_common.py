"""Shared pieces of the benchmarks: the emulator they push to and the two clients compared.

Both sides send the same Push (same parameters, V2 HMAC-SHA1, plain HTTP to the emulator on
loopback), so the ratios compare the clients, not the network.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

APP_KEY = 23267207
PUSH = {
    "Target": "DEVICE",
    "TargetValue": "e2ba19de97604f55b165576736477b74",
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "Benchmark",
    "Body": "Hello from the benchmark",
}


def start_emulator():
    from pushfn.emulator import Emulator

    emulator = Emulator(host="127.0.0.1", port=0)
    emulator.start()
    return emulator


def ours_client(url: str):
    from pushfn.push import PushClient, StaticCredentials

    return PushClient(endpoint=url, app_key=APP_KEY, credentials=StaticCredentials("testid", "testsecret"))


def ours_push(client) -> str:
    return client.push(PUSH).message_id


def official_client():
    from aliyunsdkcore.client import AcsClient

    return AcsClient("testid", "testsecret", "cn-hangzhou")


def official_push(client, host_port: str) -> str:
    import json

    from aliyunsdkcore.acs_exception.exceptions import ClientException  # noqa: F401 - same import cost as users pay
    from aliyunsdkpush.request.v20160801.PushRequest import PushRequest

    request = PushRequest()
    request.set_endpoint(host_port)
    request.set_protocol_type("http")
    request.set_AppKey(APP_KEY)
    request.set_Target(PUSH["Target"])
    request.set_TargetValue(PUSH["TargetValue"])
    request.set_DeviceType(PUSH["DeviceType"])
    request.set_PushType(PUSH["PushType"])
    request.set_Title(PUSH["Title"])
    request.set_Body(PUSH["Body"])
    return json.loads(client.do_action_with_exception(request))["MessageId"]


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):8.2f}  min {min(values):8.2f}  max {max(values):8.2f}"
