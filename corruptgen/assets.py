"""Frost textures: the photographs installed with imagecorruptions, found without importing it."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

FROST_FILES = ("frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg", "frost6.jpg")


class MissingAssetError(RuntimeError):
    """A data file that a corruption needs is not installed."""


def frost_dir() -> Path:
    # find_spec locates the package without executing it: importing imagecorruptions needs
    # pkg_resources, which recent setuptools no longer ship.
    spec = importlib.util.find_spec("imagecorruptions")
    if spec is None or not spec.submodule_search_locations:
        raise MissingAssetError(
            "frost needs the frost photographs shipped with imagecorruptions; "
            "install them with `pip install imagecorruptions==1.1.2`."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "frost"


@lru_cache(maxsize=len(FROST_FILES))
def frost_texture_bgr(index: int) -> np.ndarray:
    """Frost photograph ``index`` (0-based) as a read-only BGR uint8 array."""
    path = frost_dir() / FROST_FILES[index]
    texture = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if texture is None:
        raise MissingAssetError(
            f"frost texture {path} is missing or unreadable; reinstall it with "
            "`pip install --force-reinstall imagecorruptions==1.1.2`."
        )
    texture.setflags(write=False)
    return texture
