"""ImageNet-P's and CIFAR-10-P's perturbation sequences: a parameter sweep over the catalogue's kernels.

A sequence is what ``make_imagenet_p.py`` / ``make_cifar_p.py`` (hendrycks/robustness) write for one
image: 31 frames (translate 41 at 224 px, 16 at 32 px; motion blur 21 at 32 px) in which one
parameter moves a step per frame (a rotation, a brightness offset, a blur angle), or in which noise
is redrawn frame after frame over the clean image (frame 0). Ten are the benchmark's test
perturbations (mFR, mT5D), four its validation ones; the noise ones have difficulties 2 and 3
(stronger noise, the release's ``<name>_2`` / ``<name>_3`` folders). Facts and line numbers:
``research/cbar_and_p.md`` section 2.

Profiles: ``imagenet-p`` (224 px frames; geometric ones transform the Resize(256) image and then
CenterCrop(224), photometric ones start from the crop) and ``cifar-p`` (32 px, its own counts and
parameters). At other sizes, parameters in pixels (shifts, blur radii and sigmas) scale with the
frame's shorter side against the profile's (224 or 32): Fashion-MNIST-P at 28 px is ``cifar-p``
at 7/8 of its pixel parameters. Frame counts and angles do not scale.

Where the reference differs from what runs here (on purpose, each to reuse a catalogue kernel):

- motion blur and snow streaks: imagecorruptions' NumPy port of ImageMagick's motion blur, not
  ImageMagick through Wand (``research/anchors.md``: the port matches it to a level or two);
- zoom blur, rotate, scale, shear, translate: torchvision 0.3's inverse affine matrix about
  ``(W/2 + 0.5, H/2 + 0.5)`` as the reference's ``trn_F.affine`` builds it, resampled by OpenCV
  (1/32 px grid) instead of PIL;
- noise: the catalogue's exact-distribution samplers (``kernels.noise``), a counter-stream key per
  frame; seeded per (image, perturbation, difficulty), where the reference is never seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np

from corruptgen.kernels import filters, hsv, motion, noise, tone, warp, weather, zoom
from corruptgen.kernels._scratch import scratch
from corruptgen.kernels.counter import draw_key
from corruptgen.kernels.quantise import to_uint8, to_unit

P_PROFILES = ("imagenet-p", "cifar-p")
"""ImageNet-P's (224 px frames from the Resize(256) image) and CIFAR-10-P's (32 px) parameters."""

REFERENCE_SIDE = {"imagenet-p": 224, "cifar-p": 32}
"""The frame side each profile's pixel parameters are given for."""

DIFFICULTIES = (1, 2, 3)


@dataclass(frozen=True)
class Frames:
    """A sequence's parameters at one difficulty, profile and frame size: ``count`` frames,
    ``values`` named (``p.sigma``), ``side_ratio`` the frame's side over the profile's."""

    count: int
    values: dict[str, Any]
    side_ratio: float = 1.0

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def middle(self) -> int:
        """The middle frame, where a sweep from ``-x`` to ``+x`` passes 0 (frame 15 of 31)."""
        return (self.count - 1) // 2


