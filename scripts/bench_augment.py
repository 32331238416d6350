"""Training-time throughput: corruptgen.augment against imagecorruptions and albumentations 2.0.8.

    pip install ".[torch,albumentations]"
    python scripts/bench_augment.py            # writes the augmentation section of docs/benchmarks.md
    python scripts/bench_augment.py --quick    # fewer images and repeats, prints only

Three torch DataLoaders (2 workers, batch 16) over the same 224 x 224 real photographs, each
drawing one of the 15 benchmark corruptions at a severity 1-5 per image:
corruptgen's ``RandomCorruption``; imagecorruptions 1.1.2 (through the test-side shim that
makes it run on today's NumPy / scikit-image); and ``A.OneOf`` over albumentations' nearest
transforms (their own algorithms under similar names: GaussNoise, ShotNoise, SaltAndPepper,
Defocus, GlassBlur, MotionBlur, ZoomBlur, RandomSnow, RandomFog, RandomBrightnessContrast for
brightness and for contrast, ElasticTransform, Downscale, ImageCompression; frost has none).
Then, in this process on one thread, each corruption against its albumentations counterpart,
and the wrapper's overhead against calling ``corruptgen.corrupt`` with the same draws.
Workers and this process run single-threaded (OpenCV, Numba and torch at 1 thread), as data
loader workers should.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

import albumentations as A  # noqa: E402
import torch  # noqa: E402
from _benchdoc import machine, median_ms, write_section  # noqa: E402
from reference import reference_corrupt  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

import corruptgen  # noqa: E402
from corruptgen.augment import RandomCorruption  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina", "colorwheel")
BENCHMARK = corruptgen.list_corruptions("benchmark")


def photos(n: int) -> list[np.ndarray]:
    """``n`` real photographs, centre-cropped square and resized to 224 (area)."""
    out = []
    for i in range(n):
        img = getattr(data, PHOTOS[i % len(PHOTOS)])()[:, :, :3]
        side = min(img.shape[:2])
        top, left = (img.shape[0] - side) // 2 + (i // len(PHOTOS)) * 7 % 20, (img.shape[1] - side) // 2
        crop = img[top : top + side - 20, left : left + side - 20]
        out.append(np.ascontiguousarray(cv2.resize(crop, (224, 224), interpolation=cv2.INTER_AREA)))
    return out


def counterparts() -> dict[str, A.BasicTransform]:
    """albumentations 2.0.8's nearest transform per corruption, set to cover severities 1-5 where
    its parameters allow (p=1)."""
    return {
        "gaussian_noise": A.GaussNoise(std_range=(0.08, 0.38), p=1),
        "shot_noise": A.ShotNoise(scale_range=(0.1, 0.3), p=1),
        "impulse_noise": A.SaltAndPepper(amount=(0.03, 0.27), p=1),
        "defocus_blur": A.Defocus(radius=(3, 10), alias_blur=(0.1, 0.5), p=1),
        "glass_blur": A.GlassBlur(sigma=1.0, max_delta=2, iterations=2, p=1),
        "motion_blur": A.MotionBlur(blur_limit=(21, 41), p=1),
        "zoom_blur": A.ZoomBlur(max_factor=(1.11, 1.31), step_factor=(0.01, 0.03), p=1),
        "snow": A.RandomSnow(p=1),
        "fog": A.RandomFog(p=1),
        "brightness": A.RandomBrightnessContrast(brightness_limit=(0.1, 0.5), contrast_limit=0, p=1),
        "contrast": A.RandomBrightnessContrast(brightness_limit=0, contrast_limit=(-0.95, -0.6), p=1),
        "elastic_transform": A.ElasticTransform(p=1),
        "pixelate": A.Downscale(scale_range=(0.25, 0.6), p=1),
        "jpeg_compression": A.ImageCompression(quality_range=(7, 25), p=1),
        "spatter": A.Spatter(p=1),
    }


# Why a counterpart can be cheaper: what each albumentations transform computes instead.
DIFFERENCES = {
    "gaussian_noise": "the same idea; corruptgen draws float64 normals per pixel and truncates as the reference does",
    "defocus_blur": "the same disk + Gaussian filter; corruptgen filters in float32 as the reference",
    "zoom_blur": "the same idea; corruptgen averages every zoom of the reference's np.arange, with its crop arithmetic",
    "snow": "albumentations' 'bleach' brightens bright regions in HLS; corruptgen renders the reference's snow "
            "layer (noise, zoom, motion blur, blend)",
    "brightness": "albumentations adds a constant; corruptgen is the reference's exact HSV round trip",
    "contrast": "both are lookup tables; at 0.05-0.2 ms the call's fixed cost dominates",
    "pixelate": "albumentations resizes with OpenCV nearest both ways; corruptgen keeps the reference's PIL box "
                "down + nearest up",
    "jpeg_compression": "both are one OpenCV JPEG round trip",
    "impulse_noise": "both draw salt and pepper masks",
}


class Photos:
    """``n`` images cycling through the photographs, each through ``transform``."""

    def __init__(self, images, n, transform):
        self.images, self.n, self.transform = images, n, transform

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        return torch.from_numpy(np.array(self.transform(self.images[index % len(self.images)], index)))


OURS = RandomCorruption("benchmark", severity=(1, 5), seed=0)


def ours(image, index):
    return OURS.at(0, index)(image)


def reference(image, index):
    rng = np.random.default_rng(index)
    return reference_corrupt(image, BENCHMARK[int(rng.integers(15))], int(rng.integers(1, 6)), seed=index)


def albumentations_one_of(image, index, pipeline=[]):  # noqa: B006 (built once per worker)
    if not pipeline:
        parts = counterparts()
        pipeline.append(A.Compose([A.OneOf([parts[c] for c in BENCHMARK if c in parts], p=1)], seed=index))
    return pipeline[0](image=image)["image"]


def worker_init(_):
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def loader_rate(transform, images, n: int) -> float:
    loader = DataLoader(Photos(images, n, transform), batch_size=16, num_workers=2, worker_init_fn=worker_init,
                        multiprocessing_context="fork")  # fmt: skip
    t0 = time.perf_counter()
    count = sum(len(batch) for batch in loader)
    return count / (time.perf_counter() - t0)


def per_corruption(images, repeats: int) -> list[tuple[str, float, float]]:
    parts = counterparts()
    rows = []
    for name in [*BENCHMARK, "spatter"]:
        ours_ms = statistics.mean(
            median_ms(lambda s=s, im=im: corruptgen.corrupt(im, name, s, seed=1), repeats) for s in range(1, 6) for im in images[:2]
        )
        theirs = parts.get(name)
        their_ms = statistics.mean(median_ms(lambda im=im: theirs(image=im), repeats * 5) for im in images[:2]) if theirs else float("nan")
        rows.append((name, ours_ms, their_ms))
    return rows


def wrapper_overhead(images, rounds: int) -> tuple[float, float]:
    """The transform's whole call (drawing included) against corrupt() given the same draws."""
    sequence = [im for _ in range(rounds) for im in images]
    twin = RandomCorruption("benchmark", severity=(1, 5), seed=3)
    draws = [twin(im, return_params=True)[1] for im in sequence]  # what a fresh seed-3 transform will draw
    best_wrapped, best_direct = float("inf"), float("inf")
    for _ in range(5):  # interleaved, best of five: the machine's noise hits both alike
        t = RandomCorruption("benchmark", severity=(1, 5), seed=3)
        t0 = time.perf_counter()
        for im in sequence:
            t(im)
        best_wrapped = min(best_wrapped, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for im, p in zip(sequence, draws):
            corruptgen.corrupt(im, p["corruption"], p["severity"], seed=p["seed"])
        best_direct = min(best_direct, time.perf_counter() - t0)
    return best_wrapped, best_direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and repeats; print only")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    images = photos(8)
    for name in BENCHMARK:  # compile every Numba kernel here once: forked workers inherit them
        for severity in range(1, 6):
            corruptgen.corrupt(images[0], name, severity, seed=0)
    n_ours, n_ref = (64, 16) if args.quick else (1920, 128)
    rates = {
        "corruptgen RandomCorruption": loader_rate(ours, images, n_ours),
        "imagecorruptions 1.1.2": loader_rate(reference, images, n_ref),
        "albumentations 2.0.8 OneOf (nearest)": loader_rate(albumentations_one_of, images, n_ours),
    }
    rows = per_corruption(images, 3 if args.quick else 10)
    wrapped, direct = wrapper_overhead(images, 2 if args.quick else 12)

    ref_rate = rates["imagecorruptions 1.1.2"]
    lines = [f"Machine: {machine()}; torch {torch.__version__}, albumentations {A.__version__}. "
             "Loaders: 2 workers, batch 16, 224 x 224 real photographs, one of the 15 benchmark corruptions "
             "at severity 1-5 per image; one thread per worker.", "",
             "| loader | images/s | vs imagecorruptions |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {name} | {rate:.1f} | {rate / ref_rate:.1f}x |" for name, rate in rates.items()]
    lines += ["", "Per corruption, one thread, 224 x 224 (corruptgen: mean over severities 1-5; albumentations: "
              "its nearest transform, p=1, its own algorithm):", "",
              "| corruption | corruptgen ms | albumentations ms | albumentations / corruptgen |", "|---|---|---|---|"]  # fmt: skip
    for name, ours_ms, their_ms in rows:
        ratio = "" if np.isnan(their_ms) else f"{their_ms / ours_ms:.2f}"
        lines.append(f"| {name} | {ours_ms:.2f} | {'none' if np.isnan(their_ms) else f'{their_ms:.2f}'} | {ratio} |")
    slower = [(name, their / ours) for name, ours, their in rows if not np.isnan(their) and their < ours]
    compared = sum(not np.isnan(their) for _, _, their in rows)
    lines += ["", f"corruptgen is faster than the counterpart for {compared - len(slower)} of {compared}; slower for:", ""]
    lines += [f"- {name} ({ratio:.2f}): {DIFFERENCES.get(name, 'see the table')}." for name, ratio in slower]
    lines += ["", f"Wrapper overhead (RandomCorruption vs corrupt() with the same draws, {len(images)} images x "
              f"{2 if args.quick else 12} rounds, drawing included): {wrapped * 1000:.0f} ms vs {direct * 1000:.0f} ms, "
              f"{100 * (wrapped / direct - 1):+.1f}%."]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        write_section("augment", "## Training-time augmentation (`scripts/bench_augment.py`)\n\n" + text)


if __name__ == "__main__":
    main()
