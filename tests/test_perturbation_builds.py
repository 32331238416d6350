"""Perturbation builds (ImageNet-P's MP4s, CIFAR-10-P's arrays, WebDataset), read back by OpenCV as
ImageNet-P's ``VideoFolder`` reads them, and scored by ``classify`` + ``evaluate`` as ``test.py`` scores."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from fixtures import cli, make_cifar, make_folder, make_imagenet, make_mnist, photo, tree_digest
from standin_models import histogram_scorer, mean_classifier

from corruptgen import metrics
from corruptgen.corruptions.sequences import SEQUENCES, TEST_PERTURBATIONS
from corruptgen.datasets import make_adapter
from corruptgen.pipeline.recipe import perturb_sample
from corruptgen.writers.video import decode_mp4, encode_mp4, read_mp4


def _capture_frames(path) -> tuple[int, tuple[int, int]]:
    """How ImageNet-P's ``VideoFolder`` reads a file: cv2.VideoCapture, frame by frame."""
    capture = cv2.VideoCapture(str(path))
    count, size = 0, None
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        count, size = count + 1, frame.shape[:2]
    capture.release()
    return count, size


def _smooth_sequence(n=12, side=64) -> np.ndarray:
    base = cv2.resize(photo(0), (side, side), interpolation=cv2.INTER_AREA)
    return np.stack([np.roll(base, i, axis=1) for i in range(n)])


def test_video_round_trip_lossless_exact_release_close_and_reproducible(tmp_path):
    frames = _smooth_sequence()
    lossless = encode_mp4(frames, grain=False, mode="lossless")
    assert np.array_equal(decode_mp4(lossless), frames)
    release = encode_mp4(frames, grain=False)
    decoded = decode_mp4(release)
    assert decoded.shape == frames.shape
    assert 0 < np.abs(decoded.astype(int) - frames).mean() < 3  # CRF 20 changes a little
    assert encode_mp4(frames, grain=True) != release  # -tune grain: other settings, other bytes
    assert encode_mp4(frames, grain=False) == release  # one thread, bitexact: the same bytes
    script = ("import sys, hashlib, numpy as np; sys.path.insert(0, 'tests'); from test_perturbation_builds import "
              "_smooth_sequence; from corruptgen.writers.video import encode_mp4; "
              "print(hashlib.sha256(encode_mp4(_smooth_sequence(), grain=True)).hexdigest())")  # fmt: skip
    import hashlib

    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parent.parent).stdout.strip()  # fmt: skip
    assert other == hashlib.sha256(encode_mp4(frames, grain=True)).hexdigest()  # and in another process
    grey = encode_mp4(frames[..., :1], grain=False, mode="lossless")
    assert np.array_equal(decode_mp4(grey), np.repeat(frames[..., :1], 3, axis=3))
    with pytest.raises(ValueError, match="T x H x W x 3"):
        encode_mp4(frames[0, :, :, 0], grain=False)
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="bad.mp4 holds no video frame"):
        read_mp4(tmp_path / "bad.mp4")


@pytest.fixture(scope="module")
def imagenet_p(tmp_path_factory):
    root = tmp_path_factory.mktemp("inp")
    src = make_imagenet(root / "src")
    out = root / "out"
    cli("build", "imagenet", "--src", src, "--out", out, "--perturbations", "translate,rotate,shot_noise",
        "--difficulties", "1,2", "--limit", "2", "--workers", "1", "--quiet")  # fmt: skip
    return src, out


