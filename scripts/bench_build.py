"""End-to-end build throughput against the codec floor.

    python scripts/bench_build.py [--images 48]    # writes the build section of docs/benchmarks.md

Generates an ImageNet-style source (224x224 JPEGs in class folders, cut from scikit-image's
photographs), builds the 15 benchmark corruptions x 5 severities (75 JPEG outputs per image,
quality 85) with 1 and 2 workers, and compares with the codec floor: decoding each image once
and encoding it 75 times with the same codec (OpenCV's JPEG), the least any build must do.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchdoc import machine, write_section  # noqa: E402

from corruptgen import list_corruptions  # noqa: E402
from corruptgen.build.engine import BuildOptions, run_build  # noqa: E402
from corruptgen.datasets import BuildSettings  # noqa: E402
from corruptgen.datasets.imagenet import ImageNetAdapter  # noqa: E402


def make_source(root: Path, n: int) -> list[Path]:
    rng = np.random.default_rng(0)
    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    paths = []
    for i in range(n):
        photo = photos[i % len(photos)]
        y, x = rng.integers(0, photo.shape[0] - 224), rng.integers(0, photo.shape[1] - 224)
        folder = root / "val" / f"n{i % 4:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"img_{i:05d}.JPEG"
        cv2.imwrite(str(path), cv2.cvtColor(photo[y : y + 224, x : x + 224], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def codec_floor(paths: list[Path], outputs: int) -> float:
    """Seconds per image: decode once, encode ``outputs`` times (OpenCV JPEG q85)."""
    t0 = time.perf_counter()
    for path in paths:
        pixels = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
        for _ in range(outputs):
            cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return (time.perf_counter() - t0) / len(paths)


def timed_build(src: Path, out: Path, workers: int, shard_size: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    adapter = ImageNetAdapter(src=src, settings=BuildSettings(jpeg_quality=85), preprocess=False)
    options = BuildOptions(corruptions=list_corruptions(), severities=[1, 2, 3, 4, 5], workers=workers, shard_size=shard_size)
    t0 = time.perf_counter()
    report = run_build(adapter, out, options)
    seconds = time.perf_counter() - t0
    assert report.failed == 0 and report.written == report.outputs
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        paths = make_source(src, args.images)
        floor = codec_floor(paths, 75)
        timed_build(src, Path(tmp) / "warm", 1, 8)  # compile / load Numba's cache once
        shard = max(1, args.images // 8)
        one = timed_build(src, Path(tmp) / "one", 1, shard)
        two = timed_build(src, Path(tmp) / "two", 2, shard)
    n = args.images
    lines = [
        "## End-to-end build (`scripts/bench_build.py`)",
        "",
        f"Machine: {machine()}. Source: {n} generated 224x224 JPEGs in ImageNet class folders; build: 15 benchmark "
        "corruptions x 5 severities = 75 JPEG (q85) outputs per image, written with manifests "
        f"(shard size {shard}); timings include process start-up of the workers.",
        "",
        "| run | seconds | images/s | outputs/s | ms per image | x codec floor |",
        "|---|---:|---:|---:|---:|---:|",
        f"| codec floor (1 decode + 75 encodes, OpenCV) | {floor * n:.2f} | {1 / floor:.1f} | {75 / floor:.0f} | {floor * 1000:.1f} | 1.0 |",
        f"| build, 1 worker | {one:.2f} | {n / one:.1f} | {75 * n / one:.0f} | {one / n * 1000:.1f} | {one / n / floor:.1f} |",
        f"| build, 2 workers | {two:.2f} | {n / two:.1f} | {75 * n / two:.0f} | {two / n * 1000:.1f} | {two / n / floor:.1f} |",
        "",
        f"2 workers / 1 worker throughput: **{one / two:.2f}x**.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("bench_build", body)


if __name__ == "__main__":
    main()
