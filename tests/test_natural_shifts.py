"""Natural distribution shifts (#35): ImageNet-V2, -R, -A, -O, -Sketch and ObjectNet read in place, scored
under the published rules, their in-distribution pairs, and one robustness table with effective robustness.

The fixtures are releases in their real layouts (and archives) with photographs under real wnids, indices
and ObjectNet folders; the stand-in model's logits are known from each image's coded centre
(``standin_models.colour_coded``). Expected accuracies come from transcriptions of the anchors' own
scoring code applied to the model's logits on the loaded images, not from corruptgen's rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fixtures import cli, make_natural
from PIL import Image

from corruptgen import metrics
from corruptgen.datasets import make_adapter
from corruptgen.labels import label_space, top_classes

TIMM_INFO = Path(__import__("timm").__file__).parent / "data" / "_info"
R_WNIDS = TIMM_INFO.joinpath("imagenet_r_synsets.txt").read_text().split()
R_INDICES = [int(v) for v in TIMM_INFO.joinpath("imagenet_r_indices.txt").read_text().split()]
IN1K_WNIDS = TIMM_INFO.joinpath("imagenet_synsets.txt").read_text().split()


@pytest.fixture(autouse=True)
def models(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.chdir(tmp_path)


def logits_of(kind: str, src: Path, **kwargs) -> tuple[list, np.ndarray]:
    """The stand-in model's logits on every image as the runner feeds it (the adapter's own reading)."""
    from standin_models import colour_coded

    adapter = make_adapter(kind, src, **kwargs)
    samples = adapter.samples()
    return samples, colour_coded()([adapter.load(s)[0] for s in samples])


def run(kind: str, src: Path, results: str, *extra) -> dict:
    cli("classify", kind, "--src", src, "--model", "standin_models:colour_coded", "--results", results, "--quiet", *extra)
    cli("evaluate", "--results", results)
    return json.loads(Path(results, "results.json").read_text())


# -- label spaces -----------------------------------------------------------------------------------------


def test_label_spaces_are_the_anchors_lists():
    assert [c.folder for c in label_space("imagenet-1k").classes] == IN1K_WNIDS
    for name, stem in (("imagenet-r", "imagenet_r"), ("imagenet-a", "imagenet_a")):
        space = label_space(name)
        assert [c.folder for c in space.classes] == TIMM_INFO.joinpath(f"{stem}_synsets.txt").read_text().split()
        assert [c.in1k[0] for c in space.classes] == [int(v) for v in TIMM_INFO.joinpath(f"{stem}_indices.txt").read_text().split()]
        assert space.default_rule == "mask" and "hendrycks" in space.provenance
    objectnet = label_space("objectnet")
    assert len(objectnet.classes) == 113 and len(objectnet.union) == 125 and objectnet.default_rule == "maxpool"
    by_folder = {c.folder: c.in1k for c in objectnet.classes}
    assert by_folder["alarm_clock"] == (409, 530) and by_folder["chair"] == (423, 559, 765) and by_folder["tie"] == (457, 906)
    imagenet_d = label_space("imagenet-d")
    assert len(imagenet_d.classes) == 164 and len(imagenet_d.union) == 464 and imagenet_d.default_rule == "full"
    assert imagenet_d.index("police_car") == imagenet_d.index("car")  # the reference's merges
    v2 = label_space("imagenet-v2")
    assert v2.index("100") == 100 and v2.index("2") == 2  # never ImageFolder's string order


def test_the_three_rules_on_known_scores():
    space = label_space("objectnet")
    scores = np.zeros((1, 1000))
    scores[0, [0, 530, 409, 423, 559]] = [9.0, 8.0, 7.0, 6.0, 5.0]  # 0 (tench) is no ObjectNet class
    clock, chair = space.index("alarm_clock"), space.index("chair")
    assert top_classes(scores, space, "full", 2).tolist() == [[-1, clock]]
    assert top_classes(scores, space, "mask", 4).tolist() == [[clock, clock, chair, chair]]  # entries, as the reference
    assert top_classes(scores, space, "maxpool", 2).tolist() == [[clock, chair]]  # distinct classes
    with pytest.raises(ValueError, match="the mask rule needs each image's 1000 class scores"):
        top_classes(np.array([530]), space, "mask")


# -- the sets, read in place and scored as their anchors score them -----------------------------------


def r_release(root: Path, archive: str | None = None) -> Path:
    goldfish, shark, hammerhead = R_WNIDS[0], R_WNIDS[1], R_WNIDS[2]
    folders = {
        goldfish: [(1, 1), (0, 1), (4, 4)],  # right; tench first (no R class) then goldfish; another R class
        shark: [(2, 2), (3, 2)],  # right; tiger shark (not in R) first, then the great white
        hammerhead: [(5, 4)],  # electric ray (not in R), then hammerhead: right under mask only
        "n99999999": [(7, 7)],  # a folder no ImageNet-R class has: skipped
    }
    return make_natural(root / "imagenet-r", folders, archive)


@pytest.mark.parametrize("archive", [None, "tar"])
def test_imagenet_r_is_scored_as_hendrycks_eval(tmp_path, archive):
    src = r_release(tmp_path, archive)
    samples, logits = logits_of("imagenet-r", src)
    # hendrycks/imagenet-r eval.py: output[:, imagenet_r_mask].max(1)[1] against ImageFolder's target over the 200 folders
    targets = np.array([sorted(R_WNIDS).index(s.key.split("/")[0]) for s in samples])
    expected_mask = 100 * np.mean(logits[:, R_INDICES].argmax(1) == targets)
    in1k = np.array([R_INDICES[t] for t in targets])
    expected_full = 100 * np.mean(logits.argmax(1) == in1k)
    top5 = np.argsort(-logits[:, R_INDICES], axis=1, kind="stable")[:, :5]
    expected_top5 = 100 * np.mean([t in row for t, row in zip(targets, top5)])
    doc = run("imagenet-r", src, "r")
    assert len(samples) == 6 and doc["images"] == 6
    assert doc["top-1 accuracy"] == pytest.approx(expected_mask) and doc["rule"] == "mask"
    assert doc["top-5 accuracy"] == pytest.approx(expected_top5)
    full = run("imagenet-r", src, "r-full", "--rule", "full")
    assert full["top-1 accuracy"] == pytest.approx(expected_full) and expected_full < expected_mask
    lo, hi = doc["interval_95"]
    assert (lo, hi) == pytest.approx(metrics.clopper_pearson(doc["correct"], 6)) and lo < doc["top-1 accuracy"] < hi


@pytest.mark.parametrize("archive", [None, "tar.gz"])
def test_imagenet_v2_labels_are_int_folders_never_string_order(tmp_path, archive):
    folders = {str(i): [(i, i)] for i in (2, 10, 100, 999)}
    src = make_natural(tmp_path / "imagenetv2-top-images-format-val", folders, archive)
    doc = run("imagenet-v2", src, "v2")
    assert doc["top-1 accuracy"] == 100.0 and doc["rule"] == "full" and doc["variant"] == "top-images"
    # what ImageFolder would have labelled them (sorted strings: "10", "100", "2", "999")
    assert sorted(folders) == ["10", "100", "2", "999"]
    cli("classify", "imagenet-v2", "--src", src, "--model", "standin_models:colour_coded_indices", "--results", "ints",
        "--quiet")  # fmt: skip
    assert json.loads(cli("evaluate", "--results", "ints").output and Path("ints/results.json").read_text())["top-1 accuracy"] == 100.0


def test_objectnet_crops_its_border_pools_its_classes_and_skips_unmapped_folders(tmp_path):
    folders = {"alarm_clock": [(530, 530), (423, 423)], "chair": [(559, 559), (665, 765)], "air_freshener": [(1, 1)]}
    src = make_natural(tmp_path / "objectnet-1.0" / "images", folders).parent.parent
    for path in (tmp_path / "objectnet-1.0" / "images").rglob("*.png"):  # the release's 1-pixel red border
        image = np.asarray(Image.open(path)).copy()
        image[0, :], image[-1, :], image[:, 0], image[:, -1] = (255, 0, 0), (255, 0, 0), (255, 0, 0), (255, 0, 0)
        Image.fromarray(image).save(path)
    raw = make_adapter("objectnet", src, preprocess=False)
    sample = raw.samples()[0]
    cropped = raw.load(sample)[0]
    assert cropped.shape == (296, 396, 3) and not (cropped[0] == (255, 0, 0)).all(axis=1).any()
    kept = make_adapter("objectnet", src, preprocess=False, border=0).load(sample)[0]
    assert kept.shape == (300, 400, 3) and (kept[0] == (255, 0, 0)).all()
    samples, logits = logits_of("objectnet", src)
    space = label_space("objectnet")  # wise-ft's project_logits: max over each class's ImageNet logits, argmax
    pooled = np.stack([logits[:, list(c.in1k)].max(axis=1) for c in space.classes], axis=1)
    targets = np.array([space.index(s.key.split("/")[0]) for s in samples])
    result = cli("classify", "objectnet", "--src", src, "--model", "standin_models:colour_coded", "--results", "o")
    assert "1 images in folders the label space leaves out were skipped" in result.output
    cli("evaluate", "--results", "o")
    doc = json.loads(Path("o/results.json").read_text())
    assert doc["images"] == 4 and doc["rule"] == "maxpool" and doc["border"] == 2
    assert doc["top-1 accuracy"] == pytest.approx(100 * np.mean(pooled.argmax(1) == targets)) == 75.0


def test_imagenet_a_o_and_sketch_read_their_folders(tmp_path):
    a = label_space("imagenet-a").classes[0]
    src = make_natural(tmp_path / "imagenet-a", {a.folder: [(a.in1k[0], a.in1k[0])]})
    assert run("imagenet-a", src, "a")["top-1 accuracy"] == 100.0
    sketch_wnid = IN1K_WNIDS[7]
    src = make_natural(tmp_path / "sketch", {sketch_wnid: [(7, 7), (8, 7)]})
    doc = run("imagenet-sketch", tmp_path, "s")
    assert doc["top-1 accuracy"] == 50.0 and doc["label_space"]["classes"] == 1000


def test_a_missing_or_foreign_tree_is_one_sentence(tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli("classify", "imagenet-r", "--src", tmp_path / "empty", "--model", "standin_models:colour_coded",
                 "--results", "x", expect=1)  # fmt: skip
    assert "holds no ImageNet-R class folder; expected ImageNet-R's class folders (imagenet-r/<class>/" in result.output
    assert "Traceback" not in result.output
    src = r_release(tmp_path)
    result = cli("classify", "imagenet-r", "--src", src, "--model", "standin_models:colour_coded", "--results", "y")
    assert "Note: ImageNet-R: 6 images, where the release holds 30,000" in result.output
    bad = cli("classify", "imagenet-r", "--src", src, "--model", "standin_models:colour_coded_indices", "--results", "z",
              expect=1)  # fmt: skip
    assert "the mask rule needs each image's 1000 class scores" in bad.output and "--rule full" in bad.output


# -- in-distribution pairs, ImageNet-O, the robustness table ----------------------------------------------


O_CLASS = next(c for c in label_space("imagenet-o").classes if c.folder not in R_WNIDS)


def imagenet_val(root: Path) -> Path:
    """ImageNet val's class folders: two ImageNet-R classes, two others, one ImageNet-O class."""
    o = O_CLASS
    folders = {R_WNIDS[0]: [(1, 1), (1, 1)], R_WNIDS[1]: [(2, 2), (6, 2)], IN1K_WNIDS[0]: [(0, 0)], IN1K_WNIDS[3]: [(3, 3)],
               o.folder: [(o.in1k[0], o.in1k[0]), (0, 0)]}  # fmt: skip
    make_natural(root / "val", folders)
    return root


