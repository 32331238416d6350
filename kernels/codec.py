"""Codec-based corruptions on uint8 images, bit-identical to the reference's Pillow calls."""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np
from numba import njit
from PIL import Image

from ._scratch import scratch
from ._validate import image_hwc

_DECODE_RGB = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.10


def _to_pil(pixels: np.ndarray) -> Image.Image:
    pixels = image_hwc(pixels, "pixels", np.uint8)
    if pixels.shape[2] not in (1, 3):
        raise ValueError(f"pixels must have 1 or 3 channels; got {pixels.shape[2]}.")
    return Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)


def jpeg_roundtrip(pixels: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG at ``quality`` (4:2:0 subsampling) and decode, through OpenCV's libjpeg-turbo.

    Bit-identical to the reference's Pillow round trip (same IJG tables and decoder settings;
    ``tests/test_fidelity.py`` checks it) and about twice as fast.
    """
    pixels = image_hwc(pixels, "pixels", np.uint8)
    if pixels.shape[2] not in (1, 3):
        raise ValueError(f"pixels must have 1 or 3 channels; got {pixels.shape[2]}.")
    color = pixels.shape[2] == 3
    # the BGR copy goes to a work array: the round trip then allocates only what the codec does
    bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR, dst=scratch("jpeg.bgr", pixels.shape, np.uint8)) if color else pixels
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("OpenCV could not encode the image as JPEG.")
    if color and _DECODE_RGB is not None:  # libjpeg-turbo writes RGB directly: no conversion pass
        return cv2.imdecode(buf, _DECODE_RGB)
    if color:
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).reshape(pixels.shape)


_PRECISION_BITS = 22  # Pillow's fixed point for 8-bit resampling (Resample.c)


@lru_cache(maxsize=128)
def _box_terms(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pillow's BOX coefficients (``precompute_coeffs`` + ``normalize_coeffs_8bpc``) as terms:
    output sample ``o`` is the sum over ``k`` of ``weights[o, k] * input[first[o] + k]``.
    Returns ``first`` and ``weights`` (int32, ``out x taps``)."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 0.5 * filterscale
    taps = int(math.ceil(support)) * 2 + 1
    first = np.zeros(out_size, dtype=np.int64)
    weights = np.zeros((out_size, taps), dtype=np.int32)  # Pillow's int: 255 * 2**22 fits
    for o in range(out_size):
        center = (o + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_size)
        t = (np.arange(lo, hi) - center + 0.5) * (1.0 / filterscale)
        k = ((t > -0.5) & (t <= 0.5)).astype(np.float64)
        if k.sum() != 0.0:
            k = k / k.sum()
        first[o] = lo
        weights[o, : hi - lo] = (0.5 + k * (1 << _PRECISION_BITS)).astype(np.int32)
    return first, weights


@njit(cache=True)
def _box_pass(rows, first, weights, out):
    """One Pillow BOX pass along the first axis: ``out[o] = clip8(sum_k weights[o, k] * rows[first[o] + k])``,
    each output row a SIMD loop over the (flattened) rest."""
    m = rows.shape[1]
    acc = np.empty(m, dtype=np.int32)
    for o in range(first.size):
        acc[:] = 1 << (_PRECISION_BITS - 1)
        for k in range(weights.shape[1]):
            w = weights[o, k]
            if w != 0:
                src = rows[first[o] + k]
                for i in range(m):
                    acc[i] += np.int32(src[i]) * w
        dst = out[o]
        for i in range(m):
            v = acc[i] >> _PRECISION_BITS
            dst[i] = np.uint8(0 if v < 0 else (255 if v > 255 else v))


def _box_downscale(pixels: np.ndarray, small_w: int, small_h: int) -> np.ndarray:
    """Pillow's ``resize((small_w, small_h), BOX)`` on an H x W x C uint8 array: its horizontal
    pass (on the transposed image, so that both passes run along rows), then its vertical one."""
    height, width, channels = pixels.shape
    columns = pixels
    if small_w != width:  # OpenCV's transpose (NumPy's is ten times slower on 3-byte pixels)
        transposed = cv2.transpose(pixels.reshape(height, width, channels)).reshape(width, height * channels)
        narrow = np.empty((small_w, height * channels), dtype=np.uint8)
        _box_pass(transposed, *_box_terms(width, small_w), narrow)
        columns = cv2.transpose(narrow.reshape(small_w, height, channels)).reshape(height, small_w, channels)
    if small_h == height:
        return columns
    out = np.empty((small_h, small_w * channels), dtype=np.uint8)
    _box_pass(columns.reshape(height, small_w * channels), *_box_terms(height, small_h), out)
    return out.reshape(small_h, small_w, channels)


def pixelate(pixels: np.ndarray, factor: float) -> np.ndarray:
    """Box-downscale by ``factor`` and scale back up with nearest neighbour (imagecorruptions 1.1.2).

    Bit-identical to Pillow's ``resize(BOX)`` then ``resize(NEAREST)`` (tested against the
    installed Pillow over many sizes): the box pass is Pillow's fixed-point arithmetic restated
    (horizontal pass first, as Pillow does for images up to twice as tall as wide; taller ones,
    where recent Pillow runs the vertical pass first, go through Pillow itself), the upscale is
    OpenCV's ``INTER_NEAREST_EXACT``, which picks Pillow's ``NEAREST`` pixels. The reduced size is
    ``int(side * factor)``, at least 1 pixel (the reference fails on a zero size; we keep one
    pixel so that tiny images still work).
    """
    pixels = image_hwc(pixels, "pixels", np.uint8)
    height, width, channels = pixels.shape
    small_w, small_h = max(1, int(width * factor)), max(1, int(height * factor))
    if height <= 2 * width:
        small = _box_downscale(pixels, small_w, small_h)
    else:
        small = np.asarray(_to_pil(pixels).resize((small_w, small_h), Image.BOX)).reshape(small_h, small_w, channels)
    out = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
    return out.reshape(height, width, channels)
