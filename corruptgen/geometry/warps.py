"""Warps: how an output pixel samples its source, and how a source point lands in the output.

Coordinates are ``(x, y)`` = (column, row) with pixel centres on integers, OpenCV's and
scikit-image's convention; :mod:`.annotations` converts COCO's and VOC's conventions to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corruptgen.kernels import warp as warp_kernels


class Warp:
    """A map from source pixels to output pixels of the same size."""

    def points(self, xy: np.ndarray) -> np.ndarray:
        """Where source points ``xy`` (N x 2, float) land in the output."""
        raise NotImplementedError

    def image(self, image: np.ndarray, *, nearest: bool = False, fill: float = 0) -> np.ndarray:
        """Resample an H x W x C array (nearest neighbour for label maps; uncovered pixels = ``fill``)."""
        raise NotImplementedError

    def describe(self) -> dict:
        """The warp's parameters for a manifest row (JSON)."""
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class AffineWarp(Warp):
    """``inverse`` (3 x 3) maps output ``(x, y, 1)`` to the source, as scikit-image's ``inverse_map``."""

    inverse: np.ndarray

    @classmethod
    def about_centre(cls, linear: np.ndarray, shape: tuple[int, ...], shift=(0.0, 0.0)) -> AffineWarp:
        """Output-to-source map ``linear`` (2 x 2) that keeps the image centre ((W-1)/2, (H-1)/2)
        fixed (MNIST-C's translation trick, 13.5 at 28 px), then shifted by ``shift`` (source units)."""
        centre = np.array([(shape[1] - 1) / 2, (shape[0] - 1) / 2])
        inverse = np.eye(3)
        inverse[:2, :2] = linear
        inverse[:2, 2] = centre - linear @ centre + np.asarray(shift, dtype=float)
        return cls(inverse)

    @property
    def forward(self) -> np.ndarray:
        return np.linalg.inv(self.inverse)

    def points(self, xy):
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        m = self.forward
        return xy @ m[:2, :2].T + m[:2, 2]

    def image(self, image, *, nearest=False, fill=0):
        return warp_kernels.resample_affine(image, self.inverse, nearest=nearest, fill=fill)

    def describe(self):
        return {"type": "affine", "matrix": np.round(self.forward[:2], 6).tolist()}


@dataclass(frozen=True, eq=False)
class FieldWarp(Warp):
    """Output pixel ``(x, y)`` samples the source at ``(x + dx, y + dy)`` (the elastic transform)."""

    dx: np.ndarray
    dy: np.ndarray

    def points(self, xy):
        # The field maps output to source and need not be invertible (ImageNet-C's is rough and
        # folds), so a source point q lands on the output pixel p nearest to it after displacement,
        # searched within the field's reach, then moved by the remaining first-order offset.
        q = np.asarray(xy, dtype=float).reshape(-1, 2)
        height, width = self.dx.shape
        reach = int(np.ceil(max(np.abs(self.dx).max(), np.abs(self.dy).max()))) + 1
        out = np.empty_like(q)
        for n, (qx, qy) in enumerate(q):
            x0, y0 = int(np.clip(round(qx), 0, width - 1)), int(np.clip(round(qy), 0, height - 1))
            ys, xs = slice(max(y0 - reach, 0), y0 + reach + 1), slice(max(x0 - reach, 0), x0 + reach + 1)
            sx = self.dx[ys, xs] + np.arange(xs.start, xs.start + self.dx[ys, xs].shape[1])[None, :]
            sy = self.dy[ys, xs] + np.arange(ys.start, ys.start + self.dy[ys, xs].shape[0])[:, None]
            i, j = np.unravel_index(np.argmin((sx - qx) ** 2 + (sy - qy) ** 2), sx.shape)
            residual = np.clip([qx - sx[i, j], qy - sy[i, j]], -0.5, 0.5)
            out[n] = (xs.start + j + residual[0], ys.start + i + residual[1])
        return out

    def image(self, image, *, nearest=False, fill=0):
        if not nearest:
            return warp_kernels.displace(np.asarray(image, np.float32), self.dx, self.dy)
        return warp_kernels.resample_field(image, self.dx, self.dy, fill=fill)

    def describe(self):
        return {"type": "displacement", "max_px": round(float(np.hypot(self.dx, self.dy).max()), 3)}


@dataclass(frozen=True, eq=False)
class ChainWarp(Warp):
    """Warps applied one after the other (the CIFAR elastic transform's affine, then its field)."""

    steps: tuple[Warp, ...]

    def points(self, xy):
        for step in self.steps:
            xy = step.points(xy)
        return xy

    def image(self, image, *, nearest=False, fill=0):
        for step in self.steps:
            image = step.image(image, nearest=nearest, fill=fill)
        return image

    def describe(self):
        return {"type": "chain", "steps": [step.describe() for step in self.steps]}
