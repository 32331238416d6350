"""The runners behind ``corruptgen detect``, ``classify`` and ``segment``: import a model factory,
feed it every cell's images (RGB uint8 H x W x 3), write one results file per cell.

Images are loaded (on the fly: decoded once per source and corrupted for every cell) by worker
threads ahead of the model (:mod:`.loader`), a bounded number of units in flight; from a built tree
the model sees each cell's images in batches of that cell, on the fly batches follow the samples
across cells. Either way each cell's payload is filled in sample order, so the results files are the
same bytes for any worker count.

A factory is named ``module:attribute`` (uvicorn's convention; the current folder is importable)
and called once with no arguments. It returns a callable that takes a list of images and
returns, per image:

- a detector: a mapping with ``boxes`` (N x 4, x1 y1 x2 y2 in pixels), ``scores`` (N),
  ``labels`` (N, the dataset's category ids) and optionally ``masks`` (N x H x W);
- a classifier: a class index (the whole batch: a sequence or array of N ints);
- a segmenter (Cityscapes): an H x W map of Cityscapes label ids (0-33).

NumPy arrays, lists and CPU torch tensors are all accepted. A callable with ``batch_format =
"numpy"`` receives one stacked N x H x W x 3 uint8 array instead of the list, ``"torch"`` that array
as a tensor (pinned when CUDA is there): one copy less for a GPU model.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from corruptgen import __version__
from corruptgen.datasets import Sample
from corruptgen.pipeline.layout import STATE_FILE

from .loader import Loader, Unit
from .results import RUN_FILE, cell_path, read_run, write_json
from .tasks import Task, task_for
from .tasks.base import model_array
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


@dataclass
class RunReport:
    cells_run: list[Cell] = field(default_factory=list)
    cells_skipped: list[Cell] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def make_model(spec: str, task: Task, options: Mapping | None = None):
    """The model ``spec`` names: a library's (``timm:``, ``torchvision:``, ``open_clip:``; :mod:`corruptgen.models`),
    given the task's classes (a zero-shot head is built over them), or ``module:factory``'s."""
    from corruptgen.models import ModelError, is_model_spec, load_model

    if not is_model_spec(spec):
        return _as_predictor(load_factory(spec)())
    try:
        predict = load_model(spec, classes=task.model_classes(), **dict(options or {}))
    except ModelError as exc:
        raise EvaluationError(str(exc)) from None
    if getattr(predict, "category_scheme", None) == "coco" and task.tree.dataset != "coco":
        raise EvaluationError(f"--model {spec} names COCO's categories; {task.tree.dataset}'s differ, and no map between them "
                              "ships: use it on coco, or wrap it in a factory that maps its labels.")  # fmt: skip
    return predict


def _as_predictor(model):
    """A factory's ``torch.nn.Module`` (without a ``batch_format`` of its own) is fed N x 3 x H x W float tensors in
    0-1 on the GPU when there is one, and can be adapted at test time; any other callable is used as it is."""
    torch = sys.modules.get("torch")  # a factory that returned a module imported it: never imported here for nothing
    if torch is None or not isinstance(model, torch.nn.Module) or hasattr(model, "batch_format"):
        return model
    from torchvision.transforms.functional import to_tensor

    from corruptgen.models.base import Predictor, pick_device

    return Predictor(model, to_tensor, pick_device(None), "fp32", {"source": "factory", "preprocessing": "ToTensor (0-1)"})


def run_model(tree: Tree, task_kind: str, model: str, results: Path, *, batch_size: int = 1, limit: int | None = None,
              corruptions: list[str] | None = None, severities: list[int] | None = None, quiet: bool = False,
              workers: int = 1, processes: bool | None = None, model_options: Mapping | None = None,
              adaptation=None, seed: int = 0) -> RunReport:  # fmt: skip
    """Run ``model`` over the clean source and every selected cell; skip cells already written.

    ``workers`` load, and on the fly corrupt, images ahead of the model: threads reading a built tree
    (decoding releases the GIL, and threads hand images over without copies), processes on the fly
    (the corruptions' Python parts hold the GIL, so threads would not scale); ``processes`` overrides
    the choice. The results files are the same bytes for any number of workers of either kind.

    ``adaptation`` (:class:`corruptgen.adapt.Settings`): test-time adaptation of a PyTorch model; each cell's
    images then reach it in batches of that cell alone, shuffled with ``seed`` (never class-sorted), the model
    reset as the protocol says; what was done is recorded in ``run.json``."""
    results = Path(results)
    task = task_for(tree, task_kind)
    adapting = adaptation is not None and adaptation.method != "none"
    record = adaptation_record(adaptation, seed, batch_size) if adapting else None
    _check_run_record(results, model, limit, tree.on_the_fly, tree.scored_split, record)
    predict = make_model(model, task, model_options)
    if adapting:
        predict = adapt_model(predict, task, adaptation)
    samples = tree.samples(limit)
    if adapting:  # the stream shuffled with the run's seed: one permutation, every cell
        samples = [samples[i] for i in np.random.default_rng(seed).permutation(len(samples))]
    if not samples:
        raise EvaluationError(f"no images found for {tree.dataset} in {tree.identity.get('source')}.")
    cells: list[Cell] = [*([] if tree.sequences else [None]), *tree.select(corruptions, severities)]
    todo = [c for c in cells if not cell_path(results, c).is_file()]
    report = RunReport(cells_skipped=[c for c in cells if c not in todo])
    results.mkdir(parents=True, exist_ok=True)
    write_json(results / RUN_FILE, {"model": model, "task": task_kind, "limit": limit, "split": tree.scored_split,
                                    "images": len(samples), "on_the_fly": tree.on_the_fly,
                                    "batch_size": batch_size, "corruptgen_version": __version__,
                                    **({"model_record": predict.describe()} if hasattr(predict, "describe") else {}),
                                    **({"adaptation": {**record, "order": [cell_name(c) for c in cells]}} if adapting else {})})  # fmt: skip
    if tree.on_the_fly:
        write_json(results / STATE_FILE, tree.state())
    if not todo:
        return report
    bar = tqdm(total=len(samples) * len(todo), unit="img", disable=quiet, file=sys.stderr, dynamic_ncols=True,
               desc=f"{model}: {len(todo)} cells")  # fmt: skip
    run = _Run(task, predict, model, batch_size, report, bar, results, {cell: len(samples) for cell in todo},
               adaptation.protocol if adapting else None)  # fmt: skip
    try:
        if processes is None:  # corrupting: processes; decoding alone (a built tree, a test set itself): threads
            processes = tree.on_the_fly and bool(tree.cells)
        with Loader(tree, workers, processes=processes) as loader:
            for unit, images in loader.map(_units(tree, todo, samples, by_cell=adapting)):
                for sample, loaded in zip(unit.samples, images, strict=True):
                    for cell, (pixels, problem) in zip(unit.cells, loaded, strict=True):
                        run.add(cell, sample, pixels, problem, mixed=tree.on_the_fly and not adapting)
            run.flush()
    finally:
        bar.close()
    return report


UNIT_IMAGES = 16
"""Images per unit of loading work: enough that a worker's round trip is small beside the decoding."""
UNIT_BYTES = 64 << 20
"""On the fly, a unit's outputs stay under this (a source's cells are split into groups, each group
decoding the source again, only where frames are so large that all its cells would not fit)."""


def _units(tree: Tree, todo: list[Cell], samples: list[Sample], by_cell: bool = False) -> Iterator[Unit]:
    """The loading work in the order the model sees it: from a built tree cell by cell (batches of one
    cell, as the cells' files are written); on the fly sample by sample, each source decoded once for
    every cell (or once per group of cells for frames too large to hold all their outputs at once)."""
    if by_cell and tree.on_the_fly:  # adaptation: one cell's batches at a time, each source decoded per cell
        for cell in todo:
            for i in range(0, len(samples), UNIT_IMAGES):
                chunk = tuple(samples[i : i + UNIT_IMAGES])
                yield Unit(chunk, (cell,), tuple((None,) for _ in chunk))
        return
    if not tree.on_the_fly:
        for cell in todo:
            rows = tree.rows_for(cell, samples)
            for i in range(0, len(samples), UNIT_IMAGES):
                yield Unit(tuple(samples[i : i + UNIT_IMAGES]), (cell,), tuple((row,) for row in rows[i : i + UNIT_IMAGES]))
        return
    first = next((pixels for pixels, _ in tree.load(samples[0], (None,), (None,)) if pixels is not None), None)
    frame = first.nbytes if first is not None else 224 * 224 * 3
    group = max(1, min(len(todo), UNIT_BYTES // frame))
    per_unit = max(1, UNIT_IMAGES // group) if group == len(todo) else 1
    for i in range(0, len(samples), per_unit):
        chunk = tuple(samples[i : i + per_unit])
        for j in range(0, len(todo), group):
            cells = tuple(todo[j : j + group])
            yield Unit(chunk, cells, tuple((None,) * len(cells) for _ in chunk))


class _Run:
    """Batches for the model, each cell's payload filled in sample order and written once complete."""

    def __init__(self, task: Task, predict, model: str, batch_size: int, report: RunReport, bar, results: Path,
                 left: dict, protocol: str | None = None):  # fmt: skip
        self.task, self.predict, self.model, self.batch_size = task, predict, model, batch_size
        self.protocol, self.adapted_cell = protocol, ()  # the cell the adapted model last saw
        self.report, self.bar, self.results, self.left = report, bar, results, left
        self.payloads = {cell: task.new_payload() for cell in left}
        self.batch: list[tuple[Cell, Sample, np.ndarray]] = []
        self.pending = 0  # images in the batch
        self.batch_format = getattr(predict, "batch_format", "list")
        if self.batch_format not in BATCH_FORMATS:
            raise EvaluationError(f"--model {model}: batch_format {self.batch_format!r} is not one of {', '.join(BATCH_FORMATS)}.")

    def add(self, cell: Cell, sample: Sample, pixels, problem, mixed: bool) -> None:
        """One image; ``mixed``: a batch may hold several cells' images (on the fly), else one cell's."""
        if not mixed and self.batch and self.batch[-1][0] != cell:
            self.flush()
        if pixels is None:
            self.report.unreadable.append(f"{cell_name(cell)}: {problem}")
            self.task.unreadable(self.payloads[cell], sample)
            self.bar.update(1)
            self._done(cell, 1)
            return
        self.batch.append((cell, sample, pixels))
        self.pending += len(pixels) if pixels.ndim == 4 else 1  # a sequence's frames are its images
        if self.pending >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch, self.pending = self.batch, [], 0
        if self.protocol == "episodic" or (self.protocol == "reset" and batch[0][0] != self.adapted_cell):
            self.predict.adaptation.reset()
        self.adapted_cell = batch[0][0]
        if batch[0][2].ndim == 4:  # sequences: every frame goes to the model, outputs regrouped per sequence
            outputs = self._frames([pixels for _, _, pixels in batch])
        else:
            outputs = self.predict(_as_batch([pixels for _, _, pixels in batch], self.batch_format, self.model))
        groups: dict[Cell, list[int]] = {}
        for i, (cell, _, _) in enumerate(batch):
            groups.setdefault(cell, []).append(i)
        for cell, indices in groups.items():
            where = f"--model {self.model} ({cell_name(cell)})"
            part = outputs if len(groups) == 1 else _take(outputs, indices, len(batch), where)
            files = cell_path(self.results, cell).with_suffix("")  # what does not fit in the cell's JSON goes beside it
            self.task.process(self.payloads[cell], [(batch[i][1], batch[i][2]) for i in indices], part, where, files)
        self.bar.update(len(batch))
        for cell, indices in groups.items():
            self._done(cell, len(indices))

    def _frames(self, sequences: list[np.ndarray]) -> np.ndarray:
        """The model's outputs for every frame of ``sequences``, in order, ``batch_size`` frames per call."""
        frames = [frame for sequence in sequences for frame in sequence]
        parts = []
        for i in range(0, len(frames), self.batch_size):
            chunk = frames[i : i + self.batch_size]
            out = model_array(self.predict(_as_batch(chunk, self.batch_format, self.model)), f"--model {self.model} outputs")
            if len(out) != len(chunk):
                raise EvaluationError(f"--model {self.model} returned {len(out)} outputs for a batch of {len(chunk)} "
                                      "frames; a model returns one per image.")  # fmt: skip
            parts.append(out)
        return np.concatenate(parts)

    def _done(self, cell: Cell, n: int) -> None:
        self.left[cell] -= n
        if self.left[cell] == 0:
            write_json(cell_path(self.results, cell), self.payloads.pop(cell))
            self.report.cells_run.append(cell)


BATCH_FORMATS = ("list", "numpy", "torch")
"""What a model may ask for with a ``batch_format`` attribute: a list of H x W x 3 uint8 arrays (the
default), one stacked N x H x W x 3 uint8 array, or that array as a torch tensor (in pinned memory when
CUDA is there, so ``.to("cuda", non_blocking=True)`` overlaps the copy)."""


def _as_batch(images: list[np.ndarray], batch_format: str, model: str):
    if batch_format == "list":
        return images
    if len({image.shape for image in images}) > 1:
        raise EvaluationError(f"--model {model} asks for batch_format {batch_format!r}, which needs images of one size; "
                              f"this batch holds {sorted({image.shape for image in images})[:2]}: use the list format.")  # fmt: skip
    stacked = np.stack(images)
    if batch_format == "numpy":
        return stacked
    import torch

    tensor = torch.from_numpy(stacked)
    return tensor.pin_memory() if torch.cuda.is_available() else tensor


def _take(outputs, indices: list[int], n: int, where: str):
    """The outputs of some images of a batch (a list per image, or an array / tensor of N rows)."""
    if isinstance(outputs, Mapping) or not hasattr(outputs, "__len__") or len(outputs) != n:
        count = len(outputs) if hasattr(outputs, "__len__") and not isinstance(outputs, Mapping) else type(outputs).__name__
        raise EvaluationError(f"{where} returned {count} outputs for a batch of {n} images; a model returns one per image.")
    if isinstance(outputs, list | tuple):
        return [outputs[i] for i in indices]
    return outputs[np.asarray(indices)] if isinstance(outputs, np.ndarray) else outputs[indices]


def adaptation_record(settings, seed: int, batch_size: int) -> dict:
    """What a results folder records of its adaptation: the method's settings, the protocol, the stream."""
    return {**settings.describe(), "batch_size": batch_size, "stream": f"shuffled, seed {seed}", "passes": 1}


def adapt_model(predict, task: Task, settings):
    """``predict`` adapting at test time: a named model's Predictor, or a factory's ``torch.nn.Module`` (fed N x 3 x
    H x W float tensors in 0-1); EvaluationError with one sentence for anything else."""
    from corruptgen.adapt import Adaptation, AdaptationError

    if task.kind not in ("classification", "shift", "grouped"):
        raise EvaluationError(f"--adapt {settings.method}: test-time adaptation scores classifiers; {task.tree.dataset}'s "
                              f"{task.kind} models are not adapted.")  # fmt: skip
    module = getattr(predict, "module", None)
    if module is None or not hasattr(predict, "adaptation"):
        raise EvaluationError(f"--adapt {settings.method} needs a PyTorch model: a named one (timm:, torchvision:) or a "
                              "factory returning a torch.nn.Module.")  # fmt: skip
    try:
        predict.adaptation = Adaptation(module, settings)
    except AdaptationError as exc:
        raise EvaluationError(str(exc)) from None
    return predict


def _check_run_record(results: Path, model: str, limit: int | None, on_the_fly: bool, split: str | None,
                      adaptation: dict | None = None) -> None:  # fmt: skip
    """Refuse to add cells to results made by another model or over other images (a failed
    first attempt, with no cell written yet, does not count)."""
    previous = read_run(results) if results.is_dir() else {}
    if not previous or not any(p.name != RUN_FILE and p.name != STATE_FILE for p in results.rglob("*.json")):
        return
    previous_adaptation = {k: v for k, v in (previous.get("adaptation") or {}).items() if k != "order"} or None
    if previous_adaptation != adaptation:
        raise EvaluationError(f"{results} holds results of another adaptation ({previous_adaptation or 'none'}); rerun with "
                              "the same settings to resume, or choose another --results folder.")  # fmt: skip
    before = (previous.get("model"), previous.get("limit"), bool(previous.get("on_the_fly")), previous.get("split"))
    if before != (model, limit, on_the_fly, split):
        raise EvaluationError(f"{results} holds results of --model {before[0]} with --limit {before[1]} "
                              + (f"on the {before[3]} split " if before[3] else "")
                              + f"{'on the fly' if before[2] else 'from a built tree'}; rerun with the same settings "
                              "to resume, or choose another --results folder.")  # fmt: skip
