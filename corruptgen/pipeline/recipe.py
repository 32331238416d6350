"""What one output is: its generator (from its identity only), its pixels, whether its corruption
moves annotations; and the identity of a build (what a rerun into the same ``--out`` must share).

The one place an output's pixels are made: builds write them, on-the-fly evaluation feeds them to
a model, so the two agree byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corruptgen.api import corrupt_rgb_or_gray
from corruptgen.corruptions import REGISTRY, get_corruption
from corruptgen.corruptions.sequences import P_PROFILES, SEQUENCES, get_sequence, perturb_rgb_or_gray
from corruptgen.datasets.base import Adapter, DatasetError
from corruptgen.rng import derive_seed, generator

IDENTITY_KEYS = ("dataset", "source", "split", "seed", "profile", "image_format", "jpeg_quality", "preprocessing",
                 "warp_annotations", "output_format", "keys", "severity_dirs", "video")  # fmt: skip
"""What a rerun into the same ``--out`` must share with the first run."""


def output_seed(seed: int, dataset: str, key: str, corruption: str, severity: int) -> np.random.Generator:
    """Each output's generator depends on its identity only: never on workers, shards or order; and
    not on the severity for a corruption that shares its draws among severities (the C-bar ones).

    Examples
    --------
    >>> a = output_seed(0, "coco", "1.jpg", "fog", 3).integers(1 << 30)
    >>> b = output_seed(0, "coco", "1.jpg", "fog", 3).integers(1 << 30)
    >>> bool(a == b)
    True
    """
    if not get_corruption(corruption).draws_per_severity:
        return generator(derive_seed(seed, dataset, key, corruption))
    return generator(derive_seed(seed, dataset, key, corruption, severity))


def corrupt_sample(pixels: np.ndarray, dataset: str, key: str, corruption: str, severity: int, seed: int,
                   profile: str, *, with_warp: bool = False):  # fmt: skip
    """One output's pixels from its decoded source (H x W grey or H x W x 3 RGB, same layout back);
    with ``with_warp``, ``(pixels, warp)`` where warp is how the corruption moved them (or None)."""
    gray2d = pixels.ndim == 2
    rng = output_seed(seed, dataset, key, corruption, severity)
    out = corrupt_rgb_or_gray(pixels[:, :, None] if gray2d else pixels, get_corruption(corruption), severity, rng,
                              profile, with_warp=with_warp)  # fmt: skip
    out, warp = out if with_warp else (out, None)
    out = out[:, :, 0] if gray2d else out
    return (out, warp) if with_warp else out


def is_sequence_profile(profile: str) -> bool:
    """Whether a build of ``profile`` makes perturbation sequences (ImageNet-P, CIFAR-10-P), not images."""
    return profile in P_PROFILES


def catalogue_order(profile: str) -> dict[str, int]:
    """Each name's position in its catalogue (the perturbations' under a P profile): builds list their
    cells in it."""
    return {name: i for i, name in enumerate(SEQUENCES if is_sequence_profile(profile) else REGISTRY)}


def build_cells(names, levels, profile: str) -> list[tuple[str, int]]:
    """Every (corruption, severity) of a build; under a P profile (perturbation, difficulty), where only
    the noise sequences have difficulties 2 and 3.

    Examples
    --------
    >>> build_cells(["shot_noise", "rotate"], [1, 2], "imagenet-p")
    [('shot_noise', 1), ('shot_noise', 2), ('rotate', 1)]
    """
    if is_sequence_profile(profile):
        return [(n, d) for n in names for d in levels if d in get_sequence(n).difficulties(profile)]
    return [(n, s) for n in names for s in levels]


def perturb_sample(pixels: np.ndarray, dataset: str, key: str, perturbation: str, difficulty: int, seed: int,
                   profile: str, crop: tuple[int, int] | None = None) -> np.ndarray:  # fmt: skip
    """One output sequence from its decoded source (H x W grey or H x W x 3 RGB): ``T x h x w`` or
    ``T x h x w x 3`` uint8, frames centre-cropped to ``crop`` (default the image's size). Its
    generator depends on (seed, dataset, key, profile, perturbation, difficulty) only."""
    gray2d = pixels.ndim == 2
    rng = generator(derive_seed(seed, dataset, key, profile, perturbation, difficulty))
    frames = perturb_rgb_or_gray(pixels[:, :, None] if gray2d else pixels, perturbation, difficulty, rng, profile, crop)
    return frames[..., 0] if gray2d else frames


def warped_corruptions(corruptions, profile: str, warp_annotations: bool) -> frozenset[str]:
    """The corruptions whose outputs move content, so their annotations are pushed through the warp.

    Examples
    --------
    >>> sorted(warped_corruptions(["fog", "rotate", "elastic_transform"], "imagenet", False))
    ['rotate']
    """
    if is_sequence_profile(profile):
        return frozenset()  # a sequence carries its sample's label only
    specs = [get_corruption(c) for c in corruptions]
    return frozenset(s.name for s in specs if s.can_warp and (s.is_geometric(profile) or warp_annotations))


def refuse_moving_content(adapter: Adapter, corruptions, profile: str) -> None:
    """DatasetError when a corruption would move content under annotations that locate things and
    nothing moves the annotations with it (on-the-fly evaluation scores against the source's)."""
    moving = list(dict.fromkeys(c for c in corruptions if get_corruption(c).is_geometric(profile)))
    if moving and adapter.spatial_annotations:
        raise DatasetError(
            f"{', '.join(moving)} moves image content under profile {profile!r}, and {adapter.name} annotations "
            "are not moved on the fly; build the tree first (corruptgen build moves them) or leave it out."
        )


def build_identity(adapter: Adapter, seed: int, profile: str, warp_annotations: bool, output_format: str,
                   severity_dirs: str = "severity") -> dict:  # fmt: skip
    """What identifies a build in ``corruptgen.json`` (the keys of :data:`IDENTITY_KEYS`)."""
    ident = {**adapter.describe(), "seed": seed, "profile": profile}
    if ident.get("source") not in (None, "bundled sample"):  # resolved: a resume from another folder names it alike
        ident["source"] = str(Path(ident["source"]).resolve())
    ident.update({"image_format": adapter.settings.image_format, "jpeg_quality": adapter.settings.jpeg_quality})
    ident.setdefault("preprocessing", None)
    if warp_annotations:  # absent, not False, so that builds from before the option resume
        ident["warp_annotations"] = True
    if output_format != "folder":
        ident["output_format"] = output_format
    if severity_dirs != "severity":
        ident["severity_dirs"] = severity_dirs
    if is_sequence_profile(profile):  # absent otherwise: -C builds keep their record
        ident["video"] = adapter.settings.video
    return ident
