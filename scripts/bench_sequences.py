"""ImageNet-P / CIFAR-10-P sequences: ours against the reference's frame code, in the same run.

The peer is each block of hendrycks/robustness ``make_imagenet_p.py`` / ``make_cifar_p.py`` re-typed with
the libraries it calls (torch's ``randn_like``, NumPy's Poisson and normal draws, PIL's affine transform
with torchvision 0.3's matrix, scikit-image's ``gaussian`` and HSV round trip, SciPy's ``zoom``, OpenCV's
spatter and tilt, and ImageMagick's motion blur through Wand, as the script binds it; skipped where Wand
or torch is missing). Frames stay in memory: the reference's PNG round trip through a temp folder and
the ffmpeg call are left out of its time, and encoding is timed apart.

Measured per perturbation: the time of one sequence (median), the ratio, and fidelity: for the
deterministic sequences the mean absolute difference per pixel between our frames and the peer's
(and the share of identical values), for the random ones the mean level and mean frame-to-frame change
of each (their draws differ).

    python scripts/bench_sequences.py [--repeats 3] [--no-write]
"""

from __future__ import annotations

import argparse
import ctypes
import math
from io import BytesIO

import cv2
import numpy as np
from _benchdoc import machine, median_ms, publish, write_section
from PIL import Image
from scipy.ndimage import zoom as scizoom
from skimage import color, data
from skimage.filters import gaussian

from corruptgen.corruptions.sequences import SEQUENCES, perturb_rgb_or_gray
from corruptgen.datasets.imagenet import resize_shorter
from corruptgen.writers.video import decode_mp4, encode_mp4

try:
    import torch
except ImportError:  # the gaussian_noise peer needs torch's randn_like
    torch = None
try:
    from wand.api import library as wandlibrary
    from wand.image import Image as WandImage

    wandlibrary.MagickMotionBlurImage.argtypes = (ctypes.c_void_p, ctypes.c_double, ctypes.c_double, ctypes.c_double)
except ImportError:  # ImageMagick through Wand: motion blur and snow's streaks
    WandImage = None

# the parameters of each block, per profile: (imagenet-p, cifar-p)
P = {
    "gaussian": (0.03, 0.02), "shot": (300, 700), "speckle": (0.05, 0.05),
    "motion": ((10, 3, 4, 31), (6, 1.8, 9, 21)), "snow_zoom": (3, 2), "snow_blur": ((14, 4), (10, 2)),
    "brightness": (0.02, 0.015), "translate": ((20, 41), (7, 16)), "tilt": (1.0, 0.75),
    "scale": ((40, 2.5), (70, 2)), "gaussian_blur": ((0.25, 0.035, 6.0), (0.3, 0.015, 7.0)),
    "spatter": ((0.65, 0.27, 3.7, 0.69, (0.05, 0.1, 0.15, 0.7)), (0.6, 0.265, 1.75, 0.7, (0.2, 0.8))),
}  # fmt: skip


def _tv03_matrix(size, angle=0.0, translate=(0, 0), scale=1.0, shear=0.0):
    center = (size[0] * 0.5 + 0.5, size[1] * 0.5 + 0.5)
    angle, shear, scale = math.radians(angle), math.radians(shear), 1.0 / scale
    d = math.cos(angle + shear) * math.cos(angle) + math.sin(angle + shear) * math.sin(angle)
    m = [scale / d * v for v in (math.cos(angle + shear), math.sin(angle + shear), 0, -math.sin(angle), math.cos(angle), 0)]
    m[2] += m[0] * (-center[0] - translate[0]) + m[1] * (-center[1] - translate[1]) + center[0]
    m[5] += m[3] * (-center[0] - translate[0]) + m[4] * (-center[1] - translate[1]) + center[1]
    return m


def _affine(img: Image.Image, resample=Image.BILINEAR, **kw) -> Image.Image:
    return img.transform(img.size, Image.AFFINE, _tv03_matrix(img.size, **kw), resample)


