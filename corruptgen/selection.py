"""Which corruptions and severities to run under a profile: the one resolver behind the CLI (builds,
runners, preview), augmentation and on-the-fly evaluation, so each accepts and refuses the same.

Corruptions: None (the profile's suite: MNIST-C's under ``mnist-c``, ImageNet-C-bar's under
``imagenet-cbar``, CIFAR-10-C-bar's under ``cifar-cbar``, the 15 benchmark ones otherwise), a group or a name, a comma list of them (``"fog,snow"``, ``"weather,glass_blur"``), or a
sequence of them. Severities: None (every severity the profile defines: 1 under ``mnist-c``, 1-5
otherwise), an int, an inclusive ``(lo, hi)`` tuple, a list, or text (``"1-5"``, ``"3"``,
``"1,3,5"``). Every pair is checked against the profile's tables.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Sequence

from corruptgen.corruptions import GROUPS, PROFILES, REGISTRY, SEVERITIES, get_corruption, list_corruptions
from corruptgen.corruptions.sequences import (
    DIFFICULTIES,
    P_PROFILES,
    PERTURBATION_GROUPS,
    SEQUENCES,
    get_sequence,
    list_perturbations,
)


def check_profile(profile) -> str:
    """``profile`` when it is one of :data:`~corruptgen.corruptions.PROFILES`; ValueError naming them."""
    if profile in PROFILES:
        return profile
    raise ValueError(f"unknown profile {profile!r}; valid profiles are {', '.join(PROFILES)}.")


def default_corruptions(profile: str) -> list[str]:
    """The suite a profile runs when none is named."""
    return list_corruptions({"mnist-c": "mnist-c", "imagenet-cbar": "cbar", "cifar-cbar": "cifar-cbar"}.get(profile, "benchmark"))


def parse_corruptions(corruptions: str | Sequence[str]) -> list[str]:
    """Names, groups or a comma list of them -> names, in the order given, each once.

    Examples
    --------
    >>> parse_corruptions("fog,weather")
    ['fog', 'snow', 'frost', 'brightness', 'spatter']
    """
    parts = [p.strip() for p in corruptions.split(",") if p.strip()] if isinstance(corruptions, str) else corruptions
    names: list[str] = []
    try:
        for part in parts:
            if isinstance(part, str) and part in GROUPS:
                names += list_corruptions(part)
            elif isinstance(part, str) and part in REGISTRY:
                names.append(part)
            else:
                raise ValueError(f"unknown corruption {part!r}; {_nearest(part, [*REGISTRY, *GROUPS])}`corruptgen list "
                                 f"--profile PROFILE` names a profile's corruptions; groups are {', '.join(GROUPS)}.")  # fmt: skip
    except TypeError:
        raise ValueError(f"corruptions must be a group ({', '.join(GROUPS)}), a name or a list of names; got {corruptions!r}.") from None
    if not names:
        raise ValueError(f"corruptions is empty; give a group ({', '.join(GROUPS)}), a name or a list of names.")
    return list(dict.fromkeys(names))


def _nearest(word, valid: list[str]) -> str:
    """"did you mean X? " for the closest valid name (and the profiles that have it), or nothing."""
    close = difflib.get_close_matches(str(word), valid, n=1, cutoff=0.6)
    if not close:
        return ""
    name = close[0]
    tables = list(getattr(REGISTRY.get(name), "tables", {}))
    where = f" (in the {' and '.join(tables)} profiles)" if tables and "imagenet" not in tables else ""
    return f"did you mean {name}{where}? "


def parse_severities(severities: int | tuple[int, int] | Sequence[int] | str) -> list[int]:
    """An int, an inclusive ``(lo, hi)`` range, a list, or text (``"1-5"``, ``"1,3,5"``) -> sorted severities.

    Examples
    --------
    >>> parse_severities("1-3,5"), parse_severities((2, 4)), parse_severities(3)
    ([1, 2, 3, 5], [2, 3, 4], [3])
    """

    def valid(value) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value in SEVERITIES

    if isinstance(severities, str):
        values: set[int] = set()
        try:
            for part in (p.strip() for p in severities.split(",") if p.strip()):
                lo, _, hi = part.partition("-")
                if hi and int(hi) < int(lo):
                    raise ValueError(f"{part!r} runs backwards; write the range low to high, {hi}-{lo}.", "order")
                values.update(range(int(lo), int(hi or lo) + 1))
        except ValueError as exc:
            if exc.args[1:] == ("order",):
                raise ValueError(exc.args[0]) from None
            raise ValueError(f"{severities!r} is not a severity list; write e.g. 1-5, 3 or 1,3,5.") from None
        if not values or not values <= set(SEVERITIES):
            raise ValueError(f"severities must lie in 1-5; got {severities!r}.")
        return sorted(values)
    if valid(severities):
        return [int(severities)]
    if isinstance(severities, tuple):
        if len(severities) != 2 or not all(valid(v) for v in severities) or severities[0] > severities[1]:
            raise ValueError(f"severity range must be (lo, hi) with 1 <= lo <= hi <= 5; got {severities!r}.")
        return list(range(int(severities[0]), int(severities[1]) + 1))
    if isinstance(severities, list) and severities and all(valid(v) for v in severities):
        return sorted({int(v) for v in severities})
    raise ValueError(f"severity must be an int from 1 to 5, a (lo, hi) range or a non-empty list of them; got {severities!r}.")


class SelectionError(ValueError):
    """A corruption or severity the profile does not define; ``option`` says which argument to change."""

    def __init__(self, message: str, option: str):
        super().__init__(message)
        self.option = option


def select(corruptions=None, severities=None, profile: str = "imagenet", *,
           catalogue_order: bool = True) -> tuple[list[str], list[int]]:  # fmt: skip
    """The corruptions and severities to run under ``profile``, each pair checked against its tables.

    ``catalogue_order``: named corruptions in the catalogue's order (builds, runners); False keeps
    the order given (augmentation, whose ``weights`` pair with it). A profile's default suite keeps
    its own order (MNIST-C's, identity first).

    Examples
    --------
    >>> select(None, None, "mnist-c")[0][:3], select(None, None, "mnist-c")[1]
    (['identity', 'shot_noise', 'impulse_noise'], [1])
    >>> select("snow,fog", "2-3")
    (['snow', 'fog'], [2, 3])
    """
    profile = check_profile(profile)
    names = default_corruptions(profile) if corruptions is None else parse_corruptions(corruptions)
    levels = parse_severities(severities) if severities is not None else None
    for name in names:
        spec = get_corruption(name)
        for severity in levels or spec.severities(profile) or (1,):
            try:
                spec.params(severity, profile)
            except ValueError as exc:
                raise SelectionError(str(exc), "severities" if spec.severities(profile) else "corruptions") from None
    if levels is None:
        levels = sorted({s for name in names for s in get_corruption(name).severities(profile)})
    if catalogue_order and corruptions is not None:
        names = [n for n in REGISTRY if n in set(names)]
    return names, levels


def select_perturbations(perturbations=None, difficulties=None, profile: str = "imagenet-p") -> tuple[list[str], list[int]]:
    """The perturbations and difficulties of an ImageNet-P style build: ``perturbations`` a group (``test``,
    the default: the 10 of mFR; ``validation``; ``all``), a comma list or a list of names, in
    ``make_imagenet_p.py``'s order; ``difficulties`` 1 (the default, what the benchmark reports) to 3,
    which only the noise sequences have.

    Examples
    --------
    >>> select_perturbations("rotate,shot_noise", "1-2")
    (['shot_noise', 'rotate'], [1, 2])
    """
    if profile not in P_PROFILES:
        raise SelectionError(f"unknown perturbation profile {profile!r}; valid profiles are {', '.join(P_PROFILES)}.", "profile")
    if perturbations is None:
        perturbations = "test"
    parts = perturbations.split(",") if isinstance(perturbations, str) else list(perturbations)
    names: set[str] = set()
    for part in (str(p).strip() for p in parts if str(p).strip()):
        if part in PERTURBATION_GROUPS:
            names.update(list_perturbations(part))
        elif part in SEQUENCES:
            names.add(part)
        else:
            raise SelectionError(f"unknown perturbation {part!r}; {_nearest(part, [*SEQUENCES, *PERTURBATION_GROUPS])}valid are {', '.join(SEQUENCES)}, or a group: "
                                 f"{', '.join(PERTURBATION_GROUPS)}.", "perturbations")  # fmt: skip
    if not names:
        raise SelectionError("no perturbation named; give names, test, validation or all.", "perturbations")
    levels = [1] if difficulties is None else parse_severities(difficulties)
    if not set(levels) <= set(DIFFICULTIES):
        raise SelectionError(f"difficulties lie in 1-3 (2 and 3 for the noise sequences only); got {difficulties!r}.",
                             "difficulties")  # fmt: skip
    ordered = [n for n in SEQUENCES if n in names]
    if not any(d in get_sequence(n).difficulties(profile) for n in ordered for d in levels):
        raise SelectionError(f"none of {', '.join(ordered)} has difficulty {', '.join(map(str, levels))} (only the noise "
                             "sequences have 2 and 3).", "difficulties")  # fmt: skip
    return ordered, levels
