"""Snow, frost and spatter: compositing kernels over layers drawn by the caller."""

from __future__ import annotations

import math

import cv2
import numpy as np
from numba import njit

from ._scratch import scratch
from ._validate import image_hwc, same_hw
from .filters import gaussian_filter
from .motion import motion_blur, motion_taps
from .zoom import zoom_centre

_WATER_RGB = np.array([175, 238, 238], dtype=np.float32) / 255  # pale turquoise


@njit(cache=True, inline="always")
def _eight_bit(v):
    """``np.round(v * 255) / 255`` in float32: the layer quantised to 8 bits, as both references do."""
    return np.rint(v * np.float32(255.0)) / np.float32(255.0)


@njit(cache=True)
def _snow_composite(levels, layer, blend):
    """Composite the blurred flake ``layer`` (its top-left ``H x W``, quantised here) over ``levels``."""
    height, width, channels = levels.shape
    out = np.empty_like(levels)
    keep, rest = np.float32(blend), np.float32(1.0 - blend)
    scale = np.float32(1.0 / 255.0)
    n = width * channels
    flat_in, flat_out = levels.reshape(height, n), out.reshape(height, n)
    flakes = np.empty(n, dtype=np.float32)  # per value of the row, so the last loop is one SIMD pass
    whitened = np.empty(n, dtype=np.float32)
    for y in range(height):
        flakes_row, mirrored, src, dst = layer[y], layer[height - 1 - y], flat_in[y], flat_out[y]
        for x in range(width):
            f = _eight_bit(flakes_row[x]) + _eight_bit(mirrored[width - 1 - x])  # plus itself rotated 180 degrees
            i = x * channels
            if channels == 3:
                gray = np.float32(0.299) * np.float32(src[i]) + np.float32(0.587) * np.float32(src[i + 1]) \
                    + np.float32(0.114) * np.float32(src[i + 2])
            else:
                gray = np.float32(src[i])
            w = gray * np.float32(1.5 / 255.0) + np.float32(0.5)
            for c in range(channels):
                flakes[i + c] = f
                whitened[i + c] = w
        for k in range(n):
            v = np.float32(src[k]) * scale
            t = (keep * v + rest * max(v, whitened[k]) + flakes[k]) * np.float32(255.0)
            dst[k] = np.uint8(min(max(t, np.float32(0.0)), np.float32(255.0)))  # clip, truncate
    return out


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
    trim: str = "none",
) -> np.ndarray:
    """Snow: a zoomed, thresholded noise layer streaked by motion blur.

    Parameters
    ----------
    image : uint8 H x W x C (C = 1 or 3); uint8 comes back.
    noise : float, ``N(loc, scale)`` drawn by the caller for the centre of the image that the
        zoom reads: ``centre_crop_size(H, zoom) x centre_crop_size(W, zoom)``.
    angle : streak direction in degrees (the reference draws ``U(-135, -45)``).
    trim : ``"none"``: as imagecorruptions 1.1.2, the zoomed layer is blurred untrimmed (it can
        be up to ``zoom`` pixels larger than the image: 2 at 32 px and zoom 2.25) and the blurred
        layer's top-left ``H x W`` is kept; ``"centre"``: as Hendrycks' CIFAR and Tiny-ImageNet
        scripts, it is trimmed centrally to ``H x W`` before the blur.

    The layer is quantised to 8 bits before compositing, as in both.
    """
    image = image_hwc(image, dtype=np.uint8)
    height, width = image.shape[:2]
    layer = zoom_centre(np.asarray(noise, dtype=np.float32)[:, :, None], zoom, height, width, trim=trim)
    layer[layer < threshold] = 0
    np.clip(layer, 0, 1, out=layer)
    shifts, weights = motion_taps(blur_radius, blur_sigma, angle, layer.shape[0], layer.shape[1])
    layer = motion_blur(layer, shifts, weights)
    return _snow_composite(image, layer[:, :, 0], float(blend))


def frost_cover_size(texture_hw: tuple[int, int], height: int, width: int) -> tuple[int, int]:
    """The (height, width) the reference rescales a frost texture to: 1.1x what covers the image."""
    th, tw = texture_hw
    scale = 1.1 * max(1.0, height / th, width / tw)
    return int(math.ceil(th * scale)), int(math.ceil(tw * scale))


def frost_texture(texture_bgr: np.ndarray, height: int, width: int) -> np.ndarray:
    """Rescale a BGR uint8 frost photograph (bicubic) to :func:`frost_cover_size`."""
    th, tw = frost_cover_size(texture_bgr.shape[:2], height, width)
    return cv2.resize(texture_bgr, (tw, th), interpolation=cv2.INTER_CUBIC)


@njit(cache=True)
def _frost(levels, crop_bgr, image_weight, frost_weight):
    height, width, channels = levels.shape
    out = np.empty_like(levels)
    for y in range(height):
        src, tex, dst = levels[y], crop_bgr[y], out[y]
        for x in range(width):
            for c in range(3):
                v = image_weight * src[x, c] + frost_weight * tex[x, 2 - c]  # on the 0-255 scale, as the reference
                dst[x, c] = np.uint8(min(max(v, 0.0), 255.0))
    return out


