"""Fixtures for the idempotency tests: a fake clock, DynamoDB on a real moto server, and every store.

DynamoDB is moto in *server* mode on 127.0.0.1, reached by boto3 over HTTP through the same
``AWS_ENDPOINT_URL_DYNAMODB`` setting a developer would use. SQLite stores are real files in a temp
dir. Tablestore has no local server, so its store runs against ``FakeOTSClient`` (labelled FAKE).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pushfn.idempotency import IdempotencyStore, store_from_url
from pushfn.idempotency.stores.memory import MemoryStore
from pushfn.idempotency.stores.sqlite import SqliteStore
from pushfn.idempotency.stores.tablestore import TablestoreStore

# Helper modules (the FAKE Tablestore client, subprocess workers) live beside this file; the suite runs
# in importlib mode, so make them importable by name.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fake_tablestore import FakeOTSClient  # noqa: E402
from idempotency_support import FakeClock, MotoServer, start_moto, use_moto  # noqa: E402

_tables = itertools.count()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dynamodb_store(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> IdempotencyStore:
    use_moto(monkeypatch, moto_server)
    store = store_from_url(f"dynamodb://idempotency-{next(_tables)}")
    store.init()
    return store


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[SqliteStore]:  # type: ignore[no-untyped-def]
    store = store_from_url(f"sqlite:///{tmp_path}/idempotency.db")
    assert isinstance(store, SqliteStore)
    store.init()
    yield store
    store.close()


@pytest.fixture
def tablestore_fake() -> FakeOTSClient:
    return FakeOTSClient()


@pytest.fixture
def tablestore_store(tablestore_fake: FakeOTSClient) -> TablestoreStore:
    """FAKE: TablestoreStore over FakeOTSClient (no local Tablestore exists)."""
    store = TablestoreStore("pushfn-test", "idempotency", client=tablestore_fake)
    store.init()
    return store


STORE_KINDS = ["memory", "sqlite", "dynamodb", "tablestore"]


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest) -> IdempotencyStore:
    """Every store in turn (tablestore = the FAKE client); each is initialised and empty."""
    if request.param == "memory":
        return MemoryStore()
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def store_factory(request: pytest.FixtureRequest) -> Callable[[str], IdempotencyStore]:
    def build(kind: str) -> IdempotencyStore:
        if kind == "memory":
            return MemoryStore()
        return request.getfixturevalue(f"{kind}_store")

    return build


@pytest.fixture
def private_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """A moto server of this test's own, which the test may stop to make DynamoDB unreachable."""
    server = start_moto()
    use_moto(monkeypatch, server)
    try:
        yield server
    finally:
        server.stop()
