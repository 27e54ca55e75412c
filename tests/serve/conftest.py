"""Fixtures of the ``pushfn serve`` tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pushfn.jobs import fanout
from pushfn.serve.server import Serve, ServeOptions
from pushfn.settings import Settings


@pytest.fixture
def serve_in(tmp_path: Path) -> Iterator[Any]:
    """``start(**settings)`` starts a :class:`Serve` on free ports with its data and bucket folders in
    ``tmp_path``; every one started is stopped afterwards and the local fan-out queue unset."""
    started: list[Serve] = []

    def start(**settings: Any) -> Serve:
        base = Settings(pushfn_data_dir=str(tmp_path / "data"), **settings)
        options = ServeOptions(http_port=0, emulator_port=0, bucket_dir=tmp_path / "bucket")
        serve = Serve(options, base, io.StringIO()).start()
        started.append(serve)
        return serve

    yield start
    for serve in started:
        serve.stop()
    fanout.use_local_queue(None)
