"""Builds at scale: WebDataset tar shards read back by webdataset and Hugging Face datasets, one
build per --out at a time, and Dask builds on real scheduler and worker processes, one of them
killed mid-build."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fixtures import make_coco, make_imagenet, make_voc, tree_digest
from PIL import Image

from corruptgen.cli import main
from corruptgen.writers.webdataset import tar_key

FEW = ["--corruptions", "gaussian_noise,rotate,fog", "--severities", "1,3"]


def build(*args, expect=0):
    result = CliRunner().invoke(main, ["build", *map(str, args)])
    assert result.exit_code == expect, result.output + str(result.exception)
    return result


def verify(out: Path, expect=0):
    result = CliRunner().invoke(main, ["verify", str(out)])
    assert result.exit_code == expect, result.output
    return result


def folder_pixels(tree: Path) -> dict[str, np.ndarray]:
    return {tar_key(p.relative_to(tree).as_posix()): np.asarray(Image.open(p).convert("RGB"))
            for p in sorted(tree.rglob("*.png"))}  # fmt: skip


def read_webdataset(pattern: str, image: str):
    import webdataset as wds

    return list(wds.WebDataset(pattern, shardshuffle=False, empty_check=False).decode("rgb8"))


def read_hf(files: list[str], cache: Path):
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    from datasets import load_dataset

    return load_dataset("webdataset", data_files={"test": files}, split="test", cache_dir=str(cache))


def test_coco_sample_as_webdataset_reads_back_pixel_for_pixel(tmp_path):
    folder, shards = tmp_path / "folder", tmp_path / "wds"
    build("coco", "--out", folder, *FEW, "--image-format", "png", "--quiet")
    build("coco", "--out", shards, *FEW, "--image-format", "png", "--output-format", "webdataset", "--quiet")
    verify(shards)
    source = json.loads((folder / "annotations" / "instances_sample.json").read_text())
    for cell in ("fog/3", "rotate/1"):
        tars = sorted((shards / cell).glob("*.tar"))
        assert [t.name for t in tars] == ["coco-000000.tar"]
        expected = folder_pixels(folder / cell / "sample")  # COCO keys are the file names
        samples = read_webdataset(str(tars[0]), "png")
        assert [s["__key__"] for s in samples] == sorted(expected) == ["astronaut", "chelsea", "coffee", "motorcycle_left"]
        for s in samples:
            assert np.array_equal(s["png"], expected[s["__key__"]])
            record = s["json"]
            assert record["image"]["file_name"].endswith(".png")
            anns = [a for a in source["annotations"] if a["image_id"] == record["image"]["id"]]
            if cell.startswith("fog"):
                assert record["annotations"] == anns  # photometric: carried unchanged
            else:
                moved = json.loads((folder / cell / "annotations" / "instances_sample.json").read_text())
                assert record["annotations"] == [a for a in moved["annotations"] if a["image_id"] == record["image"]["id"]]
        hf = read_hf([str(t) for t in tars], tmp_path / "hf")
        assert hf.num_rows == 4 and set(hf.column_names) >= {"png", "json", "__key__"}
        for row in hf:
            assert np.array_equal(np.asarray(row["png"].convert("RGB")), expected[row["__key__"]])


def test_imagenet_as_webdataset_carries_class_indices(tmp_path):
    src = make_imagenet(tmp_path / "imagenet")
    folder, shards = tmp_path / "folder", tmp_path / "wds"
    args = ["imagenet", "--src", src, "--split", "val", "--corruptions", "snow", "--severities", "2", "--quiet"]
    build(*args, "--out", folder)
    build(*args, "--out", shards, "--output-format", "webdataset", "--shard-size", "3")
    verify(shards)
    tars = sorted((shards / "snow" / "2").glob("*.tar"))
    assert [t.name for t in tars] == ["imagenet-000000.tar", "imagenet-000001.tar"]
    classes = {"n01440764": 0, "n01443537": 1, "n09999999": 2}
    samples = [s for t in tars for s in read_webdataset(str(t), "jpeg")]
    assert len(samples) == 4
    for s in samples:
        wnid = s["__key__"].split("/")[0]
        assert s["cls"] == classes[wnid]
        jpeg = (folder / "snow" / "2" / (s["__key__"] + ".JPEG")).read_bytes()
        with tarfile.open(next(t for t in tars if s["__url__"] == str(t))) as tar:
            assert tar.extractfile(s["__key__"] + ".jpeg").read() == jpeg  # the same encoded bytes as the folder build
    hf = read_hf([str(t) for t in tars], tmp_path / "hf")
    assert sorted(hf["cls"]) == [0, 0, 1, 1]


def test_voc_and_mnist_members(tmp_path):
    voc = make_voc(tmp_path / "voc")
    build("voc", "--src", voc, "--out", tmp_path / "voc-wds", "--corruptions", "shear", "--severities", "5",
          "--output-format", "webdataset", "--quiet")  # fmt: skip
    with tarfile.open(tmp_path / "voc-wds" / "shear" / "5" / "voc-000000.tar") as tar:
        names = tar.getnames()
        doc = json.loads(tar.extractfile("VOC2007/JPEGImages/000001.json").read())
    assert names == ["VOC2007/JPEGImages/000001.jpg", "VOC2007/JPEGImages/000001.json",
                     "VOC2007/JPEGImages/000001.segmentationclass.png", "VOC2007/JPEGImages/000002.jpg",
                     "VOC2007/JPEGImages/000002.json", "VOC2007/JPEGImages/000002.segmentationclass.png"]  # fmt: skip
    assert doc["size"] == {"width": 52, "height": 40, "depth": 3} and doc["objects"][0]["name"] == "cat"
    assert doc["objects"][0]["bbox"] != [3.0, 4.0, 30.0, 20.0]  # sheared with the image
    assert not (tmp_path / "voc-wds" / "shear" / "5" / "VOCdevkit").exists()


def test_mnist_and_cityscapes_members(tmp_path):
    from fixtures import make_cityscapes, make_mnist

    from corruptgen.datasets.mnist import read_idx

    src = make_mnist(tmp_path / "mnist")
    build("mnist", "--src", src, "--out", tmp_path / "mnist-wds", "--corruptions", "zigzag", "--severities", "2",
          "--output-format", "webdataset", "--quiet")  # fmt: skip
    samples = read_webdataset(str(tmp_path / "mnist-wds" / "zigzag" / "2" / "mnist-000000.tar"), "png")
    labels = np.concatenate([read_idx(src / "train-labels-idx1-ubyte.gz", 1), read_idx(src / "t10k-labels-idx1-ubyte.gz", 1)])
    assert [s["__key__"] for s in samples][:2] == ["train/00000", "train/00001"] and len(samples) == 12
    assert [s["cls"] for s in samples] == labels.tolist() and samples[0]["png"].shape == (28, 28, 3)
    city = make_cityscapes(tmp_path / "cs")
    build("cityscapes", "--src", city, "--out", tmp_path / "cs-wds", "--corruptions", "translate", "--severities", "5",
          "--output-format", "webdataset", "--quiet")  # fmt: skip
    with tarfile.open(tmp_path / "cs-wds" / "translate" / "5" / "cityscapes-000000.tar") as tar:
        prefix = "leftImg8bit/val/frankfurt/frankfurt_000000_000019_leftImg8bit"
        names = [n for n in tar.getnames() if n.startswith(prefix)]
        assert names == [f"{prefix}.png", f"{prefix}.gtFine_instanceIds.png", f"{prefix}.gtFine_labelIds.png",
                         f"{prefix}.gtFine_polygons.json"]  # fmt: skip
        ids = np.asarray(Image.open(io.BytesIO(tar.extractfile(f"{prefix}.gtFine_instanceIds.png").read())))
    assert ids.dtype == np.uint16 and set(np.unique(ids)) == {0, 26001}  # moved with the image, still 16-bit


def test_tar_bytes_are_the_same_whatever_the_workers(tmp_path):
    src = make_coco(tmp_path / "coco", n=5)
    args = ["coco", "--src", src, *FEW, "--output-format", "webdataset", "--shard-size", "2", "--quiet"]
    build(*args, "--out", tmp_path / "a", "--workers", "1")
    build(*args, "--out", tmp_path / "b", "--workers", "2")
    a, b = tree_digest(tmp_path / "a"), tree_digest(tmp_path / "b")
    assert a == b and sum(k.endswith(".tar") for k in a) == 6 * 3
    with tarfile.open(tmp_path / "a" / "fog" / "3" / "coco-000001.tar") as tar:
        info = tar.getmembers()[0]
        assert (info.mtime, info.uid, info.gid, info.mode, info.uname) == (0, 0, 0, 0o644, "")


def test_verify_checks_tar_members(tmp_path):
    out = tmp_path / "wds"
    build("coco", "--out", out, "--corruptions", "fog", "--severities", "1", "--output-format", "webdataset", "--quiet")
    tar_path = out / "fog" / "1" / "coco-000000.tar"
    with tarfile.open(tar_path) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(tar_path, "w") as tar:  # the same members, one json altered
        for info, data in members:
            data = data.replace(b'"iscrowd":0', b'"iscrowd":1') if info.name == "chelsea.json" else data
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = verify(out, expect=1)
    assert "fog/1/coco-000000.tar: member chelsea.json does not match its sha256" in result.output


def slow_build(src: Path, out: Path, *extra: str) -> subprocess.Popen:
    args = ["coco", "--src", str(src), "--corruptions", "glass_blur,zoom_blur", "--severities", "1-5", "--shard-size", "1",
            "--workers", "1", "--quiet", *extra]  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "corruptgen", "build", *args, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def wait_for(predicate, seconds=90.0):
    deadline = time.time() + seconds
    while time.time() < deadline and not predicate():
        time.sleep(0.02)
    assert predicate(), "timed out waiting"


def manifests(out: Path) -> int:
    return len(list(out.glob("manifests/*/*/shard-*.jsonl")))


def test_second_build_into_the_same_out_is_refused_and_a_killed_holder_does_not_block(tmp_path):
    src = make_coco(tmp_path / "coco", n=2)
    out = tmp_path / "out"
    args = ["coco", "--src", str(src), "--out", str(out), "--corruptions", "fog", "--severities", "1"]
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from corruptgen.pipeline.lock import build_lock\n"
                               "with build_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(120)", str(out)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    second = subprocess.run([sys.executable, "-m", "corruptgen", "build", *args], capture_output=True, text=True)
    assert second.returncode == 1 and "is being built right now (corruptgen build, pid" in second.stderr
    assert "Traceback" not in second.stderr and not (out / "fog").exists()
    holder.send_signal(signal.SIGKILL)  # a killed build's lock goes with its process
    holder.wait()
    build(*args)
    verify(out)
    assert (out / ".corruptgen.lock").read_text() == ""


def test_killed_webdataset_build_resumes_to_identical_tars(tmp_path):
    src = make_coco(tmp_path / "coco", n=8, size=(240, 320))
    out, reference = tmp_path / "killed", tmp_path / "reference"
    proc = slow_build(src, out, "--output-format", "webdataset")
    wait_for(lambda: manifests(out) >= 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < manifests(out) < 8 * 10, "the build was not interrupted mid-way"
    slow_build(src, out, "--output-format", "webdataset").wait()
    slow_build(src, reference, "--output-format", "webdataset").wait()
    assert tree_digest(out) == tree_digest(reference)
    assert not list(out.rglob("*.partial"))
    verify(out)


# --- Dask on real processes ----------------------------------------------------------------------


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, as a user starts them."""

    def __init__(self, root: Path, workers: int = 2):
        self.file = root / "scheduler.json"
        env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
        dask = str(Path(sys.executable).with_name("dask"))  # the CLI installed beside this Python
        self.scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                           "--scheduler-file", str(self.file)], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, env=env)  # fmt: skip
        wait_for(lambda: self.file.is_file() and self.file.stat().st_size > 0, 60)
        self.workers = [subprocess.Popen([dask, "worker", "--scheduler-file", str(self.file), "--nthreads", "1",
                                          "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                        for _ in range(workers)]  # fmt: skip
        from distributed import Client

        with Client(scheduler_file=str(self.file), timeout=60) as client:
            client.wait_for_workers(workers, timeout=60)

    @property
    def address(self) -> str:
        return json.loads(self.file.read_text())["address"]

    def close(self):
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture
def cluster(tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is part of the test extras")
    cluster = Cluster(tmp_path)
    yield cluster
    cluster.close()


def test_dask_processes_build_what_a_local_build_does(tmp_path, cluster):
    src = make_coco(tmp_path / "coco", n=5)
    for fmt in ("folder", "webdataset"):
        args = ["coco", "--src", src, *FEW, "--shard-size", "2", "--output-format", fmt, "--quiet"]
        local, remote = tmp_path / f"local-{fmt}", tmp_path / f"dask-{fmt}"
        build(*args, "--out", local, "--workers", "1")
        build(*args, "--out", remote, "--dask", cluster.file)  # the scheduler file
        assert tree_digest(remote) == tree_digest(local)
        verify(remote)
    env_out = tmp_path / "dask-env"
    os.environ["DASK_SCHEDULER_ADDRESS"] = cluster.address
    try:
        result = build("coco", "--src", src, "--corruptions", "fog", "--severities", "1", "--out", env_out)
    finally:
        del os.environ["DASK_SCHEDULER_ADDRESS"]
    assert f"Running on the Dask scheduler at {cluster.address} (DASK_SCHEDULER_ADDRESS)" in result.output


def test_a_worker_killed_mid_build_loses_nothing(tmp_path, cluster):
    src = make_coco(tmp_path / "coco", n=10, size=(240, 320))
    args = ["coco", "--src", str(src), "--corruptions", "glass_blur,zoom_blur", "--severities", "1-5", "--shard-size", "1",
            "--output-format", "webdataset", "--quiet"]  # fmt: skip
    out = tmp_path / "dask"
    proc = subprocess.Popen([sys.executable, "-m", "corruptgen", "build", *args, "--out", str(out), "--dask", str(cluster.file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_for(lambda: manifests(out) >= 10)  # a shard done: both workers are busy with the next ones
    victim = cluster.workers[0]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert manifests(out) < 10 * 10, "the build finished before the worker was killed"
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    local = tmp_path / "local"
    build(*args, "--out", local, "--workers", "2")
    assert tree_digest(out) == tree_digest(local)
    assert not list(out.rglob("*.partial"))
    verify(out)


def test_a_killed_client_reruns_only_what_is_missing(tmp_path, cluster):
    src = make_coco(tmp_path / "coco", n=8, size=(240, 320))
    out = tmp_path / "dask"
    client = slow_build(src, out, "--dask", str(cluster.file))
    wait_for(lambda: manifests(out) >= 10)
    client.send_signal(signal.SIGKILL)
    client.wait()
    result = build("coco", "--src", src, "--out", out, "--corruptions", "glass_blur,zoom_blur", "--severities", "1-5",
                   "--shard-size", "1", "--dask", cluster.file)  # fmt: skip
    written, skipped = (int(n) for n in re.search(r"(\d+) outputs written, (\d+) already built", result.output).groups())
    assert written + skipped == 8 * 10 and skipped >= 10  # only what the killed client left undone
    reference = tmp_path / "reference"
    build("coco", "--src", src, "--out", reference, "--corruptions", "glass_blur,zoom_blur", "--severities", "1-5",
          "--shard-size", "1", "--quiet")  # fmt: skip
    assert tree_digest(out) == tree_digest(reference)
    verify(out)


def test_unreachable_cluster_is_one_sentence(tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is part of the test extras")
    src = make_coco(tmp_path / "coco", n=1)
    os.environ["CORRUPTGEN_DASK_TIMEOUT"] = "2"
    try:
        result = build("coco", "--src", src, "--out", tmp_path / "out", "--dask", "tcp://127.0.0.1:9", expect=1)
    finally:
        del os.environ["CORRUPTGEN_DASK_TIMEOUT"]
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 2 s" in result.output
    result = build("coco", "--src", src, "--out", tmp_path / "out", "--dask", tmp_path / "missing.json", expect=1)
    assert "no such scheduler file" in result.output and not (tmp_path / "out").exists()
