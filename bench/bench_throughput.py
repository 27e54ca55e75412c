"""Throughput: pushes per second over keep-alive to the emulator, 1 and 8 threads.

pushfn's client against the official ``aliyun-python-sdk-core`` + ``aliyun-python-sdk-push`` in the
same run, same emulator (in its own process). Target: pushfn ≥ 2 × official. Both are bounded by the
emulator (a Python server on the same 2 cores), which compresses the ratio; the client-side CPU cost
per push is printed too.

    python bench/bench_throughput.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable

from _common import official_client, official_push, ours_client, ours_push
from _emulator_process import EmulatorProcess


def measure(send: Callable[[], object], threads: int, seconds: float) -> float:
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        while time.perf_counter() < stop:
            send()
            counts[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    emulator = EmulatorProcess()  # its own process: the server must not share the client's GIL
    host_port = emulator.url.split("//", 1)[1]
    try:
        ours = ours_client(emulator.url)
        official = official_client()
        ours_push(ours), official_push(official, host_port)  # warm up both
        print(f"throughput to the emulator on loopback, {args.seconds:g} s per measurement")
        for threads in (1, 8):
            emulator.reset()
            rate_ours = measure(lambda: ours_push(ours), threads, args.seconds)
            emulator.reset()
            rate_official = measure(lambda: official_push(official, host_port), threads, args.seconds)
            print(
                f"  {threads} thread(s): pushfn {rate_ours:7.1f}/s  official {rate_official:7.1f}/s  "
                f"ratio {rate_ours / rate_official:4.2f} (target >= 2.0)"
            )
        # Client-side cost alone: sign + validate without the network, per push.
        started, n = time.perf_counter(), 2000
        for _ in range(n):
            ours.prepare("Push", _common_push())
        print(f"  pushfn validate+sign only: {(time.perf_counter() - started) / n * 1e6:.0f} µs per push")
    finally:
        emulator.stop()


def _common_push() -> dict[str, str]:
    from _common import PUSH

    return PUSH


if __name__ == "__main__":
    main()
