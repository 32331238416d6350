"""Time corruptgen against imagecorruptions 1.1.2 on real photographs, in the same run.

    python scripts/bench_kernels.py                   # one thread and default threads; writes docs/benchmarks.md
    python scripts/bench_kernels.py --before 09f784a  # also time that git revision of corruptgen, interleaved
    python scripts/bench_kernels.py --quick           # fewer repeats, prints only
    python scripts/bench_kernels.py --only defocus_blur,jpeg_compression   # those cells, prints only

Images: scikit-image's astronaut, chelsea and coffee photographs, resized (INTER_AREA) to 224x224
and to 640x480 (non-square). Per corruption and severity, every contender is timed in rounds
that call each of them once on the same photograph (cycling through the three, and through
every order of the contenders), and the medians are compared: corruptgen, the reference
(compute only, via the test-side shim in tests/reference.py), with ``--before`` an older corruptgen installed from git
into a temporary folder and imported under another name, and for pixelate and jpeg_compression
their floors: Pillow's bare resize pair (BOX down, NEAREST up, on a Pillow image) and OpenCV's
bare JPEG encode + decode (on a BGR array). Timing them side by side, rather than one after the
other, keeps a drift of the machine's speed from deciding a ratio. The ImageNet-C unit of work
(15 benchmark corruptions x 5 severities, one call each) is timed whole for all three, in three
rounds (one per photograph): corruptgen's as the mean of four units run back to back, as a
build or data-loader worker runs them, the reference's (seconds long) once.

Each thread setting runs in its own process: ``one`` sets NUMBA_NUM_THREADS=1 and
``cv2.setNumThreads(1)`` (a data-loader or build worker), ``default`` leaves both alone. Both
run with glibc's malloc thresholds fixed where a long-running process has them anyway (glibc
raises them after the first large array is freed): otherwise a cell timed first, or alone with
``--only``, pays page faults on every fresh array, the reference's float64 copies most (its
defocus_blur measured 2x slower alone than in a full run).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"224x224": (224, 224), "640x480": (480, 640)}
SETTINGS = ("one", "default")
UNIT_REPEAT = 4  # corruptgen's units per round


# ---------------------------------------------------------------- the measuring child process

def _rounds_ms(contenders: dict, images: list, budget_ms: float, most: int, first: dict | None = None,
               least: int = 1) -> dict:
    """Medians, per contender, over rounds in which every contender is called once on the same
    photograph (cycling through them), so that whatever the machine is doing at the time weighs
    on all of them alike. The rounds cycle through every order of the contenders: with a plain
    rotation the first contender runs straight after the last (the reference, whose float64
    copies leave the caches cold) in two rounds of three, which read as 5-25 % on kernels that
    had not changed between two corruptgen versions. ``contenders`` maps a name to ``(fn,
    prepared images)``. Each is warmed up on every photograph first, except those in ``first``
    (name -> ms of one call already made: slow ones, whose warm-up is that call); rounds fill
    about ``budget_ms``, at least ``least`` and at most ``most``; a contender timed once only (a
    reference call of seconds) keeps that call's time as a sample."""
    each = dict(first or {})
    for name, (fn, prepared) in contenders.items():
        if name in each:
            continue
        t0 = time.perf_counter()
        for image in prepared:
            fn(image)
        each[name] = (time.perf_counter() - t0) * 1000 / len(prepared)
    rounds = max(least, min(most, int(budget_ms / max(sum(each.values()), 1e-3))))
    times = {name: ([each[name]] if rounds < 3 and name in (first or {}) else []) for name in contenders}
    orders = list(itertools.permutations(contenders))
    for r in range(rounds):
        for name in orders[r % len(orders)]:
            fn, prepared = contenders[name]
            t0 = time.perf_counter()
            fn(prepared[r % len(prepared)])
            times[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


def _floor(name: str, severity: int, profile_table):
    """The bare codec work of pixelate / jpeg_compression at a severity, as a function of an RGB image."""
    import cv2
    from PIL import Image

    value = profile_table[name][severity - 1]
    if name == "pixelate":
        def resize_pair(pil):
            w, h = pil.size
            return pil.resize((int(w * value), int(h * value)), Image.BOX).resize((w, h), Image.NEAREST)
        return resize_pair, lambda rgb: Image.fromarray(rgb)

    def round_trip(bgr):
        return cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(value)])[1], cv2.IMREAD_COLOR)
    return round_trip, lambda rgb: cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def measure(setting: str, quick: bool, before: str | None, only: list[str] | None = None) -> dict:
    import cv2

    if setting == "one":
        cv2.setNumThreads(1)
    from skimage import data

    sys.path.insert(0, str(ROOT / "tests"))
    from reference import load, reference_corrupt

    import corruptgen
    from corruptgen.corruptions import IMAGECORRUPTIONS, REGISTRY

    old = __import__(before) if before else None
    load()
    budget, most = (400.0, 40) if quick else (1500.0, 200)
    bench = corruptgen.list_corruptions("benchmark")
    tables = {name: REGISTRY[name].tables["imagenet"] for name in ("pixelate", "jpeg_compression")}
    photos = [data.astronaut(), data.chelsea(), data.coffee()]
    result = {"setting": setting, "threads": {"numba": os.environ.get("NUMBA_NUM_THREADS", "default"),
                                              "opencv": cv2.getNumThreads()}, "sizes": {}}  # fmt: skip
    for label, (h, w) in SIZES.items():
        images = [cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) for p in photos]
        cells = {}
        for name in only or IMAGECORRUPTIONS:
            rows = []
            for s in range(1, 6):
                contenders = {"ours": (lambda im, n=name, s=s: corruptgen.corrupt(im, n, s, seed=0), images)}
                if old is not None:
                    contenders["before"] = (lambda im, n=name, s=s: old.corrupt(im, n, s, seed=0), images)
                if name in tables:  # the codec's bare floor
                    work, prepare = _floor(name, s, tables)
                    contenders["floor"] = (work, [prepare(im) for im in images])
                reference = lambda im, n=name, s=s: reference_corrupt(im, n, s, seed=0)  # noqa: E731
                contenders["reference"] = (reference, images)
                t0 = time.perf_counter()
                reference(images[0])  # its warm-up, timed: some calls take seconds
                rows.append(_rounds_ms(contenders, images, budget, most, {"reference": (time.perf_counter() - t0) * 1000}))
            cells[name] = rows
            print(f"  [{setting}] {label} {name:18s} ref {sum(r['reference'] for r in rows):9.1f} ms  "
                  f"ours {sum(r['ours'] for r in rows):7.2f} ms", file=sys.stderr, flush=True)  # fmt: skip

        if only:  # a subset: its cells, no unit
            result["sizes"][label] = {"cells": cells}
            continue

        def unit(corrupt, repeat=1):
            return lambda im: [corrupt(im, n, s, seed=0) for _ in range(repeat) for n in bench for s in range(1, 6)]

        # The unit timed whole for all three, in three rounds (one per photograph). corruptgen's
        # runs UNIT_REPEAT units back to back per round, as a build or data-loader worker does
        # (the first after seconds of the reference starts with cold caches); the reference's,
        # seconds long, runs once.
        contenders = {"ours": (unit(corruptgen.corrupt, UNIT_REPEAT), images)}
        if old is not None:
            contenders["before"] = (unit(old.corrupt, UNIT_REPEAT), images)
        contenders["reference"] = (unit(reference_corrupt), images)
        t0 = time.perf_counter()
        contenders["reference"][0](images[0])
        units = _rounds_ms(contenders, images, 0.0, 3, {"reference": (time.perf_counter() - t0) * 1000}, least=3)
        for name in ("ours", "before"):
            if name in units:
                units[name] /= UNIT_REPEAT
        units["reference cells"] = sum(r["reference"] for n in bench for r in cells[n])
        result["sizes"][label] = {"cells": cells, "unit": units}
    return result


