"""The unit of work, retry, resume and distribution: one shard's samples, each decoded once and
written for every corruption x severity it still lacks, then the shard's manifests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from corruptgen.datasets.base import Adapter, Sample, SampleError
from corruptgen.files import atomic_write, is_storage_fault, storage_error
from corruptgen.writers import writer_for

from .layout import LayoutError, manifest_path, read_rows, tree_name
from .recipe import corrupt_sample, is_sequence_profile, perturb_sample


class BuildFailed(RuntimeError):
    """``--on-error fail`` met an error; the message names the file."""


@dataclass
class ShardTask:
    index: int
    samples: list[Sample]
    todo: list[tuple[str, int]]
    adapter: Adapter
    out: Path
    seed: int
    profile: str
    fail_fast: bool
    warped: frozenset[str] = frozenset()
    output_format: str = "folder"
    cells: tuple[tuple[str, int], ...] = ()
    """Every (corruption, severity) of the build, in its order (a release's arrays are laid out by them)."""
    severity_dirs: str = "severity"


@dataclass
class ShardResult:
    index: int
    images: int
    written: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


_reporter: Callable[[int, int], None] | None = None
"""Where a shard says it finished a sample (shard index, 1): the progress display's, set in this
process for an inline build, or a queue to the parent in a pool's workers (:mod:`.executors`)."""


def set_reporter(reporter: Callable[[int, int], None] | None) -> None:
    global _reporter
    _reporter = reporter


def _reported(samples: list[Sample], index: int) -> Iterator[Sample]:
    """The samples, each reported done once the loop's body for it has run (a perturbation sample is
    minutes of work in a large shard: progress within a shard, not only at its end)."""
    for sample in samples:
        yield sample
        if _reporter is not None:
            _reporter(index, 1)


def _row(sample: Sample, corruption: str, severity: int, seed: int, **fields) -> dict:
    row = {"key": sample.key, "source": sample.source, "corruption": corruption, "severity": severity, "seed": seed}
    row.update(fields)
    return row


def build_shard(task: ShardTask) -> ShardResult:
    """Decode each sample of the shard once and write every missing corruption x severity for it.

    Files are written under temporary names and renamed; each (corruption, severity)
    manifest of the shard is written after all its files, so a manifest on disk means its
    files are complete. Storage that refuses a write (a full disk, a read-only ``--out``) stops the
    shard with a :class:`~corruptgen.files.StorageError`: it is no image's fault, and no manifest
    of the shard is written, so a rerun builds it again.
    """
    try:
        return _build_shard(task)
    except OSError as exc:
        fault = storage_error(exc, Path(exc.filename) if exc.filename else task.out)
        if fault is exc:
            raise
        raise fault from None


def _build_shard(task: ShardTask) -> ShardResult:
    adapter, out = task.adapter, task.out
    trees = {cs: tree_name(*cs, task.profile, task.severity_dirs) for cs in task.todo}
    rows: dict[tuple[str, int], list[dict]] = {cs: [] for cs in task.todo}
    result = ShardResult(task.index, images=len(task.samples))
    sequences = is_sequence_profile(task.profile)
    load = adapter.load_for_sequences if sequences else adapter.load
    # the writer is closed (outputs durable) before the manifests: a manifest on disk means its outputs are complete
    with writer_for(task.output_format, adapter, sequences)(adapter, out, task.index, task.cells) as writer:
        for sample in _reported(task.samples, task.index):
            note = None
            try:
                if sample.problem:
                    raise SampleError(sample.problem)
                pixels, note = load(sample)
            except SampleError as exc:
                _fail(task, result, rows, sample, str(exc))
                continue
            for corruption, severity in task.todo:
                try:
                    files, moved = {}, {}
                    if sequences:
                        corrupted = perturb_sample(pixels, adapter.name, sample.key, corruption, severity, task.seed,
                                                   task.profile, adapter.frame_size())  # fmt: skip
                    elif corruption in task.warped:  # only then is the warp worth building
                        corrupted, warp = corrupt_sample(pixels, adapter.name, sample.key, corruption, severity,
                                                         task.seed, task.profile, with_warp=True)  # fmt: skip
                        files, moved = adapter.moved_targets(sample, warp, corrupted.shape[:2])
                        moved["warp"] = warp.describe()
                    else:
                        corrupted = corrupt_sample(pixels, adapter.name, sample.key, corruption, severity, task.seed,
                                                   task.profile)  # fmt: skip
                    cell = (corruption, severity)
                    fields = {**writer.add(cell, trees[cell], sample, corrupted, files, moved), **moved}
                except Exception as exc:  # a build never dies because one image is broken
                    if isinstance(exc, OSError) and is_storage_fault(exc):
                        raise  # ... but stops where the storage refuses (build_shard names it)
                    message = f"{sample.source}: {corruption} severity {severity} failed ({type(exc).__name__}: {exc})."
                    _record_failure(task, result, rows[(corruption, severity)], sample, corruption, severity, message)
                    continue
                fields["status"] = "ok"
                if note:
                    fields["note"] = note
                rows[(corruption, severity)].append(_row(sample, corruption, severity, task.seed, **fields))
                result.written += 1
    for (corruption, severity), shard_rows in rows.items():
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in shard_rows)
        atomic_write(manifest_path(out, corruption, severity, task.index), text.encode())
    return result


def _fail(task, result, rows, sample, message):
    for (corruption, severity), shard_rows in rows.items():
        _record_failure(task, result, shard_rows, sample, corruption, severity, message, count_message=False)
    result.errors.append(message)


def _record_failure(task, result, shard_rows, sample, corruption, severity, message, count_message=True):
    if task.fail_fast:
        raise BuildFailed(message)
    shard_rows.append(_row(sample, corruption, severity, task.seed, status="error", error=message))
    result.failed += 1
    if count_message:
        result.errors.append(message)


def shard_done(path: Path, shard: list[Sample]) -> bool:
    """A manifest on disk means its files are complete, if it covers exactly this shard's samples
    (a first run with --limit covers fewer) and none of them failed; a damaged one, or one with a
    failed output (a source image that was missing, say), is built again."""
    if not path.exists():
        return False
    try:
        rows = read_rows(path)
    except LayoutError:
        return False
    return (len(rows) == len(shard) and rows[0]["key"] == shard[0].key and rows[-1]["key"] == shard[-1].key
            and all(row.get("status") == "ok" for row in rows))  # fmt: skip
