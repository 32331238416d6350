"""Where shards run: inline (one worker, or one shard), a local process pool, or a Dask cluster.

Every executor runs the same :func:`~.shard.build_shard` on the same tasks, so the bytes written
do not depend on which one ran them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

from corruptgen.datasets.base import DatasetError
from corruptgen.files import StorageError

from .shard import BuildFailed, ShardResult, ShardTask, build_shard, set_reporter

DASK_TIMEOUT_S = 20
"""Seconds to reach a Dask scheduler before giving up with one sentence (``CORRUPTGEN_DASK_TIMEOUT`` overrides)."""


def worker_count(requested: int | None) -> int:
    """``--workers``: the number given, or every core for 0 / None.

    Examples
    --------
    >>> worker_count(3)
    3
    """
    return requested if requested and requested > 0 else (os.cpu_count() or 1)


def worker_context(preload: str | None = None):
    """The start method of corruptgen's worker processes: forkserver, whose workers fork from a server that
    imported ``preload`` once (fast start, and no fork of a parent whose OpenCV thread pool is running);
    spawn where it does not exist."""
    try:
        context = get_context("forkserver")
    except ValueError:
        return get_context("spawn")
    if preload:
        context.set_forkserver_preload([preload])
    return context


@contextmanager
def executor_for(workers: int, n_tasks: int, client=None, progress_queue=None) -> Iterator[Executor | None]:
    """None (run inline), a local process pool, or the executor of a connected Dask ``client``.
    ``progress_queue``: where a pool's workers put ``(shard, samples done)`` as they go."""
    if client is not None:
        with client.get_executor() as executor:
            yield executor
    elif workers > 1 and n_tasks > 1:  # one shard: no pool to start
        with ProcessPoolExecutor(workers, mp_context=worker_context("corruptgen.pipeline.shard"), initializer=_worker_init,
                                 initargs=(progress_queue,)) as executor:  # fmt: skip
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


def _worker_init(progress_queue=None) -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core already; nested threads only contend
    if progress_queue is not None:
        set_reporter(lambda shard, n: progress_queue.put((shard, n)))


@contextmanager
def _progress_relay(on_sample: Callable[[int, int], None] | None, pooled: bool):
    """A queue the pool's workers report samples into, drained by a thread of this process into
    ``on_sample``; inline, the shard reports straight to it. Yields the queue (None inline or quiet)."""
    if on_sample is None:
        yield None
        return
    if not pooled:
        set_reporter(on_sample)
        try:
            yield None
        finally:
            set_reporter(None)
        return
    queue = worker_context().Queue()  # the pool's own start method, so its workers can inherit it

    def drain() -> None:
        while (item := queue.get()) is not None:
            on_sample(*item)

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    try:
        yield queue
    finally:
        queue.put(None)
        thread.join(timeout=5)
        queue.close()


def run_shards(tasks: list[ShardTask], workers: int, on_result: Callable[[ShardResult], None], client=None,
               on_sample: Callable[[int, int], None] | None = None) -> None:  # fmt: skip
    """Run every task, handing each result to ``on_result`` as it completes (any order), and each
    sample a shard finishes to ``on_sample`` (shard index, 1) as it goes (inline and in the local pool;
    a Dask cluster's workers report shards only)."""
    pooled = client is None and workers > 1 and len(tasks) > 1
    with _progress_relay(on_sample if client is None else None, pooled) as queue, \
            executor_for(workers, len(tasks), client, queue) as executor:  # fmt: skip
        if executor is None:
            for task in tasks:
                on_result(build_shard(task))
            return
        futures = {executor.submit(build_shard, task): task.index for task in tasks}
        try:
            for future in as_completed(futures):
                try:
                    result = future.result()
                except (BuildFailed, StorageError, KeyboardInterrupt):
                    raise
                except Exception as exc:  # a pool or cluster that lost the task for good (e.g. Dask's KilledWorker)
                    raise DatasetError(f"shard {futures[future]} could not be run ({type(exc).__name__}: {exc}); rerun the "
                                       "same command to finish what is missing.") from exc  # fmt: skip
                on_result(result)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
