"""``corruptgen detect``, ``classify`` and ``segment``: run a model over the clean source and every
cell of a built tree (or, with ``--on-the-fly``, of the tree a build would write)."""

from __future__ import annotations

from pathlib import Path

import click

from corruptgen.adapt import METHODS, PROTOCOLS, Settings
from corruptgen.datasets import ADAPTERS, GROUPED_SETS, NATURAL_SHIFTS
from corruptgen.evaluate import Tree, run_model
from corruptgen.evaluate.tree import cell_name
from corruptgen.labels import RULES, SPACES
from corruptgen.models import is_model_spec
from corruptgen.pipeline.executors import worker_count

from .options import (
    clean_errors,
    dataset_defaults,
    parse_corruptions,
    parse_severities,
    parse_tree_names,
    profile_option,
    resolve_selection,
    seed_option,
)

KINDS = {"detect": ("detection", "coco, voc or cityscapes", 1), "classify": ("classification", "imagenet, mnist or folder", 64),
         "segment": ("segmentation", "cityscapes", 1)}
MODEL_NOUN = {"detect": "detector", "classify": "classifier", "segment": "semantic segmenter"}


def _make(name: str):
    task_kind, datasets, default_batch = KINDS[name]

    @click.command(name, help=(
        f"Run a {MODEL_NOUN[name]} over TARGET: its clean source and every "
        "corruption/severity cell, one results file per cell under --results (resumable).\n\n"
        f"TARGET is a tree built by `corruptgen build` ({datasets}), or with --on-the-fly a dataset kind."))
    @click.argument("target")
    @click.option("--model", required=True,
                  help="timm:NAME, torchvision:NAME, open_clip:ARCH/TAG (zero-shot), or MODULE:FACTORY (a factory "
                       "returning the model; see the README).")
    @click.option("--weights", default=None,
                  help="A named model's weights: a local file, or none (random, for a smoke run). Default: the "
                       "library's local cache; nothing downloads unless CORRUPTGEN_ALLOW_DOWNLOADS=1.")
    @click.option("--device", default=None, help="cuda, cpu or mps (default: a GPU when there is one).")
    @click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True,
                  help="A named model's autocast precision.")
    @click.option("--classnames", type=click.Path(exists=True, dir_okay=False), default=None,
                  help="open_clip: a file of the evaluated classes' names, one per line in label order, for the prompts "
                       "(default: open_clip's ImageNet names, the label space's or the dataset's).")
    @click.option("--templates", default=None,
                  help="open_clip: the zero-shot prompts: openai (the 80, default), simple (open_clip's 7) or a file of "
                       "lines with {} for the class name.")
    @click.option("--results", type=click.Path(file_okay=False, path_type=Path), required=True,
                  help="Folder for clean.json and <corruption>/<severity>.json.")
    @click.option("--corruptions", default=None, help="Only these cells (names or groups; default every built one).")
    @click.option("--severities", default=None, help="Only these severities, e.g. 3,5 (default every built one).")
    @click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N images.")
    @click.option("--batch-size", type=click.IntRange(min=1), default=default_batch, show_default=True)
    @click.option("--workers", type=click.IntRange(min=0), default=0,
                  help="Workers loading images ahead of the model (default: every core; 1 = in this process): threads "
                       "reading a built tree, processes corrupting on the fly. The results are the same bytes for any "
                       "number.")
    @click.option("--on-the-fly", is_flag=True,
                  help=f"TARGET is a dataset kind ({datasets}); corrupt in memory with the build's seeds.")
    @click.option("--src", type=click.Path(exists=True, path_type=Path), default=None,
                  help="The clean source (on the fly; or where it moved since the build).")
    @click.option("--split", default=None,
                  help="The split to score: on the fly, as for corruptgen build; of a tree holding several (mnist "
                       "built without --split), one of them. Default: the benchmark's (mnist: test).")
    @seed_option
    @profile_option
    @click.option("--quiet", is_flag=True, help="No progress bar.")
    @shift_options(name)
    @clean_errors
    def command(target, model, weights, device, precision, classnames, templates, results, corruptions, severities, limit, batch_size,
                workers, on_the_fly, src, split, seed, profile, quiet, **shift):  # fmt: skip
        sevs = parse_severities(severities) if severities else None
        model_options = {k: v for k, v in (("weights", weights), ("device", device), ("templates", templates),
                                           ("classnames", classnames)) if v}  # fmt: skip
        model_options["precision"] = precision
        if not is_model_spec(model):
            for option, value in (("--weights", weights), ("--device", device), ("--templates", templates), ("--classnames", classnames),
                                  ("--precision", None if precision == "fp32" else precision)):  # fmt: skip
                if value:
                    raise click.BadParameter(f"{option} belongs to a named model (timm:, torchvision:, open_clip:); "
                                             f"{model} is your own factory.", param_hint=option)  # fmt: skip
        shift = {k: v for k, v in shift.items() if v is not None}
        adaptation = _adaptation(shift)
        task_kind = KINDS[name][0]
        if name == "classify" and target in GROUPED_SETS:
            if shift:
                option = "--" + next(iter(shift)).replace("_", "-")
                raise click.BadParameter(f"{option} belongs to the natural shifts, not {target}.", param_hint=option)
            tree = _grouped_tree(target, src, split, seed, profile, corruptions, sevs, quiet)
            names, sevs, task_kind = None, None, "grouped"
        elif name == "classify" and (target in NATURAL_SHIFTS or "classes_of" in shift):
            tree = _shift_tree(target, src, split, seed, profile, corruptions, sevs, shift, quiet)
            names, sevs, task_kind = None, None, "shift"
        elif shift:
            option = "--" + next(iter(shift)).replace("_", "-")
            raise click.BadParameter(f"{option} belongs to the natural shifts (classify {' | '.join(NATURAL_SHIFTS)}, or "
                                     "classify imagenet --classes-of SPACE).", param_hint=option)  # fmt: skip
        elif on_the_fly:
            names = parse_corruptions(corruptions) if corruptions else None
            if target not in ADAPTERS:
                raise click.BadParameter(f"with --on-the-fly, TARGET is a dataset kind ({datasets}); got {target!r}.")
            names, profile = dataset_defaults(target, names, profile)
            names, sevs = resolve_selection(names, sevs, profile)  # as a build of the same profile would
            cells = [(c, s) for c in names for s in sevs]
            if split is None and ADAPTERS[target].scored_split:
                split = ADAPTERS[target].scored_split  # the benchmark's split, not train and test averaged
                if not quiet:
                    click.echo(f"Scoring {target}'s {split} split (--split train for the other).", err=True)
            tree = Tree.plan(target, src, split, seed, profile, cells)
        else:
            if not (Path(target) / "corruptgen.json").is_file():
                raise click.ClickException(f"{target} holds no corruptgen.json; give a tree written by `corruptgen build`, "
                                           "or a dataset kind with --on-the-fly.")  # fmt: skip
            tree = Tree.open(Path(target), src)
            if tree.dataset in GROUPED_SETS:
                task_kind = "grouped"  # a corrupted Waterbirds (CelebA, Colored MNIST): scored per group
            names = parse_tree_names(corruptions, tree)
            held = tree.splits()
            scored = tree.score_split(split)
            if scored and not quiet:
                others = " or ".join(s for s in held if s != scored)
                click.echo(f"Scoring the {scored} split of a tree holding {' and '.join(held)} (--split {others} for "
                           "the other).", err=True)  # fmt: skip
        report = run_model(tree, task_kind, model, results, batch_size=batch_size, limit=limit, corruptions=names,
                           severities=sevs, quiet=quiet, workers=worker_count(workers),
                           model_options=model_options, adaptation=adaptation, seed=seed)  # fmt: skip
        for problem in report.unreadable[:10]:
            click.echo(f"  unreadable: {problem}", err=True)
        click.echo(f"{len(report.cells_run)} cells run, {len(report.cells_skipped)} already in {results}"
                   + (f" ({', '.join(map(cell_name, report.cells_skipped[:3]))}...)" if report.cells_skipped else "")
                   + f". Score them with: corruptgen evaluate {'' if tree.on_the_fly else target + ' '}--results {results}")  # fmt: skip

    return command