def test_classes_of_scores_imagenet_val_on_a_shifts_classes(tmp_path):
    src = imagenet_val(tmp_path / "imagenet")
    doc = run("imagenet", src, "val-r", "--classes-of", "imagenet-r")
    assert doc["images"] == 4 and doc["setting"] == "val-on-imagenet-r-classes" and doc["rule"] == "mask"
    samples, logits = logits_of("imagenet", src, classes_of="imagenet-r")
    targets = np.array([sorted(R_WNIDS).index(s.key.split("/")[0]) for s in samples])
    assert doc["top-1 accuracy"] == pytest.approx(100 * np.mean(logits[:, R_INDICES].argmax(1) == targets)) == 75.0
    whole = run("imagenet", src, "val", "--classes-of", "imagenet-1k")
    assert whole["images"] == 8 and whole["setting"] == "val"


@pytest.mark.parametrize("space", ["objectnet", "imagenet-d"])
def test_classes_of_a_space_named_by_its_own_folders_reads_imagenets_wnids_by_index(tmp_path, space):
    """ObjectNet's and ImageNet-D's classes are named by their own folders (alarm_clock), not by wnids: ImageNet's
    images are matched to them by class index (alarm_clock pools ImageNet's analog clock, 409, and digital clock)."""
    from corruptgen.labels import imagenet_classes

    wnids = imagenet_classes()[0]
    labels = label_space(space)
    covered = [(c, i) for c, cls in enumerate(labels.classes) for i in cls.in1k][:3]
    root = tmp_path / "imagenet" / "val"
    for n, (_, index) in enumerate(covered):
        (root / wnids[index]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((8, 8, 3), 40 * n, np.uint8)).save(root / wnids[index] / f"ILSVRC2012_val_{n:08d}.JPEG")
    (root / wnids[0] if all(0 not in c.in1k for c in labels.classes) else root / "n99999999").mkdir(exist_ok=True)
    adapter = make_adapter("imagenet", tmp_path / "imagenet", "val", classes_of=space)
    found = {s.key.split("/")[0]: adapter.label(s) for s in adapter.samples()}
    assert found == {wnids[index]: c for c, index in covered}


