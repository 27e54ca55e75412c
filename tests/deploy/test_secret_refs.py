"""Secrets by reference (``<NAME>_REF``): SSM SecureString and Secrets Manager on moto (server mode,
real HTTP through boto3), read once per process, with errors that name the reference, never the value."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from pushfn.runtime import get_runtime, reset_runtime
from pushfn.secret_refs import forget_cached, load_settings
from pushfn.settings import Settings, SettingsError

WEBHOOK = "whsec_" + base64.b64encode(b"k" * 32).decode()
ACCESS_SECRET = "alibaba-secret-value-0123456789"
API_KEYS = "acme:" + "ab" * 32


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """An SSM SecureString, a plain-text secret and a JSON secret in moto; boto3 pointed at it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    ssm = boto3.client("ssm", endpoint_url=moto_url, region_name="us-east-1")
    secrets = boto3.client("secretsmanager", endpoint_url=moto_url, region_name="us-east-1")
    name = f"/pushfn/{moto_url.rsplit(':', 1)[1]}"  # moto's state lives for the module: unique names
    ssm.put_parameter(Name=f"{name}/webhook", Value=WEBHOOK, Type="SecureString", Overwrite=True)
    plain = secrets.create_secret(Name=f"{name}-keys-{len(list(secrets.list_secrets()['SecretList']))}",
                                  SecretString=API_KEYS)  # fmt: skip
    both = secrets.create_secret(
        Name=f"{name}-json-{len(list(secrets.list_secrets()['SecretList']))}",
        SecretString=json.dumps({"access_key_secret": ACCESS_SECRET, "count": 3}),
    )
    forget_cached()
    try:
        yield {"ssm": ssm, "webhook": f"ssm:{name}/webhook", "keys": plain["ARN"], "json": both["ARN"]}
    finally:
        forget_cached()
        reset_runtime()


def test_each_reference_fills_its_secret_from_ssm_or_secrets_manager(aws):
    settings = load_settings(
        {
            "PUSHFN_WEBHOOK_SECRETS_REF": aws["webhook"],
            "PUSHFN_API_KEYS_REF": f"secretsmanager:{aws['keys']}",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET_REF": f"secretsmanager:{aws['json']}#access_key_secret",
            "AWS_REGION": "us-east-1",
        }
    )
    assert settings.pushfn_webhook_secrets == WEBHOOK
    assert settings.pushfn_api_keys == API_KEYS
    assert settings.alibaba_cloud_access_key_secret == ACCESS_SECRET
    assert WEBHOOK not in repr(settings) and ACCESS_SECRET not in repr(settings)


def test_values_are_read_once_per_process_and_again_only_when_forgotten(aws):
    env = {"PUSHFN_WEBHOOK_SECRETS_REF": aws["webhook"], "AWS_REGION": "us-east-1"}
    assert load_settings(env).pushfn_webhook_secrets == WEBHOOK
    aws["ssm"].delete_parameter(Name=aws["webhook"].removeprefix("ssm:"))
    assert load_settings(env).pushfn_webhook_secrets == WEBHOOK  # the cold start's read, no new call
    forget_cached()
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert str(caught.value).startswith("PUSHFN_WEBHOOK_SECRETS_REF: ")
    assert aws["webhook"] in str(caught.value) and "ParameterNotFound" in str(caught.value)


def test_the_runtime_and_its_credential_chain_see_the_referenced_secret(aws, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-deployed")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET_REF", f"secretsmanager:{aws['json']}#access_key_secret")
    monkeypatch.setenv("PUSHFN_WEBHOOK_SECRETS_REF", aws["webhook"])
    reset_runtime()
    runtime = get_runtime()
    assert runtime.settings.pushfn_webhook_secrets == WEBHOOK
    credentials = runtime.credentials.get_credentials()  # the chain re-reads settings on every call
    assert (credentials.access_key_id, credentials.access_key_secret) == ("LTAI-deployed", ACCESS_SECRET)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("secretsmanager:{keys}#access_key_secret", "not a JSON object"),
        ("secretsmanager:{json}#missing", "no text value under 'missing'"),
        ("secretsmanager:{json}#count", "no text value under 'count'"),
        ("secretsmanager:pushfn-no-such-secret", "ResourceNotFoundException"),
    ],
)
def test_an_unreadable_reference_names_itself_and_the_reason_never_a_value(aws, reference, message):
    reference = reference.format(**aws)
    with pytest.raises(SettingsError) as caught:
        load_settings({"ALIBABA_CLOUD_ACCESS_KEY_SECRET_REF": reference, "AWS_REGION": "us-east-1"})
    text = str(caught.value)
    assert text.startswith("ALIBABA_CLOUD_ACCESS_KEY_SECRET_REF: ") and message in text
    assert ACCESS_SECRET not in text and API_KEYS not in text


