"""The credentials chain: order, refresh of role credentials, and no secret in any text."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from pushfn.push.credentials import (
    ChainProvider,
    Credentials,
    EcsRamRoleCredentials,
    RefreshingProvider,
    StaticCredentials,
    UriCredentials,
    default_chain,
)
from pushfn.push.errors import CredentialsError
from pushfn.settings import Settings

SECRET = "S3cr3t-Value-That-Must-Not-Leak"


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class _MetadataServer:
    """A loopback stand-in for the ECS metadata service / a credentials URI (real HTTP)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.issued = 0
        self.expires_in = 3600.0
        self.fail = False
        self.require_token = True
        #: Replaces the credentials document when set (raw bytes, as a broken or hostile source sends them).
        self.raw: bytes | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def _reply(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self) -> None:
                outer.requests.append(("PUT", self.path, dict(self.headers)))
                self._reply(200, "imds-token")

            def do_GET(self) -> None:
                outer.requests.append(("GET", self.path, dict(self.headers)))
                if outer.fail:
                    return self._reply(500, "boom")
                if outer.require_token and self.headers.get("X-aliyun-ecs-metadata-token") != "imds-token":
                    return self._reply(401, "no token")
                if self.path.endswith("/security-credentials/"):
                    return self._reply(200, "push-role\n")
                outer.issued += 1
                doc = {
                    "Code": "Success",
                    "AccessKeyId": f"STS.id{outer.issued}",
                    "AccessKeySecret": SECRET,
                    "SecurityToken": f"token{outer.issued}",
                    "Expiration": _iso(time.time() + outer.expires_in),
                }
                if outer.raw is not None:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(outer.raw)))
                    self.end_headers()
                    self.wfile.write(outer.raw)
                    return None
                self._reply(200, json.dumps(doc))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def metadata() -> Iterator[_MetadataServer]:
    server = _MetadataServer()
    yield server
    server.close()


def _write_ini(path: Path, key_id: str = "ini-id", secret: str = "ini-secret") -> Path:
    path.write_text(f"[push_config]\nPUSH_ACCESS_KEY_ID = {key_id}\nPUSH_ACCESS_KEY_SECRET = {secret}\n")
    return path


def test_chain_order_each_source_wins_over_the_next(tmp_path: Path, metadata: _MetadataServer) -> None:
    ini = _write_ini(tmp_path / "config.ini")
    context = SimpleNamespace(
        credentials=SimpleNamespace(access_key_id="fc-id", access_key_secret="fc-secret", security_token="fc-token")
    )
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "env-id",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret",
        "PUSH_ACCESS_KEY_ID": "push-id",
        "PUSH_ACCESS_KEY_SECRET": "push-secret",
        "PUSHFN_CONFIG_FILE": str(ini),
        "ALIBABA_CLOUD_CREDENTIALS_URI": metadata.url + "/creds",
    }
    metadata.require_token = False
    explicit = StaticCredentials("explicit-id", "explicit-secret")

    def winner(**kwargs: object) -> str:
        return default_chain(Settings.from_env(env), **kwargs).get_credentials().access_key_id  # type: ignore[arg-type]

    assert winner(explicit=explicit, context=context) == "explicit-id"
    assert winner(context=context) == "env-id"
    del env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
    assert winner(context=context) == "push-id"
    del env["PUSH_ACCESS_KEY_ID"], env["PUSH_ACCESS_KEY_SECRET"]
    creds = default_chain(Settings.from_env(env), context=context).get_credentials()
    assert (creds.access_key_id, creds.security_token, creds.source) == ("fc-id", "fc-token", "fc-context")
    assert winner() == "ini-id"
    env["PUSHFN_CONFIG_FILE"] = str(tmp_path / "absent.ini")
    assert winner() == "STS.id1"
    del env["ALIBABA_CLOUD_CREDENTIALS_URI"]
    with pytest.raises(CredentialsError, match="no credentials found"):
        default_chain(Settings.from_env(env)).get_credentials()


def test_env_security_token_makes_sts_credentials() -> None:
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.x",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s",
        "ALIBABA_CLOUD_SECURITY_TOKEN": "tok",
        "PUSHFN_CONFIG_FILE": "/nonexistent",
    }
    creds = default_chain(Settings.from_env(env)).get_credentials()
    assert creds.security_token == "tok" and creds.source == "env"


