"""Waterbirds (#38, item 2): the reference's steps from CUB- and Places-like trees, seeded; read by WILDS; grouped
scoring (#38, item 5) and its -C variant (item 6)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from fixtures import cli, photo, tree_digest
from PIL import Image
from waterbirds_reference import reference_composite
from wilds.datasets.waterbirds_dataset import WaterbirdsDataset

from corruptgen.datasets.waterbirds import PLACES, is_waterbird

SPECIES = ["001.Black_footed_Albatross", "050.Eared_Grebe", "086.Pacific_Loon", "141.Artic_Tern", "094.White_breasted_Nuthatch",
           "149.Eastern_Towhee", "088.Western_Meadowlark", "102.Western_Wood_Pewee", "073.Blue_Jay", "036.Northern_Flicker"]  # fmt: skip
PER_SPECIES = 12


def make_cub(root: Path) -> Path:
    """CUB_200_2011's layout (images.txt, train_test_split.txt, images/, and segmentations/ beside it) with soft
    masks: an ellipse of 255 with a ramp to 0 at its edge."""
    cub = root / "CUB_200_2011"
    lines, splits, n = [], [], 0
    for k, species in enumerate(SPECIES):
        for j in range(PER_SPECIES):
            n += 1
            name = f"{species}/{species.split('.')[1]}_{j:04d}_{n}.jpg"
            height, width = 30 + 3 * (n % 5), 40 + 2 * (n % 7)
            path = cub / "images" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(photo(n, height, width)).save(path, quality=90)
            yy, xx = np.mgrid[:height, :width]
            r = ((yy - height / 2) / (height / 3)) ** 2 + ((xx - width / 2) / (width / 3)) ** 2
            mask = (np.clip(1.5 - r, 0, 1) * 255).astype(np.uint8)
            seg = root / "segmentations" / name.replace(".jpg", ".png")
            seg.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(mask).save(seg)
            lines.append(f"{n} {name}")
            splits.append(f"{n} {int(j % 2 == 0 or k == 0)}")
    (cub / "images.txt").write_text("\n".join(lines) + "\n")
    (cub / "train_test_split.txt").write_text("\n".join(splits) + "\n")
    return cub


def make_places(root: Path, per_category: int = 70) -> Path:
    """Places365's data_large/ for the four categories: land ones green, water ones blue, of several sizes (some
    smaller than the birds, so crop_and_resize enlarges them)."""
    rng = np.random.default_rng(1)
    for place, categories in enumerate(PLACES):
        for category in categories:
            folder = root / "data_large" / category[0] / category
            folder.mkdir(parents=True)
            for i in range(per_category):
                height, width = (20 + 13 * (i % 6), 25 + 17 * (i % 5))
                image = rng.integers(0, 60, size=(height, width, 3), dtype=np.uint8)
                image[..., 2 if place else 1] += 150
                Image.fromarray(image).save(folder / f"{i:08d}.jpg")
    (root / "categories_places365.txt").write_text("/b/bamboo_forest 36\n/f/forest/broadleaf 150\n/l/lake/natural 205\n/o/ocean 243\n")
    return root


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("wb")
    return make_cub(root / "cub"), make_places(root / "places365")


@pytest.fixture(scope="module")
def built(sources, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built") / "waterbirds_v1.0"
    cli("build", "waterbirds", "--src", sources[0], "--places", sources[1], "--out", out, "--workers", 1, "--quiet")
    return out


def read_metadata(out: Path) -> list[dict]:
    return list(csv.DictReader((out / "metadata.csv").open()))


def test_species_rule_reference_marks_three_landbirds_as_waterbirds():
    names = [s.split(".", 1)[1] for s in SPECIES]
    reference = {n for n in names if is_waterbird(n)}
    strict = {n for n in names if is_waterbird(n, "strict")}
    assert reference - strict == {"Eastern_Towhee", "Western_Meadowlark", "Western_Wood_Pewee"}  # the README's three
    assert strict == {"Black_footed_Albatross", "Eared_Grebe", "Pacific_Loon", "Artic_Tern"}


def test_group_counts_are_the_references_fractions(built):
    rows = read_metadata(built)
    assert list(rows[0]) == ["img_id", "img_filename", "y", "split", "place", "place_filename"]
    assert len(rows) == len(SPECIES) * PER_SPECIES
    train_official = [r for r in rows if r["split"] in ("0", "1")]
    val = [r for r in rows if r["split"] == "1"]
    assert len(val) == int(np.round(0.2 * len(train_official)))
    for split, fractions in (("0", (0.05, 0.95)), ("1", (0.5, 0.5)), ("2", (0.5, 0.5))):
        for y in (0, 1):
            members = [r for r in rows if r["split"] == split and r["y"] == str(y)]
            water = sum(r["place"] == "1" for r in members)
            assert water == int(np.round(fractions[y] * len(members))), (split, y)
    for r in rows:  # each background from its place's categories, each file used once
        assert r["place_filename"].split("/")[2] in {c.split("/")[0] for c in PLACES[int(r["place"])]}
    assert len({r["place_filename"] for r in rows}) == len(rows)
    record = json.loads((built / "corruptgen.json").read_text())
    assert record["complete"] and record["group_counts"]["train"]["y=1,place=1"] == sum(
        r["split"] == "0" and r["y"] == "1" and r["place"] == "1" for r in rows)


def test_every_image_is_the_references_composite_pixel_for_pixel(sources, built):
    enlarged = 0
    for row in read_metadata(built):
        expected = reference_composite(*sources, row)
        buffer = io.BytesIO()
        Image.fromarray(expected).save(buffer, format="JPEG")  # combined_img.save(path): Pillow's JPEG defaults
        assert (built / row["img_filename"]).read_bytes() == buffer.getvalue(), row["img_filename"]
        background = Image.open(sources[1] / "data_large" / row["place_filename"][1:])
        enlarged += background.width < expected.shape[1] or background.height < expected.shape[0]
    assert enlarged > 5  # the enlarging branch of crop_and_resize was taken


def test_rebuilds_are_byte_identical_across_workers_and_after_an_interruption(sources, built, tmp_path):
    again = tmp_path / "two"
    cli("build", "waterbirds", "--src", sources[0], "--places", sources[1], "--out", again, "--workers", 2, "--quiet")
    assert tree_digest(again) == tree_digest(built)
    images = sorted(p for p in again.rglob("*.jpg"))
    for path in images[::3]:  # an interrupted build: some images never written, one half-written
        path.unlink()
    (images[1].parent / f".{images[1].name}.partial").write_bytes(b"\xff\xd8half")
    images[1].unlink()
    cli("build", "waterbirds", "--src", sources[0], "--places", sources[1], "--out", again, "--quiet")
    assert {k: v for k, v in tree_digest(again).items() if ".partial" not in k} == tree_digest(built)
    other = tmp_path / "seeded"
    cli("build", "waterbirds", "--src", sources[0], "--places", sources[1], "--out", other, "--seed", 1, "--quiet")
    assert (other / "metadata.csv").read_bytes() != (built / "metadata.csv").read_bytes()
    refused = cli("build", "waterbirds", "--src", sources[0], "--places", sources[1], "--out", other, "--quiet", expect=1)
    assert "other settings" in refused.output


def test_confounder_strength_and_the_strict_rule_are_recorded(sources, tmp_path):
    out = tmp_path / "strict"
    cli("build", "waterbirds", "--src", sources[0], "--places", sources[1], "--out", out, "--species-rule", "strict",
        "--confounder-strength", 0.75, "--quiet")  # fmt: skip
    rows = read_metadata(out)
    towhees = [r for r in rows if "Towhee" in r["img_filename"]]
    assert towhees and all(r["y"] == "0" for r in towhees)
    train_land = [r for r in rows if r["split"] == "0" and r["y"] == "0"]
    assert sum(r["place"] == "1" for r in train_land) == int(np.round(0.25 * len(train_land)))
    assert json.loads((out / "corruptgen.json").read_text())["settings"]["species_rule"] == "strict"


def test_bad_sources_get_one_sentence(sources, tmp_path):
    result = cli("build", "waterbirds", "--src", tmp_path, "--places", sources[1], "--out", tmp_path / "o", expect=1)
    assert "CUB_200_2011" in result.output and "Traceback" not in result.output
    result = cli("build", "waterbirds", "--src", sources[0], "--places", tmp_path, "--out", tmp_path / "o", expect=1)
    assert "data_large/b/bamboo_forest" in result.output
    result = cli("build", "waterbirds", "--src", sources[0], "--places", sources[1], "--out", tmp_path / "o",
                 "--corruptions", "fog", expect=2)  # fmt: skip
    assert "generated tree as --src" in result.output


def test_wilds_reads_the_tree_and_scores_as_evaluate_does(built, tmp_path):
    dataset = WaterbirdsDataset(root_dir=str(built.parent), download=False)
    rows = read_metadata(built)
    assert len(dataset) == len(rows) and dataset.y_array.tolist() == [int(r["y"]) for r in rows]
    test = dataset.get_subset("test")
    x, y, metadata = test[0]
    assert x.size[0] > 0 and int(y) == int(metadata[1])

    results = tmp_path / "results"
    cli("classify", "waterbirds", "--src", built, "--model", "standin_models:background_classifier", "--results",
        results, "--workers", 1, "--quiet")  # fmt: skip
    evaluated = cli("evaluate", "--results", results)
    doc = json.loads((results / "results.json").read_text())
    assert "worst group" in evaluated.output and doc["split"] == "test"
    predictions = json.loads((results / "clean.json").read_text())["predictions"]
    indices = test.indices
    # WILDS' own grouper names and numbers the groups (its eval needs torch_scatter, which does not install here)
    grouper = dataset._eval_grouper
    groups = grouper.metadata_to_group(dataset.metadata_array[indices]).numpy()
    correct = np.array([predictions[dataset._input_array[i]] == int(dataset.y_array[i]) for i in indices])
    for g in range(grouper.n_groups):
        name = grouper.group_field_str(g)
        members = groups == g
        assert doc["groups"][f"count_{name}"] == int(members.sum()), name
        if members.any():
            assert doc["groups"][f"acc_{name}"] == pytest.approx(100 * correct[members].mean()), name
    assert doc["worst-group accuracy"] == pytest.approx(min(100 * correct[groups == g].mean() for g in set(groups)))
    weights = {"y:landbird_background:land": 3498, "y:landbird_background:water": 184, "y:waterbird_background:land": 56,
               "y:waterbird_background:water": 1057}  # WILDS' adj_acc_avg weights: the released training split's counts
    assert set(weights) == {grouper.group_field_str(g) for g in range(4)}
    assert doc["adjusted average accuracy"] is not None


def test_corrupted_waterbirds_keeps_its_metadata_and_is_scored_per_group(built, tmp_path):
    out = tmp_path / "wbc"
    cli("build", "waterbirds", "--src", built, "--out", out, "--corruptions", "gaussian_noise,fog", "--severities", "3",
        "--quiet")  # fmt: skip
    tree = out / "fog" / "3"
    assert (tree / "metadata.csv").read_bytes() == (built / "metadata.csv").read_bytes()
    assert (tree / "RELEASE_v1.0.txt").is_file()
    assert len(list(tree.rglob("*.jpg"))) == len(read_metadata(built))
    root = tmp_path / "wilds-root"
    root.mkdir()
    os.symlink(tree, root / "waterbirds_v1.0")
    dataset = WaterbirdsDataset(root_dir=str(root), download=False)
    assert np.asarray(dataset[0][0]).shape == np.asarray(Image.open(built / read_metadata(built)[0]["img_filename"])).shape
    results = tmp_path / "results"
    cli("classify", out, "--model", "standin_models:background_classifier", "--results", results, "--workers", 1, "--quiet")
    cli("evaluate", out, "--results", results)
    doc = json.loads((results / "results.json").read_text())
    assert doc["metric"] == "average accuracy" and "worst-group accuracy" in doc["additional"]
    assert doc["groups"]["acc_wg"] <= doc["groups"]["acc_avg"]
    shutil.rmtree(root)


def test_waterbirds_as_webdataset_carries_label_and_metadata(built, tmp_path):
    import tarfile

    out = tmp_path / "wds"
    cli("build", "waterbirds", "--src", built, "--out", out, "--corruptions", "fog", "--severities", "1", "--output-format",
        "webdataset", "--quiet")  # fmt: skip
    members = {}
    for shard in sorted((out / "fog" / "1").glob("*.tar")):
        with tarfile.open(shard) as tar:
            members.update({m.name: tar.extractfile(m).read() for m in tar.getmembers()})
    rows = read_metadata(built)
    row = rows[0]
    key = row["img_filename"][: -len(".jpg")].replace(".", "_")
    assert members[f"{key}.cls"] == row["y"].encode()
    assert json.loads(members[f"{key}.json"]) == row and f"{key}.jpg" in members
    assert sum(name.endswith(".jpg") for name in members) == len(rows)


def test_waterbirds_generated_as_webdataset_shards(sources, built, tmp_path):
    import tarfile

    import webdataset as wds

    out = tmp_path / "wds"
    cli("build", "waterbirds", "--src", sources[0], "--places", sources[1], "--out", out, "--output-format", "webdataset",
        "--quiet")  # fmt: skip
    rows = {r["img_filename"]: r for r in read_metadata(built)}
    assert (out / "metadata.csv").read_bytes() == (built / "metadata.csv").read_bytes()
    seen = 0
    for split, code in (("train", "0"), ("val", "1"), ("test", "2")):
        shards = sorted(str(p) for p in (out / split).glob("*.tar"))
        for sample in wds.WebDataset(shards, shardshuffle=False):
            meta = json.loads(sample["json"])
            assert meta["split"] == int(code) and sample["cls"] == str(meta["y"]).encode()
            assert sample["jpg"] == (built / meta["img_filename"]).read_bytes()  # the folder build's very bytes
            seen += 1
    assert seen == len(rows)
    assert "OK, all" in cli("verify", out).output
    again = tmp_path / "wds2"
    cli("build", "waterbirds", "--src", sources[0], "--places", sources[1], "--out", again, "--output-format", "webdataset",
        "--workers", 2, "--quiet")  # fmt: skip
    assert tree_digest(again) == tree_digest(out)
    with tarfile.open(next((out / "test").glob("*.tar"))) as tar:
        assert {m.mtime for m in tar.getmembers()} == {0}
    refused = cli("classify", "waterbirds", "--src", out, "--model", "standin_models:background_classifier", "--results",
                  tmp_path / "r", expect=1)  # fmt: skip
    assert "WebDataset shards" in refused.output
