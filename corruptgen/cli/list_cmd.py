"""``corruptgen list``: the catalogue, with each corruption's family and severity parameters."""

from __future__ import annotations

import json

import click

from corruptgen.corruptions import BENCHMARK, CIFAR_CBAR, EXTRA, IMAGENET_CBAR, MNIST_C, REGISTRY
from corruptgen.corruptions.registry import profile_names

from .options import profile_option


def _fmt(value) -> str:
    if isinstance(value, tuple):
        return f"{value[0]:g}..{value[-1]:g} ({len(value)} zooms)" if value else "()"
    return f"{value:g}" if isinstance(value, float) else str(value)


@click.command("list")
@profile_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_command(profile: str, as_json: bool) -> None:
    """List the corruptions a profile has: family, set, and parameters at each severity (1-5; one
    under --profile mnist-c, MNIST-C's suite in its order; the C-bar profiles in their CSVs' order)."""
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


def _set(name: str, profile: str) -> str:
    if profile in ("imagenet-cbar", "cifar-cbar"):
        return "cbar" if profile == "imagenet-cbar" else "cifar-cbar"
    if name in BENCHMARK:
        return "benchmark"
    return "extra" if name in EXTRA else "mnist-c"
