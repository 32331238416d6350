"""The build engine: plan shards, run them (inline, process pool or Dask), write manifests.

It knows nothing about any dataset's format: an adapter enumerates samples, reads them,
encodes outputs and names the annotation files to carry.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from corruptgen import __version__
from corruptgen.api import corrupt_rgb_or_gray
from corruptgen.corruptions import REGISTRY, get_corruption
from corruptgen.datasets.base import Adapter, DatasetError, Sample, SampleError
from corruptgen.files import atomic_write, contained
from corruptgen.rng import derive_seed

from .writers import WRITERS, place

STATE_FILE = "corruptgen.json"
MANIFEST_DIR = "manifests"
LOCK_FILE = ".corruptgen.lock"
DASK_TIMEOUT_S = 20
"""Seconds to reach a Dask scheduler before giving up with one sentence (``CORRUPTGEN_DASK_TIMEOUT`` overrides)."""
# what a rerun into the same --out must share with the first run
IDENTITY_KEYS = ("dataset", "source", "split", "seed", "profile", "image_format", "jpeg_quality", "preprocessing",
                 "warp_annotations", "output_format")


class BuildFailed(RuntimeError):
    """``--on-error fail`` met an error; the message names the file."""


@dataclass
class BuildOptions:
    corruptions: list[str]
    severities: list[int]
    profile: str = "imagenet"
    seed: int = 0
    workers: int = 1
    shard_size: int = 64
    limit: int | None = None
    on_error: str = "skip"
    overwrite: bool = False
    dask_address: str | None = None
    warp_annotations: bool = False
    """Also move annotations under corruptions that shift pixels a little (the elastic transform);
    off by default, as the detection benchmarks' protocol leaves them unchanged."""
    output_format: str = "folder"
    """``folder`` (the source's own layout) or ``webdataset`` (tar shards): see :mod:`.writers`."""


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


@dataclass
class ShardResult:
    index: int
    images: int
    written: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


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

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.problems


def manifest_path(out: Path, corruption: str, severity: int, shard: int) -> Path:
    return out / MANIFEST_DIR / corruption / str(severity) / f"shard-{shard:05d}.jsonl"


def output_seed(seed: int, dataset: str, key: str, corruption: str, severity: int) -> np.random.Generator:
    """Each output's generator depends on its identity only: never on workers, shards or order."""
    return np.random.Generator(np.random.PCG64(derive_seed(seed, dataset, key, corruption, severity)))


def corrupt_sample(pixels: np.ndarray, dataset: str, key: str, corruption: str, severity: int, seed: int,
                   profile: str, *, with_warp: bool = False):
    """One output's pixels from its decoded source (H x W grey or H x W x 3 RGB, same layout back);
    with ``with_warp``, ``(pixels, warp)`` where warp is how the corruption moved them (or None).

    The one place an output's pixels are made: builds write them, on-the-fly evaluation feeds
    them to a model, so the two agree byte for byte.
    """
    gray2d = pixels.ndim == 2
    rng = output_seed(seed, dataset, key, corruption, severity)
    out = corrupt_rgb_or_gray(pixels[:, :, None] if gray2d else pixels, get_corruption(corruption), severity, rng,
                              profile, with_warp=with_warp)  # fmt: skip
    out, warp = out if with_warp else (out, None)
    out = out[:, :, 0] if gray2d else out
    return (out, warp) if with_warp else out


def tree_name(corruption: str, severity: int, profile: str) -> str:
    """Where an output tree goes under ``--out``: ``<corruption>/<severity>``, or ``<corruption>``
    under a profile with one severity (MNIST-C's release layout)."""
    return corruption if len(get_corruption(corruption).severities(profile)) == 1 else f"{corruption}/{severity}"


def warped_corruptions(corruptions, profile: str, warp_annotations: bool) -> frozenset[str]:
    """The corruptions whose outputs move content, so their annotations are pushed through the warp."""
    specs = [get_corruption(c) for c in corruptions]
    return frozenset(s.name for s in specs if s.can_warp and (s.is_geometric(profile) or warp_annotations))


def _row(sample: Sample, corruption: str, severity: int, seed: int, **fields) -> dict:
    row = {"key": sample.key, "source": sample.source, "corruption": corruption, "severity": severity, "seed": seed}
    row.update(fields)
    return row


