"""Fixtures every test folder shares: an isolated environment, the emulator, and a client for it.

The emulator is a real HTTP server on loopback, started once per session and reset before each
test that uses it, so tests exercise the real wire format at little cost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pushfn.logs import assume_configured
from pushfn.push import PushClient, Retry, Timeout

# The handlers of functions/*/index.py configure logging at their first call (JSON on the platform's
# handlers); under pytest those are pytest's capture handlers, so the suite keeps its own. The
# logging tests configure it in subprocesses (tests/test_logging.py).
assume_configured("pytest")

#: Published sample events (sources in its README): the suite reads nothing outside the repository.
EVENTS_DIR = Path(__file__).resolve().parent / "fixtures" / "events"

_SCRUBBED_PREFIXES = ("ALIBABA_CLOUD_", "PUSH_", "PUSHFN_", "AWS_")
#: Standard variables pushfn's transport reads: a developer's proxy or CA must not steer the tests.
_SCRUBBED_NAMES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's keys, config files (HOME is a temporary folder) or cloud settings, and
    none probes ECS metadata."""
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES) or name in _SCRUBBED_NAMES:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))  # no developer's ~/.aliyun/config.json in the chain
    monkeypatch.setenv("PUSHFN_CONFIG_FILE", str(home / "no-config.ini"))
    monkeypatch.setenv("PUSHFN_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")


@pytest.fixture
def sample() -> Callable[[str], bytes]:
    """``sample("fc_timer.json")`` → the raw bytes of a published sample event in ``tests/fixtures/events``."""

    def load(name: str) -> bytes:
        return (EVENTS_DIR / name).read_bytes()

    return load


@pytest.fixture
def sample_json(sample: Callable[[str], bytes]) -> Callable[[str], Any]:
    return lambda name: json.loads(sample(name))


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[object]:
    from pushfn.emulator import Emulator

    emulator = Emulator(host="127.0.0.1", port=0)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emulator(_emulator_server: object) -> object:
    """The running emulator with fresh state (pushes, devices, faults, nonces, tokens)."""
    _emulator_server.reset()  # type: ignore[attr-defined]
    return _emulator_server


#: Fast backoff so retry tests do not sleep for real; same policy shape as production.
FAST_RETRY = Retry(max_attempts=4, backoff=0.01, throttle_backoff=0.02, max_backoff=0.05)


def make_client(emulator: object, **overrides: object) -> PushClient:
    kwargs: dict[str, object] = {"timeout": Timeout(connect=2.0, read=5.0), "retry": FAST_RETRY, **overrides}
    return emulator.client(**kwargs)  # type: ignore[attr-defined]


@pytest.fixture
def client_factory(emulator: object) -> Iterator[object]:
    """``client_factory(**overrides)`` builds a client for the emulator; all are closed after the test."""
    made: list[PushClient] = []

    def build(target: object = None, **overrides: object) -> PushClient:
        client = make_client(target or emulator, **overrides)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def push_client(emulator: object) -> Iterator[PushClient]:
    client = make_client(emulator)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server (S3, SQS, DynamoDB…) in server mode on loopback, one per test module."""
    from tests.support import MotoServer

    server = MotoServer()
    try:
        yield server.url
    finally:
        server.stop()
