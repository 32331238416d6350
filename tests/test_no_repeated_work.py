"""No repeated work (#39): a source decoded as a whole is decoded once per process, whatever shard (a
pickled adapter) asks; on the fly the runner corrupts in processes and hands the images back through
shared memory, with the same results as one worker, and leaves nothing behind."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from fixtures import cli, make_cifar, make_mnist

from corruptgen.datasets import cifar, make_adapter, mnist
from corruptgen.datasets.decoded import clear
from corruptgen.evaluate import Tree
from corruptgen.evaluate import loader as loader_module
from corruptgen.evaluate.loader import Loader, Unit


@pytest.fixture(autouse=True)
def fresh_cache():
    clear()
    yield
    clear()


def counting(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("archive", [False, True])
def test_cifar_is_decoded_once_per_process_whatever_shard_asks(tmp_path, monkeypatch, archive):
    src = make_cifar(tmp_path / "src", n_test=9, archive=archive)
    calls = counting(monkeypatch, cifar, "decode_batch")
    adapter = make_adapter("cifar10", src)
    samples = adapter.samples()
    shards = [pickle.loads(pickle.dumps(adapter)) for _ in range(3)]  # what a worker receives with each shard
    images = [shard.load(samples[i])[0] for i, shard in enumerate(shards)]
    assert len(calls) == 1
    assert all(np.array_equal(image, adapter.load(samples[i])[0]) for i, image in enumerate(images))
    assert not images[0].flags.writeable  # shared by every user in the process: never written through


def test_mnist_is_decoded_once_per_process_and_anew_when_its_files_change(tmp_path, monkeypatch):
    src = make_mnist(tmp_path / "mnist", n_train=4, n_test=3)
    calls = counting(monkeypatch, mnist, "read_idx")
    adapter = make_adapter("mnist", src)
    samples = adapter.samples()
    for _ in range(3):
        pickle.loads(pickle.dumps(adapter)).load(samples[-1])
    assert len(calls) == 4  # two splits x (images, labels), once
    make_mnist(tmp_path / "other", n_train=5, n_test=3)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (src / name).write_bytes((tmp_path / "other" / name).read_bytes())
    assert len(pickle.loads(pickle.dumps(adapter)).samples()) == 8 and len(calls) == 6  # the changed split only


def test_a_tar_gz_build_equals_the_folder_build(tmp_path):
    folder = make_cifar(tmp_path / "a", n_test=10)
    archive = make_cifar(tmp_path / "b", n_test=10, archive=True)
    for name, src in (("folder", folder), ("archive", archive)):
        cli("build", "cifar10", "--src", src, "--out", tmp_path / name, "--corruptions", "contrast,fog", "--workers", "2",
            "--shard-size", "3", "--quiet")  # fmt: skip
    for name in ("contrast.npy", "fog.npy", "labels.npy"):
        assert (tmp_path / "folder" / name).read_bytes() == (tmp_path / "archive" / name).read_bytes()


def shm_files() -> set[str]:
    return set(os.listdir(loader_module.SHM_DIR)) if os.path.isdir(loader_module.SHM_DIR) else set()


@pytest.mark.parametrize("room", [True, False])
def test_worker_processes_hand_images_back_through_shared_memory_or_pickles(tmp_path, monkeypatch, room):
    if not room:  # no shared-memory folder: pickled through the pipe, the same images
        monkeypatch.setattr(loader_module, "SHM_DIR", str(tmp_path / "missing"))
    src = make_mnist(tmp_path / "mnist", n_train=2, n_test=10)
    tree = Tree.plan("mnist", src, "test", 0, "imagenet", [("fog", 1), ("glass_blur", 2)])
    units = [Unit((s,), (None, ("fog", 1), ("glass_blur", 2)), ((None, None, None),)) for s in tree.samples()]
    before = shm_files()
    with Loader(tree, workers=1) as inline:
        expected = [images for _, images in inline.map(units)]
    with Loader(tree, workers=2, processes=True) as pool:
        got = [images for _, images in pool.map(units)]
    for want, have in zip(expected, got, strict=True):
        for (a, _), (b, _) in zip(want[0], have[0], strict=True):
            assert np.array_equal(a, b)
    assert shm_files() == before  # every block's name removed once mapped


def test_a_run_stopped_early_leaves_no_shared_memory_behind(tmp_path):
    src = make_mnist(tmp_path / "mnist", n_train=2, n_test=12)
    tree = Tree.plan("mnist", src, "test", 0, "imagenet", [("fog", 1)])
    units = [Unit((s,), (None, ("fog", 1)), ((None, None),)) for s in tree.samples()]
    before = shm_files()
    with pytest.raises(RuntimeError), Loader(tree, workers=2, processes=True) as pool:
        for n, _ in enumerate(pool.map(units)):
            if n == 2:
                raise RuntimeError("the model failed")
    assert shm_files() == before


def test_on_the_fly_runs_in_processes_and_a_built_tree_in_threads(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    chosen = []
    original = Loader.__init__

    def spy(self, tree, workers, in_flight=None, processes=False):
        chosen.append(processes)
        original(self, tree, workers, in_flight, processes)

    monkeypatch.setattr(Loader, "__init__", spy)
    src = make_mnist(tmp_path / "mnist", n_train=2, n_test=6)
    args = ("--corruptions", "fog", "--severities", "1", "--model", "standin_models:mean_classifier", "--quiet")
    cli("classify", "mnist", "--on-the-fly", "--src", src, *args, "--results", tmp_path / "fly", "--workers", "2")
    cli("build", "mnist", "--src", src, "--split", "test", "--out", tmp_path / "tree", "--corruptions", "fog",
        "--severities", "1", "--quiet")  # fmt: skip
    cli("classify", tmp_path / "tree", *args, "--results", tmp_path / "built", "--workers", "2")
    assert chosen == [True, False]
    for cell in ("clean.json", "fog/1.json"):
        assert (tmp_path / "fly" / cell).read_bytes() == (tmp_path / "built" / cell).read_bytes()