def shift_options(name: str):
    """``classify``'s options for the natural shifts (none for the other commands)."""

    def add(fn):
        if name != "classify":
            return fn
        fn = click.option("--adapt", type=click.Choice(METHODS), default=None,
                          help="Test-time adaptation of a PyTorch model: bn (batch statistics), tent (entropy), rpl "
                               "(GCE pseudo-labels); none (default) scores the source model.")(fn)  # fmt: skip
        fn = click.option("--protocol", type=click.Choice(PROTOCOLS), default=None,
                          help="With --adapt: reset (default: a fresh model per cell), continual (one model through the "
                               "cells in order) or episodic (reset before every batch).")(fn)  # fmt: skip
        fn = click.option("--bn-prior", type=click.IntRange(min=0), default=None,
                          help="--adapt bn: N of prior * source + (1 - prior) * batch statistics, prior = N / (N + batch "
                               "size); 0 (default): batch statistics alone.")(fn)  # fmt: skip
        fn = click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default=None,
                          help="--adapt tent / rpl: Adam (default, betas 0.9 / 0.999) or SGD (momentum 0.9, Nesterov).")(fn)
        fn = click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
                          help="--adapt tent / rpl: learning rate (default 1e-3, the anchors' CIFAR setting).")(fn)
        fn = click.option("--steps", type=click.IntRange(min=1), default=None,
                          help="--adapt tent / rpl: updates per batch (default 1).")(fn)
        fn = click.option("--border", type=click.IntRange(0, 2), default=None,
                          help="objectnet: pixels cropped from each side first (default 2, as every reference; 0 keeps "
                               "the red border).")(fn)  # fmt: skip
        fn = click.option("--classes-of", "classes_of", type=click.Choice(SPACES), default=None,
                          help="imagenet: only the images of this label space's classes, scored in it with the same "
                               "rule (the in-distribution pair of a shift; imagenet-1k: the whole of val).")(fn)  # fmt: skip
        fn = click.option("--rule", type=click.Choice(RULES), default=None,
                          help="Natural shifts: how 1000-way scores become the set's classes: mask (argmax over its "
                               "classes' logits; R, A, O), maxpool (ObjectNet) or full (argmax over all 1000). "
                               "Default: what the published numbers use.")(fn)  # fmt: skip
        return fn

    return add


