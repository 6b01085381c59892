"""Wall time of `python -m kalshi_trading --help` (goal: under 0.3 s).

Runs the command several times in fresh interpreters and prints min / median / max, plus which heavy
modules (requests, cryptography, the paper exchange) the help path imported (it should import none).

    python3 benchmarks/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 0.3
HEAVY = ("requests", "cryptography", "kalshi_trading.paper.server", "kalshi_trading.kalshi_client",
         "kalshi_trading.main_app", "sqlite3")


def time_help(runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "kalshi_trading", "--help"], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        timings.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"--help exited {done.returncode}: {done.stderr.strip()}")
    return timings


def heavy_imports() -> list[str]:
    """Heavy modules loaded by the `--help` path, found by running it in one interpreter."""
    probe = ("import sys, runpy\nsys.argv=['kalshi_trading','--help']\n"
             "try:\n    runpy.run_module('kalshi_trading', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             f"print('|'.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    last = done.stderr.strip().splitlines()[-1:] or [""]
    return [name for name in last[0].split("|") if name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    bare = time_python(args.runs)
    timings = time_help(args.runs)
    median = statistics.median(timings)
    print(f"python -m kalshi_trading --help, {args.runs} runs: min {min(timings):.3f} s, "
          f"median {median:.3f} s, max {max(timings):.3f} s (goal < {GOAL_S} s)")
    print(f"bare interpreter start (python -c pass): median {statistics.median(bare):.3f} s")
    loaded = heavy_imports()
    print(f"heavy modules imported by --help: {', '.join(loaded) if loaded else 'none'}")
    return 0 if median < GOAL_S and not loaded else 1


def time_python(runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        timings.append(time.perf_counter() - start)
    return timings


if __name__ == "__main__":
    sys.exit(main())