def test_robustness_table_with_effective_robustness_and_imagenet_o(tmp_path):
    val = imagenet_val(tmp_path / "imagenet")
    runs = {"val": ("imagenet", val, "--classes-of", "imagenet-1k"), "val-r": ("imagenet", val, "--classes-of", "imagenet-r"),
            "r": ("imagenet-r", r_release(tmp_path),),
            "v2": ("imagenet-v2", make_natural(tmp_path / "imagenetv2-matched-frequency-format-val",
                                               {"1": [(1, 1), (1, 1)], "3": [(3, 3), (5, 5)]}),),
            "val-o": ("imagenet", val, "--classes-of", "imagenet-o")}  # fmt: skip
    o = O_CLASS
    runs["o"] = ("imagenet-o", make_natural(tmp_path / "imagenet-o", {o.folder: [(0, 0), (o.in1k[0], 0), (5, 5)]}),)
    docs = {name: run(kind, src, name, *extra) for name, (kind, src, *extra) in runs.items()}
    result = cli("evaluate", *[a for name in runs for a in ("--results", name)], "--out", "table")
    table = json.loads(Path("table/robustness.json").read_text())
    (row,) = table["models"]
    assert row["model"] == "standin_models:colour_coded" and row["val"] == docs["val"]["top-1 accuracy"]
    r = row["shifts"]["imagenet-r"]
    fit = next(f for f in json.loads(Path(metrics.__file__).parent.joinpath("evaluate/data/effective_robustness.json")
                                     .read_text())["fits"] if f["shift"] == "imagenet-r" and f["transform"] == "logit")  # fmt: skip
    id_acc, ood_acc = docs["val-r"]["top-1 accuracy"], docs["r"]["top-1 accuracy"]
    expected = ood_acc - 100 / (1 + np.exp(-(fit["slope"] * np.log(id_acc / (100 - id_acc)) + fit["intercept"])))
    assert r["effective_robustness"] == pytest.approx(expected) and r["drop"] == pytest.approx(id_acc - ood_acc)
    v2 = row["shifts"]["imagenet-v2"]
    assert v2["id_setting"] == "val" and v2["effective_robustness"] == pytest.approx(
        metrics.effective_robustness(docs["val"]["top-1 accuracy"], 75.0, 0.9232, -0.4977))
    # ImageNet-O: hendrycks' get_measures on the negative max softmax, ImageNet-O the positives (scikit-learn's AP)
    from sklearn.metrics import average_precision_score, roc_auc_score

    scores = []
    for name in ("val-o", "o"):
        payload = json.loads(Path(name, "clean.json").read_text())
        scores.append(-np.array(list(payload["msp"].values())))
    truth = np.r_[np.ones(len(scores[1])), np.zeros(len(scores[0]))]
    assert row["shifts"]["imagenet-o"]["AUPR"] == pytest.approx(100 * average_precision_score(truth, np.r_[scores[1], scores[0]]))
    assert row["shifts"]["imagenet-o"]["AUROC"] == pytest.approx(100 * roc_auc_score(truth, np.r_[scores[1], scores[0]]))
    assert "| standin_models:colour_coded |" in result.output and "imagenet-r ER" in result.output
    assert Path("table/robustness.png").read_bytes()[:4] == b"\x89PNG" and Path("table/robustness.csv").is_file()


