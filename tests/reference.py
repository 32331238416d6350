"""imagecorruptions 1.1.2, the fidelity reference, made importable on today's stack.

Three shims, test-side only: ``np.float_`` (removed in NumPy 2), ``pkg_resources`` (gone from
setuptools >= 82; only ``resource_filename`` is used), and ``gaussian(multichannel=True)``
(``channel_axis=-1`` since scikit-image 0.20).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
import warnings

import numpy as np


def _fake_pkg_resources() -> types.ModuleType:
    module = types.ModuleType("pkg_resources")

    def resource_filename(package: str, resource: str) -> str:
        spec = importlib.util.find_spec(package.split(".")[0])
        return os.path.join(list(spec.submodule_search_locations)[0], resource)

    module.resource_filename = resource_filename
    # pytest's monkeypatch.syspath_prepend calls this whenever a pkg_resources module is loaded
    module.fixup_namespace_packages = lambda path_item, parent=None: None
    return module


def load():
    """Import and patch imagecorruptions; return the package (``corrupt``, ``corruption_dict``)."""
    if not hasattr(np, "float_"):
        np.float_ = np.float64
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        sys.modules["pkg_resources"] = _fake_pkg_resources()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import imagecorruptions
        import imagecorruptions.corruptions as corruptions
    from skimage.filters import gaussian as modern_gaussian

    def gaussian(image, *args, multichannel=None, **kwargs):
        if multichannel:
            kwargs["channel_axis"] = -1
        return modern_gaussian(image, *args, **kwargs)

    corruptions.gaussian = gaussian
    return imagecorruptions


def reference_corrupt(image: np.ndarray, name: str, severity: int, seed: int) -> np.ndarray:
    """The reference's output, seeded through the global ``np.random`` it uses."""
    ref = load()
    np.random.seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ref.corrupt(image, corruption_name=name, severity=severity)