def test_imagenet_p_build_writes_the_releases_mp4s(imagenet_p):
    src, out = imagenet_p
    trees = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "manifests")
    assert trees == ["rotate", "shot_noise", "shot_noise_2", "translate"]  # difficulty 2 is the noise sequences' only
    for tree, count in (("translate", 41), ("rotate", 31), ("shot_noise", 31), ("shot_noise_2", 31)):
        files = sorted((out / tree).rglob("*.mp4"))
        assert [f.relative_to(out / tree).as_posix() for f in files] == [
            "n01440764/ILSVRC2012_val_00000000.mp4", "n01440764/ILSVRC2012_val_00000001.mp4"]
        assert _capture_frames(files[0]) == (count, (224, 224))
    state = json.loads((out / "corruptgen.json").read_text())
    assert state["identity"]["profile"] == "imagenet-p" and state["identity"]["video"] == "release"
    assert state["status"] == "complete"
    row = json.loads((out / "manifests" / "rotate" / "1.jsonl").read_text().splitlines()[0])
    assert row["output"] == "rotate/n01440764/ILSVRC2012_val_00000000.mp4" and row["frames"] == 31
    assert "verify" and cli("verify", out).output.strip().endswith("every output matches its manifest.")
    # frame 15 of rotate is the 0-degree frame: the Resize(256) + CenterCrop(224) ImageNet-C starts from
    adapter = make_adapter("imagenet", src / "val" if (src / "val").is_dir() else src)
    sample = adapter.samples()[0]
    frames = read_mp4(out / row["output"])
    assert np.abs(frames[15].astype(int) - adapter.load(sample)[0]).mean() < 3


def test_imagenet_p_bytes_do_not_depend_on_workers_or_shards(imagenet_p, tmp_path):
    src, out = imagenet_p
    other = tmp_path / "other"
    cli("build", "imagenet", "--src", src, "--out", other, "--perturbations", "translate,rotate,shot_noise",
        "--difficulties", "1-2", "--limit", "2", "--workers", "2", "--shard-size", "1", "--quiet")  # fmt: skip
    mine = {k: v for k, v in tree_digest(out).items() if not k.startswith("manifests/")}
    theirs = {k: v for k, v in tree_digest(other).items() if not k.startswith("manifests/")}
    assert mine == theirs
    combined = "manifests/rotate/1.jsonl"
    assert (out / combined).read_bytes() == (other / combined).read_bytes()


def test_imagenet_p_resume_writes_only_what_is_missing(tmp_path):
    src = make_imagenet(tmp_path / "src")
    out = tmp_path / "out"
    args = ("build", "imagenet", "--src", src, "--out", out, "--perturbations", "brightness", "--video", "lossless",
            "--shard-size", "2", "--workers", "1")  # fmt: skip
    cli(*args, "--quiet")
    before = tree_digest(out)
    (out / "manifests" / "brightness" / "1" / "shard-00001.jsonl").unlink()
    victim = sorted((out / "brightness").rglob("*.mp4"))[-1]
    victim.unlink()
    result = cli(*args)
    assert "2 outputs written, 2 already built" in result.output
    assert tree_digest(out).keys() == before.keys()
    assert victim.read_bytes() == before[victim.relative_to(out).as_posix()]
    assert np.array_equal(read_mp4(victim)[15], read_mp4(victim)[15])  # lossless: decodes


def test_cifar_p_arrays_rows_labels_and_shard_independence(tmp_path):
    src = make_cifar(tmp_path / "src")
    out, other = tmp_path / "out", tmp_path / "other"
    cli("build", "cifar10", "--src", src, "--out", out, "--perturbations", "all", "--difficulties", "1-3",
        "--shard-size", "7", "--workers", "1", "--quiet")  # fmt: skip
    cli("build", "cifar10", "--src", src, "--out", other, "--perturbations", "all", "--difficulties", "1-3",
        "--shard-size", "20", "--workers", "2", "--quiet")  # fmt: skip
    adapter = make_adapter("cifar10", src)
    samples = adapter.samples()
    labels = np.load(out / "labels.npy")
    assert labels.dtype == np.uint8 and labels.tolist() == [adapter.label(s) for s in samples]
    for name, spec in SEQUENCES.items():
        for difficulty in spec.difficulties("cifar-p"):
            tree = name if difficulty == 1 else f"{name}_{difficulty}"
            array = np.load(out / f"{tree}.npy")
            count = spec.frames_for(1, "cifar-p").count
            assert array.shape == (20, count, 32, 32, 3) and array.dtype == np.uint8, tree
    rows = np.load(out / "snow.npy")
    for i in (0, 13):  # each row is its own sample's sequence (the seed follows the sample, not the shard)
        expected = perturb_sample(adapter.load(samples[i])[0], "cifar10", samples[i].key, "snow", 1, 0, "cifar-p")
        assert np.array_equal(rows[i], expected)
    assert {k: v for k, v in tree_digest(out).items() if k.endswith(".npy")} == \
        {k: v for k, v in tree_digest(other).items() if k.endswith(".npy")}
    assert cli("verify", out).output.strip().endswith("every output matches its manifest.")


