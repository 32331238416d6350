"""Snow, frost and spatter: compositing kernels over layers drawn by the caller."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ._validate import image_hwc, same_hw
from .filters import gaussian_filter
from .motion import motion_blur, motion_taps
from .zoom import clipped_zoom

_WATER_RGB = np.array([175, 238, 238], dtype=np.float32) / 255  # pale turquoise
_MUD_RGB = np.array([63, 42, 20], dtype=np.float32) / 255


def _luma(image: np.ndarray) -> np.ndarray:
    if image.shape[2] == 1:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]


def snow(
    image: np.ndarray,
    noise: np.ndarray,
    *,
    zoom: float,
    threshold: float,
    blur_radius: int,
    blur_sigma: float,
    angle: float,
    blend: float,
) -> np.ndarray:
    """imagecorruptions' snow: a zoomed, thresholded noise layer streaked by motion blur.

    Parameters
    ----------
    image : float32 H x W x C
    noise : float H x W, ``N(loc, scale)`` drawn by the caller.
    angle : streak direction in degrees (the reference draws ``U(-135, -45)``).

    As in the reference, the zoomed layer is not trimmed before the blur (it may be a pixel
    larger than the image) and is quantised to 8 bits before compositing.
    """
    image = image_hwc(image)
    same_hw(image, noise, "noise")
    height, width = image.shape[:2]
    layer = clipped_zoom(noise.astype(np.float32)[:, :, None], zoom, trim=False)
    layer[layer < threshold] = 0
    np.clip(layer, 0, 1, out=layer)
    shifts, weights = motion_taps(blur_radius, blur_sigma, angle, layer.shape[0], layer.shape[1])
    layer = motion_blur(layer, shifts, weights)
    layer = np.round(layer[:height, :width] * 255).astype(np.uint8).astype(np.float32) / 255
    whitened = np.maximum(image, _luma(image) * 1.5 + 0.5)
    out = blend * image + (1 - blend) * whitened
    return np.clip(out + layer + layer[::-1, ::-1], 0, 1)


def frost_cover_size(texture_hw: tuple[int, int], height: int, width: int) -> tuple[int, int]:
    """The (height, width) the reference rescales a frost texture to: 1.1x what covers the image."""
    th, tw = texture_hw
    scale = 1.1 * max(1.0, height / th, width / tw)
    return int(math.ceil(th * scale)), int(math.ceil(tw * scale))


def frost_texture(texture_bgr: np.ndarray, height: int, width: int) -> np.ndarray:
    """Rescale a BGR uint8 frost photograph (bicubic) to :func:`frost_cover_size`."""
    th, tw = frost_cover_size(texture_bgr.shape[:2], height, width)
    return cv2.resize(texture_bgr, (tw, th), interpolation=cv2.INTER_CUBIC)


def frost(image: np.ndarray, texture_crop_bgr: np.ndarray, image_weight: float, frost_weight: float) -> np.ndarray:
    """``clip(image_weight * image + frost_weight * texture, 0, 1)`` with a BGR uint8 crop."""
    image = image_hwc(image)
    same_hw(image, texture_crop_bgr, "texture crop")
    texture = texture_crop_bgr[:, :, ::-1].astype(np.float32) * np.float32(1 / 255)
    return np.clip(np.float32(image_weight) * image + np.float32(frost_weight) * texture, 0, 1)


def _wrap_uint8(values: np.ndarray) -> np.ndarray:
    """``float -> uint8`` as the reference's ``astype(np.uint8)`` does on x86: truncate, wrap mod 256."""
    return values.astype(np.int64).astype(np.uint8)


def spatter(
    image: np.ndarray,
    noise: np.ndarray,
    *,
    sigma: float,
    threshold: float,
    intensity: float,
    mud: bool,
) -> np.ndarray:
    """imagecorruptions' spatter: water drops (``mud=False``) or mud splashes (``mud=True``).

    ``noise`` is an H x W ``N(loc, scale)`` layer drawn by the caller; it is blurred with
    ``sigma`` and values under ``threshold`` are cleared. Water follows the reference's
    Canny / distance-transform recipe and tints by pale turquoise; mud darkens with brown
    where the blurred mask exceeds 0.8 (``intensity`` is then the mask's blur sigma).
    """
    image = image_hwc(image)
    same_hw(image, noise, "noise")
    if image.shape[2] != 3:
        raise ValueError(f"image must have 3 channels (RGB); got {image.shape[2]}.")
    liquid = gaussian_filter(noise.astype(np.float32)[:, :, None], sigma)[:, :, 0]
    liquid[liquid < threshold] = 0
    if not mud:
        liquid8 = _wrap_uint8(liquid * 255)
        dist = 255 - cv2.Canny(liquid8, 50, 150)
        dist = cv2.distanceTransform(dist, cv2.DIST_L2, 5)
        _, dist = cv2.threshold(dist, 20, 20, cv2.THRESH_TRUNC)
        dist = cv2.blur(dist, (3, 3)).astype(np.uint8)
        dist = cv2.equalizeHist(dist)
        ker = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
        dist = cv2.filter2D(dist, cv2.CV_8U, ker)
        dist = cv2.blur(dist, (3, 3)).astype(np.float32)
        mask = liquid8 * dist
        peak = mask.max()
        mask = mask / peak * intensity if peak > 0 else mask
        return np.clip(image + mask[:, :, None] * _WATER_RGB, 0, 1)
    mask = (liquid > threshold).astype(np.float32)[:, :, None]
    mask = gaussian_filter(mask, intensity)
    mask[mask < 0.8] = 0
    return np.clip(image * (1 - mask) + mask * _MUD_RGB, 0, 1)
