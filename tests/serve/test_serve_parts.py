"""``Serve`` in process: the file function's fan-out through the in-process queue, the push service it
picks, the queue handing back what it did not run, and the bucket watcher's filter."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pushfn.serve.invocations import message_ids
from pushfn.serve.server import EMULATOR, ENDPOINT, REAL, Serve, ServeOptions
from pushfn.serve.workers import FolderWatcher, LocalQueue
from pushfn.settings import Settings


def wait_for(check: Any, what: str) -> Any:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_big_file_fans_out_through_the_local_queue(serve_in: Any, tmp_path: Path) -> None:
    serve = serve_in(pushfn_file_fanout_targets=1000, pushfn_file_concurrency=1)
    devices = [f"{n:032x}" for n in range(2500)]  # three chunks of at most 1,000: the later ones fanned out
    (serve.bucket / "big.txt").write_text("\n".join(devices) + "\n")
    pushes = wait_for(lambda: len(serve.emulator.pushes()) >= 3 and serve.emulator.pushes(), "three pushes")
    assert sorted(len(p["params"]["TargetValue"].split(",")) for p in pushes) == [500, 1000, 1000]
    # The chunk jobs' parts complete the report beside the file: every chunk sent once, nothing queued.
    report_path = serve.bucket / "big.txt.report.json"

    def completed() -> Any:
        report = json.loads(report_path.read_text()) if report_path.is_file() else {}
        return report if report.get("status") == "complete" else None

    report = wait_for(completed, "the completed report")
    assert report["targets"]["valid"] == 2500 and "queued" not in report["chunks"]
    assert [chunk["index"] for chunk in report["chunks"]["sent"]] == [0, 1, 2]
    assert report["chunks"]["failed"] == [] and report["chunks"]["maybe_sent"] == []
    totals = report["totals"]
    assert (totals["sent"], totals["pending"], totals["targets_sent"], totals["targets_pending"]) == (3, 0, 2500, 0)
    assert sorted(message_ids(report["chunks"]["sent"])) == sorted(p["message_id"] for p in pushes)
    # One file_push invocation, then queue_push ones on the local queue for the chunks handed over.
    functions = wait_for(
        lambda: (
            {line.function for line in serve.invocations.lines} >= {"file_push", "queue_push"}
            and [line.function for line in serve.invocations.lines]
        ),
        "the queue function's runs",
    )
    assert functions[0] == "file_push"
    assert {line.trigger for line in serve.invocations.lines if line.function == "queue_push"} == {"fanout"}
    assert serve.queue.pending() == 0


def test_the_push_service_it_picks(serve_in: Any) -> None:
    local = serve_in()
    assert local.service == EMULATOR and local.settings.push_endpoint == local.emulator.url
    assert local.settings.alibaba_cloud_access_key_id == "testid"
    local.stop()
    endpoint = serve_in(push_endpoint="http://127.0.0.1:9", alibaba_cloud_access_key_id="mine")
    assert endpoint.service == ENDPOINT and endpoint.settings.push_endpoint == "http://127.0.0.1:9"
    assert endpoint.settings.alibaba_cloud_access_key_id == "mine"
    endpoint.stop()
    real = serve_in(alibaba_cloud_access_key_id="LTAI-real", alibaba_cloud_access_key_secret="s" * 30,
                    push_app_key="333")  # fmt: skip
    assert real.service == REAL and real.settings.push_endpoint == "https://cloudpush.aliyuncs.com"
    from pushfn.serve.cli import banner

    assert "THE REAL ALIBABA CLOUD PUSH" in banner(real)
    real.stop()
    role = serve_in(alibaba_cloud_credentials_uri="http://127.0.0.1:9/creds", push_app_key="333")
    assert role.service == REAL
    role.stop()
    no_app_key = serve_in(alibaba_cloud_access_key_id="LTAI-real", alibaba_cloud_access_key_secret="s" * 30)
    assert no_app_key.service == EMULATOR  # keys without an AppKey cannot push for real: the emulator


def test_environment_secrets_win_over_the_kept_ones(serve_in: Any) -> None:
    mine = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    serve = serve_in(pushfn_webhook_secrets=mine)
    assert serve.settings.pushfn_webhook_secrets == mine
    assert serve.settings.pushfn_api_keys.startswith("local:")


def test_the_queue_hands_back_what_it_did_not_run() -> None:
    ran: list[Any] = []
    started: list[Any] = []
    gate = threading.Event()

    def run(event: Any) -> None:
        started.append(event)
        gate.wait(10)
        ran.append(event)

    queue = LocalQueue(run)
    queue.start()
    for n in range(3):
        queue.put(n)
    wait_for(lambda: started, "the first job")
    closer = threading.Thread(target=queue.close)
    closer.start()
    gate.set()
    closer.join(10)
    assert ran == [0] and queue.handed_back == 2 and not queue.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        queue.put(4)


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("list.csv", True),
        ("list.txt.gz", True),
        ("list.csv.report.json", False),
        ("list.csv.push.json", False),
        ("list.csv.meta.json", False),
        (".hidden.csv", False),
        ("list.csv.tmp", False),
        ("list.csv~", False),
        ("download.part", False),
    ],
)
def test_the_watcher_ignores_what_the_file_function_writes(name: str, wanted: bool) -> None:
    assert FolderWatcher.wanted(Path("bucket") / name) is wanted


def test_a_bad_setting_refuses_to_start_and_leaves_nothing_running(tmp_path: Path) -> None:
    from pushfn.errors import ConfigurationError

    base = Settings(pushfn_data_dir=str(tmp_path / "data"), pushfn_webhook_secrets="too-short")
    serve = Serve(ServeOptions(http_port=0, emulator_port=0, bucket_dir=tmp_path / "bucket"), base, io.StringIO())
    before = set(threading.enumerate())  # the suite's shared emulator may be running: only new threads count
    with pytest.raises(ConfigurationError) as caught:
        serve.start()
    assert "PUSHFN_WEBHOOK_SECRETS" in str(caught.value) and "too-short" not in str(caught.value)
    assert serve.emulator is None and serve.http is None and serve.queue is None
    assert not [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
