"""End-to-end build throughput on ImageNet-sized sources, with each stage's floor and the projected
time of ImageNet-C's validation set on this machine.

    python scripts/bench_build.py [--images 96] [--scale 4] [--no-write]   # writes the build section of docs/benchmarks.md

Source: generated ImageNet-sized JPEGs (375 x 500 and 500 x 375, quality 90, cut from scikit-image's
photographs) in class folders. Build: what users run, ``corruptgen build imagenet`` with its defaults
(Resize(256) + CenterCrop(224), the 15 benchmark corruptions x 5 severities, 75 JPEG q85 outputs per
image), as a folder tree and as WebDataset shards, with 1 and 2 workers, each at ``--images`` and
``--scale`` times as many images: the difference gives the time per image once running (the slope)
apart from the start-up (the intercept: worker processes, imports, the output tree's folders).
``--before PYTHON`` times another installation's builds beside (an earlier release: where the
time went before). Stages, timed in this process, warm (its first image discarded), the way one worker runs them: decode
+ resize, the 75 corruptions (``corrupt_sample``), the 75 encodes, the 75 file writes
(``atomic_write``), hashing and manifest rows. Their sum is the floor a build cannot go under on one
core. Projection: the intercept plus 50,000 times the 2-worker slope.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchdoc import machine, publish  # noqa: E402

from corruptgen import list_corruptions  # noqa: E402
from corruptgen.datasets import BuildSettings  # noqa: E402
from corruptgen.datasets.base import encode_image  # noqa: E402
from corruptgen.datasets.imagenet import ImageNetAdapter  # noqa: E402
from corruptgen.files import atomic_write  # noqa: E402
from corruptgen.pipeline.recipe import corrupt_sample  # noqa: E402

VAL = 50_000


def make_source(root: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    for i in range(n):
        photo = photos[i % len(photos)]
        h, w = (375, 500) if i % 2 == 0 else (500, 375)
        big = cv2.resize(photo, (max(w, photo.shape[1]), max(h, photo.shape[0])), interpolation=cv2.INTER_AREA)
        y, x = int(rng.integers(0, big.shape[0] - h + 1)), int(rng.integers(0, big.shape[1] - w + 1))
        folder = root / "val" / f"n{i % 4:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"ILSVRC2012_val_{i:08d}.JPEG"), cv2.cvtColor(big[y : y + h, x : x + w], cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])  # fmt: skip


def adapter(src: Path) -> ImageNetAdapter:
    return ImageNetAdapter(src=src, settings=BuildSettings(jpeg_quality=85), preprocess=True)


def stages(src: Path, scratch: Path) -> dict[str, float]:
    """Milliseconds per source image of each stage, one process, the first image discarded (warm-up)."""
    source = adapter(src)
    samples = source.samples()
    names = list_corruptions()
    totals = dict.fromkeys(("decode + resize", "75 corruptions", "75 encodes", "75 file writes", "hashing + rows"), 0.0)
    for i, sample in enumerate(samples):
        t0 = time.perf_counter()
        pixels, _ = source.load(sample)
        t1 = time.perf_counter()
        outputs = [corrupt_sample(pixels, "imagenet", sample.key, c, s, 0, "imagenet") for c in names for s in range(1, 6)]
        t2 = time.perf_counter()
        encoded = [encode_image(o, ".JPEG", 85) for o in outputs]
        t3 = time.perf_counter()
        for k, data_ in enumerate(encoded):
            atomic_write(scratch / f"{k // 5}" / f"{k % 5}" / sample.key, data_)
        t4 = time.perf_counter()
        rows = [json.dumps({"key": sample.key, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d), "status": "ok"},
                           sort_keys=True) for d in encoded]  # fmt: skip
        t5 = time.perf_counter()
        assert len(rows) == 75
        if i == 0:
            continue
        for name, seconds in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            totals[name] += seconds
    return {name: 1000 * seconds / (len(samples) - 1) for name, seconds in totals.items()}


def timed_build(src: Path, out: Path, workers: int, output_format: str, python: str = sys.executable) -> float:
    """The command users run, in its own process (so one worker is not slowed by this script's heap)."""
    shutil.rmtree(out, ignore_errors=True)
    os.sync()  # each run pays its own writes' flushing, not the previous one's
    command = [python, "-m", "corruptgen", "build", "imagenet", "--src", str(src), "--out", str(out),
               "--workers", str(workers), "--output-format", output_format, "--quiet"]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(command, check=True, cwd=out.parent)  # never a checkout, whose corruptgen/ -m would import
    seconds = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--scale", type=int, default=4, help="the larger source is this many times --images")
    parser.add_argument("--repeats", type=int, default=2, help="each build and the stages: the best of this many runs")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--before", help="another installation's python (an earlier release), its builds timed beside")
    parser.add_argument("--stages-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages_child:
        print(json.dumps(stages(*args.stages_child)))
        return
    small_n, large_n = args.images, args.images * args.scale
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        make_source(small, small_n)
        make_source(large, large_n)
        floors = []
        for k in range(args.repeats):  # each in a fresh process, as a worker runs them
            os.sync()
            child = [sys.executable, __file__, "--stages-child", str(small), str(Path(tmp) / f"scratch{k}")]
            floors.append(json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout))
        floor = {name: min(f[name] for f in floors) for name in floors[0]}
        # this machine's speed drifts from minute to minute: every build is the best of --repeats runs,
        # interleaved, so that the figures compare like with like
        best: dict = {}
        pythons = {"": sys.executable, **({"before": args.before} if args.before else {})}
        for python in pythons.values():  # each installation's Numba cache, once
            timed_build(small, Path(tmp) / "warm", 1, "folder", python)
        for _ in range(args.repeats):
            for output_format in ("folder", "webdataset"):
                for workers in (1, 2):
                    for n, src in ((small_n, small), (large_n, large)):
                        for label, python in pythons.items():
                            seconds = timed_build(src, Path(tmp) / "out", workers, output_format, python)
                            key = (label, output_format, workers, n)
                            best[key] = min(best.get(key, seconds), seconds)
        fits, before = {}, {}
        for label in pythons:
            for output_format in ("folder", "webdataset"):
                for workers in (1, 2):
                    a, b = best[label, output_format, workers, small_n], best[label, output_format, workers, large_n]
                    slope = (b - a) / (large_n - small_n)
                    (before if label else fits)[output_format, workers] = (slope, a - slope * small_n, a, b)
                    print(label or "now", output_format, workers, f"{1000 * slope:.1f} ms/image, start-up "
                          f"{a - slope * small_n:.2f} s", flush=True)  # fmt: skip
    total = sum(floor.values())
    lines = [
        "## End-to-end build (`scripts/bench_build.py`)",
        "",
        f"Machine: {machine()}. Source: generated ImageNet-sized JPEGs (375 x 500 and 500 x 375, q90) in class folders; "
        "`corruptgen build imagenet` with its defaults (Resize(256) + CenterCrop(224), 15 corruptions x 5 severities, 75 "
        f"JPEG q85 outputs per image). Each build ran on {small_n} and on {large_n} images (best of {args.repeats} "
        "interleaved runs, the file system synced before each): per image once running is the difference over the "
        "difference in images, start-up the rest.",
        "",
        f"Stages of one worker, in one process, warm (ms per source image, best of {args.repeats}):",
        "",
        "| stage | ms per image |",
        "|---|---:|",
        *(f"| {name} | {ms:.1f} |" for name, ms in floor.items()),
        f"| **floor: their sum** | **{total:.1f}** |",
        "",
        "| build | ms per image once running | start-up (s) | images/s | ImageNet-C val (50,000 images) projected |"
        + (" before: ms per image, start-up, projected |" if before else ""),
        "|---|---:|---:|---:|---:|" + ("---:|" if before else ""),
    ]
    for (output_format, workers), (slope, intercept, _, _) in fits.items():
        minutes = (intercept + VAL * slope) / 60
        extra = ""
        if before:
            old_slope, old_intercept, _, _ = before[output_format, workers]
            extra = f" {1000 * old_slope:.1f}, {old_intercept:.1f} s, {(old_intercept + VAL * old_slope) / 60:.1f} min |"
        lines.append(f"| {output_format}, {workers} worker{'s' if workers > 1 else ''} | {1000 * slope:.1f} | {intercept:.1f} | "
                     f"{1 / slope:.1f} | {'**' if workers == 2 else ''}{minutes:.1f} min{'**' if workers == 2 else ''} |{extra}")  # fmt: skip
    one = fits["folder", 1][0] * 1000
    lines += [
        "",
        f"One worker runs at {one / total:.2f}x the floor of its stages (folder tree); two workers give "
        f"{fits['folder', 1][0] / fits['folder', 2][0]:.2f}x one's throughput (folder) and "
        f"{fits['webdataset', 1][0] / fits['webdataset', 2][0]:.2f}x (WebDataset), i.e. "
        f"{2000 * fits['folder', 2][0]:.0f} ms per image per core. One worker builds in the command's own process, "
        "two in a pool of fresh ones; on this shared 2-core machine identical runs differ by up to 25 %, so compare "
        "figures of one run only.",
    ]
    publish("bench_build", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
