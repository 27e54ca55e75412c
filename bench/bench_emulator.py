"""Emulator throughput: signed Push calls per second over 8 keep-alive connections, pre-signed.

The emulator runs in its own process (``serve``, no request log); this process is the load generator:
it signs every request before the clock starts (a fresh nonce each, V2 HMAC-SHA1, Push to one device),
then replays them over ``--connections`` keep-alive connections for ``--seconds`` (loopback only),
one request in flight per connection, and counts the ``200`` answers.

Baseline, measured in the same run: the server of ``--baseline-rev`` (default: the last commit
before the v2 server, a stdlib thread-per-connection server), extracted from git into a temporary
folder. Without git, the ratio is against the issue's goal of 5,000 pushes/s.

    python bench/bench_emulator.py --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _emulator_process import EmulatorProcess  # noqa: E402
from pushfn.api_time import format_api_time  # noqa: E402
from pushfn.push import signing  # noqa: E402

GOAL = 5000.0
BASELINE_REV = "22c3798"
DEVICE = "e2ba19de97604f55b165576736477b74"


def presign(count: int, port: int) -> list[bytes]:
    """``count`` complete HTTP requests, each a signed Push with its own nonce."""
    requests = []
    timestamp = format_api_time(time.time())
    for _ in range(count):
        params = {
            "Action": "Push",
            "Version": "2016-08-01",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "AccessKeyId": "testid",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": timestamp,
            "AppKey": "23267207",
            "Target": "DEVICE",
            "TargetValue": DEVICE,
            "DeviceType": "ANDROID",
            "PushType": "NOTICE",
            "Title": "Order shipped",
            "Body": "On its way",
        }
        params["Signature"] = signing.sign_rpc_v2("POST", params, "testsecret")
        requests.append(
            f"POST /?{urlencode(params)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n".encode()
        )
    return requests


async def _connection(port: int, requests: list[bytes], deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while requests and time.perf_counter() < deadline:
            writer.write(requests.pop())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            counts[0 if status == 200 else 1] += 1
    finally:
        writer.close()


async def _load(port: int, requests: list[bytes], seconds: float, connections: int) -> tuple[int, int, float]:
    counts = [0, 0]
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(_connection(port, requests, deadline, counts) for _ in range(connections)))
    return counts[0], counts[1], time.perf_counter() - start


def measure(emulator: EmulatorProcess, seconds: float, connections: int, budget: int) -> float:
    """Pushes per second the emulator answered 200 to; a warm-up second first."""
    asyncio.run(_load(emulator.port, presign(500, emulator.port), 1.0, connections))
    requests = presign(budget, emulator.port)
    ok, failed, elapsed = asyncio.run(_load(emulator.port, requests, seconds, connections))
    if failed:
        print(f"  ({failed} answers were not 200)")
    return ok / elapsed


def baseline_tree(rev: str, into: Path) -> Path | None:
    """The ``shared`` folder of ``rev``, extracted with git; ``None`` when git or the commit is not there."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev, "shared/pushfn"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return into / "shared"


def main() -> None:
    """Measure the current emulator, then the baseline, and print both with their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    args = parser.parse_args()
    budget = int(args.seconds * 15_000)  # more pre-signed requests than any run can send

    emulator = EmulatorProcess()
    try:
        current = measure(emulator, args.seconds, args.connections, budget)
    finally:
        emulator.stop()
    print(f"emulator v2 (aiohttp): {current:8.0f} pushes/s over {args.connections} keep-alive connections")

    with tempfile.TemporaryDirectory() as tmp:
        shared = baseline_tree(args.baseline_rev, Path(tmp))
        if shared is None:
            print(f"baseline {args.baseline_rev} not available; goal: {GOAL:.0f}/s, ratio {current / GOAL:.2f}x")
            return
        old = EmulatorProcess(shared=shared)
        try:
            before = measure(old, args.seconds, args.connections, budget)
        finally:
            old.stop()
    print(f"baseline {args.baseline_rev} (stdlib threads): {before:8.0f} pushes/s")
    print(f"ratio: {current / before:.2f}x the baseline; {current / GOAL:.2f}x the goal of {GOAL:.0f}/s")


if __name__ == "__main__":
    main()
