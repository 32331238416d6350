"""A build on disk: where its state file, manifests and trees are, and the one reader of each.

::

    <out>/corruptgen.json                                  what was built, with which options and version
    <out>/.corruptgen.lock                                 held while a build runs
    <out>/manifests/<corruption>/<severity>/shard-NNNNN.jsonl   a row per output of one shard
    <out>/manifests/<corruption>/<severity>.jsonl          the shards' rows combined, once complete
    <out>/<corruption>/<severity>/...                      the outputs (``<corruption>/`` under a
                                                           one-severity profile: MNIST-C's layout)
"""

from __future__ import annotations

import json
from pathlib import Path

from corruptgen.corruptions import get_corruption
from corruptgen.corruptions.sequences import P_PROFILES

STATE_FILE = "corruptgen.json"
MANIFEST_DIR = "manifests"
LOCK_FILE = ".corruptgen.lock"


class LayoutError(ValueError):
    """A file of the build cannot be read back; the message names it and what is wrong."""


def manifest_path(out: Path, corruption: str, severity: int, shard: int) -> Path:
    """One shard's manifest of one corruption/severity."""
    return Path(out) / MANIFEST_DIR / corruption / str(severity) / f"shard-{shard:05d}.jsonl"


def shard_manifests(out: Path, corruption: str, severity: int) -> list[Path]:
    """Every shard manifest on disk of one corruption/severity, in shard order."""
    return sorted(manifest_path(out, corruption, severity, 0).parent.glob("shard-*.jsonl"))


def combined_manifest_path(out: Path, corruption: str, severity: int) -> Path:
    """A complete corruption/severity's manifest: its shards' rows in key order.

    Examples
    --------
    >>> combined_manifest_path(Path("coco-c"), "fog", 3).as_posix()
    'coco-c/manifests/fog/3.jsonl'
    """
    return Path(out) / MANIFEST_DIR / corruption / f"{severity}.jsonl"


SEVERITY_DIRS = ("severity", "magnitude")
"""How severity folders are named: by severity (1-5), or for the C-bar profiles by the
reference's magnitude as ``make_imagenet_c_bar.py`` names them (``"{:.2f}"``)."""


def tree_name(corruption: str, severity: int, profile: str, severity_dirs: str = "severity") -> str:
    """Where an output tree goes under ``--out``: ``<corruption>/<severity>``, ``<corruption>`` under a
    profile with one severity (MNIST-C's release layout), or ``<corruption>/<magnitude>`` with
    ``severity_dirs="magnitude"`` (ImageNet-C-bar's); under a P profile ``<perturbation>``, and
    ``<perturbation>_<difficulty>`` for difficulties 2 and 3 (ImageNet-P's release).

    Examples
    --------
    >>> tree_name("fog", 3, "imagenet"), tree_name("fog", 1, "mnist-c")
    ('fog/3', 'fog')
    >>> tree_name("caustic_refraction", 2, "imagenet-cbar", "magnitude")
    'caustic_refraction/3.20'
    >>> tree_name("shot_noise", 1, "imagenet-p"), tree_name("shot_noise", 3, "imagenet-p")
    ('shot_noise', 'shot_noise_3')
    """
    if profile in P_PROFILES:
        return corruption if severity == 1 else f"{corruption}_{severity}"
    spec = get_corruption(corruption)
    if severity_dirs == "magnitude":
        return f"{corruption}/{spec.params(severity, profile).magnitude:.2f}"
    return corruption if len(spec.severities(profile)) == 1 else f"{corruption}/{severity}"


def read_state(out: Path) -> dict:
    """``<out>/corruptgen.json`` as a dict; LayoutError naming the file when it is not a build's state
    (FileNotFoundError when there is none)."""
    path = Path(out) / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LayoutError(f"{path} is unreadable ({exc})") from None
    if not isinstance(state, dict):
        raise LayoutError(f"{path} is damaged (it holds {type(state).__name__}, not a build's record)")
    return state


def read_rows(path: Path, text: str | None = None) -> list[dict]:
    """A manifest's rows, in file order (``text``: its content, when the caller has read it already);
    LayoutError naming the file and line when one is damaged."""
    rows = []
    text = Path(path).read_text(encoding="utf-8") if text is None else text
    for number, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise LayoutError(f"{path} line {number} is damaged ({exc})") from None
        if not isinstance(row, dict) or "key" not in row:
            raise LayoutError(f"{path} line {number} is not a manifest row")
        rows.append(row)
    return rows
