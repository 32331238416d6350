"""ImageNet-C-bar and CIFAR-10-C-bar (Mintun et al., NeurIPS 2021): 15 held-out corruptions.

facebookresearch/augmentation-corruption's ``imagenet_c_bar/corrupt.py`` is the reference. Its
severity is a real-valued magnitude from 0 to 10 (every parameter is ``magnitude * max / 10``); the
profiles ``imagenet-cbar`` and ``cifar-cbar`` name the five magnitudes of its benchmark CSVs
(``imagenet_c_bar.csv``, ``cifar10_c_bar.csv``) as severities 1-5, and ``corrupt(...,
magnitude=m)`` runs any magnitude. Each class draws what the reference's ``sample_parameters``
draws, in its order, from the output's generator (never the global ``np.random``), none of it
depending on the magnitude: one image gets the same layout at every severity. The kernels
(:mod:`corruptgen.kernels.cbar`) give the reference's pixels fed the same draws.

Sizes: the reference assumes a square ``im_size``; here lengths scale with the shorter side ``n``
(the longer for the lines and the checkerboard's cell grid, which must cover the image), positions
with each axis, so a square image gets the reference's constants. Grey images are corrupted as RGB
and converted back. pinch_and_twirl's grid is 5 x 5 from 224 px up (the reference: at 224 exactly)
and 3 x 3 below. The distortions (caustic_refraction, pinch_and_twirl, ripple) move pixels locally,
not objects: like ImageNet-C's elastic transform, they carry annotations unchanged.
"""

from __future__ import annotations

import numpy as np

from corruptgen.kernels import cbar

from .base import Corruption, Params

IMAGENET_CBAR: tuple[str, ...] = (
    "caustic_refraction", "inverse_sparkles", "sparkles", "perlin_noise", "blue_noise_sample", "plasma_noise",
    "checkerboard_cutout", "cocentric_sine_waves", "single_frequency_greyscale", "brownish_noise",
)  # fmt: skip
"""ImageNet-C-bar's 10, in ``imagenet_c_bar.csv``'s order."""
CIFAR_CBAR: tuple[str, ...] = (
    "blue_noise_sample", "checkerboard_cutout", "inverse_sparkles", "pinch_and_twirl", "ripple", "brownish_noise",
    "circular_motion_blur", "lines", "sparkles", "transverse_chromatic_abberation",
)  # fmt: skip
"""CIFAR-10-C-bar's 10, in ``cifar10_c_bar.csv``'s order."""


def scaled(magnitude: float, maximum: float) -> float:
    """The reference's ``float_parameter``: ``magnitude * maximum / 10`` in its float order."""
    return float(magnitude) * maximum / 10.0


def _short(shape) -> int:
    return min(shape[0], shape[1])


def _long(shape) -> int:
    return max(shape[0], shape[1])


class _CBar(Corruption):
    param_names = ("magnitude",)
    dtype = "uint8"
    gray_native = False  # colour fields and per-channel zooms: grey goes through RGB
    draws_per_severity = False  # one image, one layout at every magnitude, as the reference


class _SeededField(_CBar):
    """A corruption whose only draw is the seed of its ``RandomState`` (the reference's bulk noise)."""

    def sample(self, rng, shape, p):
        return {"seed": int(rng.integers(0, 2**32))}


class SingleFrequencyGreyscale(_CBar):
    """A plane wave of random direction and frequency (up to Nyquist) added in grey, amplitude
    ``19.6 m``. Its frequency is in radians per pixel, so it does not scale with the image."""

    name = "single_frequency_greyscale"
    family = "noise"
    tables = {"imagenet-cbar": (1.0, 1.5, 2.0, 4.5, 5.0)}

    def sample(self, rng, shape, p):
        magnitude = rng.uniform(-np.pi, np.pi)
        other = rng.uniform(-abs(magnitude), abs(magnitude))
        freq = np.array([magnitude, other])[rng.permutation(2)]
        return {"freq": (float(freq[0]), float(freq[1])), "phase": float(rng.uniform(0, 2 * np.pi))}

    def apply(self, image, p: Params, *, freq, phase):
        return cbar.single_frequency_greyscale(image, freq, phase, scaled(p.magnitude, 196))


class CocentricSineWaves(_CBar):
    """Rings about a random point (a sawtooth of the distance, wobbled around the circle), added
    with amplitude ``6.4 m``; the benchmark's spelling."""

    name = "cocentric_sine_waves"
    family = "noise"
    tables = {"imagenet-cbar": (3.0, 5.0, 8.0, 9.0, 10.0)}

    def sample(self, rng, shape, p):
        offset = rng.uniform(0, [shape[1], shape[0]])  # (x, y)
        n = _short(shape)
        return {"offset": tuple(map(float, offset)), "freq": float(rng.uniform(0, 10)),
                "amplitude": float(rng.uniform(0, n / 10)), "ring_width": float(rng.uniform(0, n / 10))}  # fmt: skip

    def apply(self, image, p: Params, *, offset, freq, amplitude, ring_width):
        return cbar.cocentric_sine_waves(image, offset, freq, amplitude, ring_width, scaled(p.magnitude, 128))


