"""``corruptgen list`` and ``corruptgen preview`` through click's CliRunner."""

from __future__ import annotations

import json

import click
import numpy as np
from click.testing import CliRunner
from PIL import Image

from corruptgen.cli import main


def run(*args, expect=0):
    result = CliRunner().invoke(main, list(map(str, args)))
    assert result.exit_code == expect, result.output
    return result


def test_list_shows_every_corruption_with_family_and_parameters():
    out = run("list").output
    assert "glass_blur  [blur, benchmark, seeded]" in out and "saturate  [digital, extra]" in out
    assert "sigma" in out and "max_delta" in out and "iterations" in out
    assert "rotate  [geometric, mnist-c, seeded]" in out and "stripe  [artifact, mnist-c]" in out
    assert out.count("\n    1 ") == 27 and "identity" not in out


def test_list_mnist_c_profile_is_its_suite_at_one_severity():
    doc = json.loads(run("list", "--json", "--profile", "mnist-c").output)
    assert [c["name"] for c in doc["corruptions"]] == [
        "identity", "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate", "brightness",
        "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges"]  # fmt: skip
    assert all(len(c["severities"]) == 1 for c in doc["corruptions"])
    shot = next(c for c in doc["corruptions"] if c["name"] == "shot_noise")
    assert list(shot["severities"][0].values()) == [3]


def test_list_json_and_profiles():
    doc = json.loads(run("list", "--json", "--profile", "cifar").output)
    assert doc["profile"] == "cifar" and len(doc["corruptions"]) == 27
    gauss = next(c for c in doc["corruptions"] if c["name"] == "gaussian_noise")
    assert [s["sigma"] for s in gauss["severities"]] == [0.04, 0.06, 0.08, 0.09, 0.10]
    run("list", "--profile", "nope", expect=2)


def test_preview_bundled_photo(tmp_path):
    out = tmp_path / "grid.png"
    result = run("preview", "--out", out, "--corruptions", "fog,snow", "--severities", "1,5", "--tile", "64")
    assert "bundled photo" in result.output and "2 corruptions x 2 severities" in result.output
    with Image.open(out) as grid:
        # a 130 px label column, then clean + 2 severities of 64 x 43 tiles (the 451 x 300 photo
        # fitted into 64 px) with 4 px gaps; an 18 px header row, then 2 rows
        assert grid.size == (130 + 3 * (64 + 4), 18 + 2 * (43 + 4))


def test_preview_of_a_file_and_bad_files(tmp_path):
    src = tmp_path / "in.png"
    Image.fromarray(np.full((30, 50, 3), 120, np.uint8)).save(src)
    run("preview", src, "--out", tmp_path / "g.png", "--corruptions", "contrast")
    assert (tmp_path / "g.png").is_file()
    (tmp_path / "bad.png").write_text("no")
    result = run("preview", tmp_path / "bad.png", "--out", tmp_path / "h.png", expect=1)
    assert "bad.png is not a readable image" in result.output and "Traceback" not in result.output
    result = run("preview", "--corruptions", "blurr", "--out", tmp_path / "i.png", expect=2)
    assert "unknown corruption 'blurr'" in result.output


def test_version():
    assert "corruptgen, version" in run("--version").output


def test_help_lists_each_command_as_its_own_short_help_without_importing_it():
    """``--help`` reads the command table (so it starts fast); each entry is what the command says."""
    import subprocess
    import sys

    from corruptgen.cli import COMMANDS
    from corruptgen.cli import main as group

    ctx = click.Context(group)
    for name, (_, _, short) in COMMANDS.items():
        assert group.get_command(ctx, name).get_short_help_str(limit=64) == short, name  # click: 80 columns - 2 - 6 - the longest name
    code = "import sys; from corruptgen.cli import main; main(['--help'], standalone_mode=False); " \
           "print(sorted(m for m in ('numpy', 'cv2', 'numba', 'corruptgen.api') if m in sys.modules))"  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]") and "build     Build the corrupted version" in done.stdout
