"""Colored MNIST (#38, item 3): DomainBed's and IRM's constructions from MNIST's idx files, seeded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fixtures import cli, make_mnist

from corruptgen.datasets.colored_mnist import generate
from corruptgen.datasets.mnist import read_idx


@pytest.fixture(scope="module")
def mnist(tmp_path_factory) -> Path:
    return make_mnist(tmp_path_factory.mktemp("mnist"), n_train=2400, n_test=600)


def test_domainbed_environments_follow_the_reference_construction(mnist):
    envs = generate(mnist, "domainbed", seed=0)
    assert [e.name for e in envs] == ["+90%", "+80%", "-90%"] and [len(e.y) for e in envs] == [1000, 1000, 1000]
    digits = np.concatenate([read_idx(mnist / "train-labels-idx1-ubyte.gz", 1), read_idx(mnist / "t10k-labels-idx1-ubyte.gz", 1)])
    pool = np.concatenate([read_idx(mnist / "train-images-idx3-ubyte.gz", 3), read_idx(mnist / "t10k-images-idx3-ubyte.gz", 3)])
    assert sorted(np.concatenate([e.source for e in envs]).tolist()) == list(range(3000))  # every image once
    for env, target in zip(envs, (0.9, 0.8, 0.1)):
        assert np.array_equal(env.digit, digits[env.source])
        kept = env.images[np.arange(len(env.y)), env.color]  # the label's colour channel holds the digit...
        dropped = env.images[np.arange(len(env.y)), 1 - env.color]  # ...the other is zero
        assert np.array_equal(kept, pool[env.source]) and not dropped.any()
        agreement = env.agreement()
        assert abs(agreement["label_colour"] - target) < 0.04 and abs(agreement["label_digit"] - 0.75) < 0.04
    assert envs[0].images.shape[1:] == (2, 28, 28)


def test_irm_environments_are_14_px_from_the_training_split(mnist):
    envs = generate(mnist, "irm", seed=0)
    assert [e.name for e in envs] == ["train-0.2", "train-0.1", "test-0.9"] and envs[0].images.shape[1:] == (2, 14, 14)
    assert [len(e.y) for e in envs] == [1200, 1200, 0]  # 2,400 training images: all in the shuffled first 50,000


def test_build_colored_mnist_is_the_same_bytes_for_the_same_seed(mnist, tmp_path):
    result = cli("build", "colored-mnist", "--src", mnist, "--out", tmp_path / "a", "--seed", "3")
    assert "+90%: 1,000 images, label = colour" in result.output
    cli("build", "colored-mnist", "--src", mnist, "--out", tmp_path / "b", "--seed", "3", "--quiet")
    files = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert "metadata.csv" in files and "+90%/images.npy" in files
    for name in files:
        if name != "corruptgen.json":
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    record = json.loads((tmp_path / "a" / "corruptgen.json").read_text())
    assert record["variant"] == "domainbed" and record["seed"] == 3
    header = (tmp_path / "a" / "metadata.csv").read_text().splitlines()[0]
    assert header == "env,index,y,color,digit,source"
    other = cli("build", "colored-mnist", "--src", mnist, "--out", tmp_path / "c", "--seed", "4", "--quiet")
    assert other.exit_code == 0 and (tmp_path / "c" / "-90%" / "images.npy").read_bytes() != (tmp_path / "a" / "-90%" / "images.npy").read_bytes()
    refused = cli("build", "colored-mnist", "--src", mnist, "--out", tmp_path / "d", "--corruptions", "fog", expect=2)
    assert "--corruptions is for -C builds; colored-mnist is generated from its source" in refused.output
