"""Waterbirds generation: the reference's own loop (group DRO's ``generate_waterbirds.py`` body and
``dataset_utils.py``, transcribed in ``tests/waterbirds_reference.py`` with LANCZOS for ANTIALIAS) against
``corruptgen build waterbirds`` with 1 and N workers, on the same generated sources, in one run.

    python scripts/bench_waterbirds.py [--images 240] [--no-write]   # writes the waterbirds section of docs/benchmarks.md

The sources are CUB-sized (birds 500 x 375 and 375 x 500, soft segmentation masks) and Places-sized (backgrounds
512 x 512 to 683 x 512), made from scikit-image's photographs (``tests/test_waterbirds.make_cub`` layout). The
reference is timed as its loop runs: every image composited and saved in one process; ours as the command, start-up
included. Both write the same bytes (the tests check every image).
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

from _benchdoc import machine, publish  # noqa: E402
from fixtures import photo  # noqa: E402
from waterbirds_reference import reference_composite  # noqa: E402

from corruptgen.datasets.waterbirds import PLACES  # noqa: E402

SPECIES = ["001.Black_footed_Albatross", "050.Eared_Grebe", "149.Eastern_Towhee", "073.Blue_Jay"]


def make_sources(root: Path, images: int) -> tuple[Path, Path]:
    cub = root / "cub" / "CUB_200_2011"
    lines, splits = [], []
    for n in range(1, images + 1):
        species = SPECIES[n % len(SPECIES)]
        name = f"{species}/{species.split('.')[1]}_{n:04d}.jpg"
        height, width = (375, 500) if n % 3 else (500, 375)
        path = cub / "images" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo(n, height, width)).save(path, quality=90)
        yy, xx = np.mgrid[:height, :width]
        r = ((yy - height / 2) / (height / 3)) ** 2 + ((xx - width / 2) / (width / 3)) ** 2
        seg = root / "cub" / "segmentations" / name.replace(".jpg", ".png")
        seg.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((np.clip(1.5 - r, 0, 1) * 255).astype(np.uint8)).save(seg)
        lines.append(f"{n} {name}")
        splits.append(f"{n} {n % 2}")
    (cub / "images.txt").write_text("\n".join(lines) + "\n")
    (cub / "train_test_split.txt").write_text("\n".join(splits) + "\n")
    places = root / "places365"
    for categories in PLACES:
        for category in categories:
            folder = places / "data_large" / category[0] / category
            folder.mkdir(parents=True)
            for i in range(images):
                Image.fromarray(photo(i + 1, 512, 512 + 57 * (i % 4))).save(folder / f"{i:08d}.jpg", quality=90)
    return cub, places


def command(cub: Path, places: Path, out: Path, workers: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "corruptgen", "build", "waterbirds", "--src", str(cub), "--places", str(places),
                    "--out", str(out), "--workers", str(workers), "--quiet"], check=True)  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=240)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cub, places = make_sources(root, args.images)
        one = command(cub, places, root / "one", 1)
        many = command(cub, places, root / "many", args.workers)
        rows = list(csv.DictReader((root / "one" / "metadata.csv").open()))
        start = time.perf_counter()
        for row in rows:  # the reference's loop: composite, then Image.save (Pillow's JPEG defaults)
            buffer = io.BytesIO()
            Image.fromarray(reference_composite(cub, places, row)).save(buffer, format="JPEG")
        reference = time.perf_counter() - start
        same = all((root / "many" / r["img_filename"]).read_bytes() == (root / "one" / r["img_filename"]).read_bytes()
                   for r in rows)  # fmt: skip
    n = len(rows)
    publish("waterbirds", [
        "## Waterbirds generation (`scripts/bench_waterbirds.py`)", "",
        f"Host: {machine()}. {n} CUB-sized birds (500 x 375) on Places-sized backgrounds (512 x 512 to 683 x 512).", "",
        "| run | seconds | images/s | vs the reference's loop |", "|---|---|---|---|",
        f"| reference loop (one process, no start-up) | {reference:.1f} | {n / reference:.1f} | 1.00x |",
        f"| `build waterbirds --workers 1` (command, start-up included) | {one:.1f} | {n / one:.1f} | {reference / one:.2f}x |",
        f"| `build waterbirds --workers {args.workers}` | {many:.1f} | {n / many:.1f} | {reference / many:.2f}x |", "",
        f"1 -> {args.workers} workers: {one / many:.2f}x; the same bytes for both: {same}. The composite is the "
        "reference's own arithmetic (NumPy, Pillow's LANCZOS and JPEG encoder), so one worker runs at the reference's "
        "pace; the gain is the workers and the resume.",
    ], write=not args.no_write)  # fmt: skip


if __name__ == "__main__":
    main()
