"""CIFAR-10-C end to end: a corruptgen build of 32 px images against the reference's unit, same run.

    python scripts/bench_cifar_c.py                 # writes the cifar-c section of docs/benchmarks.md
    python scripts/bench_cifar_c.py --images 10000  # the whole test split (950,000 outputs)

A CIFAR batch of ``--images`` real-photograph tiles (32 x 32 windows of scikit-image's photographs) is
built as CIFAR-10-C (the cifar profile, 19 corruptions x 5 severities, every core) and timed from the
command's start to its end; the reference, imagecorruptions 1.1.2 (``tests/reference.py``; its
ImageNet tables at 32 px: the same algorithms as Hendrycks' ``make_cifar_c.py``, whose tables are not
in a package), runs the same 95 outputs per image on one core over ``--reference-images`` of them.
Both are projected to the 10,000-image test split on this machine's cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

from _benchdoc import machine, publish  # noqa: E402
from fixtures import cifar_images, make_cifar  # noqa: E402
from reference import reference_corrupt  # noqa: E402

from corruptgen.corruptions import IMAGECORRUPTIONS  # noqa: E402

TEST_SPLIT = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000, help="images in the built batch")
    parser.add_argument("--reference-images", type=int, default=40)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        src = make_cifar(Path(tmp), n_test=args.images, n_train=5, archive=True)
        out = Path(tmp) / "CIFAR-10-C"
        started = time.perf_counter()
        subprocess.run(["corruptgen", "build", "cifar10", "--src", str(src), "--out", str(out), "--quiet"], check=True)
        ours_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in out.glob("*.npy"))
    print(f"corruptgen: {args.images} images x 95 outputs in {ours_s:.1f} s ({cores} cores)", flush=True)
    images = cifar_images(args.reference_images, seed=5)
    started = time.perf_counter()
    for i, image in enumerate(images):
        for name in IMAGECORRUPTIONS:
            for severity in range(1, 6):
                reference_corrupt(image, name, severity, seed=i)
    ref_image_s = (time.perf_counter() - started) / len(images)
    print(f"reference: {ref_image_s * 1000:.0f} ms per image (95 outputs, one core)", flush=True)
    ours_full = ours_s * TEST_SPLIT / args.images
    ref_full = ref_image_s * TEST_SPLIT / cores
    lines = [
        "## CIFAR-10-C (`scripts/bench_cifar_c.py`)",
        "",
        f"Machine: {machine()}. `corruptgen build cifar10` of {args.images:,} real-photograph tiles (the cifar "
        f"profile's 19 corruptions x 5 severities, {cores} workers), timed as a command from start to end; the "
        f"reference (imagecorruptions 1.1.2 at 32 px, the same 95 outputs an image) on {len(images)} of them, one core.",
        "",
        "| | per image, one core | CIFAR-10-C test split (950,000 outputs) on this machine |",
        "|---|---:|---:|",
        f"| corruptgen (measured: {args.images:,} images in {ours_s:.1f} s) | {ours_s * cores / args.images * 1000:.1f} ms "
        f"| {ours_full / 60:.1f} min |",
        f"| reference, imagecorruptions 1.1.2 | {ref_image_s * 1000:.0f} ms | {ref_full / 60:.0f} min (projected to "
        f"{cores} cores) |",
        "",
        f"Ratio: **{ref_full / ours_full:.0f}x** on the whole build (the reference's time is its corruptions alone: "
        f"no decoding, no writing). The arrays take {size / args.images * TEST_SPLIT / 1e9:.1f} GB for the test split.",
    ]
    publish("cifar-c", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
