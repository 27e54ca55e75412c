"""Regressions found by using ``pushfn serve`` as a hostile newcomer (review 2): the bucket folder."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.serve.test_serve_parts import wait_for

from pushfn.jobs import fanout
from pushfn.serve.server import EMULATOR, ENDPOINT, REAL, Serve, ServeOptions
from pushfn.settings import Settings

DEVICE = "0123456789abcdef0123456789abcdef"
CONTENT = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "Mine", "Body": "Written by me"}


@pytest.fixture
def serve_in(tmp_path: Path) -> Iterator[Any]:
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


def test_only_the_emulator_gets_the_greeting_as_default_file_content(serve_in: Any) -> None:
    # A list of real devices dropped before its sidecar must not get "Hello from pushfn serve": away from
    # the emulator a file without content is rejected with a report, as in the cloud.
    local = serve_in()
    assert local.service == EMULATOR and local.settings.pushfn_file_push_spec
    local.stop()
    real = serve_in(alibaba_cloud_access_key_id="LTAI-real", alibaba_cloud_access_key_secret="s" * 30,
                    push_app_key="333")  # fmt: skip
    assert real.service == REAL and not real.settings.pushfn_file_push_spec
    real.stop()
    endpoint = serve_in(push_endpoint="http://127.0.0.1:9", alibaba_cloud_access_key_id="mine")
    assert endpoint.service == ENDPOINT and not endpoint.settings.pushfn_file_push_spec


def test_a_sidecar_dropped_after_its_file_runs_the_file_again(serve_in: Any, emulator: Any) -> None:
    keys = emulator.settings
    serve = serve_in(
        push_endpoint=emulator.url,
        alibaba_cloud_access_key_id=keys.access_key_id,
        alibaba_cloud_access_key_secret=keys.access_key_secret,
        push_app_key=str(keys.app_keys[0]),
    )
    target = serve.bucket / "late.csv"
    report = serve.bucket / "late.csv.report.json"
    target.write_text(f"device_id\n{DEVICE}\n")
    first = wait_for(lambda: report.is_file() and json.loads(report.read_text()), "the first report")
    assert first["status"] == "rejected" and not emulator.pushes()
    (serve.bucket / "late.csv.push.json").write_text(json.dumps(CONTENT))
    pushes = wait_for(lambda: emulator.pushes(), "the push once the sidecar arrived")
    assert [p["params"]["Title"] for p in pushes] == ["Mine"]
    assert wait_for(lambda: json.loads(report.read_text())["status"] == "complete", "the new report")