def test_refitting_from_your_own_pool(tmp_path):
    pool = tmp_path / "pool.csv"
    rng = np.random.default_rng(0)
    ids = rng.uniform(60, 85, 6)
    lines = ["model,val-on-imagenet-r-classes,imagenet-r"] + [f"m{i},{x},{100 / (1 + np.exp(-(0.5 * np.log(x / (100 - x)) - 1)))}"
                                                              for i, x in enumerate(ids)]  # fmt: skip
    pool.write_text("\n".join(lines) + "\n")
    from corruptgen.evaluate.shifts import read_fits

    (fit,) = read_fits(pool)
    assert fit["slope"] == pytest.approx(0.5) and fit["intercept"] == pytest.approx(-1.0) and fit["n_models"] == 6


def test_corruptions_of_a_shift_on_the_fly(tmp_path):
    src = r_release(tmp_path)
    cli("classify", "imagenet-r", "--src", src, "--model", "standin_models:colour_coded", "--results", "rc",
        "--corruptions", "fog,contrast", "--severities", "1", "--quiet")  # fmt: skip
    doc = json.loads(cli("evaluate", "--results", "rc").output and Path("rc/results.json").read_text())
    plain = run("imagenet-r", src, "plain")
    assert doc["P"] == pytest.approx(plain["top-1 accuracy"]) and set(doc["cells"]) == {"fog", "contrast"}
    assert doc["additional"]["top-5 accuracy"]["P"] == pytest.approx(plain["top-5 accuracy"])


