"""Cold start: a fresh Python process imports the client and sends one push to the emulator.

Compares pushfn with the official ``aliyun-python-sdk-core`` + ``aliyun-python-sdk-push`` doing the
same in the same run, over plain HTTP and over HTTPS to the emulator on a local TLS listener (a
throwaway CA made by ``trustme``). Prints wall time and peak RSS for each, and the ratios (target: ≤ 0.6).

Also each function's first invocation in a fresh process (``_functions.py``: the HTTP function with
an API key and the SQLite store, the timer function, the queue function, each sending one push)
against the same official SDK's bare import + push (target: wall ≤ 1.0).

Peak RSS is the child's own ``VmHWM`` (``/proc/self/status``): ``ru_maxrss`` would report the parent's,
which a child inherits across fork and exec.

    python bench/bench_cold_start.py [--runs 15] [--schemes http,https]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, start_emulator, summary, tls_files
from _functions import FUNCTIONS, first_invocation

CHILD = r"""
import json, sys, time
sys.path.insert(0, {shared!r}); sys.path.insert(0, {bench!r})
t0 = time.perf_counter()
import _common
if {variant!r} == "pushfn":
    client = _common.ours_client({url!r}); message_id = _common.ours_push(client)
else:
    client = _common.official_client({ca_file!r}); message_id = _common.official_push(client, {host_port!r}, {scheme!r})
elapsed = time.perf_counter() - t0
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({{"ms": elapsed * 1000, "rss_kb": hwm, "message_id": message_id}}))
"""


def run_child(variant: str, url: str, ca_file: str | None) -> dict[str, float]:
    scheme, host_port = url.split("://", 1)
    code = CHILD.format(
        shared=str(ROOT / "shared"),
        bench=str(ROOT / "bench"),
        variant=variant,
        url=url,
        host_port=host_port,
        scheme=scheme,
        ca_file=ca_file,
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    if ca_file:
        env["SSL_CERT_FILE"] = ca_file  # pushfn's setting; the official SDK is given verify=ca_file
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    wall_ms = (time.perf_counter() - started) * 1000
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"wall_ms": wall_ms, "inproc_ms": result["ms"], "rss_mb": result["rss_kb"] / 1024}


def measure(scheme: str, runs: int, folder: Path) -> None:
    ca_file, server_pem = tls_files(folder) if scheme == "https" else (None, None)
    emulator = start_emulator(server_pem)
    variants = ("pushfn", "official", *FUNCTIONS)

    def run(variant: str) -> dict[str, float]:
        if variant in FUNCTIONS:
            with tempfile.TemporaryDirectory(dir=folder) as work:
                return first_invocation(variant, emulator.url, Path(work), ca_file)
        return run_child(variant, emulator.url, ca_file)

    try:
        results: dict[str, list[dict[str, float]]] = {variant: [] for variant in variants}
        for variant in results:  # warm the OS page cache and .pyc files once, unmeasured
            run(variant)
        for _ in range(runs):  # interleave so drift affects all alike
            for variant in results:
                results[variant].append(run(variant))
    finally:
        emulator.stop()
    print(f"cold start over {scheme.upper()}, {runs} fresh processes each (import + sign + send one push)")
    med = {}
    for variant, rows in results.items():
        for key in ("wall_ms", "inproc_ms", "rss_mb"):
            values = [r[key] for r in rows]
            med[(variant, key)] = statistics.median(values)
            print(f"  {variant:15s} {key:10s} {summary(values)}")
    for key, label in (
        ("wall_ms", "wall time (process)"),
        ("inproc_ms", "import+push in process"),
        ("rss_mb", "peak memory"),
    ):
        ratio = med[("pushfn", key)] / med[("official", key)]
        print(f"ratio pushfn/official {label:24s} {ratio:5.2f}  (target <= 0.60)")
    for function in FUNCTIONS:
        for key, label in (("wall_ms", "wall"), ("rss_mb", "peak memory")):
            ratio = med[(function, key)] / med[("official", key)]
            target = "  (target <= 1.00)" if key == "wall_ms" else ""
            print(f"ratio {function} first invocation/official {label:12s} {ratio:5.2f}{target}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--schemes", default="http,https")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for scheme in args.schemes.split(","):
            measure(scheme, args.runs, Path(folder))


if __name__ == "__main__":
    main()
