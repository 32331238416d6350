"""Codec-based corruptions on uint8 images, bit-identical to the reference's Pillow calls."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

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
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if color else pixels,
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])  # fmt: skip
    if not ok:
        raise ValueError("OpenCV could not encode the image as JPEG.")
    if color and _DECODE_RGB is not None:  # libjpeg-turbo writes RGB directly: no conversion pass
        return cv2.imdecode(buf, _DECODE_RGB)
    if color:
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).reshape(pixels.shape)


def pixelate(pixels: np.ndarray, factor: float) -> np.ndarray:
    """Box-downscale by ``factor`` and scale back up with nearest neighbour (imagecorruptions 1.1.2).

    The downscale is Pillow's ``resize(BOX)`` itself (its pass order and fixed-point weights vary
    between Pillow versions); the upscale is OpenCV's ``INTER_NEAREST_EXACT``, which picks the
    same pixels as Pillow's ``NEAREST`` (tested over thousands of sizes), straight into the output
    without a round trip through a full-size Pillow image. The reduced size is ``int(side * factor)``, at least 1 pixel (the
    reference fails on a zero size; we keep one pixel so that tiny images still work).
    """
    img = _to_pil(pixels)
    width, height = img.size
    small = np.asarray(img.resize((max(1, int(width * factor)), max(1, int(height * factor))), Image.BOX))
    out = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
    return out.reshape(height, width, pixels.shape[2])
