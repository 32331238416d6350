"""Named models against the hardware: ``corruptgen classify --model timm:NAME`` against the model alone, and
with test-time adaptation (``--adapt tent``) against without.

    python scripts/bench_models.py [--model timm:resnet18] [--images 192]   # writes the models section of docs/benchmarks.md

A folder of ImageNet-sized JPEGs (375 x 500, under real wnids) is classified by a named model with seeded
random weights (``--weights none``: nothing downloads), timed as a command from start to end, against the same
predictor (the library's preprocessing and the model) over the same images already decoded in memory, in
batches of ``--batch-size``: the runner's share of the time is what the ratio leaves.
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
from skimage import data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from _benchdoc import machine, publish  # noqa: E402

from corruptgen.datasets import make_adapter  # noqa: E402
from corruptgen.labels import imagenet_classes  # noqa: E402
from corruptgen.models import load_model  # noqa: E402


def make_source(root: Path, n: int) -> None:
    wnids = imagenet_classes()[0]
    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    for i in range(n):
        folder = root / "val" / wnids[i % 10]
        folder.mkdir(parents=True, exist_ok=True)
        image = cv2.resize(photos[i % len(photos)], (500, 375), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f"ILSVRC2012_val_{i:08d}.JPEG"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="timm:resnet18")
    parser.add_argument("--images", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_source(tmp / "imagenet", args.images)
        adapter = make_adapter("imagenet", tmp / "imagenet", classes_of="imagenet-1k")
        images = [adapter.load(s)[0] for s in adapter.samples()]
        predict = load_model(args.model, weights="none")
        predict(images[: args.batch_size])  # warm-up
        started = time.perf_counter()
        for i in range(0, len(images), args.batch_size):
            predict(images[i : i + args.batch_size])
        alone = len(images) / (time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "corruptgen", "classify", "imagenet", "--src", str(tmp / "imagenet"),
                        "--classes-of", "imagenet-1k", "--model", args.model, "--weights", "none", "--results",
                        str(tmp / "runs"), "--batch-size", str(args.batch_size), "--quiet"], check=True)  # fmt: skip
        command = len(images) / (time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "corruptgen", "classify", "imagenet", "--src", str(tmp / "imagenet"),
                        "--classes-of", "imagenet-1k", "--model", args.model, "--weights", "none", "--results",
                        str(tmp / "runs-tent"), "--batch-size", str(args.batch_size), "--adapt", "tent", "--quiet"],
                       check=True)  # fmt: skip
        tent = len(images) / (time.perf_counter() - started)
    lines = [
        "## Named models (`scripts/bench_models.py`)",
        "",
        f"Machine: {machine()}; device {predict.device}, {os.cpu_count()} cores. `{args.model}` with seeded random "
        f"weights over {args.images} ImageNet-sized JPEGs, batches of {args.batch_size}; the command timed from start "
        "to end (its start-up and the model's loading included), the model alone on the same images decoded in "
        "memory (its library's preprocessing included).",
        "",
        "| | images/s |",
        "|---|---:|",
        f"| the model alone (preprocessing + forward) | {alone:,.1f} |",
        f"| `corruptgen classify imagenet --classes-of imagenet-1k --model {args.model}` | {command:,.1f} |",
        f"| ratio | {command / alone:.2f} |",
        f"| the same command with `--adapt tent` (a forward and a backward per batch) | {tent:,.1f} |",
        f"| tent / source | {tent / command:.2f} |",
    ]
    publish("models", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