class PlasmaNoise(_CBar):
    """A coloured plasma field (4-6 warps of a sine lattice) blended in with weight ``6.4 m / 255``."""

    name = "plasma_noise"
    family = "noise"
    tables = {"imagenet-cbar": (4.75, 7.0, 8.5, 9.25, 10.0)}

    def sample(self, rng, shape, p):
        time = float(rng.uniform(0, 6 * np.pi))
        iterations = int(rng.integers(4, 7))
        sharpness = float(rng.uniform(0.5, 1.0))
        return {"time": time, "iterations": iterations, "sharpness": sharpness,
                "scale": float(rng.uniform(0.075, 0.2) * _short(shape))}  # fmt: skip

    def apply(self, image, p: Params, *, time, iterations, sharpness, scale):
        return cbar.plasma_noise(image, time, iterations, sharpness, scale, scaled(p.magnitude, 64))


class Sparkles(_CBar):
    """Five white stars of 50-199 rays at random places, radius ``0.01 m n``."""

    name = "sparkles"
    family = "weather"
    tables = {"imagenet-cbar": (1.0, 2.0, 3.0, 5.0, 6.0), "cifar-cbar": (0.7, 3.5, 5.6, 6.3, 7.0)}

    def sample(self, rng, shape, p):
        centers = rng.uniform(0, [shape[0], shape[1]], size=(5, 2))  # (row, col)
        seed = int(rng.integers(0, 2**32))
        return {"centers": centers.tolist(), "seed": seed, "nrays": rng.integers(50, 200, size=5).tolist()}

    def apply(self, image, p: Params, *, centers, seed, nrays):
        return cbar.sparkles(image, np.asarray(centers), scaled(p.magnitude, 0.1) * _short(image.shape), nrays, seed)


class InverseSparkles(_CBar):
    """The image seen through one star (radius ``n / 4``) on white; the fall-off sharpens with ``m``."""

    name = "inverse_sparkles"
    family = "weather"
    tables = {"imagenet-cbar": (1.0, 2.0, 4.0, 9.0, 10.0), "cifar-cbar": (1.0, 1.5, 2.5, 4.5, 5.0)}

    def sample(self, rng, shape, p):
        center = rng.uniform(0.25, 0.75, size=2) * [shape[0], shape[1]]
        seed = int(rng.integers(0, 2**32))
        return {"center": center.tolist(), "seed": seed, "rays": int(rng.integers(50, 200))}

    def apply(self, image, p: Params, *, center, seed, rays):
        return cbar.inverse_sparkles(image, np.asarray(center), 0.25 * _short(image.shape), rays,
                                     100 - scaled(p.magnitude, 65), seed)  # fmt: skip


class PerlinNoise(_SeededField):
    """A grey haze of Perlin turbulence (one noise unit per ``n / 7`` px) blended in with weight ``0.05 m``."""

    name = "perlin_noise"
    family = "noise"
    tables = {"imagenet-cbar": (4.6, 5.2, 5.8, 7.6, 8.8)}

    def apply(self, image, p: Params, *, seed):
        return cbar.perlin_noise(image, seed, scaled(p.magnitude, 0.5), 1 / (32 * _short(image.shape) / 224))


class BlueNoiseSample(_SeededField):
    """Black out the pixels where a blue-noise field falls under ``0.3 m - 2.5`` standard deviations."""

    name = "blue_noise_sample"
    family = "noise"
    tables = {"imagenet-cbar": (0.8, 1.6, 2.4, 4.0, 5.6), "cifar-cbar": (0.7, 1.4, 2.1, 3.5, 4.2)}

    def apply(self, image, p: Params, *, seed):
        return cbar.blue_noise_sample(image, seed, scaled(p.magnitude, 3.0) - 2.5)


class BrownishNoise(_SeededField):
    """Add brown-ish (``1 / (k^2 + 1)``) noise per channel, amplitude ``6.4 m``; its DC term gives each
    channel a random cast, as in the reference."""

    name = "brownish_noise"
    family = "noise"
    tables = {"imagenet-cbar": (1.0, 2.0, 3.0, 4.0, 5.0), "cifar-cbar": (2.5, 4.0, 5.5, 6.5, 7.0)}

    def apply(self, image, p: Params, *, seed):
        return cbar.brownish_noise(image, seed, scaled(p.magnitude, 64))


class CheckerboardCutout(_CBar):
    """A rotated checkerboard of ``0.1-0.25 n`` px cells; each cell of one colour is greyed out with
    probability ``0.1 m``."""

    name = "checkerboard_cutout"
    family = "digital"
    tables = {"imagenet-cbar": (2.0, 3.0, 4.0, 5.0, 6.0), "cifar-cbar": (1.0, 2.0, 3.0, 4.0, 5.0)}

    def sample(self, rng, shape, p):
        angle = float(rng.uniform(0, 2 * np.pi))
        scale = float(max(rng.uniform(0.1, 0.25) * _short(shape), 1))
        return {"angle": angle, "scale": scale, "seed": int(rng.integers(0, 2**32))}

    def apply(self, image, p: Params, *, angle, scale, seed):
        return cbar.checkerboard_cutout(image, angle, scale, scaled(p.magnitude, 1.0), seed)