def build_shard(task: ShardTask) -> ShardResult:
    """Decode each sample of the shard once and write every missing corruption x severity for it.

    Files are written under temporary names and renamed; each (corruption, severity)
    manifest of the shard is written after all its files, so a manifest on disk means its
    files are complete.
    """
    adapter, out = task.adapter, task.out
    writer = WRITERS[task.output_format](adapter, out, task.index)
    trees = {cs: tree_name(*cs, task.profile) for cs in task.todo}
    rows: dict[tuple[str, int], list[dict]] = {cs: [] for cs in task.todo}
    result = ShardResult(task.index, images=len(task.samples))
    for sample in task.samples:
        note = None
        try:
            if sample.problem:
                raise SampleError(sample.problem)
            pixels, note = adapter.load(sample)
        except SampleError as exc:
            _fail(task, result, rows, sample, str(exc))
            continue
        for corruption, severity in task.todo:
            try:
                files, moved = {}, {}
                if corruption in task.warped:  # only then is the warp worth building
                    corrupted, warp = corrupt_sample(pixels, adapter.name, sample.key, corruption, severity, task.seed,
                                                     task.profile, with_warp=True)  # fmt: skip
                    files, moved = adapter.moved_targets(sample, warp, corrupted.shape[:2])
                    moved["warp"] = warp.describe()
                else:
                    corrupted = corrupt_sample(pixels, adapter.name, sample.key, corruption, severity, task.seed, task.profile)
                fields = {**writer.add(trees[corruption, severity], sample, corrupted, files, moved), **moved}
            except Exception as exc:  # a build never dies because one image is broken
                message = f"{sample.source}: {corruption} severity {severity} failed ({type(exc).__name__}: {exc})."
                _record_failure(task, result, rows[(corruption, severity)], sample, corruption, severity, message)
                continue
            fields["status"] = "ok"
            if note:
                fields["note"] = note
            rows[(corruption, severity)].append(_row(sample, corruption, severity, task.seed, **fields))
            result.written += 1
    writer.close()  # outputs durable first: a manifest on disk means its outputs are complete
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


def refuse_moving_content(adapter: Adapter, corruptions, profile: str) -> None:
    """DatasetError when a corruption would move content under annotations that locate things and
    nothing moves the annotations with it (on-the-fly evaluation scores against the source's)."""
    moving = list(dict.fromkeys(c for c in corruptions if get_corruption(c).is_geometric(profile)))
    if moving and adapter.spatial_annotations:
        raise DatasetError(
            f"{', '.join(moving)} moves image content under profile {profile!r}, and {adapter.name} annotations "
            "are not moved on the fly; build the tree first (corruptgen build moves them) or leave it out."
        )


def _check_locations(src: Path, out: Path) -> None:
    src_r, out_r = src.resolve(), out.resolve()
    if out_r == src_r or src_r in out_r.parents:
        raise DatasetError(f"--out {out} is inside --src {src}; choose an output folder outside the source.")


def _identity(adapter: Adapter, options: BuildOptions) -> dict:
    ident = {**adapter.describe(), "seed": options.seed, "profile": options.profile}
    ident.update({"image_format": adapter.settings.image_format, "jpeg_quality": adapter.settings.jpeg_quality})
    ident.setdefault("preprocessing", None)
    if options.warp_annotations:  # absent, not False, so that builds from before the option resume
        ident["warp_annotations"] = True
    if options.output_format != "folder":
        ident["output_format"] = options.output_format
    return ident


def _bytes_release(version: str) -> str:
    """The part of a version that decides output bytes: releases that differ only in the last
    number give the same bytes (README), so a build may resume across them."""
    return ".".join(version.split(".")[:2])


