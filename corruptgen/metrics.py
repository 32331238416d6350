"""Robustness metrics on mappings ``{corruption: {severity: value}}``: CE, mCE, relative mCE, mPC, rPC;
ImageNet-P's stability metrics on a model's predictions over perturbation sequences: FP, T5D,
mFR, mT5D; and the natural shifts' effective robustness (Taori et al. 2020), Clopper-Pearson intervals
and ImageNet-O's out-of-distribution detection measures (AUROC, AUPR, FPR at 95 % recall).

Values are percentages (errors 0-100, AP 0-100), as the published tables give them. Every
function looks cells up by corruption name and severity, never by position, so the order of a
mapping never changes a result (mmdetection's ``robustness_eval.py`` averages "the first 15
entries" of a dict in insertion order; hendrycks' ``test.py`` prints an unnormalised mean).

Definitions (Hendrycks & Dietterich 2019; Michaelis et al. 2019):

- ``CE_c = 100 * sum_s E_{s,c} / sum_s E^base_{s,c}``, ``mCE = mean_c CE_c``
- ``relative CE_c = 100 * sum_s (E_{s,c} - E_clean) / sum_s (E^base_{s,c} - E^base_clean)``
- ``mPC = mean_{c,s} P_{s,c}``, ``rPC = 100 * mPC / P_clean``

The grid a result covers is the baseline's (AlexNet: the 15 ImageNet-C corruptions x severities
1-5) or, without a baseline, the 15 benchmark corruptions x 1-5 unless ``corruptions=`` /
``severities=`` say otherwise (``corruptions`` may also map each name to its severities). A cell missing from that grid, or a cell outside it, is a
``ValueError`` naming it; with ``partial=True`` the result is computed over the cells present in
the grid instead, and says so (``partial``, ``missing``, ``ignored``).

>>> from corruptgen import metrics
>>> r = metrics.mpc({"fog": {1: 40.0, 2: 30.0}, "snow": {1: 20.0, 2: 10.0}}, severities=(1, 2), corruptions=["fog", "snow"])
>>> r.value, r.per_corruption
(25.0, {'fog': 35.0, 'snow': 15.0})
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from corruptgen.corruptions import BENCHMARK, SEVERITIES

Cells = Mapping[str, Mapping[int, float]]

HIGHER_IS_BETTER = {
    "top-1 error": False,
    "bbox AP": True, "bbox AP50": True, "segm AP": True, "segm AP50": True,  # COCO, Cityscapes instances
    "AP50": True, "AP50 (area)": True,  # Pascal VOC
    "mIoU": True, "iIoU": True,  # Cityscapes semantic segmentation
    "flip probability": False, "top-5 distance": False,  # ImageNet-P
    "top-1 accuracy": True, "top-5 accuracy": True,  # natural distribution shifts
    "average accuracy": True, "worst-group accuracy": True, "adjusted average accuracy": True,  # groups (WILDS)
}  # fmt: skip
"""Which way each metric a task reports improves (lm-evaluation-harness's ``higher_is_better``): errors
are summarised as CE / mCE against a baseline, performances as P / mPC / rPC."""


def higher_is_better(metric: str) -> bool:
    """Whether a larger ``metric`` is better; ValueError naming the known metrics otherwise.

    >>> higher_is_better("bbox AP"), higher_is_better("top-1 error")
    (True, False)
    """
    try:
        return HIGHER_IS_BETTER[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}; known metrics are {', '.join(HIGHER_IS_BETTER)}.") from None


ALEXNET_CLEAN_ERROR = 43.5
"""AlexNet's top-1 error (%) on clean ImageNet validation, the relative-mCE normaliser
(facebookresearch/augmentation-corruption, ``mCE_baseline_imagenet.p``)."""

ALEXNET_ERRORS: dict[str, dict[int, float]] = {
    name: dict(zip(SEVERITIES, row))
    for name, row in {
        "gaussian_noise": (69.528, 82.542, 93.554, 98.138, 99.452),
        "shot_noise": (71.224, 85.108, 93.574, 98.182, 99.146),
        "impulse_noise": (78.374, 89.808, 94.870, 98.720, 99.548),
        "defocus_blur": (65.624, 73.202, 85.036, 91.364, 94.714),
        "glass_blur": (64.308, 75.054, 88.806, 91.622, 93.344),
        "motion_blur": (58.430, 70.048, 82.108, 89.750, 92.638),
        "zoom_blur": (70.008, 76.992, 80.784, 84.198, 87.198),
        "snow": (71.726, 88.392, 86.468, 91.870, 94.952),
        "frost": (61.390, 79.734, 88.790, 89.942, 93.430),
        "fog": (67.474, 76.050, 84.378, 87.260, 94.500),
        "brightness": (45.140, 48.502, 54.048, 62.166, 72.440),
        "contrast": (64.548, 76.150, 88.874, 97.760, 99.270),
        "elastic_transform": (52.596, 70.116, 55.686, 64.076, 80.554),
        "pixelate": (52.218, 54.620, 73.728, 87.092, 91.262),
        "jpeg_compression": (51.002, 54.718, 57.294, 65.458, 74.778),
    }.items()
}
"""AlexNet's top-1 error (%) on ImageNet-C per corruption and severity: the published
normalisation table (hendrycks/robustness; its per-corruption means are the README's
0.886428, 0.894468, ... to the digit)."""


@dataclass(frozen=True)
class Result:
    """A summary metric with what it was computed over.

    ``value`` is the summary (mCE, mPC, rPC, ...), ``per_corruption`` its per-corruption parts
    (CE_c, or the corruption's mean), ``partial`` whether any expected cell was missing or any
    given cell was left out, listed in ``missing`` and ``ignored`` as ``(corruption, severity)``.
    """

    value: float
    per_corruption: dict[str, float]
    partial: bool = False
    missing: tuple[tuple[str, int], ...] = field(default_factory=tuple)
    ignored: tuple[tuple[str, int | object], ...] = field(default_factory=tuple)

    def __float__(self) -> float:
        return float(self.value)


def _grid(corruptions: Iterable[str] | Mapping[str, Iterable[int]] | None, severities: Iterable[int] | None,
          base: Cells | None) -> dict[str, tuple[int, ...]]:  # fmt: skip
    if isinstance(corruptions, Mapping):  # an explicit, possibly ragged grid {corruption: severities}
        return {c: tuple(s) for c, s in corruptions.items()}
    if base is not None and corruptions is None and severities is None:
        return {c: tuple(sorted(s)) for c, s in base.items()}
    names = tuple(corruptions) if corruptions is not None else (tuple(base) if base is not None else BENCHMARK)
    sevs = tuple(severities) if severities is not None else SEVERITIES
    return {c: sevs for c in names}


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number; got {value!r}.")
    return float(value)


def _select(cells: Cells, grid: dict[str, tuple[int, ...]], partial: bool, what: str) -> tuple[dict, tuple, tuple]:
    """The cells of ``grid`` present in ``cells`` as floats, plus what was missing and ignored."""
    if not isinstance(cells, Mapping):
        raise ValueError(f"{what} must be a mapping {{corruption: {{severity: value}}}}; got {type(cells).__name__}.")
    ignored = []
    for name, row in cells.items():
        if not isinstance(row, Mapping):
            raise ValueError(f"{what}[{name!r}] must be a mapping {{severity: value}}; got {type(row).__name__}.")
        if name not in grid:
            ignored += [(name, s) for s in row] or [(name, None)]
            continue
        ignored += [(name, s) for s in row if s not in grid[name]]
    selected, missing = {}, []
    for name, sevs in grid.items():
        row = cells.get(name, {})
        for s in sevs:
            if s in row:
                selected.setdefault(name, {})[s] = _number(row[s], f"{what}[{name!r}][{s!r}]")
            else:
                missing.append((name, s))
    if (missing or ignored) and not partial:
        if missing:
            name, s = missing[0]
            detail = f"corruption {name!r} is missing" if name not in cells else f"{name!r} severity {s} is missing"
            more = f" ({len(missing)} cells missing in all)" if len(missing) > 1 else ""
        else:
            name, s = ignored[0]
            detail = f"corruption {name!r} is not expected" if name not in grid else f"{name!r} severity {s!r} is not expected"
            more = f" ({len(ignored)} unexpected cells in all)" if len(ignored) > 1 else ""
        raise ValueError(f"{what}: {detail}{more}; expected {_describe(grid)}. Pass partial=True to score what is there.")
    if not selected:
        raise ValueError(f"{what}: no cell of the expected grid ({_describe(grid)}) is present.")
    return selected, tuple(missing), tuple(ignored)


def _describe(grid: dict[str, tuple[int, ...]]) -> str:
    sevs = {s for row in grid.values() for s in row}
    return f"{len(grid)} corruptions ({', '.join(list(grid)[:3])}{', ...' if len(grid) > 3 else ''}) x severities {sorted(sevs)}"


def _baseline(baseline: str | Cells | None) -> Cells | None:
    if baseline is None or isinstance(baseline, Mapping):
        return baseline
    if baseline == "alexnet":
        return ALEXNET_ERRORS
    raise ValueError(f"baseline must be 'alexnet', a mapping {{corruption: {{severity: error}}}} or None; got {baseline!r}.")


def _baseline_cells(base: Cells, cells: dict) -> dict:
    """The baseline's values for exactly the scored cells (it may hold more); missing ones are named."""
    narrowed = {c: {s: v for s, v in base[c].items() if s in cells[c]} for c in cells if c in base}
    return _select(narrowed, {c: tuple(row) for c, row in cells.items()}, False, "baseline")[0]


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values)


def ce(errors: Cells, baseline: str | Cells | None = "alexnet", *, corruptions: Iterable[str] | None = None,
       severities: Iterable[int] | None = None, partial: bool = False) -> dict[str, float]:  # fmt: skip
    """Corruption Error per corruption (%): the model's summed error over the baseline's.

    ``baseline="alexnet"`` uses :data:`ALEXNET_ERRORS`; a mapping uses your own baseline
    model's errors; ``None`` gives the unnormalised mean error per corruption.

    >>> ce({"fog": {1: 30.0, 2: 40.0}}, {"fog": {1: 60.0, 2: 80.0}})
    {'fog': 50.0}
    """
    return mce(errors, baseline, corruptions=corruptions, severities=severities, partial=partial).per_corruption


def mce(errors: Cells, baseline: str | Cells | None = "alexnet", *, corruptions: Iterable[str] | None = None,
        severities: Iterable[int] | None = None, partial: bool = False) -> Result:  # fmt: skip
    """Mean Corruption Error (%): CE per corruption and their mean.

    >>> r = mce({"fog": {1: 30.0, 2: 40.0}, "snow": {1: 60.0, 2: 60.0}}, {"fog": {1: 60.0, 2: 80.0}, "snow": {1: 60.0, 2: 60.0}})
    >>> r.value, r.per_corruption
    (75.0, {'fog': 50.0, 'snow': 100.0})
    """
    base = _baseline(baseline)
    grid = _grid(corruptions, severities, base)
    cells, missing, ignored = _select(errors, grid, partial, "errors")
    if base is not None:
        base_cells = _baseline_cells(base, cells)
        per = {}
        for c, row in cells.items():
            denominator = sum(base_cells[c][s] for s in row)
            if denominator <= 0:
                raise ValueError(f"baseline error of {c!r} sums to {denominator}; CE needs a positive baseline.")
            per[c] = 100.0 * sum(row.values()) / denominator
    else:
        per = {c: _mean(row.values()) for c, row in cells.items()}
    return Result(_mean(per.values()), per, bool(missing or ignored), missing, ignored)


def relative_mce(errors: Cells, clean_error: float, baseline: str | Cells | None = "alexnet",
                 baseline_clean_error: float | None = None, *, corruptions: Iterable[str] | None = None,
                 severities: Iterable[int] | None = None, partial: bool = False) -> Result:  # fmt: skip
    """Relative mCE (%): how much error each corruption adds over clean, against the baseline's.

    With ``baseline="alexnet"`` the baseline's clean error is 43.5; with your own baseline
    mapping pass ``baseline_clean_error``; ``None`` gives the unnormalised mean added error.

    >>> relative_mce({"fog": {1: 30.0, 2: 40.0}}, 20.0, {"fog": {1: 60.0, 2: 80.0}}, 40.0).value
    50.0
    """
    base = _baseline(baseline)
    clean = _number(clean_error, "clean_error")
    grid = _grid(corruptions, severities, base)
    cells, missing, ignored = _select(errors, grid, partial, "errors")
    if base is not None:
        if baseline_clean_error is None:
            if baseline != "alexnet":
                raise ValueError("relative_mce with your own baseline needs baseline_clean_error, its clean error.")
            baseline_clean_error = ALEXNET_CLEAN_ERROR
        base_clean = _number(baseline_clean_error, "baseline_clean_error")
        base_cells = _baseline_cells(base, cells)
        per = {}
        for c, row in cells.items():
            denominator = sum(base_cells[c][s] - base_clean for s in row)
            if denominator <= 0:
                raise ValueError(f"baseline error of {c!r} does not exceed its clean error; relative CE is undefined.")
            per[c] = 100.0 * sum(v - clean for v in row.values()) / denominator
    else:
        per = {c: _mean(v - clean for v in row.values()) for c, row in cells.items()}
    return Result(_mean(per.values()), per, bool(missing or ignored), missing, ignored)


def mpc(performance: Cells, *, corruptions: Iterable[str] | None = None, severities: Iterable[int] | None = None,
        partial: bool = False) -> Result:  # fmt: skip
    """Mean Performance under Corruption: the mean over every corruption and severity (the
    benchmark's 15 x 1-5 unless told otherwise); ``per_corruption`` holds each corruption's mean."""
    cells, missing, ignored = _select(performance, _grid(corruptions, severities, None), partial, "performance")
    # a flat mean over cells, as the benchmark defines it (equal to the mean of per-corruption
    # means when every corruption has all its severities)
    flat = [v for row in cells.values() for v in row.values()]
    return Result(_mean(flat), {c: _mean(row.values()) for c, row in cells.items()}, bool(missing or ignored), missing, ignored)


def rpc(performance: Cells, clean: float, *, corruptions: Iterable[str] | None = None,
        severities: Iterable[int] | None = None, partial: bool = False) -> Result:  # fmt: skip
    """Relative Performance under Corruption (%): ``100 * mPC / P`` (``per_corruption``: each
    corruption's mean over P)."""
    p = _number(clean, "clean")
    if p <= 0:
        raise ValueError(f"clean performance must be positive for rPC; got {clean!r}.")
    m = mpc(performance, corruptions=corruptions, severities=severities, partial=partial)
    return Result(100.0 * m.value / p, {c: 100.0 * v / p for c, v in m.per_corruption.items()}, m.partial, m.missing, m.ignored)


__all__ = ["ALEXNET_CLEAN_ERROR", "ALEXNET_ERRORS", "Result", "ce", "mce", "mpc", "relative_mce", "rpc"]


# ---- ImageNet-P's stability metrics (hendrycks/robustness ``ImageNet-P/test.py``) ----


def frame_pairs(frames: int, noise: bool, difficulty: int = 1) -> list[tuple[int, int]]:
    """The frames ``test.py`` compares in one sequence: every later frame with frame 0 for a noise
    perturbation (frame 0 is the clean image), else consecutive frames of each stride-``difficulty``
    subsequence.

    >>> frame_pairs(4, noise=True), frame_pairs(4, noise=False), frame_pairs(5, noise=False, difficulty=2)
    ([(0, 1), (0, 2), (0, 3)], [(0, 1), (1, 2), (2, 3)], [(0, 2), (2, 4), (1, 3)])
    """
    if noise:
        return [(0, j) for j in range(1, frames)]
    return [(j - difficulty, j) for i in range(difficulty) for j in range(i + difficulty, frames, difficulty)]


def rankings(scores) -> np.ndarray:
    """Each class's rank (1 = the top class) from a model's scores, ``scipy.stats.rankdata(-scores,
    method="ordinal")`` along the last axis (ties ranked in class order), as ``test.py`` ranks.

    >>> rankings([[0.1, 0.7, 0.2]]).tolist()
    [[3, 1, 2]]
    """
    scores = np.asarray(scores, dtype=float)
    return np.argsort(np.argsort(-scores, axis=-1, kind="stable"), axis=-1, kind="stable") + 1


def flip_probability(predictions, noise: bool, difficulty: int = 1) -> float:
    """FP in percent: how often the top-1 prediction changes between the frames :func:`frame_pairs`
    pairs, averaged per sequence, then over sequences. ``predictions``: ``(sequences, frames)``
    class indices."""
    predictions = np.asarray(predictions)
    pairs = np.array(frame_pairs(predictions.shape[1], noise, difficulty))
    flips = predictions[:, pairs[:, 0]] != predictions[:, pairs[:, 1]]
    return 100.0 * float(flips.mean(axis=1).mean())


def top5_distance(ranks, noise: bool, difficulty: int = 1) -> float:
    """T5D: ``sum_{k=1..5} |(k - 1) - min(sigma(k) - 1, 5)|``, where ``sigma(k)`` is the later frame's
    rank of the class the earlier frame ranked ``k``, averaged over :func:`frame_pairs` per sequence,
    then over sequences. ``ranks``: ``(sequences, frames, classes)``, as :func:`rankings` gives them."""
    ranks = np.asarray(ranks)
    pairs = np.array(frame_pairs(ranks.shape[1], noise, difficulty))
    order = np.argsort(ranks[:, pairs[:, 0]], axis=-1)[..., :5]  # the earlier frame's top five classes
    sigma = np.take_along_axis(ranks[:, pairs[:, 1]], order, axis=-1)
    distance = np.abs(np.arange(5) - np.minimum(sigma - 1, 5)).sum(axis=-1)
    return float(distance.mean(axis=1).mean())


def top5_of(scores) -> np.ndarray:
    """Each frame's five top classes, best first, from its scores (ties in class order, as
    :func:`rankings`): all :func:`top5_distance` needs of a frame, kept by the runner per frame.

    >>> top5_of([[0.1, 0.7, 0.2, 0.0, 0.5, 0.3]]).tolist()
    [[1, 4, 5, 2, 0]]
    """
    return np.argsort(-np.asarray(scores, dtype=float), axis=-1, kind="stable")[..., :5]


def top5_list_distance(top5, noise: bool, difficulty: int = 1) -> float:
    """:func:`top5_distance` from each frame's five top classes (``(sequences, frames, 5)``, as
    :func:`top5_of` gives them) instead of full rankings: a class outside the later frame's top five
    has rank 6 or more, which ``min(sigma(k) - 1, 5)`` clips to 5 either way, so the two agree."""
    top5 = np.asarray(top5)
    pairs = np.array(frame_pairs(top5.shape[1], noise, difficulty))
    earlier, later = top5[:, pairs[:, 0], :, None], top5[:, pairs[:, 1], None, :]
    hit = earlier == later  # [sequence, pair, k, position in the later frame's top five]
    position = np.where(hit.any(axis=-1), hit.argmax(axis=-1), 5)
    distance = np.abs(np.arange(5) - position).sum(axis=-1)
    return float(distance.mean(axis=1).mean())


def mean_flip_rate(values: Mapping[str, float], baseline: Mapping[str, float] | None = None) -> float:
    """mFR (or mT5D): the mean over perturbations of each value divided by the baseline model's, in
    percent; without a baseline (ImageNet-P's AlexNet values are not published in its repository),
    the unnormalised mean.

    >>> mean_flip_rate({"rotate": 2.0, "scale": 4.0}, {"rotate": 4.0, "scale": 4.0})
    75.0
    """
    if baseline is None:
        return _mean(values.values())
    missing = [name for name in values if name not in baseline]
    if missing:
        raise ValueError(f"the baseline has no value for {', '.join(missing)}; give it every perturbation scored.")
    return 100.0 * _mean(values[name] / baseline[name] for name in values)


def transform_accuracy(accuracy, transform: str = "logit"):
    """imagenet-testbed's ``transform_acc`` (``plotting/plotter.py:L91-L110``): an accuracy in percent to
    logit (``ln(a / (1 - a))``) or probit (``Phi^-1(a)``) space, clipped to [1e-4, 1 - 1e-4] first."""
    from scipy.stats import norm

    a = np.clip(np.asarray(accuracy, dtype=np.float64) / 100.0, 1e-4, 1 - 1e-4)
    if transform == "logit":
        return np.log(a / (1 - a))
    if transform == "probit":
        return norm.ppf(a)
    raise ValueError(f"unknown transform {transform!r}; valid ones are logit and probit.")


def inverse_transform_accuracy(z, transform: str = "logit"):
    """``inv_transform_acc``: back from logit or probit space to an accuracy in percent."""
    from scipy.stats import norm

    z = np.asarray(z, dtype=np.float64)
    if transform == "logit":
        return 100.0 / (1.0 + np.exp(-z))
    if transform == "probit":
        return 100.0 * norm.cdf(z)
    raise ValueError(f"unknown transform {transform!r}; valid ones are logit and probit.")


def baseline_accuracy(id_accuracy, slope: float, intercept: float, transform: str = "logit"):
    """The OOD accuracy the standard models' fit predicts at ``id_accuracy`` (percent):
    ``T^-1(slope * T(acc_id) + intercept)``."""
    return inverse_transform_accuracy(slope * transform_accuracy(id_accuracy, transform) + intercept, transform)


def effective_robustness(id_accuracy: float, ood_accuracy: float, slope: float, intercept: float,
                         transform: str = "logit") -> float:  # fmt: skip
    """OOD accuracy above what the fit of standard models predicts from the ID accuracy, in points
    (imagenet-testbed ``paper_appendix_eff_robust.py:L35-L83``).

    >>> round(effective_robustness(76.13, 63.21, 0.9232, -0.4977), 2)   # ResNet-50 on ImageNet-V2 (matched frequency)
    -0.74
    """
    return float(ood_accuracy - baseline_accuracy(id_accuracy, slope, intercept, transform))


def fit_baseline(id_accuracies, ood_accuracies, transform: str = "logit") -> dict:
    """The fit itself: OLS of ``T(ood)`` on ``T(id)`` over a pool of standard models (``scipy.stats.linregress``,
    as the testbed), with its size and correlation."""
    from scipy.stats import linregress

    x, y = transform_accuracy(id_accuracies, transform), transform_accuracy(ood_accuracies, transform)
    if len(x) < 3:
        raise ValueError(f"a fit needs at least 3 models; got {len(x)}.")
    fit = linregress(x, y)
    return {"slope": float(fit.slope), "intercept": float(fit.intercept), "r": float(fit.rvalue), "n_models": int(len(x)),
            "transform": transform}


def clopper_pearson(correct: int, total: int, alpha: float = 0.05) -> tuple[float, float]:
    """The exact (Clopper-Pearson) ``1 - alpha`` interval of an accuracy, in percent.

    Examples
    --------
    >>> [round(v, 2) for v in clopper_pearson(50, 100)]
    [39.83, 60.17]
    """
    from scipy.stats import beta

    if total <= 0:
        return (0.0, 100.0)
    lo = 0.0 if correct == 0 else float(beta.ppf(alpha / 2, correct, total - correct + 1))
    hi = 1.0 if correct == total else float(beta.ppf(1 - alpha / 2, correct + 1, total - correct))
    return 100.0 * lo, 100.0 * hi


def ood_detection(in_scores, out_scores, recall: float = 0.95) -> dict[str, float]:
    """AUROC, AUPR and the false-positive rate at ``recall`` of an anomaly score (higher: more anomalous),
    the out-of-distribution images the positives, in percent: hendrycks/natural-adv-examples'
    ``calibration_tools.get_measures`` (scikit-learn's ``roc_auc_score``, ``average_precision_score`` and its
    own ``fpr_and_fdr_at_recall``), restated in NumPy."""
    scores = np.concatenate([np.asarray(out_scores, np.float64), np.asarray(in_scores, np.float64)])
    truth = np.concatenate([np.ones(len(out_scores)), np.zeros(len(in_scores))])
    if not len(out_scores) or not len(in_scores):
        raise ValueError("OOD detection needs in- and out-of-distribution scores.")
    order = np.argsort(-scores, kind="mergesort")
    scores, truth = scores[order], truth[order]
    distinct = np.r_[np.where(np.diff(scores))[0], len(scores) - 1]  # the last index of each run of equal scores
    tps = np.cumsum(truth)[distinct]
    fps = (1 + distinct) - tps
    tpr, fpr = tps / tps[-1], fps / fps[-1]
    auroc = float(np.trapezoid(np.r_[0, tpr], np.r_[0, fpr]))
    precision = tps / (tps + fps)
    recall_steps = np.diff(np.r_[0, tpr])
    aupr = float(np.sum(recall_steps * precision))
    # fpr_and_fdr_at_recall: from the last threshold reaching full recall back to the first, the one whose
    # recall is nearest the level (an appended recall of 1 with no false positives included, as there)
    last = int(np.searchsorted(tps, tps[-1]))
    back = slice(last, None, -1)
    recalls, fps_back = np.r_[tpr[back], 1], np.r_[fps[back], 0]
    cutoff = int(np.argmin(np.abs(recalls - recall)))
    fpr_at = float(fps_back[cutoff] / np.sum(np.logical_not(truth)))
    return {"AUROC": 100 * auroc, "AUPR": 100 * aupr, f"FPR{round(recall * 100)}": 100 * fpr_at}


def group_accuracy(correct, groups, n_groups: int | None = None, train_counts=None) -> dict:
    """Accuracy by group, as WILDS' ``standard_group_eval`` and group DRO report it (percent): ``acc_avg`` over
    every example, ``acc_<g>`` and ``count_<g>`` per group, ``acc_wg`` the lowest accuracy over the groups with
    at least one example (``worst_group_metric``), and with ``train_counts`` (each group's size in the training
    split) ``adj_acc_avg``, the group accuracies weighted by those (group DRO's reported average on Waterbirds).

    >>> r = group_accuracy([1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 3], n_groups=4, train_counts=[3, 1, 0, 1])
    >>> round(r["acc_avg"], 2), round(r["acc_wg"], 2), r["count_2"], round(r["adj_acc_avg"], 2)
    (50.0, 0.0, 0, 50.0)
    """
    correct = np.asarray(correct, dtype=bool)
    groups = np.asarray(groups, dtype=np.int64)
    if correct.shape != groups.shape or not len(correct):
        raise ValueError("group_accuracy needs one correctness flag and one group per example.")
    n_groups = int(groups.max()) + 1 if n_groups is None else n_groups
    out: dict[str, float] = {"acc_avg": 100.0 * float(correct.mean())}
    accs = []
    for g in range(n_groups):
        members = groups == g
        count = int(members.sum())
        out[f"count_{g}"] = count
        out[f"acc_{g}"] = 100.0 * float(correct[members].mean()) if count else 0.0
        if count:
            accs.append(out[f"acc_{g}"])
    out["acc_wg"] = min(accs)
    if train_counts is not None:
        weights = np.asarray(train_counts, dtype=np.float64)
        if len(weights) != n_groups or weights.sum() <= 0:
            raise ValueError(f"train_counts needs {n_groups} non-negative counts, not all zero.")
        out["adj_acc_avg"] = float(sum(w * out[f"acc_{g}"] for g, w in enumerate(weights)) / weights.sum())
    return out
