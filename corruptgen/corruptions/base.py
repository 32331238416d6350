"""What a corruption is: a name, a family, severity tables per profile, a sampler and an apply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

PROFILES = ("imagenet", "cifar", "tinyimagenet")
"""Severity-table profiles: ImageNet-C (default, used at every size as imagecorruptions does),
CIFAR-10-C (32 px tables) and Tiny-ImageNet-C (64 px tables)."""

FAMILIES = ("noise", "blur", "weather", "digital")
SEVERITIES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Params:
    """One severity's parameters, named (``params.sigma``) and listable (``params.as_dict()``)."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)


class Corruption:
    """Base class of the catalogue's entries.

    A subclass sets the class attributes and overrides :meth:`sample` (the random draws,
    from an explicit ``numpy.random.Generator``) and :meth:`apply` (a pure function of the
    image, the severity's parameters and those draws, built from :mod:`corruptgen.kernels`).

    ``apply`` receives an ``H x W x C`` image with C = 3, or C = 1 when ``gray_native`` is set
    and the input is greyscale; float32 in [0, 1] when ``dtype`` is ``"float"``, else uint8.
    It returns the same layout, float (clipped and truncated to uint8 by the caller, as the
    reference's ``np.uint8(...)`` does) or uint8.
    """

    name: ClassVar[str]
    family: ClassVar[str]
    param_names: ClassVar[tuple[str, ...]]
    tables: ClassVar[dict[str, tuple]]
    random: ClassVar[bool] = True
    gray_native: ClassVar[bool] = True
    """True when running on one grey channel gives what the reference gives on a grey image
    promoted to RGB (per-channel operations). False: grey input is promoted to RGB, corrupted,
    and converted back to luma (ITU-R 601), because the corruption mixes or tints channels."""
    dtype: ClassVar[str] = "float"

    def params(self, severity: int, profile: str = "imagenet") -> Params:
        row = self.tables[profile][severity - 1]
        values = row if len(self.param_names) > 1 else (row,)
        return Params(dict(zip(self.param_names, values)))

    def is_geometric(self, profile: str = "imagenet") -> bool:
        """Whether the corruption moves image content (so annotations would have to move too)."""
        return False

    def sample(self, rng: np.random.Generator, shape: tuple[int, int, int], p: Params) -> dict[str, Any]:
        return {}

    def apply(self, image: np.ndarray, p: Params, **draws: Any) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<corruption {self.name} ({self.family})>"
