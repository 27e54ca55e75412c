"""Each function's first invocation in a fresh process: the event, the environment, the child's code.

One definition, used by ``bench_cold_start.py`` (which times it against the official SDK's bare import
and push) and by ``tests/test_cold_paths.py`` (which asserts what the happy path loads). The child runs
the function's real ``index.py`` with the real handler: the HTTP function behind FC 3.0 with an API
key and the SQLite idempotency store, the timer function on an FC timer tick, the queue function on
an SQS batch of one message — each sending one Push to the emulator at ``url``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _common import APP_KEY, PUSH, ROOT
from pushfn.functions import FILE_PUSH, FUNCTION_NAMES

API_KEY = "pk_bench_0123456789abcdef0123456789"
#: The functions timed and checked cold (file_push reads a bucket: no first invocation of its own here).
FUNCTIONS = tuple(name for name in FUNCTION_NAMES if name != FILE_PUSH)

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {shared!r})
import runpy
handler = runpy.run_path({index!r})["handler"]
raw = open({event_file!r}, "rb").read()
event = json.loads(raw) if {as_json!r} else raw
answer = handler(event, None)
elapsed = time.perf_counter() - t0
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({{"ms": elapsed * 1000, "rss_kb": hwm, "answer": repr(answer)[:2000],
                  "modules": sorted({{m.split(".")[0] for m in sys.modules}} & set({watched!r}))}}))
"""
#: Top-level packages whose presence after the first invocation is reported.
WATCHED = (
    "pydantic",
    "pydantic_core",
    "requests",
    "urllib3",
    "boto3",
    "botocore",
    "oss2",
    "tablestore",
    "annotated_types",
)


def write_event(name: str, folder: Path, push: dict[str, Any] | None = None) -> tuple[Path, bool]:
    """The event ``name``'s trigger hands its handler, written to a file; (path, whether it is JSON to load).
    ``push``: the request the event carries (default :data:`PUSH`)."""
    sys.path.insert(0, str(ROOT / "shared"))
    push = PUSH if push is None else push
    if name == "http_push":
        from pushfn.triggers.events.http import fc3_event

        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        event: Any = fc3_event("POST", "/push", json.dumps(push).encode(), headers, as_bytes=True)
    elif name == "scheduled_push":
        from pushfn.triggers.events.timer import fc_timer_event

        now = datetime.now(timezone.utc).replace(microsecond=0)
        event = fc_timer_event(push, trigger_name="bench", trigger_time=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    elif name == "queue_push":
        from pushfn.triggers.events.queue import sqs_event

        event = json.dumps(sqs_event([push])).encode()
    else:
        raise ValueError(name)
    path = folder / f"{name}-event"
    path.write_bytes(event)
    return path, name == "queue_push"


def environment(url: str, folder: Path, ca_file: str | None = None) -> dict[str, str]:
    """The function's settings: the emulator's endpoint and keys, an API key, a SQLite store in ``folder``."""
    from pushfn.http import hash_api_key

    env = {
        **os.environ,
        "PUSH_ENDPOINT": url,
        "PUSH_APP_KEY": str(APP_KEY),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "testid",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "testsecret",
        "PUSHFN_API_KEYS": f"bench:{hash_api_key(API_KEY)}",
        "PUSHFN_IDEMPOTENCY_URL": f"sqlite:///{folder / 'idempotency.db'}",
        "PUSHFN_DATA_DIR": str(folder),
    }
    if ca_file:
        env["SSL_CERT_FILE"] = ca_file
    return env


def first_invocation(
    name: str, url: str, folder: Path, ca_file: str | None = None, push: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run function ``name``'s first invocation in a fresh process: wall and in-process ms, peak RSS (MB,
    the process's own ``VmHWM``), the handler's answer and the watched packages it loaded. ``push``: the
    request its event carries (default :data:`PUSH`)."""
    event_file, as_json = write_event(name, folder, push)
    code = CHILD.format(
        shared=str(ROOT / "shared"),
        index=str(ROOT / "functions" / name / "index.py"),
        event_file=str(event_file),
        as_json=as_json,
        watched=WATCHED,
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=environment(url, folder, ca_file),
        cwd=str(folder),
    )
    wall_ms = (time.perf_counter() - started) * 1000
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {**result, "wall_ms": wall_ms, "inproc_ms": result["ms"], "rss_mb": result["rss_kb"] / 1024}
