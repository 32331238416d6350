"""Start-up: what every CLI call, DataLoader worker and Dask task pays before it does anything.

    python scripts/bench_startup.py [--before /path/to/other/venv/bin/python]   # writes the startup section

Median of ``--runs`` cold starts (new processes; Numba's cache warm from a first call) of
``corruptgen --help``, ``corruptgen --version``, ``import corruptgen``, ``import corruptgen`` plus the
first ``corrupt()`` call (fog, 224 px), ``corruptgen preview`` of one cell, and Numba's own floor (a
cached one-line function's first call): until the code returns and until the process has exited.
``--before`` times another installation's Python beside (the same commands).
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

import numpy as np  # noqa: E402
from _benchdoc import machine, publish  # noqa: E402
from PIL import Image  # noqa: E402

FIRST_CALL = ("import numpy as np, corruptgen; "
              "corruptgen.corrupt(np.full((224, 224, 3), 128, np.uint8), 'fog', 3, seed=0)")  # fmt: skip
FLOOR_MODULE = "from numba import njit\n\n\n@njit(cache=True)\ndef add_one(x):\n    return x + 1\n"
FLOOR_CALL = "import numpy, sys; sys.path.insert(0, '{dir}'); from floor_jit import add_one; add_one(1)"
PREVIEW = "-m corruptgen preview {dir}/photo.png --out {dir}/grid.png --corruptions fog --severities 1"
CASES = {  # name: (python arguments, target in s or None, which column the target reads)
    "`corruptgen --help`": (["-m", "corruptgen", "--help"], 0.3, "process"),
    "`corruptgen --version`": (["-m", "corruptgen", "--version"], 0.3, "process"),
    "`import corruptgen`": (["-c", "import corruptgen"], 0.5, "process"),
    "`import corruptgen` + first `corrupt()`": (["-c", FIRST_CALL], 0.8, "returns"),
    "`corruptgen preview`, one fog cell": (PREVIEW.split(), None, "process"),
    "floor: NumPy, Numba and a cached one-line `@njit` function's first call": (["-c", FLOOR_CALL], None, "returns"),
}
DONE = "; import time as _t; print('DONE', _t.time())"


def timed_runs(python: str, args: list[str], runs: int, cwd: str) -> tuple[float | None, float]:
    """Medians of (seconds until the ``-c`` code's last statement returns, seconds until the process
    has exited); the first is None for ``-m`` commands. One warm-up run first (Numba's cache, the OS's files)."""
    args = [*args[:-1], args[-1] + DONE] if args[0] == "-c" else args
    subprocess.run([python, *args], check=True, capture_output=True, cwd=cwd)
    returns, process = [], []
    for _ in range(runs):
        started, started_wall = time.perf_counter(), time.time()
        out = subprocess.run([python, *args], check=True, capture_output=True, text=True, cwd=cwd).stdout
        process.append(time.perf_counter() - started)
        done = [float(line.split()[1]) for line in out.splitlines() if line.startswith("DONE ")]
        if done:
            returns.append(done[0] - started_wall)
    return (statistics.median(returns) if returns else None), statistics.median(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", default=None, help="another installation's python, timed beside")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    work = tempfile.mkdtemp()  # never a source checkout, whose corruptgen/ -m and -c would import
    Path(work, "floor_jit.py").write_text(FLOOR_MODULE)
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(Path(work, "photo.png"))
    rows = []
    for name, (command, target, column) in CASES.items():
        command = [part.format(dir=work) for part in command]
        returns, process = timed_runs(sys.executable, command, args.runs, work)
        before = timed_runs(args.before, command, args.runs, work) if args.before and "floor" not in name else None
        rows.append((name, returns, process, target, column, before))
        print(f"{name}: returns {returns}, process {process:.3f} s (target {target} s on {column})", flush=True)
    lines = [
        "## Start-up (`scripts/bench_startup.py`)",
        "",
        f"Machine: {machine()}. Median of {args.runs} new processes each (Numba's cache warm), through "
        "`python -m corruptgen` / `python -c`: seconds until the code's last statement returns (from the "
        "process's start), and until the process has exited. The target reads the column in bold. "
        "The floor is what Numba alone costs a process before any kernel of ours runs: its import, and "
        "at the first dispatch of even a one-line cached function its registries (which import SciPy's "
        "linalg to probe for BLAS). At exit, the interpreter's last garbage collection walks Numba's "
        "objects (about 0.25 s); `corruptgen` commands skip that walk (an atexit `gc.freeze()`), a Python "
        "process that imports the library pays it." + (" The previous release timed beside it." if args.before else ""),
        "",
        "| | returns (s) | process (s) | target | " + ("before: process (s) |" if args.before else ""),
        "|---|---:|---:|---:|" + ("---:|" if args.before else ""),
    ]
    for name, returns, process, target, column, before in rows:
        cells = ["-" if returns is None else f"{returns:.2f}", f"{process:.2f}"]
        if target is not None:
            index = 0 if column == "returns" else 1
            cells[index] = f"**{cells[index]}**"
        extra = (f" {before[1]:.2f} |" if before else " - |") if args.before else ""
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {'' if target is None else f'< {target}'} |{extra}")
    publish("startup", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