class Perturbation:
    """One ImageNet-P sequence kind.

    A subclass sets ``name``, ``split`` (``test``: counted in mFR / mT5D; ``validation``),
    ``param_names`` and ``tables`` (per profile, one row per difficulty: three for the noise
    sequences, one otherwise), and overrides :meth:`sample` (draws, from an explicit
    ``numpy.random.Generator``) and :meth:`frames` (uint8 in, ``T x h x w x C`` uint8 out).
    """

    name: ClassVar[str]
    split: ClassVar[str] = "test"
    param_names: ClassVar[tuple[str, ...]]
    tables: ClassVar[dict[str, tuple]]
    counts: ClassVar[dict[str, int]] = {"imagenet-p": 31, "cifar-p": 31}
    pixel_params: ClassVar[tuple[str, ...]] = ()
    """Parameters in pixels: scaled by the frame's side over the profile's."""
    geometric: ClassVar[bool] = False
    """True: frames transform the whole (Resize(256)) image, then centre-crop (the reference's order)."""
    gray_native: ClassVar[bool] = True
    """True: a grey image runs on its one channel; False: promoted to RGB and back to luma (ITU-R 601)."""

    @property
    def noise(self) -> bool:
        """ImageNet-P's test: ``'noise' in name``. Noise frames are compared with frame 0 (the clean
        image), the others frame to frame; the video codec is tuned for grain."""
        return "noise" in self.name

    def difficulties(self, profile: str) -> tuple[int, ...]:
        return tuple(range(1, len(self.tables[profile]) + 1))

    def scored_at(self, difficulty: int) -> int:
        """Which of this perturbation's difficulties ``test.py --difficulty`` reads: that difficulty's
        sequences for noise (``<name>_2``), the difficulty-1 sequences otherwise (their frames that far apart)."""
        return difficulty if self.noise else 1

    def frames_for(self, difficulty: int, profile: str, side: int | None = None) -> Frames:
        """The parameters at ``difficulty`` for frames of shorter side ``side`` (the profile's by default)."""
        if profile not in self.tables:
            raise ValueError(f"unknown perturbation profile {profile!r}; valid profiles are {', '.join(P_PROFILES)}.")
        rows = self.tables[profile]
        if not 1 <= difficulty <= len(rows):
            valid = "1" if len(rows) == 1 else f"1 to {len(rows)}"
            raise ValueError(f"{self.name} has difficulty {valid} (only the noise sequences have 2 and 3); got {difficulty}.")
        row = rows[difficulty - 1]
        values = dict(zip(self.param_names, row if len(self.param_names) > 1 else (row,)))
        ratio = 1.0 if side is None else side / REFERENCE_SIDE[profile]
        for name in self.pixel_params:
            values[name] = values[name] * ratio
        return Frames(self.counts[profile], values, ratio)

    def sample(self, rng: np.random.Generator, shape: tuple[int, int, int], p: Frames) -> dict[str, Any]:
        """The sequence's random draws for a frame of ``shape`` (h, w, C)."""
        return {}

    def frames(self, image: np.ndarray, crop: tuple[int, int], p: Frames, **draws: Any) -> np.ndarray:
        """Every frame, uint8 ``T x h x w x C``, from the uint8 ``H x W x C`` source and the frame size ``crop``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<perturbation {self.name} ({self.split})>"


def _crop(image: np.ndarray, crop: tuple[int, int]) -> np.ndarray:
    return np.ascontiguousarray(warp.centre_crop(image, *crop))


def _stack(frames) -> np.ndarray:
    return np.stack(frames).astype(np.uint8, copy=False)


# -- noise: frame 0 is the clean image, every later frame draws new noise over it ---------------------


class _Noise(Perturbation):
    param_names = ("sigma",)

    def sample(self, rng, shape, p):
        return {"keys": [draw_key(rng) for _ in range(p.count - 1)]}

    def kernel(self, image: np.ndarray, key: int, p: Frames) -> np.ndarray:
        raise NotImplementedError

    def frames(self, image, crop, p, *, keys):
        clean = _crop(image, crop)
        return _stack([clean, *(self.kernel(clean, key, p) for key in keys)])


class GaussianNoiseSequence(_Noise):
    """``clamp(x + sigma N(0, 1))`` redrawn per frame (torch's ``randn_like``, truncated by ``ToPILImage``)."""

    name = "gaussian_noise"
    tables = {"imagenet-p": (0.03, 0.05, 0.08), "cifar-p": (0.02, 0.04, 0.06)}

    def kernel(self, image, key, p):
        return noise.gaussian_noise(image, key, p.sigma)


class ShotNoiseSequence(_Noise):
    """``Poisson(x * photons) / photons`` redrawn per frame."""

    name = "shot_noise"
    param_names = ("photons",)
    tables = {"imagenet-p": (300, 120, 60), "cifar-p": (700, 400, 200)}

    def kernel(self, image, key, p):
        return noise.shot_noise(image, key, p.photons)


class SpeckleNoiseSequence(_Noise):
    """``clip(x + x N(0, sigma))`` redrawn per frame (validation)."""

    name = "speckle_noise"
    split = "validation"
    tables = {"imagenet-p": (0.05, 0.10, 0.15), "cifar-p": (0.05, 0.07, 0.10)}

    def kernel(self, image, key, p):
        return noise.speckle_noise(image, key, p.sigma)


# -- photometric sweeps over the crop ------------------------------------------------------------------


class MotionBlurSequence(Perturbation):
    """Motion blur of the clean crop at angle ``(i - (T - 1)) * step`` degrees: -120 to 0 in steps of 4
    (imagenet-p, radius 10, sigma 3), -180 to 0 in steps of 9 over 21 frames (cifar-p, radius 6, sigma 1.8)."""

    name = "motion_blur"
    param_names = ("radius", "sigma", "step")
    tables = {"imagenet-p": ((10, 3, 4),), "cifar-p": ((6, 1.8, 9),)}
    counts = {"imagenet-p": 31, "cifar-p": 21}
    pixel_params = ("radius", "sigma")

    def frames(self, image, crop, p):
        unit = to_unit(_crop(image, crop), scratch("sequence.unit", (*crop, image.shape[2])))
        radius = max(1, int(round(p.radius)))
        out = []
        for i in range(p.count):
            shifts, weights = motion.motion_taps(radius, p.sigma, (i - (p.count - 1)) * p.step, *crop)
            out.append(to_uint8(motion.motion_blur(unit, shifts, weights, quantised=True)))
        return _stack(out)


class ZoomBlurSequence(Perturbation):
    """Frame ``i``: the mean of the image zoomed by ``1 + step k`` about its centre, k = 0..i, each zoom
    bilinear and quantised to levels before the mean, then centre-cropped (a growing zoom blur, up to 1.12):
    the reference's running average of ``trn_F.affine(img, scale=1 + 0.004 k)`` frames."""

    name = "zoom_blur"
    param_names = ("step",)
    tables = {"imagenet-p": (0.004,), "cifar-p": (0.004,)}
    geometric = True

    def frames(self, image, crop, p):
        height, width = image.shape[:2]
        total = _crop(image, crop).astype(np.float32) / np.float32(255)  # ToTensor of each frame, summed
        out = [_crop(image, crop)]
        for i in range(1, p.count):
            zoomed = warp.resample_affine(image, torchvision_affine_inverse(width, height, scale=1 + p.step * i))
            total += _crop(zoomed, crop).astype(np.float32) / np.float32(255)
            out.append(to_uint8(total / np.float32(i + 1)))
        return _stack(out)


class SnowSequence(Perturbation):
    """One snow layer per image (``N(loc, scale)``, zoomed, thresholded), streaked at ``4 i - 150``
    degrees in frame ``i`` and composited as ImageNet-C's snow (the image whitened at 0.85)."""

    name = "snow"
    param_names = ("loc", "scale", "zoom", "threshold", "radius", "sigma", "blend")
    tables = {"imagenet-p": ((0.05, 0.3, 3, 0.5, 14, 4, 0.85),), "cifar-p": ((0.05, 0.3, 2, 0.5, 10, 2, 0.85),)}
    pixel_params = ("radius", "sigma")

    def sample(self, rng, shape, p):
        crop = (zoom.centre_crop_size(shape[0], p.zoom), zoom.centre_crop_size(shape[1], p.zoom))
        layer = rng.standard_normal(crop, dtype=np.float32) * np.float32(p.scale) + np.float32(p.loc)
        return {"layer": layer}

    def frames(self, image, crop, p, *, layer):
        clean = _crop(image, crop)
        radius = max(1, int(round(p.radius)))
        return _stack([weather.snow(clean, layer, zoom=p.zoom, threshold=p.threshold, blur_radius=radius,
                                    blur_sigma=p.sigma, angle=4 * i - 150, blend=p.blend, trim="centre")
                       for i in range(p.count)])  # fmt: skip


class BrightnessSequence(Perturbation):
    """HSV value + ``(i - 15) * step``: -0.30 to +0.30 (imagenet-p), -0.225 to +0.225 (cifar-p); frame 15 is clean."""

    name = "brightness"
    param_names = ("step",)
    tables = {"imagenet-p": (0.02,), "cifar-p": (0.015,)}

    def frames(self, image, crop, p):
        clean = _crop(image, crop)
        shift = tone.add_value if clean.shape[2] == 1 else hsv.brightness
        return _stack([shift(clean, (i - p.middle) * p.step) for i in range(p.count)])


class GaussianBlurSequence(Perturbation):
    """``gaussian(sigma = start + step i, truncate)``: 0.25 to 1.30 px (imagenet-p), 0.30 to 0.75 (cifar-p); validation."""

    name = "gaussian_blur"
    split = "validation"
    param_names = ("start", "step", "truncate")
    tables = {"imagenet-p": ((0.25, 0.035, 6.0),), "cifar-p": ((0.3, 0.015, 7.0),)}
    pixel_params = ("start", "step")

    def frames(self, image, crop, p):
        unit = to_unit(_crop(image, crop), scratch("sequence.unit", (*crop, image.shape[2])))
        return _stack([to_uint8(filters.gaussian_filter(unit, p.start + p.step * i, truncate=p.truncate))
                       for i in range(p.count)])  # fmt: skip


class SpatterSequence(Perturbation):
    """One liquid layer per image (``N(loc, scale)`` blurred by ``sigma``, under ``threshold`` cleared),
    ImageNet-C's water drops in each frame; between frames the layer drips: convolved down the rows
    with ``drip`` (``np.convolve(..., mode="same")``). Validation.

    Where no drop is left (at 32 px the drops drip off the bottom within the sequence, and a layer can
    start with none), the reference divides zero by zero and casts the NaN frame to uint8; here the
    frame is the clean image, as the tint of an empty layer is nothing."""

    name = "spatter"
    split = "validation"
    param_names = ("loc", "scale", "sigma", "threshold", "intensity", "drip")
    tables = {"imagenet-p": ((0.65, 0.27, 3.7, 0.69, 0.6, (0.05, 0.1, 0.15, 0.7)),),
              "cifar-p": ((0.6, 0.265, 1.75, 0.7, 0.6, (0.2, 0.8)),)}  # fmt: skip
    pixel_params = ("sigma",)
    gray_native = False

    def sample(self, rng, shape, p):
        return {"noise": rng.standard_normal(shape[:2], dtype=np.float32) * np.float32(p.scale) + np.float32(p.loc)}

    def frames(self, image, crop, p, *, noise):
        clean = _crop(image, crop)
        liquid = filters.gaussian_filter(noise[:, :, None], p.sigma)[:, :, 0].astype(np.float64)
        liquid[liquid < p.threshold] = 0
        out = []
        for _ in range(p.count):
            out.append(weather.water(clean, liquid.astype(np.float32), p.intensity))
            liquid = drip(liquid, p.drip)
        return _stack(out)


def drip(layer: np.ndarray, kernel) -> np.ndarray:
    """``np.convolve(column, kernel, mode="same")`` down every column of ``layer`` (zero beyond the edges).

    Examples
    --------
    >>> column = np.array([[0.0], [1.0], [0.0], [0.0]])
    >>> drip(column, (0.2, 0.8))[:, 0].tolist()
    [0.0, 0.2, 0.8, 0.0]
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    n = len(kernel)
    first = (n - 1) // 2  # where "same" starts inside the full convolution
    out = np.zeros_like(layer, dtype=np.float64)
    rows = layer.shape[0]
    for k, weight in enumerate(kernel):
        shift = k - first  # out[r] += weight * layer[r - shift]
        if shift >= 0:
            out[shift:] += weight * layer[: rows - shift]
        else:
            out[: rows + shift] += weight * layer[-shift:]
    return out


# -- geometric sweeps over the whole image, then the centre crop ----------------------------------------


def torchvision_affine_inverse(width: int, height: int, angle: float = 0.0, translate=(0.0, 0.0), scale: float = 1.0,
                               shear: float = 0.0) -> np.ndarray:  # fmt: skip
    """torchvision 0.3's ``_get_inverse_affine_matrix`` about ``(W/2 + 0.5, H/2 + 0.5)``, as the reference's
    ``trn_F.affine`` builds it for PIL, turned into pixel-index coordinates (PIL samples pixel centres at
    ``+0.5``): a 3 x 3 output-to-source map for ``kernels.warp.resample_affine``.

    Examples
    --------
    >>> torchvision_affine_inverse(8, 8, translate=(2, 0)) @ np.array([5.0, 3.0, 1.0])
    array([3., 3., 1.])
    """
    cx, cy = width * 0.5 + 0.5, height * 0.5 + 0.5
    a, s, inv = math.radians(angle), math.radians(shear), 1.0 / scale
    d = math.cos(a + s) * math.cos(a) + math.sin(a + s) * math.sin(a)
    m = [inv / d * v for v in (math.cos(a + s), math.sin(a + s), 0.0, -math.sin(a), math.cos(a), 0.0)]
    m[2] += m[0] * (-cx - translate[0]) + m[1] * (-cy - translate[1]) + cx
    m[5] += m[3] * (-cx - translate[0]) + m[4] * (-cy - translate[1]) + cy
    pil = np.array([[m[0], m[1], m[2]], [m[3], m[4], m[5]], [0.0, 0.0, 1.0]])
    half = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    return np.linalg.inv(half) @ pil @ half


class _Affine(Perturbation):
    geometric = True
    nearest: ClassVar[bool] = False

    def affine(self, i: int, p: Frames) -> dict:
        raise NotImplementedError

    def frames(self, image, crop, p):
        height, width = image.shape[:2]
        out = []
        for i in range(p.count):
            inverse = torchvision_affine_inverse(width, height, **self.affine(i, p))
            moved = warp.resample_affine(image, inverse, nearest=self.nearest)
            out.append(_crop(moved, crop))
        return _stack(out)


class TranslateSequence(_Affine):
    """Horizontal shift ``i - half`` px: -20 to +20 over 41 frames (imagenet-p), -7 to +8 over 16 (cifar-p);
    nearest neighbour (``trn_F.affine``'s default), black beyond the image."""

    name = "translate"
    param_names = ("half",)
    tables = {"imagenet-p": (20,), "cifar-p": (7,)}
    counts = {"imagenet-p": 41, "cifar-p": 16}
    nearest = True

    def frames_for(self, difficulty, profile, side=None):
        p = super().frames_for(difficulty, profile, side)
        return Frames(p.count, {**p.values, "px": p.side_ratio}, p.side_ratio)  # shifts in pixels, scaled per frame

    def affine(self, i, p):
        return {"translate": ((i - p.half) * p.px, 0.0)}


class RotateSequence(_Affine):
    """Rotation by ``i - 15`` degrees (bilinear)."""

    name = "rotate"
    param_names = ("step",)
    tables = {"imagenet-p": (1.0,), "cifar-p": (1.0,)}

    def affine(self, i, p):
        return {"angle": (i - p.middle) * p.step}


class ScaleSequence(_Affine):
    """Zoom by ``start + step i``: 0.40 to 1.15 (imagenet-p), 0.70 to 1.30 (cifar-p); bilinear, black beyond."""

    name = "scale"
    param_names = ("start", "step")
    tables = {"imagenet-p": ((0.40, 0.025),), "cifar-p": ((0.70, 0.02),)}

    def affine(self, i, p):
        return {"scale": p.start + p.step * i}


class ShearSequence(_Affine):
    """Shear by ``i - 15`` degrees (bilinear); validation."""

    name = "shear"
    split = "validation"
    param_names = ("step",)
    tables = {"imagenet-p": (1.0,), "cifar-p": (1.0,)}

    def affine(self, i, p):
        return {"shear": (i - p.middle) * p.step}


def tilt_matrix(width: int, height: int, degrees: float) -> np.ndarray:
    """The reference's homography: the image tilted by ``degrees`` about both axes (``phi = theta``),
    seen by a camera at focal length ``sqrt(W^2 + H^2)``: ``P2 @ T @ RX @ RY @ P1``."""
    phi = theta = np.deg2rad(degrees)
    f = np.sqrt(width**2 + height**2)
    p1 = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 1], [0, 0, 1]])
    rx = np.array([[1, 0, 0, 0], [0, np.cos(theta), -np.sin(theta), 0], [0, np.sin(theta), np.cos(theta), 0], [0, 0, 0, 1]])
    ry = np.array([[np.cos(phi), 0, -np.sin(phi), 0], [0, 1, 0, 0], [np.sin(phi), 0, np.cos(phi), 0], [0, 0, 0, 1]])
    t = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, f], [0, 0, 0, 1]])
    p2 = np.array([[f, 0, width / 2, 0], [0, f, height / 2, 0], [0, 0, 1, 0]])
    return p2 @ t @ rx @ ry @ p1


