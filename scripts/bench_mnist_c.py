"""MNIST-C's corruptions on a 28 px digit: ours against MNIST-C's definitions restated with scikit-image.

    python scripts/bench_mnist_c.py     # writes the mnist-c section of docs/benchmarks.md

The six whose definitions need only scikit-image (the four affines, stripe, canny_edges) are
timed against ``scripts/fidelity_mnist_c.py``'s restatement of them, in the same run; the rest
of the suite (MNIST-C's noise, blurs, fog, spatter, lines need Wand or pre-1.20 NumPy) is timed
on our side only, and the whole suite per digit, which is what building MNIST-C costs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchdoc import machine, median_ms, write_section  # noqa: E402
from fidelity_mnist_c import digits, mnist_c  # noqa: E402

import corruptgen  # noqa: E402
from corruptgen.corruptions import MNIST_C, get_corruption  # noqa: E402

RESTATED = ("shear", "scale", "rotate", "translate", "stripe", "canny_edges")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    images, source = digits(16)
    x = images[3]
    rows = []
    for name in MNIST_C:
        ours = median_ms(lambda: corruptgen.corrupt(x, name, 1, seed=0, profile="mnist-c"), args.repeats)
        ref = None
        if name in RESTATED:
            spec = get_corruption(name)
            draws = spec.sample(np.random.default_rng(0), (28, 28, 1), spec.params(1, "mnist-c"))
            ref = median_ms(lambda: mnist_c(name, x, draws), args.repeats)
        rows.append((name, ours, ref))
        print(f"{name:14s} ours {ours:.3f} ms" + (f"  restated MNIST-C {ref:.3f} ms  x{ref / ours:.1f}" if ref else ""), flush=True)
    suite = median_ms(lambda: [corruptgen.corrupt(x, n, 1, seed=0, profile="mnist-c") for n in MNIST_C], max(10, args.repeats // 10))
    lines = [
        "## MNIST-C at 28 px (`scripts/bench_mnist_c.py`)",
        "",
        f"Machine: {machine()}. One digit ({source.split(',')[0]}), `corrupt(..., profile='mnist-c')`, median of "
        f"{args.repeats} calls; the restated definitions are `scripts/fidelity_mnist_c.py`'s (scikit-image).",
        "",
        "| corruption | ours ms | MNIST-C restated ms | ratio |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {n} | {o:.3f} | {'' if r is None else f'{r:.3f}'} | {'' if r is None else f'{r / o:.1f}x'} |" for n, o, r in rows]
    lines += ["", f"The whole suite (16 outputs) on one digit: **{suite:.2f} ms**, about "
                  f"{70000 * suite / 1000 / 60:.1f} core-minutes for MNIST's 70,000 digits before writing. On 784 pixels "
                  "the arithmetic is nothing: each call's fixed cost (argument checks, a seeded generator, the warp "
                  "object, about 0.1 ms) is most of it, so these are no faster than scikit-image's own calls; at 224 px "
                  "and up the kernels' speed shows (`scripts/bench_kernels.py`)."]  # fmt: skip
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("mnist-c", body)


if __name__ == "__main__":
    main()
