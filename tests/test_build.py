"""``corruptgen build`` and ``verify``: layouts checked by real consumers, determinism, resume, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fixtures import make_cityscapes, make_coco, make_folder, make_imagenet, make_mnist, make_voc, tree_digest
from PIL import Image

from corruptgen.cli import main

FEW = ["--corruptions", "gaussian_noise,glass_blur,fog", "--severities", "1,3"]


def build(*args, expect=0):
    result = CliRunner().invoke(main, ["build", *map(str, args)])
    assert result.exit_code == expect, result.output + str(result.exception)
    return result


def verify_ok(out: Path):
    result = CliRunner().invoke(main, ["verify", str(out)])
    assert result.exit_code == 0, result.output
    return result


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for p in sorted((out / "manifests").rglob("shard-*.jsonl")) for line in p.read_text().splitlines()]


# --- the bundled sample: the README's main command --------------------------------------------


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundled") / "coco-c"
    result = build("coco", "--out", out, "--quiet")
    return out, result


def test_bundled_sample_builds_all_benchmark_outputs(bundled):
    out, _ = bundled
    state = json.loads((out / "corruptgen.json").read_text())
    assert state["status"] == "complete"
    assert state["counts"] == {"samples": 4, "outputs": 300, "ok": 300, "failed": 0, "missing": 0}
    assert len(list(out.glob("*/*/sample/*.png"))) == 300
    verify_ok(out)


def test_bundled_annotations_load_in_pycocotools_with_ap_1(bundled):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    out, _ = bundled
    gt = COCO(str(out / "annotations" / "instances_sample.json"))
    for info in gt.loadImgs(gt.getImgIds()):
        with Image.open(out / "fog" / "5" / "sample" / info["file_name"]) as img:
            assert img.size == (info["width"], info["height"])
    dets = [{**a, "score": 1.0} for a in gt.loadAnns(gt.getAnnIds())]
    for kind in ("bbox", "segm"):
        ev = COCOeval(gt, gt.loadRes(dets), kind)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        assert ev.stats[0] == pytest.approx(1.0)


def test_announces_bundled_sample(tmp_path):
    result = build("coco", "--out", tmp_path / "x", "--corruptions", "contrast", "--severities", "1")
    assert "bundled COCO sample" in result.output


# --- each dataset layout, checked by its consumer --------------------------------------------


def test_coco_layout_and_annotations_carried_byte_for_byte(tmp_path):
    src = make_coco(tmp_path / "coco")
    out = tmp_path / "coco-c"
    build("coco", "--src", src, "--out", out, *FEW, "--workers", "1")
    assert (out / "annotations" / "instances_val2017.json").read_bytes() == (src / "annotations" / "instances_val2017.json").read_bytes()
    for c in ("gaussian_noise", "glass_blur", "fog"):
        for s in (1, 3):
            names = sorted(p.name for p in (out / c / str(s) / "val2017").iterdir())
            assert names == sorted(p.name for p in (src / "val2017").iterdir())
    verify_ok(out)


def test_coco_png_format_rewrites_file_names(tmp_path):
    src = make_coco(tmp_path / "coco")
    out = tmp_path / "coco-c"
    build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "2", "--image-format", "png")
    doc = json.loads((out / "annotations" / "instances_val2017.json").read_text())
    assert all(img["file_name"].endswith(".png") for img in doc["images"])
    assert all((out / "fog" / "2" / "val2017" / img["file_name"]).is_file() for img in doc["images"])


def test_imagenet_tree_preprocessed_with_every_class(tmp_path):
    src = make_imagenet(tmp_path / "imagenet")
    out = tmp_path / "imagenet-c"
    build("imagenet", "--src", src, "--out", out, *FEW)
    classes = sorted(p.name for p in (src / "val").iterdir())
    for c in ("gaussian_noise", "fog"):
        for s in (1, 3):
            tree = out / c / str(s)
            assert sorted(p.name for p in tree.iterdir() if p.is_dir()) == classes  # ImageFolder class order
            for path in tree.glob("*/*.JPEG"):
                with Image.open(path) as img:
                    assert img.format == "JPEG" and img.size == (224, 224)
    verify_ok(out)


def test_imagenet_without_preprocessing_keeps_sizes(tmp_path):
    src = make_imagenet(tmp_path / "imagenet")
    out = tmp_path / "imagenet-c"
    build("imagenet", "--src", src, "--out", out, "--corruptions", "contrast", "--severities", "1", "--no-imagenet-c-preprocessing")
    with Image.open(next(out.glob("contrast/1/*/*.JPEG"))) as img:
        assert img.size == (80, 60)


def test_voc_trees_complete_with_hard_linked_annotations(tmp_path):
    src = make_voc(tmp_path / "voc")
    out = tmp_path / "voc-c"
    build("voc", "--src", src, "--out", out, *FEW)
    year = src / "VOC2007"
    for c, s in (("fog", 1), ("glass_blur", 3)):
        tree = out / c / str(s) / "VOCdevkit" / "VOC2007"
        assert sorted(p.name for p in (tree / "JPEGImages").iterdir()) == ["000001.jpg", "000002.jpg"]
        assert (tree / "ImageSets" / "Main" / "test.txt").read_bytes() == (year / "ImageSets" / "Main" / "test.txt").read_bytes()
        for ident in ("000001", "000002"):
            root = ET.parse(tree / "Annotations" / f"{ident}.xml").getroot()
            assert root.find("filename").text == f"{ident}.jpg"
            assert (tree / "Annotations" / f"{ident}.xml").stat().st_ino == (year / "Annotations" / f"{ident}.xml").stat().st_ino
            with Image.open(tree / "SegmentationClass" / f"{ident}.png") as seg:
                assert seg.mode == "P"
    verify_ok(out)


def test_cityscapes_names_and_gt_untouched(tmp_path):
    src = make_cityscapes(tmp_path / "cityscapes")
    out = tmp_path / "cityscapes-c"
    build("cityscapes", "--src", src, "--out", out, *FEW)
    tree = out / "fog" / "3"
    names = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*_leftImg8bit.png"))
    assert names == sorted(p.relative_to(src).as_posix() for p in src.rglob("*_leftImg8bit.png"))
    for gt in src.rglob("gtFine/**/*.*"):
        assert (tree / gt.relative_to(src)).read_bytes() == gt.read_bytes()
    with Image.open(tree / "gtFine/val/frankfurt/frankfurt_000000_000019_gtFine_instanceIds.png") as inst:
        assert np.asarray(inst).max() == 26001
    with Image.open(tree / "leftImg8bit/val/lindau/lindau_000000_000042_leftImg8bit.png") as img:
        assert img.format == "PNG" and img.size == (64, 32)
    verify_ok(out)


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_arrays(tmp_path, gz):
    src = make_mnist(tmp_path / "mnist", gz=gz)
    out = tmp_path / "mnist-c"
    build("mnist", "--src", src, "--out", out, *FEW, "--shard-size", "3")
    for c in ("gaussian_noise", "glass_blur", "fog"):
        tree = out / c / "3"
        train, test = np.load(tree / "train_images.npy"), np.load(tree / "test_images.npy")
        assert train.shape == (7, 28, 28, 1) and test.shape == (5, 28, 28, 1) and train.dtype == np.uint8
        labels = np.load(tree / "train_labels.npy")
        assert labels.shape == (7,) and labels.dtype == np.uint8
        assert train.std() > 0
    verify_ok(out)


def test_mnist_png_folders(tmp_path):
    src = make_mnist(tmp_path / "mnist")
    out = tmp_path / "mnist-c"
    build("mnist", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1", "--image-format", "png", "--split", "test")
    pngs = sorted((out / "fog" / "1" / "test").glob("*.png"))
    assert len(pngs) == 5 and (out / "fog" / "1" / "test_labels.npy").is_file()
    with Image.open(pngs[0]) as img:
        assert img.mode == "L" and img.size == (28, 28)


def test_folder_mirrored(tmp_path):
    src = make_folder(tmp_path / "photos")
    out = tmp_path / "photos-c"
    build("folder", "--src", src, "--out", out, "--corruptions", "snow", "--severities", "2")
    tree = out / "snow" / "2"
    assert sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()) == ["a/b/two.jpg", "a/one.png", "gray.png"]
    with Image.open(tree / "gray.png") as img:
        assert img.mode == "L"


# --- reproducibility and resume ---------------------------------------------------------------


def test_bytes_identical_whatever_workers_and_shard_size(tmp_path):
    src = make_coco(tmp_path / "coco", n=5)
    a, b = tmp_path / "a", tmp_path / "b"
    build("coco", "--src", src, "--out", a, *FEW, "--workers", "1", "--shard-size", "1")
    build("coco", "--src", src, "--out", b, *FEW, "--workers", "2", "--shard-size", "2")
    da, db = tree_digest(a), tree_digest(b)
    images = lambda d: {k: v for k, v in d.items() if not k.startswith("manifests/")}  # noqa: E731
    assert images(da) == images(db)
    assert [json.dumps(r) for r in rows(a)] == [json.dumps(r) for r in rows(b)]  # manifests in shard order
    combined = lambda d: {k: v for k, v in d.items() if k.startswith("manifests/") and "shard-" not in k}  # noqa: E731
    assert combined(da) == combined(db) and len(combined(da)) == 6  # one per corruption/severity, same bytes


def test_seed_changes_bytes(tmp_path):
    src = make_coco(tmp_path / "coco")
    build("coco", "--src", src, "--out", tmp_path / "a", "--corruptions", "fog", "--severities", "1", "--seed", "1")
    build("coco", "--src", src, "--out", tmp_path / "b", "--corruptions", "fog", "--severities", "1", "--seed", "2")
    assert tree_digest(tmp_path / "a" / "fog") != tree_digest(tmp_path / "b" / "fog")


def test_rerun_adds_only_new_outputs(tmp_path):
    src = make_coco(tmp_path / "coco")
    out = tmp_path / "out"
    build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1")
    first = (out / "fog" / "1" / "val2017" / "000000000001.jpg").stat().st_mtime_ns
    result = build("coco", "--src", src, "--out", out, "--corruptions", "fog,snow", "--severities", "1")
    assert "3 outputs written, 3 already built" in result.output
    assert (out / "fog" / "1" / "val2017" / "000000000001.jpg").stat().st_mtime_ns == first
    assert json.loads((out / "corruptgen.json").read_text())["built"] == [["snow", 1], ["fog", 1]]
    verify_ok(out)


@pytest.mark.parametrize("option, value", [("--seed", "5"), ("--profile", "cifar")])
def test_conflicting_rerun_refused_unless_overwrite(tmp_path, option, value):
    src = make_coco(tmp_path / "coco")
    out = tmp_path / "out"
    build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1")
    result = build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1", option, value, expect=1)
    assert "--overwrite" in result.output and "different" in result.output
    build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1", option, value, "--overwrite")
    verify_ok(out)


def test_rerun_of_a_build_by_a_release_with_other_bytes_refused_unless_overwrite(tmp_path):
    src = make_coco(tmp_path / "coco")
    out = tmp_path / "out"
    build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1")
    state_path = out / "corruptgen.json"
    state = json.loads(state_path.read_text())
    state_path.write_text(json.dumps({**state, "corruptgen_version": "0.3.1"}))
    before = tree_digest(out)
    result = build("coco", "--src", src, "--out", out, "--corruptions", "fog,snow", "--severities", "1", expect=1)
    assert "was built by corruptgen 0.3.1" in result.output and "--overwrite" in result.output
    assert "Traceback" not in result.output
    assert tree_digest(out) == before  # nothing written, nothing lost
    state_path.write_text(json.dumps({**state, "corruptgen_version": state["corruptgen_version"].rsplit(".", 1)[0] + ".99"}))
    build("coco", "--src", src, "--out", out, "--corruptions", "fog,snow", "--severities", "1")  # same bytes: resumes
    build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1", "--overwrite")
    verify_ok(out)


def test_killed_build_resumes_to_identical_bytes(tmp_path):
    src = make_coco(tmp_path / "coco", n=8, size=(240, 320))
    args = ["coco", "--src", str(src), "--corruptions", "glass_blur,zoom_blur,elastic_transform", "--severities", "1-5",
            "--shard-size", "1", "--workers", "1", "--quiet"]  # fmt: skip
    reference = tmp_path / "reference"
    build(*args, "--out", reference)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "corruptgen", "build", *args, "--out", str(out)], cwd=tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.glob("manifests/*/*/*.jsonl"))) < 3:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < len(list(out.glob("manifests/*/*/*.jsonl"))) < 8 * 15, "the build was not interrupted mid-way"
    build(*args, "--out", out)
    assert tree_digest(out) == tree_digest(reference)
    verify_ok(out)


# --- bad input never loses work ------------------------------------------------------------------


@pytest.fixture
def bad_coco(tmp_path):
    src = make_coco(tmp_path / "coco", n=2)
    split = src / "val2017"
    (split / "truncated.jpg").write_bytes((split / "000000000001.jpg").read_bytes()[:300])
    (split / "empty.jpg").write_bytes(b"")
    (split / "text.jpg").write_text("hello")
    Image.new("CMYK", (20, 10), (10, 20, 30, 40)).save(split / "cmyk.jpg")
    Image.fromarray(np.full((10, 20), 40000, np.uint16)).save(split / "deep.png")
    Image.new("P", (20, 10), 3).save(split / "palette.png")
    Image.new("LA", (20, 10), (100, 255)).save(split / "la.png")
    doc_path = src / "annotations" / "instances_val2017.json"
    doc = json.loads(doc_path.read_text())
    for i, name in enumerate(["truncated.jpg", "empty.jpg", "text.jpg", "cmyk.jpg", "deep.png", "palette.png",
                              "la.png", "../../escape.jpg", "missing.jpg"], start=10):  # fmt: skip
        doc["images"].append({"id": i, "file_name": name, "width": 20, "height": 10})
    doc["annotations"].append({"id": 99, "image_id": 12345, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0})
    doc_path.write_text(json.dumps(doc))
    (tmp_path / "escape.jpg").write_bytes((split / "000000000001.jpg").read_bytes())
    return src


def test_bad_images_become_error_rows_and_the_rest_is_built(tmp_path, bad_coco):
    out = tmp_path / "out"
    result = build("coco", "--src", bad_coco, "--out", out, "--corruptions", "fog", "--severities", "1", expect=1)
    text = result.output
    for name, words in [("truncated.jpg", "damaged"), ("empty.jpg", "empty"), ("text.jpg", "not a recognised image"),
                        ("../../escape.jpg", "points outside --src"), ("missing.jpg", "not found")]:  # fmt: skip
        assert name in text and words in text, (name, text)
    assert "refer to no listed image" in text
    by_key = {r["key"]: r for r in rows(out)}
    assert {k for k, r in by_key.items() if r["status"] == "ok"} == {
        "000000000001.jpg", "000000000002.jpg", "cmyk.jpg", "deep.png", "palette.png", "la.png"}
    assert "converted CMYK" in by_key["cmyk.jpg"]["note"] and "16-bit" in by_key["deep.png"]["note"]
    assert not (tmp_path / "fog").exists() and not (out.parent / "escape.jpg").with_name("fog").exists()
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
    verify_ok(out)  # the failures are recorded, and everything recorded as written is there


def test_on_error_fail_stops_at_first_error(tmp_path, bad_coco):
    result = build("coco", "--src", bad_coco, "--out", tmp_path / "out", "--corruptions", "fog", "--severities", "1",
                   "--on-error", "fail", "--workers", "1", expect=1)  # fmt: skip
    assert "stopped at the first error" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("content, words", [("{not json", "is not valid JSON"), ('{"foo": 1}', "no 'images' list")])
def test_malformed_annotation_file(tmp_path, content, words):
    src = make_coco(tmp_path / "coco")
    (src / "annotations" / "instances_val2017.json").write_text(content)
    result = build("coco", "--src", src, "--out", tmp_path / "out", expect=1)
    assert words in result.output and "instances_val2017.json" in result.output


def test_missing_split_and_out_inside_src(tmp_path):
    src = make_coco(tmp_path / "coco")
    result = build("coco", "--src", src, "--out", tmp_path / "out", "--split", "train2017", expect=1)
    assert "instances_train2017.json not found" in result.output
    result = build("coco", "--src", src, "--out", src / "coco-c", expect=1)
    assert "inside --src" in result.output and not (src / "coco-c").exists()
    result = build("coco", "--src", src, "--out", src, expect=1)
    assert "inside --src" in result.output
    result = build("imagenet", "--out", tmp_path / "x", expect=2)
    assert "--src is required for imagenet" in result.output


def test_foreign_non_empty_out_refused(tmp_path):
    src = make_coco(tmp_path / "coco")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    result = build("coco", "--src", src, "--out", out, "--overwrite", expect=1)
    assert "not empty" in result.output and (out / "keep.txt").read_text() == "precious"


# --- verify, progress --------------------------------------------------------------------------


def test_verify_reports_tampering_and_missing_shards(tmp_path):
    src = make_coco(tmp_path / "coco")
    out = tmp_path / "out"
    build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1,2", "--shard-size", "2")
    (out / "fog" / "1" / "val2017" / "000000000002.jpg").write_bytes(b"tampered")
    (out / "manifests" / "fog" / "2" / "shard-00001.jsonl").unlink()
    result = CliRunner().invoke(main, ["verify", str(out)])
    assert result.exit_code == 1
    assert "000000000002.jpg does not match its sha256" in result.output
    assert "shard-00001.jsonl is missing" in result.output
    assert CliRunner().invoke(main, ["verify", str(tmp_path)]).exit_code == 1


def test_progress_lines_off_terminal_and_quiet(tmp_path):
    src = make_coco(tmp_path / "coco", n=4)
    result = build("coco", "--src", src, "--out", tmp_path / "a", "--corruptions", "fog", "--severities", "1",
                   "--shard-size", "2", "--workers", "1")  # fmt: skip
    assert result.output.count("shard 0000") == 2 and "images/s" in result.output and "4 outputs written" in result.output
    result = build("coco", "--src", src, "--out", tmp_path / "b", "--corruptions", "fog", "--severities", "1", "--quiet")
    assert result.output == ""


def test_bad_cli_values(tmp_path):
    result = build("coco", "--out", tmp_path / "x", "--corruptions", "fogg", expect=2)
    assert "unknown corruption 'fogg'" in result.output
    result = build("coco", "--out", tmp_path / "x", "--severities", "0-6", expect=2)
    assert "severities must lie in 1-5" in result.output


def test_python_dash_m_entry_point_runs(tmp_path):
    done = subprocess.run([sys.executable, "-m", "corruptgen", "--version"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "corruptgen, version" in done.stdout


def test_dask_cluster_gives_identical_bytes(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra is part of the test extras")
    src = make_coco(tmp_path / "coco", n=4)
    local = tmp_path / "local"
    build("coco", "--src", src, "--out", local, *FEW, "--workers", "1", "--shard-size", "1")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:  # fmt: skip
        remote = tmp_path / "dask"
        build("coco", "--src", src, "--out", remote, *FEW, "--dask", cluster.scheduler_address, "--shard-size", "2")
    assert {k: v for k, v in tree_digest(remote).items() if not k.startswith("manifests/")} == \
        {k: v for k, v in tree_digest(local).items() if not k.startswith("manifests/")}  # fmt: skip
    assert [json.dumps(r) for r in rows(remote)] == [json.dumps(r) for r in rows(local)]
    verify_ok(remote)


def test_limit_and_family(tmp_path):
    src = make_coco(tmp_path / "coco", n=4)
    out = tmp_path / "out"
    build("coco", "--src", src, "--out", out, "--limit", "2", "--family", "noise", "--severities", "2")
    state = json.loads((out / "corruptgen.json").read_text())
    assert state["counts"]["samples"] == 2
    assert sorted({c for c, _ in state["built"]}) == ["gaussian_noise", "impulse_noise", "shot_noise"]


def test_rerun_after_a_limited_run_completes_the_shard(tmp_path):
    src = make_coco(tmp_path / "coco", n=3)
    out = tmp_path / "out"
    build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1", "--limit", "1")
    result = build("coco", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1")
    assert "3 outputs written" in result.output
    assert len(list((out / "fog" / "1" / "val2017").glob("*.jpg"))) == 3
    verify_ok(out)
