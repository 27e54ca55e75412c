"""Fixtures of the ``pushfn invoke`` / ``pushfn event`` tests: the functions configured from the
environment against the emulator, a local folder as the bucket, and the CLI run in process.

Everything the handlers use is real: the emulator over HTTP on loopback, an SQLite idempotency
store in the test's folder, the file function reading ``PUSHFN_FILE_ROOT``.
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

from local_support import LocalEnv, environment  # noqa: E402

from pushfn.http import reset_default_app  # noqa: E402
from pushfn.runtime import reset_runtime  # noqa: E402


def _forget_runtime() -> None:
    import pushfn.runtime

    runtime = pushfn.runtime._runtime
    client = getattr(runtime, "_client", None)
    if client is not None:
        client.close()
    reset_runtime()
    reset_default_app()


@pytest.fixture
def local(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> Iterator[LocalEnv]:
    """The functions configured from the environment against the emulator; a fresh process runtime
    before and after (each ``pushfn invoke`` is a cold start of its own process)."""
    for name, value in environment(emulator, tmp_path).items():
        monkeypatch.setenv(name, value)
    (tmp_path / "bucket").mkdir()
    _forget_runtime()
    try:
        yield LocalEnv(emulator, tmp_path / "bucket", capsysbinary, monkeypatch)
    finally:
        _forget_runtime()
