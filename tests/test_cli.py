"""The `pushfn` command: exit codes 0/2/3/4, dry run, and the quickstart's demo."""

from __future__ import annotations

import json
import socket

import pytest

from pushfn.cli import main

DEVICE = "e2ba19de97604f55b165576736477b74"
BASE = [
    "--target",
    "DEVICE",
    "--target-value",
    DEVICE,
    "--device-type",
    "ANDROID",
    "--push-type",
    "NOTICE",
    "--title",
    "Hi",
    "--body",
    "Hello",
]


@pytest.fixture
def configured(emulator, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PUSH_ENDPOINT", emulator.url)
    monkeypatch.setenv("PUSH_APP_KEY", str(emulator.settings.app_keys[0]))
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator.settings.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator.settings.access_key_secret)
    monkeypatch.setenv("PUSH_MAX_ATTEMPTS", "2")
    return emulator


def test_push_prints_message_id_and_exits_0(configured, capsys) -> None:
    assert main(["push", *BASE, "--param", "AndroidOpenType=URL", "--param", "AndroidOpenUrl=https://e.x/1"]) == 0
    out = json.loads(capsys.readouterr().out)
    pushes = configured.pushes()
    assert out["MessageId"] == pushes[0]["message_id"]
    assert pushes[0]["params"]["AndroidOpenUrl"] == "https://e.x/1"


def test_json_file_request(configured, capsys, tmp_path) -> None:
    request = {
        "Target": "DEVICE",
        "TargetValue": DEVICE,
        "DeviceType": "iOS",
        "PushType": "NOTICE",
        "Body": "b",
        "iOSApnsEnv": "DEV",
        "ios_badge": 3,
    }
    path = tmp_path / "req.json"
    path.write_text(json.dumps(request))
    assert main(["push", "--json", str(path)]) == 0
    assert configured.pushes()[0]["params"]["iOSBadge"] == "3"


def test_bad_input_exits_2_naming_field_and_rule(configured, capsys) -> None:
    assert main(["push", *BASE, "--param", "IOSBadge=1"]) == 2
    err = capsys.readouterr().err
    assert "IOSBadge" in err and "iOSBadge" in err  # the hint names the right spelling
    assert main(["push", *BASE[:-4], "--title", "x" * 201, "--body", "b"]) == 2
    err = capsys.readouterr().err
    assert "Title" in err and "rule:" in err
    assert configured.pushes() == []


def test_missing_json_file_exits_2(configured, capsys) -> None:
    assert main(["push", "--json", "/nonexistent.json"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_service_refusal_exits_3_with_code_and_request_id(configured, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong")
    assert main(["push", *BASE]) == 3
    err = capsys.readouterr().err
    assert "SignatureDoesNotMatch" in err and "RequestId" in err and "wrong" not in err.replace("wrong-", "")


def test_network_failure_exits_4(configured, capsys, monkeypatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PUSH_ENDPOINT", f"http://127.0.0.1:{port}")
    assert main(["push", *BASE]) == 4
    assert "network failure" in capsys.readouterr().err


def test_dry_run_prints_signed_request_and_sends_nothing(configured, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "a-very-secret-session-token")
    assert main(["push", *BASE, "--dry-run"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["query"]["Signature"] and shown["query"]["Action"] == "Push"
    assert "a-very-secret-session-token" not in json.dumps(shown)
    assert configured.pushes() == []


def test_call_device_association(configured, capsys) -> None:
    configured.register_device(DEVICE)
    assert main(["call", "BindAlias", "--param", f"DeviceId={DEVICE}", "--param", "AliasName=alice"]) == 0
    capsys.readouterr()
    assert main(["call", "QueryAliases", "--param", f"DeviceId={DEVICE}"]) == 0
    assert "alice" in capsys.readouterr().out


def test_unknown_action_exits_2(configured, capsys) -> None:
    assert main(["call", "PushEverything"]) == 2
    assert "Action" in capsys.readouterr().err


def test_demo_prints_a_message_id(capsys) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MessageId: ") and "recorded 1 push" in out


def test_no_command_prints_help(capsys) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out