@pytest.mark.parametrize(
    ("stored", "wanted"),
    [
        ("\ufeff" + json.dumps({"access_key_secret": ACCESS_SECRET}), ACCESS_SECRET),  # saved "with BOM"
        ("[" * 20_000 + "]" * 20_000, None),  # depth bomb within 64 KB: a rule, not RecursionError
        ('{"access_key_secret": "a", "access_key_secret": "b"}', None),  # which one? refused
    ],
)
def test_a_json_secret_is_decoded_like_every_json_input(aws, stored, wanted):
    """Issue 13 item 12, more of the kind: a Secrets Manager JSON secret went through json.loads (a
    BOM refused as "not a JSON object", a deep document raised RecursionError out of the cold start)."""
    secrets = boto3.client("secretsmanager", endpoint_url=aws["ssm"].meta.endpoint_url, region_name="us-east-1")
    arn = secrets.create_secret(Name=f"pushfn-bom-{len(secrets.list_secrets()['SecretList'])}", SecretString=stored)
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET_REF": f"secretsmanager:{arn['ARN']}#access_key_secret",
        "AWS_REGION": "us-east-1",
    }
    if wanted is not None:
        assert load_settings(env).alibaba_cloud_access_key_secret == wanted
        return
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert str(caught.value).startswith("ALIBABA_CLOUD_ACCESS_KEY_SECRET_REF: ") and "not a JSON object" in str(
        caught.value
    )


def test_a_secret_set_both_ways_is_refused_before_any_lookup():
    def never(reference: str, settings: Settings) -> str:
        raise AssertionError("looked up")

    with pytest.raises(SettingsError, match="PUSHFN_API_KEYS and PUSHFN_API_KEYS_REF are both set: keep one"):
        load_settings({"PUSHFN_API_KEYS": API_KEYS, "PUSHFN_API_KEYS_REF": "ssm:/x"}, fetch=never)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("vault:/pushfn/x", "must be ssm:<parameter name or ARN> or secretsmanager:"),
        ("ssm:", "must be ssm:"),
        ("ssm:/a b", "must be ssm:"),
        ("ssm:/pushfn/x#key", "only Secrets Manager secrets hold JSON keys"),
    ],
)
def test_a_malformed_reference_is_refused_by_its_rule(value, rule):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PUSHFN_WEBHOOK_SECRETS_REF": value})
    assert str(caught.value).startswith("PUSHFN_WEBHOOK_SECRETS_REF") and rule in str(caught.value)


def test_no_reference_means_no_lookup_and_no_boto3_on_the_cold_path():
    import subprocess
    import sys

    code = "import sys; from pushfn.secret_refs import load_settings; load_settings({}); print('boto3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_an_empty_stored_value_is_refused():
    with pytest.raises(SettingsError, match="PUSHFN_API_KEYS_REF: ssm:/pushfn/empty is empty"):
        load_settings({"PUSHFN_API_KEYS_REF": "ssm:/pushfn/empty"}, fetch=lambda reference, settings: "  ")


@pytest.mark.parametrize("weak", ["whsec_AA==", "whsec_", "short-plain", f"{WEBHOOK},,{WEBHOOK}"])
def test_a_weak_webhook_secret_behind_a_reference_is_misconfiguration_too(aws, monkeypatch, weak):
    """Issue 13 item 2 through the other way of configuring it: the stored value obeys the same rules."""
    from pushfn.http import handler, reset_default_app
    from pushfn.triggers.events.http import apigw_v2_event

    name = aws["webhook"].removeprefix("ssm:") + "-weak"
    aws["ssm"].put_parameter(Name=name, Value=weak, Type="SecureString", Overwrite=True)
    monkeypatch.setenv("PUSHFN_WEBHOOK_SECRETS_REF", f"ssm:{name}")
    reset_default_app()
    try:
        for path in ("/push", "/health"):  # every request, the probe included
            answer = handler(apigw_v2_event("POST" if path == "/push" else "GET", path, b"{}"), None)
            assert answer["statusCode"] == 500
            assert json.loads(answer["body"])["type"] == "urn:pushfn:problem:misconfigured"
    finally:
        reset_default_app()
