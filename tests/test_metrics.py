"""``corruptgen.metrics`` against values worked out by hand, and its refusals."""

from __future__ import annotations

import doctest
import random

import numpy as np
import pytest

from corruptgen import metrics
from corruptgen.corruptions import BENCHMARK


def test_doctests():
    assert doctest.testmod(metrics).failed == 0


def test_alexnet_table_reproduces_the_published_means():
    published = {"gaussian_noise": 88.6428, "shot_noise": 89.4468, "impulse_noise": 92.2640, "defocus_blur": 81.9880,
                 "glass_blur": 82.6268, "motion_blur": 78.5948, "zoom_blur": 79.8360, "snow": 86.6816, "frost": 82.6572,
                 "fog": 81.9324, "brightness": 56.4592, "contrast": 85.3204, "elastic_transform": 64.6056,
                 "pixelate": 71.7840, "jpeg_compression": 60.6500}  # fmt: skip
    assert list(metrics.ALEXNET_ERRORS) == list(BENCHMARK)
    for name, mean in published.items():
        assert sum(metrics.ALEXNET_ERRORS[name].values()) / 5 == pytest.approx(mean, abs=1e-9)


def test_ce_alexnet_normalisation_for_one_corruption_by_hand():
    # AlexNet's gaussian_noise errors sum to 69.528 + 82.542 + 93.554 + 98.138 + 99.452 = 443.214
    errors = {"gaussian_noise": {1: 30.0, 2: 40.0, 3: 50.0, 4: 60.0, 5: 41.607}}  # sums to 221.607
    assert metrics.ce(errors, corruptions=["gaussian_noise"]) == {"gaussian_noise": pytest.approx(50.0)}


def test_mce_of_alexnet_is_100_and_of_half_its_errors_50():
    assert metrics.mce(metrics.ALEXNET_ERRORS).value == pytest.approx(100.0)
    half = {c: {s: v / 2 for s, v in row.items()} for c, row in metrics.ALEXNET_ERRORS.items()}
    result = metrics.mce(half)
    assert result.value == pytest.approx(50.0) and not result.partial
    assert set(result.per_corruption) == set(BENCHMARK)


def test_mce_with_own_baseline_and_unnormalised():
    errors = {"fog": {1: 10.0, 2: 30.0}, "snow": {1: 20.0, 2: 20.0}}
    base = {"fog": {1: 40.0, 2: 40.0}, "snow": {1: 10.0, 2: 30.0}}
    r = metrics.mce(errors, base)  # fog 100*40/80 = 50, snow 100*40/40 = 100
    assert r.per_corruption == {"fog": 50.0, "snow": 100.0} and r.value == 75.0
    raw = metrics.mce(errors, None, corruptions=["fog", "snow"], severities=[1, 2])
    assert raw.per_corruption == {"fog": 20.0, "snow": 20.0} and raw.value == 20.0


def test_relative_mce_by_hand():
    errors = {"fog": {1: 30.0, 2: 50.0}}  # minus clean 20: 10 + 30 = 40
    base = {"fog": {1: 60.0, 2: 100.0}}  # minus clean 40: 20 + 60 = 80
    assert metrics.relative_mce(errors, 20.0, base, 40.0).value == pytest.approx(50.0)
    # AlexNet: its own errors with its own clean error give 100
    assert metrics.relative_mce(metrics.ALEXNET_ERRORS, 43.5).value == pytest.approx(100.0)
    with pytest.raises(ValueError, match="baseline_clean_error"):
        metrics.relative_mce(errors, 20.0, base)


def test_mpc_and_rpc_by_hand():
    perf = {c: {s: float(10 * s + i) for s in range(1, 6)} for i, c in enumerate(BENCHMARK)}
    # mean over s of 10 s = 30; mean over i in 0..14 = 7
    assert metrics.mpc(perf).value == pytest.approx(37.0)
    assert metrics.mpc(perf).per_corruption["shot_noise"] == pytest.approx(31.0)
    assert metrics.rpc(perf, 74.0).value == pytest.approx(50.0)


