"""``corruptgen build DATASET``: a sharded, resumable, byte-reproducible -C dataset."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click

from corruptgen.corruptions import FAMILIES
from corruptgen.corruptions.sequences import P_PROFILES
from corruptgen.datasets import ADAPTERS, BuildSettings, DatasetError, SourceRequired, make_adapter
from corruptgen.datasets.base import generated_kind
from corruptgen.datasets.colored_mnist import VARIANTS
from corruptgen.datasets.imagenet_d import LINKS
from corruptgen.datasets.waterbirds import SPECIES_RULES
from corruptgen.pipeline.engine import BuildOptions, run_build
from corruptgen.pipeline.executors import worker_context, worker_count
from corruptgen.pipeline.layout import SEVERITY_DIRS
from corruptgen.pipeline.progress import Progress
from corruptgen.pipeline.shard import BuildFailed
from corruptgen.selection import SelectionError, select_perturbations
from corruptgen.writers.video import VIDEO_MODES

from .options import (
    build_profile_option,
    corruptions_option,
    dataset_defaults,
    resolve_selection,
    seed_option,
    severities_option,
)

GENERATED = ("waterbirds", "colored-mnist", "celeba")
"""Datasets generated from a source (``build waterbirds --src CUB``); given a tree so generated as ``--src``, a
build writes its -C variant as for any dataset kind."""
GENERATION_OPTIONS = {"waterbirds": ("--places", "--species-rule", "--confounder-strength", "--val-fraction", "--seed",
                                     "--workers", "--output-format webdataset"),
                      "colored-mnist": ("--variant", "--seed", "--image-format png"), "celeba": ("--target", "--confounder")}  # fmt: skip


@click.command("build")
@click.argument("dataset", type=click.Choice(list(dict.fromkeys([*ADAPTERS, *GENERATED]))))
@click.option("--src", type=click.Path(exists=True, path_type=Path), help="Source dataset root (coco: the bundled sample when omitted).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--split", default=None, help="imagenet: val; coco: val2017; cityscapes: val; mnist: train|test (both); "
              "cifar10, cifar100: test (the release's; train goes under <out>/train/); voc: VOC2007,VOC2012.")
@corruptions_option
@click.option("--family", type=click.Choice(FAMILIES), help="Keep only this family's corruptions.")
@severities_option
@click.option("--perturbations", is_flag=False, flag_value="test", default=None,
              help="Build ImageNet-P / CIFAR-10-P style perturbation sequences instead: test (the 10 of mFR; the value "
                   "when none is given), validation, all, or a comma list of names (corruptgen list --perturbations).")
@click.option("--difficulties", default=None,
              help="With --perturbations: 1 (default, what the benchmark reports) to 3; 2 and 3 exist for the noise "
                   "sequences only (<name>_2/, <name>_3/).")
@click.option("--video", type=click.Choice(VIDEO_MODES), default="release", show_default=True,
              help="With --perturbations, how MP4s are encoded: release (H.264 4:4:4 as ImageNet-P's: CRF 20, or "
                   "-tune grain for noise) or lossless (libx264rgb CRF 0: frames decode exactly).")
@build_profile_option
@seed_option
@click.option("--workers", type=click.IntRange(min=0), default=0, help="Worker processes (default: every core; 1 = inline).")
@click.option("--shard-size", type=click.IntRange(min=1), default=None,
              help="Images per shard, the unit of work and resume (default 64; perturbation builds: at most 8, "
                   "about four shards per worker).")
@click.option("--image-format", type=click.Choice(["source", "png", "jpeg"]), default="source", show_default=True)
@click.option("--output-format", type=click.Choice(["folder", "webdataset"]), default="folder", show_default=True,
              help="folder: the source's own layout; webdataset: tar shards <corruption>/<severity>/<dataset>-NNNNNN.tar.")
@click.option("--jpeg-quality", type=click.IntRange(1, 100), default=None, help="JPEG quality (default 95; imagenet 85).")
@click.option("--no-imagenet-c-preprocessing", is_flag=True, help="imagenet: keep sizes instead of Resize(256)+CenterCrop(224).")
@click.option("--labels", type=click.Path(exists=True, path_type=Path), default=None,
              help="imagenet, flat folder or .tar: ILSVRC2012_devkit_t12.tar.gz (or its folder) or LOC_val_solution.csv.")
@click.option("--keys", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="imagenet: build only the samples this file lists, one <wnid>/<file> per line (RobustBench's "
                   "imagenet_test_image_ids.txt); every class folder is still written.")
@click.option("--severity-dirs", type=click.Choice(SEVERITY_DIRS), default="severity", show_default=True,
              help="Name severity folders by severity (1-5) or, under --profile imagenet-cbar / cifar-cbar, by the "
                   "reference's magnitude (<corruption>/3.20/), as make_imagenet_c_bar.py writes ImageNet-C-bar.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N samples, for a quick look.")
@click.option("--on-error", type=click.Choice(["skip", "fail"]), default="skip", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing build made with other settings.")
@click.option("--warp-annotations", is_flag=True,
              help="Move annotations with the elastic transform's few-pixel displacement too (the detection "
                   "benchmarks leave them unchanged; geometric corruptions always move them).")
@click.option("--dask", "dask_address", default=None,
              help="Run shards on a Dask cluster: its scheduler address (tcp://host:8786) or scheduler file (scheduler.json). "
                   "Default: DASK_SCHEDULER_ADDRESS when set.")
@click.option("--link", type=click.Choice(LINKS), default=None,
              help="imagenet-d (without --corruptions): how images reach the tree: hardlink (default; a copy where the file "
                   "system refuses), symlink or copy.")
@click.option("--target", "target_attribute", default=None,
              help="celeba: the attribute to predict (default Blond_Hair, as group DRO and WILDS).")
@click.option("--confounder", "confounder_attributes", multiple=True,
              help="celeba: a spurious attribute (repeatable; default Male).")
@click.option("--variant", type=click.Choice(VARIANTS), default=None,
              help="colored-mnist: domainbed (three 28 x 28 environments, colour flips 0.1 / 0.2 / 0.9; the default) or "
                   "irm (two 14 x 14 training environments and a test one).")
@click.option("--places", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="waterbirds: Places365's folder holding data_large/ (its high-resolution training images).")
@click.option("--species-rule", type=click.Choice(SPECIES_RULES), default=None,
              help="waterbirds: which species are waterbirds: reference (the reference's substring rule, default; it "
                   "counts three landbird species) or strict (whole words; corrects them).")
@click.option("--confounder-strength", type=click.FloatRange(0.5, 1), default=None,
              help="waterbirds: share of training images on their class's background (default 0.95).")
@click.option("--val-fraction", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="waterbirds: share of CUB's training images drawn as validation (default 0.2).")
@click.option("--quiet", is_flag=True, help="No progress output.")
def build_command(dataset, src, out, split, corruptions, family, severities, perturbations, difficulties, video, profile,
                  seed, workers, shard_size, image_format, output_format, jpeg_quality, no_imagenet_c_preprocessing, labels,
                  keys, severity_dirs, limit, on_error, overwrite, warp_annotations, dask_address, link,
                  target_attribute, confounder_attributes, variant, places, species_rule, confounder_strength,
                  val_fraction, quiet) -> None:  # fmt: skip
    """Build the corrupted version of DATASET from --src into --out.

    DATASET is one of imagenet, coco, voc, cityscapes, mnist, cifar10, cifar100, folder. Every
    source image is decoded once per shard and written under <out>/<corruption>/<severity>/ in
    the source's own layout (<out>/<corruption>/ under --profile mnist-c, MNIST-C's release
    layout; <out>/<corruption>.npy and labels.npy for cifar10 and cifar100, CIFAR-10-C's and
    CIFAR-10-C-bar's; <out>/<corruption>/<magnitude>/ with --severity-dirs magnitude, ImageNet-C-bar's);
    annotations are carried unchanged, or moved with the pixels by geometric corruptions.
    Rerunning finishes what is missing.

    With --perturbations, ImageNet-P's sequences instead: <out>/<perturbation>/<source path>.mp4 (31
    frames; imagenet: from the Resize(256) image, cropped to 224), or <out>/<perturbation>.npy of
    (N, T, H, W, C) frames and labels.npy for cifar10, cifar100 and mnist (CIFAR-10-P's layout).
    """
    generation = {"--places": places, "--species-rule": species_rule, "--confounder-strength": confounder_strength,
                  "--val-fraction": val_fraction, "--variant": variant,
                  "--target": target_attribute or confounder_attributes or None}  # fmt: skip
    if dataset in GENERATED and generated_kind(src) != dataset:
        given = [o for o, v in (("--corruptions", corruptions), ("--severities", severities), ("--perturbations", perturbations),
                                ("--limit", limit), ("--split", split), ("--profile", profile)) if v is not None]  # fmt: skip
        if given:
            raise click.BadParameter(f"{given[0]} is for -C builds; {dataset} is generated from its source with "
                                     f"{', '.join(GENERATION_OPTIONS[dataset])}; give the generated tree as --src to "
                                     "build its -C variant.", param_hint=given[0])  # fmt: skip
        foreign = next((o for o, v in generation.items() if v and o not in GENERATION_OPTIONS[dataset]), None)
        if foreign:
            raise click.BadParameter(f"{foreign} is not {dataset}'s.", param_hint=foreign)
        if output_format != "folder" and dataset != "waterbirds":
            raise click.BadParameter(f"{dataset} is written as {'arrays and metadata' if dataset == 'colored-mnist' else 'linked images'}; "
                                     "--output-format webdataset is for its -C builds (give the generated tree as --src).",
                                     param_hint="--output-format")  # fmt: skip
        if dataset == "celeba":
            _celeba(src, out, target_attribute or "Blond_Hair", confounder_attributes or ("Male",), quiet)
        elif dataset == "waterbirds":
            _waterbirds(src, places, out, seed, confounder_strength, val_fraction, species_rule, workers, output_format, quiet)
        else:
            _colored_mnist(src, out, variant or "domainbed", seed, image_format, quiet)
        return
    foreign = next((o for o, v in generation.items() if v), None)
    if foreign:
        raise click.BadParameter(f"{foreign} belongs to generating {' / '.join(GENERATED)} from their sources.",
                                 param_hint=foreign)  # fmt: skip
    if dataset == "imagenet-d" and corruptions is None and perturbations is None:
        _imagenet_d(src, out, link or "hardlink", quiet)  # the reference's tree itself; --corruptions: ImageNet-D-C
        return
    if link is not None:
        raise click.BadParameter("--link belongs to build imagenet-d (without --corruptions).", param_hint="--link")
    if perturbations is not None or profile in P_PROFILES:
        corruptions, severities, profile = _sequence_selection(
            dataset, perturbations, difficulties, profile, corruptions, family, severities, severity_dirs, warp_annotations,
            image_format, jpeg_quality)  # fmt: skip
        family = None
    else:
        for option, given in (("--difficulties", difficulties is not None), ("--video", video != "release")):
            if given:
                raise click.BadParameter(f"{option} belongs to perturbation sequences; add --perturbations.",
                                         param_hint=option)  # fmt: skip
        corruptions, profile = dataset_defaults(dataset, corruptions, profile)
        corruptions, severities = resolve_selection(corruptions, severities, profile)
    if dask_address is None and os.environ.get("DASK_SCHEDULER_ADDRESS"):
        dask_address = os.environ["DASK_SCHEDULER_ADDRESS"]
        if not quiet:
            click.echo(f"Running on the Dask scheduler at {dask_address} (DASK_SCHEDULER_ADDRESS).", err=True)
    if labels is not None and dataset != "imagenet":
        raise click.BadParameter(f"--labels is for imagenet (its devkit or LOC_val_solution.csv); {dataset} has its own labels.",
                                 param_hint="--labels")  # fmt: skip
    if keys is not None and dataset != "imagenet":
        raise click.BadParameter(f"--keys selects ImageNet samples by <wnid>/<file>; {dataset} has no such keys.",
                                 param_hint="--keys")  # fmt: skip
    if severity_dirs == "magnitude" and profile not in ("imagenet-cbar", "cifar-cbar"):
        raise click.BadParameter(f"magnitude folders are ImageNet-C-bar's layout; give --profile imagenet-cbar or "
                                 f"cifar-cbar (not {profile}).", param_hint="--severity-dirs")  # fmt: skip
    if family:
        corruptions = [c for c in corruptions if c in _family(family)]
        if not corruptions:
            raise click.BadParameter(f"no selected corruption is in family {family!r}.", param_hint="--family")
    preprocess = dataset == "imagenet" and not no_imagenet_c_preprocessing
    settings = BuildSettings(image_format=image_format, jpeg_quality=jpeg_quality or (85 if preprocess else 95), video=video)
    try:
        try:
            adapter = make_adapter(dataset, src, split, settings, preprocess=preprocess, labels=labels, keys=keys)
        except SourceRequired as exc:
            raise click.UsageError(str(exc)) from None
        if src is None and not quiet:
            click.echo("No --src given: building the bundled COCO sample (4 scikit-image photographs, "
                       "hand-annotated).", err=True)  # fmt: skip
        options = BuildOptions(corruptions=corruptions, severities=severities, profile=profile, seed=seed,
                               workers=worker_count(workers), shard_size=shard_size, limit=limit, on_error=on_error,
                               overwrite=overwrite, dask_address=dask_address,
                               warp_annotations=warp_annotations, output_format=output_format,
                               severity_dirs=severity_dirs)  # fmt: skip
        progress = Progress(quiet=quiet)
        try:
            report = run_build(adapter, out, options, progress)
        finally:
            progress.close()
    except BuildFailed as exc:
        raise click.ClickException(f"stopped at the first error (--on-error fail): {exc}") from exc
    except (DatasetError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not quiet:
        rate = report.images / report.seconds if report.seconds else 0.0
        kinds = ("perturbations", "difficulties") if profile in P_PROFILES else ("corruptions", "severities")
        per_image = report.outputs / report.samples if report.samples else 0
        click.echo(f"\n{report.written} outputs written, {report.skipped} already built, {report.failed} failed "
                   f"({report.samples} samples x {len(corruptions)} {kinds[0]} x {len(severities)} {kinds[1]}) "
                   f"in {report.seconds:.1f} s, {rate:.1f} images/s, {rate * per_image:.0f} outputs/s.", err=True)  # fmt: skip
        click.echo(f"Check it with: corruptgen verify {out}", err=True)
    # what failed is said even with --quiet (it silences progress, not faults)
    for message in report.errors[:20]:
        click.echo(f"  error: {message}", err=True)
    if len(report.errors) > 20:
        click.echo(f"  ... and {len(report.errors) - 20} more (see the manifests' error rows).", err=True)
    if report.errors:
        click.echo("Fix what the errors name and rerun the same command: it redoes the failed outputs.", err=True)
    for message in report.problems:
        click.echo(f"  problem: {message}", err=True)
    if not report.ok:
        raise SystemExit(1)


def _sequence_selection(dataset, perturbations, difficulties, profile, corruptions, family, severities, severity_dirs,
                        warp_annotations, image_format, jpeg_quality):  # fmt: skip
    """--perturbations' names, difficulties and profile, refusing the options of -C builds."""
    given = {"--corruptions": corruptions, "--family": family, "--severities": severities,
             "--severity-dirs": severity_dirs != "severity" or None, "--warp-annotations": warp_annotations or None,
             "--image-format": image_format != "source" or None, "--jpeg-quality": jpeg_quality}  # fmt: skip
    for option, value in given.items():
        if value is not None:
            raise click.BadParameter(f"{option} is for -C builds; a perturbation build takes --perturbations, "
                                     "--difficulties and --video.", param_hint=option)  # fmt: skip
    adapter = ADAPTERS[dataset]
    if adapter.spatial_annotations:
        raise click.BadParameter(f"perturbation sequences carry a class label only; {dataset}'s annotations would not "
                                 "follow the frames. Build imagenet, cifar10, cifar100, mnist or folder.",
                                 param_hint="--perturbations")  # fmt: skip
    if profile is None:
        profile = "cifar-p" if adapter.sequence_arrays else "imagenet-p"
    elif profile not in P_PROFILES:
        raise click.BadParameter(f"perturbation sequences use imagenet-p or cifar-p, not {profile}.", param_hint="--profile")
    try:
        names, levels = select_perturbations(perturbations, difficulties, profile)
    except SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.option}") from None
    return names, levels, profile