class CausticRefraction(_CBar):
    """The image seen through rippling water: a caustic pattern refracts it by up to ``0.05 m n`` px
    and lights it by ``0.2 m``."""

    name = "caustic_refraction"
    family = "weather"
    tables = {"imagenet-cbar": (2.35, 3.2, 4.9, 6.6, 9.15)}

    def sample(self, rng, shape, p):
        time = float(rng.uniform(0.5, 2.0))
        return {"time": time, "size": float(rng.uniform(0.75, 1.25) * _short(shape))}

    def apply(self, image, p: Params, *, time, size):
        n = _short(image.shape)
        return cbar.caustic_refraction(image, time, size, scaled(p.magnitude, 0.5 * n), scaled(p.magnitude, 2.0))


class PinchAndTwirl(_CBar):
    """A grid of cells (3 x 3, or 5 x 5 from 224 px up), each pinched and twirled by ``+-m pi / 20``
    (the sign drawn per cell) within its inscribed circle."""

    name = "pinch_and_twirl"
    family = "digital"
    tables = {"cifar-cbar": (5.5, 6.0, 6.5, 8.5, 10.0)}

    def sample(self, rng, shape, p):
        cells = 5 if _short(shape) >= 224 else 3
        return {"signs": rng.choice([1, -1], size=(cells, cells)).tolist()}

    def apply(self, image, p: Params, *, signs):
        angles = np.asarray(signs, float) * scaled(p.magnitude, np.pi / 2)
        return cbar.pinch_and_twirl(image, angles, scaled(p.magnitude, 0.4) + 0.1)


class Ripple(_CBar):
    """Both axes displaced by a sine of random wavelength (``0.1-0.3`` of the side) and phase,
    amplitude ``0.0025 m`` of the side."""

    name = "ripple"
    family = "digital"
    tables = {"cifar-cbar": (5.5, 6.0, 6.5, 7.5, 8.0)}

    def sample(self, rng, shape, p):
        wavelengths = rng.uniform(0.1, 0.3, size=2) * [shape[0], shape[1]]
        return {"wavelengths": wavelengths.tolist(), "phases": rng.uniform(0, 2 * np.pi, size=2).tolist()}

    def apply(self, image, p: Params, *, wavelengths, phases):
        amplitudes = scaled(p.magnitude, 0.025) * np.array([image.shape[0], image.shape[1]], float)
        return cbar.ripple(image, amplitudes, wavelengths, phases)


class CircularMotionBlur(_CBar):
    """Blur along circles about the centre: 21 rotations within ``+-1.5 m`` degrees, Gaussian-weighted."""

    name = "circular_motion_blur"
    family = "blur"
    random = False
    tables = {"cifar-cbar": (2.8, 3.6, 4.4, 5.2, 6.0)}

    def apply(self, image, p: Params):
        return cbar.circular_motion_blur(image, scaled(p.magnitude, 15))


class Lines(_CBar):
    """``0.1 m`` of the side's count of grey anti-aliased lines, as long as the side, around a
    random direction."""

    name = "lines"
    family = "digital"
    tables = {"cifar-cbar": (0.5, 1.0, 1.5, 2.0, 2.5)}

    def sample(self, rng, shape, p):
        angle = float(rng.uniform(0, 2 * np.pi))
        variation = float(rng.uniform(0.1, 1.0))
        return {"angle": angle, "angle_variation": variation, "seed": int(rng.integers(0, 2**32))}

    def apply(self, image, p: Params, *, angle, angle_variation, seed):
        count = int(scaled(p.magnitude, 1.0) * _long(image.shape))
        return cbar.lines(image, count, angle, angle_variation, seed)


class TransverseChromaticAbberation(_CBar):
    """The channels zoomed by 1, ``1 + 0.025 m`` and ``1 + 0.05 m`` in a random order: colour fringes
    toward the edges; the benchmark's spelling."""

    name = "transverse_chromatic_abberation"
    family = "digital"
    tables = {"cifar-cbar": (1.0, 2.0, 5.0, 9.0, 10.0)}

    def sample(self, rng, shape, p):
        return {"order": rng.permutation(3).tolist()}

    def apply(self, image, p: Params, *, order):
        scale = scaled(p.magnitude, 0.5)
        return cbar.transverse_chromatic_abberation(image, np.array([1.0, 1.0 + scale / 2, 1.0 + scale])[order])


CLASSES = (
    CausticRefraction, InverseSparkles, Sparkles, PerlinNoise, BlueNoiseSample, PlasmaNoise, CheckerboardCutout,
    CocentricSineWaves, SingleFrequencyGreyscale, BrownishNoise,
    PinchAndTwirl, Ripple, CircularMotionBlur, Lines, TransverseChromaticAbberation,
)  # fmt: skip
"""ImageNet-C-bar's 10 in its order, then CIFAR-10-C-bar's other 5 in theirs."""