def test_mnist_and_folder_sources(tmp_path):
    mnist = make_mnist(tmp_path / "mnist")
    out = tmp_path / "mnist-p"
    cli("build", "mnist", "--src", mnist, "--out", out, "--perturbations", "rotate,gaussian_noise", "--quiet")
    assert np.load(out / "train" / "rotate.npy").shape == (7, 31, 28, 28, 1)
    assert np.load(out / "test" / "gaussian_noise.npy").shape == (5, 31, 28, 28, 1)
    assert np.load(out / "test" / "labels.npy").shape == (5,)
    folder = make_folder(tmp_path / "folder")
    out = tmp_path / "folder-p"
    cli("build", "folder", "--src", folder, "--out", out, "--perturbations", "scale", "--video", "lossless", "--quiet")
    found = sorted(p.relative_to(out / "scale").as_posix() for p in (out / "scale").rglob("*.mp4"))
    assert found == ["a/b/two.mp4", "a/one.mp4", "gray.mp4"]
    assert _capture_frames(out / "scale" / "a" / "one.mp4") == (31, (40, 52))  # the image's own size


def test_webdataset_carries_one_sequence_per_sample(tmp_path):
    src = make_cifar(tmp_path / "src", n_test=6)
    out = tmp_path / "wds"
    cli("build", "cifar10", "--src", src, "--out", out, "--perturbations", "translate", "--output-format", "webdataset",
        "--video", "lossless", "--shard-size", "6", "--quiet")  # fmt: skip
    shard = out / "translate" / "cifar10-000000.tar"
    with tarfile.open(shard) as tar:
        names = tar.getnames()
        first = tar.extractfile(names[0]).read()
    assert names[:2] == ["test/00000.mp4", "test/00000.cls"] and len(names) == 12
    frames = decode_mp4(first)
    adapter = make_adapter("cifar10", src)
    sample = adapter.samples()[0]
    assert np.array_equal(frames, perturb_sample(adapter.load(sample)[0], "cifar10", sample.key, "translate", 1, 0, "cifar-p"))
    assert cli("verify", out).output.strip().endswith("every output matches its manifest.")


