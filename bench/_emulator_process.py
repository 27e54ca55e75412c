"""Run the emulator in its own process for benchmarks, so it does not share the client's GIL."""

from __future__ import annotations

from pathlib import Path

from _common import free_port, start_child

ROOT = Path(__file__).resolve().parents[1]


class EmulatorProcess:
    """The emulator of the package under ``shared`` (default: this checkout's) on a free loopback port,
    in a child process; over HTTPS when ``server_pem`` is given (``ca_file`` is then the CA the control
    calls trust). ``shared`` lets a bench run another checkout's server (the pre-v2 one) as a baseline.
    """

    def __init__(
        self, shared: Path | None = None, *, server_pem: str | None = None, ca_file: str | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"{'https' if server_pem else 'http'}://127.0.0.1:{self.port}"
        self.ca_file = ca_file
        package, bench = str(shared or ROOT / "shared"), str(ROOT / "bench")
        if server_pem:
            code = (
                f"import sys, threading; sys.path.insert(0, {package!r}); sys.path.insert(0, {bench!r})\n"
                "from _common import server_context\n"
                "from pushfn.emulator import Emulator\n"
                f"emulator = Emulator(host='127.0.0.1', port={self.port}, ssl_context=server_context({server_pem!r}))\n"
                "emulator.start()\n"
                "threading.Event().wait()\n"
            )
        else:
            code = (
                f"import sys; sys.path.insert(0, {package!r})\n"
                "from pushfn.emulator import serve\n"
                f"serve(host='127.0.0.1', port={self.port}, log_requests=False)\n"
            )
        self.proc = start_child(code, self.port, "emulator process")

    def reset(self) -> None:
        import ssl
        import urllib.request

        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.url}/_emulator/reset", data=b"{}", headers=headers, method="POST")
        urllib.request.urlopen(request, context=context)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