def _prepare_out(out: Path, ident: dict, options: BuildOptions) -> dict | None:
    """Load the previous state, refusing a conflicting one unless --overwrite."""
    state_path = out / STATE_FILE
    if state_path.exists():
        try:
            previous = json.loads(state_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{state_path} is unreadable ({exc}); remove it or pass --overwrite.") from None
        built_by = str(previous.get("corruptgen_version", "0.1.0"))
        if _bytes_release(built_by) != _bytes_release(__version__) and not options.overwrite:
            raise DatasetError(f"--out {out} was built by corruptgen {built_by}, whose outputs differ from {__version__}'s; "
                               f"resume it with corruptgen {built_by} or pass --overwrite to rebuild it.")
        diffs = [k for k in IDENTITY_KEYS if previous.get("identity", {}).get(k) != ident.get(k)]
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


@contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold ``<out>/.corruptgen.lock`` for the build: a second build into the same folder (another
    terminal, another client) is refused while this one runs. The lock is the kernel's (``flock``),
    so a killed build's is released with its process and never blocks the rerun."""
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = open(out / LOCK_FILE, "a+")
    except OSError as exc:
        raise DatasetError(f"--out {out} cannot be created ({exc.strerror or exc}); choose a folder you can write to.") from None
    try:
        import fcntl
    except ImportError:  # no flock (Windows): builds are not guarded against each other
        fcntl = None
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DatasetError(f"--out {out} is being built right now ({holder}); wait for that build to finish, "
                               "or choose another --out.") from None  # fmt: skip
    handle.seek(0)
    handle.truncate()
    handle.write(f"corruptgen build, pid {os.getpid()} on {socket.gethostname()}, since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S')}")  # fmt: skip
    handle.flush()
    try:
        yield
    finally:
        handle.seek(0)
        handle.truncate()  # the same (empty) file after every finished build
        handle.close()  # releases the lock
        if created and {p.name for p in out.iterdir()} == {LOCK_FILE}:
            shutil.rmtree(out)  # a refused first build leaves nothing behind


@contextmanager
def executor_for(options: BuildOptions, n_tasks: int, client=None) -> Iterator[Executor | None]:
    """None (run inline), a local process pool, or the executor of a connected Dask ``client``."""
    if client is not None:
        with client.get_executor() as executor:
            yield executor
    elif options.workers > 1 and n_tasks > 1:  # one shard: no pool to start
        # forkserver: workers fork from a server that imported corruptgen once (fast start, and no
        # fork of a parent whose OpenCV thread pool is running); spawn where it does not exist.
        try:
            context = get_context("forkserver")
            context.set_forkserver_preload(["corruptgen.build.engine"])
        except ValueError:
            context = get_context("spawn")
        with ProcessPoolExecutor(options.workers, mp_context=context, initializer=_worker_init) as executor:
            yield executor
    else:
        yield None


@contextmanager
def dask_client(target: str):
    """A Dask client for ``--dask``: a scheduler address (``tcp://host:8786``) or a scheduler file
    (what ``dask scheduler --scheduler-file``, dask-jobqueue and dask-mpi write); an unreachable
    scheduler is one sentence after DASK_TIMEOUT_S seconds, not a hang."""
    try:
        from distributed import Client
    except ImportError:
        raise DatasetError("--dask needs the dask extra: pip install 'corruptgen[dask]'.") from None
    as_file = Path(target).is_file() or target.endswith(".json")
    if as_file and not Path(target).is_file():
        raise DatasetError(f"--dask {target}: no such scheduler file; give the file `dask scheduler --scheduler-file` "
                           "writes, or the scheduler's address (tcp://host:8786).")  # fmt: skip
    where = f"the scheduler in {target}" if as_file else f"the Dask scheduler at {target}"
    timeout = int(os.environ.get("CORRUPTGEN_DASK_TIMEOUT", DASK_TIMEOUT_S))
    try:
        client = Client(scheduler_file=target, timeout=timeout) if as_file else Client(target, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise DatasetError(f"cannot reach {where} within {timeout} s ({type(exc).__name__}); check that it is "
                           "running and reachable from here.") from None  # fmt: skip
    with client:
        yield client


def _worker_init() -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core already; nested threads only contend


def _run(tasks: list[ShardTask], options: BuildOptions, on_result: Callable[[ShardResult], None], client=None) -> None:
    with executor_for(options, len(tasks), client) as executor:
        if executor is None:
            for task in tasks:
                on_result(build_shard(task))
            return
        futures = {executor.submit(build_shard, task): task.index for task in tasks}
        try:
            for future in as_completed(futures):
                try:
                    result = future.result()
                except (BuildFailed, KeyboardInterrupt):
                    raise
                except Exception as exc:  # a pool or cluster that lost the task for good (e.g. Dask's KilledWorker)
                    raise DatasetError(f"shard {futures[future]} could not be run ({type(exc).__name__}: {exc}); rerun the "
                                       "same command to finish what is missing.") from exc  # fmt: skip
                on_result(result)
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _shard_done(path: Path, shard: list[Sample]) -> bool:
    """A manifest on disk means its files are complete, if it covers exactly this shard's samples
    (a first run with --limit covers fewer)."""
    if not path.exists():
        return False
    lines = path.read_text().splitlines()
    if len(lines) != len(shard):
        return False
    return json.loads(lines[0])["key"] == shard[0].key and json.loads(lines[-1])["key"] == shard[-1].key


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
    with ExitStack() as stack:
        # the cluster first: one that cannot be reached leaves --out untouched
        client = stack.enter_context(dask_client(options.dask_address)) if options.dask_address else None
        stack.enter_context(build_lock(out))
        return _build_locked(adapter, out, options, progress, samples, started, client)


def _build_locked(adapter: Adapter, out: Path, options: BuildOptions, progress, samples: list[Sample],
                  started: float, client) -> BuildReport:  # fmt: skip
    ident = _identity(adapter, options)
    previous = _prepare_out(out, ident, options)
    shard_size = options.shard_size
    if previous and previous.get("shard_size") != shard_size:
        shard_size = previous["shard_size"]  # shard indices name manifests: keep the first run's plan
    shards = [samples[i : i + shard_size] for i in range(0, len(samples), shard_size)]

    built = set(map(tuple, previous.get("built", []))) if previous else set()
    built |= {(c, s) for c in options.corruptions for s in options.severities}
    order = {name: i for i, name in enumerate(REGISTRY)}
    built_sorted = sorted(built, key=lambda cs: (order[cs[0]], cs[1]))
    state = {
        "corruptgen_version": __version__,
        "identity": ident,
        "options": {k: v for k, v in asdict(options).items() if k not in ("overwrite", "dask_address")},
        "shard_size": shard_size,
        "built": [list(cs) for cs in built_sorted],
        "status": "running",
    }
    atomic_write(out / STATE_FILE, json.dumps(state, indent=2).encode())
    adapter.save_cache(out)

    warped = warped_corruptions([c for c, _ in built_sorted], options.profile, options.warp_annotations)
    trees = {cs: tree_name(*cs, options.profile) for cs in built_sorted}
    writer = WRITERS[options.output_format]
    for item in adapter.carried():
        if not item.per_tree:
            place(out, item.target, item)  # the dataset-level annotation files, once
    writer.prepare(adapter, out, trees, warped)

    tasks = []
    for index, shard in enumerate(shards):
        todo = [(c, s) for c in options.corruptions for s in options.severities
                if not _shard_done(manifest_path(out, c, s, index), shard)]  # fmt: skip
        if todo:
            tasks.append(ShardTask(index, shard, todo, adapter, out, options.seed, options.profile, options.on_error == "fail",
                                   warped, options.output_format))  # fmt: skip
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

    try:
        _run(tasks, options, on_result, client)
    finally:
        seconds = time.perf_counter() - started
        moved_trees = {cs: t for cs, t in trees.items() if cs[0] in warped}
        state.update(_summarise(out, shards, built_sorted, adapter, moved_trees, writer.finish))
        state["status"] = "complete" if state["counts"]["missing"] == 0 else "incomplete"
        state["timing"] = {"seconds": round(seconds, 3), "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        atomic_write(out / STATE_FILE, json.dumps(state, indent=2).encode())
    total = len(samples) * len(options.corruptions) * len(options.severities)
    return BuildReport(
        samples=len(samples), outputs=total, written=written, skipped=total - outputs_now, failed=failed,
        errors=errors, problems=adapter.problems(), seconds=seconds, images=sum(len(t.samples) for t in tasks),
    )  # fmt: skip


def combined_manifest_path(out: Path, corruption: str, severity: int) -> Path:
    return out / MANIFEST_DIR / corruption / f"{severity}.jsonl"


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
            texts.append(path.read_text())
            rows = [json.loads(line) for line in texts[-1].splitlines() if line]
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


def worker_count(requested: int | None) -> int:
    return requested if requested and requested > 0 else (os.cpu_count() or 1)
