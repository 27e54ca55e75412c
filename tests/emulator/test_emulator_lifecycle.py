"""Settings from the environment, start/stop, ``serve``, and thread safety under concurrent calls."""

from __future__ import annotations

import io
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from emulator_support import Caller, FakeClock, notice

from pushfn.emulator import Emulator, EmulatorError, EmulatorSettings, serve


def test_settings_defaults_and_environment(monkeypatch) -> None:
    assert EmulatorSettings.from_env({}) == EmulatorSettings("testid", "testsecret", (23267207,))
    env = {
        "PUSHFN_EMULATOR_ACCESS_KEY_ID": "k",
        "PUSHFN_EMULATOR_ACCESS_KEY_SECRET": "s",
        "PUSHFN_EMULATOR_APP_KEY": "1, 2",
    }
    assert EmulatorSettings.from_env(env) == EmulatorSettings("k", "s", (1, 2))
    with pytest.raises(EmulatorError):
        EmulatorSettings.from_env({"PUSHFN_EMULATOR_APP_KEY": "abc"})
    shown = repr(EmulatorSettings.from_env({**env, "PUSHFN_EMULATOR_ACCESS_KEY_SECRET": "hush-hush"}))
    assert "hush-hush" not in shown  # the secret stays out of reprs and logs


@pytest.mark.parametrize("value", ["-5", "0", "１２", "1_000", "+5", str(2**63), "9" * 30, "1,x", " , "])
def test_app_key_variable_takes_only_appkeys(value) -> None:
    # int() alone served AppKey -5 or 0, read full-width digits and 1_000, and took numbers no request carries.
    with pytest.raises(EmulatorError, match="PUSHFN_EMULATOR_APP_KEY"):
        EmulatorSettings.from_env({"PUSHFN_EMULATOR_APP_KEY": value})


@pytest.mark.parametrize("app_keys", [[True], ["23267207"], [5.7], [0], [-1], [2**63], []])
def test_python_api_app_keys_are_checked_not_coerced(app_keys) -> None:
    # True, "23267207" and 5.7 became AppKeys 1, 23267207 and 5.
    with pytest.raises(EmulatorError, match=r"app.key"):
        Emulator(app_keys=app_keys)
    with pytest.raises(EmulatorError, match=r"app.key"):
        Emulator(settings=EmulatorSettings(app_keys=tuple(app_keys)))


def test_environment_configures_the_emulator_and_arguments_win(monkeypatch) -> None:
    monkeypatch.setenv("PUSHFN_EMULATOR_ACCESS_KEY_ID", "envid")
    monkeypatch.setenv("PUSHFN_EMULATOR_ACCESS_KEY_SECRET", "envsecret")
    monkeypatch.setenv("PUSHFN_EMULATOR_APP_KEY", "42")
    clock = FakeClock()
    with Emulator(clock=clock, settings=EmulatorSettings.from_env()) as emu:
        caller = Caller(emu, clock)
        assert caller.v2("Push", notice(), key_id="envid", secret="envsecret", app_key=42).status_code == 200
        assert caller.v2("Push", notice(), app_key=42).json()["Code"] == "InvalidAccessKeyId.NotFound"
    with Emulator(access_key_id="argid", app_keys=(7,), clock=clock, settings=EmulatorSettings.from_env()) as emu:
        assert emu.settings.access_key_id == "argid" and emu.settings.app_keys == (7,)
        assert emu.settings.access_key_secret == "envsecret"


def test_start_stop_and_properties() -> None:
    emu = Emulator()
    with pytest.raises(EmulatorError):
        _ = emu.url  # not running
    emu.start()
    port = emu.port
    try:
        assert emu.url == f"http://127.0.0.1:{emu.port}" and emu.endpoint == f"127.0.0.1:{emu.port}"
        with pytest.raises(EmulatorError):
            emu.start()
        assert requests.get(emu.url + "/_emulator/health", timeout=5).json() == {"ok": True}
    finally:
        emu.stop()
    emu.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=1)  # the port is closed


def test_serve_prints_the_url_and_stops_on_request() -> None:
    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(target=serve, kwargs={"port": 0, "out": out, "stop_event": stop, "log_requests": False})
    thread.start()
    try:
        for _ in range(200):
            if "http://" in out.getvalue():
                break
            time.sleep(0.01)
        url = out.getvalue().split("CloudPush emulator on ", 1)[1].split()[0]
        assert requests.get(url + "/_emulator/pushes", timeout=5).json() == {"pushes": []}
        assert "AccessKeyId testid" in out.getvalue() and "testsecret" not in out.getvalue()
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_concurrent_duplicates_of_one_token_push_once(emu, clock) -> None:
    token = str(uuid.uuid4())

    def push(_: int) -> str:
        caller = Caller(emu, clock)
        try:
            return caller.v2("Push", notice(IdempotentToken=token)).json()["MessageId"]
        finally:
            caller.session.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        message_ids = set(pool.map(push, range(16)))
    assert len(message_ids) == 1 and len(emu.pushes()) == 1


def test_concurrent_reuse_of_one_nonce_succeeds_once(emu, clock) -> None:
    def push(_: int) -> int:
        caller = Caller(emu, clock)
        try:
            return caller.v2("Push", notice(), nonce="shared-nonce").status_code
        finally:
            caller.session.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(push, range(16)))
    assert statuses == [200] + [400] * 15
    assert len(emu.pushes()) == 1


def test_request_log_names_action_and_outcome_but_no_device_id(capsys) -> None:
    clock = FakeClock()
    with Emulator(clock=clock, log_requests=True) as emu:
        caller = Caller(emu, clock)
        caller.v2("Push", notice(TargetValue="e2ba19de97604f55b165576736477b74"))
        caller.v2("Push", notice(), secret="wrong")
    err = capsys.readouterr().err
    assert "emulator: POST Push -> 200 OK" in err and "-> 400 SignatureDoesNotMatch" in err
    assert "e2ba19de97604f55b165576736477b74" not in err and "Signature=" not in err


@pytest.mark.parametrize("port", [70000, -1, True, "9100", 1.5, None])
def test_python_api_port_is_a_tcp_port(port) -> None:
    # True listened on port 1 and 1.5 too (int()), 70000 escaped from start() as OverflowError.
    with pytest.raises(EmulatorError, match="port"):
        Emulator(port=port)


@pytest.mark.parametrize("host", [None, 5, b"127.0.0.1", "127.0.0.1\x00", "local\nhost"])
def test_python_api_host_is_a_printable_name(host) -> None:
    # None and 5 escaped as AttributeError, bytes as TypeError at start(), NUL only when binding.
    with pytest.raises(EmulatorError, match="host"):
        Emulator(host=host)
