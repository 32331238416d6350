"""``corruptgen list``: the catalogue, with each corruption's family and severity parameters."""

from __future__ import annotations

import json

import click

from corruptgen.corruptions import BENCHMARK, CIFAR_CBAR, EXTRA, IMAGENET_CBAR, MNIST_C, REGISTRY
from corruptgen.corruptions.registry import profile_names
from corruptgen.corruptions.sequences import P_PROFILES, SEQUENCES

from .options import build_profile_option


def _fmt(value) -> str:
    if isinstance(value, tuple):
        return f"{value[0]:g}..{value[-1]:g} ({len(value)} zooms)" if value else "()"
    return f"{value:g}" if isinstance(value, float) else str(value)


@click.command("list")
@build_profile_option
@click.option("--perturbations", is_flag=True, help="ImageNet-P's perturbation sequences instead (under --profile "
              "imagenet-p, the default, or cifar-p): split, frames and parameters at each difficulty.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_command(profile: str, perturbations: bool, as_json: bool) -> None:
    """List the corruptions a profile has: family, set, and parameters at each severity (1-5; one
    under --profile mnist-c, MNIST-C's suite in its order; the C-bar profiles in their CSVs' order);
    with --perturbations (or a P profile), the perturbation sequences."""
    if perturbations or profile in P_PROFILES:
        _list_sequences(profile or "imagenet-p", as_json)
        return
    rows = []
    profile = profile or "imagenet"
    names = {"mnist-c": MNIST_C, "imagenet-cbar": IMAGENET_CBAR, "cifar-cbar": CIFAR_CBAR}.get(profile) or profile_names(profile)
    for name in names:
        spec = REGISTRY[name]
        rows.append({
            "name": name,
            "family": spec.family,
            "set": _set(name, profile),
            "random": spec.random,
            "severities": [spec.params(s, profile).as_dict() for s in spec.severities(profile)],
        })  # fmt: skip
    if as_json:
        click.echo(json.dumps({"profile": profile, "corruptions": rows}, indent=2))
        return
    click.echo(f"profile: {profile}")
    for row in rows:
        spec = REGISTRY[row["name"]]
        click.echo(f"\n{row['name']}  [{row['family']}, {row['set']}{', seeded' if row['random'] else ''}]")
        click.echo("    " + "severity".ljust(10) + "".join(p.ljust(14) for p in spec.param_names))
        for s, params in enumerate(row["severities"], 1):
            click.echo("    " + str(s).ljust(10) + "".join(_fmt(v).ljust(14) for v in params.values()))


def _list_sequences(profile: str, as_json: bool) -> None:
    if profile not in P_PROFILES:
        raise click.BadParameter(f"perturbation sequences use imagenet-p or cifar-p, not {profile}.", param_hint="--profile")
    rows = []
    for name, spec in SEQUENCES.items():
        levels = [spec.frames_for(d, profile) for d in spec.difficulties(profile)]
        rows.append({"name": name, "split": spec.split, "frames": levels[0].count, "noise": spec.noise,
                     "whole_image": spec.geometric,
                     "difficulties": [{k: list(v) if isinstance(v, tuple) else v for k, v in p.values.items()}
                                      for p in levels]})  # fmt: skip
    if as_json:
        click.echo(json.dumps({"profile": profile, "perturbations": rows}, indent=2))
        return
    click.echo(f"profile: {profile} (scored frame to frame; the noise sequences against frame 0, the clean image)")
    for row in rows:
        notes = (", noise redrawn per frame" if row["noise"] else "") + (", moves the whole image, then crops" if
                                                                          row["whole_image"] else "")  # fmt: skip
        click.echo(f"\n{row['name']}  [{row['split']}, {row['frames']} frames{notes}]")
        names = list(row["difficulties"][0])
        click.echo("    " + "difficulty".ljust(12) + "".join(n.ljust(14) for n in names))
        for d, values in enumerate(row["difficulties"], 1):
            click.echo("    " + str(d).ljust(12) + "".join(
                (",".join(map(_fmt, v)) if isinstance(v, list) else _fmt(v)).ljust(14) for v in values.values()))


def _set(name: str, profile: str) -> str:
    if profile in ("imagenet-cbar", "cifar-cbar"):
        return "cbar" if profile == "imagenet-cbar" else "cifar-cbar"
    if name in BENCHMARK:
        return "benchmark"
    return "extra" if name in EXTRA else "mnist-c"
