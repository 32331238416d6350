"""Start-up: what every CLI call, DataLoader worker and Dask task pays before it does anything.

    python scripts/bench_startup.py [--before /path/to/other/venv/bin/python]   # writes the startup section

Median of ``--runs`` cold starts (new processes; Numba's cache warm from a first call) of
``corruptgen --help``, ``corruptgen --version``, ``import corruptgen``, and ``import corruptgen`` plus
the first ``corrupt()`` call (fog, 224 px). ``--before`` times another installation's Python beside
(the same commands, through ``python -m corruptgen``) for a ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchdoc import machine, publish  # noqa: E402

FIRST_CALL = ("import numpy as np, corruptgen; "
              "corruptgen.corrupt(np.full((224, 224, 3), 128, np.uint8), 'fog', 3, seed=0)")  # fmt: skip
CASES = {
    "`corruptgen --help`": (["-m", "corruptgen", "--help"], 0.3),
    "`corruptgen --version`": (["-m", "corruptgen", "--version"], 0.3),
    "`import corruptgen`": (["-c", "import corruptgen"], 0.5),
    "`import corruptgen` + first `corrupt()`": (["-c", FIRST_CALL], 0.8),
}


def median_s(python: str, args: list[str], runs: int) -> float:
    neutral = tempfile.gettempdir()  # never a source checkout, whose corruptgen/ -m and -c would import
    subprocess.run([python, *args], check=True, capture_output=True, cwd=neutral)  # warm: Numba's cache, the OS's files
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([python, *args], check=True, capture_output=True, cwd=neutral)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", default=None, help="another installation's python, timed beside")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    rows = []
    for name, (command, target) in CASES.items():
        ours = median_s(sys.executable, command, args.runs)
        before = median_s(args.before, command, args.runs) if args.before else None
        rows.append((name, ours, target, before))
        print(f"{name}: {ours:.3f} s (target {target} s)" + (f", before {before:.3f} s" if before else ""), flush=True)
    lines = [
        "## Start-up (`scripts/bench_startup.py`)",
        "",
        f"Machine: {machine()}. Median of {args.runs} new processes each (Numba's cache warm), through "
        "`python -m corruptgen` / `python -c`." + (" The previous release (0.4.0 as of 8694277) timed beside it." if args.before else ""),
        "",
        "| | seconds | target | " + ("before | ratio |" if args.before else ""),
        "|---|---:|---:|" + ("---:|---:|" if args.before else ""),
    ]
    for name, ours, target, before in rows:
        extra = f" {before:.2f} | {before / ours:.1f}x |" if before else ""
        lines.append(f"| {name} | {ours:.2f} | < {target} |{extra}")
    publish("startup", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
