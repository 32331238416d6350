"""Images for the model, loaded ahead of it by worker threads (or processes), in a fixed order.

A unit of work is a run of samples and the cells wanted for them: from a built tree one cell's
outputs (decoded from the files, tar members or array rows the manifests name), on the fly every
requested cell of each sample from one decode of its source (the build's seeds: a PNG build's
pixels). Units run on ``--workers`` workers (inline for one) while the model works on the
previous batches; results come back in submission order with a fixed number of units in flight, so
memory stays bounded and what the model sees does not depend on the worker count.

Workers are threads by default: decoding (Pillow, OpenCV) and the corruption kernels (OpenCV, Numba
with ``nogil``) release the GIL, and threads hand images over without copying them between
processes: on a 2-core machine whole ``classify`` runs over 22,800 built images took 7.0 and 7.9 s with
threads against 13.0 and 11.6 s with a process pool, and the loader alone reads 3.8x as fast
(``scripts/bench_runner.py``, pool start-up included). ``processes=True`` (``run_model(...,
processes=True)``) keeps a process pool for models that hold the GIL while they run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np

from corruptgen.datasets import Sample

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


def _load_in_worker(unit: Unit) -> list[list[Loaded]]:
    return load(_TREE, unit)


class Loader:
    """``with Loader(tree, workers) as loader: for unit, images in loader.map(units): ...``"""

    def __init__(self, tree: Tree, workers: int, in_flight: int | None = None, processes: bool = False):
        self.tree, self.workers, self.processes = tree, max(int(workers), 1), processes
        self.in_flight = in_flight or 2 * self.workers
        self.pool: Executor | None = None

    def __enter__(self) -> Loader:
        if self.workers > 1 and not self.processes:
            self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="corruptgen-loader")
        elif self.workers > 1:
            try:
                context = get_context("forkserver")
                context.set_forkserver_preload(["corruptgen.evaluate.loader"])
            except ValueError:
                context = get_context("spawn")
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init, initargs=(self.tree,))
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def map(self, units: Iterable[Unit]) -> Iterator[tuple[Unit, list[list[Loaded]]]]:
        """Each unit with its images, in the order given, at most ``in_flight`` units ahead."""
        if self.pool is None:
            for unit in units:
                yield unit, load(self.tree, unit)
            return
        pending: deque = deque()
        for unit in units:
            task = self.pool.submit(_load_in_worker, unit) if self.processes else self.pool.submit(load, self.tree, unit)
            pending.append((unit, task))
            if len(pending) >= self.in_flight:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
