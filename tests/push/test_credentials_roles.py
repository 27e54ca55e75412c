"""Credentials as people already have them: the Alibaba Cloud CLI profile and OIDC role assumption (RRSA).

STS is the FAKE loopback stand-in of ``tests/push/sts_standin.py`` (no local STS exists): it checks
every request's parameters and, for AssumeRole, the V2 signature with pushfn's own signer.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.push.sts_standin import StsStandIn
from tests.support import Clock

from pushfn.push.credentials import (
    CliProfileCredentials,
    Credentials,
    OidcRoleCredentials,
    RamRoleArnCredentials,
    StaticCredentials,
    default_chain,
)
from pushfn.push.errors import CredentialsError
from pushfn.push.sts import StsClient, sts_endpoint
from pushfn.settings import Settings

AK_ID = "LTAI5tProfileKeyId0001"
AK_SECRET = "profile-secret-must-not-leak-0001"
STS_TOKEN = "CAIS-profile-sts-token-must-not-leak"
OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.oidc-token-must-not-leak.sig"
ROLE_ARN = "acs:ram::1234567890123456:role/push-role"
PROVIDER_ARN = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sts(clock: Clock) -> Iterator[StsStandIn]:
    server = StsStandIn(callers={AK_ID: AK_SECRET}, oidc_tokens={OIDC_TOKEN}, clock=clock)
    yield server
    server.close()


def _profiles(**extra: object) -> dict[str, object]:
    return {
        "current": "default",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": AK_ID, "access_key_secret": AK_SECRET},
            {
                "name": "sts",
                "mode": "StsToken",
                "access_key_id": "STS.profile",
                "access_key_secret": AK_SECRET,
                "sts_token": STS_TOKEN,
            },
            {
                "name": "role",
                "mode": "RamRoleArn",
                "access_key_id": AK_ID,
                "access_key_secret": AK_SECRET,
                "ram_role_arn": ROLE_ARN,
                "ram_session_name": "ops-laptop",
                "expired_seconds": 1800,
                "external_id": "ext-42",
            },
        ],
        "meta_path": "",
        **extra,
    }


def _write_config(home: Path, config: object) -> Path:
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config) if not isinstance(config, str) else config, encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME, as the CLI's `~` (the autouse fixture already isolates HOME; this one is named)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def _chain(env: dict[str, str] | None = None):
    return default_chain(Settings.from_env({"PUSHFN_CONFIG_FILE": "/nonexistent.ini", **(env or {})}))


# --- the CLI profile ------------------------------------------------------------------------------


def test_the_current_profile_in_ak_mode_supplies_the_keys(home: Path) -> None:
    _write_config(home, _profiles())
    creds = _chain().get_credentials()
    assert (creds.access_key_id, creds.access_key_secret, creds.security_token) == (AK_ID, AK_SECRET, None)
    assert creds.source == "cli-profile:default"


def test_alibaba_cloud_profile_chooses_a_sts_token_profile(home: Path) -> None:
    _write_config(home, _profiles())
    creds = _chain({"ALIBABA_CLOUD_PROFILE": "sts"}).get_credentials()
    assert (creds.access_key_id, creds.security_token, creds.source) == ("STS.profile", STS_TOKEN, "cli-profile:sts")


def test_modes_are_matched_as_the_cli_matches_them_case_insensitively(home: Path) -> None:
    config = _profiles()
    config["profiles"][0]["mode"] = "ak"  # type: ignore[index]
    _write_config(home, config)
    assert _chain().get_credentials().access_key_id == AK_ID


def test_a_ram_role_arn_profile_assumes_the_role_with_a_signature_sts_accepts(home: Path, sts: StsStandIn) -> None:
    _write_config(home, _profiles())
    chain = _chain({"ALIBABA_CLOUD_PROFILE": "role", "PUSHFN_STS_ENDPOINT": sts.url})
    creds = chain.get_credentials()
    assert (creds.access_key_id, creds.access_key_secret, creds.security_token) == (
        "STS.role1",
        "role-secret-1-xxxxxxxx",
        "role-token-1-xxxxxxxx",
    )
    assert creds.source == "cli-profile:role/ram-role-arn" and creds.expiration is not None
    [request] = sts.requests
    query, form = request["query"], request["form"]
    assert query["Action"] == "AssumeRole" and query["AccessKeyId"] == AK_ID  # type: ignore[index]
    assert form == {  # the action's parameters travel in the body, from the profile's fields
        "RoleArn": ROLE_ARN,
        "RoleSessionName": "ops-laptop",
        "DurationSeconds": "1800",
        "ExternalId": "ext-42",
    }
    assert "SecurityToken" not in query  # type: ignore[operator]  # long-term keys: no token to send
    assert chain.get_credentials() == creds and len(sts.requests) == 1  # cached


def test_a_caller_with_a_sts_token_sends_it_and_it_is_signed(sts: StsStandIn) -> None:
    caller = StaticCredentials(AK_ID, AK_SECRET, STS_TOKEN)
    provider = RamRoleArnCredentials(caller, ROLE_ARN, session_name="s", endpoint=sts.url)
    assert provider.get_credentials().access_key_id == "STS.role1"  # the stand-in verified the signature
    assert sts.requests[0]["query"]["SecurityToken"] == STS_TOKEN  # type: ignore[index]


def test_a_wrong_secret_is_refused_and_the_error_names_the_code_without_the_string_to_sign(
    home: Path, sts: StsStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    sts.callers[AK_ID] = "the-secret-sts-knows"
    _write_config(home, _profiles())
    chain = _chain({"ALIBABA_CLOUD_PROFILE": "role", "PUSHFN_STS_ENDPOINT": sts.url})
    with caplog.at_level(logging.DEBUG), pytest.raises(CredentialsError) as info:
        chain.get_credentials()
    message = str(info.value)
    assert "cli-profile:role/ram-role-arn" in message and "AssumeRole" in message
    assert "HTTP 400 SignatureDoesNotMatch" in message and "RequestId req-refused" in message
    assert "string to sign" not in message and "RoleSessionName" not in message
    for secret in (AK_SECRET, "the-secret-sts-knows", AK_ID):
        assert secret not in message and secret not in caplog.text


def test_role_credentials_are_cached_until_near_expiry_then_assumed_again(
    home: Path, sts: StsStandIn, clock: Clock
) -> None:
    path = _write_config(home, _profiles())
    settings = Settings(pushfn_sts_endpoint=sts.url)
    provider = CliProfileCredentials(path, "role", settings=settings, clock=clock)
    first = provider.get_credentials()
    assert first is not None and first.expiration == pytest.approx(clock.now + 1800, abs=1)
    # A 30-minute session is refreshed a quarter of it (450 s) before expiry, not 15 minutes before.
    clock.advance(1800 - 450 - 5)
    assert provider.get_credentials() is first and len(sts.requests) == 1
    clock.advance(10)
    second = provider.get_credentials()
    assert second is not None and second.access_key_id == "STS.role2" and len(sts.requests) == 2
    nonces = {r["query"]["SignatureNonce"] for r in sts.requests}  # type: ignore[index]
    assert len(nonces) == 2


def test_a_failed_refresh_serves_the_cached_role_credentials_until_they_expire(
    home: Path, sts: StsStandIn, clock: Clock
) -> None:
    path = _write_config(home, _profiles())
    provider = CliProfileCredentials(path, "role", settings=Settings(pushfn_sts_endpoint=sts.url), clock=clock)
    first = provider.get_credentials()
    sts.fail_with = (503, "ServiceUnavailable")
    clock.advance(1500)  # refresh due, STS down, credentials still valid
    assert provider.get_credentials() is first
    clock.advance(400)  # now really expired
    with pytest.raises(CredentialsError, match="HTTP 503 ServiceUnavailable"):
        provider.get_credentials()


def test_an_edited_file_is_read_again(home: Path) -> None:
    path = _write_config(home, _profiles())
    provider = CliProfileCredentials(path)
    assert provider.get_credentials().access_key_id == AK_ID  # type: ignore[union-attr]
    config = _profiles(current="sts")
    path.write_text(json.dumps(config) + "\n" * 3, encoding="utf-8")  # another size: seen as changed
    assert provider.get_credentials().access_key_id == "STS.profile"  # type: ignore[union-attr]


def test_no_file_means_the_next_source_answers_and_disabled_means_never_read(home: Path, tmp_path: Path) -> None:
    ini = tmp_path / "c.ini"
    ini.write_text("[push_config]\nPUSH_ACCESS_KEY_ID = ini-id\nPUSH_ACCESS_KEY_SECRET = ini-secret\n")
    assert _chain({"PUSHFN_CONFIG_FILE": str(ini)}).get_credentials().access_key_id == "ini-id"
    _write_config(home, "not json at all")
    with pytest.raises(CredentialsError, match=r"config\.json"):
        _chain({"PUSHFN_CONFIG_FILE": str(ini)}).get_credentials()
    disabled = _chain({"PUSHFN_CONFIG_FILE": str(ini), "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"})
    assert not any(isinstance(p, CliProfileCredentials) for p in disabled.providers)
    assert disabled.get_credentials().access_key_id == "ini-id"


def _profile(mode: str, **fields: object) -> dict[str, object]:
    return {"current": "p", "profiles": [{"name": "p", "mode": mode, **fields}]}


AK = {"access_key_id": AK_ID, "access_key_secret": AK_SECRET}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ("{not json", "not valid JSON"),
        ('{"current": "p", "current": "q", "profiles": []}', "duplicate"),
        ([1, 2], '"current" and "profiles"'),
        ({"current": "p", "profiles": {"p": {}}}, '"profiles" must be a list'),
        ({"current": "", "profiles": []}, '"current" is empty and ALIBABA_CLOUD_PROFILE is unset'),
        ({"profiles": [{"name": "p", "mode": "AK", **AK}]}, '"current" is empty'),
        (
            {"current": "gone", "profiles": [{"name": "p"}]},
            "no profile named 'gone' (chosen by \"current\"); profiles: 'p'",
        ),
        (_profile(""), '"mode" is empty'),
        (_profile("CloudSSO"), "\"mode\" 'CloudSSO' is not read by pushfn"),
        (_profile("AK", access_key_id=AK_ID), '"access_key_secret" is empty'),
        (_profile("AK", access_key_id=12345, access_key_secret=AK_SECRET), '"access_key_id" must be text'),
        (_profile("StsToken", **AK), '"sts_token" is empty'),
        (_profile("RamRoleArn", **AK), '"ram_role_arn" is empty'),
        (_profile("RamRoleArn", **AK, ram_role_arn=ROLE_ARN, expired_seconds=60), '"expired_seconds" must be'),
        (_profile("RamRoleArn", **AK, ram_role_arn=ROLE_ARN, expired_seconds="3600"), '"expired_seconds" must be'),
    ],
)
def test_a_broken_file_or_profile_is_an_error_naming_the_file_and_the_field(
    home: Path, config: object, field: str
) -> None:
    path = _write_config(home, config)
    with pytest.raises(CredentialsError) as info:
        _chain().get_credentials()
    message = str(info.value)
    assert message.startswith(str(path)) and field in message
    assert AK_SECRET not in message


def test_a_missing_profile_named_by_the_setting_says_so(home: Path) -> None:
    path = _write_config(home, _profiles())
    with pytest.raises(CredentialsError) as info:
        _chain({"ALIBABA_CLOUD_PROFILE": "prod"}).get_credentials()
    assert str(info.value) == (
        f"{path}: no profile named 'prod' (chosen by ALIBABA_CLOUD_PROFILE); profiles: 'default', 'sts', 'role'"
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_field_values = st.one_of(st.just(AK_SECRET), st.text(max_size=6), st.integers(0, 5000), st.none(), _json)
_profile_entries = st.fixed_dictionaries(
    {"name": st.sampled_from(["p", "q", ""]), "mode": st.sampled_from(["AK", "StsToken", "RamRoleArn", "x", ""])},
    optional={
        "access_key_id": _field_values,
        "access_key_secret": st.just(AK_SECRET),
        "sts_token": _field_values,
        "ram_role_arn": _field_values,
        "expired_seconds": _field_values,
        "sts_region": st.sampled_from(["cn-hangzhou", ""]),
    },
)
_configs = st.one_of(
    _json,
    st.fixed_dictionaries(
        {"current": st.sampled_from(["p", "q", "", None]), "profiles": st.lists(_profile_entries, max_size=3)}
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=_configs)
def test_any_config_file_gives_credentials_or_a_clear_error_never_a_crash_or_a_leak(config: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        # An unreachable STS: a RamRoleArn profile that gets as far as STS fails there, cleanly.
        provider = CliProfileCredentials(path, settings=Settings(pushfn_sts_endpoint="http://127.0.0.1:9"))
        try:
            creds = provider.get_credentials()
        except CredentialsError as exc:
            assert str(path) in str(exc) or "STS" in str(exc)
            assert AK_SECRET not in str(exc)
        else:
            assert isinstance(creds, Credentials) and creds.source.startswith("cli-profile:")
            assert AK_SECRET not in repr(creds)


# --- OIDC role assumption (RRSA) ------------------------------------------------------------------


def _oidc_env(sts: StsStandIn, token_file: Path, **extra: str) -> dict[str, str]:
    return {
        "ALIBABA_CLOUD_ROLE_ARN": ROLE_ARN,
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN,
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file),
        "PUSHFN_STS_ENDPOINT": sts.url,
        **extra,
    }


def test_oidc_assumes_the_role_anonymously_with_the_token_in_the_body(tmp_path: Path, sts: StsStandIn) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN + "\n")  # a trailing newline, as an editor leaves it
    chain = _chain(_oidc_env(sts, token_file, ALIBABA_CLOUD_ROLE_SESSION_NAME="push-worker"))
    creds = chain.get_credentials()
    assert (creds.access_key_id, creds.security_token, creds.source) == (
        "STS.role1",
        "role-token-1-xxxxxxxx",
        "oidc-role-arn",
    )
    [request] = sts.requests
    assert request["query"]["Action"] == "AssumeRoleWithOIDC"  # type: ignore[index]
    assert request["form"] == {
        "RoleArn": ROLE_ARN,
        "OIDCProviderArn": PROVIDER_ARN,
        "OIDCToken": OIDC_TOKEN,
        "RoleSessionName": "push-worker",
        "DurationSeconds": "3600",
    }
    assert OIDC_TOKEN not in str(request["raw_query"])  # never in a URL a proxy or a log might keep
    assert chain.get_credentials() == creds and len(sts.requests) == 1


def test_oidc_refreshes_before_expiry_reading_the_rotated_token(tmp_path: Path, sts: StsStandIn, clock: Clock) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN)
    provider = OidcRoleCredentials.from_settings(Settings.from_env(_oidc_env(sts, token_file)), clock=clock)
    assert provider is not None
    first = provider.get_credentials()
    rotated = OIDC_TOKEN + ".rotated"
    sts.oidc_tokens = {rotated}  # the old token is no longer accepted
    token_file.write_text(rotated)
    clock.advance(3600 - 900 - 1)  # still outside the 15-minute margin: no call
    assert provider.get_credentials() is first and len(sts.requests) == 1
    clock.advance(2)
    second = provider.get_credentials()
    assert second.access_key_id == "STS.role2" and sts.requests[1]["form"]["OIDCToken"] == rotated  # type: ignore[index]


def test_oidc_refused_by_sts_is_a_clear_error_without_the_token(
    tmp_path: Path, sts: StsStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("a-token-sts-does-not-know")
    with caplog.at_level(logging.DEBUG), pytest.raises(CredentialsError) as info:
        _chain(_oidc_env(sts, token_file)).get_credentials()
    assert "oidc-role-arn: STS AssumeRoleWithOIDC refused: HTTP 400 AuthenticationFail.OIDCToken.Invalid" in str(
        info.value
    )
    assert "a-token-sts-does-not-know" not in str(info.value) + caplog.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ALIBABA_CLOUD_ROLE_ARN": ""}, "ALIBABA_CLOUD_ROLE_ARN unset while the other OIDC settings are set"),
        ({"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": ""}, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN unset"),
        ({"ALIBABA_CLOUD_OIDC_TOKEN_FILE": ""}, "ALIBABA_CLOUD_OIDC_TOKEN_FILE unset"),
        ({"ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/nonexistent/token"}, "/nonexistent/token: cannot be read"),
        ({"token": ""}, "the file is empty"),
    ],
)
def test_half_configured_oidc_names_the_missing_setting(
    tmp_path: Path, sts: StsStandIn, change: dict[str, str], message: str
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(change.pop("token", OIDC_TOKEN))
    with pytest.raises(CredentialsError, match="ALIBABA_CLOUD_") as info:
        _chain({**_oidc_env(sts, token_file), **change}).get_credentials()
    assert message in str(info.value) and sts.requests == []


def test_a_role_arn_alone_is_left_to_other_tools(tmp_path: Path) -> None:
    chain = _chain({"ALIBABA_CLOUD_ROLE_ARN": ROLE_ARN})
    assert not any(isinstance(p, OidcRoleCredentials) for p in chain.providers)


def test_sts_unreachable_is_a_credentials_error_naming_the_action(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN)
    provider = OidcRoleCredentials(ROLE_ARN, PROVIDER_ARN, token_file, endpoint="http://127.0.0.1:9")
    with pytest.raises(CredentialsError, match=r"STS AssumeRoleWithOIDC at http://127.0.0.1:9 unreachable"):
        provider.get_credentials()


def test_an_answer_without_credentials_is_refused_field_by_field(sts: StsStandIn) -> None:
    sts.issue = lambda n: ("STS.x", "", "tok")
    client = StsClient(sts.url)
    with pytest.raises(CredentialsError, match=r"answer lacks Credentials.AccessKeySecret"):
        client.assume_role(StaticCredentials(AK_ID, AK_SECRET).get_credentials(), ROLE_ARN, "s")
    client.close()


# --- the chain as a whole -------------------------------------------------------------------------


def test_the_order_is_environment_then_oidc_then_cli_profile_then_ini(
    home: Path, tmp_path: Path, sts: StsStandIn
) -> None:
    _write_config(home, _profiles())
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN)
    ini = tmp_path / "c.ini"
    ini.write_text("[push_config]\nPUSH_ACCESS_KEY_ID = ini-id\nPUSH_ACCESS_KEY_SECRET = ini-secret\n")
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "env-id",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret",
        "PUSHFN_CONFIG_FILE": str(ini),
        **_oidc_env(sts, token_file),
    }
    sources = [type(p).__name__ for p in default_chain(Settings.from_env(env)).providers]
    assert sources == [
        "EnvironmentCredentials",
        "EnvironmentCredentials",
        "OidcRoleCredentials",
        "CliProfileCredentials",
        "IniFileCredentials",
    ]
    assert default_chain(Settings.from_env(env)).get_credentials().source == "env"
    del env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
    assert default_chain(Settings.from_env(env)).get_credentials().source == "oidc-role-arn"
    del env["ALIBABA_CLOUD_OIDC_PROVIDER_ARN"], env["ALIBABA_CLOUD_OIDC_TOKEN_FILE"]
    assert default_chain(Settings.from_env(env)).get_credentials().source == "cli-profile:default"
    env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"
    assert default_chain(Settings.from_env(env)).get_credentials().source == "ini:c.ini"


def test_sts_endpoint_follows_the_official_rules() -> None:
    assert sts_endpoint(Settings()) == "https://sts.aliyuncs.com"
    assert sts_endpoint(Settings(alibaba_cloud_sts_region="cn-shanghai")) == "https://sts.cn-shanghai.aliyuncs.com"
    assert sts_endpoint(Settings(), "ap-southeast-1") == "https://sts.ap-southeast-1.aliyuncs.com"
    vpc = Settings(alibaba_cloud_vpc_endpoint_enabled=True)
    assert sts_endpoint(vpc) == "https://sts.aliyuncs.com"  # the VPC endpoint needs a region
    assert sts_endpoint(vpc, "cn-beijing") == "https://sts-vpc.cn-beijing.aliyuncs.com"
    assert sts_endpoint(Settings(pushfn_sts_endpoint="http://127.0.0.1:8/"), "cn-beijing") == "http://127.0.0.1:8"


def test_a_profile_sts_region_picks_the_regional_endpoint(home: Path) -> None:
    config = _profiles()
    config["profiles"][2]["sts_region"] = "cn-shanghai"  # type: ignore[index]
    path = _write_config(home, config)
    inner = CliProfileCredentials(path, "role")._load()
    assert isinstance(inner, RamRoleArnCredentials)
    assert inner.sts.endpoint == "https://sts.cn-shanghai.aliyuncs.com"


def test_no_secret_in_any_repr_or_log_line(
    home: Path, tmp_path: Path, sts: StsStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    _write_config(home, _profiles())
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN)
    with caplog.at_level(logging.DEBUG):
        role_chain = _chain({"ALIBABA_CLOUD_PROFILE": "role", "PUSHFN_STS_ENDPOINT": sts.url})
        role = role_chain.get_credentials()
        oidc_chain = _chain(_oidc_env(sts, token_file))
        oidc = oidc_chain.get_credentials()
    shown = caplog.text + repr(role) + repr(oidc) + repr(role_chain.providers) + repr(oidc_chain.providers)
    assert "refreshed role credentials" in caplog.text
    for secret in (AK_SECRET, STS_TOKEN, OIDC_TOKEN, "role-secret-1", "role-token-1", "role-secret-2"):
        assert secret not in shown


def test_importing_the_chain_loads_neither_sts_nor_the_json_reader() -> None:
    code = (
        "import sys\n"
        "from pushfn.push.credentials import default_chain\n"
        "from pushfn.settings import Settings\n"
        "s = Settings(alibaba_cloud_access_key_id='a', alibaba_cloud_access_key_secret='b')\n"
        "default_chain(s).get_credentials()\n"
        "print(sorted(m for m in ('pushfn.push.sts', 'pushfn.json_input', 'requests') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"
