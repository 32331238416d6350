"""ImageNet in every form people hold it builds the same ImageNet-C tree."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures import IMAGENET_WNIDS, make_imagenet_forms

from corruptgen.cli import main

FEW = ["--corruptions", "gaussian_noise,fog", "--severities", "2", "--workers", "1", "--quiet"]


def build(*args, expect=0):
    result = CliRunner().invoke(main, ["build", "imagenet", *map(str, args)])
    assert result.exit_code == expect, result.output + repr(result.exception)
    return result


def trees(out: Path) -> dict[str, bytes]:
    """The corrupted images and their folders (manifests name their sources, which differ by form)."""
    found = {p.relative_to(out).as_posix(): (p.read_bytes() if p.is_file() else b"dir")
             for p in sorted(out.glob("*/*/**/*")) if "manifests" not in p.parts}  # fmt: skip
    assert found
    return found


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    return make_imagenet_forms(tmp_path_factory.mktemp("imagenet"))


@pytest.fixture(scope="module")
def reference_tree(forms, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "imagenet-c"
    build("--src", forms["folders"], "--out", out, *FEW)
    return trees(out)


@pytest.mark.parametrize("src, labels", [
    ("flat", "devkit"), ("flat", "devkit_tgz"), ("flat", "csv"), ("tar", "devkit_tgz"), ("tar", "csv"),
])  # fmt: skip
def test_every_form_builds_the_same_tree(forms, reference_tree, tmp_path, src, labels):
    out = tmp_path / "imagenet-c"
    build("--src", forms[src], "--labels", forms[labels], "--out", out, *FEW)
    assert trees(out) == reference_tree
    assert sorted(p.name for p in (out / "fog" / "2").iterdir()) == list(IMAGENET_WNIDS)


def test_flat_folder_beside_empty_folders_is_still_flat(forms, reference_tree, tmp_path):
    import shutil

    src = tmp_path / "flat"
    shutil.copytree(forms["flat"], src)
    (src / "val" / "scratch").mkdir()  # an empty folder is not a class
    out = tmp_path / "imagenet-c"
    build("--src", src, "--labels", forms["csv"], "--out", out, *FEW)
    assert trees(out) == reference_tree


def test_training_archive_of_inner_tars(forms, reference_tree, tmp_path):
    out = tmp_path / "imagenet-c"
    build("--src", forms["train_tar"], "--split", "train", "--out", out, *FEW)
    assert trees(out) == reference_tree  # same images, same classes: the same outputs


def test_archive_is_never_unpacked_and_its_index_is_kept(forms, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the archive must be read in place, not extracted")

    monkeypatch.setattr(tarfile.TarFile, "extract", refuse)
    monkeypatch.setattr(tarfile.TarFile, "extractall", refuse)
    before = {p for p in tmp_path.parent.rglob("*") if p.suffix == ".JPEG"}
    out = tmp_path / "imagenet-c"
    build("--src", forms["tar"], "--labels", forms["csv"], "--out", out, *FEW, "--limit", "3")
    assert (out / "source-index.json").is_file()
    written = {p for p in tmp_path.parent.rglob("*") if p.suffix == ".JPEG"} - before
    assert written and all(out in p.parents for p in written)  # only outputs, nothing unpacked
    import corruptgen.datasets.imagenet as imagenet

    monkeypatch.setattr(imagenet, "index_archive", refuse)  # a rerun reads the kept index
    build("--src", forms["tar"], "--labels", forms["csv"], "--out", out, *FEW)
    assert len(list((out / "fog" / "2").rglob("*.JPEG"))) == 6


def test_flat_sources_without_labels_are_refused(forms, tmp_path):
    for src in (forms["flat"], forms["tar"]):
        result = build("--src", src, "--out", tmp_path / "x", expect=1)
        assert "without class folders" in result.output and "ILSVRC2012_devkit_t12.tar.gz" in result.output
        assert "LOC_val_solution.csv" in result.output and "Traceback" not in result.output
        assert not (tmp_path / "x").exists()


def test_bad_label_sources(forms, tmp_path):
    bad_csv = tmp_path / "labels.csv"
    bad_csv.write_text("a,b\n1,2\n")
    result = build("--src", forms["flat"], "--labels", bad_csv, "--out", tmp_path / "x", expect=1)
    assert "holds no ImageId,PredictionString rows" in result.output
    folder = tmp_path / "devkit"
    folder.mkdir()
    result = build("--src", forms["flat"], "--labels", folder, "--out", tmp_path / "x", expect=1)
    assert "without data/meta.mat" in result.output
    result = CliRunner().invoke(main, ["build", "coco", "--labels", str(bad_csv), "--out", str(tmp_path / "y")])
    assert result.exit_code == 2 and "--labels is for imagenet" in result.output


def test_nothing_found_names_the_layout_and_out_errors(tmp_path):
    empty = tmp_path / "empty" / "val"
    empty.mkdir(parents=True)
    result = build("--src", tmp_path / "empty", "--out", tmp_path / "x", expect=1)
    assert "no images found for imagenet" in result.output and "class folders val/<wnid>/*.JPEG" in result.output
    result = CliRunner().invoke(main, ["build", "mnist", "--src", str(tmp_path / "empty"), "--out", str(tmp_path / "y")])
    assert result.exit_code == 1 and "t10k-images-idx3-ubyte" in result.output
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    from fixtures import make_folder

    src = make_folder(tmp_path / "photos")
    result = CliRunner().invoke(main, ["build", "folder", "--src", str(src), "--out", str(blocker / "out"), "--quiet",
                                       "--corruptions", "fog", "--severities", "1"])  # fmt: skip
    assert result.exit_code == 1 and f"--out {blocker / 'out'} cannot be created" in result.output


def test_classify_and_evaluate_a_tree_built_from_the_archive(forms, tmp_path, monkeypatch):
    import json

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    out = tmp_path / "imagenet-c"
    build("--src", forms["tar"], "--labels", forms["devkit_tgz"], "--out", out, *FEW)
    runner = CliRunner()
    result = runner.invoke(main, ["classify", str(out), "--model", "standin_models:constant_classifier",
                                  "--results", str(tmp_path / "runs"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["evaluate", str(out), "--results", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "runs" / "results.json").read_text())
    assert doc["clean_error"] == pytest.approx(100 * 4 / 6)  # class 0 holds 2 of the 6 images