def _crop(img: Image.Image, side: int) -> Image.Image:
    w, h = img.size
    left, top = int(round((w - side) / 2.0)), int(round((h - side) / 2.0))
    return img.crop((left, top, left + side, top + side))


def _wand_motion(png: bytes, radius, sigma, angle) -> np.ndarray:
    blurred = WandImage(blob=png)
    wandlibrary.MagickMotionBlurImage(blurred.wand, radius, sigma, angle)
    out = cv2.imdecode(np.frombuffer(blurred.make_blob(), np.uint8), cv2.IMREAD_UNCHANGED)
    return out


def _clipped_zoom(img, factor):
    h = img.shape[0]
    ch = int(np.ceil(h / factor))
    top = (h - ch) // 2
    img = scizoom(img[top : top + ch, top : top + ch], (factor, factor, 1), order=1)
    trim = (img.shape[0] - h) // 2
    return img[trim : trim + h, trim : trim + h]


def _hsv_brightness(x, c):
    x = color.rgb2hsv(np.array(x, copy=True) / 255.0)
    x[:, :, 2] = np.clip(x[:, :, 2] + c, 0, 1)
    return np.uint8(color.hsv2rgb(x) * 255)


def reference(name: str, img: Image.Image, k: int, side: int) -> np.ndarray | None:
    """The frames of one block of the reference script (``img``: the Resize(256) image, or a CIFAR image)."""
    crop = _crop(img, side)
    x = np.asarray(crop)
    if name == "gaussian_noise":
        if torch is None:
            return None
        t = torch.from_numpy(x.copy()).permute(2, 0, 1).float().div(255)
        return np.stack([x] + [(torch.clamp(t + P["gaussian"][k] * torch.randn_like(t), 0, 1).mul(255).byte()
                                .permute(1, 2, 0).numpy()) for _ in range(30)])  # fmt: skip
    if name == "shot_noise":
        c = P["shot"][k]
        return np.stack([x] + [np.uint8(255 * np.clip(np.random.poisson(x / 255.0 * c) / c, 0, 1)) for _ in range(30)])
    if name == "speckle_noise":
        z = x / 255.0
        return np.stack([x] + [np.uint8(255 * np.clip(z + z * np.random.normal(size=z.shape, scale=P["speckle"][k]), 0, 1))
                               for _ in range(30)])  # fmt: skip
    if name == "motion_blur":
        if WandImage is None:
            return None
        radius, sigma, step, count = P["motion"][k]
        buffer = BytesIO()
        crop.save(buffer, format="PNG")
        frames = []
        for i in range(count):
            z = _wand_motion(buffer.getvalue(), radius, sigma, (i - (count - 1)) * step)
            frames.append(np.clip(z[..., [2, 1, 0]], 0, 255) if z.ndim == 3 else np.repeat(z[..., None], 3, axis=2))
        return np.stack(frames).astype(np.uint8)
    if name == "zoom_blur":
        avg = x.astype(np.float32) / 255
        frames = [x]
        for i in range(1, 31):
            avg = avg + np.asarray(_crop(_affine(img, scale=1 + 0.004 * i), side), np.float32) / 255
            frames.append(np.uint8(avg / (i + 1) * 255))
        return np.stack(frames)
    if name == "snow":
        if WandImage is None:
            return None
        z0 = x / 255.0
        layer = np.random.normal(size=(side, side), loc=0.05, scale=0.3)
        layer = _clipped_zoom(layer[..., np.newaxis], P["snow_zoom"][k])
        layer[layer < 0.5] = 0
        buffer = BytesIO()
        Image.fromarray((np.clip(layer.squeeze(), 0, 1) * 255).astype(np.uint8), mode="L").save(buffer, format="PNG")
        radius, sigma = P["snow_blur"][k]
        frames = []
        for i in range(31):
            streak = _wand_motion(buffer.getvalue(), radius, sigma, i * 4 - 150) / 255.0
            streak = streak[..., np.newaxis]
            z = 0.85 * z0 + 0.15 * np.maximum(z0, cv2.cvtColor(np.float32(z0), cv2.COLOR_RGB2GRAY).reshape(side, side, 1) * 1.5 + 0.5)
            frames.append(np.uint8(np.clip(z + streak + np.rot90(streak, k=2), 0, 1) * 255))
        return np.stack(frames)
    if name == "brightness":
        return np.stack([_hsv_brightness(x, (i - 15) * P["brightness"][k]) for i in range(31)])
    if name == "translate":
        half, count = P["translate"][k]
        return np.stack([np.asarray(_crop(_affine(img, Image.NEAREST, translate=(i - half, 0)), side)) for i in range(count)])
    if name in ("rotate", "shear", "scale"):
        def args(i):
            if name == "scale":
                return {"scale": (P["scale"][k][0] + P["scale"][k][1] * i) / 100.0}
            return {"angle" if name == "rotate" else "shear": i - 15}

        return np.stack([np.asarray(_crop(_affine(img, **args(i)), side)) for i in range(31)])
    if name == "tilt":
        full = np.asarray(img)
        h, w = full.shape[:2]
        frames = []
        for i in range(31):
            phi = theta = np.deg2rad(P["tilt"][k] * (i - 15))
            f = np.sqrt(w**2 + h**2)
            p1 = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1], [0, 0, 1]])
            rx = np.array([[1, 0, 0, 0], [0, np.cos(theta), -np.sin(theta), 0], [0, np.sin(theta), np.cos(theta), 0], [0, 0, 0, 1]])
            ry = np.array([[np.cos(phi), 0, -np.sin(phi), 0], [0, 1, 0, 0], [np.sin(phi), 0, np.cos(phi), 0], [0, 0, 0, 1]])
            t = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, f], [0, 0, 0, 1]])
            p2 = np.array([[f, 0, w / 2, 0], [0, f, h / 2, 0], [0, 0, 1, 0]])
            frames.append(np.asarray(_crop(Image.fromarray(cv2.warpPerspective(full, p2 @ t @ rx @ ry @ p1, (w, h))), side)))
        return np.stack(frames)
    if name == "gaussian_blur":
        start, step, truncate = P["gaussian_blur"][k]
        return np.stack([np.uint8(255 * gaussian(x / 255.0, sigma=start + step * i, channel_axis=-1, truncate=truncate))
                         for i in range(31)])  # fmt: skip
    if name == "spatter":
        loc, scale, sigma, threshold, drip = P["spatter"][k]
        xb = cv2.cvtColor(np.array(x, dtype=np.float32) / 255.0, cv2.COLOR_BGR2BGRA)
        liquid = gaussian(np.random.normal(size=xb.shape[:2], loc=loc, scale=scale), sigma=sigma)
        liquid[liquid < threshold] = 0
        frames = []
        for _ in range(31):
            li = (liquid * 255).astype(np.uint8)
            dist = cv2.distanceTransform(255 - cv2.Canny(li, 50, 150), cv2.DIST_L2, 5)
            _, dist = cv2.threshold(dist, 20, 20, cv2.THRESH_TRUNC)
            dist = cv2.equalizeHist(cv2.blur(dist, (3, 3)).astype(np.uint8))
            dist = cv2.filter2D(dist, cv2.CV_8U, np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]))
            dist = cv2.blur(dist, (3, 3)).astype(np.float32)
            m = cv2.cvtColor(li * dist, cv2.COLOR_GRAY2BGRA)
            if not np.max(m[..., :3]) > 0:  # no drop left (dripped off, or never any): the reference divides 0 by 0
                frames.append(x)  # and casts NaN to uint8; ours, and this peer, show the clean frame
                liquid = np.apply_along_axis(lambda col: np.convolve(col, np.array(drip), mode="same"), 0, liquid)
                continue
            m /= np.max(m, axis=(0, 1))
            m *= 0.6
            tint = cv2.cvtColor(np.concatenate([v / 255.0 * np.ones_like(m[..., :1]) for v in (175, 238, 238)], axis=2),
                                cv2.COLOR_BGR2BGRA)  # fmt: skip
            frames.append(np.uint8(cv2.cvtColor(np.clip(xb + m * tint, 0, 1), cv2.COLOR_BGRA2BGR) * 255))
            liquid = np.apply_along_axis(lambda col: np.convolve(col, np.array(drip), mode="same"), 0, liquid)
        return np.stack(frames)
    raise ValueError(name)


