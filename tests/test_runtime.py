"""The process runtime: built from one Settings read, and credentials from every invocation's context
(issue 14 item 9: the first invocation's temporary keys must not be kept for the instance's life)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from pushfn.emulator import Emulator
from pushfn.jobs.scheduled import handle_timer_event
from pushfn.runtime import Runtime, get_runtime, reset_runtime
from pushfn.settings import Settings, SettingsError
from pushfn.triggers.events.timer import fc_timer_event

APP_KEY = 23267207
PAIRS = {f"STS.key{n}": (f"secret-{n}", f"token-{n}") for n in range(1, 4)}
SPEC = {"Target": "ACCOUNT", "TargetValue": "u1", "DeviceType": "ALL", "PushType": "NOTICE", "Title": "T", "Body": "B"}


def context(key_id: str) -> SimpleNamespace:
    """An FC (Python ≤ 3.10 runtime) context carrying the role's temporary keys."""
    secret, token = PAIRS[key_id]
    creds = SimpleNamespace(access_key_id=key_id, access_key_secret=secret, security_token=token)
    return SimpleNamespace(request_id=f"req-{key_id}", credentials=creds)


@pytest.fixture
def sts_emulator() -> Iterator[Emulator]:
    """An emulator that accepts several STS key pairs (each with its token), as a rotating role's."""
    with Emulator(app_keys=(APP_KEY,), security_tokens=PAIRS) as emulator:
        yield emulator


