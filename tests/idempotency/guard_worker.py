"""A worker process for the cross-process race and crash tests (run as a script, not collected).

    python guard_worker.py race  SPEC_JSON   # wait for the go-file, race N threads, print outcomes
    python guard_worker.py crash SPEC_JSON   # take the key, then stop before/after the push and hang

The parent kills ``crash`` workers with SIGKILL once the marker file appears, which is as abrupt as a
function instance being torn down mid-invocation.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pushfn.idempotency import IdempotencyConfig, IdempotencyGuard, IdempotencyInProgressError, store_from_url
from pushfn.push import PushClient, Retry, StaticCredentials, Timeout


def client(spec: dict[str, Any]) -> PushClient:
    return PushClient(
        endpoint=spec["endpoint"],
        app_key=spec["app_key"],
        credentials=StaticCredentials(spec["access_key_id"], spec["access_key_secret"]),
        timeout=Timeout(connect=2.0, read=5.0),
        retry=Retry(max_attempts=2, backoff=0.01, throttle_backoff=0.02, max_backoff=0.05),
    )


def guard(spec: dict[str, Any]) -> IdempotencyGuard:
    config = IdempotencyConfig(
        in_progress_seconds_without_context=spec.get("in_progress_seconds", 60.0), in_progress_margin_seconds=0
    )
    return IdempotencyGuard(store_from_url(spec["store_url"]), config, function_name=spec["function"])


def race(spec: dict[str, Any]) -> None:
    the_guard, the_client = guard(spec), client(spec)
    lines: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one() -> None:
        def push(token: str) -> dict[str, Any]:
            with lock:
                lines.append({"called": True})
            return the_client.push(spec["push"], idempotent_token=token).to_dict()

        try:
            outcome = the_guard.run(spec["key"], payload=spec["push"], operation=push)
            line = {"result": outcome.result, "replayed": outcome.replayed}
        except IdempotencyInProgressError:
            line = {"in_progress": True}
        except Exception as exc:
            line = {"error": f"{type(exc).__name__}: {exc}"}
        with lock:
            lines.append(line)

    go = Path(spec["go_file"])
    while not go.exists():  # all processes start racing together
        time.sleep(0.005)
    threads = [threading.Thread(target=one) for _ in range(spec["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(lines), flush=True)


def crash(spec: dict[str, Any]) -> None:
    the_guard, the_client = guard(spec), client(spec)
    marker = Path(spec["marker"])

    def push(token: str) -> dict[str, Any]:
        if spec["stop"] == "before_push":
            marker.write_text(json.dumps({"token": token}))
        else:
            result = the_client.push(spec["push"], idempotent_token=token).to_dict()
            marker.write_text(json.dumps({"token": token, "result": result}))
        time.sleep(600)  # hang until killed: COMPLETED is never saved
        raise AssertionError("should have been killed")

    the_guard.run(spec["key"], payload=spec["push"], operation=push)


if __name__ == "__main__":
    mode, spec_json = sys.argv[1], sys.argv[2]
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    {"race": race, "crash": crash}[mode](json.loads(spec_json))