@pytest.mark.parametrize(("args", "message"), [
    (("coco", "--perturbations"), "carry a class label only"),
    (("imagenet", "--perturbations", "rotate", "--difficulties", "2"), "only the noise sequences have 2 and 3"),
    (("imagenet", "--perturbations", "spin"), "unknown perturbation 'spin'"),
    (("imagenet", "--perturbations", "--corruptions", "fog"), "--corruptions is for -C builds"),
    (("imagenet", "--difficulties", "2"), "add --perturbations"),
    (("imagenet", "--video", "lossless"), "--video belongs to perturbation sequences"),
    (("imagenet", "--perturbations", "--image-format", "png"), "--image-format is for -C builds"),
    (("imagenet", "--perturbations", "--profile", "cifar"), "imagenet-p or cifar-p, not cifar"),
])  # fmt: skip
def test_perturbation_options_say_what_is_wrong(tmp_path, args, message):
    src = make_imagenet(tmp_path / "src")
    result = cli("build", args[0], "--src", src, "--out", tmp_path / "out", *args[1:], expect=2)
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_classify_and_evaluate_score_as_test_py(tmp_path, monkeypatch):
    """FP and T5D of each cell equal ``metrics``' transcription of ``test.py`` on the model's own outputs over
    the arrays; a baseline of the same results gives mFR 100; class indices alone give FP without T5D."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    src = make_cifar(tmp_path / "src", n_test=12)
    out = tmp_path / "cifar-p"
    cli("build", "cifar10", "--src", src, "--out", out, "--perturbations", "all", "--difficulties", "1,2", "--quiet")
    cli("classify", out, "--model", "standin_models:histogram_scorer", "--results", tmp_path / "scores", "--quiet",
        "--batch-size", "8")  # fmt: skip
    doc = json.loads(cli("evaluate", out, "--results", tmp_path / "scores", "--baseline", tmp_path / "scores").stdout
                     and (tmp_path / "scores" / "results.json").read_text())  # fmt: skip
    model = histogram_scorer()
    for name in SEQUENCES:
        sequences = np.load(out / f"{name}.npy")
        scores = np.stack([model(list(seq)) for seq in sequences])
        noise = SEQUENCES[name].noise
        expected_fp = metrics.flip_probability(scores.argmax(axis=2), noise)
        expected_t5d = metrics.top5_distance(metrics.rankings(scores), noise)
        assert doc["cells"][name]["flip probability"] == pytest.approx(expected_fp, abs=1e-9), name
        assert doc["cells"][name]["top-5 distance"] == pytest.approx(expected_t5d, abs=1e-9), name
    assert doc["averaged"] == list(TEST_PERTURBATIONS) and doc["test_grid"] and "shot_noise_2" in doc["cells"]
    assert doc["mFP"] == pytest.approx(np.mean([doc["cells"][n]["flip probability"] for n in TEST_PERTURBATIONS]))
    assert doc["mFR"] == pytest.approx(100.0) and doc["mT5D"] == pytest.approx(100.0)
    table = (tmp_path / "scores" / "table.md").read_text()
    assert "| translate |" in table and "mFR (normalised by baseline" in table
    assert (tmp_path / "scores" / "plot.png").read_bytes()[:4] == b"\x89PNG"
    # test.py --difficulty 2: the noise sequences' _2 trees, the others' frames two apart
    cli("evaluate", out, "--results", tmp_path / "scores", "--difficulty", "2", "--out", tmp_path / "d2")
    hard = json.loads((tmp_path / "d2" / "results.json").read_text())
    assert hard["averaged"] == ["gaussian_noise_2", "shot_noise_2", *TEST_PERTURBATIONS[2:]]
    rotate = np.stack([model(list(seq)) for seq in np.load(out / "rotate.npy")])
    assert hard["cells"]["rotate"]["flip probability"] == pytest.approx(metrics.flip_probability(rotate.argmax(axis=2), False, 2))
    noisy = np.stack([model(list(seq)) for seq in np.load(out / "shot_noise_2.npy")])
    assert hard["cells"]["shot_noise_2"]["top-5 distance"] == pytest.approx(metrics.top5_distance(metrics.rankings(noisy), True))
    # the batch size changes nothing; class indices alone give FP, no T5D
    cli("classify", out, "--model", "standin_models:histogram_scorer", "--results", tmp_path / "big", "--quiet",
        "--batch-size", "64", "--workers", "2")  # fmt: skip
    for path in (tmp_path / "scores").rglob("*/1.json"):
        assert path.read_bytes() == (tmp_path / "big" / path.relative_to(tmp_path / "scores")).read_bytes()
    cli("classify", out, "--model", "standin_models:mean_classifier", "--results", tmp_path / "ints", "--quiet")
    cli("evaluate", out, "--results", tmp_path / "ints")
    ints = json.loads((tmp_path / "ints" / "results.json").read_text())
    predictions = np.stack([mean_classifier()(list(seq)) for seq in np.load(out / "rotate.npy")])
    assert ints["cells"]["rotate"] == {"flip probability": pytest.approx(metrics.flip_probability(predictions, False))}
    assert ints["mT5D_raw"] is None and ints["mFR"] is None
    report = cli("report", out, "--results", tmp_path / "scores", "--out", tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text()
    assert "Wrote" in report.output and "mFP" in html and "Outputs per perturbation and difficulty" in html
    assert html.count('class="thumb"') == 3 * (1 + 14 + 3)  # three samples: the clean image, a filmstrip per cell


def test_list_perturbations():
    text = cli("list", "--perturbations").output
    assert "translate  [test, 41 frames, moves the whole image, then crops]" in text and "shot_noise  [test, 31 frames, noise redrawn per frame]" in text
    doc = json.loads(cli("list", "--profile", "cifar-p", "--json").output)
    rows = {row["name"]: row for row in doc["perturbations"]}
    assert rows["motion_blur"]["frames"] == 21 and rows["translate"]["frames"] == 16
    assert [d["photons"] for d in rows["shot_noise"]["difficulties"]] == [700, 400, 200]
    assert rows["spatter"]["split"] == "validation"


FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (FASHION_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist; CI installs it)")
def test_fashion_mnist_p_from_real_idx_files(tmp_path):
    from corruptgen.datasets.mnist import read_idx

    out = tmp_path / "fashion_mnist_p"
    cli("build", "mnist", "--perturbations", "rotate,translate,speckle_noise", "--src", FASHION_MNIST, "--split", "test",
        "--limit", "50", "--out", out, "--quiet")  # fmt: skip
    source = read_idx(FASHION_MNIST / "t10k-images-idx3-ubyte.gz", 3)[:50]
    rotate, translate = np.load(out / "test" / "rotate.npy"), np.load(out / "test" / "translate.npy")
    assert rotate.shape == (50, 31, 28, 28, 1) and translate.shape == (50, 16, 28, 28, 1)
    assert np.array_equal(rotate[:, 15, :, :, 0], source)  # frame 15 turns by 0 degrees
    assert np.array_equal(translate[:, 7, :, :, 0], source)  # and frame 7 shifts by 0 px
    assert np.array_equal(np.load(out / "test" / "speckle_noise.npy")[:, 0, :, :, 0], source)  # noise starts clean
    labels = read_idx(FASHION_MNIST / "t10k-labels-idx1-ubyte.gz", 1)[:50]
    assert np.array_equal(np.load(out / "test" / "labels.npy"), labels)
    assert cli("verify", out).output.strip().endswith("every output matches its manifest.")


def test_without_pyav_a_video_build_says_so_before_writing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # as if the video extra were not installed
    src = make_imagenet(tmp_path / "src")
    result = cli("build", "imagenet", "--src", src, "--out", tmp_path / "out", "--perturbations", "rotate", expect=1)
    assert "needs PyAV: pip install 'corruptgen[video]'" in result.output and "Traceback" not in result.output
    assert not any((tmp_path / "out").glob("rotate/**/*.mp4"))
    cifar = make_cifar(tmp_path / "cifar", n_test=4)  # arrays need no codec
    cli("build", "cifar10", "--src", cifar, "--out", tmp_path / "arrays", "--perturbations", "rotate", "--quiet")


def test_a_difficulty_belongs_to_perturbation_builds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    out = tmp_path / "c"
    cli("build", "cifar10", "--src", make_cifar(tmp_path / "src", n_test=4), "--out", out, "--corruptions", "fog",
        "--severities", "1", "--quiet")  # fmt: skip
    cli("classify", out, "--model", "standin_models:mean_classifier", "--results", tmp_path / "r", "--quiet")
    result = cli("evaluate", out, "--results", tmp_path / "r", "--difficulty", "2", expect=1)
    assert "a difficulty belongs to perturbation builds" in result.output and "Traceback" not in result.output