def test_half_configured_pair_is_an_error_naming_the_missing_variable() -> None:
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "id-only", "PUSHFN_CONFIG_FILE": "/nonexistent"}
    with pytest.raises(CredentialsError, match="ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        default_chain(Settings.from_env(env)).get_credentials()


def test_ecs_metadata_is_opt_in_and_respects_disable(metadata: _MetadataServer) -> None:
    env = {"PUSHFN_CONFIG_FILE": "/nonexistent"}
    assert not any(isinstance(p, EcsRamRoleCredentials) for p in default_chain(Settings.from_env(env)).providers)
    env["ALIBABA_CLOUD_ECS_METADATA"] = "push-role"
    assert any(isinstance(p, EcsRamRoleCredentials) for p in default_chain(Settings.from_env(env)).providers)
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    assert not any(isinstance(p, EcsRamRoleCredentials) for p in default_chain(Settings.from_env(env)).providers)


def test_ecs_ram_role_uses_imdsv2_token_and_discovers_the_role(metadata: _MetadataServer) -> None:
    provider = EcsRamRoleCredentials(base_url=metadata.url)
    creds = provider.get_credentials()
    assert creds.access_key_id == "STS.id1" and creds.security_token == "token1" and creds.source == "ecs-ram-role"
    paths = [(m, p) for m, p, _ in metadata.requests]
    assert paths[0] == ("PUT", "/latest/api/token")
    assert ("GET", "/latest/meta-data/ram/security-credentials/push-role") in paths


def test_role_credentials_are_cached_then_refreshed_before_expiry(metadata: _MetadataServer) -> None:
    now = [time.time()]
    provider = UriCredentials(metadata.url + "/creds", margin_seconds=900, clock=lambda: now[0])
    metadata.require_token = False
    first = provider.get_credentials()
    assert provider.get_credentials() is first and metadata.issued == 1
    now[0] += 3600 - 900 - 1  # still outside the refresh margin
    assert provider.get_credentials() is first
    now[0] += 2  # inside the margin: refresh before the real expiry
    second = provider.get_credentials()
    assert second.access_key_id == "STS.id2" and metadata.issued == 2


def _document(expires_in: float = 3600) -> dict[str, str]:
    return {"Code": "Success", "AccessKeyId": "STS.bom", "AccessKeySecret": SECRET, "SecurityToken": "tok",
            "Expiration": _iso(time.time() + expires_in)}  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "accepted"),
    [
        (b"\xef\xbb\xbf" + json.dumps(_document()).encode(), True),  # a document saved with a BOM
        (b"[" * 50_000 + b"]" * 50_000, False),  # a depth bomb: refused, never a RecursionError
        (json.dumps(_document()).encode()[:-1] + b', "AccessKeyId": "STS.other"}', False),  # duplicate key
    ],
)
def test_a_credentials_document_is_decoded_like_every_json_input(
    metadata: _MetadataServer, raw: bytes, accepted: bool
) -> None:
    """Issue 13 item 12, more of the kind: the credentials URI's answer went through ``resp.json()``
    (a deep document raised RecursionError out of the credential chain)."""
    metadata.require_token = False
    metadata.raw = raw
    provider = UriCredentials(metadata.url + "/creds")
    if accepted:
        assert provider.get_credentials().access_key_id == "STS.bom"
        return
    with pytest.raises(CredentialsError):
        provider.get_credentials()


def test_failed_refresh_serves_cached_credentials_until_they_expire(metadata: _MetadataServer) -> None:
    now = [time.time()]
    metadata.require_token = False
    provider = UriCredentials(metadata.url + "/creds", margin_seconds=900, clock=lambda: now[0])
    first = provider.get_credentials()
    metadata.fail = True
    now[0] += 3000  # refresh due, source down, credentials still valid
    assert provider.get_credentials() is first
    now[0] += 700  # now really expired
    with pytest.raises(CredentialsError, match="HTTP 500"):
        provider.get_credentials()


