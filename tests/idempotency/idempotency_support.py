"""Helpers shared by the idempotency tests and their subprocess workers: a fake clock and moto."""

from __future__ import annotations

import pytest
from tests.support import MotoServer

START = 1_800_000_000.0  # a fixed "now" (2027-01-15) so expiry tests need no sleeping


class FakeClock:
    """A clock the test moves by hand; the guard and the stores' conditions both use it."""

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def start_moto() -> MotoServer:
    return MotoServer()


def use_moto(monkeypatch: pytest.MonkeyPatch, server: MotoServer) -> None:
    """Point boto3 at a moto server the way a developer would: the usual AWS settings."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def emulator_identity(emulator: object) -> tuple[str, int, str, str]:
    """(url, app_key, access_key_id, secret) of a running Emulator, from its settings."""
    settings = emulator.settings  # type: ignore[attr-defined]
    return emulator.url, settings.app_keys[0], settings.access_key_id, settings.access_key_secret  # type: ignore[attr-defined]
