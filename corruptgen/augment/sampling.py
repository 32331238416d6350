"""Which corruption an augmentation applies: validated choices and one draw from a generator.

Shared by :class:`~corruptgen.augment.RandomCorruption` and the albumentations wrapper, so both
validate the same way and draw the same parameters from the same generator state.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from corruptgen.corruptions import REGISTRY
from corruptgen.selection import select


@dataclass(frozen=True)
class CorruptionSampler:
    """The validated choices; :meth:`draw` turns generator state into one application's parameters."""

    corruptions: tuple[str, ...]
    severities: tuple[int, ...]
    weights: tuple[float, ...] | None
    p: float
    profile: str

    @classmethod
    def create(cls, corruptions, severity, weights=None, p=1.0, profile="imagenet") -> CorruptionSampler:
        names, severities = select(corruptions, severity, profile, catalogue_order=False)
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1]; got {p!r}.")
        if weights is not None:
            try:
                weights = tuple(float(w) for w in weights)
            except (TypeError, ValueError):
                raise ValueError(f"weights must be {len(names)} non-negative numbers, one per corruption; got {weights!r}.") from None
            if len(weights) != len(names) or any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
                raise ValueError(f"weights must be {len(names)} non-negative numbers (one per corruption: "
                                 f"{', '.join(names)}) with a positive sum; got {list(weights)}.")  # fmt: skip
        return cls(tuple(names), tuple(severities), weights, float(p), profile)

    def draw(self, rng: np.random.Generator) -> dict:
        """``{"corruption", "severity", "seed"}``; all None when the coin (``p``) says no.

        Always consumes the same draws (three uniforms, one raw 64-bit word), so a generator's
        later draws do not depend on ``p``; two cheap calls keep a draw at a few microseconds.
        """
        coin, pick, level = rng.random(3)
        seed = int(rng.bit_generator.random_raw()) >> 1  # a non-negative 63-bit seed
        if coin >= self.p:
            return {"corruption": None, "severity": None, "seed": None}
        if self.weights is None:
            corruption = self.corruptions[int(pick * len(self.corruptions))]
        else:
            corruption = self.corruptions[int(np.searchsorted(self._cumulative, pick * self._cumulative[-1], side="right"))]
        severity = self.severities[int(level * len(self.severities))]
        return {"corruption": corruption, "severity": severity, "seed": seed if REGISTRY[corruption].random else None}

    @property
    def _cumulative(self) -> np.ndarray:
        return np.cumsum(self.weights)

    def geometric(self) -> list[str]:
        return [c for c in self.corruptions if REGISTRY[c].is_geometric(self.profile)]