def test_order_never_matters():
    perf = {c: {s: random.Random(i * 7 + s).uniform(5, 60) for s in range(1, 6)} for i, c in enumerate(BENCHMARK)}
    reference = metrics.mpc(perf).value, metrics.mce(perf).value, metrics.rpc(perf, 70.0).value
    for seed in range(5):
        rng = random.Random(seed)
        names = list(perf)
        rng.shuffle(names)
        shuffled = {}
        for c in names:
            sevs = list(perf[c])
            rng.shuffle(sevs)
            shuffled[c] = {s: perf[c][s] for s in sevs}
        assert (metrics.mpc(shuffled).value, metrics.mce(shuffled).value, metrics.rpc(shuffled, 70.0).value) == pytest.approx(reference)


def test_missing_and_unexpected_cells_are_named_unless_partial():
    perf = {c: {s: 30.0 for s in range(1, 6)} for c in BENCHMARK}
    del perf["fog"][4]
    with pytest.raises(ValueError, match="'fog' severity 4 is missing"):
        metrics.mpc(perf)
    result = metrics.mpc(perf, partial=True)
    assert result.partial and result.missing == (("fog", 4),) and result.value == 30.0
    del perf["snow"]
    with pytest.raises(ValueError, match="corruption 'snow' is missing"):
        metrics.mce(perf)
    extra = {c: {s: 30.0 for s in range(1, 6)} for c in BENCHMARK} | {"speckle_noise": {1: 20.0}}
    with pytest.raises(ValueError, match="'speckle_noise' is not expected"):
        metrics.mpc(extra)
    kept = metrics.mpc(extra, partial=True)
    assert kept.partial and kept.ignored == (("speckle_noise", 1),) and kept.value == 30.0
    with pytest.raises(ValueError, match="'fog' severity 6 is not expected"):
        metrics.mpc({c: {s: 1.0 for s in range(1, 7 if c == "fog" else 6)} for c in BENCHMARK})


def test_bad_values_and_baselines():
    with pytest.raises(ValueError, match="must be a finite number"):
        metrics.mpc({"fog": {1: "high"}}, corruptions=["fog"], severities=[1])
    with pytest.raises(ValueError, match="baseline must be 'alexnet'"):
        metrics.mce({"fog": {1: 1.0}}, baseline="resnet")
    with pytest.raises(ValueError, match="clean performance must be positive"):
        metrics.rpc({"fog": {1: 1.0}}, 0.0, corruptions=["fog"], severities=[1])
    assert float(metrics.mpc({"fog": {1: 4.0}}, corruptions=["fog"], severities=[1])) == 4.0


# ---- ImageNet-P's FP and T5D, against a direct re-implementation of ImageNet-P/test.py ----

def _test_py_flip_prob(predictions, noise, difficulty):
    """``flip_prob`` of hendrycks/robustness ImageNet-P/test.py, its loops as written (FP as a fraction)."""
    result = 0
    step_size = 1 if noise else difficulty
    for vid_preds in predictions:
        result_for_vid = []
        for i in range(step_size):
            prev_pred = vid_preds[i]
            for pred in vid_preds[i::step_size][1:]:
                result_for_vid.append(int(prev_pred != pred))
                if not noise:
                    prev_pred = pred
        result += np.mean(result_for_vid) / len(predictions)
    return result


def _test_py_ranking_dist(ranks, noise, difficulty, classes):
    """``ranking_dist`` with ``dist(..., mode='top5')`` of the same file, its loops as written."""
    cum_sum_top5 = np.cumsum(np.asarray([0] + [1] * 5 + [0] * (classes - 1 - 5)))
    result = 0
    step_size = 1 if noise else difficulty
    for vid_ranks in ranks:
        result_for_vid = []
        for i in range(step_size):
            perm1 = vid_ranks[i]
            perm1_inv = np.argsort(perm1)
            for rank in vid_ranks[i::step_size][1:]:
                perm2 = rank
                sigma = perm2[perm1_inv]
                result_for_vid.append(np.sum(np.abs(cum_sum_top5[:5] - cum_sum_top5[sigma - 1][:5])))
                if not noise:
                    perm1 = perm2
                    perm1_inv = np.argsort(perm1)
        result += np.mean(result_for_vid) / len(ranks)
    return result


def test_flip_probability_by_hand():
    predictions = [[1, 1, 2, 2], [3, 3, 3, 3]]
    assert metrics.flip_probability(predictions, noise=False) == pytest.approx(100 / 6)  # 1 of 3 flips, then none
    assert metrics.flip_probability(predictions, noise=True) == pytest.approx(100 / 3)  # 2 of 3 differ from frame 0
    assert metrics.flip_probability(predictions, noise=False, difficulty=2) == pytest.approx(50)  # (0, 2) and (1, 3)


