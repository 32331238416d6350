"""Options and parsers shared by the commands, and the translation of library errors."""

from __future__ import annotations

import functools

import click

from corruptgen.corruptions import GROUPS, PROFILES, REGISTRY, get_corruption, list_corruptions


def parse_corruptions(text: str) -> list[str]:
    """``"fog,snow"`` or a group (``all``, ``benchmark``, ``extra``, a family) -> names in catalogue order."""
    names: list[str] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part in GROUPS:
            names += list_corruptions(part)
        elif part in REGISTRY:
            names.append(part)
        else:
            raise click.BadParameter(
                f"unknown corruption {part!r}; use names from `corruptgen list` or one of {', '.join(GROUPS)}."
            )
    if not names:
        raise click.BadParameter("no corruption given.")
    return [n for n in REGISTRY if n in set(names)]


def parse_severities(text: str) -> list[int]:
    """``"1-5"``, ``"3"`` or ``"1,3,5"`` -> sorted unique severities in 1..5."""
    values: set[int] = set()
    try:
        for part in (p.strip() for p in text.split(",") if p.strip()):
            lo, _, hi = part.partition("-")
            values.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a severity list; write e.g. 1-5, 3 or 1,3,5.") from None
    if not values or not values <= {1, 2, 3, 4, 5}:
        raise click.BadParameter(f"severities must lie in 1-5; got {text!r}.")
    return sorted(values)


def resolve_selection(corruptions: list[str] | None, severities: list[int] | None, profile: str):
    """The corruptions and severities a command runs: defaults by profile (MNIST-C's suite at its one
    severity under ``mnist-c``; the 15 benchmark ones at 1-5 otherwise), each checked against it."""
    if corruptions is None:
        corruptions = list_corruptions("mnist-c" if profile == "mnist-c" else "benchmark")
    if severities is None:
        severities = [1] if profile == "mnist-c" else [1, 2, 3, 4, 5]
    for name in corruptions:
        spec = get_corruption(name)
        for severity in severities:
            try:
                spec.params(severity, profile)
            except ValueError as exc:
                hint = "--severities" if spec.severities(profile) else "--corruptions"
                raise click.BadParameter(str(exc), param_hint=hint) from None
    return corruptions, severities


def _callback(parser):
    return lambda ctx, param, value: None if value is None else parser(value)


corruptions_option = click.option(
    "--corruptions", "corruptions", default=None, callback=_callback(parse_corruptions),
    help="Comma list of names, or all / benchmark / extra / mnist-c / a family (noise, blur, weather, digital, "
         "geometric, artifact). Default: benchmark; MNIST-C's suite under --profile mnist-c.",
)  # fmt: skip
severities_option = click.option(
    "--severities", default=None, callback=_callback(parse_severities),
    help="Comma list or range of severities, e.g. 1-5 or 3,5. Default: 1-5; 1 under --profile mnist-c.",
)  # fmt: skip
profile_option = click.option(
    "--profile", type=click.Choice(PROFILES), default="imagenet", show_default=True,
    help="Severity tables: imagenet (any size), cifar (32 px), tinyimagenet (64 px) or mnist-c (MNIST-C's one "
         "setting per corruption).",
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
