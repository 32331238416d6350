"""Sources decoded as a whole: CIFAR-10 from its ``.tar.gz`` against its folder, and MNIST's idx decoding as
a share of an MNIST-C build, with an earlier checkout timed beside.

    python scripts/bench_sources.py [--before DIR]   # writes the sources section of docs/benchmarks.md

A CIFAR-10 python release of the real size (50,000 train and 10,000 test images, tiles of scikit-image's
photographs, ``tests/fixtures.make_cifar``) as a folder and as ``cifar-10-python.tar.gz``; each built as
``corruptgen build cifar10 --corruptions contrast`` (50,000 outputs) with every core, timed as a command
from start to end. The MNIST-C build (``--profile mnist-c``, 16 corruptions, both splits of a 70,000-image
idx set) runs inline under cProfile here, so the share of its time spent decoding the idx files
(``read_idx``) is counted exactly. ``--before DIR``: the same commands with ``PYTHONPATH=DIR``, a checkout of
an earlier version (``git worktree add DIR <commit>``), in the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

from _benchdoc import machine, publish  # noqa: E402
from fixtures import _idx, make_cifar  # noqa: E402


def timed_build(args: list[str], cwd: Path, pythonpath: str | None = None) -> float:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "corruptgen", "build", *args, "--quiet"], check=True, cwd=cwd, env=env)
    return time.perf_counter() - started


def make_mnist_source(root: Path, n_train: int, n_test: int) -> Path:
    """Idx files of MNIST's sizes: digits of noise blobs (what is decoded, not what they show, is timed)."""
    import gzip

    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = (rng.random((n, 28, 28)) ** 4 * 255).astype(np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        (root / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
        (root / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(labels)))
    return root


def idx_share(src: Path, out: Path, limit: int) -> tuple[float, float, int]:
    """(build seconds, seconds in read_idx, its calls) of an inline MNIST-C build of ``limit`` samples."""
    from corruptgen.datasets import make_adapter
    from corruptgen.datasets.decoded import clear
    from corruptgen.pipeline.engine import BuildOptions, run_build
    from corruptgen.selection import select

    clear()
    names, levels = select(None, None, "mnist-c")
    options = BuildOptions(corruptions=names, severities=levels, profile="mnist-c", workers=1, limit=limit)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    run_build(make_adapter("mnist", src), out, options)
    profiler.disable()
    seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    read = [(calls, cumulative) for (file, _, name), (calls, _, _, cumulative, _) in stats.stats.items()
            if name == "read_idx" and file.endswith("mnist.py")]  # fmt: skip
    return seconds, sum(c for _, c in read), sum(n for n, _ in read)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=None, help="a checkout of an earlier version, timed beside")
    parser.add_argument("--mnist-samples", type=int, default=6400, help="samples of the inline MNIST-C build")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = make_cifar(tmp / "release", n_test=10_000, n_train=50_000, archive=True)
        folder = tmp / "release" / "cifar-10-batches-py"
        builds = {}
        for label, pythonpath in (("now", None), ("before", args.before)):
            if label == "before" and not pythonpath:
                continue
            for form, src in (("folder", folder), ("tar.gz", archive)):
                out = tmp / f"c-{label}-{form}"
                builds[label, form] = timed_build(["cifar10", "--src", str(src), "--out", str(out), "--corruptions",
                                                   "contrast"], tmp, pythonpath)  # fmt: skip
                shutil.rmtree(out)
        mnist = make_mnist_source(tmp / "mnist", 60_000, 10_000)
        seconds, reading, calls = idx_share(mnist, tmp / "mnist-c", args.mnist_samples)
    lines = [
        "## Sources decoded as a whole (`scripts/bench_sources.py`)",
        "",
        f"Machine: {machine()}. CIFAR-10's python release at its real size (60,000 images, the `.tar.gz` 163 MB "
        f"here) built as `--corruptions contrast` (10,000 x 5 = 50,000 outputs, {cores} workers, 157 shards), each "
        "build timed as a command from start to end.",
        "",
        "| CIFAR-10 build from | " + " | ".join(f"{label} (s)" for label in dict.fromkeys(k[0] for k in builds)) + " |",
        "|---|" + "---:|" * len({k[0] for k in builds}),
    ]
    for form in ("folder", "tar.gz"):
        lines.append(f"| {form} | " + " | ".join(f"{builds[label, form]:.1f}" for label in dict.fromkeys(k[0] for k in builds)) + " |")
    lines.append("| tar.gz / folder | " + " | ".join(f"{builds[label, 'tar.gz'] / builds[label, 'folder']:.2f}x"
                                                   for label in dict.fromkeys(k[0] for k in builds)) + " |")  # fmt: skip
    lines += [
        "",
        f"MNIST-C (`--profile mnist-c`, 16 corruptions) of the first {args.mnist_samples:,} of 70,000 idx samples, "
        f"inline under cProfile: {seconds:.1f} s, of which `read_idx` {reading:.2f} s in {calls} calls "
        f"({100 * reading / seconds:.2f} %; each split's files are decoded once per process, not once per shard).",
    ]
    publish("sources", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
