"""Build throughput on a Dask cluster of 1 and 2 worker processes, beside local process pools.

    python scripts/bench_dask.py [--images 96]    # writes the dask section of docs/benchmarks.md

Starts ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1 (one thread each, as the
docs advise), builds the same generated ImageNet-style source as ``bench_build.py`` (75 JPEG
outputs per image, WebDataset shards), and times it against ``--workers`` 1 and 2 on this
machine, each run including the workers' own start.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchdoc import machine, write_section  # noqa: E402
from bench_build import make_source, timed_build  # noqa: E402


def start_cluster(root: Path, workers: int) -> tuple[list[subprocess.Popen], Path]:
    dask = str(Path(sys.executable).with_name("dask"))
    scheduler_file = root / f"scheduler-{workers}.json"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(scheduler_file)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]  # fmt: skip
    while not scheduler_file.is_file() or not scheduler_file.stat().st_size:
        time.sleep(0.05)
    procs += [subprocess.Popen([dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--no-dashboard",
                                "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
              for _ in range(workers)]  # fmt: skip
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file)) as client:
        client.wait_for_workers(workers, timeout=120)
        # warm each worker: import corruptgen and load the Numba cache before timing
        client.run(lambda: __import__("corruptgen").corrupt(__import__("numpy").zeros((8, 8), "uint8"), "glass_blur", 1, seed=0))
    return procs, scheduler_file


def dask_build(src: Path, out: Path, scheduler_file: Path, shard: int) -> float:
    import shutil

    from corruptgen import list_corruptions
    from corruptgen.datasets import BuildSettings
    from corruptgen.datasets.imagenet import ImageNetAdapter
    from corruptgen.pipeline.engine import BuildOptions, run_build

    shutil.rmtree(out, ignore_errors=True)
    adapter = ImageNetAdapter(src=src, settings=BuildSettings(jpeg_quality=85), preprocess=False)
    options = BuildOptions(corruptions=list_corruptions(), severities=[1, 2, 3, 4, 5], shard_size=shard,
                           dask_address=str(scheduler_file), output_format="webdataset")  # fmt: skip
    t0 = time.perf_counter()
    report = run_build(adapter, out, options)
    assert report.failed == 0 and report.written == report.outputs
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    n = args.images
    shard = max(1, n // 16)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        make_source(src, n)
        timed_build(src, Path(tmp) / "warm", 1, 8, "webdataset")
        for workers in (1, 2):
            results["local", workers] = timed_build(src, Path(tmp) / f"local-{workers}", workers, shard, "webdataset")
            procs, scheduler_file = start_cluster(Path(tmp), workers)
            try:
                results["dask", workers] = dask_build(src, Path(tmp) / f"dask-{workers}", scheduler_file, shard)
            finally:
                for proc in procs:
                    proc.kill()
                    proc.wait()
            print(json.dumps({f"{k[0]}-{k[1]}": round(v, 2) for k, v in results.items()}), flush=True)
    lines = [
        "## Dask cluster (`scripts/bench_dask.py`)",
        "",
        f"Machine: {machine()}. {n} generated 224x224 JPEGs x 75 JPEG outputs, WebDataset shards of {shard} images; "
        "`dask scheduler` + `dask worker --nthreads 1` processes on 127.0.0.1, started and warmed before timing; the local "
        "runs start their process pool inside the timing.",
        "",
        "| executor | worker processes | seconds | images/s | outputs/s |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {kind} | {w} | {sec:.2f} | {n / sec:.1f} | {75 * n / sec:.0f} |" for (kind, w), sec in sorted(results.items())]
    lines += [
        "",
        f"Dask, 2 workers / 1 worker: **{results['dask', 1] / results['dask', 2]:.2f}x**; Dask / local pool at 2 workers: "
        f"{results['local', 2] / results['dask', 2]:.2f}x the throughput. Dask's nanny runs its workers with "
        "`OMP_NUM_THREADS=1`, so each uses one core; the local runs let Numba's and OpenCV's threads use both cores "
        "(the 1-worker local run is the client process itself), so per core the Dask figures are the ones to plan with.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("bench_dask", body)


if __name__ == "__main__":
    main()
