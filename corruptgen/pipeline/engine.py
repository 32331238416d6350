"""The build engine: plan shards, run them, summarise what the manifests say.

It knows nothing about any dataset's format (an adapter enumerates samples, reads them, encodes
outputs and names the annotation files to carry) nor where bytes go (a writer). The rooms beside
it: :mod:`.layout` (paths and readers of what is on disk), :mod:`.recipe` (an output's seed and
pixels, the build's identity), :mod:`.shard` (the worker), :mod:`.executors` (pool, Dask) and
:mod:`.lock`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corruptgen import __version__
from corruptgen.datasets.base import Adapter, DatasetError, Sample
from corruptgen.files import StorageError, atomic_write, contained
from corruptgen.writers import place, writer_for

from .executors import dask_client, run_shards
from .layout import (
    LOCK_FILE,
    STATE_FILE,
    LayoutError,
    combined_manifest_path,
    manifest_path,
    read_rows,
    read_state,
    shard_manifests,
    tree_name,
)
from .lock import build_lock
from .recipe import IDENTITY_KEYS, build_cells, build_identity, catalogue_order, is_sequence_profile, warped_corruptions
from .shard import ShardResult, ShardTask, shard_done


@dataclass
class BuildOptions:
    corruptions: list[str]
    severities: list[int]
    profile: str = "imagenet"
    seed: int = 0
    workers: int = 1
    shard_size: int | None = None
    """Samples per shard; None: :func:`default_shard_size`."""
    limit: int | None = None
    on_error: str = "skip"
    overwrite: bool = False
    dask_address: str | None = None
    warp_annotations: bool = False
    """Also move annotations under corruptions that shift pixels a little (the elastic transform);
    off by default, as the detection benchmarks' protocol leaves them unchanged."""
    output_format: str = "folder"
    """``folder`` (the source's own layout) or ``webdataset`` (tar shards): see :mod:`.writers`."""
    severity_dirs: str = "severity"
    """Severity folders named by severity, or by the C-bar magnitude (``layout.SEVERITY_DIRS``)."""

    def cells(self) -> list[tuple[str, int]]:
        """This run's (corruption, severity) pairs; (perturbation, difficulty) under a P profile."""
        return build_cells(self.corruptions, self.severities, self.profile)


@dataclass
class BuildReport:
    samples: int
    outputs: int
    written: int
    skipped: int
    failed: int
    errors: list[str]
    problems: list[str]
    seconds: float
    images: int
    warnings: list[str] = field(default_factory=list)
    """What a user should know of the source (not the release's size): said, never fatal."""

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.problems


SHARD_SIZE = 64
"""Samples per shard of a -C build: a shard is seconds of work, and its manifests are few."""
SEQUENCE_SHARD_SIZE = 8
"""At most this many per shard of a perturbation build: a sample is a whole sequence (31 frames, about
100 images' work), so 64 of them would be one worker's minutes while the others wait."""


