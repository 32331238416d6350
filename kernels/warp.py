"""Smooth geometric warps (elastic transform) on OpenCV's remap."""

from __future__ import annotations

import cv2
import numpy as np

from ._validate import image_hwc, same_hw
from .filters import apply_per_plane


def displace(image: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Sample ``image`` at ``(y + dy, x + dx)`` bilinearly, reflecting at the border.

    The same sampling as ``scipy.ndimage.map_coordinates(order=1, mode="reflect")`` used by
    the reference (half-sample symmetric reflection = OpenCV's ``BORDER_REFLECT``).
    """
    image = image_hwc(image)
    same_hw(image, dx, "dx")
    same_hw(image, dy, "dy")
    height, width = image.shape[:2]
    grid_x = np.arange(width, dtype=np.float32)[None, :] + dx.astype(np.float32)
    grid_y = np.arange(height, dtype=np.float32)[:, None] + dy.astype(np.float32)
    return apply_per_plane(
        lambda a: cv2.remap(a, grid_x, grid_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT), image
    )


def affine(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Warp by a 2 x 3 forward affine matrix, reflect-101 border (Hendrycks' CIFAR/Tiny elastic)."""
    image = image_hwc(image)
    height, width = image.shape[:2]
    return apply_per_plane(
        lambda a: cv2.warpAffine(a, matrix, (width, height), borderMode=cv2.BORDER_REFLECT_101), image
    )