# ---------------------------------------------------------------- the parent: children, tables, doc

def install_before(rev: str, folder: Path) -> str:
    """Install corruptgen at git revision ``rev`` into ``folder`` as the package ``corruptgen_before``."""
    source = folder / "src"
    source.mkdir()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    target = folder / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True)  # fmt: skip
    package = target / "corruptgen_before"
    (target / "corruptgen").rename(package)
    for path in package.rglob("*.py"):  # its own absolute imports now name the renamed package
        text = path.read_text()
        path.write_text(re.sub(r"\bcorruptgen(?=[.\s]|$)", "corruptgen_before", text, flags=re.M))
    return str(target)


def run_child(setting: str, quick: bool, before_path: str | None, only: list[str] | None = None) -> dict:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(32 << 20), MALLOC_TRIM_THRESHOLD_=str(64 << 20))
    if setting == "one":
        env["NUMBA_NUM_THREADS"] = "1"
    if before_path:
        env["PYTHONPATH"] = before_path + os.pathsep + env.get("PYTHONPATH", "")
    args = [sys.executable, __file__, "--child", setting] + (["--quick"] if quick else []) \
        + (["--before-module", "corruptgen_before"] if before_path else []) \
        + (["--only", ",".join(only)] if only else [])  # fmt: skip
    out = subprocess.run(args, env=env, capture_output=False, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(out.stdout)


def ratio(x: float) -> str:
    return f"{x:.1f}x" if x < 10 else f"{x:.0f}x"


def table(size: dict, before: str | None) -> str:
    head = "| corruption | reference ms (s1-5) |" + (f" {before} ms |" if before else "") + \
        " corruptgen ms | ratio |" + (f" {before} ratio |" if before else "") + " slowest severity | bar |"  # fmt: skip
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, rows in size["cells"].items():
        ref = sum(r["reference"] for r in rows)
        ours = sum(r["ours"] for r in rows)
        worst = min(r["reference"] / r["ours"] for r in rows)
        if "floor" in rows[0]:
            over = max(r["ours"] / r["floor"] for r in rows)
            bar = f"{over:.2f}x floor ({'met' if over <= 1.2 else 'not met'})"
        else:
            bar = "met" if worst >= 3 else "**not met**"
        cols = [name, f"{ref:.1f}"]
        if before:
            cols.append(f"{sum(r['before'] for r in rows):.2f}")
        cols += [f"{ours:.2f}", ratio(ref / ours)]
        if before:
            cols.append(ratio(ref / sum(r["before"] for r in rows)))
        cols += [ratio(worst), bar]
        lines.append("| " + " | ".join(cols) + " |")
    return "\n".join(lines)


def document(results: list[dict], before: str | None) -> str:
    sys.path.insert(0, str(ROOT / "scripts"))
    from _benchdoc import machine

    out = ["## Corruption kernels (`scripts/bench_kernels.py`)", "",
           f"Machine: {machine()}. Photographs: scikit-image's astronaut, chelsea and coffee, resized to "
           "224x224 and 640x480; medians of calls cycling through them. Reference: imagecorruptions 1.1.2 "
           "(compute only), timed in the same process, cell by cell"
           + (f"; `{before}`: corruptgen at that revision, installed from git and timed the same way."
              if before else ".")]  # fmt: skip
    out.append("")
    if all("unit" in size for res in results for size in res["sizes"].values()):  # not with --only
        out.append("| threads | size | ImageNet-C unit, corruptgen ms | reference ms | ratio |"
                   + (f" {before} ms | {before} ratio |" if before else "") + " reference, sum of its cells ms |")  # fmt: skip
        out.append("|---|---|---:|---:|---:|" + ("---:|---:|" if before else "") + "---:|")
        for res in results:
            for label, size in res["sizes"].items():
                u = size["unit"]
                row = f"| {res['setting']} | {label} | {u['ours']:.1f} | {u['reference']:.0f} | **{ratio(u['reference'] / u['ours'])}** |"
                if before:
                    row += f" {u['before']:.1f} | {ratio(u['reference'] / u['before'])} |"
                out.append(row + f" {u['reference cells']:.0f} |")
    opencv = ", ".join(f"{r['setting']}: OpenCV {r['threads']['opencv']} threads" for r in results)
    out += ["", f"`one`: NUMBA_NUM_THREADS=1 and cv2.setNumThreads(1); `default`: neither set ({opencv}). "
            "Bar: at least 3x the reference at every severity; pixelate and jpeg_compression within 1.2x of "
            "their floor (Pillow's bare resize pair; OpenCV's bare encode + decode) at every severity."]  # fmt: skip
    for res in results:
        for label, size in res["sizes"].items():
            out += ["", f"#### {label}, threads: {res['setting']}", "", table(size, before)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; print, do not write docs")
    parser.add_argument("--threads", choices=(*SETTINGS, "both"), default="both")
    parser.add_argument("--before", metavar="REV", help="also time corruptgen at this git revision")
    parser.add_argument("--json", metavar="PATH", help="also write every cell's timings there")
    parser.add_argument("--only", metavar="NAMES", help="comma-separated corruptions: their cells only, printed, no unit, no doc")
    parser.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    parser.add_argument("--before-module", help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    if only:
        from corruptgen.corruptions import IMAGECORRUPTIONS

        unknown = sorted(set(only) - set(IMAGECORRUPTIONS))
        if unknown:
            parser.error(f"--only: {', '.join(unknown)} not among the reference's corruptions ({', '.join(IMAGECORRUPTIONS)}).")
    if args.child:
        print(json.dumps(measure(args.child, args.quick, args.before_module, only)))
        return
    settings = SETTINGS if args.threads == "both" else (args.threads,)
    with tempfile.TemporaryDirectory() as folder:
        before_path = install_before(args.before, Path(folder)) if args.before else None
        results = [run_child(s, args.quick, before_path, only) for s in settings]
    body = document(results, args.before)
    print("\n" + body)
    if not args.quick and not only:
        sys.path.insert(0, str(ROOT / "scripts"))
        from _benchdoc import write_section

        write_section("bench_kernels", body)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
