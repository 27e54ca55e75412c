"""Throughput: pushes per second over keep-alive, 1 and 8 threads, HTTP and HTTPS.

pushfn's client against the official ``aliyun-python-sdk-core`` + ``aliyun-python-sdk-push`` in the
same run, to the same server in its own process (over HTTPS it serves a throwaway ``trustme``
certificate): the emulator, and a canned-answer server (``_canned_server.py``, aiohttp answering every
request with one Push answer). Target: pushfn ≥ 2 × official. Against the emulator (a Python server
doing the service's checks on the same cores) both are bounded by the server, which compresses the
ratio; the canned server shows the clients' own speed. The client-side CPU per push is printed too:
this process's CPU time, user and kernel (the server runs in another), over the pushes sent, target
≤ 150 µs; the kernel's part is printed too.

Each client is measured ``--rounds`` times per thread count, the two taking turns (which goes first
alternates), and the medians are printed: a machine whose speed drifts during the run favours neither.

    python bench/bench_throughput.py [--seconds 3] [--rounds 3] [--schemes http,https] [--servers emulator,canned]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _canned_server import CannedServer
from _common import PUSH, official_client, official_push, ours_client, ours_push, tls_files
from _emulator_process import EmulatorProcess


def measure(send: Callable[[], object], threads: int, seconds: float) -> tuple[float, float, float]:
    """(pushes per second, client CPU µs per push, of which in the kernel)."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        while time.perf_counter() < stop:
            send()
            counts[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    before = resource.getrusage(resource.RUSAGE_SELF)
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    after = resource.getrusage(resource.RUSAGE_SELF)
    total = max(sum(counts), 1)
    system = after.ru_stime - before.ru_stime
    cpu = after.ru_utime - before.ru_utime + system
    return sum(counts) / seconds, cpu / total * 1e6, system / total * 1e6


def run(scheme: str, seconds: float, rounds: int, folder: Path, server: str) -> None:
    ca_file, server_pem = tls_files(folder) if scheme == "https" else (None, None)
    if ca_file:
        os.environ["SSL_CERT_FILE"] = ca_file  # pushfn's setting; the official SDK gets verify=ca_file
    # Its own process: no shared GIL with the clients.
    if server == "canned":
        emulator: EmulatorProcess | CannedServer = CannedServer(server_pem)
    else:
        emulator = EmulatorProcess(server_pem=server_pem, ca_file=ca_file)
    host_port = emulator.url.split("//", 1)[1]
    try:
        ours = ours_client(emulator.url)
        official = official_client(ca_file)
        ours_push(ours), official_push(official, host_port, scheme)  # warm up both
        print(
            f"throughput to the {server} server over {scheme.upper()} on loopback: medians of {rounds} alternating "
            f"rounds of {seconds:g} s per client (min-max in brackets)"
        )
        sends = {"pushfn": lambda: ours_push(ours), "official": lambda: official_push(official, host_port, scheme)}
        for threads in (1, 8):
            figures: dict[str, list[tuple[float, float, float]]] = {"pushfn": [], "official": []}
            for round_number in range(rounds):
                # Alternating which client goes first, so a drift of the machine's speed favours neither.
                for name in sorted(sends, reverse=round_number % 2 == 1):
                    emulator.reset()
                    figures[name].append(measure(sends[name], threads, seconds))
            rate, cpu, system = {}, {}, {}
            for name, values in figures.items():
                rate[name] = statistics.median(r for r, _, _ in values)
                cpu[name] = statistics.median(c for _, c, _ in values)
                system[name] = statistics.median(k for _, _, k in values)
            spread = {}
            for name, values in figures.items():
                spread[name] = f"[{min(c for _, c, _ in values):.0f}-{max(c for _, c, _ in values):.0f}]"
            # The kernel's part shows thread switches: with threads, each socket call can hand the GIL over.
            print(
                f"  {threads} thread(s): pushfn {rate['pushfn']:7.1f}/s  official {rate['official']:7.1f}/s  "
                f"ratio {rate['pushfn'] / rate['official']:4.2f} (target >= 2.0)   client CPU per push: "
                f"pushfn {cpu['pushfn']:4.0f} µs {spread['pushfn']} (kernel {system['pushfn']:.0f})  "
                f"official {cpu['official']:4.0f} µs {spread['official']} (kernel {system['official']:.0f})  "
                "(target <= 150 µs)"
            )
        started, n = time.perf_counter(), 2000
        for _ in range(n):
            ours.prepare("Push", PUSH)
        print(f"  pushfn validate+sign only: {(time.perf_counter() - started) / n * 1e6:.0f} µs per push")
        ours.close()
    finally:
        emulator.stop()
        os.environ.pop("SSL_CERT_FILE", None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per client and thread count")
    parser.add_argument("--schemes", default="http,https")
    parser.add_argument("--servers", default="emulator,canned")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for server in args.servers.split(","):
            for scheme in args.schemes.split(","):
                run(scheme, args.seconds, args.rounds, Path(folder), server)


if __name__ == "__main__":
    main()
