"""PUSHFN_IDEMPOTENCY_URL picks the store; cloud SDKs are imported only by the store that needs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.support import make_unusable_place

from pushfn.idempotency import IdempotencyConfigError, store_from_settings, store_from_url
from pushfn.idempotency.stores import DynamoDBStore, MemoryStore, SqliteStore, TablestoreStore
from pushfn.idempotency.url import default_sqlite_path
from pushfn.push.credentials import Credentials
from pushfn.settings import Settings


def test_sqlite_urls(tmp_path: Path) -> None:
    absolute = store_from_url(f"sqlite:///{tmp_path}/a.db")
    assert isinstance(absolute, SqliteStore) and absolute.path == tmp_path / "a.db"
    assert absolute.describe() == f"sqlite:///{tmp_path}/a.db"
    relative = store_from_url("sqlite:///data/b.db")
    assert isinstance(relative, SqliteStore) and relative.path == Path("data/b.db")
    read_only = store_from_url(f"sqlite:///{tmp_path}/a.db?mode=ro")
    assert isinstance(read_only, SqliteStore) and read_only.read_only


def test_default_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    assert default_sqlite_path(Settings.from_env({"PUSHFN_DATA_DIR": str(tmp_path)})) == tmp_path / "idempotency.db"
    assert (
        default_sqlite_path(Settings.from_env({"XDG_DATA_HOME": str(tmp_path)}))
        == tmp_path / "pushfn" / "idempotency.db"
    )
    assert default_sqlite_path(Settings.from_env({})) == Path.home() / ".local/share/pushfn/idempotency.db"
    store = store_from_settings(Settings.from_env({"PUSHFN_DATA_DIR": str(tmp_path)}))
    assert isinstance(store, SqliteStore) and store.path == tmp_path / "idempotency.db"
    same = store_from_settings(
        Settings.from_env({"PUSHFN_IDEMPOTENCY_URL": "sqlite:///", "PUSHFN_DATA_DIR": str(tmp_path)})
    )
    assert isinstance(same, SqliteStore) and same.path == store.path


def test_other_stores() -> None:
    dynamodb = store_from_url("dynamodb://pushfn-idempotency")
    assert isinstance(dynamodb, DynamoDBStore) and dynamodb.table_name == "pushfn-idempotency"
    tablestore = store_from_url("tablestore://my-instance/idempotency")
    assert isinstance(tablestore, TablestoreStore)
    assert (tablestore.instance_name, tablestore.table_name) == ("my-instance", "idempotency")
    assert isinstance(store_from_url("memory://"), MemoryStore)


@pytest.mark.parametrize(
    "url",
    [
        "idempotency.db",
        "redis://localhost",
        "sqlite://host/file.db",
        "sqlite:///x.db?mode=wat",
        "sqlite:///x.db?cache=shared",
        "dynamodb://",
        "dynamodb://a/b",
        "tablestore://instance-only",
        "tablestore://a/b/c",
    ],
)
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(IdempotencyConfigError):
        store_from_url(url)


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        # Issue 13 item 19: each connection would get its own database, so nothing is de-duplicated.
        ("sqlite:///:memory:", "in-memory"),
        ("sqlite:///:MEMORY:", "in-memory"),
        ("sqlite:///%3Amemory%3A", "in-memory"),
        ("sqlite:///file::memory:", "in-memory"),
        ("sqlite:///file:x.db?mode=memory&cache=shared", "in-memory"),
        ("sqlite:///x.db?mode=memory", "in-memory"),
        ("sqlite://", "three slashes"),
        ("sqlite:", "scheme://"),
        ("sqlite:///%00", "control characters"),
        ("sqlite:///a%00b.db", "control characters"),
        ("sqlite:///a\x00b.db", "control characters"),
        ("sqlite:///a%0Ab.db", "control characters"),
        ("sqlite:///a\udcffb.db", "undecodable"),
        ("sqlite:///%ff.db", "UTF-8"),
        ("sqlite:////", "directory"),
        ("sqlite:///.", "directory"),
        ("sqlite:///dir/", "directory"),
        ("sqlite:///x.db?mode", "only ?mode=ro"),
        ("sqlite:///x.db#frag", "no host"),
        ("dynamodb://ab", "3-255"),
        ("dynamodb://tab%00le", "control characters"),
        ("dynamodb://tab le", "3-255"),
        ("tablestore://in st/table", "tablestore://INSTANCE/TABLE"),
        ("tablestore://inst/ta-ble", "tablestore://INSTANCE/TABLE"),
        ("memory://elsewhere", "exactly memory://"),
        ("Redis://x", "unknown store"),
    ],
)
def test_every_bad_url_is_a_configuration_error_naming_the_variable_and_the_rule(url: str, rule: str) -> None:
    from pushfn.push.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as info:
        store_from_settings(Settings.from_env({"PUSHFN_IDEMPOTENCY_URL": url}))
    assert isinstance(info.value, IdempotencyConfigError)
    assert str(info.value).startswith("PUSHFN_IDEMPOTENCY_URL: ") and rule in str(info.value)


@pytest.mark.parametrize("name", ["/dev/null", "/dev/zero", "fifo", "socket", "link-to-null"])
def test_a_sqlite_url_naming_a_device_fifo_or_socket_is_a_configuration_error(tmp_path: Path, name: str) -> None:
    """Issue 13 item 19, more of the kind: ``sqlite:////dev/null`` was accepted, then every write failed
    as a store outage (503) after SQLite had made ``/dev/null-journal``; a FIFO would block the open."""
    path = name if name.startswith("/") else str(make_unusable_place(tmp_path, name))
    journal = Path(f"{path}-journal")
    before = journal.stat().st_mtime_ns if journal.exists() else None  # /dev is shared: compare, not assume
    with pytest.raises(IdempotencyConfigError) as info:
        store_from_settings(Settings.from_env({"PUSHFN_IDEMPOTENCY_URL": f"sqlite:///{path}"}))
    assert str(info.value).startswith("PUSHFN_IDEMPOTENCY_URL: ") and "regular file" in str(info.value)
    assert (journal.stat().st_mtime_ns if journal.exists() else None) == before  # nothing was opened


def test_a_sqlite_url_below_a_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    for url in (f"sqlite:///{tmp_path}/a-file/x.db", f"sqlite:///{tmp_path}/a-file/deeper/x.db"):
        with pytest.raises(IdempotencyConfigError, match="is not a directory"):
            store_from_url(url)
    # Folders that do not exist yet are the store's to create.
    assert isinstance(store_from_url(f"sqlite:///{tmp_path}/new/deeper/x.db"), SqliteStore)


@pytest.mark.parametrize("path", ["a" * 300 + ".db", "/".join(["abcdefgh"] * 600) + ".db"], ids=["name", "path"])
def test_a_sqlite_path_too_long_for_the_file_system_is_a_configuration_error(path: str) -> None:
    """Regression: a file name over 255 bytes (or a path over 4,096) made ``is_dir`` raise OSError
    (ENAMETOOLONG) out of the store's construction, not a configuration error: not reported as the problem
    ``misconfigured`` like every other bad URL."""
    from pushfn.push.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as info:
        store_from_settings(Settings.from_env({"PUSHFN_IDEMPOTENCY_URL": f"sqlite:///{path}"}))
    assert str(info.value).startswith("PUSHFN_IDEMPOTENCY_URL: ") and "too long" in str(info.value)


@pytest.mark.parametrize("path", [":memory:", "", "a\x00b"])
def test_sqlite_store_itself_refuses_paths_that_cannot_deduplicate(path: str) -> None:
    with pytest.raises(IdempotencyConfigError):
        SqliteStore(path)


def test_a_real_file_url_deduplicates_across_connections(tmp_path: Path) -> None:
    """The accepted spellings really share one database between two stores (two connections)."""
    from pushfn.idempotency import IdempotencyGuard

    url = f"sqlite:///{tmp_path}/shared%20name.db"
    first, second = store_from_url(url), store_from_url(url)
    calls: list[str] = []
    for store in (first, second):
        IdempotencyGuard(store, function_name="f").run("k", operation=lambda t: calls.append(t) or {"ok": 1})
    assert len(calls) == 1 and (tmp_path / "shared name.db").is_file()


def test_tablestore_needs_endpoint_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from pushfn.idempotency import IdempotencyStoreError

    settings = Settings.from_env({"PUSHFN_CONFIG_FILE": "/nonexistent"})
    store = store_from_url("tablestore://inst/table", settings=settings)
    with pytest.raises(IdempotencyStoreError, match="PUSHFN_TABLESTORE_ENDPOINT"):
        store.get("f#-#k")
    with_endpoint = settings.replace(pushfn_tablestore_endpoint="http://127.0.0.1:9")
    store = store_from_url("tablestore://inst/table", settings=with_endpoint)
    with pytest.raises(IdempotencyStoreError, match="ALIBABA_CLOUD_ACCESS_KEY_ID"):
        store.get("f#-#k")


class _RotatingKeys:
    """A credentials provider whose keys change, like role credentials refreshed before they expire."""

    def __init__(self) -> None:
        self.current = Credentials("STS.first", "secret-1", "token-1", source="test")

    def get_credentials(self) -> Credentials:
        return self.current


def test_tablestore_signs_with_the_credential_chain_and_follows_rotation() -> None:
    pytest.importorskip("tablestore")
    # The keys come from the chain handed in (STS included), never from the environment.
    settings = Settings(pushfn_tablestore_endpoint="http://127.0.0.1:9", pushfn_idempotency_url="tablestore://i/t")
    keys = _RotatingKeys()
    store = store_from_settings(settings, credentials=keys)

    def signed_with() -> tuple[str, str | None]:
        creds = store.client.credentials_provider.get_credentials()
        return creds.get_access_key_id(), creds.get_security_token()

    assert signed_with() == ("STS.first", "token-1")
    first = store.client
    assert store.client is first  # same keys: the client (and its connections) is kept
    keys.current = Credentials("STS.second", "secret-2", "token-2", source="test")
    assert signed_with() == ("STS.second", "token-2")

    chain_store = store_from_settings(
        Settings(
            pushfn_tablestore_endpoint="http://127.0.0.1:9",
            pushfn_idempotency_url="tablestore://i/t",
            alibaba_cloud_access_key_id="STS.env",
            alibaba_cloud_access_key_secret="env-secret",
            alibaba_cloud_security_token="env-token",
            pushfn_config_file="/nonexistent",
        )
    )
    creds = chain_store.client.credentials_provider.get_credentials()
    assert (creds.get_access_key_id(), creds.get_security_token()) == ("STS.env", "env-token")


def test_dynamodb_honours_aws_endpoint_url_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = DynamoDBStore("t").client
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "eu-west-1"


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/x.db", "memory://"])
def test_local_stores_import_no_cloud_sdk(tmp_path: Path, url: str) -> None:
    code = (
        "import sys\n"
        "from pushfn.idempotency import IdempotencyGuard, store_from_url\n"
        f"store = store_from_url({url.format(tmp=tmp_path)!r})\n"
        "IdempotencyGuard(store, function_name='f').run('k', operation=lambda t: {'ok': 1})\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'tablestore') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
