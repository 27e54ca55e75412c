"""Run the emulator in its own process for benchmarks, so it does not share the client's GIL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class EmulatorProcess:
    """``serve`` of the package under ``shared`` (default: this checkout's) on a free loopback port."""

    def __init__(self, shared: Path | None = None) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        shared = str(shared or ROOT / "shared")
        code = (
            f"import sys; sys.path.insert(0, {shared!r})\n"
            "from pushfn.emulator import serve\n"
            f"serve(host='127.0.0.1', port={self.port}, log_requests=False)\n"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, env={**os.environ})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("emulator process did not start")

    def reset(self) -> None:
        import urllib.request

        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.url}/_emulator/reset", data=b"{}", headers=headers, method="POST")
        urllib.request.urlopen(request)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