ADAPT_KEYS = ("adapt", "protocol", "bn_prior", "optimizer", "lr", "steps")


def _adaptation(options: dict):
    """--adapt and its settings (taken out of ``options``) as :class:`corruptgen.adapt.Settings`, or None."""
    given = {k: options.pop(k) for k in ADAPT_KEYS if k in options}
    method = given.pop("adapt", None)
    if method in (None, "none"):
        if given:
            option = "--" + next(iter(given)).replace("_", "-")
            raise click.BadParameter(f"{option} belongs to test-time adaptation; add --adapt bn|tent|rpl.", param_hint=option)
        return None
    if "bn_prior" in given and method != "bn":
        raise click.BadParameter("--bn-prior is --adapt bn's.", param_hint="--bn-prior")
    if method == "bn" and {"optimizer", "lr", "steps"} & set(given):
        raise click.BadParameter("--adapt bn trains nothing; --optimizer, --lr and --steps are tent's and rpl's.",
                                 param_hint="--adapt")  # fmt: skip
    return Settings(method=method, **given)


def _corrupted_cells(kind: str, corruptions: str | None, sevs, profile: str | None) -> tuple[list, str]:
    """The cells a test set read in place is also scored on, on the fly (none without --corruptions), and the
    profile: as a build of ``kind`` would select them."""
    names, profile = dataset_defaults(kind, parse_corruptions(corruptions) if corruptions else None, profile)
    if not corruptions:
        return [], profile
    names, levels = resolve_selection(names, sevs, profile)
    return [(c, s) for c in names for s in levels], profile


def _shift_tree(target, src, split, seed, profile, corruptions, sevs, shift, quiet) -> Tree:
    """A natural-shift test set (or ImageNet restricted to a shift's classes), read in place: its images
    alone by default, or with --corruptions their corrupted copies too, on the fly (ImageNet-R-C)."""
    if target not in (*NATURAL_SHIFTS, "imagenet"):
        raise click.BadParameter(f"--classes-of restricts imagenet to a shift's classes; {target} is not imagenet.",
                                 param_hint="--classes-of")  # fmt: skip
    if "border" in shift and target != "objectnet":
        raise click.BadParameter("--border crops ObjectNet's red border; other sets have none.", param_hint="--border")
    if src is None:
        raise click.UsageError(f"--src is required: the {target} release (its folder or archive).")
    cells, profile = _corrupted_cells("imagenet", corruptions, sevs, profile)
    # the set as released (the model's preprocessing sizes it, as its library's own eval); corrupted copies
    # first get ImageNet-C's Resize(256) + CenterCrop(224), the size its severities are defined at
    tree = Tree.plan(target, src, split, seed, profile, cells, preprocess=bool(cells), **shift)
    note = tree.adapter.size_warning(len(tree.samples()))
    if note and not quiet:
        click.echo(f"Note: {note}", err=True)
    return tree


def _grouped_tree(target, src, split, seed, profile, corruptions, sevs, quiet) -> Tree:
    """A generated dataset with groups (the tree ``corruptgen build`` wrote), read in place: its images alone by
    default, or with --corruptions their corrupted copies too, on the fly; its test split unless --split says."""
    if src is None:
        raise click.UsageError(f"--src is required: the tree `corruptgen build {target}` wrote.")
    cells, profile = _corrupted_cells(target, corruptions, sevs, profile)
    tree = Tree.plan(target, src, None, seed, profile, cells)
    scored = tree.score_split(split)
    if scored and not quiet:
        click.echo(f"Scoring the {scored} split of {src} (--split for another: {', '.join(tree.splits())}).", err=True)
    return tree


detect_command = _make("detect")
classify_command = _make("classify")
segment_command = _make("segment")