def test_top5_distance_by_hand():
    first = np.array([1, 2, 3, 4, 5, 6, 7])  # class c ranked c + 1
    swapped = np.array([2, 1, 3, 4, 5, 6, 7])  # the top two trade places: |0 - 1| + |1 - 0|
    pushed_out = np.array([7, 1, 2, 3, 4, 5, 6])  # the top class drops to 7th, the rest move up one
    assert metrics.top5_distance([[first, swapped]], noise=False) == 2
    assert metrics.top5_distance([[first, pushed_out]], noise=False) == 5 + 1 + 1 + 1 + 1
    assert metrics.top5_distance([[first, first]], noise=True) == 0


@pytest.mark.parametrize("noise", [False, True])
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_fp_and_t5d_equal_test_py_on_random_predictions(noise, difficulty):
    from scipy.stats import rankdata

    rng = np.random.default_rng(difficulty + 10 * noise)
    scores = rng.normal(size=(7, 31, 20))
    scores[:, :, :3] += rng.normal(size=(7, 31, 1)) * 2  # correlated frames: flips neither never nor always
    ranks = metrics.rankings(scores)
    assert np.array_equal(ranks, np.stack([[rankdata(-f, method="ordinal") for f in video] for video in scores]))
    predictions = scores.argmax(axis=-1)
    assert metrics.flip_probability(predictions, noise, difficulty) == pytest.approx(
        100 * _test_py_flip_prob(predictions, noise, difficulty), abs=1e-9)  # fmt: skip
    assert metrics.top5_distance(ranks, noise, difficulty) == pytest.approx(
        _test_py_ranking_dist(ranks, noise, difficulty, 20), abs=1e-9)  # fmt: skip
    # what the runner keeps per frame (its five top classes) gives test.py's T5D as well
    assert metrics.top5_list_distance(metrics.top5_of(scores), noise, difficulty) == pytest.approx(
        _test_py_ranking_dist(ranks, noise, difficulty, 20), abs=1e-9)  # fmt: skip


def test_top5_lists_by_hand():
    first, swapped, pushed_out = [0, 1, 2, 3, 4], [1, 0, 2, 3, 4], [1, 2, 3, 4, 5]  # as in the ranking case above
    assert metrics.top5_list_distance([[first, swapped]], noise=False) == 2
    assert metrics.top5_list_distance([[first, pushed_out]], noise=False) == 5 + 1 + 1 + 1 + 1
    assert metrics.top5_list_distance([[first, swapped, pushed_out]], noise=True) == (2 + 9) / 2  # both against frame 0
    assert metrics.top5_of([[0.1, 0.3, 0.3, 0.0, 0.2, 0.05]]).tolist() == [[1, 2, 4, 0, 5]]  # ties: class order


def test_mean_flip_rate_normalises_by_a_baseline_or_not():
    fp = {"rotate": 2.0, "scale": 6.0}
    assert metrics.mean_flip_rate(fp) == 4.0
    assert metrics.mean_flip_rate(fp, {"rotate": 4.0, "scale": 12.0}) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="no value for scale"):
        metrics.mean_flip_rate(fp, {"rotate": 4.0})


def test_group_accuracy_is_wilds_standard_group_eval():
    """p-lambda/wilds standard_group_eval + Accuracy: per-group mean (0 for an empty group), acc_wg the minimum over
    groups with examples, acc_avg over all; WaterbirdsDataset's adj_acc_avg weights groups by training counts."""
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 4, 200)
    groups[groups == 2] = 3  # an empty group
    correct = rng.random(200) < np.array([0.9, 0.4, 0.0, 0.7])[groups]
    train = np.array([3498, 184, 56, 1057])
    result = metrics.group_accuracy(correct, groups, n_groups=4, train_counts=train)
    per = [correct[groups == g].mean() * 100 if (groups == g).any() else 0.0 for g in range(4)]
    counts = [int((groups == g).sum()) for g in range(4)]
    assert result["acc_avg"] == pytest.approx(correct.mean() * 100)
    assert [result[f"acc_{g}"] for g in range(4)] == pytest.approx(per) and [result[f"count_{g}"] for g in range(4)] == counts
    assert result["acc_wg"] == pytest.approx(min(p for p, c in zip(per, counts) if c))
    assert result["adj_acc_avg"] == pytest.approx(float(np.dot(per, train) / train.sum()))
