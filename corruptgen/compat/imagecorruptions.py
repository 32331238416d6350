"""imagecorruptions 1.1.2's API on corruptgen's kernels: change one import line.

    from imagecorruptions import corrupt, get_corruption_names                    # before
    from corruptgen.compat.imagecorruptions import corrupt, get_corruption_names  # after

Same names, signatures, corruption order (``corruption_number``), subsets, output (uint8
H x W x 3: a 2-D or H x W x 1 image comes back with three channels) and exception types.
Differences, on purpose:

- images under 32 x 32 are accepted (imagecorruptions refuses them);
- randomness: without ``seed=`` each call draws its generator's seed from NumPy's global
  ``np.random`` state (as scripts calling imagecorruptions expect: ``np.random.seed(0)`` before a
  run reproduces it), but the noise itself comes from corruptgen's samplers, so the pixels follow
  the reference's distribution rather than equal its draws (see docs/fidelity.md); ``seed=`` (an
  int or a ``numpy.random.Generator``) bypasses the global state;
- errors name what is valid; they keep the reference's exception types (``AttributeError`` for a
  bad image or severity, ``KeyError`` for an unknown name, ``IndexError`` for a number out of
  range) and are ``ValueError`` too.
"""

from __future__ import annotations

import numpy as np

from corruptgen.api import corrupt as _corrupt
from corruptgen.corruptions import BENCHMARK, EXTRA, IMAGECORRUPTIONS, REGISTRY
from corruptgen.rng import Seed

_NAMES = IMAGECORRUPTIONS  # imagecorruptions' corruption_tuple order
_SUBSETS = {
    "common": BENCHMARK,
    "validation": EXTRA,
    "all": _NAMES,
    "noise": _NAMES[0:3],
    "blur": _NAMES[3:7],
    "weather": _NAMES[7:11],
    "digital": _NAMES[11:15],
}


class InvalidImageError(AttributeError, ValueError):
    """imagecorruptions raises AttributeError for a bad image or severity; this is also a ValueError."""


class UnknownCorruptionError(KeyError, ValueError):
    """imagecorruptions raises KeyError for an unknown name; this is also a ValueError."""

    def __str__(self) -> str:  # KeyError quotes its message; a sentence reads better unquoted
        return str(self.args[0])


class CorruptionNumberError(IndexError, ValueError):
    """imagecorruptions raises IndexError for a number out of range; this is also a ValueError."""


def get_corruption_names(subset: str = "common") -> list[str]:
    """Corruption names in imagecorruptions' order: ``'common'`` (the 15 benchmark ones),
    ``'validation'`` (the 4 held-out ones), ``'all'``, or a family (``'noise'``, ``'blur'``,
    ``'weather'``, ``'digital'``, benchmark members only, as imagecorruptions has them)."""
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {list(_SUBSETS)}; got {subset!r}.")
    return list(_SUBSETS[subset])


def resolve(severity: int, corruption_name: str | None = None, corruption_number: int = -1) -> str:
    """The corruption's name after imagecorruptions' checks of the severity, name and number."""
    if isinstance(severity, bool) or severity not in (1, 2, 3, 4, 5):
        raise InvalidImageError(f"severity must be an integer in [1, 5]; got {severity!r}.")
    if corruption_name is not None:
        if corruption_name not in _NAMES:
            raise UnknownCorruptionError(f"unknown corruption_name {corruption_name!r}; valid names are {', '.join(_NAMES)}.")
        return corruption_name
    if corruption_number != -1:
        try:
            return _NAMES[corruption_number]
        except (IndexError, TypeError):
            raise CorruptionNumberError(f"corruption_number must be an int from 0 to {len(_NAMES) - 1}; got {corruption_number!r}.") from None
    raise ValueError("Either corruption_name or corruption_number must be passed")


def corrupt(image: np.ndarray, severity: int = 1, corruption_name: str | None = None, corruption_number: int = -1,
            *, seed: Seed = None) -> np.ndarray:  # fmt: skip
    """Corrupt a uint8 image (H x W, H x W x 1 or H x W x 3) as imagecorruptions 1.1.2's ``corrupt``.

    Returns a uint8 H x W x 3 array. ``corruption_name`` wins over ``corruption_number``
    (a position in :func:`get_corruption_names` ``('all')``, 0-18).

    >>> import numpy as np
    >>> np.random.seed(0)
    >>> corrupt(np.full((16, 16), 100, np.uint8), severity=2, corruption_name="fog").shape
    (16, 16, 3)
    """
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(f"image must be a numpy.ndarray; got {type(image).__name__}.")
    if image.dtype != np.uint8:
        raise InvalidImageError(f"image must have dtype uint8; got {image.dtype}.")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise InvalidImageError(f"image must have shape H x W, H x W x 1 or H x W x 3; got {image.shape}.")
    if image.ndim == 2 or image.shape[2] == 1:  # the reference stacks grey into three channels first
        image = np.repeat(image.reshape(image.shape[0], image.shape[1], 1), 3, axis=2)
    name = resolve(severity, corruption_name, corruption_number)
    if seed is None and REGISTRY[name].random:
        seed = int(np.random.randint(0, 2**31 - 1))  # the global state, as imagecorruptions' callers expect
    return _corrupt(np.ascontiguousarray(image), name, int(severity), seed=seed)


__all__ = ["corrupt", "get_corruption_names"]
