"""Fixtures of the file-function tests: helpers beside this file importable by name, moto S3, FAKE OSS."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def s3(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A boto3 S3 client for moto; ``AWS_ENDPOINT_URL`` is set so readers built by boto3 find it too."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def fake_oss() -> Iterator[Any]:
    """The FAKE OSS server (see fake_oss.py) on loopback."""
    from fake_oss import FakeOss

    server = FakeOss()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def files(tmp_path: Path, emulator: Any) -> Iterator[Any]:
    """The file function wired to a bucket folder, the emulator and a SQLite store
    (:class:`test_file_push.Files`); the process runtime reset afterwards."""
    from test_file_push import Files

    from pushfn.runtime import reset_runtime

    made = Files(tmp_path / "bucket", emulator, tmp_path / "idempotency.db")
    try:
        yield made
    finally:
        reset_runtime()
        made.client.close()
