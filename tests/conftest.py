from __future__ import annotations

import sys
import types

import cv2
import numpy as np
import pytest
from skimage import data

# wilds (and ogb) import `outdated`, whose import starts a thread asking PyPI for newer releases, ignoring
# OUTDATED_IGNORE in the version pinned with them: tests reach no network, so it is not imported at all
sys.modules.setdefault("outdated", types.SimpleNamespace(warn_if_outdated=lambda *args, **kwargs: None,
                                                         check_outdated=lambda *args, **kwargs: (False, None)))


def photo(name: str, height: int, width: int) -> np.ndarray:
    """A real photograph that ships with scikit-image, resized with OpenCV (area)."""
    return cv2.resize(getattr(data, name)(), (width, height), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def photos_224():
    return [photo(n, 224, 224) for n in ("astronaut", "chelsea", "coffee")]


@pytest.fixture(scope="session")
def photo_nonsquare():
    return photo("rocket", 150, 263)