def test_concurrent_callers_trigger_a_single_refresh() -> None:
    calls = []

    def fetch() -> Credentials:
        calls.append(1)
        time.sleep(0.05)
        return Credentials("id", SECRET, "tok", expiration=time.time() + 3600, source="test")

    provider = RefreshingProvider(fetch)
    threads = [threading.Thread(target=provider.get_credentials) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1


def test_refused_credential_document_is_a_clear_error(metadata: _MetadataServer) -> None:
    from pushfn.push.credentials import credentials_from_document

    with pytest.raises(CredentialsError, match="refused"):
        credentials_from_document({"Code": "Failed"}, "test")
    with pytest.raises(CredentialsError, match="lacks AccessKeySecret"):
        credentials_from_document({"Code": "Success", "AccessKeyId": "x"}, "test")


def test_secrets_never_appear_in_repr_or_errors() -> None:
    creds = Credentials("LTAI5tAccessKeyIdLong", SECRET, "security-token-value")
    text = repr(creds) + repr(StaticCredentials("LTAI5tAccessKeyIdLong", SECRET))
    assert SECRET not in text and "security-token-value" not in text and "LTAI5tAccessKeyIdLong" not in text
    chain = ChainProvider([])
    with pytest.raises(CredentialsError) as info:
        chain.get_credentials()
    assert SECRET not in str(info.value)


# --- issue 14: values from Settings, the context per invocation, no stale provider ---------------


def test_default_config_file_honours_the_xdg_value_it_is_given(tmp_path: Path) -> None:
    from pushfn.push.credentials import default_config_file

    assert default_config_file(str(tmp_path)) == tmp_path / "pushfn" / "config.ini"
    assert default_config_file("~/cfg") == Path.home() / "cfg" / "pushfn" / "config.ini"
    assert default_config_file(None) == Path.home() / ".config" / "pushfn" / "config.ini"
    assert Settings.from_env({"XDG_CONFIG_HOME": str(tmp_path)}).config_file == tmp_path / "pushfn" / "config.ini"
    explicit = tmp_path / "x.ini"
    both = {"XDG_CONFIG_HOME": str(tmp_path), "PUSHFN_CONFIG_FILE": str(explicit)}
    assert Settings.from_env(both).config_file == explicit


def test_the_chain_reads_the_ini_file_under_the_given_xdg_folder(tmp_path: Path) -> None:
    ini = tmp_path / "pushfn" / "config.ini"
    ini.parent.mkdir()
    ini.write_text("[push_config]\nPUSH_ACCESS_KEY_ID = xdg-id\nPUSH_ACCESS_KEY_SECRET = xdg-secret\n")
    creds = default_chain(Settings.from_env({"XDG_CONFIG_HOME": str(tmp_path)})).get_credentials()
    assert (creds.access_key_id, creds.source) == ("xdg-id", "ini:config.ini")


def test_a_settings_snapshot_is_fixed_and_a_settings_reader_sees_rotation() -> None:
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "old-id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    snapshot = default_chain(Settings.from_env(env))
    reader = default_chain(lambda: Settings.from_env(env))
    env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "new-id"
    assert snapshot.get_credentials().access_key_id == "old-id"
    assert reader.get_credentials().access_key_id == "new-id"


def test_the_bound_context_feeds_the_chain_and_no_earlier_answer_is_cached(tmp_path: Path) -> None:
    from pushfn.push.credentials import FunctionContextCredentials

    def ctx(key_id: str | None) -> SimpleNamespace:
        creds = SimpleNamespace(access_key_id=key_id, access_key_secret="s" if key_id else None, security_token="t")
        return SimpleNamespace(credentials=creds)

    ini = tmp_path / "c.ini"
    ini.write_text("[push_config]\nPUSH_ACCESS_KEY_ID = ini-id\nPUSH_ACCESS_KEY_SECRET = ini-secret\n")
    provider = FunctionContextCredentials()
    chain = default_chain(Settings(pushfn_config_file=str(ini)), context=provider)
    assert provider in chain.providers  # in the chain even before any context is bound
    assert chain.get_credentials().access_key_id == "ini-id"
    provider.bind(ctx("ctx-1"))  # a later invocation brings role keys: they win by their place in the order
    assert chain.get_credentials().access_key_id == "ctx-1"
    provider.bind(ctx("ctx-2"))
    assert chain.get_credentials().access_key_id == "ctx-2"
    provider.bind(None)  # nothing to bind: the latest context stays
    assert chain.get_credentials().access_key_id == "ctx-2"
    provider.bind(ctx(None))  # a context without keys: the next provider answers
    assert chain.get_credentials().access_key_id == "ini-id"
