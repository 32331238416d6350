"""Input checks shared by the public kernel functions."""

from __future__ import annotations

import numpy as np


def image_hwc(image: np.ndarray, name: str = "image", dtype=np.float32) -> np.ndarray:
    """Return ``image`` as a C-contiguous ``H x W x C`` array of ``dtype`` or raise ValueError."""
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"{name} must be an H x W x C array; got shape {image.shape}.")
    if image.dtype != dtype:
        raise ValueError(f"{name} must have dtype {np.dtype(dtype).name}; got {image.dtype}.")
    return np.ascontiguousarray(image)


def same_hw(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"{what} must be {a.shape[:2]} to match the image; got {b.shape[:2]}.")