@pytest.fixture
def function_env(sts_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The process environment of a deployed function without keys of its own: only the context has them."""
    monkeypatch.setenv("PUSH_ENDPOINT", sts_emulator.url)
    monkeypatch.setenv("PUSH_APP_KEY", str(APP_KEY))
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_URL", "memory://")
    monkeypatch.setenv("PUSH_MAX_ATTEMPTS", "1")
    reset_runtime()
    try:
        yield sts_emulator
    finally:
        runtime = get_runtime()
        runtime.client.close()
        reset_runtime()


def _tick(minute: int) -> bytes:
    when = datetime(2030, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minute)
    return fc_timer_event(SPEC, trigger_name="nightly", trigger_time=when)  # type: ignore[return-value]


def test_each_invocation_signs_with_its_own_context_keys(function_env: Emulator) -> None:
    # The issue's case: two invocations, the second context carrying rotated keys.
    assert handle_timer_event(_tick(0), context("STS.key1"))["status"] == "ok"
    assert handle_timer_event(_tick(1), context("STS.key2"))["status"] == "ok"
    # And more of the same kind: back to an older pair, then a third one.
    assert handle_timer_event(_tick(2), context("STS.key1"))["status"] == "ok"
    assert handle_timer_event(_tick(3), context("STS.key3"))["status"] == "ok"
    signed = [push["access_key_id"] for push in function_env.pushes()]
    assert signed == ["STS.key1", "STS.key2", "STS.key1", "STS.key3"]


def test_an_invocation_without_a_context_keeps_the_latest_keys(function_env: Emulator) -> None:
    assert handle_timer_event(_tick(0), context("STS.key2"))["status"] == "ok"
    assert handle_timer_event(_tick(1), None)["status"] == "ok"  # e.g. a local call: nothing to bind
    assert [p["access_key_id"] for p in function_env.pushes()] == ["STS.key2", "STS.key2"]


def test_the_signing_key_follows_the_bound_context_at_the_client_seam(function_env: Emulator) -> None:
    request = {**SPEC}
    for key_id in ("STS.key1", "STS.key2", "STS.key3", "STS.key1"):
        client = get_runtime(context(key_id)).client
        prepared = client.prepare("Push", request)
        assert f"AccessKeyId={key_id}" in prepared.url
        assert f"SecurityToken={PAIRS[key_id][1]}" in prepared.url
    assert len({id(get_runtime().client)}) == 1  # one client for the instance, keys per invocation


def test_concurrent_invocations_always_sign_with_a_bound_pair(function_env: Emulator) -> None:
    runtime = get_runtime(context("STS.key1"))
    client = runtime.client
    seen: set[str] = set()
    errors: list[BaseException] = []

    def invoke(key_id: str) -> None:
        try:
            for _ in range(50):
                get_runtime(context(key_id))
                prepared = client.prepare("Push", SPEC)
                seen.add(prepared.url.split("AccessKeyId=")[1].split("&")[0])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=invoke, args=(k,)) for k in PAIRS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and seen <= set(PAIRS)


def test_environment_keys_win_over_the_context_and_are_reread(function_env: Emulator, monkeypatch) -> None:
    # FC 3.x puts the role's keys in the environment and rotates them: each call sees the current ones.
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.key3")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", PAIRS["STS.key3"][0])
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", PAIRS["STS.key3"][1])
    client = get_runtime(context("STS.key1")).client
    assert "AccessKeyId=STS.key3" in client.prepare("Push", SPEC).url
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.key2")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", PAIRS["STS.key2"][0])
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", PAIRS["STS.key2"][1])
    assert "AccessKeyId=STS.key2" in client.prepare("Push", SPEC).url


def test_given_settings_are_a_snapshot_and_build_every_part(tmp_path) -> None:
    settings = Settings(
        push_app_key=str(APP_KEY),
        push_endpoint="http://127.0.0.1:9",
        alibaba_cloud_access_key_id="snap-id",
        alibaba_cloud_access_key_secret="snap-secret",
        pushfn_idempotency_url="memory://",
        pushfn_templates='{"t": {"Title": "{x}", "Body": "b"}}',
        pushfn_schedules='{"nightly": {"Title": "n"}}',
        pushfn_dead_letter_url=f"file://{tmp_path}",
        pushfn_config_file=str(tmp_path / "absent.ini"),
    )
    runtime = Runtime(settings=settings)
    assert runtime.client.app_key == APP_KEY and runtime.client.endpoint == "http://127.0.0.1:9"
    assert "AccessKeyId=snap-id" in runtime.client.prepare("Push", SPEC).url
    assert runtime.store.kind == "memory"
    assert set(runtime.templates()) == {"t"} and runtime.schedules() == {"nightly": {"Title": "n"}}
    assert runtime.dead_letter is not None and str(tmp_path) in runtime.dead_letter.describe()
    assert Runtime(settings=Settings()).dead_letter is None
    runtime.client.close()


def test_a_malformed_setting_fails_the_runtime_and_is_read_again_next_time(monkeypatch) -> None:
    reset_runtime()
    monkeypatch.setenv("PUSH_MAX_ATTEMPTS", "many")
    with pytest.raises(SettingsError, match="PUSH_MAX_ATTEMPTS"):
        get_runtime()
    monkeypatch.setenv("PUSH_MAX_ATTEMPTS", "2")
    assert get_runtime().settings.push_max_attempts == 2
    reset_runtime()


# --- issue 12: FC Python 3.12 and role sources of the chain --------------------------------------


def _fc3_py312_context(request_id: str) -> SimpleNamespace:
    """An FC 3.x Python 3.12 context: no ``credentials`` — the role's keys are in the environment."""
    return SimpleNamespace(
        request_id=request_id,
        function=SimpleNamespace(name="scheduled_push", handler="index.handler"),
        region="cn-hangzhou",
        account_id="1234567890123456",
    )


def test_fc_python312_role_keys_in_the_environment_sign_every_push_and_rotate(
    function_env: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    # A CLI profile left in the image's HOME must not shadow the platform's keys.
    (tmp_path / ".aliyun").mkdir()
    profile = {"name": "default", "mode": "AK", "access_key_id": "cli-id", "access_key_secret": "cli-secret"}
    (tmp_path / ".aliyun" / "config.json").write_text(json.dumps({"current": "default", "profiles": [profile]}))
    monkeypatch.setenv("HOME", str(tmp_path))

    def platform_keys(key_id: str) -> None:
        secret, token = PAIRS[key_id]
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", key_id)
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
        monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", token)

    platform_keys("STS.key1")
    assert handle_timer_event(_tick(0), _fc3_py312_context("r1"))["status"] == "ok"
    platform_keys("STS.key2")  # the platform rotated the role's keys between invocations
    assert handle_timer_event(_tick(1), _fc3_py312_context("r2"))["status"] == "ok"
    # The emulator accepted each push: the right secret signed it and the right token came with it.
    assert [p["access_key_id"] for p in function_env.pushes()] == ["STS.key1", "STS.key2"]
    assert "credentials" not in vars(_fc3_py312_context("r3"))


def test_an_oidc_role_signs_pushes_the_service_accepts(
    function_env: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from tests.push.sts_standin import StsStandIn

    token_file = tmp_path / "token"
    token_file.write_text("rrsa-oidc-token")
    sts = StsStandIn(oidc_tokens={"rrsa-oidc-token"}, issue=lambda n: ("STS.key3", *PAIRS["STS.key3"]))
    try:
        monkeypatch.setenv("ALIBABA_CLOUD_ROLE_ARN", sts.role_arn)
        monkeypatch.setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", sts.oidc_provider_arn)
        monkeypatch.setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", str(token_file))
        monkeypatch.setenv("PUSHFN_STS_ENDPOINT", sts.url)
        assert handle_timer_event(_tick(0), _fc3_py312_context("r1"))["status"] == "ok"
        assert handle_timer_event(_tick(1), _fc3_py312_context("r2"))["status"] == "ok"
    finally:
        sts.close()
    assert [p["access_key_id"] for p in function_env.pushes()] == ["STS.key3", "STS.key3"]
    assert sts.issued == 1  # assumed once, cached for the instance


# --- item 9, more of the same kind: every deployed entry point, both attribute spellings ------------------


def camel_context(key_id: str) -> SimpleNamespace:
    """A context whose credentials use FC's camelCase attribute names (``accessKeyId``…)."""
    secret, token = PAIRS[key_id]
    creds = SimpleNamespace(accessKeyId=key_id, accessKeySecret=secret, securityToken=token)
    return SimpleNamespace(request_id=f"req-{key_id}", credentials=creds)


def _http_fc2(n: int, ctx: SimpleNamespace) -> None:
    from functions.http_push.index import handler

    from pushfn.triggers.events.http import call_wsgi, fc2_environ

    body = json.dumps({**SPEC, "Title": f"T{n}"}).encode()
    environ = fc2_environ("POST", "/push", body, {"Content-Type": "application/json"}, context=ctx)
    assert call_wsgi(handler, environ).status == 202


def _http_fc3(n: int, ctx: SimpleNamespace) -> None:
    from functions.http_push.index import handler

    from pushfn.triggers.events.http import fc3_event

    body = json.dumps({**SPEC, "Title": f"T{n}"}).encode()
    assert handler(fc3_event("POST", "/push", body, {"Content-Type": "application/json"}), ctx)["statusCode"] == 202


def _queue_mns(n: int, ctx: SimpleNamespace) -> None:
    from functions.queue_push.index import handler

    from pushfn.triggers.events.queue import mns_topic_json

    job = {"kind": "push", "version": 1, "key": f"job-{n}", "push": SPEC}
    assert handler(mns_topic_json(job, message_id=f"M{n:031d}"), ctx)["succeeded"] == 1


def _timer(n: int, ctx: SimpleNamespace) -> None:
    from functions.scheduled_push.index import handler

    assert handler(_tick(n), ctx)["status"] == "ok"


@pytest.mark.parametrize("invoke", [_http_fc2, _http_fc3, _queue_mns, _timer], ids=lambda f: f.__name__[1:])
@pytest.mark.parametrize("make_context", [context, camel_context], ids=["snake", "camel"])
def test_every_entry_point_signs_each_invocation_with_its_own_context_keys(
    function_env: Emulator, monkeypatch: pytest.MonkeyPatch, invoke, make_context
) -> None:
    from pushfn.http import reset_default_app

    monkeypatch.setenv("PUSHFN_HTTP_AUTH", "none")
    reset_default_app()
    try:
        for n, key_id in enumerate(("STS.key1", "STS.key2", "STS.key3", "STS.key1")):
            invoke(n, make_context(key_id))
    finally:
        reset_default_app()
    assert [push["access_key_id"] for push in function_env.pushes()] == ["STS.key1", "STS.key2", "STS.key3", "STS.key1"]


def test_the_http_and_queue_functions_share_the_runtimes_one_templates_table(
    function_env: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """Issue 14 item 3: ``PUSHFN_TEMPLATES`` is loaded in one place (the runtime), once per process, not
    once by the HTTP app and again by the runtime for the queue and timer functions."""
    from functions.http_push.index import handler as http_handler
    from functions.queue_push.index import handler as queue_handler

    import pushfn.specs.templates as templates_module
    from pushfn.http import reset_default_app
    from pushfn.triggers.events.http import fc3_event
    from pushfn.triggers.events.queue import mns_topic_json

    table = {"shipped": {"Target": "ACCOUNT", "DeviceType": "ALL", "PushType": "NOTICE", "Title": "Order {order}",
                         "Body": "B"}}  # fmt: skip
    (tmp_path / "templates.json").write_text(json.dumps(table), encoding="utf-8")
    monkeypatch.setenv("PUSHFN_TEMPLATES", str(tmp_path / "templates.json"))
    monkeypatch.setenv("PUSHFN_HTTP_AUTH", "none")
    loads: list[object] = []
    real = templates_module.load_templates
    monkeypatch.setattr(templates_module, "load_templates", lambda source=None: loads.append(source) or real(source))
    reset_default_app()
    try:
        for n in range(2):
            body = json.dumps({"template": "shipped", "params": {"order": f"h{n}"}, "target_value": "u1"}).encode()
            event = fc3_event("POST", "/push", body, {"Content-Type": "application/json"})
            answer = http_handler(event, context("STS.key1"))
            assert answer["statusCode"] == 202, answer
            push = {"template": "shipped", "params": {"order": f"q{n}"}, "TargetValue": "u1"}
            job = {"kind": "push", "version": 1, "key": f"q{n}", "push": push}
            assert queue_handler(mns_topic_json(job, message_id=f"Q{n:031d}"), context("STS.key2"))["succeeded"] == 1
    finally:
        reset_default_app()
    assert sorted(p["params"]["Title"] for p in function_env.pushes()) == [
        "Order h0",
        "Order h1",
        "Order q0",
        "Order q1",
    ]
    assert loads == [str(tmp_path / "templates.json")]
