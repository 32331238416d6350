"""The results layout, the contract between runners and ``evaluate``::

    <results>/clean.json                     the model on the clean source
    <results>/<corruption>/<severity>.json   the model on one cell
    <results>/run.json                       what the runner did (model, --limit, on the fly or not)
    <results>/corruptgen.json                on-the-fly runs only: the tree they computed

Detection cells are COCO results lists (``{"image_id", "category_id", "bbox": [x, y, w, h],
"score"}``, plus ``"segmentation"`` as RLE for instance masks); classification cells are
``{"predictions": {key: class index}}``. Anything else a runner keeps goes beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

from corruptgen.files import atomic_write

from .tree import Cell, EvaluationError

RUN_FILE = "run.json"


def cell_path(results: Path, cell: Cell) -> Path:
    return Path(results) / ("clean.json" if cell is None else f"{cell[0]}/{cell[1]}.json")


def read_json(path: Path, what: str = "results file"):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvaluationError(f"{what} {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvaluationError(f"{what} {path} is not valid JSON ({exc}).") from None


def read_clean(results: Path, hint: str):
    """The clean cell's payload of ``results``; EvaluationError saying what writes it (``hint``) when it is missing."""
    path = cell_path(results, None)
    if not path.is_file():
        raise EvaluationError(f"{path} is missing: {hint}.")
    return read_json(path)


def write_json(path: Path, doc) -> None:
    atomic_write(Path(path), json.dumps(doc, separators=(",", ":")).encode())


def read_run(results: Path) -> dict:
    path = Path(results) / RUN_FILE
    return read_json(path, "run record") if path.is_file() else {}
