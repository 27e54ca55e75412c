"""The file function end to end: a generated file of device ids pushed to the emulator, in its own process.

For each size, a fresh child process (so its peak RSS is its own) runs the real ``file_push`` handler,
configured only through the environment (the emulator's endpoint and keys, a SQLite idempotency store,
the temporary folder as the bucket), on an OSS event for the file. The emulator runs in another
process (``_emulator_process.py``), so it does not share the handler's GIL. The baseline, in the same
way and the same run, only parses, validates and chunks the file (no guard, no HTTP), so the ratio
shows what sending adds. The handler runs once per ``PUSHFN_FILE_CONCURRENCY`` (default 1 and 8: one
chunk after the other, then eight at once, each with a fresh idempotency store and no report or parts
left by the run before: else a later run is a *rerun* of a completed file), all under the client-side
rate limit (a million targets fit the Push quota's 60 s window at once). The file function sends every
chunk itself (``PUSHFN_FILE_FANOUT_TARGETS`` is the file's size): with ``PUSHFN_FILE_ROOT`` set the
fan-out is in process, the queue function sending each chunk after the first 50,000 targets on the
planner's thread, one at a time, whatever the concurrency; ``--fanout-targets N`` measures that instead. Issue 8's
targets: >= 500,000 lines/s parsed and validated on one core, peak RSS under 150 MB for 100,000 and
1,000,000 lines.

    python bench/bench_file_push.py                  # 100,000 and 1,000,000 device ids
    python bench/bench_file_push.py --lines 200000   # one size
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
CONTENT = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "Benchmark", "Body": "Hello"}
KEY = "ids.txt"


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _child(case: str, folder: str) -> None:
    sys.path.insert(0, str(ROOT / "shared"))
    sys.path.insert(0, str(ROOT))
    path = Path(folder) / KEY
    started = time.perf_counter()  # end to end: the handler's imports count (a cold start)
    if case == "plan":
        from pushfn.targets.chunks import plan_chunks
        from pushfn.targets.formats import TargetRows
        from pushfn.targets.report import Report

        started = time.perf_counter()  # parsing only: after the imports
        report = Report()
        with open(path, "rb") as stream:
            chunks = sum(1 for _ in plan_chunks(TargetRows(stream, KEY), CONTENT, report))
        seconds = time.perf_counter() - started
        result = {"lines": report.lines_read, "chunks": chunks, "seconds": seconds, "send_seconds": 0.0}
    else:
        from functions.file_push.index import handler

        from pushfn.triggers.events.objects import oss_event

        answer = handler(oss_event([KEY]), None)
        seconds = time.perf_counter() - started
        report = json.loads((Path(folder) / f"{KEY}.report.json").read_text("utf-8"))
        assert answer["files"][0]["status"] == "complete", answer
        assert report["totals"]["pending"] == 0 and report["totals"]["failed"] == 0, report["totals"]
        result = {
            "lines": report["lines_read"],
            "chunks": report["totals"]["sent"],
            "seconds": seconds,
            "send_seconds": report["durations"]["send_seconds"],
        }
    print(json.dumps({**result, "rss_mb": _peak_rss_mb()}))


def _run(case: str, folder: Path, env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, str(folder)], check=True, capture_output=True, text=True, env=env
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _generate(folder: Path, lines: int) -> Path:
    path = folder / KEY
    with open(path, "wb") as out:
        for start in range(0, lines, 10_000):
            out.write("".join(secrets.token_hex(16) + "\n" for _ in range(min(10_000, lines - start))).encode())
    (folder / f"{KEY}.push.json").write_text(json.dumps(CONTENT))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, action="append", help="file sizes (default 100000 and 1000000)")
    parser.add_argument("--concurrency", type=int, action="append", help="PUSHFN_FILE_CONCURRENCY (default 1 and 8)")
    parser.add_argument(
        "--fanout-targets", type=int, help="PUSHFN_FILE_FANOUT_TARGETS (default: the file's size, no fan-out)"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    from _emulator_process import EmulatorProcess

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    emulator = EmulatorProcess()
    try:
        for lines in args.lines or [100_000, 1_000_000]:
            emulator.reset()
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                size_mb = _generate(folder, lines).stat().st_size / 1e6
                env = {
                    **{k: v for k, v in os.environ.items() if not k.startswith(("PUSH_", "PUSHFN_", "ALIBABA_"))},
                    "PUSH_ENDPOINT": emulator.url,
                    "PUSH_APP_KEY": "23267207",
                    "PUSH_ACCESS_KEY_ID": "testid",
                    "PUSH_ACCESS_KEY_SECRET": "testsecret",
                    "PUSHFN_FILE_ROOT": str(folder),
                    "PUSHFN_CONFIG_FILE": str(folder / "no-config.ini"),
                    "PUSHFN_FILE_FANOUT_TARGETS": str(args.fanout_targets or lines),
                }
                plan = _run("plan", folder, env)
                runs = {}
                for workers in args.concurrency or [1, 8]:
                    emulator.reset()
                    for left in folder.glob(f"{KEY}.report.json*"):  # the report and the parts folder
                        shutil.rmtree(left) if left.is_dir() else left.unlink()
                    store = f"sqlite:///{folder / f'idempotency-{workers}.db'}"
                    case = {**env, "PUSHFN_IDEMPOTENCY_URL": store, "PUSHFN_FILE_CONCURRENCY": str(workers)}
                    runs[workers] = _run("handler", folder, case)
            calls = next(iter(runs.values()))["chunks"]
            print(f"\n{lines:,} device ids ({size_mb:.1f} MB), {calls} Push calls")
            print(f"{'case':<26} {'lines/s':>12} {'seconds':>9} {'vs plan only':>13} {'peak RSS MB':>12}")
            cases = [("plan only (baseline)", plan)] + [(f"handler, concurrency {w}", r) for w, r in runs.items()]
            for name, r in cases:
                print(
                    f"{name:<26} {r['lines'] / r['seconds']:>12,.0f} {r['seconds']:>9.2f} "
                    f"{r['seconds'] / plan['seconds']:>12.2f}x {r['rss_mb']:>12.1f}"
                )
            first = next(iter(runs))
            for workers, full in runs.items():
                send = full["send_seconds"]
                print(
                    f"concurrency {workers}: {calls} Push calls in {send:.2f} s ({calls / send:,.0f} calls/s, "
                    f"guard included); end to end {runs[first]['seconds'] / full['seconds']:.2f}x "
                    f"as fast as concurrency {first}"
                )
            rate = plan["lines"] / plan["seconds"]
            worst = max(r["rss_mb"] for r in runs.values())
            print(
                f"target >= 500,000 lines/s parsed and validated: {'met' if rate >= 500_000 else 'NOT met'} "
                f"({rate:,.0f}); RSS < 150 MB end to end: {'met' if worst < 150 else 'NOT met'}"
            )
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
