"""The catalogue's registry: name -> corruption, filled in the catalogue's order by the package.

It imports no corruption (as mmdet keeps its registries in ``mmdet/registry.py``), so the base
class can name a profile's suite without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Corruption

REGISTRY: dict[str, Corruption] = {}
"""Every corruption by name, in imagecorruptions' order (filled by :mod:`corruptgen.corruptions`)."""


def get_corruption(name: str) -> Corruption:
    """The catalogue entry called ``name``; ValueError naming the valid names otherwise."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown corruption {name!r}; valid names are {', '.join(REGISTRY)}.") from None


def profile_names(profile: str) -> list[str]:
    """The corruptions a profile has tables for, in the catalogue's order."""
    return [name for name, spec in REGISTRY.items() if profile in spec.tables]
