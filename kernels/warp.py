"""Geometric warps on OpenCV: the elastic transform's displacement field and affine resampling."""

from __future__ import annotations

import cv2
import numpy as np

from ._scratch import scratch
from ._validate import image_hwc, same_hw
from .filters import apply_per_plane


def _sample_grid(dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel samples: ``(x + dx, y + dy)``, float32, for ``cv2.remap`` (in this
    thread's work arrays: callers only hand them to OpenCV)."""
    height, width = dx.shape[:2]
    grid_x = np.add(dx, np.arange(width, dtype=np.float32)[None, :], out=scratch("warp.x", (height, width)), dtype=np.float32)
    grid_y = np.add(dy, np.arange(height, dtype=np.float32)[:, None], out=scratch("warp.y", (height, width)), dtype=np.float32)
    return grid_x, grid_y


def displace(image: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Sample ``image`` at ``(y + dy, x + dx)`` bilinearly, reflecting at the border.

    The same sampling as ``scipy.ndimage.map_coordinates(order=1, mode="reflect")`` used by
    the reference (half-sample symmetric reflection = OpenCV's ``BORDER_REFLECT``).
    """
    image = image_hwc(image)
    same_hw(image, dx, "dx")
    same_hw(image, dy, "dy")
    height, width = image.shape[:2]
    grid_x, grid_y = _sample_grid(dx, dy)
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


def resample_affine(image: np.ndarray, inverse: np.ndarray, *, nearest: bool = False, fill: float = 0) -> np.ndarray:
    """Output pixel ``(x, y)`` takes the input at ``inverse @ (x, y, 1)``; outside the input is ``fill``.

    ``inverse`` is 2 x 3 or 3 x 3 (the output-to-input map, scikit-image's ``inverse_map``).
    Bilinear by default (scikit-image ``warp(order=1, mode="constant")``), nearest neighbour
    for label maps. Any dtype OpenCV remaps: float32 images, uint8 / uint16 label maps.
    """
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"image must be an H x W x C array; got shape {image.shape}.")
    height, width = image.shape[:2]
    flags = (cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    matrix = np.asarray(inverse, dtype=np.float64)[:2]
    return apply_per_plane(
        lambda a: cv2.warpAffine(a, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=fill),
        np.ascontiguousarray(image),
    )


def resample_field(image: np.ndarray, dx: np.ndarray, dy: np.ndarray, *, fill: float = 0) -> np.ndarray:
    """Nearest-neighbour :func:`displace` for label maps: samples outside the image are ``fill``
    (reflected content carries no label of its own)."""
    image = np.asarray(image)
    same_hw(image, dx, "dx")
    height, width = image.shape[:2]
    grid_x, grid_y = _sample_grid(dx, dy)
    return apply_per_plane(
        lambda a: cv2.remap(a, grid_x, grid_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=fill),
        np.ascontiguousarray(image),
    )


def perspective(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Warp by a 3 x 3 forward homography (``cv2.warpPerspective``: bilinear, zero outside the source),
    as ImageNet-P's tilt does."""
    image = np.ascontiguousarray(image)
    if image.ndim != 3:
        raise ValueError(f"image must be an H x W x C array; got shape {image.shape}.")
    height, width = image.shape[:2]
    matrix = np.asarray(matrix, dtype=np.float64)
    return apply_per_plane(lambda a: cv2.warpPerspective(a, matrix, (width, height)), image)


def centre_crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """torchvision's ``CenterCrop``: the offsets ``round((H - height) / 2)``, ``round((W - width) / 2)``
    (Python's rounding, half to even); a view.

    Examples
    --------
    >>> centre_crop(np.zeros((256, 341, 3)), 224, 224).shape
    (224, 224, 3)
    """
    top, left = int(round((image.shape[0] - height) / 2.0)), int(round((image.shape[1] - width) / 2.0))
    if top < 0 or left < 0:
        raise ValueError(f"cannot crop {height} x {width} from an image of {image.shape[0]} x {image.shape[1]}.")
    return image[top : top + height, left : left + width]