def test_imagenet_d_reads_a_domainnet_domain_through_the_reference_map(tmp_path):
    space = label_space("imagenet-d")
    # police_car is merged into car; The_Eiffel_Tower maps to no ImageNet class
    folders = {"car": [(436, 436), (0, 0)], "police_car": [(817, 817)], "The_Eiffel_Tower": [(1, 1)], "zebra": [(340, 340)]}
    src = make_natural(tmp_path / "DomainNet" / "clipart", folders)
    result = cli("classify", "imagenet-d", "--src", src, "--model", "standin_models:colour_coded", "--results", "d")
    assert "ImageNet-D (clipart): 4 images of the 164 classes scored; 1 in the 166 DomainNet categories" in result.output
    cli("evaluate", "--results", "d")
    doc = json.loads(Path("d/results.json").read_text())
    samples, logits = logits_of("imagenet-d", src)
    # bethgelab/robustness imagenet_d main.py accuracy(): top-1 over all 1000, mapped through mapping_vector (-1 unmapped)
    mapping = np.full(1000, -1)
    for i, c in enumerate(space.classes):
        mapping[list(c.in1k)] = i
    targets = np.array([space.index(s.key.split("/")[0]) for s in samples])
    assert doc["rule"] == "full" and doc["top-1 accuracy"] == pytest.approx(100 * np.mean(mapping[logits.argmax(1)] == targets)) == 75.0


