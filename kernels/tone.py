"""Per-channel tone curves on uint8 images, applied as 256-entry lookup tables."""

from __future__ import annotations

import cv2
import numpy as np

from ._validate import image_hwc


def _quantise_curve(curve: np.ndarray) -> np.ndarray:
    """Float [0, 1] curve -> uint8 table, truncating as the reference's ``np.uint8`` does."""
    return (np.clip(curve, 0, 1) * 255).astype(np.uint8)


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


def add_value(levels: np.ndarray, delta: float) -> np.ndarray:
    """``clip(x + delta, 0, 1)``: brightness of a single-channel image (its HSV value is the level)."""
    levels = image_hwc(levels, "levels", np.uint8)
    ramp = np.arange(256, dtype=np.float64) / 255.0 + delta
    return apply_tables(levels, np.repeat(_quantise_curve(ramp)[None, :], levels.shape[2], axis=0))
