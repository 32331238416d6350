"""The corruption catalogue.

One class per corruption in the family modules (``noise``, ``blur``, ``weather``,
``digital``); each holds its severity tables per profile, its random draws and its apply.
The kernels they call live in :mod:`corruptgen.kernels`.
"""

from __future__ import annotations

from .base import FAMILIES, PROFILES, SEVERITIES, Corruption, Params
from .blur import DefocusBlur, GaussianBlur, GlassBlur, MotionBlur, ZoomBlur
from .digital import Contrast, ElasticTransform, JpegCompression, Pixelate, Saturate
from .noise import GaussianNoise, ImpulseNoise, ShotNoise, SpeckleNoise
from .weather import Brightness, Fog, Frost, Snow, Spatter

# imagecorruptions' order: the 15 benchmark corruptions, then the 4 extra ("validation") ones.
_ORDER = (
    GaussianNoise, ShotNoise, ImpulseNoise, DefocusBlur, GlassBlur, MotionBlur, ZoomBlur,
    Snow, Frost, Fog, Brightness, Contrast, ElasticTransform, Pixelate, JpegCompression,
    SpeckleNoise, GaussianBlur, Spatter, Saturate,
)  # fmt: skip
REGISTRY: dict[str, Corruption] = {cls.name: cls() for cls in _ORDER}
BENCHMARK: tuple[str, ...] = tuple(REGISTRY)[:15]
EXTRA: tuple[str, ...] = tuple(REGISTRY)[15:]
GROUPS = ("all", "benchmark", "extra", *FAMILIES)


def list_corruptions(group: str = "benchmark") -> list[str]:
    """Corruption names in the benchmark's order.

    Parameters
    ----------
    group : ``"benchmark"`` (the 15 ImageNet-C ones, default), ``"extra"`` (the 4 held-out
        ones), ``"all"`` (19), or a family: ``"noise"``, ``"blur"``, ``"weather"``, ``"digital"``
        (a family lists its benchmark and extra members).

    Examples
    --------
    >>> list_corruptions("weather")
    ['snow', 'frost', 'fog', 'brightness', 'spatter']
    """
    if group == "benchmark":
        return list(BENCHMARK)
    if group == "extra":
        return list(EXTRA)
    if group == "all":
        return list(REGISTRY)
    if group in FAMILIES:
        return [name for name, spec in REGISTRY.items() if spec.family == group]
    raise ValueError(f"unknown corruption group {group!r}; valid groups are {', '.join(GROUPS)}.")


def get_corruption(name: str) -> Corruption:
    """The catalogue entry called ``name``; ValueError naming the valid names otherwise."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown corruption {name!r}; valid names are {', '.join(REGISTRY)}.") from None


__all__ = [
    "BENCHMARK", "EXTRA", "FAMILIES", "GROUPS", "PROFILES", "REGISTRY", "SEVERITIES",
    "Corruption", "Params", "get_corruption", "list_corruptions",
]  # fmt: skip
