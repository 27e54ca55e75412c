"""A worker process for the file function's crash test (run as a script, not collected).

    python file_worker.py between    EVENT MARKER   # stop after chunk 2 was sent and recorded
    python file_worker.py mid_chunk  EVENT MARKER   # stop after chunk 3 reached CloudPush, unrecorded
    python file_worker.py run        EVENT MARKER   # no stop point: the parent kills it when it chooses

The worker runs the real handler with the real runtime built from the environment (``PUSH_ENDPOINT``
pointing at the emulator, ``PUSHFN_IDEMPOTENCY_URL`` at a SQLite file, ``PUSHFN_FILE_ROOT`` at the
objects). At the stop point it writes ``MARKER`` and hangs; the parent then kills it with SIGKILL, as
abruptly as a function instance torn down mid-invocation. The stop points are the only instrumentation.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from pushfn.jobs import files as job
from pushfn.runtime import get_runtime


def hang(marker: Path, what: dict[str, Any]) -> None:
    marker.write_text(json.dumps(what))
    time.sleep(600)  # until killed: nothing after this point is ever recorded
    raise AssertionError("should have been killed")


def main(mode: str, event: str, marker: Path) -> None:
    if mode == "run":
        marker.write_text(json.dumps({"started": True}))
    elif mode == "between":
        real_send = job._send_chunk
        done: list[int] = []

        def send_then_stop(obj: Any, chunk: Any, *args: Any) -> Any:
            answer = real_send(obj, chunk, *args)
            done.append(chunk.index)
            if len(done) == 2:
                hang(marker, {"sent": done})
            return answer

        job._send_chunk = send_then_stop
    else:
        runtime = get_runtime()
        client = runtime.client
        real_push = client.push
        calls: list[str] = []

        def push_then_stop(request: Any, *, idempotent_token: str | None = None) -> Any:
            result = real_push(request, idempotent_token=idempotent_token)
            calls.append(str(idempotent_token))
            if len(calls) == 3:
                hang(marker, {"token": idempotent_token, "message_id": result.message_id})
            return result

        client.push = push_then_stop  # type: ignore[method-assign]
    job.handle_object_event(event.encode("utf-8"), None)  # as FC delivers it: bytes
    if mode == "run":
        time.sleep(600)  # finished before the kill: wait for it, so the parent sees what it expects
    raise AssertionError("the worker finished without reaching its stop point")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
