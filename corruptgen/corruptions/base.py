"""What a corruption is: a name, a family, severity tables per profile, a sampler and an apply."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import numpy as np

from .registry import profile_names

PROFILES = ("imagenet", "cifar", "tinyimagenet", "mnist-c", "imagenet-cbar", "cifar-cbar")
"""Severity-table profiles: ImageNet-C (default, used at every size as imagecorruptions does),
CIFAR-10-C (32 px tables), Tiny-ImageNet-C (64 px tables), MNIST-C (one fixed severity for
each of its 15 corruptions), and ImageNet-C-bar's and CIFAR-10-C-bar's five magnitudes of their
10 held-out corruptions each."""

ROUNDED_PROFILES = ("mnist-c",)
"""Profiles whose float results become uint8 levels by rounding: MNIST-C's code converts with
``np.round(x).astype(np.uint8)`` (``round_and_astype``); ImageNet-C's scripts, imagecorruptions and
CIFAR-10-C's truncate (``np.uint8(x)``). docs/fidelity.md says why MNIST-C's is taken at its word."""

FAMILIES = ("noise", "blur", "weather", "digital", "geometric", "artifact")
SEVERITIES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Params:
    """One severity's parameters, named (``params.sigma``) and listable (``params.as_dict()``), and
    whether its profile rounds float results to levels (``params.rounded``; kernels that quantise
    inside take it, :data:`ROUNDED_PROFILES` says which)."""

    values: dict[str, Any]
    rounded: bool = False

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
    reference's ``np.uint8(...)`` does, or rounded where ``params.rounded`` says) or uint8 (a kernel
    that quantises inside follows ``params.rounded`` itself).
    """

    name: ClassVar[str]
    family: ClassVar[str]
    param_names: ClassVar[tuple[str, ...]]
    defaults: ClassVar[dict[str, Any]] = {}
    """Values of trailing parameters that only some profiles' rows give (MNIST-C's variants)."""
    tables: ClassVar[dict[str, tuple]]
    random: ClassVar[bool] = True
    gray_native: ClassVar[bool] = True
    """True when running on one grey channel gives what the reference gives on a grey image
    promoted to RGB (per-channel operations). False: grey input is promoted to RGB, corrupted,
    and converted back to luma (ITU-R 601), because the corruption mixes or tints channels."""
    dtype: ClassVar[str] = "float"
    draws_per_severity: ClassVar[bool] = True
    """False: a build draws once per image and shares the draws among its severities (the C-bar
    corruptions, whose reference draws the same layout at every magnitude)."""

    def severities(self, profile: str = "imagenet") -> tuple[int, ...]:
        """The severities ``profile`` defines (1-5; MNIST-C has only 1); empty when it lacks the corruption."""
        return tuple(range(1, len(self.tables.get(profile, ())) + 1))

    def params(self, severity: int, profile: str = "imagenet") -> Params:
        return _params(self, severity, profile)  # built once per severity and profile: corrupt() asks every call

    def _build_params(self, severity: int, profile: str) -> Params:
        if profile not in self.tables:
            suite = ", ".join(profile_names(profile))
            where = " or ".join(self.tables)
            raise ValueError(f"{self.name} is not part of the {profile} profile; it is in {where} (add --profile "
                             f"{next(iter(self.tables))}, or profile={next(iter(self.tables))!r}). The {profile} "
                             f"profile has {suite}.")  # fmt: skip
        count = len(self.tables[profile])
        if not 1 <= severity <= count:
            valid = "1" if count == 1 else f"1 to {count}"
            raise ValueError(f"the {profile} profile defines severity {valid} for {self.name}; got {severity}.")
        row = self.tables[profile][severity - 1]
        values = row if len(self.param_names) != 1 else (row,)
        given = dict(zip(self.param_names, values))
        values = {name: given[name] if name in given else self.defaults[name] for name in self.param_names}
        return Params(values, rounded=profile in ROUNDED_PROFILES)

    def is_geometric(self, profile: str = "imagenet") -> bool:
        """Whether the corruption moves image content (so annotations have to move with it)."""
        return False

    can_warp: ClassVar[bool] = False
    """True when :meth:`warp` gives the map this corruption moves pixels by."""

    def warp(self, shape: tuple[int, ...], p: Params, **draws: Any):
        """The :class:`corruptgen.geometry.Warp` that :meth:`apply` moves pixels by, from the same
        draws; None for corruptions that leave every pixel in place."""
        return None

    def sample(self, rng: np.random.Generator, shape: tuple[int, int, int], p: Params) -> dict[str, Any]:
        return {}

    def apply(self, image: np.ndarray, p: Params, **draws: Any) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<corruption {self.name} ({self.family})>"


@cache
def _params(spec: Corruption, severity: int, profile: str) -> Params:
    return spec._build_params(severity, profile)


def scale_free_tables(table: tuple, mnist_c) -> dict:
    """Tables of a corruption whose parameters are relative to the image (MNIST-C's own): the same
    five severities under every size profile, and MNIST-C's one setting under ``mnist-c``."""
    return {"imagenet": table, "cifar": table, "tinyimagenet": table, "mnist-c": (mnist_c,)}
