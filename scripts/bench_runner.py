"""The runners against the hardware: a built tree and on the fly, beside what the work itself costs.

    python scripts/bench_runner.py [--images 300]    # writes the runner section of docs/benchmarks.md

An ImageNet-style source (ImageNet-sized JPEGs, 375 x 500 and 500 x 375, in class folders) is built
as ImageNet-C (Resize(256) + CenterCrop(224), JPEG q85) for the benchmark's 15 corruptions x 5
severities. Measured in one run, with a stand-in classifier (cheap: the runner's own cost shows):

- the model alone on in-memory batches;
- one core's decode rate: the built outputs read back and decoded in one process, as a worker does;
- the loader alone with every core, as threads (the runner's) and as a process pool;
- ``corruptgen classify`` on the built tree, every core loading (target: >= 0.8 x cores x one core's
  decode rate);
- the build's own rate (``corruptgen build``, every core), and ``corruptgen classify --on-the-fly``,
  each source decoded once and corrupted for the 75 cells in the workers (target: >= 0.8 x the build's
  outputs/s);
- scaling: both ``classify`` runs again with ``--workers 1``, and the ratio (on the fly the workers are
  processes, target >= 0.9 x cores; on a built tree threads).

With a GPU and ``--resnet``, the same for a torchvision ResNet-50 in bf16 (random weights).
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
sys.path.insert(0, str(ROOT / "scripts"))

from _benchdoc import machine, publish  # noqa: E402

from corruptgen.evaluate import Tree  # noqa: E402
from corruptgen.evaluate.loader import Loader, Unit  # noqa: E402
from corruptgen.evaluate.runner import UNIT_IMAGES  # noqa: E402

MODEL_FILE = '''
import numpy as np


def load():
    """The image's mean level: its answer depends on every pixel, its cost is a small part of a decode."""

    def predict(batch):
        return batch.reshape(len(batch), -1).mean(axis=1).astype(np.int64) % 1000

    predict.batch_format = "numpy"
    return predict