class TiltSequence(Perturbation):
    """A perspective tilt by ``(i - 15) * step`` degrees about both axes (``cv2.warpPerspective``,
    bilinear, black beyond): step 1 (imagenet-p), 0.75 (cifar-p)."""

    name = "tilt"
    param_names = ("step",)
    tables = {"imagenet-p": (1.0,), "cifar-p": (0.75,)}
    geometric = True

    def frames(self, image, crop, p):
        height, width = image.shape[:2]
        return _stack([_crop(warp.perspective(image, tilt_matrix(width, height, (i - p.middle) * p.step)), crop)
                       for i in range(p.count)])  # fmt: skip


_ORDER = (
    GaussianNoiseSequence, ShotNoiseSequence, MotionBlurSequence, ZoomBlurSequence, SnowSequence,
    BrightnessSequence, TranslateSequence, RotateSequence, TiltSequence, ScaleSequence,
    SpeckleNoiseSequence, GaussianBlurSequence, SpatterSequence, ShearSequence,
)  # fmt: skip
SEQUENCES: dict[str, Perturbation] = {cls.name: cls() for cls in _ORDER}
"""Every perturbation by name: the 10 test ones in ``make_imagenet_p.py``'s order, then the 4 validation ones."""
TEST_PERTURBATIONS: tuple[str, ...] = tuple(n for n, s in SEQUENCES.items() if s.split == "test")
VALIDATION_PERTURBATIONS: tuple[str, ...] = tuple(n for n, s in SEQUENCES.items() if s.split == "validation")
PERTURBATION_GROUPS = ("test", "validation", "all")


