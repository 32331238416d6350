"""Geometric family (MNIST-C): shear, scale, rotate, translate.

Each is an affine map about the image centre, MNIST-C's ``skimage.transform.warp(x,
inverse_map=aff)``: bilinear, zero outside the source. :meth:`warp` returns it so that
annotations move with the pixels (:mod:`corruptgen.geometry`). The default profile's five
severities are MNIST-C's own table (its function's ``c`` list); MNIST-C's released value is
the severity its function defaults to, named in each docstring. OpenCV resamples on a 1/32 px
grid, so pixels differ from scikit-image's by about a gray level at edges.
"""

from __future__ import annotations

import numpy as np

from corruptgen.geometry import AffineWarp

from .base import Corruption, Params, scale_free_tables

_SIDE = 28  # MNIST-C's parameters are in pixels of a 28 x 28 digit



def _random_sign(rng: np.random.Generator) -> int:
    return 1 if rng.integers(2) else -1


class _CentredAffine(Corruption):
    family = "geometric"
    can_warp = True

    def is_geometric(self, profile="imagenet"):
        return True

    def apply(self, image, p: Params, **draws):
        return self.warp(image.shape, p, **draws).image(image)


class _SignedAngle(_CentredAffine):
    param_names = ("angle",)
    tables = scale_free_tables((0.2, 0.4, 0.6, 0.8, 1.0), 0.4)

    @staticmethod
    def linear(a: float) -> np.ndarray:
        raise NotImplementedError

    def sample(self, rng, shape, p):
        return {"sign": _random_sign(rng)}

    def warp(self, shape, p: Params, *, sign):
        return AffineWarp.about_centre(self.linear(sign * p.angle), shape)


class Shear(_SignedAngle):
    """Shear by ``angle`` radians with a random sign; MNIST-C: 0.4 (severity 2).

    The matrix is scikit-image's before 0.20 (what MNIST-C was generated with): output
    ``(x, y)`` samples ``(x - sin(a) y, cos(a) y)`` about the centre. Newer scikit-image builds
    ``shear`` as ``tan(a)`` without the ``cos(a)``.
    """

    name = "shear"

    @staticmethod
    def linear(a):
        return np.array([[1.0, -np.sin(a)], [0.0, np.cos(a)]])


class Rotate(_SignedAngle):
    """Rotate by ``angle`` radians about the centre with a random sign; MNIST-C: 0.4 (severity 2)."""

    name = "rotate"

    @staticmethod
    def linear(a):
        return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


class Scale(_CentredAffine):
    """Shrink the content to ``factor`` of its size about the centre; MNIST-C: 0.7 (severity 3)."""

    name = "scale"
    param_names = ("factor",)
    random = False
    tables = scale_free_tables((0.9, 0.8, 0.7, 0.6, 0.5), 0.7)

    def warp(self, shape, p: Params):
        return AffineWarp.about_centre(np.eye(2) / p.factor, shape)


class Translate(_CentredAffine):
    """Shift by ``shift`` (in 28ths of the image's width and height) with a random sign on each
    axis; MNIST-C: 3 px on a 28 px digit (severity 3)."""

    name = "translate"
    param_names = ("shift",)
    tables = scale_free_tables((1, 2, 3, 4, 5), 3)

    def sample(self, rng, shape, p):
        return {"signs": (_random_sign(rng), _random_sign(rng))}

    def warp(self, shape, p: Params, *, signs):
        shift = (signs[0] * p.shift * shape[1] / _SIDE, signs[1] * p.shift * shape[0] / _SIDE)
        return AffineWarp.about_centre(np.eye(2), shape, shift)
