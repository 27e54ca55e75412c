"""Target files: lines per second parsed, validated, de-duplicated and chunked on one core, and peak RSS.

Generates files of random device ids (plain and gzipped) in a temporary folder, then runs each case in
a fresh process (so its peak RSS is its own) that streams the file through
``pushfn.targets.formats.TargetRows`` and ``pushfn.targets.chunks.plan_chunks``. The baseline, run in
the same way, only splits the file into lines and decodes them (the least any reader must do), so the
ratio shows what parsing, checking and chunking add. Issue 8's targets: >= 500,000 lines/s and peak
RSS under 150 MB for 1,000,000 lines.

    python bench/bench_targets.py                 # 100,000 and 1,000,000 lines
    python bench/bench_targets.py --lines 200000  # one size
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTENT = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "Benchmark", "Body": "Hello"}


def _peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _child(case: str, path: str) -> None:
    sys.path.insert(0, str(ROOT / "shared"))
    from pushfn.targets.chunks import plan_chunks
    from pushfn.targets.formats import TargetRows
    from pushfn.targets.report import Report

    imported_rss = _peak_rss_mb()
    started = time.perf_counter()
    with open(path, "rb") as stream:
        if case == "baseline":
            lines = sum(1 for line in stream if line.decode("utf-8").strip())
            chunks = 0
        else:
            report = Report()
            chunks = sum(1 for _ in plan_chunks(TargetRows(stream, path), CONTENT, report))
            lines = report.lines_read
            assert report.invariant_problems() == [] and report.valid == lines, report.to_dict()["targets"]
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "lines": lines,
                "chunks": chunks,
                "seconds": seconds,
                "rss_mb": _peak_rss_mb(),
                "import_rss_mb": imported_rss,
            }
        )
    )


def _run(case: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, str(path)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


def _generate(folder: Path, lines: int) -> tuple[Path, Path]:
    plain = folder / f"ids-{lines}.txt"
    with open(plain, "wb") as out:
        for _ in range(0, lines, 10_000):
            out.write("".join(secrets.token_hex(16) + "\n" for _ in range(min(10_000, lines))).encode())
    packed = folder / f"ids-{lines}.txt.gz"
    with open(plain, "rb") as source, gzip.open(packed, "wb", compresslevel=6) as out:
        while block := source.read(1 << 20):
            out.write(block)
    return plain, packed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, action="append", help="file sizes (default 100000 and 1000000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per case; the best is shown")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, one core per case")
    for lines in args.lines or [100_000, 1_000_000]:
        with tempfile.TemporaryDirectory() as tmp:
            plain, packed = _generate(Path(tmp), lines)
            results = {}
            for case, path in (("baseline", plain), ("txt", plain), ("txt.gz", packed)):
                runs = [_run(case, path) for _ in range(args.runs)]
                results[case] = min(runs, key=lambda r: r["seconds"])
            base = results["baseline"]["seconds"]
            print(
                f"\n{lines:,} device ids ({plain.stat().st_size / 1e6:.1f} MB, "
                f"gzipped {packed.stat().st_size / 1e6:.1f} MB)"
            )
            print(
                f"{'case':<10} {'lines/s':>12} {'vs baseline':>12} {'chunks':>7} "
                f"{'peak RSS MB':>12} {'after import':>13}"
            )
            for case, r in results.items():
                rate = r["lines"] / r["seconds"]
                print(
                    f"{case:<10} {rate:>12,.0f} {r['seconds'] / base:>11.2f}x {r['chunks']:>7} "
                    f"{r['rss_mb']:>12.1f} {r['import_rss_mb']:>13.1f}"
                )
            target = results["txt"]["lines"] / results["txt"]["seconds"]
            print(
                f"target >= 500,000 lines/s: {'met' if target >= 500_000 else 'NOT met'} ({target:,.0f});"
                f" RSS < 150 MB: {'met' if results['txt']['rss_mb'] < 150 else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
