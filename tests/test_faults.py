"""Faults a user meets get one sentence and a resume: a full disk, a read-only or vanished --out, a
source image deleted mid-build, damaged files corruptgen reads back, a build resumed from another
folder. Each ends in one sentence, no traceback, nothing half-written; with the fault removed, the
same command finishes a tree byte-identical to an undisturbed build."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fixtures import FEW, cli, make_coco, make_imagenet, make_imagenet_forms, tree_digest

import corruptgen.files
import corruptgen.writers.webdataset

BUILD = ["--corruptions", "gaussian_noise,fog", "--severities", "1,3", "--workers", "1", "--shard-size", "1", "--quiet"]


def partials(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".partial")]


@contextlib.contextmanager
def failing_open(monkeypatch, code: int, after: int, under: Path):
    """``open`` for writing under ``under`` (corruptgen's file writes and tar shards) raising ``code``
    from its ``after``-th call on: a disk that fills, a folder that turns read-only."""
    calls = {"n": 0}
    real = open

    def fake(path, mode="r", *args, **kwargs):
        if "w" in mode and str(path).startswith(str(under)):
            calls["n"] += 1
            if calls["n"] > after:
                raise OSError(code, os.strerror(code), str(path))
        return real(path, mode, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(corruptgen.files, "open", fake, raising=False)
        patch.setattr(corruptgen.writers.webdataset, "open", fake, raising=False)
        yield calls


def undisturbed(tmp_path, src, *args) -> dict:
    clean = tmp_path / "undisturbed"
    cli("build", "coco", "--src", src, "--split", "val2017", "--out", clean, *BUILD, *args)
    return tree_digest(clean)


@pytest.mark.parametrize("output_format", ["folder", "webdataset"])
@pytest.mark.parametrize("after", [0, 5, 17])
def test_a_disk_that_fills_stops_with_one_sentence_and_the_rerun_finishes(tmp_path, monkeypatch, output_format, after):
    src, out = make_coco(tmp_path / "src", n=3), tmp_path / "out"
    args = ["--output-format", output_format]
    with failing_open(monkeypatch, errno.ENOSPC, after, out):
        result = cli("build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD, *args, expect=1)
    assert "no space is left on its device; free space and rerun the same command" in result.output
    assert f"cannot write {out}" in result.output and "Traceback" not in result.output
    assert result.output.count("\n") <= 2 and partials(out) == []
    cli("build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD, *args)
    assert tree_digest(out) == undisturbed(tmp_path, src, *args)
    assert "OK" in cli("verify", out).output


def test_a_real_full_file_system_when_one_can_be_mounted(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
                                           capture_output=True).returncode != 0:  # fmt: skip
        pytest.skip("mounting a small tmpfs needs root (the patched-open test above covers every host)")
    try:
        src, out = make_coco(tmp_path / "src", n=3, size=(300, 400)), small / "out"
        result = cli("build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD, "--image-format", "png",
                     expect=1)  # fmt: skip
        assert "no space is left on its device" in result.output and partials(out) == []
        subprocess.run(["mount", "-o", "remount,size=64m", str(small)], check=True)
        cli("build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD, "--image-format", "png")
        assert tree_digest(out) == undisturbed(tmp_path, src, "--image-format", "png")
    finally:
        subprocess.run(["umount", str(small)], capture_output=True)


def test_a_read_only_out_gets_one_sentence(tmp_path, monkeypatch):
    src, out = make_coco(tmp_path / "src", n=2), tmp_path / "out"
    with failing_open(monkeypatch, errno.EROFS, 0, out):
        result = cli("build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD, expect=1)
    assert "its file system is read-only; write to a writable folder" in result.output
    assert "Traceback" not in result.output and partials(out) == []


def test_a_source_image_deleted_mid_build_fails_its_outputs_and_the_rerun_redoes_them(tmp_path, monkeypatch):
    src, out = make_coco(tmp_path / "src", n=3), tmp_path / "out"
    victim = src / "val2017" / "000000000002.jpg"
    saved = victim.read_bytes()
    import corruptgen.pipeline.engine as engine

    real = engine.run_shards

    def delete_then_run(*args, **kwargs):  # after the samples were listed, before any was read
        victim.unlink()
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "run_shards", delete_then_run)
    result = cli("build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD, expect=1)
    monkeypatch.undo()
    assert "000000000002.jpg" in result.output and "Traceback" not in result.output
    victim.write_bytes(saved)
    cli("build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD)
    assert tree_digest(out) == undisturbed(tmp_path, src)


@pytest.fixture
def built(tmp_path):
    src, out = make_coco(tmp_path / "src", n=3), tmp_path / "out"
    cli("build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD)
    return src, out


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


@pytest.mark.parametrize("damaged", ["manifests/fog/3/shard-00001.jsonl", "manifests/fog/3.jsonl"])
def test_a_damaged_manifest_is_a_problem_verify_lists_and_a_rerun_repairs(built, tmp_path, damaged):
    src, out = built
    expected = tree_digest(out)
    truncate(out / damaged)
    result = cli("verify", out, expect=1)
    assert Path(damaged).name in result.output and "Traceback" not in result.output
    if damaged.endswith("shard-00001.jsonl"):
        assert "is damaged" in result.output and "rerun the build to rewrite it" in result.output
    cli("build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD)
    assert tree_digest(out) == expected and "OK" in cli("verify", out).output


def test_a_damaged_state_file_gets_one_sentence_everywhere(built, tmp_path):
    src, out = built
    truncate(out / "corruptgen.json")
    for args in (["verify", out], ["build", "coco", "--src", src, "--split", "val2017", "--out", out, *BUILD],
                 ["report", out, "--out", tmp_path / "r.html"]):  # fmt: skip
        result = cli(*args, expect=1)
        assert "corruptgen.json is unreadable" in result.output and "Traceback" not in result.output, args
        assert result.output.strip().count("\n") <= (1 if args[0] == "verify" else 0), result.output  # verify: + its count


def test_a_damaged_results_file_names_itself(built, tmp_path):
    _, out = built
    runs = tmp_path / "runs"
    cli("detect", out, "--model", "standin_models:brightness_detector", "--results", runs, "--quiet")
    truncate(runs / "fog" / "3.json")
    result = cli("evaluate", out, "--results", runs, expect=1)
    assert f"{runs / 'fog' / '3.json'} is not valid JSON" in result.output and "Traceback" not in result.output


def test_a_damaged_source_index_is_read_from_the_archive_again(tmp_path):
    forms = make_imagenet_forms(tmp_path / "forms")
    out = tmp_path / "out"
    args = ["build", "imagenet", "--src", forms["tar"], "--labels", forms["csv"], "--out", out, *FEW, "--quiet"]
    cli(*args, "--limit", "3")
    expected_index = (out / "source-index.json").read_bytes()
    truncate(out / "source-index.json")
    cli(*args)
    assert (out / "source-index.json").read_bytes() == expected_index and "OK" in cli("verify", out).output


def test_the_same_build_resumes_from_another_working_directory(tmp_path, monkeypatch):
    make_imagenet(tmp_path / "src")
    (tmp_path / "elsewhere").mkdir()
    args = ["--corruptions", "fog", "--severities", "1", "--quiet"]
    monkeypatch.chdir(tmp_path)
    cli("build", "imagenet", "--src", "src", "--out", "out", *args, "--limit", "2")
    monkeypatch.chdir(tmp_path / "elsewhere")
    cli("build", "imagenet", "--src", "../src", "--out", "../out", *args)
    state = json.loads((tmp_path / "out" / "corruptgen.json").read_text())
    assert state["status"] == "complete" and state["identity"]["source"] == str((tmp_path / "src").resolve())
    # an older build that recorded the path as given: resumed where it resolves alike, else told what to do
    state["identity"]["source"], state["status"] = "src", "incomplete"
    (tmp_path / "out" / "corruptgen.json").write_text(json.dumps(state))
    monkeypatch.chdir(tmp_path)
    cli("build", "imagenet", "--src", str(tmp_path / "src"), "--out", "out", *args)
    state["identity"]["source"] = "src"
    (tmp_path / "out" / "corruptgen.json").write_text(json.dumps(state))
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = cli("build", "imagenet", "--src", "../src", "--out", "../out", *args, expect=1)
    assert "a path relative to the folder that build ran in" in result.output and "Traceback" not in result.output


def test_nothing_half_written_stays_when_a_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "a" / "b.bin"
    with failing_open(monkeypatch, errno.ENOSPC, 0, tmp_path), pytest.raises(corruptgen.files.StorageError) as caught:
        corruptgen.files.atomic_write(target, b"x" * 10)
    assert str(caught.value).startswith(f"cannot write {target}: no space is left") and partials(tmp_path) == []
    shutil.rmtree(tmp_path / "a", ignore_errors=True)
