"""MNIST-C's drawn and edge artefacts (lines, dashes, zigzags, inverted stripes, Canny edges).

Coordinates are in MNIST-C's units: the image spans 0..27 on both axes whatever its pixel
size (``units`` = 28), so a stroke MNIST-C draws 2.3 rows wide on a digit is as wide, relative
to the image, on a 640 x 480 photograph; at 28 x 28 the layers equal MNIST-C's.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import image_hwc

UNITS = 28


def _grid(height: int, width: int, units: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.linspace(0, units - 1, height)[:, None], np.linspace(0, units - 1, width)[None, :])


def line_layer(height: int, width: int, c0: float, r0: float, c1: float, r1: float, *,
               stroke: float = 2.3, units: int = UNITS) -> np.ndarray:
    """MNIST-C's ``line_from_points``: an H x W float32 layer in [0, 1] along the segment.

    Intensity decays as ``log(1 - d / stroke) + 1`` with ``d`` the *vertical* distance (in units)
    to the line through ``(c0, r0)`` and ``(c1, r1)``, and is cut to the columns from
    ``floor(c0)`` up to but excluding ``ceil(c1)`` (so MNIST-C's dotted line, drawn to column 27,
    never lights column 27); a vertical segment (``c0 == c1``) draws nothing, as there.
    """
    if c1 == c0:
        return np.zeros((height, width), np.float32)
    rows, cols = _grid(height, width, units)
    slope = (r1 - r0) / (c1 - c0)
    dist = np.clip(np.abs(rows - (slope * (cols - c0) + r0)), 0, stroke - 1e-10)
    layer = np.clip(np.log(1 - dist / stroke) + 1, 0, 1)
    layer[:, (cols[0] < math.floor(c0)) | (cols[0] >= math.ceil(c1))] = 0
    return layer.astype(np.float32)


def dash_mask(width: int, *, dash: float = 2.0, units: int = UNITS) -> np.ndarray:
    """Which columns a dotted line keeps: ``dash`` units off, ``dash`` on, starting off at column 0."""
    cols = np.linspace(0, units - 1, width)
    return (np.floor(cols / dash) % 2 == 1).astype(np.float32)


def zigzag_points(r0: float, r1: float, *, c0: float = 2, c1: float = 25, length: float = 2.0,
                  amplitude: float = 2.0) -> np.ndarray:
    """MNIST-C's zigzag vertices (2 x n: columns, rows) from ``(c0, r0)`` towards ``(c1, r1)``,
    its odd last vertex included."""
    theta = math.atan((r1 - r0) / (c1 - c0))
    d = (c1 - c0) / math.cos(theta)
    points = [(0.0, 0.0)]
    r_i = 0.0
    for i in range(int((d - length) // (2 * length)) + 1):
        r_i = (-1) ** i * amplitude
        points.append(((2 * i + 1) * length, r_i))
    max_c = (2 * length) * (d // (2 * length))
    if d != max_c:
        points.append((d, r_i / (2 * (d - max_c))))
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    cs, rs = rotation @ np.array(points).T
    return np.stack([cs + c0, rs + r0])


def polyline_layer(height: int, width: int, points: np.ndarray, *, stroke: float = 2.3,
                   units: int = UNITS) -> np.ndarray:
    """The sum of :func:`line_layer` over consecutive vertices (2 x n: columns, rows)."""
    layer = np.zeros((height, width), np.float32)
    for i in range(1, points.shape[1]):
        layer += line_layer(height, width, points[0, i - 1], points[1, i - 1], points[0, i], points[1, i],
                            stroke=stroke, units=units)  # fmt: skip
    return layer


def add_layer(image: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """``clip(image + layer, 0, 1)`` on every channel (MNIST-C clips after each stroke; strokes are
    non-negative, so clipping once is the same)."""
    image = image_hwc(image)
    return np.clip(image + layer[:, :, None], 0, 1)


def invert_stripes(image: np.ndarray, fraction: float) -> np.ndarray:
    """Invert the outer ``fraction`` of columns on each side (MNIST-C: 7 of 28 columns, 0-6 and 21-27).
    uint8 in and out (``255 - x``, exact as MNIST-C's)."""
    image = image_hwc(image, dtype=np.uint8).copy()
    k = int(round(fraction * image.shape[1]))
    if k:
        image[:, :k] = 255 - image[:, :k]
        image[:, image.shape[1] - k :] = 255 - image[:, image.shape[1] - k :]
    return image


def canny_edges(image: np.ndarray, sigma: float, mix: float, *, units: int = UNITS) -> np.ndarray:
    """scikit-image's Canny edges on float64 luma (MNIST-C passes ``x / 255``), white on black,
    blended over the image with weight ``mix`` (1 = the edges alone).

    ``sigma`` is in 28ths of the shorter side. The gradient of a step blurred k times wider is
    k times weaker, so the default thresholds (0.1, 0.2) are divided by k = side / 28: the same
    edges at any size, and MNIST-C's exactly at 28 px.
    """
    image = image_hwc(image)
    k = min(image.shape[:2]) / units
    gray = image[:, :, 0] if image.shape[2] == 1 else image @ np.array([0.299, 0.587, 0.114], np.float32)
    from skimage.feature import canny  # here: skimage.feature imports scipy.ndimage (0.2 s)

    edges = canny(gray.astype(np.float64), sigma=sigma * k, low_threshold=0.1 / k, high_threshold=0.2 / k)
    edges = edges.astype(np.float32)[:, :, None]
    return image * np.float32(1 - mix) + edges * np.float32(mix)
