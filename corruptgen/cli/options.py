"""Options and parsers shared by the commands, and the translation of library errors."""

from __future__ import annotations

import functools

import click

from corruptgen import selection
from corruptgen.corruptions import PROFILES, REGISTRY
from corruptgen.corruptions.sequences import P_PROFILES
from corruptgen.datasets import ADAPTERS


def parse_corruptions(text: str) -> list[str]:
    """``"fog,snow"`` or a group (``all``, ``benchmark``, ``extra``, a family) -> names in catalogue order."""
    try:
        names = selection.parse_corruptions(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return [n for n in REGISTRY if n in set(names)]


def parse_tree_names(text: str | None, tree) -> list[str] | None:
    """``--corruptions`` of a command reading a built tree: corruption names or groups, or a perturbation
    build's perturbations (names, ``test``, ``validation``, ``all``)."""
    if not text:
        return None
    if not tree.sequences:
        return parse_corruptions(text)
    try:
        return selection.select_perturbations(text, None, tree.identity.get("profile"))[0]
    except selection.SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint="--corruptions") from None


def parse_severities(text: str) -> list[int]:
    """``"1-5"``, ``"3"`` or ``"1,3,5"`` -> sorted unique severities in 1..5."""
    try:
        return selection.parse_severities(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def resolve_selection(corruptions: list[str] | None, severities: list[int] | None, profile: str):
    """The corruptions and severities a command runs (:func:`corruptgen.selection.select`: the
    profile's suite by default, every pair checked against its tables), as click errors."""
    try:
        return selection.select(corruptions, severities, profile)
    except selection.SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.option}") from None


def dataset_defaults(dataset: str | None, corruptions: list[str] | None, profile: str | None):
    """``--corruptions`` and ``--profile`` where not given: the dataset's own (CIFAR: the release's 19
    at the cifar tables), else the profile's suite and the imagenet tables."""
    adapter = ADAPTERS.get(dataset)
    profile = profile or (adapter.default_profile if adapter else "imagenet")
    if corruptions is None and adapter is not None and adapter.default_corruptions and profile == adapter.default_profile:
        corruptions = parse_corruptions(adapter.default_corruptions)
    return corruptions, profile


def _callback(parser):
    return lambda ctx, param, value: None if value is None else parser(value)


corruptions_option = click.option(
    "--corruptions", "corruptions", default=None, callback=_callback(parse_corruptions),
    help="Comma list of names, or all / benchmark / extra / mnist-c / cbar / cifar-cbar / a family (noise, blur, "
         "weather, digital, geometric, artifact). Default: benchmark; the profile's suite under --profile mnist-c, "
         "imagenet-cbar (cbar) or cifar-cbar; the release's 19 (benchmark,extra) for cifar10 and cifar100.",
)  # fmt: skip
severities_option = click.option(
    "--severities", default=None, callback=_callback(parse_severities),
    help="Comma list or range of severities, e.g. 1-5 or 3,5. Default: 1-5; 1 under --profile mnist-c.",
)  # fmt: skip
profile_option = click.option(
    "--profile", type=click.Choice(PROFILES), default=None,
    help="Severity tables: imagenet (any size; the default), cifar (32 px; the default for cifar10 and cifar100), "
         "tinyimagenet (64 px), mnist-c (MNIST-C's one setting per corruption), imagenet-cbar or cifar-cbar "
         "(ImageNet-C-bar's and CIFAR-10-C-bar's five magnitudes of their 10 held-out corruptions).",
)  # fmt: skip
build_profile_option = click.option(
    "--profile", type=click.Choice(PROFILES + P_PROFILES), default=None,
    help="Severity tables, as for every command (imagenet, cifar, tinyimagenet, mnist-c, imagenet-cbar, cifar-cbar); "
         "with --perturbations, ImageNet-P's (imagenet-p: 224 px frames; the default for imagenet and folder) or "
         "CIFAR-10-P's (cifar-p: 32 px; the default for cifar10, cifar100 and mnist).",
)  # fmt: skip
seed_option = click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed.")


def clean_errors(fn):
    """Turn the library's expected errors into one-line ClickExceptions (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, OSError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper
