"""Noise family: gaussian_noise, shot_noise, impulse_noise, speckle_noise.

Each draws one 64-bit key; its kernel expands it into one uniform per value (a counter stream)
and samples the output level from the exact distribution the reference's float arithmetic
gives (see :mod:`corruptgen.kernels.noise`).
"""

from __future__ import annotations

from corruptgen.kernels import noise as k
from corruptgen.kernels.counter import draw_key

from .base import Corruption, Params


class GaussianNoise(Corruption):
    """Additive Gaussian noise, ``clip(x + N(0, sigma))`` on [0, 1], independent per channel."""

    name = "gaussian_noise"
    family = "noise"
    param_names = ("sigma",)
    tables = {
        "imagenet": (0.08, 0.12, 0.18, 0.26, 0.38),
        "cifar": (0.04, 0.06, 0.08, 0.09, 0.10),
        "tinyimagenet": (0.04, 0.08, 0.12, 0.15, 0.18),
    }

    dtype = "uint8"

    def sample(self, rng, shape, p):
        return {"key": draw_key(rng)}

    def apply(self, image, p: Params, *, key):
        return k.gaussian_noise(image, key, p.sigma)


class ShotNoise(Corruption):
    """Poisson (photon) noise, ``Poisson(x * c) / c``."""

    name = "shot_noise"
    family = "noise"
    param_names = ("photons",)
    tables = {
        "imagenet": (60, 25, 12, 5, 3),
        "cifar": (500, 250, 100, 75, 50),
        "tinyimagenet": (250, 100, 50, 30, 15),
        "mnist-c": (3,),
    }
    dtype = "uint8"

    def sample(self, rng, shape, p):
        return {"key": draw_key(rng)}

    def apply(self, image, p: Params, *, key):
        return k.shot_noise(image, key, p.photons)


class ImpulseNoise(Corruption):
    """Salt-and-pepper noise: each value becomes 0 or 1 with probability ``amount / 2`` each."""

    name = "impulse_noise"
    family = "noise"
    param_names = ("amount",)
    tables = {
        "imagenet": (0.03, 0.06, 0.09, 0.17, 0.27),
        "cifar": (0.01, 0.02, 0.03, 0.05, 0.07),
        "tinyimagenet": (0.01, 0.02, 0.05, 0.08, 0.14),
        "mnist-c": (0.17,),
    }
    dtype = "uint8"

    def sample(self, rng, shape, p):
        return {"key": draw_key(rng)}

    def apply(self, image, p: Params, *, key):
        return k.salt_and_pepper(image, key, p.amount)


class SpeckleNoise(Corruption):
    """Multiplicative noise, ``clip(x + x * N(0, sigma))``."""

    name = "speckle_noise"
    family = "noise"
    param_names = ("sigma",)
    tables = {
        "imagenet": (0.15, 0.2, 0.35, 0.45, 0.6),
        "cifar": (0.06, 0.1, 0.12, 0.16, 0.2),
        "tinyimagenet": (0.15, 0.2, 0.25, 0.3, 0.35),
    }

    dtype = "uint8"

    def sample(self, rng, shape, p):
        return {"key": draw_key(rng)}

    def apply(self, image, p: Params, *, key):
        return k.speckle_noise(image, key, p.sigma)
