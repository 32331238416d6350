"""Runners (``detect`` / ``classify``), ``evaluate`` and the report, on small built trees."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from fixtures import CELLS, FEW, cli, make_cityscapes, make_coco, make_imagenet, make_mnist, make_voc

from corruptgen import metrics
from corruptgen.evaluate import Tree, evaluate
from corruptgen.evaluate.tasks.voc import class_ap


def write(path: Path, doc) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def coco_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    src = make_coco(root / "coco", n=3, distinct=True)
    cli("build", "coco", "--src", src, "--out", root / "coco-c", *FEW, "--image-format", "png", "--quiet", "--workers", "1")
    return src, root / "coco-c"


@pytest.fixture
def standin(monkeypatch, coco_tree):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setenv("STANDIN_GT", str(coco_tree[0] / "annotations" / "instances_val2017.json"))


# --- detection -------------------------------------------------------------------------------


def test_perfect_detector_scores_ap_100_in_every_cell(coco_tree, standin, tmp_path):
    _, tree = coco_tree
    runs = tmp_path / "runs"
    out = cli("detect", tree, "--model", "standin_models:oracle_detector", "--results", runs, "--quiet").output
    assert "7 cells run" in out
    assert sorted(p.relative_to(runs).as_posix() for p in runs.rglob("*.json")) == sorted(
        ["clean.json", "run.json"] + [f"{c}/{s}.json" for c, s in CELLS])
    result = cli("evaluate", tree, "--results", runs, "--out", tmp_path / "report")
    doc = json.loads((tmp_path / "report" / "results.json").read_text())
    assert doc["metric"] == "bbox AP" and doc["P"] == pytest.approx(100.0)
    assert doc["mPC"] == pytest.approx(100.0) and doc["rPC"] == pytest.approx(100.0)
    assert all(v == pytest.approx(100.0) for row in doc["cells"].values() for v in row.values())
    assert doc["additional"]["segm AP"]["mPC"] == pytest.approx(100.0)  # masks -> segm AP too
    assert not doc["partial"] and not doc["benchmark_grid"]
    assert "| fog | 100.0 | 100.0 | 100.0 |" in result.output and "not comparable" in result.output
    assert (tmp_path / "report" / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = (tmp_path / "report" / "table.csv").read_text().splitlines()[0]
    assert header == "corruption,1,3,mean"


def test_detections_perturbed_more_at_higher_severity_lose_ap(coco_tree, tmp_path):
    src, tree = coco_tree
    gt = json.loads((src / "annotations" / "instances_val2017.json").read_text())

    def shifted(dx):
        return [{"image_id": a["image_id"], "category_id": 1, "score": 1.0,
                 "bbox": [a["bbox"][0] + dx, a["bbox"][1], a["bbox"][2], a["bbox"][3]]} for a in gt["annotations"]]  # fmt: skip

    runs = tmp_path / "runs"
    write(runs / "clean.json", shifted(0))
    for c, s in CELLS:
        write(runs / c / f"{s}.json", shifted(3 * s))  # IoU 0.82 at severity 1, 0.54 at 3
    doc = evaluate(Tree.open(tree), runs, tmp_path / "report")
    for row in doc["cells"].values():
        assert 100.0 > row["1"] > row["3"] > 0.0
    expected = np.mean([v for row in doc["cells"].values() for v in row.values()])
    assert doc["P"] == pytest.approx(100.0) and doc["mPC"] == pytest.approx(expected) and doc["rPC"] == pytest.approx(expected)


def test_on_the_fly_pixels_equal_a_png_build(coco_tree, standin, tmp_path):
    src, tree = coco_tree
    built = Tree.open(tree)
    fly = Tree.plan("coco", src, None, 0, "imagenet", CELLS)
    samples = built.samples()
    for cell in CELLS:
        pairs = zip(built.images(cell, samples), fly.images(cell, samples), strict=True)
        for (_, a, _), (_, b, _) in pairs:
            assert a.dtype == np.uint8 and np.array_equal(a, b)
    # and through the CLI: a model whose output depends on every pixel writes identical results
    cli("detect", tree, "--model", "standin_models:brightness_detector", "--results", tmp_path / "built", "--quiet")
    cli("detect", "coco", "--on-the-fly", "--src", src, *FEW, "--model", "standin_models:brightness_detector",
        "--results", tmp_path / "fly", "--quiet")  # fmt: skip
    for c, s in CELLS:
        assert (tmp_path / "built" / c / f"{s}.json").read_bytes() == (tmp_path / "fly" / c / f"{s}.json").read_bytes()
    doc = json.loads(cli("evaluate", "--results", tmp_path / "fly").output and (tmp_path / "fly" / "results.json").read_text())
    assert doc["on_the_fly"] and set(doc["corruptions"]) == {"gaussian_noise", "glass_blur", "fog"}


def test_a_webdataset_tree_runs_and_scores_like_its_folder_tree(coco_tree, standin, tmp_path):
    src, tree = coco_tree
    shards = tmp_path / "shards"
    cli("build", "coco", "--src", src, "--out", shards, *FEW, "--image-format", "png", "--output-format", "webdataset",
        "--quiet", "--workers", "1")  # fmt: skip
    for where, runs in ((tree, tmp_path / "folder"), (shards, tmp_path / "tars")):
        cli("detect", where, "--model", "standin_models:brightness_detector", "--results", runs, "--quiet")
        cli("evaluate", where, "--results", runs, "--out", runs / "report")
    for c, s in CELLS:  # every pixel read from a tar member equals the folder build's
        assert (tmp_path / "folder" / c / f"{s}.json").read_bytes() == (tmp_path / "tars" / c / f"{s}.json").read_bytes()
    assert (tmp_path / "folder" / "report" / "table.csv").read_bytes() == (tmp_path / "tars" / "report" / "table.csv").read_bytes()


def test_runner_resumes_cell_by_cell(coco_tree, standin, tmp_path):
    _, tree = coco_tree
    runs = tmp_path / "runs"
    cli("detect", tree, "--model", "standin_models:brightness_detector", "--results", runs, "--quiet")
    stamps = {p: p.stat().st_mtime_ns for p in runs.rglob("*.json") if p.name != "run.json"}
    (runs / "fog" / "3.json").unlink()
    out = cli("detect", tree, "--model", "standin_models:brightness_detector", "--results", runs, "--quiet").output
    assert "1 cells run, 6 already" in out
    for path, stamp in stamps.items():
        if path.name != "3.json" or path.parent.name != "fog":
            assert path.stat().st_mtime_ns == stamp
    assert (runs / "fog" / "3.json").is_file()
    result = cli("detect", tree, "--model", "standin_models:brightness_detector", "--results", runs, "--limit", "1", expect=1)
    assert "--limit None" in result.output and "another --results" in result.output
    result = cli("detect", tree, "--model", "standin_models:oracle_detector", "--results", runs, expect=1)
    assert "holds results of --model standin_models:brightness_detector" in result.output


def test_limit_scores_only_the_first_images(coco_tree, standin, tmp_path):
    _, tree = coco_tree
    runs = tmp_path / "runs"
    cli("detect", tree, "--model", "standin_models:oracle_detector", "--results", runs, "--limit", "2", "--quiet")
    assert {d["image_id"] for d in json.loads((runs / "clean.json").read_text())} == {1, 2}
    doc = evaluate(Tree.open(tree), runs)
    assert doc["images"] == 2 and doc["P"] == pytest.approx(100.0)


def test_voc_ap_worked_by_hand():
    boxes = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    truth = {"a": (boxes, np.array([False, True])), "b": (np.array([[0, 0, 10, 10]], float), np.array([False]))}
    dets = [("a", 0.9, [0, 0, 10, 10]), ("a", 0.8, [20, 20, 30, 30]), ("b", 0.7, [50, 50, 60, 60]), ("b", 0.6, [1, 0, 10, 10])]
    # ranks: TP, (difficult: ignored), FP, TP -> recall .5 .5 .5 1, precision 1 1 .5 .667
    assert class_ap(truth, dets, eleven_point=True) == pytest.approx((6 * 1.0 + 5 * 2 / 3) / 11)
    assert class_ap(truth, dets, eleven_point=False) == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)
    assert class_ap({"a": (boxes[:1], np.array([True]))}, dets, True) is None  # only difficult objects: not counted


def test_voc_tree_perfect_and_missed(tmp_path):
    src = make_voc(tmp_path / "voc")
    tree = tmp_path / "voc-c"
    cli("build", "voc", "--src", src, "--out", tree, "--corruptions", "fog", "--severities", "2", "--quiet")
    perfect = [{"image_id": f"VOC2007/{i}", "category_id": 8, "score": 1.0, "bbox": [2, 3, 28, 17]} for i in ("000001", "000002")]
    write(tmp_path / "runs" / "clean.json", perfect)
    write(tmp_path / "runs" / "fog" / "2.json", perfect[:1])  # one of two cats found
    doc = evaluate(Tree.open(tree), tmp_path / "runs")
    assert doc["metric"] == "AP50" and doc["P"] == pytest.approx(100.0)
    assert doc["cells"]["fog"]["2"] == pytest.approx(100 * (6 + 0) / 11)  # recall reaches .5 only
    assert doc["additional"]["AP50 (area)"]["cells"]["fog"]["2"] == pytest.approx(50.0)


def test_cityscapes_instances_from_gtfine(tmp_path):
    from pycocotools import mask as mask_utils

    src = make_cityscapes(tmp_path / "cs")
    tree = tmp_path / "cs-c"
    cli("build", "cityscapes", "--src", src, "--out", tree, "--corruptions", "fog", "--severities", "2", "--quiet")
    rle = mask_utils.encode(np.asfortranarray(np.ones((32, 64), np.uint8)))
    rle = {"size": rle["size"], "counts": rle["counts"].decode()}
    car = [{"image_id": f"{c}_000000_{f:06d}", "category_id": 26, "score": 1.0, "bbox": [0, 0, 64, 32], "segmentation": rle}
           for c, f in (("frankfurt", 19), ("lindau", 42))]  # fmt: skip
    write(tmp_path / "runs" / "clean.json", car)
    write(tmp_path / "runs" / "fog" / "2.json", [dict(d, category_id=24) for d in car])  # right place, wrong class
    doc = evaluate(Tree.open(tree), tmp_path / "runs")
    assert doc["P"] == pytest.approx(100.0) and doc["additional"]["segm AP"]["P"] == pytest.approx(100.0)
    assert doc["cells"]["fog"]["2"] == 0.0 and doc["rPC"] == 0.0


# --- classification --------------------------------------------------------------------------


def test_mnist_classification_errors_by_hand(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    src = make_mnist(tmp_path / "mnist")
    tree = tmp_path / "mnist-c"
    cli("build", "mnist", "--src", src, "--out", tree, *FEW, "--split", "test", "--quiet")
    runs = tmp_path / "runs"
    cli("classify", tree, "--model", "standin_models:constant_classifier", "--results", runs, "--quiet")
    labels = np.load(tree / "fog" / "1" / "test_labels.npy")
    error = 100.0 * np.mean(labels != 0)
    predictions = json.loads((runs / "fog" / "3.json").read_text())["predictions"]
    assert predictions == {f"test/{i:05d}": 0 for i in range(5)}
    cli("evaluate", tree, "--results", runs)
    doc = json.loads((runs / "results.json").read_text())
    assert doc["normalisation"] == "unnormalised" and doc["clean_error"] == pytest.approx(error)
    assert doc["mCE"] == pytest.approx(error) and doc["relative_mCE"] == pytest.approx(0.0)
    assert doc["CE"] == {c: pytest.approx(error) for c in ("gaussian_noise", "glass_blur", "fog")}


def test_imagenet_errors_normalised_by_alexnet(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    src = make_imagenet(tmp_path / "imagenet")
    tree = tmp_path / "imagenet-c"
    cli("build", "imagenet", "--src", src, "--out", tree, *FEW, "--quiet")
    runs = tmp_path / "runs"
    cli("classify", tree, "--model", "standin_models:constant_classifier", "--results", runs, "--batch-size", "3", "--quiet")
    doc = evaluate(Tree.open(tree), runs)  # 2 of 4 images are class 0: 50% error everywhere
    assert doc["normalisation"] == "alexnet" and doc["clean_error"] == 50.0
    table = metrics.ALEXNET_ERRORS
    for c in ("gaussian_noise", "glass_blur", "fog"):
        assert doc["CE"][c] == pytest.approx(100 * (50 + 50) / (table[c][1] + table[c][3]))
        assert doc["relative_CE"][c] == pytest.approx(0.0)
    assert doc["mCE"] == pytest.approx(np.mean(list(doc["CE"].values())))
    # against another model's results instead: the same model gives CE 100
    assert evaluate(Tree.open(tree), runs, baseline=runs)["mCE"] == pytest.approx(100.0)


# --- bad input -------------------------------------------------------------------------------


def _perfect_runs(coco_tree, runs: Path) -> None:
    src, _ = coco_tree
    gt = json.loads((src / "annotations" / "instances_val2017.json").read_text())
    dets = [{"image_id": a["image_id"], "category_id": 1, "score": 1.0, "bbox": a["bbox"]} for a in gt["annotations"]]
    for cell in ["clean.json"] + [f"{c}/{s}.json" for c, s in CELLS]:
        write(runs / cell, dets)


@pytest.mark.parametrize("content, words", [
    ("{not json", "is not valid JSON"),
    ('{"a": 1}', "must hold a COCO results list"),
    ('[{"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]', "names image id 99"),
    ('[{"image_id": 1, "category_id": 0, "bbox": [0, 0, 1, 1], "score": 1}]', "names category id 0"),
    ('[{"image_id": 1, "category_id": 1, "bbox": [0, 0], "score": 1}]', "expected [x, y, width, height]"),
])  # fmt: skip
def test_bad_results_files_are_named_and_nothing_is_written(coco_tree, tmp_path, content, words):
    _, tree = coco_tree
    runs = tmp_path / "runs"
    _perfect_runs(coco_tree, runs)
    (runs / "fog" / "3.json").write_text(content)
    result = cli("evaluate", tree, "--results", runs, expect=1)
    assert words in result.output and "fog/3.json" in result.output and "Traceback" not in result.output
    assert not (runs / "results.json").exists()


def test_coco_categories_the_ground_truth_does_not_list_are_left_out_as_cocoeval_does(coco_tree, tmp_path):
    _, tree = coco_tree
    perfect, extra = tmp_path / "perfect", tmp_path / "extra"
    _perfect_runs(coco_tree, perfect)
    _perfect_runs(coco_tree, extra)
    for cell in extra.rglob("*.json"):  # a COCO detector also sees a train (7), which this subset's GT does not list
        dets = json.loads(cell.read_text())
        cell.write_text(json.dumps(dets + [{**dets[0], "category_id": 7, "score": 0.99}]))
    cli("evaluate", tree, "--results", perfect)
    cli("evaluate", tree, "--results", extra)
    read = lambda folder: json.loads((folder / "results.json").read_text())  # noqa: E731
    assert read(extra)["P"] == read(perfect)["P"] and read(extra)["mPC"] == read(perfect)["mPC"]


def test_missing_cell_unless_partial(coco_tree, tmp_path):
    _, tree = coco_tree
    runs = tmp_path / "runs"
    _perfect_runs(coco_tree, runs)
    (runs / "glass_blur" / "1.json").unlink()
    result = cli("evaluate", tree, "--results", runs, expect=1)
    assert "glass_blur/1.json is missing" in result.output and "--partial" in result.output
    assert not (runs / "results.json").exists()
    result = cli("evaluate", tree, "--results", runs, "--partial")
    doc = json.loads((runs / "results.json").read_text())
    assert doc["partial"] and doc["missing_cells"] == ["glass_blur/1"] and "PARTIAL" in result.output
    assert doc["mPC"] == pytest.approx(100.0)


def test_bad_trees_and_models(coco_tree, standin, tmp_path):
    _, tree = coco_tree
    runs = tmp_path / "runs"
    assert "holds no corruptgen.json" in cli("evaluate", tmp_path, "--results", tmp_path, expect=1).output
    assert "holds no corruptgen.json" in cli("detect", tmp_path, "--model", "m:f", "--results", runs, expect=1).output
    cases = {
        "nosuchmodule:load": "module 'nosuchmodule' cannot be imported",
        "standin_models": "must be MODULE:FACTORY",
        "standin_models:missing": "has no attribute 'missing'",
        "standin_models:NOT_CALLABLE": "is not callable",
        "standin_models:wrong_shapes": "returned boxes (1, 3)",
        "standin_models:wrong_count": "returned int; a detector returns per image a mapping",
    }
    for model, words in cases.items():
        result = cli("detect", tree, "--model", model, "--results", runs, "--quiet", expect=1)
        assert words in result.output and "Traceback" not in result.output, model
    assert not list(runs.rglob("clean.json"))  # a failed cell leaves no results file
    result = cli("classify", tree, "--model", "standin_models:constant_classifier", "--results", runs, expect=1)
    assert "coco is a detection dataset; use corruptgen detect" in result.output
    result = cli("detect", "imagenet-c", "--on-the-fly", "--model", "m:f", "--results", runs, expect=2)
    assert "TARGET is a dataset kind" in result.output
    result = cli("detect", "coco", "--on-the-fly", "--profile", "cifar", "--corruptions", "elastic_transform",
                 "--model", "standin_models:oracle_detector", "--results", runs, expect=1)  # fmt: skip
    assert "elastic_transform moves image content under profile 'cifar'" in result.output


def test_moved_source_is_named(coco_tree, tmp_path):
    src, tree = coco_tree
    state = json.loads((tree / "corruptgen.json").read_text())
    copy = tmp_path / "tree"
    copy.mkdir()
    state["identity"]["source"] = str(tmp_path / "gone")
    (copy / "corruptgen.json").write_text(json.dumps(state))
    _perfect_runs(coco_tree, tmp_path / "runs")
    result = cli("evaluate", copy, "--results", tmp_path / "runs", expect=1)
    assert "does not exist; pass --src" in result.output
    cli("evaluate", copy, "--results", tmp_path / "runs", "--src", src)
    assert os.path.isfile(tmp_path / "runs" / "results.json")


# --- the face-detection example, end to end on two images ---------------------------------------


def test_faces_example_detects_real_faces_and_scores_them(tmp_path, monkeypatch):
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)  # --model examples.faces.detector:load is importable from the repository root
    import subprocess
    import sys

    subprocess.run([sys.executable, "examples/faces/make_coco.py", "--out", str(tmp_path / "faces"), "--images", "2"], check=True)
    doc = json.loads((tmp_path / "faces" / "annotations" / "instances_val.json").read_text())
    assert len(doc["images"]) == 2 and len(doc["annotations"]) == 6
    cli("build", "coco", "--src", tmp_path / "faces", "--split", "val", "--out", tmp_path / "faces-c",
        "--corruptions", "defocus_blur", "--severities", "5", "--quiet")  # fmt: skip
    cli("detect", tmp_path / "faces-c", "--model", "examples.faces.detector:load", "--results", tmp_path / "runs", "--quiet")
    report = evaluate(Tree.open(tmp_path / "faces-c"), tmp_path / "runs")
    assert report["P"] > 30.0  # the cascade finds the pasted LFW faces on clean images
    assert report["cells"]["defocus_blur"]["5"] < report["P"]


def test_cityscapes_semantic_segmentation_through_cityscapesscripts(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    src = make_cityscapes(tmp_path / "cs")
    for labels in src.rglob("*_gtFine_labelIds.png"):  # road above the middle, one car below
        ids = np.full((32, 64), 7, np.uint8)
        ids[16:] = 26
        Image.fromarray(ids).save(labels)
        instances = ids.astype(np.uint16)
        instances[16:] = 26001
        Image.fromarray(instances).save(str(labels).replace("labelIds", "instanceIds"))
    tree = tmp_path / "cs-c"
    cli("build", "cityscapes", "--src", src, "--out", tree, "--corruptions", "fog", "--severities", "2,5", "--quiet")
    runs = tmp_path / "runs"
    cli("segment", tree, "--model", "standin_models:halves_segmenter", "--results", runs, "--quiet")
    clean = json.loads((runs / "clean.json").read_text())["segmentation"]
    assert clean["leftImg8bit/val/lindau/lindau_000000_000042_leftImg8bit.png"] == "clean/lindau_000000_000042_labelIds.png"
    assert (runs / "fog" / "5" / "lindau_000000_000042_labelIds.png").is_file()
    # a model that sees only road at fog 5: road IoU 0.5, car IoU 0 -> mIoU 25
    for path in (runs / "fog" / "5").glob("*.png"):
        Image.fromarray(np.full((32, 64), 7, np.uint8)).save(path)
    doc = json.loads(cli("evaluate", tree, "--results", runs).output and (runs / "results.json").read_text())
    assert doc["task"] == "segmentation" and doc["metric"] == "mIoU"
    assert doc["P"] == pytest.approx(100.0) and doc["cells"]["fog"]["2"] == pytest.approx(100.0)
    assert doc["cells"]["fog"]["5"] == pytest.approx(25.0)
    assert doc["additional"]["iIoU"]["cells"]["fog"]["5"] == pytest.approx(0.0)
    assert doc["mPC"] == pytest.approx(62.5) and doc["rPC"] == pytest.approx(62.5)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(runs / "fog" / "5" / "lindau_000000_000042_labelIds.png")
    result = cli("evaluate", tree, "--results", runs, expect=1)
    assert "expected a single-channel label map of size (64, 32)" in result.output


def test_bad_classification_results(tmp_path):
    src = make_imagenet(tmp_path / "imagenet")
    tree = tmp_path / "imagenet-c"
    cli("build", "imagenet", "--src", src, "--out", tree, "--corruptions", "fog", "--severities", "1", "--quiet")
    keys = sorted(p.relative_to(src / "val").as_posix() for p in (src / "val").rglob("*.JPEG"))
    runs = tmp_path / "runs"
    write(runs / "clean.json", {"predictions": dict.fromkeys(keys, 0)})
    for payload, words in (({"predictions": dict.fromkeys(keys[1:], 0)}, f"has no class index for {keys[0]!r}"),
                           ({"predictions": {**dict.fromkeys(keys, 0), keys[2]: "cat"}}, "expected a class index (int)"),
                           ({"predictions": {**dict.fromkeys(keys, 0), "n0/x.JPEG": 1}}, "'n0/x.JPEG', which is not an image"),
                           ([0, 1], 'must hold {"predictions": {key: class index}}')):  # fmt: skip
        write(runs / "fog" / "1.json", payload)
        result = cli("evaluate", tree, "--results", runs, expect=1)
        assert words in result.output and "fog/1.json" in result.output, words
