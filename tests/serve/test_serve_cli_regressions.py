"""``pushfn serve`` as a subprocess: regressions found by review 2."""

from __future__ import annotations

import itertools
import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.serve.test_serve_e2e import Served, start, wait_for

pytestmark = pytest.mark.slow
__all__ = ["start"]  # the fixture, used by name


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_verbose_logs_each_record_once_in_the_chosen_format(
    start: Callable[..., Served], tmp_path: Path, log_format: str
) -> None:
    # `-v` used to add the CLI's own text handler beside serve's: every record twice, and with
    # --log-format json a text line before each JSON one (no longer one JSON object per line).
    served = start("--bucket-dir", str(tmp_path / "bucket"), "--demo", "-v", "--log-format", log_format)
    wait_for(lambda: "welcome.csv" in served.err.read_text() and "MessageId" in served.err.read_text(), "the demo")
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(30) == 0
    lines = [line for line in served.err.read_text().splitlines() if line.strip()]
    if log_format == "json":
        records = [json.loads(line) for line in lines]  # every line one JSON object
        assert any(r.get("logger") == "pushfn.push" for r in records)
        messages = [(r.get("request_id"), r["message"]) for r in records]
    else:
        messages = [(None, line) for line in lines]
    doubled = [a for a, b in itertools.pairwise(messages) if a == b]
    assert not doubled, doubled