def _imagenet_d(src: Path | None, out: Path, link: str, quiet: bool) -> None:
    """ImageNet-D's 164 classes linked from the DomainNet domains under --src, per-domain counts said."""
    from corruptgen.datasets.imagenet_d import build_imagenet_d

    if src is None:
        raise click.UsageError("--src is required: the folder holding DomainNet's domains (clipart/, infograph/, ...).")
    try:
        record = build_imagenet_d(src, out, link)
    except (DatasetError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not quiet:
        for domain, count in record["domains"].items():
            click.echo(f"{domain}: {count['images']:,} images in ImageNet-D's classes, {count['skipped']:,} in categories "
                       "no ImageNet class maps to (skipped)", err=True)  # fmt: skip
        click.echo(f"Wrote ImageNet-D to {out} ({link}s): score a domain with corruptgen classify imagenet-d --src "
                   f"{out}/<domain>.", err=True)  # fmt: skip


def _waterbirds(src, places, out, seed, strength, val_fraction, species_rule, workers, output_format, quiet) -> None:
    """Waterbirds composited from CUB and Places365, its group counts per split said."""
    from corruptgen.datasets.waterbirds import Settings, build_waterbirds

    if src is None or places is None:
        raise click.UsageError("--src (CUB_200_2011, with its segmentations/) and --places (Places365 holding data_large/) "
                               "are required.")  # fmt: skip
    settings = Settings(seed=seed, confounder_strength=0.95 if strength is None else strength,
                        val_fraction=0.2 if val_fraction is None else val_fraction, species_rule=species_rule or "reference")
    workers = worker_count(workers)
    try:
        if workers > 1:  # each image is rendered from its row alone: the same bytes for any number of workers
            with ProcessPoolExecutor(workers, mp_context=worker_context("corruptgen.datasets.waterbirds")) as pool:
                record = build_waterbirds(src, places, out, settings, pool, quiet=quiet, output_format=output_format)
        else:
            record = build_waterbirds(src, places, out, settings, None, quiet=quiet, output_format=output_format)
    except (DatasetError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in record["problems"][:20]:
        click.echo(f"  error: {problem}", err=True)
    if not quiet:
        for split, counts in record["group_counts"].items():
            click.echo(f"{split}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + " (y 1 = waterbird, place 1 = water)",
                       err=True)  # fmt: skip
        where = ("<split>/waterbirds-<split>-NNNNNN.tar shards" if output_format == "webdataset" else "WILDS reads it as "
                 "<root>/waterbirds_v1.0/, group DRO's loader as its cub data folder")
        click.echo(f"Wrote Waterbirds ({record['images']:,} images, seed {seed}) to {out}: {where}.", err=True)
    if record["problems"]:
        click.echo("Fix what the errors name and rerun the same command: it writes what is missing.", err=True)
        raise SystemExit(1)


def _celeba(src: Path | None, out: Path, target: str, confounders: tuple[str, ...], quiet: bool) -> None:
    """CelebA's group metadata (and linked images), group counts per split said."""
    from corruptgen.datasets.celeba import build_celeba

    if src is None:
        raise click.UsageError("--src is required: CelebA's folder (list_attr_celeba, list_eval_partition, img_align_celeba/).")
    try:
        record = build_celeba(src, out, target, tuple(confounders))
    except (DatasetError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not quiet:
        for split, counts in record["group_counts"].items():
            click.echo(f"{split}: images per group {counts} (group = y x {record['n_groups'] // 2} + confounders)", err=True)
        click.echo(f"Wrote CelebA groups ({target} by {', '.join(confounders)}) to {out}.", err=True)


def _colored_mnist(src: Path | None, out: Path, variant: str, seed: int, image_format: str, quiet: bool) -> None:
    """Colored MNIST's environments from MNIST's idx files, with their label-colour agreement said."""
    from corruptgen.datasets.colored_mnist import generate, write

    if src is None:
        raise click.UsageError("--src is required: the folder holding MNIST's idx files.")
    try:
        if image_format == "jpeg":
            raise click.BadParameter("colored-mnist writes its images as PNG (--image-format png); JPEG would blur the "
                                     "colour channels.", param_hint="--image-format")  # fmt: skip
        record = write(generate(src, variant, seed), out, variant, seed, src, folder=image_format == "png")
    except (DatasetError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not quiet:
        for name, env in record["environments"].items():
            if not env["images"]:  # IRM's test environment is MNIST's training images after the first 50,000
                click.echo(f"{name}: no images (the source's training split holds 50,000 or fewer; IRM's test environment "
                           "is the images after the first 50,000)", err=True)  # fmt: skip
                continue
            click.echo(f"{name}: {env['images']:,} images, label = colour {100 * env['label_colour']:.1f} %, label = "
                       f"(digit < 5) {100 * env['label_digit']:.1f} % (colour flip {env['colour_flip']})", err=True)
        click.echo(f"Wrote Colored MNIST ({variant}, seed {seed}) to {out}: <environment>/images.npy, labels.npy, metadata.csv.",
                   err=True)  # fmt: skip


def _family(family: str) -> list[str]:
    from corruptgen.corruptions import list_corruptions

    return list_corruptions(family)
