"""The runners behind ``corruptgen detect`` and ``corruptgen classify``: import a model factory,
feed it every cell's images (RGB uint8 H x W x 3), write one results file per cell.

A factory is named ``module:attribute`` (uvicorn's convention; the current folder is importable)
and called once with no arguments. It returns a callable that takes a list of images and
returns, per image:

- a detector: a mapping with ``boxes`` (N x 4, x1 y1 x2 y2 in pixels), ``scores`` (N),
  ``labels`` (N, the dataset's category ids) and optionally ``masks`` (N x H x W);
- a classifier: a class index (the whole batch: a sequence or array of N ints);
- a segmenter (Cityscapes): an H x W map of Cityscapes label ids (0-33).

NumPy arrays, lists and CPU torch tensors are all accepted.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from corruptgen import __version__
from corruptgen.build.engine import STATE_FILE
from corruptgen.files import atomic_write

from .results import RUN_FILE, cell_path, read_run, write_json
from .tasks import Task, cityscapes_frame, task_for
from .tree import Cell, EvaluationError, Tree, cell_name


def load_factory(spec: str) -> Callable:
    """Import ``module:attribute`` (dotted attributes allowed) and check it is callable."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise EvaluationError(f"--model {spec!r} must be MODULE:FACTORY, e.g. mydetector:load.")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target = importlib.import_module(module_name)
    except ImportError as exc:
        raise EvaluationError(f"--model {spec}: module {module_name!r} cannot be imported ({exc}).") from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise EvaluationError(f"--model {spec}: module {module_name!r} has no attribute {attribute!r}.")
        target = getattr(target, part)
    if not callable(target):
        raise EvaluationError(f"--model {spec}: {attribute!r} is not callable; it must be a factory returning the model.")
    return target


def _array(value, where: str, dtype=float) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise EvaluationError(f"{where} is not numeric ({type(value).__name__}).") from None


def detections_to_coco(image_id, output, shape: tuple[int, int], where: str) -> list[dict]:
    """One image's detector output -> COCO results entries (bbox x y w h; masks as RLE)."""
    if not isinstance(output, Mapping) or not {"boxes", "scores", "labels"} <= set(output):
        raise EvaluationError(f"{where} returned {type(output).__name__}; a detector returns per image a mapping with boxes, scores and labels.")
    boxes = _array(output["boxes"], f"{where} boxes")
    scores = _array(output["scores"], f"{where} scores")
    labels = _array(output["labels"], f"{where} labels")
    n = len(scores)
    if boxes.size == 0 and n == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.shape != (n, 4) or scores.shape != (n,) or labels.shape != (n,):
        raise EvaluationError(f"{where} returned boxes {boxes.shape}, scores {scores.shape}, labels {labels.shape}; "
                              "expected N x 4, N and N.")  # fmt: skip
    if not np.all(np.isfinite(boxes)) or not np.all(np.isfinite(scores)) or np.any(labels != np.round(labels)):
        raise EvaluationError(f"{where} returned non-finite boxes or scores, or non-integer labels.")
    rles = None
    if output.get("masks") is not None:
        from pycocotools import mask as mask_utils

        masks = _array(output["masks"], f"{where} masks")
        if masks.ndim == 4 and masks.shape[1] == 1:  # torchvision's N x 1 x H x W
            masks = masks[:, 0]
        if masks.shape != (n, *shape):
            raise EvaluationError(f"{where} returned masks {masks.shape}; expected {(n, *shape)} (N x H x W).")
        rles = mask_utils.encode(np.asfortranarray((masks > 0.5).astype(np.uint8).transpose(1, 2, 0))) if n else []
    entries = []
    for i in range(n):
        x1, y1, x2, y2 = (float(v) for v in boxes[i])
        entry = {"image_id": image_id, "category_id": int(labels[i]), "bbox": [round(x1, 2), round(y1, 2),
                 round(x2 - x1, 2), round(y2 - y1, 2)], "score": round(float(scores[i]), 5)}  # fmt: skip
        if rles is not None:
            entry["segmentation"] = {"size": rles[i]["size"], "counts": rles[i]["counts"].decode("ascii")}
        entries.append(entry)
    return entries


def _class_indices(output, n: int, where: str) -> list[int]:
    values = _array(output, f"{where} predictions")
    if values.shape != (n,) or np.any(values != np.round(values)):
        raise EvaluationError(f"{where} returned predictions of shape {values.shape}; a classifier returns {n} class indices (ints) for a batch of {n}.")
    return [int(v) for v in values]