def frost(levels: np.ndarray, texture_crop_bgr: np.ndarray, image_weight: float, frost_weight: float) -> np.ndarray:
    """``clip(image_weight * image + frost_weight * texture)`` on the 0-255 scale; uint8 RGB in and out.

    ``texture_crop_bgr`` is a BGR uint8 crop of the image's size (OpenCV's channel order, as
    the reference reads the photographs).
    """
    levels = image_hwc(levels, "levels", np.uint8)
    same_hw(levels, texture_crop_bgr, "texture crop")
    if levels.shape[2] != 3:
        raise ValueError(f"levels must have 3 channels (RGB); got {levels.shape[2]}.")
    return _frost(levels, np.ascontiguousarray(texture_crop_bgr), float(image_weight), float(frost_weight))


@njit(cache=True)
def _wrap_levels(liquid, out):
    """``uint8(liquid * 255)`` as the reference's ``astype(np.uint8)`` does on x86: truncate, wrap mod 256."""
    flat_in, flat_out = liquid.reshape(-1), out.reshape(-1)
    for i in range(flat_in.size):
        flat_out[i] = np.uint8(np.int64(flat_in[i] * np.float32(255.0)) & 255)


@njit(cache=True, inline="always")
def _level255(v, rounded):
    """A 0-255 float clipped and truncated to uint8 (rounded half to even with ``rounded``)."""
    v = min(max(v, np.float32(0.0)), np.float32(255.0))
    return np.uint8(np.rint(v)) if rounded else np.uint8(v)


@njit(cache=True)
def _tint(levels, mask, rgb, rounded):
    """``clip(x + mask * rgb)`` per channel, quantised: the water's last step, on 0-255 levels."""
    height, width, channels = levels.shape
    out = np.empty_like(levels)
    flat_in, flat_out = levels.reshape(height, width * channels), out.reshape(height, width * channels)
    tint = rgb * np.float32(255.0)
    for y in range(height):
        src, dst, m = flat_in[y], flat_out[y], mask[y]
        for x in range(width):
            for c in range(channels):
                i = x * channels + c
                dst[i] = _level255(np.float32(src[i]) + m[x] * tint[c], rounded)
    return out


@njit(cache=True)
def _cover(levels, mask, rgb, rounded):
    """``x * (1 - mask) + mask * rgb`` per channel, quantised: the mud's last step."""
    height, width, channels = levels.shape
    out = np.empty_like(levels)
    scale = np.float32(1.0 / 255.0)
    for y in range(height):
        src, dst, m = levels[y], out[y], mask[y]
        for x in range(width):
            for c in range(channels):
                v = (np.float32(src[x, c]) * scale * (np.float32(1.0) - m[x]) + m[x] * rgb[c]) * np.float32(255.0)
                dst[x, c] = _level255(v, rounded)
    return out


def spatter(
    levels: np.ndarray,
    noise: np.ndarray,
    *,
    sigma: float,
    threshold: float,
    intensity: float,
    mud: bool,
    mud_rgb: tuple[int, int, int] = (63, 42, 20),
    rounded: bool = False,
) -> np.ndarray:
    """imagecorruptions' spatter: water drops (``mud=False``) or mud splashes (``mud=True``); uint8
    RGB in and out.

    ``noise`` is an H x W ``N(loc, scale)`` layer drawn by the caller; it is blurred with
    ``sigma`` and values under ``threshold`` are cleared. Water follows the reference's
    Canny / distance-transform recipe and tints by pale turquoise; mud darkens with brown
    where the blurred mask exceeds 0.8 (``intensity`` is then the mask's blur sigma), in
    ``mud_rgb`` (0-255). The last step (tint or cover, clip, quantise: truncate, or round with
    ``rounded``) is one pass.
    """
    levels = image_hwc(levels, "levels", np.uint8)
    same_hw(levels, noise, "noise")
    if levels.shape[2] != 3:
        raise ValueError(f"levels must have 3 channels (RGB); got {levels.shape[2]}.")
    noise = np.ascontiguousarray(noise, dtype=np.float32)[:, :, None]
    liquid = gaussian_filter(noise, sigma, out=scratch("spatter.liquid", noise.shape))[:, :, 0]
    liquid[liquid < threshold] = 0
    if not mud:
        return water(levels, liquid, intensity, rounded=rounded)
    mask = (liquid > threshold).astype(np.float32)[:, :, None]
    mask = gaussian_filter(mask, intensity)[:, :, 0]
    mask[mask < 0.8] = 0
    return _cover(levels, np.ascontiguousarray(mask), np.asarray(mud_rgb, np.float32) / np.float32(255), bool(rounded))


def water(levels: np.ndarray, liquid: np.ndarray, intensity: float, *, rounded: bool = False) -> np.ndarray:
    """Water drops from a liquid layer: the reference's Canny / distance-transform recipe, tinted
    pale turquoise at up to ``intensity``; uint8 RGB in and out.

    ``liquid`` is the blurred, thresholded H x W float32 layer (:func:`spatter` makes it from its noise;
    ImageNet-P's spatter sequence lets it drip between frames). Quantised by truncation, or rounding
    with ``rounded``.
    """
    levels = image_hwc(levels, "levels", np.uint8)
    same_hw(levels, liquid, "liquid")
    height, width = levels.shape[:2]
    liquid8 = scratch("spatter.liquid8", (height, width), np.uint8)
    _wrap_levels(np.ascontiguousarray(liquid, dtype=np.float32), liquid8)
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
    if peak > 0:
        mask *= np.float32(intensity / peak)
    return _tint(levels, mask, _WATER_RGB, bool(rounded))
