"""Blur family: defocus_blur, glass_blur, motion_blur, zoom_blur, gaussian_blur."""

from __future__ import annotations

import numpy as np

from corruptgen.kernels import filters, glass, motion, zoom
from corruptgen.kernels.counter import draw_key

from .base import Corruption, Params


class DefocusBlur(Corruption):
    """Convolution with an anti-aliased disk (the reference's ``disk()``, bit for bit), summed
    exactly over the image's levels (``kernels.filters.defocus_blur``): within 0.013 gray levels
    of the reference's float64 ``cv2.filter2D`` before truncation."""

    name = "defocus_blur"
    family = "blur"
    param_names = ("radius", "alias_blur")
    random = False
    dtype = "uint8"
    tables = {
        "imagenet": ((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)),
        "cifar": ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)),
        "tinyimagenet": ((0.5, 0.6), (1, 0.1), (1.5, 0.1), (2.5, 0.01), (3, 0.1)),
    }

    def apply(self, image, p: Params):
        return filters.defocus_blur(image, p.radius, p.alias_blur, quantised=True)


class GlassBlur(Corruption):
    """Blur, shuffle pixels locally, blur again.

    Reference quirks kept on purpose: the shuffle *copies* the neighbour onto the pixel
    rather than swapping (the reference's tuple swap of two NumPy views copies on RGB
    arrays), offsets are drawn from ``[-max_delta, max_delta)`` (``randint`` excludes the
    upper bound), and the first blur is truncated to uint8 before the shuffle. The offsets come
    from one 64-bit key expanded by a counter stream (``glass.offsets_from_key``).

    ``mnist-c``: MNIST-C's loop on a 2-D digit, where the tuple swap of two scalars really
    swaps, and each pixel is visited with probability ``swap_probability`` (0.5). Its ``sigma`` is
    ``(0.7, 0)``, (rows, columns): MNIST-C's ``gaussian(x, 0.7, multichannel=True)`` ran on a 2-D
    digit, which scikit-image before 0.19 took for rows x channels and blurred along axis 0 only.
    """

    name = "glass_blur"
    family = "blur"
    param_names = ("sigma", "max_delta", "iterations", "swap_probability")
    tables = {
        "imagenet": ((0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)),
        "cifar": ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)),
        "tinyimagenet": ((0.1, 1, 1), (0.5, 1, 1), (0.6, 1, 2), (0.7, 2, 1), (0.9, 2, 2)),
        "mnist-c": (((0.7, 0.0), 1, 2, 0.5),),
    }
    defaults = {"swap_probability": None}

    def sample(self, rng, shape, p):
        return {"key": draw_key(rng)}

    def apply(self, image, p: Params, *, key):
        return glass.glass_blur_from_key(image, p.sigma, p.max_delta, key, p.iterations, p.swap_probability)


class MotionBlur(Corruption):
    """imagecorruptions' NumPy motion blur (not ImageMagick's): Gaussian-weighted shifted copies
    along a direction drawn from U(-45, 45) degrees, edges replicated."""

    name = "motion_blur"
    family = "blur"
    param_names = ("radius", "sigma")
    tables = {
        "imagenet": ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15)),
        "cifar": ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)),
        "tinyimagenet": ((10, 1), (10, 1.5), (10, 2), (10, 2.5), (12, 3)),
        "mnist-c": ((10, 3),),
    }

    def sample(self, rng, shape, p):
        return {"angle": float(rng.uniform(-45, 45))}

    def apply(self, image, p: Params, *, angle):
        shifts, weights = motion.motion_taps(p.radius, p.sigma, angle, image.shape[0], image.shape[1])
        return motion.motion_blur(image, shifts, weights, quantised=True)


def _zooms(stop: float, step: float) -> tuple[float, ...]:
    return tuple(float(z) for z in np.arange(1, stop, step))


class ZoomBlur(Corruption):
    """Mean of the image and centred zooms of it (``np.arange`` zoom factors, as the reference)."""

    name = "zoom_blur"
    family = "blur"
    param_names = ("zooms",)
    random = False
    tables = {
        "imagenet": (_zooms(1.11, 0.01), _zooms(1.16, 0.01), _zooms(1.21, 0.02), _zooms(1.26, 0.02), _zooms(1.31, 0.03)),
        "cifar": tuple(_zooms(stop, 0.01) for stop in (1.06, 1.11, 1.16, 1.21, 1.26)),
        "tinyimagenet": tuple(_zooms(stop, 0.01) for stop in (1.06, 1.11, 1.16, 1.21, 1.26)),
    }

    def apply(self, image, p: Params):
        return zoom.zoom_blur(image, p.zooms)


class GaussianBlur(Corruption):
    """``skimage.filters.gaussian`` (sigma in pixels, truncate 4, nearest border)."""

    name = "gaussian_blur"
    family = "blur"
    param_names = ("sigma",)
    random = False
    tables = {
        "imagenet": (1, 2, 3, 4, 6),
        "cifar": (0.4, 0.6, 0.7, 0.8, 1),
        "tinyimagenet": (0.5, 0.75, 1, 1.25, 1.5),
    }

    def apply(self, image, p: Params):
        return filters.gaussian_filter(image, p.sigma)