def get_sequence(name: str) -> Perturbation:
    """The perturbation called ``name``; ValueError naming the valid names otherwise."""
    try:
        return SEQUENCES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown perturbation {name!r}; valid names are {', '.join(SEQUENCES)}.") from None


def list_perturbations(group: str = "test") -> list[str]:
    """Perturbation names in ``make_imagenet_p.py``'s order: ``test`` (the 10 of mFR), ``validation`` (4), ``all``.

    Examples
    --------
    >>> list_perturbations("validation")
    ['speckle_noise', 'gaussian_blur', 'spatter', 'shear']
    """
    if group == "test":
        return list(TEST_PERTURBATIONS)
    if group == "validation":
        return list(VALIDATION_PERTURBATIONS)
    if group == "all":
        return list(SEQUENCES)
    raise ValueError(f"unknown perturbation group {group!r}; valid groups are {', '.join(PERTURBATION_GROUPS)}.")


def perturb_rgb_or_gray(pixels: np.ndarray, name: str, difficulty: int, rng: np.random.Generator, profile: str,
                        crop: tuple[int, int] | None = None) -> np.ndarray:  # fmt: skip
    """The sequence ``name`` of a uint8 ``H x W x 1`` or ``H x W x 3`` image: uint8 ``T x h x w x C``
    (the same C), frames of size ``crop`` (default: the image's own), centre-cropped from it."""
    spec = get_sequence(name)
    crop = tuple(crop or pixels.shape[:2])
    gray = pixels.shape[2] == 1
    work = pixels if (not gray or spec.gray_native) else np.repeat(pixels, 3, axis=2)
    p = spec.frames_for(difficulty, profile, min(crop))
    draws = spec.sample(rng, (*crop, work.shape[2]), p)
    frames = spec.frames(np.ascontiguousarray(work), crop, p, **draws)
    if gray and not spec.gray_native:
        frames = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[:, :, None] for f in frames])
    return frames


__all__ = [
    "DIFFICULTIES", "P_PROFILES", "PERTURBATION_GROUPS", "SEQUENCES", "TEST_PERTURBATIONS", "VALIDATION_PERTURBATIONS",
    "Frames", "Perturbation", "drip", "get_sequence", "list_perturbations", "perturb_rgb_or_gray", "tilt_matrix",
    "torchvision_affine_inverse",
]  # fmt: skip
