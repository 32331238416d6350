"""The runners at the hardware's speed: images loaded ahead of the model in worker processes, in an
order and with results files that do not depend on the worker count; on the fly each source decoded
once for all its cells; a fixed number of units in flight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures import CELLS, FEW, cli, make_cityscapes, make_coco, make_mnist, photo
from PIL import Image

from corruptgen.evaluate import Tree, run_model
from corruptgen.evaluate.loader import Loader, Unit


def files(results: Path) -> dict[str, bytes]:
    """Every results file (and label map) of a run, but run.json, which records how it ran."""
    return {p.relative_to(results).as_posix(): p.read_bytes() for p in sorted(results.rglob("*"))
            if p.is_file() and p.name != "run.json"}  # fmt: skip


@pytest.fixture
def standin(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def test_detection_results_are_the_same_bytes_for_any_worker_count(tmp_path, standin):
    src = make_coco(tmp_path / "coco", n=5, distinct=True)
    tree = tmp_path / "coco-c"
    cli("build", "coco", "--src", src, "--out", tree, *FEW, "--image-format", "png", "--quiet")
    runs = {}
    for workers, batch in ((1, 1), (2, 1), (3, 2)):
        runs[workers] = tmp_path / f"w{workers}"
        cli("detect", tree, "--model", "standin_models:brightness_detector", "--results", runs[workers], "--quiet",
            "--workers", workers, "--batch-size", batch)  # fmt: skip
    assert files(runs[1]) == files(runs[2]) == files(runs[3]) and len(files(runs[1])) == 7
    fly = {}
    for workers in (1, 2):
        fly[workers] = tmp_path / f"fly{workers}"
        cli("detect", "coco", "--on-the-fly", "--src", src, *FEW, "--model", "standin_models:brightness_detector",
            "--results", fly[workers], "--quiet", "--workers", workers, "--batch-size", 4)  # fmt: skip
    built = files(runs[1])
    assert files(fly[1]) == files(fly[2])
    assert all(files(fly[2])[name] == data for name, data in built.items())  # and equal to the built tree's


@pytest.mark.parametrize("model", ["mean_classifier", "stacked_mean_classifier", "tensor_mean_classifier"])
def test_classification_on_the_fly_mixes_cells_in_a_batch_and_keeps_each_cells_results(tmp_path, standin, model):
    src = make_mnist(tmp_path / "mnist", n_train=3, n_test=7)
    tree = tmp_path / "mnist-c"
    cli("build", "mnist", "--src", src, "--split", "test", "--out", tree, *FEW, "--quiet")
    cli("classify", tree, "--model", "standin_models:mean_classifier", "--results", tmp_path / "built", "--quiet",
        "--batch-size", 3, "--workers", 1)  # fmt: skip
    for workers in (1, 2):
        cli("classify", "mnist", "--on-the-fly", "--src", src, "--split", "test", *FEW, "--model", f"standin_models:{model}",
            "--results", tmp_path / f"fly{workers}", "--quiet", "--batch-size", 5, "--workers", workers)  # fmt: skip
        fly, built = files(tmp_path / f"fly{workers}"), files(tmp_path / "built")
        assert {name: fly[name] for name in built} == built and len(built) == 7


def test_segmentation_label_maps_are_the_same_for_any_worker_count(tmp_path, standin):
    src = make_cityscapes(tmp_path / "cityscapes")
    tree = tmp_path / "cs-c"
    cli("build", "cityscapes", "--src", src, "--out", tree, "--corruptions", "fog,contrast", "--severities", "2", "--quiet")
    for workers in (1, 2):
        cli("segment", tree, "--model", "standin_models:halves_segmenter", "--results", tmp_path / f"w{workers}", "--quiet",
            "--workers", workers)  # fmt: skip
    assert files(tmp_path / "w1") == files(tmp_path / "w2")
    assert any(name.endswith("_labelIds.png") for name in files(tmp_path / "w1"))


def test_on_the_fly_decodes_each_source_once_for_all_its_cells(tmp_path, standin, monkeypatch):
    src = make_coco(tmp_path / "coco", n=4, distinct=True)
    tree = Tree.plan("coco", src, None, 0, "imagenet", CELLS)
    decoded = []
    original = type(tree.adapter).load
    monkeypatch.setattr(type(tree.adapter), "load", lambda self, sample: decoded.append(sample.key) or original(self, sample))
    run_model(tree, "detection", "standin_models:brightness_detector", tmp_path / "runs", batch_size=3, quiet=True)
    keys = [s.key for s in tree.samples()]
    assert decoded[1:] == keys  # the first decode told the loader the frames' size; then one per source
    assert len(list((tmp_path / "runs").rglob("*.json"))) == 1 + len(CELLS) + 2  # cells, clean, run.json, corruptgen.json


@pytest.mark.parametrize("processes", [False, True])
def test_a_fixed_number_of_units_is_in_flight_in_threads_or_processes(tmp_path, processes):
    src = make_mnist(tmp_path / "mnist", n_train=2, n_test=12)
    tree = Tree.plan("mnist", src, "test", 0, "imagenet", [("fog", 1)])
    samples = tree.samples()
    taken = []

    def units():
        for sample in samples:
            taken.append(sample)
            yield Unit((sample,), (None, ("fog", 1)), ((None, None),))

    ahead = []
    with Loader(tree, workers=2, in_flight=3, processes=processes) as loader:
        for n, (unit, images) in enumerate(loader.map(units()), start=1):
            ahead.append(len(taken) - n)  # units taken from the source but not yet given to the model
            assert unit.samples[0] == samples[n - 1] and images[0][0][0].shape == (28, 28, 3)
            assert images[0][1][0].shape == (28, 28, 3) and not (images[0][0][0] == images[0][1][0]).all()
    assert len(ahead) == 12 and max(ahead) <= 3 and ahead[0] > 0


def test_a_model_asking_for_a_stacked_batch_of_mixed_sizes_gets_one_sentence(tmp_path, standin):
    src = tmp_path / "photos"
    for name, shape in (("a/1.png", (40, 52)), ("b/2.png", (30, 20))):
        (src / name).parent.mkdir(parents=True)
        Image.fromarray(photo(0, *shape)).save(src / name)
    result = cli("classify", "folder", "--on-the-fly", "--src", src, "--corruptions", "fog", "--severities", "1",
                 "--model", "standin_models:stacked_mean_classifier", "--results", tmp_path / "r", "--batch-size", 3,
                 "--workers", 1, expect=1)  # fmt: skip
    assert "needs images of one size" in result.output and "Traceback" not in result.output
    assert json.loads((tmp_path / "r" / "run.json").read_text())["model"] == "standin_models:stacked_mean_classifier"
