from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from skimage import data

os.environ.setdefault("OUTDATED_IGNORE", "1")  # wilds' import would ask PyPI for a newer release: no network in tests


def photo(name: str, height: int, width: int) -> np.ndarray:
    """A real photograph that ships with scikit-image, resized with OpenCV (area)."""
    return cv2.resize(getattr(data, name)(), (width, height), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def photos_224():
    return [photo(n, 224, 224) for n in ("astronaut", "chelsea", "coffee")]


@pytest.fixture(scope="session")
def photo_nonsquare():
    return photo("rocket", 150, 263)
