"""Fixtures of the emulator tests: a running emulator on a fake clock and a signing caller."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushfn.emulator import Emulator

# Helpers live beside this file; the suite runs in importlib mode, so make them importable by name.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from emulator_support import APP_KEY, OTHER_APP_KEY, STS_KEY, STS_KEY_2, Caller, FakeClock  # noqa: E402


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[Emulator]:
    tokens = {key: (secret, token) for key, secret, token in (STS_KEY, STS_KEY_2)}
    with Emulator(clock=clock, app_keys=(APP_KEY, OTHER_APP_KEY), security_tokens=tokens) as emulator:
        yield emulator


@pytest.fixture
def api(emu: Emulator, clock: FakeClock) -> Iterator[Caller]:
    caller = Caller(emu, clock)
    yield caller
    caller.session.close()
