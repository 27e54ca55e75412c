"""Fixtures of the HTTP function tests: the real handler, the emulator behind it, an SQLite store.

Everything is real on loopback: the handler runs exactly as a platform would call it, its client
talks to the emulator over HTTP, and idempotency records go to the SQLite file that
``PUSHFN_IDEMPOTENCY_URL`` selects.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Helpers live beside this file; the suite runs in importlib mode, so make them importable by name.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from http_support import DEVICE, OTHER_DEVICE, HttpEnv, configure, make_client  # noqa: E402

from pushfn.http import reset_default_app  # noqa: E402
from pushfn.runtime import Runtime, reset_runtime, set_runtime  # noqa: E402


@pytest.fixture
def http_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: Any) -> Iterator[HttpEnv]:
    """The default handler configured from the environment, its client pointed at the emulator."""
    configure(monkeypatch, tmp_path)
    emulator.register_device(DEVICE)
    emulator.register_device(OTHER_DEVICE)
    client = make_client(emulator)
    set_runtime(Runtime(client=client))  # the store is the one PUSHFN_IDEMPOTENCY_URL selects
    try:
        yield HttpEnv(emulator, client)
    finally:
        reset_runtime()
        reset_default_app()
        client.close()
