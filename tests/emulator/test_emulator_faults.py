"""Injected faults: errors before processing, latency and dropped connections after it."""

from __future__ import annotations

import pytest
import requests
from emulator_support import error_code, notice

from pushfn.emulator import EmulatorError


def test_internal_error_is_500_and_nothing_is_processed(api, emu) -> None:
    emu.add_fault("internal_error", count=2)
    assert error_code(api.v2("Push", notice())) == (500, "InternalError")
    assert error_code(api.v3("Push", notice())) == (500, "InternalError")
    assert emu.pushes() == []
    assert api.v2("Push", notice()).status_code == 200  # count used up
    assert len(emu.pushes()) == 1


def test_throttle_is_400_throttling_user_and_nothing_is_processed(api, emu) -> None:
    emu.add_fault("throttle")
    assert error_code(api.v2("Push", notice())) == (400, "Throttling.User")
    assert emu.pushes() == []
    assert api.v2("Push", notice()).status_code == 200


def test_a_throttle_fault_can_answer_another_code_with_x_acs_retry_after(api, emu) -> None:
    """The shape issue 13 item 13 names: ``Flow.Limited`` (HTTP 400) with ``x-acs-retry-after: 200``."""
    emu.add_fault("throttle", code="Flow.Limited", retry_after_ms=200)
    response = api.v2("Push", notice())
    assert error_code(response) == (400, "Flow.Limited")
    assert response.headers["x-acs-retry-after"] == "200"
    assert emu.pushes() == [] and emu.calls()[-1]["status"] == "throttled"
    plain = emu.add_fault("throttle")
    assert (plain["code"], plain["retry_after_ms"]) == (None, None)
    response = api.v2("Push", notice())
    assert error_code(response) == (400, "Throttling.User") and "x-acs-retry-after" not in response.headers


def test_latency_processes_first_then_answers_late(api, emu) -> None:
    emu.add_fault("latency", latency_ms=1500)
    with pytest.raises(requests.ReadTimeout):
        api.v2("Push", notice(), timeout=0.2)
    assert len(emu.pushes()) == 1  # the push went out although the client saw no answer
    assert api.v2("Push", notice()).status_code == 200


def test_small_latency_still_answers(api, emu) -> None:
    emu.add_fault("latency", latency_ms=10)
    response = api.v2("Push", notice())
    assert response.status_code == 200 and response.json()["MessageId"] == emu.pushes()[0]["message_id"]


def test_drop_processes_then_closes_without_an_answer(api, emu) -> None:
    emu.add_fault("drop")
    with pytest.raises(requests.ConnectionError):
        api.v2("Push", notice())
    assert len(emu.pushes()) == 1
    assert api.v2("Push", notice()).status_code == 200  # a fresh connection works


def test_actions_filter(api, emu) -> None:
    emu.register_device("d1")
    emu.add_fault("internal_error", count=1, actions=["BindAlias"])
    assert api.v2("Push", notice()).status_code == 200
    assert error_code(api.v2("BindAlias", {"DeviceId": "d1", "AliasName": "a"})) == (500, "InternalError")
    assert api.v2("BindAlias", {"DeviceId": "d1", "AliasName": "a"}).status_code == 200


def test_rate_one_hits_every_request_until_reset_and_rate_zero_none(api, emu) -> None:
    emu.add_fault("throttle", rate=0.0)
    assert api.v2("Push", notice()).status_code == 200
    emu.add_fault("internal_error", rate=1.0, actions=("Push",))
    assert all(error_code(api.v2("Push", notice()))[0] == 500 for _ in range(3))
    emu.reset()
    assert api.v2("Push", notice()).status_code == 200


def test_faults_strike_only_authenticated_requests(api, emu) -> None:
    emu.add_fault("internal_error")
    assert error_code(api.v2("Push", notice(), secret="wrong")) == (400, "SignatureDoesNotMatch")
    assert error_code(api.v2("Push", notice())) == (500, "InternalError")


def test_faults_over_the_control_api(api, emu) -> None:
    added = api.control("POST", "faults", {"kind": "throttle", "count": 2, "actions": ["Push"]})
    assert added.status_code == 200 and added.json()["fault"]["remaining"] == 2
    assert api.control("GET", "faults").json()["faults"][0]["kind"] == "throttle"
    assert error_code(api.v2("Push", notice())) == (400, "Throttling.User")
    assert api.control("DELETE", "faults").status_code == 200
    assert api.v2("Push", notice()).status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "explode"},
        {"kind": "throttle", "count": 0},
        {"kind": "throttle", "rate": 2},
        {"kind": "latency", "latency_ms": -1},
        {"kind": "latency", "latency_ms": 86_400_001},
        {"kind": "latency", "latency_ms": 2**63 - 1},
        {"kind": "throttle", "colour": "red"},
        {"kind": "throttle", "retry_after_ms": -1},
        {"kind": "throttle", "retry_after_ms": "200"},
        {"kind": "throttle", "retry_after_ms": True},
        {"kind": "throttle", "code": "Flow Limited\r\nX-Injected: 1"},
        {"kind": "internal_error", "code": "Flow.Limited"},
        {"kind": "latency", "retry_after_ms": 5},
        {"count": 1},
        ["not", "an", "object"],
    ],
)
def test_bad_fault_is_refused(api, payload) -> None:
    response = api.control("POST", "faults", payload)
    assert response.status_code == 400 and response.json()["error"]


@pytest.mark.parametrize("latency_ms", [10**400, 86_400_001], ids=["10**400", "a day and 1 ms"])
def test_a_latency_past_a_day_is_refused_from_python_too(emu, api, latency_ms) -> None:
    # 10**400 ms was kept: the push was then recorded as sent and answered 500 (OverflowError
    # turning it into asyncio's seconds); a day bounds it, as it bounds retry_after_ms.
    with pytest.raises(EmulatorError, match="latency_ms"):
        emu.add_fault("latency", latency_ms=latency_ms)
    assert emu.state.faults.list() == []
    assert api.v2("Push", notice()).status_code == 200


def test_stop_is_prompt_while_a_latency_fault_sleeps(emu, api) -> None:
    emu.add_fault("latency", latency_ms=60_000)
    with pytest.raises(requests.ReadTimeout):
        api.v2("Push", notice(), timeout=0.2)
    emu.stop()  # the sleeping handler wakes up; the test would hit its timeout otherwise
