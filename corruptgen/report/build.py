"""What a built tree holds, from its state file and manifests alone (no output is opened).

A tree of a million outputs has a million manifest rows; they are counted on the manifests' text
(rows are written by one ``json.dumps(row, sort_keys=True)``, so an ok row holds ``"status": "ok"``
and its size ``"bytes": N``, and a sample's row ``"key": <its key as JSON>``): only the rows that
are not ok, and those of the samples the report shows, are parsed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from corruptgen.pipeline.layout import (
    STATE_FILE,
    LayoutError,
    combined_manifest_path,
    read_state,
    shard_manifests,
)

_OK = '"status": "ok"'
_BYTES = re.compile(r'"bytes": (\d+)')


class ReportError(ValueError):
    """An expected mistake (not a build, unreadable results); the message names the file."""


@dataclass
class CellCounts:
    """One corruption/severity: rows by status, bytes written, and the rows that are not ok."""

    ok: int = 0
    failed: int = 0
    bytes: int = 0
    failures: list[dict] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    rows: dict[str, dict] = field(default_factory=dict)
    """The rows of the samples asked for, by key."""


@dataclass
class BuildSummary:
    root: Path
    state: dict
    cells: dict[tuple[str, int], CellCounts]

    @property
    def identity(self) -> dict:
        return self.state.get("identity", {})

    @property
    def total_bytes(self) -> int:
        return sum(c.bytes for c in self.cells.values())

    @property
    def failures(self) -> list[tuple[tuple[str, int], dict]]:
        return [(cell, row) for cell, counts in self.cells.items() for row in counts.failures]

    @property
    def damaged(self) -> list[str]:
        return [line for counts in self.cells.values() for line in counts.damaged]


def read_build(root: Path, keys: list[str] = ()) -> BuildSummary:
    """The state file and every built cell's counts (and the rows of ``keys``); ReportError when
    ``root`` is not a build."""
    root = Path(root)
    try:
        state = read_state(root)
    except FileNotFoundError:
        raise ReportError(f"{root} holds no {STATE_FILE}; give a folder written by `corruptgen build`.") from None
    except LayoutError as exc:
        raise ReportError(f"{exc}; rerun the build to rewrite it.") from None
    try:
        built = [(str(c), int(s)) for c, s in state.get("built", [])]
    except (TypeError, ValueError):
        raise ReportError(f"{root / STATE_FILE} is damaged: its 'built' list is not [corruption, severity] pairs.") from None
    return BuildSummary(root, state, {cell: count_cell(root, *cell, keys=keys) for cell in built})


def count_cell(root: Path, corruption: str, severity: int, keys: list[str] = ()) -> CellCounts:
    """A cell's rows from its combined manifest, or its shard manifests while it is unfinished."""
    combined = combined_manifest_path(root, corruption, severity)
    paths = [combined] if combined.is_file() else shard_manifests(root, corruption, severity)
    counts = CellCounts()
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        _count_text(path, text, counts)
        _find_rows(text, keys, counts)
    return counts


def _find_rows(text: str, keys: list[str], counts: CellCounts) -> None:
    for key in keys:
        at = text.find('"key": ' + json.dumps(key))
        if at < 0 or key in counts.rows:
            continue
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        try:
            counts.rows[key] = json.loads(text[start : end if end >= 0 else len(text)])
        except ValueError:
            continue  # a damaged line: counted by _count_text, and the sample shows as not built


def _count_text(path: Path, text: str, counts: CellCounts) -> None:
    rows = text.count("\n") + (0 if not text or text.endswith("\n") else 1)
    ok = text.count(_OK)
    counts.ok += ok
    counts.bytes += sum(map(int, _BYTES.findall(text)))
    if ok == rows:
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line or _OK in line:
            continue
        try:
            row = json.loads(line)
        except ValueError:
            counts.damaged.append(f"{path}, line {number}, is damaged (not a JSON row); rerun the build to rewrite it.")
            continue
        counts.failed += 1
        counts.failures.append(row)
