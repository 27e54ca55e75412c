"""Settings: one table of variables, typed parsing with named errors, and the README kept in step with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pushfn.errors import ConfigurationError
from pushfn.settings import VARIABLES, Settings, SettingsError

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_table() -> dict[str, tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Configuration") :]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines()[2:]:
        if not line.startswith("| `"):
            if rows:
                break
            continue
        name, meaning, default = (cell.strip() for cell in line.strip("|").split(" | "))
        rows[name.strip("`")] = (meaning, default)
    return rows


def _plain(text: str) -> str:
    return text.replace("`", "")


def test_the_readme_table_lists_every_variable_in_order_with_its_meaning_and_default():
    table = _readme_table()
    assert list(table) == [variable.name for variable in VARIABLES]
    for variable in VARIABLES:
        meaning, default = table[variable.name]
        assert meaning == variable.meaning, variable.name
        assert _plain(default) == _plain(variable.shown_default), variable.name


def test_defaults_when_nothing_is_set():
    settings = Settings.from_env({})
    assert settings.push_endpoint == "https://cloudpush.aliyuncs.com"
    assert settings.push_connect_timeout == 5.0
    assert settings.push_max_attempts == 4
    assert settings.pushfn_http_auth == "required"
    assert settings.pushfn_http_dedupe_seconds == 60
    assert settings.alibaba_cloud_ecs_metadata_enabled is False
    assert settings.push_app_key is None
    assert settings == Settings()


def test_values_are_typed_and_blank_means_unset():
    settings = Settings.from_env(
        {
            "PUSH_READ_TIMEOUT": " 2.5 ",
            "PUSHFN_HTTP_DEDUPE_SECONDS": "0",
            "PUSHFN_HTTP_AUTH": "NONE",
            "PUSH_SIGNATURE_VERSION": "V3",
            "ALIBABA_CLOUD_ECS_METADATA_ENABLED": "yes",
            "PUSH_APP_KEY": "   ",
        }
    )
    assert settings.push_read_timeout == 2.5
    assert settings.pushfn_http_dedupe_seconds == 0
    assert settings.pushfn_http_auth == "none"
    assert settings.push_signature_version == "v3"
    assert settings.alibaba_cloud_ecs_metadata_enabled is True
    assert settings.push_app_key is None


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("PUSH_MAX_ATTEMPTS", "0", "at least 1"),
        ("PUSH_MAX_ATTEMPTS", "four", "integer"),
        ("PUSHFN_HTTP_DEDUPE_SECONDS", "-1", "at least 0"),
        ("PUSH_CONNECT_TIMEOUT", "0", "positive"),
        ("PUSH_CONNECT_TIMEOUT", "nan", "positive"),
        ("PUSH_READ_TIMEOUT", "soon", "number of seconds"),
        ("PUSHFN_HTTP_AUTH", "optional", "'required' or 'none'"),
        ("PUSH_SIGNATURE_VERSION", "v4", "'v2' or 'v3'"),
        ("ALIBABA_CLOUD_ECS_METADATA_ENABLED", "maybe", "true or false"),
        ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "sometimes", "true or false"),
        ("PUSHFN_STS_ENDPOINT", "sts.aliyuncs.com", "http(s) URL such as https://sts.aliyuncs.com"),
        ("PUSHFN_STS_ENDPOINT", "https://sts.aliyuncs.com/v1", "scheme://host[:port] only"),
    ],
)
def test_a_refused_value_names_the_variable_and_the_rule(name, value, rule):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    assert str(caught.value).startswith(name)
    assert rule in str(caught.value)
    assert isinstance(caught.value, ConfigurationError)


def test_secret_values_never_reach_a_message_or_a_repr():
    settings = Settings(pushfn_webhook_secrets="whsec_c2VjcmV0", push_access_key_secret="hunter2-secret")
    assert "hunter2" not in repr(settings) and "c2VjcmV0" not in repr(settings)
    assert "push_access_key_secret=***" in repr(settings)


def test_settings_are_read_only_and_replace_makes_a_copy():
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.push_app_key = "1"  # type: ignore[misc]
    changed = settings.replace(push_app_key="23267207")
    assert (settings.push_app_key, changed.push_app_key) == (None, "23267207")
    with pytest.raises(TypeError, match="unknown settings: push_app_kee"):
        Settings(push_app_kee="1")


def test_attribute_names_are_the_variable_names_in_lower_case():
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", v.name) for v in VARIABLES)
    assert Settings.__annotations__.keys() == {v.name.lower() for v in VARIABLES}


# --- issue 14 item 3: the INI file fills what the environment leaves unset; one rule per variable ----


def test_the_config_file_fills_only_unset_client_settings_by_the_same_rules():
    settings = Settings.from_env({"PUSH_REGION_ID": "cn-hangzhou", "PUSH_READ_TIMEOUT": "3"})
    ini = {"push_app_key": "23267207", "push_region_id": "cn-shanghai", "push_max_attempts": "2", "other": "x"}
    filled = settings.fill_from(ini, where="/etc/pushfn.ini")
    assert filled.push_app_key == "23267207" and filled.push_max_attempts == 2
    assert filled.push_region_id == "cn-hangzhou"  # set in the environment (even to the default): it wins
    assert filled.push_read_timeout == 3.0
    assert settings.is_set("push_region_id") and not settings.is_set("push_app_key")
    for name, value, rule in [("push_max_attempts", "0", "whole number"), ("push_endpoint", "ftp://h", "http(s)")]:
        with pytest.raises(SettingsError) as caught:
            Settings().fill_from({name: value}, where="/etc/pushfn.ini")
        assert str(caught.value).startswith(f"{name.upper()} in /etc/pushfn.ini") and rule in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("PUSH_MAX_ATTEMPTS", "101", "from 1 to 100"),
        ("PUSH_MAX_ATTEMPTS", "2.5", "whole number"),
        ("PUSH_READ_TIMEOUT", "3601", "at most 3600"),
        ("PUSH_READ_TIMEOUT", "inf", "positive number of seconds"),
        ("PUSH_APP_KEY", "my-app", "numeric AppKey"),
        ("PUSH_APP_KEY", "0", "numeric AppKey"),
        ("PUSH_ENDPOINT", "cloudpush.aliyuncs.com", "http(s) URL"),
        ("PUSH_ENDPOINT", "https://h/path", "no path"),
        ("PUSH_ENDPOINT", "https://h:70000", "invalid port"),
    ],
)
def test_client_settings_have_one_rule_for_the_cli_and_the_functions(name, value, rule):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    assert str(caught.value).startswith(name) and rule in str(caught.value)


def test_a_url_with_a_password_is_never_echoed():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PUSH_ENDPOINT": "ftp://user:hunter2@example.com"})
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("env", "data", "config"),
    [
        ({}, "home/.local/share/pushfn", "home/.config/pushfn/config.ini"),
        (
            {"XDG_DATA_HOME": "xdg-data", "XDG_CONFIG_HOME": "xdg-config"},
            "xdg-data/pushfn",
            "xdg-config/pushfn/config.ini",
        ),
        (
            {"PUSHFN_DATA_DIR": "data", "XDG_DATA_HOME": "xdg-data", "PUSHFN_CONFIG_FILE": "my.ini"},
            "data",
            "my.ini",
        ),
        ({"PUSHFN_DATA_DIR": "~/d", "XDG_CONFIG_HOME": "~/c"}, "home/d", "home/c/pushfn/config.ini"),
    ],
)
def test_the_data_folder_and_config_file_follow_one_rule_everywhere(
    env: dict[str, str], data: str, config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 3: the folders are Settings' (``data_dir``, ``config_file``); the store, ``pushfn
    serve`` and the credential chain ask it rather than restating the XDG rule."""
    from pushfn.idempotency.url import default_sqlite_path
    from pushfn.push.credentials import default_config_file
    from pushfn.serve.local_auth import data_folder

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    rooted = {k: v if v.startswith("~") else str(tmp_path / v) for k, v in env.items()}
    settings = Settings.from_env(rooted)
    assert settings.data_dir == tmp_path / data
    assert default_sqlite_path(settings) == tmp_path / data / "idempotency.db"
    assert data_folder(settings) == tmp_path / data
    assert settings.config_file == tmp_path / config
    if "PUSHFN_CONFIG_FILE" not in env:
        assert default_config_file(rooted.get("XDG_CONFIG_HOME")) == tmp_path / config
    assert default_sqlite_path() == tmp_path / "home/.local/share/pushfn/idempotency.db"  # nothing set