@dataclass
class RunReport:
    cells_run: list[Cell] = field(default_factory=list)
    cells_skipped: list[Cell] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def run_model(tree: Tree, task_kind: str, model: str, results: Path, *, batch_size: int = 1, limit: int | None = None,
              corruptions: list[str] | None = None, severities: list[int] | None = None,
              quiet: bool = False) -> RunReport:  # fmt: skip
    """Run ``model`` over the clean source and every selected cell; skip cells already written."""
    results = Path(results)
    task = task_for(tree, task_kind)
    if task.kind != task_kind:
        other = {"detection": "corruptgen detect", "classification": "corruptgen classify"}[task.kind]
        raise EvaluationError(f"{tree.dataset} is a {task.kind} dataset; use {other}.")
    _check_run_record(results, model, limit, tree.on_the_fly)
    predict = load_factory(model)()
    samples = tree.samples(limit)
    if not samples:
        raise EvaluationError(f"no images found for {tree.dataset} in {tree.identity.get('source')}.")
    cells: list[Cell] = [None, *tree.select(corruptions, severities)]
    todo = [c for c in cells if not cell_path(results, c).is_file()]
    report = RunReport(cells_skipped=[c for c in cells if c not in todo])
    results.mkdir(parents=True, exist_ok=True)
    write_json(results / RUN_FILE, {"model": model, "task": task_kind, "limit": limit, "on_the_fly": tree.on_the_fly,
                                    "batch_size": batch_size, "corruptgen_version": __version__})  # fmt: skip
    if tree.on_the_fly:
        write_json(results / STATE_FILE, tree.state())
    bar = tqdm(total=len(samples) * len(todo), unit="img", disable=quiet, file=sys.stderr, dynamic_ncols=True,
               desc=f"{model}: {len(todo)} cells")  # fmt: skip
    try:
        for cell in todo:
            payload = _run_cell(task, tree, cell, samples, predict, model, batch_size, report, bar, results)
            write_json(cell_path(results, cell), payload)
            report.cells_run.append(cell)
    finally:
        bar.close()
    return report


def _check_run_record(results: Path, model: str, limit: int | None, on_the_fly: bool) -> None:
    """Refuse to add cells to results made by another model or over other images (a failed
    first attempt, with no cell written yet, does not count)."""
    previous = read_run(results) if results.is_dir() else {}
    if not previous or not any(p.name != RUN_FILE and p.name != STATE_FILE for p in results.rglob("*.json")):
        return
    before = (previous.get("model"), previous.get("limit"), bool(previous.get("on_the_fly")))
    if before != (model, limit, on_the_fly):
        raise EvaluationError(f"{results} holds results of --model {before[0]} with --limit {before[1]} "
                              f"{'on the fly' if before[2] else 'from a built tree'}; rerun with the same settings "
                              "to resume, or choose another --results folder.")  # fmt: skip


def _label_map(output, shape: tuple[int, int], where: str) -> np.ndarray:
    values = _array(output, f"{where} label map")
    if values.shape != shape or np.any(values != np.round(values)) or values.min(initial=0) < 0 or values.max(initial=0) > 255:
        raise EvaluationError(f"{where} returned a label map of shape {values.shape}; a segmenter returns per image an "
                              f"H x W map of label ids 0-255 ({shape}).")  # fmt: skip
    return values.astype(np.uint8)


def _run_cell(task: Task, tree: Tree, cell: Cell, samples, predict, model: str, batch_size: int, report: RunReport, bar,
              results: Path):  # fmt: skip
    detections: list[dict] = []
    predictions: dict[str, int] = {}
    label_maps: dict[str, str] = {}
    # label maps go beside the cell file, named so cityscapesscripts would find them too
    maps_dir = cell_path(results, cell).with_suffix("")
    batch: list = []

    def flush():
        images = [pixels for _, pixels in batch]
        outputs = predict(images)
        where = f"--model {model} ({cell_name(cell)})"
        if task.kind == "detection":
            outputs = list(outputs) if not isinstance(outputs, Mapping) else outputs
            if isinstance(outputs, Mapping) or len(outputs) != len(images):
                raise EvaluationError(f"{where} returned {type(outputs).__name__}; a detector returns one mapping per image "
                                      f"({len(images)} for this batch).")  # fmt: skip
            for (sample, pixels), output in zip(batch, outputs):
                detections.extend(detections_to_coco(task.sample_id(sample), output, pixels.shape[:2], where))
        elif task.kind == "segmentation":
            outputs = list(outputs)
            if len(outputs) != len(images):
                raise EvaluationError(f"{where} returned {len(outputs)} label maps for a batch of {len(images)} images.")
            for (sample, pixels), output in zip(batch, outputs):
                name = f"{cityscapes_frame(sample.key)}_labelIds.png"
                encoded = io.BytesIO()
                Image.fromarray(_label_map(output, pixels.shape[:2], where), "L").save(encoded, format="PNG")
                atomic_write(maps_dir / name, encoded.getvalue())
                label_maps[task.sample_id(sample)] = f"{maps_dir.name}/{name}"
        else:
            for (sample, _), value in zip(batch, _class_indices(outputs, len(images), where)):
                predictions[task.sample_id(sample)] = value
        bar.update(len(batch))
        batch.clear()

    for sample, pixels, problem in tree.images(cell, samples):
        if pixels is None:
            report.unreadable.append(f"{cell_name(cell)}: {problem}")
            if task.kind == "classification":
                predictions[task.sample_id(sample)] = -1  # counted as an error, never silently dropped
            bar.update(1)
            continue
        batch.append((sample, pixels))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if task.kind == "segmentation":
        return {"segmentation": label_maps}
    return detections if task.kind == "detection" else {"predictions": predictions}
