"""CIFAR-10-C and CIFAR-100-C in their release layout: the source read as torchvision reads it, the
arrays as ``make_cifar_c.py`` lays them out, read back by RobustBench's own loaders (no network), and
RobustBench's ImageNet-C subset through ``--keys``."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from fixtures import cli, make_cifar, photo, tree_digest
from PIL import Image

from corruptgen.corruptions import IMAGECORRUPTIONS
from corruptgen.datasets import make_adapter
from corruptgen.pipeline.recipe import corrupt_sample


def torchvision_cifar(root: Path, kind: str, train: bool):
    """torchvision's CIFAR10 / CIFAR100 over ``root`` (its md5 check of the real release's files skipped)."""
    cifar = pytest.importorskip("torchvision.datasets.cifar")
    original = cifar.check_integrity
    cifar.check_integrity = lambda *args, **kwargs: True
    try:
        return (cifar.CIFAR10 if kind == "cifar10" else cifar.CIFAR100)(str(root), train=train, download=False)
    finally:
        cifar.check_integrity = original


@pytest.fixture
def robustbench(monkeypatch):
    """RobustBench 1.1.1 as installed from the index: its ``autoattack`` is shipped as ``pyautoattack``;
    any download it would attempt fails the test."""
    monkeypatch.setitem(sys.modules, "autoattack", importlib.import_module("pyautoattack"))
    data = importlib.import_module("robustbench.data")

    def no_download(*args, **kwargs):
        raise AssertionError(f"RobustBench tried to download {args}")

    monkeypatch.setattr(data, "zenodo_download", no_download)
    return data


@pytest.mark.parametrize("kind", ["cifar10", "cifar100"])
@pytest.mark.parametrize("split", ["test", "train"])
@pytest.mark.parametrize("archive", [False, True])
def test_the_source_is_read_as_torchvision_reads_it(tmp_path, kind, split, archive):
    src = make_cifar(tmp_path, kind, n_test=12, n_train=10, archive=archive)
    reference = torchvision_cifar(tmp_path, kind, split == "train")
    adapter = make_adapter(kind, src, split)
    samples = adapter.samples()
    assert len(samples) == len(reference.data) and samples[0].key == f"{split}/00000"
    assert np.array_equal(np.stack([adapter.load(s)[0] for s in samples]), reference.data)
    assert [adapter.label(s) for s in samples] == list(reference.targets)


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.write_bytes(p.read_bytes()[:5000]), "test_batch is not a CIFAR batch"),
    (lambda p: p.unlink(), "test_batch not found; cifar10 needs cifar-10-batches-py/"),
    (lambda p: p.write_bytes(b"not a pickle"), "test_batch is not a CIFAR batch"),
])  # fmt: skip
def test_a_wrong_or_truncated_batch_is_one_sentence(tmp_path, damage, words):
    src = make_cifar(tmp_path)
    damage(src / "test_batch")
    result = cli("build", "cifar10", "--src", src, "--out", tmp_path / "out", expect=1)
    assert words in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_release_layout_severity_major_with_the_labels_repeated(tmp_path):
    src = make_cifar(tmp_path / "src", n_test=9, n_train=5, archive=True)
    out = tmp_path / "CIFAR-10-C"
    cli("build", "cifar10", "--src", src, "--out", out, "--quiet", "--workers", "1")
    state = json.loads((out / "corruptgen.json").read_text())
    assert state["identity"]["profile"] == "cifar" and state["identity"]["split"] == "test"
    assert sorted(p.stem for p in out.glob("*.npy")) == sorted([*IMAGECORRUPTIONS, "labels"])
    adapter = make_adapter("cifar10", src)
    images, labels = np.stack([adapter.load(s)[0] for s in adapter.samples()]), adapter.labels()
    assert np.array_equal(np.load(out / "labels.npy"), np.tile(labels, 5)) and np.load(out / "labels.npy").dtype == np.uint8
    for name in ("gaussian_noise", "fog", "elastic_transform"):
        array = np.load(out / f"{name}.npy")
        assert array.shape == (45, 32, 32, 3) and array.dtype == np.uint8
        for severity in (1, 3, 5):
            for i in (0, 8):
                expected = corrupt_sample(images[i], "cifar10", f"test/{i:05d}", name, severity, 0, "cifar")
                assert np.array_equal(array[(severity - 1) * 9 + i], expected), (name, severity, i)
    assert cli("verify", out).exit_code == 0


def test_fewer_severities_write_only_those_and_train_goes_apart(tmp_path):
    src = make_cifar(tmp_path / "src", "cifar100", n_test=6, n_train=4)
    out = tmp_path / "out"
    cli("build", "cifar100", "--src", src, "--out", out, "--corruptions", "fog,contrast", "--severities", "2,4", "--quiet")
    full = tmp_path / "full"
    cli("build", "cifar100", "--src", src, "--out", full, "--corruptions", "fog", "--quiet")
    assert np.array_equal(np.load(out / "fog.npy"), np.load(full / "fog.npy")[np.r_[6:12, 18:24]])
    assert json.loads((out / "corruptgen.json").read_text())["built"] == [["fog", 2], ["fog", 4], ["contrast", 2], ["contrast", 4]]
    before = tree_digest(out)
    result = cli("build", "cifar100", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "5", expect=1)
    assert "every corruption needs the same severities (fog: [2, 4, 5]; contrast: [2, 4])" in result.output
    result = cli("build", "cifar100", "--src", src, "--out", out, "--corruptions", "fog,contrast", "--severities", "5", expect=1)
    assert "fog.npy holds 12 rows from an earlier build; these severities need 18" in result.output
    assert tree_digest(out) == before  # refused before anything was written: the build resumes as it was
    both = tmp_path / "both"
    cli("build", "cifar100", "--src", src, "--split", "train", "--out", both, "--quiet", "--corruptions", "fog",
        "--severities", "1")  # fmt: skip
    assert np.load(both / "train" / "fog.npy").shape == (4, 32, 32, 3) and np.load(both / "train" / "labels.npy").shape == (4,)
    assert not (both / "fog.npy").exists()  # the train split's arrays are never mistaken for the release's test files


def test_the_arrays_do_not_depend_on_workers_shards_or_a_resume(tmp_path):
    src = make_cifar(tmp_path / "src", n_test=23)
    args = ["build", "cifar10", "--src", src, "--corruptions", "glass_blur,zoom_blur,jpeg_compression", "--quiet"]
    cli(*args, "--out", tmp_path / "a", "--workers", "1", "--shard-size", "5")
    cli(*args, "--out", tmp_path / "b", "--workers", "2", "--shard-size", "16")
    for manifest in sorted((tmp_path / "b" / "manifests" / "zoom_blur").rglob("shard-00001.jsonl")):
        manifest.unlink()  # a build killed before these shards finished
    (tmp_path / "b" / "zoom_blur.npy").write_bytes((tmp_path / "b" / "zoom_blur.npy").read_bytes()[:-700])
    cli(*args, "--out", tmp_path / "b", "--workers", "2", "--shard-size", "16")
    a, b = tree_digest(tmp_path / "a"), tree_digest(tmp_path / "b")
    arrays = [k for k in a if k.endswith(".npy")]
    assert len(arrays) == 4 and all(a[k] == b[k] for k in arrays)
    assert a["manifests/zoom_blur/3.jsonl"] == b["manifests/zoom_blur/3.jsonl"]


def test_verify_finds_a_changed_row(tmp_path):
    src = make_cifar(tmp_path / "src", n_test=5)
    out = tmp_path / "out"
    cli("build", "cifar10", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1,2", "--quiet")
    array = np.load(out / "fog.npy", mmap_mode="r+")
    array[7, 0, 0, 0] ^= 1
    array.flush()
    result = cli("verify", out, expect=1)
    assert "fog.npy[7] does not match its sha256" in result.output


def test_webdataset_members_are_pngs_with_their_class(tmp_path):
    import tarfile

    src = make_cifar(tmp_path / "src", n_test=4)
    out = tmp_path / "wds"
    cli("build", "cifar10", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "3", "--output-format",
        "webdataset", "--quiet")  # fmt: skip
    adapter = make_adapter("cifar10", src)
    with tarfile.open(out / "fog" / "3" / "cifar10-000000.tar") as tar:
        names = tar.getnames()
        assert names[:2] == ["test/00000.png", "test/00000.cls"]
        assert int(tar.extractfile("test/00002.cls").read()) == adapter.label(adapter.samples()[2])
        pixels = np.asarray(Image.open(tar.extractfile("test/00001.png")))
    assert np.array_equal(pixels, corrupt_sample(adapter.load(adapter.samples()[1])[0], "cifar10", "test/00001", "fog", 3, 0, "cifar"))


def test_classify_and_evaluate_a_cifar_c_build(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    src = make_cifar(tmp_path / "src", n_test=10)
    tree = tmp_path / "CIFAR-10-C"
    cli("build", "cifar10", "--src", src, "--out", tree, "--corruptions", "fog,contrast", "--quiet")
    for name in ("mean_classifier", "constant_classifier"):
        cli("classify", tree, "--model", f"standin_models:{name}", "--results", tmp_path / name, "--quiet")
    labels = make_adapter("cifar10", src).labels()
    clean = json.loads((tmp_path / "constant_classifier" / "clean.json").read_text())["predictions"]
    assert clean == {f"test/{i:05d}": 0 for i in range(10)}
    doc = json.loads(cli("evaluate", tree, "--results", tmp_path / "constant_classifier").output and
                     (tmp_path / "constant_classifier" / "results.json").read_text())  # fmt: skip
    assert doc["normalisation"] == "unnormalised" and doc["clean_error"] == pytest.approx(100 * np.mean(labels != 0))
    assert doc["mCE"] == pytest.approx(100 * np.mean(labels != 0))
    cli("evaluate", tree, "--results", tmp_path / "mean_classifier", "--baseline", tmp_path / "constant_classifier",
        "--out", tmp_path / "report")  # fmt: skip
    doc = json.loads((tmp_path / "report" / "results.json").read_text())
    assert doc["normalisation"].startswith("baseline") and set(doc["CE"]) == {"fog", "contrast"}
    cli("evaluate", tree, "--results", tmp_path / "mean_classifier", "--corruptions", "fog", "--severities", "4,5",
        "--out", tmp_path / "fog")  # fmt: skip  (a published subset: CIFAR-10-C's 15 of 19, or severity 5 alone)
    doc = json.loads((tmp_path / "fog" / "results.json").read_text())
    assert doc["corruptions"] == ["fog"] and doc["severities"] == [4, 5] and list(doc["cells"]["fog"]) == ["4", "5"]


@pytest.mark.parametrize("kind, folder, loader, corruptions", [
    ("cifar10", "CIFAR-10-C", "load_cifar10c", ("brightness", "gaussian_noise")),
    ("cifar100", "CIFAR-100-C", "load_cifar100c", ("contrast",)),
])  # fmt: skip
def test_robustbench_reads_the_build_unchanged(tmp_path, robustbench, kind, folder, loader, corruptions):
    """RobustBench hard-codes 10,000 images a severity: the build holds a full test split."""
    src = make_cifar(tmp_path / "src", kind, n_test=10_000, n_train=5)
    data_dir = tmp_path / "data"
    cli("build", kind, "--src", src, "--out", data_dir / folder, "--corruptions", ",".join(corruptions), "--quiet")
    labels = make_adapter(kind, src).labels()
    for name in corruptions:
        built = np.load(data_dir / folder / f"{name}.npy")
        for severity in range(1, 6):
            x, y = getattr(robustbench, loader)(60, severity, str(data_dir), shuffle=False, corruptions=[name])
            rows = built[(severity - 1) * 10_000 : (severity - 1) * 10_000 + 60]
            assert np.array_equal(x.numpy(), rows.transpose(0, 3, 1, 2).astype(np.float32) / 255), (name, severity)
            assert np.array_equal(y.numpy(), labels[:60])


def test_robustbench_reads_the_imagenet_c_subset_built_from_its_keys(tmp_path, robustbench):
    """``--keys`` with the first lines of RobustBench's list builds those images only, and every class
    folder, so its loader's class indices are the full 1,000 classes'."""
    helper = Path(robustbench.__file__).parent / "helper_files"
    wnids = sorted(json.loads((helper / "imagenet_class_to_id_map.json").read_text()))
    keys = (helper / "imagenet_test_image_ids.txt").read_text().split()[:3]
    val = tmp_path / "imagenet" / "val"
    for wnid in wnids:
        (val / wnid).mkdir(parents=True)
    for i, key in enumerate(keys):
        Image.fromarray(photo(i, 375, 500)).save(val / key, quality=90)
    Image.fromarray(photo(3, 375, 500)).save(val / wnids[0] / "ILSVRC2012_val_99999999.JPEG")  # not listed: not built
    (tmp_path / "keys.txt").write_text("\n".join(keys) + "\n")
    data_dir = tmp_path / "data"
    cli("build", "imagenet", "--src", tmp_path / "imagenet", "--keys", tmp_path / "keys.txt", "--out",
        data_dir / "ImageNet-C", "--corruptions", "fog", "--severities", "2", "--quiet")  # fmt: skip
    tree = data_dir / "ImageNet-C" / "fog" / "2"
    assert sorted(p.name for p in tree.iterdir()) == wnids
    assert sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.JPEG")) == sorted(keys)
    x, y = robustbench.load_imagenetc(3, 2, str(data_dir), corruptions=["fog"])
    for n, key in enumerate(keys):
        assert np.array_equal(x[n].numpy(), np.asarray(Image.open(tree / key).convert("RGB")).transpose(2, 0, 1) / np.float32(255))
        assert int(y[n]) == wnids.index(key.split("/")[0])
    bad = tmp_path / "bad.txt"
    bad.write_text(keys[0] + "\nn01440764/ILSVRC2012_val_00000001.JPEG\n")
    result = cli("build", "imagenet", "--src", tmp_path / "imagenet", "--keys", bad, "--out", tmp_path / "x", expect=1)
    assert "lists 1 sample(s) the source does not hold, e.g. 'n01440764/ILSVRC2012_val_00000001.JPEG'" in result.output
