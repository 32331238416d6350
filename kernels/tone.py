"""Per-channel tone curves on uint8 images, applied as 256-entry lookup tables."""

from __future__ import annotations

import cv2
import numpy as np

from ._validate import image_hwc


def _quantise_curve(curve: np.ndarray, rounded: bool = False) -> np.ndarray:
    """Float [0, 1] curve -> uint8 table, truncating as the reference's ``np.uint8`` does, or with
    ``rounded`` as MNIST-C: its functions return float32 levels, which ``np.round`` rounds."""
    levels = np.clip(curve, 0, 1) * 255
    return (np.rint(levels.astype(np.float32)) if rounded else levels).astype(np.uint8)


def apply_tables(levels: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """Map channel c of a uint8 H x W x C image through ``tables[c]`` (C x 256 uint8)."""
    levels = image_hwc(levels, "levels", np.uint8)
    if tables.shape != (levels.shape[2], 256):
        raise ValueError(f"tables must have shape ({levels.shape[2]}, 256); got {tables.shape}.")
    if levels.shape[2] == 1:
        return tables[0][levels]
    return cv2.LUT(levels, np.ascontiguousarray(tables.T).reshape(256, 1, levels.shape[2])).reshape(levels.shape)


def contrast(levels: np.ndarray, factor: float) -> np.ndarray:
    """Scale each channel's deviation from its mean by ``factor``: ``(x - m) * factor + m``."""
    levels = image_hwc(levels, "levels", np.uint8)
    channels = levels.shape[2]
    if channels <= 4:
        means = np.array(cv2.mean(levels)[:channels]) / 255.0
    else:
        means = levels.reshape(-1, channels).mean(axis=0) / 255.0
    ramp = np.arange(256, dtype=np.float64) / 255.0
    return apply_tables(levels, _quantise_curve((ramp[None, :] - means[:, None]) * factor + means[:, None]))


LUMA = np.array([0.2125, 0.7154, 0.0721])
"""scikit-image's ``rgb2gray`` weights (ITU-R 709)."""


def add_value(levels: np.ndarray, delta: float, *, rounded: bool = False, via_luma: bool = False) -> np.ndarray:
    """``clip(x + delta, 0, 1)``: brightness of a single-channel image (its HSV value is the level),
    truncated to levels (rounded with ``rounded``). ``via_luma``: the value goes back through
    ``rgb2gray``'s float64 weighted sum of three equal channels, as MNIST-C's grey -> RGB -> HSV ->
    RGB -> grey round trip does; the sum misses ``v`` by an ulp, enough to move an exact ``x.5``
    level across the rounding (13 of the 256 levels at MNIST-C's delta of 0.5)."""
    levels = image_hwc(levels, "levels", np.uint8)
    ramp = np.arange(256, dtype=np.float64) / 255.0 + delta
    if via_luma:
        ramp = np.repeat(np.clip(ramp, 0, 1)[:, None], 3, axis=1) @ LUMA
    return apply_tables(levels, np.repeat(_quantise_curve(ramp, rounded)[None, :], levels.shape[2], axis=0))
