"""What a new user hit on 0.5.1 (#41), one test or more per item: MNIST arrays under --limit, the report
of ImageNet-P runs, why mFR is empty, scores accepted everywhere, the split MNIST benchmarks score,
progress and shard size of perturbation builds, CIFAR sources not of the release's size, Ctrl-C and
verify on an interrupted tree, suggestions for typos, and the part of the benchmark a run covers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from fixtures import cli, make_cifar, make_imagenet, make_mnist, tree_digest

from corruptgen.corruptions.sequences import TEST_PERTURBATIONS
from corruptgen.evaluate.summary import markdown, stability_summary
from corruptgen.pipeline.layout import shard_manifests

FP, T5D = "flip probability", "top-5 distance"


@pytest.fixture
def models(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


# 1. --limit on mnist: arrays of the limited samples only, and verify catching padded arrays


def arrays(tree: Path) -> dict[str, tuple]:
    return {p.name: np.load(p).shape for p in sorted(tree.glob("*.npy"))}


def test_mnist_limit_writes_the_limited_samples_only(tmp_path, models):
    src = make_mnist(tmp_path / "mnist", n_train=9, n_test=6)
    out = tmp_path / "m"
    cli("build", "mnist", "--src", src, "--out", out, "--limit", "4", "--corruptions", "fog", "--severities", "3",
        "--quiet", "--shard-size", "3")  # fmt: skip
    assert arrays(out / "fog" / "3") == {"train_images.npy": (4, 28, 28, 1), "train_labels.npy": (4,)}
    full = tmp_path / "full"
    cli("build", "mnist", "--src", src, "--out", full, "--corruptions", "fog", "--severities", "3", "--quiet")
    for name in ("train_images.npy", "train_labels.npy"):  # the first four rows of the whole build, in order
        assert np.array_equal(np.load(out / "fog" / "3" / name), np.load(full / "fog" / "3" / name)[:4])
    assert "OK" in cli("verify", out).output
    # reaching into the test split: train whole, the test split's first rows
    both = tmp_path / "both"
    cli("build", "mnist", "--src", src, "--out", both, "--limit", "11", "--corruptions", "fog", "--severities", "3", "--quiet")
    assert arrays(both / "fog" / "3") == {"test_images.npy": (2, 28, 28, 1), "test_labels.npy": (2,),
                                          "train_images.npy": (9, 28, 28, 1), "train_labels.npy": (9,)}  # fmt: skip
    # classify + evaluate score what was built: 4 images, not the source's 15
    cli("classify", out, "--model", "standin_models:mean_classifier", "--results", tmp_path / "r", "--quiet")
    cli("evaluate", out, "--results", tmp_path / "r")
    doc = json.loads((tmp_path / "r" / "results.json").read_text())
    assert doc["images"] == 4


def test_mnist_limit_resumed_with_more_rebuilds_the_arrays_whole(tmp_path):
    src = make_mnist(tmp_path / "mnist", n_train=9, n_test=6)
    args = ("--src", src, "--corruptions", "fog,rotate", "--severities", "2", "--quiet", "--shard-size", "2")
    cli("build", "mnist", *args, "--out", tmp_path / "a", "--limit", "3")
    cli("build", "mnist", *args, "--out", tmp_path / "a", "--limit", "7")
    cli("build", "mnist", *args, "--out", tmp_path / "b", "--limit", "7")
    a, b = tree_digest(tmp_path / "a"), tree_digest(tmp_path / "b")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    assert np.load(tmp_path / "a" / "fog" / "2" / "train_images.npy").shape == (7, 28, 28, 1)
    assert "OK" in cli("verify", tmp_path / "a").output


def test_verify_catches_array_rows_no_manifest_names(tmp_path):
    src = make_mnist(tmp_path / "mnist", n_train=9, n_test=6)
    out = tmp_path / "m"
    cli("build", "mnist", "--src", src, "--out", out, "--split", "train", "--limit", "5", "--corruptions", "fog",
        "--severities", "3", "--quiet")  # fmt: skip
    images = out / "fog" / "3" / "train_images.npy"
    padded = np.zeros((9, 28, 28, 1), np.uint8)  # what 0.5.1 wrote: the whole split's size, rows zero
    padded[:5] = np.load(images)
    np.save(images, padded)
    np.save(images.with_name("train_labels.npy"), np.zeros(9, np.uint8))
    result = cli("verify", out, expect=1)
    assert "fog/3/train_images.npy holds 9 rows but its manifests name 5" in result.output


# 2 and 3. the report of ImageNet-P runs; why mFR / mT5D are empty


def stability_doc(fp: dict, t5d: dict | None, baseline: dict | None = None) -> dict:
    def scores(fps, t5ds):
        return {(n, 1): {FP: fps[n], **({T5D: t5ds[n]} if t5ds else {})} for n in TEST_PERTURBATIONS}

    built = [(n, 1) for n in TEST_PERTURBATIONS]
    base = scores(*baseline) if baseline else None
    return stability_summary("imagenet", "imagenet-p", scores(fp, t5d), built, False, base,
                             "baseline runs/alexnet" if base else "unnormalised")  # fmt: skip


def test_the_report_of_perturbation_runs_is_the_stability_table(tmp_path):
    from corruptgen.report.page import results_section
    from corruptgen.report.runs import read_runs

    fp = {n: 1.0 + i for i, n in enumerate(TEST_PERTURBATIONS)}
    t5d = {n: 0.5 + i for i, n in enumerate(TEST_PERTURBATIONS)}
    base_fp = {n: 2.0 * v for n, v in fp.items()}
    base_t5d = {n: 4.0 * v for n, v in t5d.items()}
    for name, doc in (("A", stability_doc(fp, t5d)), ("B", stability_doc(fp, t5d, (base_fp, base_t5d)))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(doc))
    html = results_section(read_runs([tmp_path / "A", tmp_path / "B"]))
    assert ">CE<" not in html and ">mean<" not in html
    for column in ("FP (%)", "T5D", "FR (%)", "T5D rel. (%)", "mT5D (%)", "normalised by"):
        assert column in html, column
    b = json.loads((tmp_path / "B" / "results.json").read_text())
    assert b["mFR"] == pytest.approx(50.0) and b["mT5D"] == pytest.approx(25.0)
    assert 'data-value="50.0"' in html and 'data-value="25.0"' in html  # B's mFR and mT5D are shown
    assert "baseline runs/alexnet" in html and "unnormalised" in html


def test_empty_mfr_and_mt5d_say_why(tmp_path):
    fp = dict.fromkeys(TEST_PERTURBATIONS, 3.0)
    zero = {**fp, "rotate": 0.0}
    doc = stability_doc(fp, dict(fp), (zero, dict(fp)))
    assert doc["mFR"] is None and doc["mT5D"] == pytest.approx(100.0)
    assert "the baseline's flip probability is 0 on rotate" in doc["why_null"]["mFR"]
    ints = stability_doc(fp, None, (fp, None))  # a model returning class indices: FP only
    assert ints["mT5D_raw"] is None and "class indices" in ints["why_null"]["mT5D_raw"]
    assert ints["mFR"] == pytest.approx(100.0) and "mFR" not in ints["why_null"]
    text = markdown(doc)
    assert "mFR is empty: the baseline's flip probability is 0 on rotate" in text


# 4. scores accepted on -C trees


def test_a_classifier_returning_scores_is_scored_by_its_argmax(tmp_path, models):
    src = make_mnist(tmp_path / "mnist", n_train=3, n_test=6)
    out = tmp_path / "m"
    cli("build", "mnist", "--src", src, "--split", "test", "--out", out, "--corruptions", "fog,rotate", "--severities",
        "2", "--quiet")  # fmt: skip
    cli("classify", out, "--model", "standin_models:histogram_scorer", "--results", tmp_path / "scores", "--quiet")
    cli("classify", out, "--model", "standin_models:histogram_argmax", "--results", tmp_path / "ints", "--quiet")
    for cell in ("clean.json", "fog/2.json", "rotate/2.json"):
        assert (tmp_path / "scores" / cell).read_bytes() == (tmp_path / "ints" / cell).read_bytes(), cell
    bad = cli("classify", out, "--model", "standin_models:wrong_count", "--results", tmp_path / "bad", expect=1)
    assert "class indices (ints), or a" in bad.output and "Traceback" not in bad.output


# 5. the split MNIST benchmarks score


def test_a_tree_of_both_mnist_splits_is_scored_on_its_test_split(tmp_path, models):
    src = make_mnist(tmp_path / "mnist", n_train=7, n_test=5)
    out = tmp_path / "m"
    cli("build", "mnist", "--src", src, "--out", out, "--corruptions", "fog", "--severities", "1", "--quiet")
    result = cli("classify", out, "--model", "standin_models:mean_classifier", "--results", tmp_path / "r")
    assert "Scoring the test split of a tree holding train and test (--split train" in result.output
    run = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run["split"] == "test" and run["images"] == 5
    cli("evaluate", out, "--results", tmp_path / "r")
    assert json.loads((tmp_path / "r" / "results.json").read_text())["images"] == 5
    cli("classify", out, "--model", "standin_models:mean_classifier", "--results", tmp_path / "t", "--split", "train", "--quiet")
    cli("evaluate", out, "--results", tmp_path / "t")
    assert json.loads((tmp_path / "t" / "results.json").read_text())["images"] == 7
    refused = cli("classify", out, "--model", "standin_models:mean_classifier", "--results", tmp_path / "v", "--split",
                  "val", expect=1)  # fmt: skip
    assert "--split val: the tree holds train and test" in refused.output
    fly = cli("classify", "mnist", "--on-the-fly", "--src", src, "--corruptions", "fog", "--severities", "1",
              "--model", "standin_models:mean_classifier", "--results", tmp_path / "fly")  # fmt: skip
    assert "Scoring mnist's test split" in fly.output
    assert json.loads((tmp_path / "fly" / "run.json").read_text())["images"] == 5


# 6. perturbation builds: shards sized for the work, progress within a shard


def test_perturbation_shards_are_sized_for_the_workers_and_report_progress_within(tmp_path, monkeypatch):
    from corruptgen.datasets import make_adapter
    from corruptgen.pipeline import progress as progress_module
    from corruptgen.pipeline.engine import BuildOptions, default_shard_size, run_build
    from corruptgen.pipeline.progress import Progress

    assert default_shard_size(6, 2, "imagenet-p") == 1 and default_shard_size(10_000, 16, "cifar-p") == 8
    assert default_shard_size(6, 2, "imagenet") == 64
    src = make_cifar(tmp_path / "src", n_test=6)
    monkeypatch.setattr(progress_module, "LINE_EVERY_S", 0.0)
    stream = io.StringIO()
    options = BuildOptions(corruptions=["translate"], severities=[1], profile="cifar-p", workers=1, shard_size=4)
    run_build(make_adapter("cifar10", src), tmp_path / "p", options, Progress(stream=stream))
    lines = stream.getvalue().splitlines()
    within = [line for line in lines if "images done" in line]
    assert within[0].startswith("1/6 images done (0/2 shards complete)"), lines
    cli("build", "cifar10", "--src", src, "--out", tmp_path / "q", "--perturbations", "translate", "--workers", "2",
        "--quiet")  # fmt: skip
    state = json.loads((tmp_path / "q" / "corruptgen.json").read_text())
    assert state["shard_size"] == 1 and len(state["shards"]) == 6
    assert np.array_equal(np.load(tmp_path / "q" / "translate.npy"), np.load(tmp_path / "p" / "translate.npy"))


# 7. CIFAR not of the release's size


def test_a_cifar_tree_not_of_the_release_size_is_warned_about(tmp_path):
    src = make_cifar(tmp_path / "src", n_test=12)
    result = cli("build", "cifar10", "--src", src, "--out", tmp_path / "c", "--corruptions", "fog", "--quiet")
    assert "Warning: this cifar10-C holds 12 images per severity, not the release's 10,000" in result.output
    assert "load_cifar10c" in result.output
    state = json.loads((tmp_path / "c" / "corruptgen.json").read_text())
    assert "not the release's 10,000" in state["warnings"][0]
    limited = cli("build", "cifar10", "--src", src, "--out", tmp_path / "d", "--corruptions", "fog", "--limit", "5", "--quiet")
    assert "--limit kept 5 of the source's 12" in limited.output


# 8. Ctrl-C and verify on an interrupted tree


def test_ctrl_c_says_how_to_resume(tmp_path, monkeypatch):
    from corruptgen.cli import build_cmd

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_cmd, "run_build", interrupted)
    result = cli("build", "coco", "--out", tmp_path / "x", "--corruptions", "fog", expect=130)
    assert "Interrupted; rerun the same command to resume" in result.output and "Aborted" not in result.output


def test_verify_on_an_interrupted_tree_is_one_sentence(tmp_path):
    src = make_mnist(tmp_path / "mnist", n_train=9, n_test=6)
    out = tmp_path / "m"
    cli("build", "mnist", "--src", src, "--out", out, "--corruptions", "fog,rotate", "--severities", "1-2",
        "--shard-size", "3", "--quiet")  # fmt: skip
    for corruption, severity in (("fog", 1), ("rotate", 2)):
        for path in shard_manifests(out, corruption, severity)[1:]:
            path.unlink()
    state = json.loads((out / "corruptgen.json").read_text())
    state["status"] = "incomplete"
    (out / "corruptgen.json").write_text(json.dumps(state))
    result = cli("verify", out, expect=1)
    assert "incomplete: 12 of 20 shard manifests written (it was interrupted); rerun the build command" in result.output
    assert "is missing" not in result.output
    detailed = cli("verify", out, "--details", expect=1)
    assert detailed.output.count("was not finished") == 8


# 9. typos


@pytest.mark.parametrize("args,message", [
    (("--corruptions", "gausian_noise"), "unknown corruption 'gausian_noise'; did you mean gaussian_noise?"),
    (("--corruptions", "sparkle"), "did you mean sparkles (in the imagenet-cbar and cifar-cbar profiles)?"),
    (("--corruptions", "sparkles"), "sparkles is not part of the imagenet profile; it is in imagenet-cbar or cifar-cbar "
                                    "(add --profile imagenet-cbar"),
    (("--severities", "5-3"), "'5-3' runs backwards; write the range low to high, 3-5."),
    (("--perturbations", "rotat"), "unknown perturbation 'rotat'; did you mean rotate?"),
])  # fmt: skip
def test_typos_get_the_nearest_valid_name(tmp_path, args, message):
    result = cli("build", "imagenet", "--out", tmp_path / "x", *args, expect=2)
    assert message in " ".join(result.output.split()) and not (tmp_path / "x").exists()


# 10. how much of the benchmark a run covers


def test_a_small_imagenet_tree_says_its_numbers_are_a_small_sample(tmp_path, models):
    make_imagenet(tmp_path / "imagenet")
    out = tmp_path / "inc"
    cli("build", "imagenet", "--src", tmp_path / "imagenet", "--out", out, "--corruptions", "fog", "--severities", "1",
        "--quiet")  # fmt: skip
    cli("classify", out, "--model", "standin_models:mean_classifier", "--results", tmp_path / "r", "--quiet")
    text = cli("evaluate", out, "--results", tmp_path / "r").output
    assert "This run scores 4 of ImageNet-C's 50,000 images and 2 of its 1,000 classes: a small sample" in text
    doc = json.loads((tmp_path / "r" / "results.json").read_text())
    assert doc["coverage"]["images"] == 4 and doc["coverage"]["classes"] == 2
    cli("report", out, "--results", tmp_path / "r", "--out", tmp_path / "page.html")
    assert "This run scores 4 of ImageNet-C" in (tmp_path / "page.html").read_text()
