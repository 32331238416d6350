"""Brightness and saturation edits in HSV space, without building the HSV image.

An HSV edit that keeps the hue changes each RGB channel by a closed form: with
``v = max(r, g, b)`` and ``s = (max - min) / max``, channel ``c = v * (1 - s * w_c)`` where
``w_c = (max - c) / (max - min)`` depends on the hue only. These kernels apply that form per
pixel and agree with ``skimage.color.rgb2hsv`` -> edit -> ``hsv2rgb`` up to float rounding;
grey pixels take scikit-image's hue 0 (red), as the reference does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._validate import image_hwc


@njit(cache=True)
def _brightness(image, delta):
    height, width, _ = image.shape
    out = np.empty_like(image)
    for y in range(height):
        for x in range(width):
            r, g, b = image[y, x, 0], image[y, x, 1], image[y, x, 2]
            v = max(r, g, b)
            v_new = min(v + delta, 1.0)
            if v > 0:
                f = v_new / v
                out[y, x, 0], out[y, x, 1], out[y, x, 2] = r * f, g * f, b * f
            else:
                out[y, x, 0] = out[y, x, 1] = out[y, x, 2] = v_new
    return out


@njit(cache=True)
def _saturate(image, scale, offset):
    height, width, _ = image.shape
    out = np.empty_like(image)
    for y in range(height):
        for x in range(width):
            r, g, b = image[y, x, 0], image[y, x, 1], image[y, x, 2]
            v = max(r, g, b)
            lo = min(r, g, b)
            spread = v - lo
            s = spread / v if v > 0 else 0.0
            s_new = min(max(s * scale + offset, 0.0), 1.0)
            if spread > 0:
                out[y, x, 0] = v - s_new * v * (v - r) / spread
                out[y, x, 1] = v - s_new * v * (v - g) / spread
                out[y, x, 2] = v - s_new * v * (v - b) / spread
            else:  # hue 0: red keeps v, green and blue take v * (1 - s)
                out[y, x, 0] = v
                out[y, x, 1] = out[y, x, 2] = v * (1.0 - s_new)
    return out


def _rgb(image: np.ndarray) -> np.ndarray:
    image = image_hwc(image)
    if image.shape[2] != 3:
        raise ValueError(f"image must have 3 channels (RGB); got {image.shape[2]}.")
    return image


def brightness(image: np.ndarray, delta: float) -> np.ndarray:
    """Add ``delta`` to the HSV value channel (clipped at 1), keeping hue and saturation."""
    return _brightness(_rgb(image), np.float32(delta))


def saturate(image: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """Set HSV saturation to ``clip(s * scale + offset, 0, 1)``, keeping hue and value."""
    return _saturate(_rgb(image), np.float32(scale), np.float32(offset))


def add_value(image: np.ndarray, delta: float) -> np.ndarray:
    """Brightness on a single-channel image: HSV value is the grey level itself."""
    return np.clip(image_hwc(image) + np.float32(delta), 0, 1)