def ours_on_reference_draws(name: str, source: np.ndarray, profile: str, side: int, k: int, seed: int) -> np.ndarray:
    """Our snow or spatter fed the layer the reference draws after ``np.random.seed(seed)`` (its first draw
    in :func:`reference`): the same drops or flakes, so the frames compare pixel by pixel."""
    from corruptgen.kernels.zoom import centre_crop_size

    spec = SEQUENCES[name]
    p = spec.frames_for(1, profile, side)
    np.random.seed(seed)
    if name == "spatter":
        noise = np.random.normal(size=(side, side), loc=P["spatter"][k][0], scale=P["spatter"][k][1])
        return spec.frames(source, (side, side), p, noise=noise.astype(np.float32))
    layer = np.random.normal(size=(side, side), loc=0.05, scale=0.3)
    ch = centre_crop_size(side, p.zoom)
    top = (side - ch) // 2
    return spec.frames(np.asarray(_crop(Image.fromarray(source), side)) if source.shape[0] != side else source,
                       (side, side), p, layer=layer[top : top + ch, top : top + ch].astype(np.float32))


def _change(frames: np.ndarray) -> float:
    return float(np.abs(np.diff(frames.astype(np.int16), axis=0)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    np.random.seed(0)
    if torch is not None:
        torch.manual_seed(0)
        torch.set_num_threads(1)
    cv2.setNumThreads(1)
    photo = data.astronaut()
    setups = {"imagenet-p": (resize_shorter(photo), 224, 0), "cifar-p": (Image.fromarray(cv2.resize(photo, (32, 32),
                                                                            interpolation=cv2.INTER_AREA)), 32, 1)}  # fmt: skip
    lines = ["## ImageNet-P / CIFAR-10-P sequences (`scripts/bench_sequences.py`)", "",
             f"{machine()}; one thread; the astronaut photograph (Resize(256) for imagenet-p, 32 px for cifar-p); "
             f"median of {args.repeats}. Peer: the reference's frame code re-typed with the libraries it calls "
             "(ImageMagick through Wand for motion blur and snow), frames kept in memory. Fidelity: mean |ours - "
             "peer| per value and the share of equal values (deterministic sequences, and snow and spatter fed the "
             "peer's own layer); for the noise ones, mean level and mean frame-to-frame change, ours / peer, over "
             "several draws.", ""]  # fmt: skip
    fidelity = ["## ImageNet-P and CIFAR-10-P sequences against the reference's frame code (`scripts/bench_sequences.py`)", "",
                "Each block of `make_imagenet_p.py` / `make_cifar_p.py` re-typed with the libraries it calls (PIL's affine "
                "transform under torchvision 0.3's matrix, scikit-image's `gaussian` and HSV round trip, ImageMagick's "
                "motion blur through Wand, torch's `randn_like`, NumPy's Poisson and normal draws), on the astronaut "
                "photograph; frames before the video codec. Deterministic sequences: mean |ours - reference| per value, "
                "the share of equal values and the largest difference (rotate, scale and shear resample on OpenCV's "
                "1/32 px grid where PIL computes each pixel exactly, and the two treat the pixels straddling the "
                "image's edge differently: every difference over 16 levels lies within 2 px of the black fill, and "
                "the edge weighs more at 32 px). Random sequences "
                "draw their noise differently: the mean level of their frames and the mean change from one frame to "
                "the next, ours / reference, averaged over several draws (4 at 224 px, 24 at 32 px); snow and "
                "spatter are fed the reference's own layer (its NumPy draws) and compared pixel by pixel.", "",
                f"{machine()}.", ""]  # fmt: skip
    for profile, (img, side, k) in setups.items():
        source = np.asarray(img)
        lines += [f"### {profile}", "", "| perturbation | ours ms | reference ms | speed-up | fidelity |", "|---|---:|---:|---:|---|"]
        fidelity += [f"### {profile}", "", "| perturbation | fidelity |", "|---|---|"]
        for name, spec in SEQUENCES.items():
            ours_frames = perturb_rgb_or_gray(source, name, 1, np.random.default_rng(0), profile, (side, side))
            ours = median_ms(lambda: perturb_rgb_or_gray(source, name, 1, np.random.default_rng(0), profile,
                                                          (side, side)), args.repeats)  # fmt: skip
            peer_frames = reference(name, img, k, side)
            if peer_frames is None:
                lines.append(f"| {name} | {ours:.1f} | (needs {'torch' if 'gauss' in name else 'Wand'}) | | |")
                continue
            peer = median_ms(lambda: reference(name, img, k, side), args.repeats)
            if name in ("snow", "spatter"):  # fed the reference's own draws: pixel by pixel
                diffs = []
                for seed in range(4 if profile == "imagenet-p" else 24):
                    mine = ours_on_reference_draws(name, source, profile, side, k, seed)
                    np.random.seed(seed)
                    diffs.append(np.abs(mine.astype(np.int16) - reference(name, img, k, side)))
                diff = np.stack(diffs)
                note = (f"on the reference's draws ({len(diffs)}): mean {diff.mean():.2f} levels, "
                        f"{100 * (diff == 0).mean():.1f} % equal, max {diff.max()}")  # fmt: skip
            elif spec.noise:  # independent draws: their statistics
                draws = 4 if profile == "imagenet-p" else 24
                mine = [perturb_rgb_or_gray(source, name, 1, np.random.default_rng(i), profile, (side, side))
                        for i in range(draws)]  # fmt: skip
                theirs = [peer_frames] + [reference(name, img, k, side) for _ in range(draws - 1)]
                note = (f"level {np.mean([f.mean() for f in mine]):.1f} / {np.mean([f.mean() for f in theirs]):.1f}, "
                        f"change per frame {np.mean([_change(f) for f in mine]):.2f} / "
                        f"{np.mean([_change(f) for f in theirs]):.2f} ({draws} draws)")  # fmt: skip
            else:
                diff = np.abs(ours_frames.astype(np.int16) - peer_frames)
                note = f"mean {diff.mean():.2f} levels, {100 * (diff == 0).mean():.1f} % equal, max {diff.max()}"
            lines.append(f"| {name} | {ours:.1f} | {peer:.1f} | {peer / ours:.1f}x | {note} |")
            fidelity.append(f"| {name} | {note} |")
        lines.append("")
        fidelity.append("")
    frames = perturb_rgb_or_gray(np.asarray(setups["imagenet-p"][0]), "rotate", 1, np.random.default_rng(0), "imagenet-p",
                                 (224, 224))  # fmt: skip
    noisy = perturb_rgb_or_gray(np.asarray(setups["imagenet-p"][0]), "gaussian_noise", 1, np.random.default_rng(0),
                                "imagenet-p", (224, 224))  # fmt: skip
    lines += ["### MP4 encoding (PyAV's libx264, veryslow, one thread; 31 frames at 224 px)", "",
              "| sequence | mode | ms | bytes | mean abs change after decoding |", "|---|---|---:|---:|---:|"]
    for label, seq, grain in (("rotate", frames, False), ("gaussian_noise", noisy, True)):
        for mode in ("release", "lossless"):
            data_ = encode_mp4(seq, grain=grain, mode=mode)
            ms = median_ms(lambda: encode_mp4(seq, grain=grain, mode=mode), args.repeats)
            error = np.abs(decode_mp4(data_).astype(np.int16) - seq).mean()
            lines.append(f"| {label} | {mode}{' (tune grain)' if grain and mode == 'release' else ''} | {ms:.0f} | "
                         f"{len(data_)} | {error:.2f} |")  # fmt: skip
    publish("sequences", lines, write=not args.no_write)
    if not args.no_write:
        from pathlib import Path

        write_section("sequences", "\n".join(fidelity), Path(__file__).resolve().parent.parent / "docs" / "fidelity.md")


if __name__ == "__main__":
    main()
