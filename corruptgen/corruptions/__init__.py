"""The corruption catalogue.

One class per corruption in the family modules (``noise``, ``blur``, ``weather``,
``digital``, ``geometric``, ``artifact``), and ImageNet-C-bar's and CIFAR-10-C-bar's held-out
ones in ``cbar``; each holds its severity tables per profile, its random draws and its apply. The
kernels they call live in :mod:`corruptgen.kernels`.
"""

from __future__ import annotations

from .artifact import CannyEdges, DottedLine, Stripe, Zigzag
from .base import FAMILIES, PROFILES, SEVERITIES, Corruption, Params
from .blur import DefocusBlur, GaussianBlur, GlassBlur, MotionBlur, ZoomBlur
from .cbar import CIFAR_CBAR, IMAGENET_CBAR
from .cbar import CLASSES as CBAR_CLASSES
from .digital import Contrast, ElasticTransform, Identity, JpegCompression, Pixelate, Saturate
from .geometric import Rotate, Scale, Shear, Translate
from .noise import GaussianNoise, ImpulseNoise, ShotNoise, SpeckleNoise
from .registry import REGISTRY, get_corruption, profile_names
from .weather import Brightness, Fog, Frost, Snow, Spatter

# imagecorruptions' order: the 15 benchmark corruptions, the 4 extra ("validation") ones;
# then MNIST-C's eight that ImageNet-C lacks, and its identity (mnist-c profile only).
_ORDER = (
    GaussianNoise, ShotNoise, ImpulseNoise, DefocusBlur, GlassBlur, MotionBlur, ZoomBlur,
    Snow, Frost, Fog, Brightness, Contrast, ElasticTransform, Pixelate, JpegCompression,
    SpeckleNoise, GaussianBlur, Spatter, Saturate,
    Shear, Scale, Rotate, Translate, Stripe, DottedLine, Zigzag, CannyEdges, Identity,
    *CBAR_CLASSES,  # their own profiles only: no group or profile above gains one
)  # fmt: skip
REGISTRY.update({cls.name: cls() for cls in _ORDER})
BENCHMARK: tuple[str, ...] = tuple(REGISTRY)[:15]
EXTRA: tuple[str, ...] = tuple(REGISTRY)[15:19]
IMAGECORRUPTIONS: tuple[str, ...] = BENCHMARK + EXTRA
"""The 19 of imagecorruptions 1.1.2, the reference, in its order."""
MNIST_C: tuple[str, ...] = (
    "identity", "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
    "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges",
)  # fmt: skip
"""MNIST-C's suite in its order (google-research/mnist-c ``CORRUPTIONS``), identity first."""
GROUPS = ("all", "benchmark", "extra", "mnist-c", "cbar", "cifar-cbar", *FAMILIES)


def list_corruptions(group: str = "benchmark") -> list[str]:
    """Corruption names in the benchmark's order.

    Parameters
    ----------
    group : ``"benchmark"`` (the 15 ImageNet-C ones, default), ``"extra"`` (the 4 held-out
        ones), ``"mnist-c"`` (MNIST-C's 15 and its identity), ``"cbar"`` and ``"cifar-cbar"``
        (ImageNet-C-bar's and CIFAR-10-C-bar's 10, in their CSVs' order), ``"all"`` (the 27 of the
        ``imagenet`` profile), or a family of those: ``"noise"``, ``"blur"``, ``"weather"``,
        ``"digital"``, ``"geometric"``, ``"artifact"``.

    Examples
    --------
    >>> list_corruptions("weather")
    ['snow', 'frost', 'fog', 'brightness', 'spatter']
    >>> list_corruptions("geometric")
    ['shear', 'scale', 'rotate', 'translate']
    """
    if group == "benchmark":
        return list(BENCHMARK)
    if group == "extra":
        return list(EXTRA)
    if group == "mnist-c":
        return list(MNIST_C)
    if group == "cbar":
        return list(IMAGENET_CBAR)
    if group == "cifar-cbar":
        return list(CIFAR_CBAR)
    five = profile_names("imagenet")
    if group == "all":
        return five
    if group in FAMILIES:
        return [name for name in five if REGISTRY[name].family == group]
    raise ValueError(f"unknown corruption group {group!r}; valid groups are {', '.join(GROUPS)}.")


__all__ = [
    "BENCHMARK", "CIFAR_CBAR", "EXTRA", "FAMILIES", "GROUPS", "IMAGECORRUPTIONS", "IMAGENET_CBAR", "MNIST_C", "PROFILES", "REGISTRY",
    "SEVERITIES", "Corruption", "Params", "get_corruption", "list_corruptions",
]  # fmt: skip
