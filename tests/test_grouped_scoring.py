"""Grouped scoring (#38, item 5): classify and evaluate on Colored MNIST and CelebA trees report per-group accuracy,
the average and the worst group with WILDS' names; the robustness table sets them side by side."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from fixtures import cli, make_mnist
from test_celeba import make_celeba

from corruptgen.datasets.grouped import Field, group_names


@pytest.fixture(scope="module")
def colored(tmp_path_factory):
    root = tmp_path_factory.mktemp("cm")
    mnist = make_mnist(root / "mnist", n_train=300, n_test=90)
    cli("build", "colored-mnist", "--src", mnist, "--out", root / "tree", "--quiet")
    return root / "tree"


def test_colored_mnist_is_scored_per_group_on_its_test_environment(colored, tmp_path):
    results = tmp_path / "r"
    run = cli("classify", "colored-mnist", "--src", colored, "--model", "standin_models:colour_classifier", "--results",
              results, "--workers", 1)  # fmt: skip
    assert "Scoring the -90% split" in run.output
    printed = cli("evaluate", "--results", results).output
    doc = json.loads((results / "results.json").read_text())
    rows = [r for r in csv.DictReader((colored / "metadata.csv").open()) if r["env"] == "-90%"]
    y = np.array([int(r["y"]) for r in rows])
    colour = np.array([int(r["color"]) for r in rows])
    # the model answers the colour: right exactly where label and colour agree (10 % of -90%, by construction)
    assert doc["average accuracy"] == pytest.approx(100 * np.mean(y == colour))
    assert doc["worst-group accuracy"] == 0.0 and doc["images"] == len(rows)
    for c in (0, 1):
        for label in (0, 1):
            name = f"y:{label}_color:{('red', 'green')[c]}"
            assert doc["groups"][f"count_{name}"] == int(np.sum((y == label) & (colour == c)))
            assert doc["groups"][f"acc_{name}"] == (100.0 if c == label else 0.0) or not doc["groups"][f"count_{name}"]
    assert "adjusted" not in printed and "worst group" in printed
    other = tmp_path / "train-env"
    cli("classify", "colored-mnist", "--src", colored, "--split", "+90%", "--model", "standin_models:colour_classifier",
        "--results", other, "--workers", 1, "--quiet")  # fmt: skip
    cli("evaluate", "--results", other)
    assert json.loads((other / "results.json").read_text())["average accuracy"] > 80


def test_celeba_groups_are_named_as_wilds_names_them_and_tabled_beside_other_runs(colored, tmp_path):
    src = make_celeba(tmp_path / "celeba", n=30)
    tree = tmp_path / "groups"
    cli("build", "celeba", "--src", src, "--out", tree, "--quiet")
    results = tmp_path / "celeba-run"
    cli("classify", "celeba", "--src", tree, "--model", "standin_models:constant_classifier", "--results", results,
        "--workers", 1, "--quiet")  # fmt: skip
    cli("evaluate", "--results", results)
    doc = json.loads((results / "results.json").read_text())
    test = [r for r in csv.DictReader((tree / "metadata.csv").open()) if r["split"] == "2"]
    assert doc["images"] == len(test) and doc["split"] == "test"
    for r_y, word in ((0, "notblond"), (1, "blond")):
        for male in (0, 1):
            count = sum(int(r["y"]) == r_y and int(r["Male"]) == male for r in test)
            assert doc["groups"][f"count_y:{word}_male:{male}"] == count
            if count:  # class 0 always: the not-blond groups are right, the blond ones wrong
                assert doc["groups"][f"acc_y:{word}_male:{male}"] == (100.0 if r_y == 0 else 0.0)
    train = [r for r in csv.DictReader((tree / "metadata.csv").open()) if r["split"] == "0"]
    assert doc["train_counts"] == [sum(int(r["group"]) == g for r in train) for g in range(4)]

    colour_run = tmp_path / "colour-run"
    cli("classify", "colored-mnist", "--src", colored, "--model", "standin_models:constant_classifier", "--results",
        colour_run, "--workers", 1, "--quiet")  # fmt: skip
    cli("evaluate", "--results", colour_run)
    table_out = tmp_path / "table"
    cli("evaluate", "--results", results, "--results", colour_run, "--out", table_out)
    table = (table_out / "robustness.md").read_text()
    assert "celeba worst-group" in table and "colored-mnist worst-group" in table
    assert f"{doc['worst-group accuracy']:.1f}" in table


def test_group_names_follow_wilds_group_field_str():
    # wilds/common/grouper.py: fields last to first, "name:value" joined by "_", spaces dropped
    names = group_names((Field("male"), Field("y", ("not blond", "    blond"))))
    assert names == ["y:notblond_male:0", "y:notblond_male:1", "y:blond_male:0", "y:blond_male:1"]


def test_colored_mnist_as_a_folder_tree_and_its_corrupted_copy(tmp_path):
    from PIL import Image
    from torchvision.datasets import ImageFolder

    mnist = make_mnist(tmp_path / "mnist", n_train=60, n_test=30)
    tree = tmp_path / "tree"
    cli("build", "colored-mnist", "--src", mnist, "--out", tree, "--image-format", "png", "--quiet")
    images = np.load(tree / "-90%" / "images.npy")
    labels = np.load(tree / "-90%" / "labels.npy")
    folder = ImageFolder(str(tree / "-90%"))
    assert len(folder) == len(labels) and sorted(t for _, t in folder.samples) == sorted(labels.tolist())
    first = np.asarray(Image.open(tree / "-90%" / str(labels[0]) / "00000.png"))
    assert np.array_equal(first[..., 0], images[0, 0]) and np.array_equal(first[..., 1], images[0, 1]) and not first[..., 2].any()
    out = tmp_path / "cmc"
    cli("build", "colored-mnist", "--src", tree, "--out", out, "--corruptions", "gaussian_noise", "--severities", "2",
        "--quiet")  # fmt: skip
    corrupted = sorted((out / "gaussian_noise" / "2" / "-90%").rglob("*.png"))
    assert len(corrupted) == len(labels) and (out / "gaussian_noise" / "2" / "metadata.csv").is_file()


def test_verify_checks_a_generated_tree_against_its_metadata(colored, tmp_path):
    import shutil

    ok = cli("verify", colored)
    assert "OK, all" in ok.output and "colored-mnist" in ok.output
    broken = tmp_path / "broken"
    shutil.copytree(colored, broken)
    rows = np.load(broken / "-90%" / "labels.npy")
    np.save(broken / "-90%" / "labels.npy", rows[:-1])
    result = cli("verify", broken, expect=1)
    assert "labels.npy holds" in result.output and "Traceback" not in result.output
    celeba = tmp_path / "groups"
    cli("build", "celeba", "--src", make_celeba(tmp_path / "celeba"), "--out", celeba, "--quiet")
    (celeba / "img_align_celeba" / "000003.jpg").unlink()
    assert "000003.jpg is missing" in cli("verify", celeba, expect=1).output
    refused = cli("report", celeba, expect=1)
    assert "generated from its source, not a -C build" in refused.output
