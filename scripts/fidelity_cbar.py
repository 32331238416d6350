"""ImageNet-C-bar's and CIFAR-10-C-bar's 15 corruptions against facebookresearch/augmentation-corruption
itself: the C-bar section of docs/fidelity.md, its speed section of docs/benchmarks.md, and the test
fixture ``tests/data/cbar_reference.npz``.

The reference (MIT) is not shipped here; pass its ``imagenet_c_bar`` folder:

    git clone https://github.com/facebookresearch/augmentation-corruption
    python scripts/fidelity_cbar.py --reference augmentation-corruption/imagenet_c_bar [--images 3] [--fixture]

It runs under today's NumPy with ``np.int`` restored (``lines`` uses it). Fed the same draws, the
reference's ``transform`` and ours are compared pixel for pixel; with independent draws (the
reference's own ``np.random``, seeded), by PSNR and SSIM against the clean image, as the ImageNet-C
table above; and both are timed in the same run on the same 224 px image (one thread, ours warm).
Photographs: scikit-image's astronaut, chelsea, coffee and rocket, resized.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _benchdoc import machine, publish, quality, write_section  # noqa: E402

from corruptgen.corruptions import CIFAR_CBAR, IMAGENET_CBAR, get_corruption  # noqa: E402
from corruptgen.corruptions.cbar import scaled  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "fidelity.md"
FIXTURE = ROOT / "tests" / "data" / "cbar_reference.npz"
PROFILE_SIZE = {"imagenet-cbar": 40, "cifar-cbar": 32}
"""The fixture's image side per profile (CIFAR's own; a small non-CIFAR size for ImageNet-C-bar)."""
FIXTURE_SEVERITIES = (1, 3, 5)


def photo(name: str, side: int) -> np.ndarray:
    return cv2.resize(getattr(data, name)(), (side, side), interpolation=cv2.INTER_AREA)


def load_reference(folder: Path):
    np.int = int  # the 2021 code's alias (removed in NumPy 1.24)
    sys.path.insert(0, str(folder))
    import corrupt  # noqa: PLC0415

    return {cls.name: cls for cls in vars(corrupt).values() if isinstance(cls, type) and hasattr(cls, "sample_parameters")}


def reference_kwargs(name: str, draws: dict, magnitude: float, n: int) -> dict:
    """Our draws (and the magnitude's parameters) as the reference's ``transform`` takes them."""
    m = magnitude
    if name == "single_frequency_greyscale":
        return {"freq": np.array(draws["freq"]), "phase": draws["phase"], "intensity": scaled(m, 196)}
    if name == "cocentric_sine_waves":
        return {"offset": np.array(draws["offset"]), "freq": draws["freq"], "amplitude": draws["amplitude"],
                "ring_width": draws["ring_width"], "intensity": [scaled(m, 128)] * 3}  # fmt: skip
    if name == "plasma_noise":
        return {**draws, "intensity": scaled(m, 64)}
    if name == "sparkles":
        return {"centers": np.array(draws["centers"]), "radii": np.array([scaled(m, 0.1)] * 5) * n,
                "nrays": np.array(draws["nrays"]), "amounts": np.array([50] * 5), "color": np.array([255] * 3),
                "randomness": 25, "seed": draws["seed"]}  # fmt: skip
    if name == "inverse_sparkles":
        return {"center": np.array(draws["center"]), "radius": 0.25 * n, "rays": draws["rays"],
                "amount": 100 - scaled(m, 65), "color": np.array([255] * 3), "randomness": 25, "seed": draws["seed"]}  # fmt: skip
    if name == "perlin_noise":
        return {"m": np.array([[1, 0], [0, 1]]) / (32 * n / 224), "turbulence": 16.0, "seed": draws["seed"], "gain": 0.5,
                "bias": 0.5, "alpha": scaled(m, 0.5)}  # fmt: skip
    if name in ("blue_noise_sample",):
        return {"seed": draws["seed"], "threshold": scaled(m, 3.0) - 2.5}
    if name == "brownish_noise":
        return {"seed": draws["seed"], "intensity": scaled(m, 64)}
    if name == "checkerboard_cutout":
        return {"angle": draws["angle"], "scales": (draws["scale"], draws["scale"]), "fraction": scaled(m, 1.0),
                "seed": draws["seed"]}  # fmt: skip
    if name == "caustic_refraction":
        return {**draws, "eta": 4.0, "lens_scale": scaled(m, 0.5 * n), "lighting_amount": scaled(m, 2.0), "softening": 1}
    if name == "pinch_and_twirl":
        cells = len(draws["signs"])
        return {"num_per_axis": cells, "angles": np.array(draws["signs"], float) * scaled(m, np.pi / 2),
                "amount": scaled(m, 0.4) + 0.1}  # fmt: skip
    if name == "ripple":
        return {"amplitudes": np.array([scaled(m, 0.025)] * 2) * n, "wavelengths": np.array(draws["wavelengths"]),
                "phases": np.array(draws["phases"])}  # fmt: skip
    if name == "circular_motion_blur":
        return {"amount": scaled(m, 15)}
    if name == "lines":
        return {"length": 1.0, "density": scaled(m, 1.0), "angle": draws["angle"],
                "angle_variation": draws["angle_variation"], "seed": draws["seed"]}  # fmt: skip
    if name == "transverse_chromatic_abberation":
        scale = scaled(m, 0.5)
        return {"scales": np.array([1.0, 1.0 + scale / 2, 1.0 + scale])[draws["order"]]}
    raise KeyError(name)


def ours_and_reference(reference, name: str, profile: str, severity: int, image: np.ndarray, seed: int):
    spec = get_corruption(name)
    p = spec.params(severity, profile)
    draws = spec.sample(np.random.default_rng(seed), image.shape, p)
    mine = spec.apply(image, p, **draws)
    transform = reference[name](p.magnitude, image.shape[0])
    theirs = transform.transform(image.copy(), **reference_kwargs(name, draws, p.magnitude, image.shape[0]))
    return mine, theirs, draws



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="augmentation-corruption's imagenet_c_bar folder")
    parser.add_argument("--images", type=int, default=3, help="224 px photographs compared per corruption and profile")
    parser.add_argument("--fixture", action="store_true", help=f"also write {FIXTURE.relative_to(ROOT)}")
    args = parser.parse_args()
    reference = load_reference(args.reference)
    names = list(dict.fromkeys(IMAGENET_CBAR + CIFAR_CBAR))
    photos = ("astronaut", "chelsea", "coffee", "rocket")[: args.images]
    fed_rows, stat_rows, speed_rows = [], [], []
    for name in names:
        spec = get_corruption(name)
        for profile in ("imagenet-cbar", "cifar-cbar"):
            if profile not in spec.tables:
                continue
            diffs, ours_q, ref_q = [], [], []
            for i, which in enumerate(photos):
                image = photo(which, 224)
                for severity in range(1, 6):
                    mine, theirs, _ = ours_and_reference(reference, name, profile, severity, image, 1000 * i + severity)
                    diffs.append(np.abs(mine.astype(int) - theirs.astype(int)))
                    np.random.seed(1000 * i + severity)  # independent draws: the reference's own
                    independent = reference[name](spec.params(severity, profile).magnitude, 224)(image.copy())
                    ours_q.append(quality(image, mine))
                    ref_q.append(quality(image, independent))
            d = np.stack(diffs)
            fed_rows.append(f"| {name} | {profile} | {100 * (d == 0).mean():.3f} % | {d.max()} |")
            dq = np.array(ours_q) - np.array(ref_q)
            stat_rows.append(f"| {name} | {profile} | {dq[:, 0].mean():+.2f} dB (se {dq[:, 0].std() / np.sqrt(len(dq)):.2f}) "
                             f"| {dq[:, 1].mean():+.3f} |")  # fmt: skip
            print(fed_rows[-1], stat_rows[-1], flush=True)
        # speed: one 224 px image, its five magnitudes of the first profile, ours warm, one thread
        profile = "imagenet-cbar" if "imagenet-cbar" in spec.tables else "cifar-cbar"
        image = photo("astronaut", 224)
        ours_and_reference(reference, name, profile, 1, image, 0)  # warm Numba's cache
        t_ours = t_ref = 0.0
        for severity in range(1, 6):
            p = spec.params(severity, profile)
            draws = spec.sample(np.random.default_rng(severity), image.shape, p)
            started = time.perf_counter()
            spec.apply(image, p, **draws)
            t_ours += time.perf_counter() - started
            transform = reference[name](p.magnitude, 224)
            kwargs = reference_kwargs(name, draws, p.magnitude, 224)
            started = time.perf_counter()
            transform.transform(image.copy(), **kwargs)
            t_ref += time.perf_counter() - started
        speed_rows.append((name, t_ours, t_ref))
        print(f"speed {name}: {1000 * t_ours:.1f} ms vs {t_ref:.2f} s", flush=True)
    lines = [
        "## ImageNet-C-bar and CIFAR-10-C-bar against their own code",
        "",
        f"Written by `scripts/fidelity_cbar.py`: the `imagenet-cbar` and `cifar-cbar` profiles against "
        f"facebookresearch/augmentation-corruption's `imagenet_c_bar/corrupt.py`, on {len(photos)} photographs at 224 "
        "px x 5 severities per corruption and profile.",
        "",
        "Fed the same draws (its `transform` with our parameters): identical pixels and the largest difference in "
        "gray levels.",
        "",
        "| corruption | profile | identical pixels | max |",
        "|---|---|---|---|",
        *fed_rows,
        "",
        "Independent draws (the reference's own `np.random`): mean PSNR and SSIM against the clean image, ours minus "
        "the reference's.",
        "",
        "| corruption | profile | PSNR | SSIM |",
        "|---|---|---|---|",
        *stat_rows,
        "",
        "Deliberate differences: a Perlin gradient drawn as (0, 0) (once in 262,144 draws, about one image in 500) "
        "stays zero instead of the reference's division by zero, whose NaN blacks out the pixels near it; "
        "non-square images and sizes other than 32 and 224 scale the reference's constants as "
        "`corruptgen/corruptions/cbar.py` says (the reference assumes a square `im_size`).",
    ]
    write_section("cbar", "\n".join(lines), DOC)
    total_ours = sum(t for _, t, _ in speed_rows)
    total_ref = sum(t for _, _, t in speed_rows)
    imagenet_ours = sum(t for n, t, _ in speed_rows if n in IMAGENET_CBAR)
    imagenet_ref = sum(t for n, _, t in speed_rows if n in IMAGENET_CBAR)
    speed = [
        "## ImageNet-C-bar kernels (`scripts/fidelity_cbar.py`)",
        "",
        f"Machine: {machine()}. One 224 px photograph, the five magnitudes of each corruption (its first profile), "
        "one thread, ours warm (Numba's cache); the reference's `transform` fed the same parameters, timed in the "
        "same run.",
        "",
        "| corruption | ours, 5 magnitudes (ms) | reference (s) | ours / reference |",
        "|---|---:|---:|---:|",
        *(f"| {n} | {1000 * o:.1f} | {r:.2f} | {100 * o / r:.2f} % |" for n, o, r in speed_rows),
        f"| ImageNet-C-bar's 50 variants | {1000 * imagenet_ours:.0f} | {imagenet_ref:.1f} | "
        f"{100 * imagenet_ours / imagenet_ref:.2f} % |",
        f"| all 15 x 5 | {1000 * total_ours:.0f} | {total_ref:.1f} | {100 * total_ours / total_ref:.2f} % |",
    ]
    publish("cbar", speed)
    if args.fixture:
        write_fixture(reference)


def write_fixture(reference) -> None:
    """Small images per corruption, profile and severity 1, 3, 5: the reference's output fed our draws."""
    out = {}
    for name in dict.fromkeys(IMAGENET_CBAR + CIFAR_CBAR):
        spec = get_corruption(name)
        for profile, side in PROFILE_SIZE.items():
            if profile not in spec.tables:
                continue
            image = photo("coffee", side)
            out[f"{profile}.image"] = image
            for severity in FIXTURE_SEVERITIES:
                seed = severity
                _, theirs, draws = ours_and_reference(reference, name, profile, severity, image, seed)
                out[f"{name}.{profile}.{severity}"] = theirs
                out[f"{name}.{profile}.{severity}.draws"] = np.array(json.dumps(draws))
    FIXTURE.parent.mkdir(exist_ok=True)
    np.savez_compressed(FIXTURE, **out)
    print(f"wrote {FIXTURE.relative_to(ROOT)} ({FIXTURE.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
