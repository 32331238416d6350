"""Shared by the benchmark scripts: timing, the machine line, and writing one script's section of
docs/benchmarks.md between its markers, keeping the others."""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path

import numpy as np

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nWritten by the scripts in `scripts/`; rerun them to refresh a section.\n"


def quality(clean, corrupted) -> tuple[float, float]:
    """PSNR (capped at 100 dB for identical images) and SSIM of ``corrupted`` against ``clean``, RGB uint8:
    the fidelity scripts' measure of a random corruption's strength."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    return (min(peak_signal_noise_ratio(clean, corrupted, data_range=255), 100.0),
            structural_similarity(clean, corrupted, channel_axis=-1, data_range=255))  # fmt: skip


def median_ms(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` in ms over ``repeats`` calls, after one warm-up call (JIT, caches)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def cpu_model() -> str:
    """The processor's model name (hosts of the same kind differ 2x: every figure names its host)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    import os

    return (f"{cpu_model()} ({platform.machine()}, {os.cpu_count()} cores), Python {platform.python_version()}, "
            f"NumPy {np.__version__}")


def write_section(name: str, body: str, doc: Path | None = None) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    doc = doc or DOC
    text = doc.read_text() if doc.exists() else HEADER
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(text)


def publish(name: str, lines: list[str], write: bool = True) -> None:
    """Print a script's section and, unless told not to, put it in docs/benchmarks.md."""
    body = "\n".join(lines)
    print(body)
    if write:
        write_section(name, body)