def default_shard_size(samples: int, workers: int, profile: str) -> int:
    """Samples per shard when ``--shard-size`` is not given: :data:`SHARD_SIZE`, or for perturbation
    sequences enough shards that every worker gets about four (at most :data:`SEQUENCE_SHARD_SIZE`).

    Examples
    --------
    >>> default_shard_size(6, 2, "imagenet-p"), default_shard_size(50_000, 16, "imagenet-p"), default_shard_size(6, 2, "imagenet")
    (1, 8, 64)
    """
    if not is_sequence_profile(profile):
        return SHARD_SIZE
    return max(1, min(SEQUENCE_SHARD_SIZE, -(-samples // (4 * max(1, workers)))))


def _check_locations(src: Path, out: Path) -> None:
    src_r, out_r = src.resolve(), out.resolve()
    if out_r == src_r or src_r in out_r.parents:
        raise DatasetError(f"--out {out} is inside --src {src}; choose an output folder outside the source.")


def _same_source(before, now) -> bool:
    """Sources are the same when their paths resolve to the same folder (an older build recorded the
    path as given, maybe relative: it is resolved from here)."""
    if before == now:
        return True
    if before is None or now is None or "bundled sample" in (before, now):
        return False
    return Path(before).resolve() == Path(now).resolve()


def _remove_partials(out: Path) -> None:
    """Delete what an interrupted run left half-written (``.<name>.partial``): never reported done,
    and rewritten under the same names anyway (the caller holds the build's lock)."""
    for folder, _, names in os.walk(out):
        for name in names:
            if name.startswith(".") and name.endswith(".partial"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))


def _bytes_release(version: str) -> str:
    """The part of a version that decides output bytes: releases that differ only in the last
    number give the same bytes (README), so a build may resume across them."""
    return ".".join(version.split(".")[:2])


def _prepare_out(out: Path, ident: dict, options: BuildOptions) -> dict | None:
    """Load the previous state, refusing a conflicting one unless --overwrite."""
    state_path = out / STATE_FILE
    if state_path.exists():
        try:
            previous = read_state(out)
        except (OSError, LayoutError) as exc:
            raise DatasetError(f"{exc}; remove it or pass --overwrite.") from None
        built_by = str(previous.get("corruptgen_version", "0.1.0"))
        if _bytes_release(built_by) != _bytes_release(__version__) and not options.overwrite:
            raise DatasetError(f"--out {out} was built by corruptgen {built_by}, whose outputs differ from {__version__}'s; "
                               f"resume it with corruptgen {built_by} or pass --overwrite to rebuild it.")
        before = previous.get("identity", {})
        diffs = [k for k in IDENTITY_KEYS if before.get(k) != ident.get(k) and not (k == "source" and _same_source(before.get(k), ident.get(k)))]
        if diffs == ["source"] and not options.overwrite and not Path(str(before.get("source"))).is_absolute():
            raise DatasetError(f"--out {out} was built from source {before.get('source')!r}, a path relative to the folder that "
                               f"build ran in; from here it is not {ident.get('source')}. Rerun from that folder, or pass "
                               "--overwrite to rebuild it.")  # fmt: skip
        if diffs and not options.overwrite:
            detail = ", ".join(f"{k} {previous.get('identity', {}).get(k)!r} -> {ident.get(k)!r}" for k in diffs)
            raise DatasetError(f"--out {out} holds a build with a different {detail}; pass --overwrite to replace it.")
        if options.overwrite:
            for child in out.iterdir():
                if child.name != LOCK_FILE:  # held by this build
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
            return None
        return previous
    if out.exists() and any(p.name != LOCK_FILE for p in out.iterdir()):
        raise DatasetError(f"--out {out} is not empty and holds no {STATE_FILE}; choose a new or empty folder.")
    return None


def run_build(adapter: Adapter, out: Path, options: BuildOptions, progress=None) -> BuildReport:
    """Build (or finish building) the -C dataset of ``adapter`` into ``out``."""
    started = time.perf_counter()
    out = Path(out)
    _check_locations(adapter.src, out)
    if (out / STATE_FILE).is_file() and not options.overwrite:
        adapter.load_cache(out)
    samples = adapter.samples()
    if options.limit is not None:
        samples = samples[: options.limit]
    if not samples:
        raise DatasetError(f"no images found for {adapter.name} in {adapter.src}; expected {adapter.expected_layout()}.")
    warning = None if is_sequence_profile(options.profile) else adapter.size_warning(len(samples))
    if warning and progress is not None:
        progress.warn(warning)  # before the work, which may be long
    with ExitStack() as stack:
        # the cluster first: one that cannot be reached leaves --out untouched
        client = stack.enter_context(dask_client(options.dask_address)) if options.dask_address else None
        stack.enter_context(build_lock(out))
        report = _build_locked(adapter, out, options, progress, samples, started, client, warning)
    report.warnings = [warning] if warning else []
    return report


def _build_locked(adapter: Adapter, out: Path, options: BuildOptions, progress, samples: list[Sample],
                  started: float, client, warning: str | None = None) -> BuildReport:  # fmt: skip
    ident = build_identity(adapter, options.seed, options.profile, options.warp_annotations, options.output_format,
                           options.severity_dirs)  # fmt: skip
    previous = _prepare_out(out, ident, options)
    if previous is not None and previous.get("status") != "complete":
        _remove_partials(out)
    shard_size = options.shard_size or default_shard_size(len(samples), options.workers, options.profile)
    if previous and previous.get("shard_size") != shard_size:
        shard_size = previous["shard_size"]  # shard indices name manifests: keep the first run's plan
    shards = [samples[i : i + shard_size] for i in range(0, len(samples), shard_size)]

    built = set(map(tuple, previous.get("built", []))) if previous else set()
    cells = options.cells()
    built |= set(cells)
    order = catalogue_order(options.profile)
    built_sorted = sorted(built, key=lambda cs: (order[cs[0]], cs[1]))
    writer = writer_for(options.output_format, adapter, is_sequence_profile(options.profile))
    writer.refuse(adapter, out, built_sorted, samples)  # before anything is written
    state = {
        "corruptgen_version": __version__,
        "identity": ident,
        "options": {k: v for k, v in asdict(options).items() if k not in ("overwrite", "dask_address")},
        "shard_size": shard_size,
        "built": [list(cs) for cs in built_sorted],
        "status": "running",
    }
    if warning:
        state["warnings"] = [warning]
    atomic_write(out / STATE_FILE, json.dumps(state, indent=2).encode())
    adapter.save_cache(out)

    warped = warped_corruptions([c for c, _ in built_sorted], options.profile, options.warp_annotations)
    trees = {cs: tree_name(*cs, options.profile, options.severity_dirs) for cs in built_sorted}
    for item in adapter.carried():
        if not item.per_tree:
            place(out, item.target, item)  # the dataset-level annotation files, once
    for corruption, severity in writer.prepare(adapter, out, trees, warped, samples, options.profile) or ():
        for stale in shard_manifests(out, corruption, severity):
            stale.unlink()  # its rows were lost with a damaged array: build them again

    tasks = []
    for index, shard in enumerate(shards):
        todo = [(c, s) for c, s in cells if not shard_done(manifest_path(out, c, s, index), shard)]
        if todo:
            tasks.append(ShardTask(index, shard, todo, adapter, out, options.seed, options.profile, options.on_error == "fail",
                                   warped, options.output_format, tuple(built_sorted), options.severity_dirs))  # fmt: skip
    outputs_now = sum(len(t.samples) * len(t.todo) for t in tasks)
    if progress:
        progress.start(images=sum(len(t.samples) for t in tasks), shards=len(tasks), outputs=outputs_now)
    errors: list[str] = []
    written = failed = 0

    def on_result(result: ShardResult) -> None:
        nonlocal written, failed
        written += result.written
        failed += result.failed
        errors.extend(result.errors)
        if progress:
            progress.shard_done(result)

    failure = None
    try:
        run_shards(tasks, options.workers, on_result, client,
                   progress.sample_done if progress is not None and not progress.quiet else None)  # fmt: skip
    except BaseException as exc:
        failure = exc
        raise
    finally:
        seconds = time.perf_counter() - started
        moved_trees = {cs: t for cs, t in trees.items() if cs[0] in warped}
        try:
            state.update(_summarise(out, shards, built_sorted, adapter, moved_trees, writer.finish))
            state["status"] = "complete" if state["counts"]["missing"] == 0 else "incomplete"
            state["timing"] = {"seconds": round(seconds, 3), "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            atomic_write(out / STATE_FILE, json.dumps(state, indent=2).encode())
        except StorageError:
            if failure is None:
                raise  # else the storage error that stopped the shards is the one to tell
    total = len(samples) * len(cells)
    return BuildReport(
        samples=len(samples), outputs=total, written=written, skipped=total - outputs_now, failed=failed,
        errors=errors, problems=adapter.problems(), seconds=seconds, images=sum(len(t.samples) for t in tasks),
    )  # fmt: skip


def _summarise(out: Path, shards: list[list[Sample]], built: list[tuple[str, int]], adapter: Adapter,
               moved_trees: dict, finish: Callable) -> dict:
    """Count what the manifests say, and write each finished corruption/severity's combined manifest
    (its shards' rows in key order: the same bytes whatever the shard size) and, where the
    corruption moved content, the tree's dataset-level annotation files from those rows."""
    ok = failed = missing = 0
    status = ["complete"] * len(shards)
    for c, s in built:
        texts, tree_rows = [], []
        for index, shard in enumerate(shards):
            path = manifest_path(out, c, s, index)
            if not path.exists():
                missing += len(shard)
                status[index] = "missing"
                continue
            texts.append(path.read_text(encoding="utf-8"))
            rows = read_rows(path, texts[-1])
            tree_rows += rows
            n_ok = sum(r["status"] == "ok" for r in rows)
            ok += n_ok
            failed += len(rows) - n_ok
            if n_ok < len(rows) and status[index] == "complete":
                status[index] = "errors"
        if len(texts) == len(shards):
            combined = "".join(texts).encode()
            target = combined_manifest_path(out, c, s)
            if not target.exists() or target.read_bytes() != combined:
                atomic_write(target, combined)
            if (c, s) in moved_trees:
                finish(adapter, contained(out, moved_trees[c, s]), tree_rows)
    shard_status = [{"shard": i, "first_key": shard[0].key, "samples": len(shard), "status": status[i]}
                    for i, shard in enumerate(shards)]  # fmt: skip
    return {
        "counts": {"samples": sum(map(len, shards)), "outputs": sum(map(len, shards)) * len(built),
                   "ok": ok, "failed": failed, "missing": missing},
        "shards": shard_status,
        "problems": adapter.problems(),
    }  # fmt: skip


