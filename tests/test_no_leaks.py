"""No secret, session token or full device id reaches a log line or an exception message.

Every log record pushfn emits during a mix of successful, retried and failing calls is rendered with
the JSON formatter the functions use (so structured extras are checked too).
"""

from __future__ import annotations

import io
import logging

import pytest

from pushfn.logs import JsonFormatter
from pushfn.push import PushError, StaticCredentials, Timeout

SECRET = "Sup3rSecretAccessKeyValue000000"
TOKEN = "CAIS-session-token-value-0000000000"
DEVICES = ["e2ba19de97604f55b165576736477b74", "92a1da34bdfd4c9692714917ce22d53d"]


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_no_secret_or_device_id_in_logs_or_errors(captured, client_factory) -> None:
    from pushfn.emulator import Emulator

    texts: list[str] = []
    with Emulator(host="127.0.0.1", port=0, security_tokens={"STS.LeakTestKey": (SECRET, TOKEN)}) as emu:
        for device in DEVICES:
            emu.register_device(device, aliases=("alice",))
        good = StaticCredentials("STS.LeakTestKey", SECRET, TOKEN)
        bad = StaticCredentials("STS.LeakTestKey", "x" + SECRET, TOKEN)
        push = {
            "Target": "DEVICE",
            "TargetValue": ",".join(DEVICES),
            "DeviceType": "ANDROID",
            "PushType": "NOTICE",
            "Title": "t",
            "Body": "b",
        }
        for version in ("v2", "v3"):
            client = client_factory(
                emu, credentials=good, signature_version=version, timeout=Timeout(connect=1, read=0.3)
            )
            emu.add_fault("throttle", count=1)
            client.push(push)
            emu.add_fault("latency", count=1, latency_ms=800)
            client.push(push)
            client.call("QueryDevicesByAlias", {"Alias": "alice"})
            for failing, creds in ((push, bad), ({**push, "Title": "x" * 300}, good)):
                with pytest.raises(PushError) as info:
                    client_factory(emu, credentials=creds, signature_version=version).push(failing)
                texts += [str(info.value), repr(info.value)]
    logged = captured.getvalue()
    assert "push call ok" in logged  # the capture really saw the client's records
    for text in [logged, *texts]:
        assert SECRET not in text
        assert TOKEN not in text
        for device in DEVICES:
            assert device not in text
