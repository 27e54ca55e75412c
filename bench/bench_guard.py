"""Idempotency guard overhead per push: SQLite and DynamoDB (moto server) against a bare push.

Every round sends one bare push and one guarded push per store, to the same emulator on loopback,
interleaved so drift hits all sides alike. For a guarded push the time spent inside the operation
(the push itself) is subtracted, so "added" is exactly what the guard costs: the conditional put of
IN_PROGRESS plus the save of COMPLETED (two store round trips). Replays (a duplicate key: one lost
conditional put, no push) are timed too.

The emulator and moto run in this process on the same cores, so DynamoDB figures are moto's (a Python
server), not AWS's; SQLite is a real file with WAL and synchronous=FULL (the default).

    python bench/bench_guard.py [--pushes 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from _common import PUSH, ours_client, start_emulator


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def row(name: str, values_ms: list[float]) -> str:
    return (
        f"  {name:<34} p50 {percentile(values_ms, 50):7.2f} ms   p99 {percentile(values_ms, 99):7.2f} ms   "
        f"mean {statistics.fmean(values_ms):7.2f} ms"
    )


def start_moto() -> str:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=300)
    args = parser.parse_args()

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    os.environ.update(
        AWS_ENDPOINT_URL_DYNAMODB=start_moto(),
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    from pushfn.idempotency import IdempotencyGuard, store_from_url

    emulator = start_emulator()
    client = ours_client(emulator.url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-guard-"))
    stores = {
        "sqlite": store_from_url(f"sqlite:///{tmp}/idempotency.db"),
        "dynamodb (moto server)": store_from_url("dynamodb://bench-idempotency"),
    }
    guards = {}
    for name, store in stores.items():
        store.init()
        guards[name] = IdempotencyGuard(store, function_name="bench")

    def bare() -> None:
        client.push(PUSH, idempotent_token=str(uuid.uuid4()))

    def guarded(guard: IdempotencyGuard, key: str, inside: list[float]) -> Callable[[], None]:
        def operation(token: str) -> dict[str, str]:
            started = time.perf_counter()
            result = client.push(PUSH, idempotent_token=token).to_dict()
            inside.append(time.perf_counter() - started)
            return result

        return lambda: guard.run(key, payload=PUSH, operation=operation)

    def timed(action: Callable[[], object]) -> float:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    # Warm up connections and code paths.
    for _ in range(10):
        bare()
        for guard in guards.values():
            guard.run(f"warm-{uuid.uuid4()}", payload=PUSH, operation=lambda t: client.push(PUSH).to_dict())

    bare_ms: list[float] = []
    total_ms: dict[str, list[float]] = {name: [] for name in guards}
    added_ms: dict[str, list[float]] = {name: [] for name in guards}
    replay_ms: dict[str, list[float]] = {name: [] for name in guards}
    for i in range(args.pushes):
        if i % 100 == 0:
            emulator.reset()
        bare_ms.append(timed(bare) * 1000)
        for name, guard in guards.items():
            key, inside = f"order-{i}", []
            total = timed(guarded(guard, key, inside))
            total_ms[name].append(total * 1000)
            added_ms[name].append((total - inside[0]) * 1000)
            replay_ms[name].append(timed(guarded(guard, key, [])) * 1000)

    print(f"idempotency guard overhead, {args.pushes} pushes per side, emulator on loopback")
    print(row("bare push (baseline)", bare_ms))
    for name in guards:
        print(f" {name}")
        print(row("guarded push, total", total_ms[name]))
        print(row("added by the guard (total - push)", added_ms[name]))
        print(row("replay of a duplicate (no push)", replay_ms[name]))
        extra_p50 = percentile(total_ms[name], 50) - percentile(bare_ms, 50)
        extra_p99 = percentile(total_ms[name], 99) - percentile(bare_ms, 99)
        print(f"  {'total minus bare, per percentile':<34} p50 {extra_p50:+7.2f} ms   p99 {extra_p99:+7.2f} ms")
    emulator.stop()


if __name__ == "__main__":
    main()
