"""Time corruptgen against imagecorruptions 1.1.2 on the same images in the same run.

    python scripts/bench_kernels.py            # writes the kernels section of docs/benchmarks.md
    python scripts/bench_kernels.py --quick    # fewer repeats, prints only

Per corruption and severity: the median of repeated calls after a warm-up, for the
reference (compute only, via the test-side shim in tests/reference.py) and for corruptgen,
at 224x224 and 640x480, on one process. Then the ImageNet-C unit of work (15 benchmark
corruptions x 5 severities on one 224 image), and the cold start of a fresh process with
Numba's cache warm and cold.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from skimage import data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

from _benchdoc import machine, median_ms, write_section  # noqa: E402
from reference import load, reference_corrupt  # noqa: E402

import corruptgen  # noqa: E402
from corruptgen.corruptions import IMAGECORRUPTIONS  # noqa: E402

SIZES = {"224x224": (224, 224), "640x480": (480, 640)}


def bench_size(image: np.ndarray, repeats: int, ref_budget_ms: float) -> dict[str, tuple[list[float], list[float]]]:
    rows = {}
    for name in IMAGECORRUPTIONS:  # the reference's 19
        ours, ref = [], []
        for s in range(1, 6):
            ours.append(median_ms(lambda: corruptgen.corrupt(image, name, s, seed=0), repeats))
            t0 = time.perf_counter()
            reference_corrupt(image, name, s, seed=0)
            first = (time.perf_counter() - t0) * 1000
            n = max(1, min(repeats, int(ref_budget_ms // max(first, 1e-3))))
            ref.append(median_ms(lambda: reference_corrupt(image, name, s, seed=0), n) if n > 1 else first)
        rows[name] = (ref, ours)
        print(f"  {name:18s} ref {sum(ref):9.1f} ms  ours {sum(ours):7.2f} ms  x{sum(ref) / sum(ours):7.1f}", flush=True)
    return rows


def unit_of_work(image: np.ndarray, repeats: int) -> float:
    names = corruptgen.list_corruptions("benchmark")
    return median_ms(lambda: [corruptgen.corrupt(image, n, s, seed=0) for n in names for s in range(1, 6)], repeats)


_COLD = "import time; t=time.perf_counter(); import numpy as np, corruptgen; img=np.zeros((224,224,3),np.uint8); " \
        "corruptgen.corrupt(img,'glass_blur',3,seed=0); print((time.perf_counter()-t)*1000)"  # fmt: skip
_ALL = "import time; t=time.perf_counter(); import numpy as np, corruptgen; img=np.zeros((64,64,3),np.uint8); " \
       "[corruptgen.corrupt(img,n,3,seed=0) for n in corruptgen.list_corruptions('all')]; " \
       "print((time.perf_counter()-t)*1000)"  # fmt: skip


def run_ms(code: str, env: dict) -> float:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold_start() -> dict[str, float]:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        compile_all = run_ms(_ALL, env)  # empty cache: every kernel compiles
        warm_all = run_ms(_ALL, env)  # same cache, now filled
        warm_one = run_ms(_COLD, env)
    import_only = run_ms("import time; t=time.perf_counter(); import corruptgen; print((time.perf_counter()-t)*1000)", env)
    return {"compile_all": compile_all, "warm_all": warm_all, "warm_one": warm_one, "import": import_only}


def ratio(x: float) -> str:
    return f"{x:.1f}x" if x < 10 else f"{x:.0f}x"


def table(rows) -> str:
    lines = ["| corruption | reference ms (s1-5 sum) | corruptgen ms | ratio | slowest-severity ratio |",
             "|---|---:|---:|---:|---:|"]  # fmt: skip
    for name, (ref, ours) in rows.items():
        worst = min(r / o for r, o in zip(ref, ours))
        lines.append(f"| {name} | {sum(ref):.1f} | {sum(ours):.2f} | {ratio(sum(ref) / sum(ours))} | {ratio(worst)} |")
    bench = corruptgen.list_corruptions("benchmark")
    ref_total = sum(sum(rows[n][0]) for n in bench)
    our_total = sum(sum(rows[n][1]) for n in bench)
    lines.append(f"| **15 benchmark x 5** | **{ref_total:.0f}** | **{our_total:.1f}** | **{ref_total / our_total:.0f}x** | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; print, do not write docs")
    args = parser.parse_args()
    repeats = 3 if args.quick else 9
    load()
    sections, units = [], {}
    for label, (h, w) in SIZES.items():
        image = cv2.resize(data.astronaut(), (w, h), interpolation=cv2.INTER_AREA)
        print(f"{label}:", flush=True)
        rows = bench_size(image, repeats, ref_budget_ms=1500 if args.quick else 4000)
        sections.append(f"#### {label}\n\n{table(rows)}")
        units[label] = (sum(sum(rows[n][0]) for n in corruptgen.list_corruptions("benchmark")),
                        unit_of_work(image, repeats))  # fmt: skip
    cold = cold_start()
    ref_unit, our_unit = units["224x224"]
    summary = [
        f"Machine: {machine()}. One process; medians after a warm-up; reference = imagecorruptions 1.1.2 "
        "(compute only) timed in the same run.",
        "",
        f"- ImageNet-C unit of work (15 benchmark corruptions x 5 severities, one 224x224 image, one call each): "
        f"corruptgen **{our_unit:.1f} ms**, reference {ref_unit:.0f} ms: **{ref_unit / our_unit:.0f}x**.",
        f"- Same unit at 640x480: corruptgen {units['640x480'][1]:.1f} ms, reference {units['640x480'][0]:.0f} ms: "
        f"{units['640x480'][0] / units['640x480'][1]:.0f}x.",
        f"- Fresh process, Numba cache warm: `import corruptgen` {cold['import']:.0f} ms; import + one glass_blur "
        f"{cold['warm_one']:.0f} ms; import + all 19 corruptions once {cold['warm_all']:.0f} ms.",
        f"- One-off compile (empty Numba cache, import + all 19 once): {cold['compile_all']:.0f} ms.",
    ]
    body = "## Corruption kernels (`scripts/bench_kernels.py`)\n\n" + "\n".join(summary) + "\n\n" + "\n\n".join(sections)
    print("\n" + body)
    if not args.quick:
        write_section("bench_kernels", body)


if __name__ == "__main__":
    main()
