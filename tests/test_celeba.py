"""CelebA groups (#38, item 4): group DRO's numbering from CelebA's own files, images linked."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from fixtures import cli, photo
from PIL import Image

ATTRIBUTES = ["5_o_Clock_Shadow", "Blond_Hair", "Eyeglasses", "Male", "Smiling"]


def make_celeba(root: Path, n: int = 12, text: bool = False) -> Path:
    """CelebA's layout: img_align_celeba/, list_attr_celeba and list_eval_partition (CSV, or the original text)."""
    rng = np.random.default_rng(0)
    (root / "img_align_celeba").mkdir(parents=True)
    values = rng.choice([-1, 1], size=(n, len(ATTRIBUTES)))
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for i, name in enumerate(names):
        Image.fromarray(photo(i, 218, 178)).save(root / "img_align_celeba" / name)
    if text:
        lines = [str(n), " ".join(ATTRIBUTES)] + [" ".join([name, *map(str, v)]) for name, v in zip(names, values)]
        (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
        (root / "list_eval_partition.txt").write_text("".join(f"{name} {i % 3}\n" for i, name in enumerate(names)))
    else:
        with open(root / "list_attr_celeba.csv", "w", newline="") as fh:
            csv.writer(fh).writerows([["image_id", *ATTRIBUTES], *([name, *v] for name, v in zip(names, values))])
        with open(root / "list_eval_partition.csv", "w", newline="") as fh:
            csv.writer(fh).writerows([["image_id", "partition"], *([name, i % 3] for i, name in enumerate(names))])
    return root


def test_groups_are_group_dros(tmp_path):
    src = make_celeba(tmp_path / "celeba")
    result = cli("build", "celeba", "--src", src, "--out", tmp_path / "groups")
    assert "train: images per group" in result.output
    rows = list(csv.DictReader((tmp_path / "groups" / "metadata.csv").open()))
    attrs = {r["image_id"]: r for r in csv.DictReader((src / "list_attr_celeba.csv").open())}
    for row in rows:  # group_DRO celebA_dataset.py: y * (n_groups / 2) + confounder_id, attributes -1/1 -> 0/1
        a = attrs[row["image_id"]]
        y, male = int(int(a["Blond_Hair"]) > 0), int(int(a["Male"]) > 0)
        assert (int(row["y"]), int(row["Male"]), int(row["group"])) == (y, male, 2 * y + male)
    out = tmp_path / "groups"
    assert (out / "img_align_celeba" / "000001.jpg").stat().st_ino == (src / "img_align_celeba" / "000001.jpg").stat().st_ino
    assert (out / "list_eval_partition.csv").read_text().splitlines()[0] == "image_id,partition"
    record = json.loads((out / "corruptgen.json").read_text())
    assert sum(map(sum, record["group_counts"].values())) == 12 and record["n_groups"] == 4


def test_two_confounders_and_the_original_text_files(tmp_path):
    src = make_celeba(tmp_path / "celeba", text=True)
    cli("build", "celeba", "--src", src, "--out", tmp_path / "g", "--target", "Smiling", "--confounder", "Male",
        "--confounder", "Blond_Hair", "--quiet")  # fmt: skip
    record = json.loads((tmp_path / "g" / "corruptgen.json").read_text())
    assert record["n_groups"] == 8 and record["confounders"] == ["Male", "Blond_Hair"]
    rows = list(csv.DictReader((tmp_path / "g" / "metadata.csv").open()))
    assert all(int(r["group"]) == 4 * int(r["y"]) + int(r["Male"]) + 2 * int(r["Blond_Hair"]) for r in rows)
    bad = cli("build", "celeba", "--src", src, "--out", tmp_path / "h", "--target", "Bald", expect=1)
    assert "CelebA has no attribute 'Bald'; valid ones are 5_o_Clock_Shadow" in bad.output
