"""``corruptgen report``: one self-contained HTML page of a built tree and, given evaluations of it,
of a model's robustness.

- :mod:`.build`: what the tree holds, from its state file and manifests (no output opened);
- :mod:`.grid`: thumbnails of a few samples in every cell, annotations drawn where they moved;
- :mod:`.runs`: the evaluations (``results.json``) set side by side;
- :mod:`.page`: the HTML.
"""

from __future__ import annotations

from pathlib import Path

from corruptgen.evaluate.tree import Tree
from corruptgen.files import atomic_write

from .build import ReportError, read_build
from .grid import Grid, samples_of
from .page import build_section, grid_section, page, results_section
from .runs import read_runs

__all__ = ["ReportError", "write_report"]


def write_report(target: Path, out: Path, *, results: list[Path] = (), samples: int = 3, src: Path | None = None) -> Path:
    """Write the report of the tree at ``target`` to ``out`` (an ``.html`` file); full images that
    cannot be linked where they are go into ``<out stem>_files/`` beside it."""
    target, out = Path(target), Path(out)
    runs = read_runs(list(results))
    tree = Tree.open(target, src)
    chosen, note = samples_of(tree, samples)
    build = read_build(target, [sample.key for sample in chosen])
    cells = tree.select(None, None)
    grid = Grid(tree, cells, {cell: counts.rows for cell, counts in build.cells.items()}, out)
    rows = [(sample.key, grid.row(sample)) for sample in chosen]
    notes = ([note] if note else []) + grid.annotations.notes
    sections = [build_section(build), grid_section(rows, cells, notes, build.identity.get("profile"))] + ([results_section(runs)] if runs else [])
    title = f"corruptgen report: {target.resolve().name} ({build.identity.get('dataset')})"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, page(title, sections).encode("utf-8"))
    return out