def test_build_imagenet_d_links_the_reference_classes_from_domainnet(tmp_path):
    folders = {"car": [(436, 436)], "police_car": [(817, 817)], "The_Eiffel_Tower": [(1, 1)], "zebra": [(340, 340)]}
    for domain in ("clipart", "painting"):
        make_natural(tmp_path / "DomainNet" / domain, folders)
    result = cli("build", "imagenet-d", "--src", tmp_path / "DomainNet", "--out", tmp_path / "imagenet-d")
    assert "clipart: 3 images in ImageNet-D's classes, 1 in categories no ImageNet class maps to" in result.output
    out = tmp_path / "imagenet-d"
    tree = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    # police_car merged into car (its file keeps its category where the name clashes), The_Eiffel_Tower skipped
    assert tree == [f"{d}/{c}" for d in ("clipart", "painting") for c in ("car/000.png", "car/police_car_000.png", "zebra/000.png")]
    source = tmp_path / "DomainNet" / "clipart" / "zebra" / "000.png"
    assert (out / "clipart" / "zebra" / "000.png").stat().st_ino == source.stat().st_ino  # a hard link, not a copy
    record = json.loads((out / "corruptgen.json").read_text())
    assert record["domains"]["painting"] == {"images": 3, "skipped": 1} and record["label_space"]["classes"] == 164
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert {r["category"] for r in rows if r["class"] == "car"} == {"car", "police_car"}
    before = (out / "manifest.jsonl").read_bytes()
    cli("build", "imagenet-d", "--src", tmp_path / "DomainNet", "--out", out, "--quiet")  # a rerun: the same tree
    assert (out / "manifest.jsonl").read_bytes() == before
    doc = run("imagenet-d", out / "clipart", "d")
    assert doc["images"] == 3 and doc["top-1 accuracy"] == 100.0
    cli("build", "imagenet-d", "--src", tmp_path / "DomainNet", "--out", tmp_path / "sym", "--link", "symlink", "--quiet")
    assert (tmp_path / "sym" / "clipart" / "zebra" / "000.png").is_symlink()


def test_build_imagenet_d_from_the_domains_zips_as_downloaded(tmp_path):
    import zipfile

    folders = {"car": [(436, 436)], "police_car": [(817, 817)], "The_Eiffel_Tower": [(1, 1)], "zebra": [(340, 340)]}
    make_natural(tmp_path / "DomainNet" / "clipart", folders)
    cli("build", "imagenet-d", "--src", tmp_path / "DomainNet", "--out", tmp_path / "from-folder", "--quiet")
    zipped = tmp_path / "zipped"
    zipped.mkdir()
    with zipfile.ZipFile(zipped / "clipart.zip", "w") as archive:  # DomainNet's zips hold clipart/<category>/<file>
        for path in sorted((tmp_path / "DomainNet").rglob("*.png")):
            archive.write(path, path.relative_to(tmp_path / "DomainNet").as_posix())
    result = cli("build", "imagenet-d", "--src", zipped, "--out", tmp_path / "from-zip")
    assert "clipart: 3 images in ImageNet-D's classes, 1 in categories no ImageNet class maps to" in result.output
    for path in (tmp_path / "from-folder").rglob("*.png"):
        assert (tmp_path / "from-zip" / path.relative_to(tmp_path / "from-folder")).read_bytes() == path.read_bytes()
    assert len(list((tmp_path / "from-zip").rglob("*.png"))) == 3
