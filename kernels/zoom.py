"""Zoom blur: the average of centred zooms, with scipy.ndimage.zoom's geometry on OpenCV."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ._validate import image_hwc


def clipped_zoom(image: np.ndarray, zoom: float, *, trim: bool = True) -> np.ndarray:
    """Crop the centre ``ceil(side / zoom)`` and scale it back up bilinearly.

    Same geometry as the reference's ``clipped_zoom``: ``scipy.ndimage.zoom(order=1)`` maps
    output index ``o`` to input ``o * (n_in - 1) / (n_out - 1)`` with
    ``n_out = round(n_in * zoom)``. The reference does not trim the result (it can be a pixel
    larger than the input); ``trim=True`` cuts it to the input's size.
    """
    image = image_hwc(image)
    height, width = image.shape[:2]
    crop_h, crop_w = int(math.ceil(height / zoom)), int(math.ceil(width / zoom))
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    out_h, out_w = int(round(crop_h * zoom)), int(round(crop_w * zoom))
    step_y = (crop_h - 1) / (out_h - 1) if out_h > 1 else 0.0
    step_x = (crop_w - 1) / (out_w - 1) if out_w > 1 else 0.0
    if trim:
        out_h, out_w = min(out_h, height), min(out_w, width)
    matrix = np.array([[step_x, 0.0, left], [0.0, step_y, top]], dtype=np.float64)
    out = cv2.warpAffine(
        image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    return out.reshape(out_h, out_w, image.shape[2])


def zoom_blur(image: np.ndarray, zooms) -> np.ndarray:
    """``(image + sum of clipped zooms) / (len(zooms) + 1)``."""
    image = image_hwc(image)
    acc = image.copy()
    for zoom in zooms:
        acc += clipped_zoom(image, float(zoom))
    acc *= np.float32(1.0 / (len(zooms) + 1))
    return acc