'''


def make_source(root: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket(), data.hubble_deep_field()]
    for i in range(n):
        photo = photos[i % len(photos)]
        size = (375, 500) if i % 3 else (500, 375)
        y, x = rng.integers(0, max(1, photo.shape[0] - 300)), rng.integers(0, max(1, photo.shape[1] - 300))
        image = cv2.resize(photo[y : y + 300, x : x + 300], size[::-1], interpolation=cv2.INTER_CUBIC)
        folder = root / "val" / f"n{i % 8:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"ILSVRC2012_val_{i:08d}.JPEG"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])  # fmt: skip


def timed(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["corruptgen", *args, "--quiet"], check=True, cwd=cwd)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=384)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_source(tmp / "imagenet", args.images)
        (tmp / "standin_model.py").write_text(MODEL_FILE)
        build_s = timed(["build", "imagenet", "--src", str(tmp / "imagenet"), "--out", str(tmp / "imagenet-c")], tmp)
        outputs = args.images * 75
        tree = Tree.open(tmp / "imagenet-c")
        samples, cells = tree.samples(), [None, *tree.select(None, None)]
        few = samples[: max(1, len(samples) // 6)]  # every cell (noisy JPEGs decode slower than clean ones)
        rows = {cell: tree.rows_for(cell, few) for cell in cells}
        started = time.perf_counter()
        images = [tree.load(sample, (cell,), (row,))[0][0] for cell in cells for sample, row in zip(few, rows[cell])]
        decode_rate = len(images) / (time.perf_counter() - started)
        step = UNIT_IMAGES  # the runner's units: runs of one cell's images
        units = [Unit(tuple(few[i : i + step]), (cell,), tuple((row,) for row in rows[cell][i : i + step]))
                 for cell in cells for i in range(0, len(few), step)]  # fmt: skip
        loader_rates = {}
        for processes in (False, True):
            started = time.perf_counter()
            with Loader(tree, cores, processes=processes) as loader:
                for _ in loader.map(units):
                    pass
            loader_rates[processes] = len(cells) * len(few) / (time.perf_counter() - started)
        sys.path.insert(0, str(tmp))
        import standin_model

        predict = standin_model.load()
        batches = [np.stack(images[i : i + args.batch_size]) for i in range(0, len(images), args.batch_size)]
        started = time.perf_counter()
        for batch in batches:
            predict(batch)
        model_rate = len(images) / (time.perf_counter() - started)
        run = ["--model", "standin_model:load", "--batch-size", str(args.batch_size)]
        built_s = timed(["classify", str(tmp / "imagenet-c"), *run, "--results", str(tmp / "built")], tmp)
        fly_s = timed(["classify", "imagenet", "--on-the-fly", "--src", str(tmp / "imagenet"), *run,
                       "--results", str(tmp / "fly")], tmp)  # fmt: skip
        built_1 = timed(["classify", str(tmp / "imagenet-c"), *run, "--results", str(tmp / "built-1"), "--workers", "1"], tmp)
        fly_1 = timed(["classify", "imagenet", "--on-the-fly", "--src", str(tmp / "imagenet"), *run,
                       "--results", str(tmp / "fly-1"), "--workers", "1"], tmp)  # fmt: skip
        same = all((tmp / "fly" / p.relative_to(tmp / "fly-1")).read_bytes() == p.read_bytes()
                   for p in (tmp / "fly-1").rglob("*.json") if p.name not in ("run.json",))  # fmt: skip
    fed = args.images * 76  # the clean source and the 75 cells
    built_rate, fly_rate, build_rate = fed / built_s, fed / fly_s, outputs / build_s
    lines = [
        "## Runners (`scripts/bench_runner.py`)",
        "",
        f"Machine: {machine()}. {args.images} ImageNet-sized JPEGs built as ImageNet-C (15 x 5, 224 px, q85); a stand-in "
        f"classifier (each image's mean level, on one stacked uint8 batch of {args.batch_size}); every rate counts the "
        f"images the model received (the clean source and 75 cells: {fed:,}), timed as commands from start to end "
        "(worker start-up included).",
        "",
        "| | images/s | target | |",
        "|---|---:|---:|---|",
        f"| the model alone, in-memory batches | {model_rate:,.0f} | | |",
        f"| one core decoding built outputs (every cell) | {decode_rate:,.0f} | | |",
        f"| the loader alone, {cores} threads (the runner's) | {loader_rates[False]:,.0f} | | "
        f"{loader_rates[False] / loader_rates[True]:.2f}x the process pool's |",
        f"| the loader alone, {cores} processes | {loader_rates[True]:,.0f} | | |",
        f"| `classify` on the built tree, {cores} workers | {built_rate:,.0f} | >= {0.8 * cores * decode_rate:,.0f} "
        f"(0.8 x {cores} x one core) | {built_rate / (cores * decode_rate):.2f}x of {cores} cores' decoding |",
        f"| `build`, {cores} workers (outputs/s) | {build_rate:,.0f} | | |",
        f"| `classify --on-the-fly`, {cores} workers | {fly_rate:,.0f} | >= {0.8 * build_rate:,.0f} (0.8 x the build) | "
        f"{fly_rate / build_rate:.2f}x of the build |",
        "",
        f"Scaling, the same commands with `--workers 1` (on the fly the workers are processes, each image handed back "
        f"through shared memory; on a built tree threads); results files identical for 1 and {cores} workers: {same}.",
        "",
        f"| | 1 worker (s) | {cores} workers (s) | speed-up | target |",
        "|---|---:|---:|---:|---:|",
        f"| `classify --on-the-fly` | {fly_1:.1f} | {fly_s:.1f} | {fly_1 / fly_s:.2f}x | >= {0.9 * cores:.1f}x |",
        f"| `classify` on the built tree | {built_1:.1f} | {built_s:.1f} | {built_1 / built_s:.2f}x | |",
    ]
    publish("runner", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
