"""``corruptgen report`` on a large tree: how long reading a million manifest rows takes.

    python scripts/bench_report.py [--outputs 1000000] [--no-write]   # writes the report section

Generates a tree's state file and complete manifests (the 15 benchmark corruptions x 5 severities,
rows as a build writes them, one in 500 failed) without any output, then times
``corruptgen.report.build.read_build`` (what the page's build section reads) and a whole
``corruptgen report --samples 0`` (the page without thumbnails: no output is opened). Thumbnails
cost on top of it what decoding the shown images costs (timed on the bundled sample's build).
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

from _benchdoc import machine, publish  # noqa: E402

from corruptgen import __version__  # noqa: E402
from corruptgen.corruptions import BENCHMARK  # noqa: E402
from corruptgen.report.build import read_build  # noqa: E402


def generate(root: Path, outputs: int) -> int:
    cells = [(c, s) for c in BENCHMARK for s in range(1, 6)]
    per_cell = -(-outputs // len(cells))
    source = root / "src"
    source.mkdir(parents=True)
    state = {"corruptgen_version": __version__, "built": [list(c) for c in cells], "status": "complete",
             "identity": {"dataset": "folder", "source": str(source), "split": None, "seed": 0, "profile": "imagenet",
                          "image_format": "source", "jpeg_quality": 95, "preprocessing": None},
             "options": {"output_format": "folder"}, "counts": {"samples": per_cell, "outputs": per_cell * len(cells)}}  # fmt: skip
    (root / "corruptgen.json").write_text(json.dumps(state, indent=2))
    for c, s in cells:
        folder = root / "manifests" / c
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(per_cell):
            key = f"n{i % 1000:08d}/ILSVRC2012_val_{i:08d}.JPEG"
            row = {"corruption": c, "severity": s, "key": key, "source": key, "output": f"{c}/{s}/{key}", "seed": 0,
                   "status": "ok", "bytes": 40000 + i % 997, "sha256": f"{i:064x}"}  # fmt: skip
            if i % 500 == 499:
                row = {k: v for k, v in row.items() if k not in ("bytes", "sha256")} | {"status": "error", "error": f"{key}: unreadable"}
            rows.append(json.dumps(row, sort_keys=True) + "\n")
        (folder / f"{s}.jsonl").write_text("".join(rows))
    return per_cell * len(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", type=int, default=1_000_000)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "big"
        rows = generate(root, args.outputs)
        size = sum(p.stat().st_size for p in (root / "manifests").rglob("*.jsonl"))
        started = time.perf_counter()
        summary = read_build(root)
        read = time.perf_counter() - started
        assert sum(c.ok + c.failed for c in summary.cells.values()) == rows
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "corruptgen", "report", str(root), "--samples", "0", "--out",
                        str(Path(tmp) / "big.html")], check=True, capture_output=True)  # fmt: skip
        whole = time.perf_counter() - started
        sample = Path(tmp) / "coco-c"
        subprocess.run([sys.executable, "-m", "corruptgen", "build", "coco", "--out", str(sample), "--quiet"], check=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "corruptgen", "report", str(sample), "--out", str(Path(tmp) / "coco-c.html")],
                       check=True, capture_output=True)  # fmt: skip
        thumbs = time.perf_counter() - started
        failed = sum(c.failed for c in summary.cells.values())
    lines = [
        "## `corruptgen report` on a large tree (`scripts/bench_report.py`)",
        "",
        f"Machine: {machine()}. A generated tree of {rows:,} outputs (15 corruptions x 5 severities, "
        f"{size / 1e6:.0f} MB of manifests, {failed:,} failed rows) and no output file: the report reads manifests only.",
        "",
        "| | seconds |",
        "|---|---:|",
        f"| reading the state file and {rows:,} manifest rows (`read_build`) | {read:.2f} |",
        f"| `corruptgen report --samples 0`, the whole command | {whole:.2f} |",
        f"| `corruptgen report` of the bundled sample's build (3 samples x 76 thumbnails), the whole command | {thumbs:.2f} |",
    ]
    publish("report", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
