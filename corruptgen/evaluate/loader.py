"""Images for the model, loaded ahead of it by worker threads (or processes), in a fixed order.

A unit of work is a run of samples and the cells wanted for them: from a built tree one cell's
outputs (decoded from the files, tar members or array rows the manifests name), on the fly every
requested cell of each sample from one decode of its source (the build's seeds: a PNG build's
pixels). Units run on ``--workers`` workers (inline for one) while the model works on the
previous batches; results come back in submission order with a fixed number of units in flight, so
memory stays bounded and what the model sees does not depend on the worker count.

Reading a built tree, workers are threads: decoding (Pillow, OpenCV) releases the GIL, and threads hand
images over without copying them between processes: on a 2-core machine whole ``classify`` runs over
22,800 built images took 7.0 and 7.9 s with threads against 13.0 and 11.6 s with a process pool, and the
loader alone reads 3.8x as fast (``scripts/bench_runner.py``, pool start-up included). On the fly the
runner asks for processes: the corruptions' Python parts (parameter sampling, NumPy steps between
kernels) hold the GIL, so two threads corrupted no faster than one (7.38 s against 7.49 s over 96
ImageNet-sized images x 76 cells), and the copy of each corrupted image back is small beside its making.
"""

from __future__ import annotations

import itertools
import mmap
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from corruptgen.datasets import Sample
from corruptgen.pipeline.executors import worker_context

from .tree import Cell, Tree

Loaded = tuple[np.ndarray | None, str | None]
"""An image ready for the model (RGB uint8), or None and the sentence saying why it cannot be had."""


@dataclass(frozen=True)
class Unit:
    """Samples, the cells wanted for each, and each sample's manifest row per cell (built trees)."""

    samples: tuple[Sample, ...]
    cells: tuple[Cell, ...]
    rows: tuple[tuple[dict | None, ...], ...]


def load(tree: Tree, unit: Unit) -> list[list[Loaded]]:
    """``[sample][cell]`` images of a unit."""
    return [tree.load(sample, unit.cells, rows) for sample, rows in zip(unit.samples, unit.rows, strict=True)]


_TREE: Tree | None = None


def _init(tree: Tree) -> None:
    import cv2

    global _TREE
    _TREE = tree
    cv2.setNumThreads(1)  # one process per core already


def _load_in_worker(unit: Unit):
    return _to_shared(load(_TREE, unit))


SHM_DIR = "/dev/shm"
"""Where Linux keeps shared memory (a tmpfs): a unit's images go back to the parent through a file there."""
_blocks = itertools.count()


def _to_shared(loaded: list[list[Loaded]]):
    """A worker's images handed back through one shared-memory file rather than pickled through the
    pool's pipe: on the fly a 384-image run sends 4.4 GB of corrupted images back, and the pipe (copied
    four times, read by one thread of the parent) rather than the corrupting then set the pace. The
    parent maps the file and removes its name at once: its arrays are views of the pages this worker
    wrote, freed with the last of them. Where there is no such folder, or too little room in it (a
    container's 64 MB /dev/shm), the images are pickled as before."""
    images = [p for row in loaded for p, _ in row if p is not None]
    size = sum(p.nbytes for p in images)
    if not size or not _shm_room(size):
        return loaded
    path = os.path.join(SHM_DIR, f"corruptgen-{os.getpid()}-{next(_blocks)}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, size)
        with mmap.mmap(fd, size) as block:
            layout, offset = [], 0
            for row in loaded:
                entries = []
                for pixels, problem in row:
                    if pixels is None:
                        entries.append((None, problem))
                        continue
                    np.ndarray(pixels.shape, pixels.dtype, buffer=block, offset=offset)[...] = pixels
                    entries.append(((pixels.shape, pixels.dtype.str, offset), problem))
                    offset += pixels.nbytes
                layout.append(entries)
    except BaseException:
        os.unlink(path)
        raise
    finally:
        os.close(fd)
    return _Shared(path, size, layout)


def _shm_room(size: int) -> bool:
    try:
        stat = os.statvfs(SHM_DIR)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize > 4 * size  # room for this block and those in flight beside it


@dataclass(frozen=True)
class _Shared:
    """A unit's images in a shared-memory file: its path, size and, per sample and cell, (shape, dtype,
    offset) or None, and the problem sentence."""

    path: str
    size: int
    layout: list

    def take(self) -> list[list[Loaded]]:
        """The images, as read-only views of the file's pages (mapped, then the file's name removed)."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            block = mmap.mmap(fd, self.size, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
            os.unlink(self.path)
        return [[(None if spec is None else np.ndarray(spec[0], np.dtype(spec[1]), buffer=block, offset=spec[2]), problem)
                 for spec, problem in row] for row in self.layout]  # fmt: skip


def _received(result) -> list[list[Loaded]]:
    return result.take() if isinstance(result, _Shared) else result


class Loader:
    """``with Loader(tree, workers) as loader: for unit, images in loader.map(units): ...``"""

    def __init__(self, tree: Tree, workers: int, in_flight: int | None = None, processes: bool = False):
        self.tree, self.workers, self.processes = tree, max(int(workers), 1), processes
        self.in_flight = in_flight or 2 * self.workers
        self.pool: Executor | None = None
        self.unread: set = set()  # futures whose images were not taken: their shared blocks go at exit

    def __enter__(self) -> Loader:
        if self.workers > 1 and not self.processes:
            self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="corruptgen-loader")
        elif self.workers > 1:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=worker_context("corruptgen.evaluate.loader"),
                                            initializer=_init, initargs=(self.tree,))  # fmt: skip
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        for future in self.unread:  # a run stopped early: remove the blocks its workers filled
            if future.done() and not future.cancelled() and future.exception() is None:
                _received(future.result())
        self.unread.clear()

    def map(self, units: Iterable[Unit]) -> Iterator[tuple[Unit, list[list[Loaded]]]]:
        """Each unit with its images, in the order given, at most ``in_flight`` units ahead."""
        if self.pool is None:
            for unit in units:
                yield unit, load(self.tree, unit)
            return
        pending: deque = deque()

        def take(future) -> list[list[Loaded]]:
            result = future.result()
            self.unread.discard(future)
            return _received(result)

        for unit in units:
            task = self.pool.submit(_load_in_worker, unit) if self.processes else self.pool.submit(load, self.tree, unit)
            self.unread.add(task)
            pending.append((unit, task))
            if len(pending) >= self.in_flight:
                done, future = pending.popleft()
                yield done, take(future)
        while pending:
            done, future = pending.popleft()
            yield done, take(future)
