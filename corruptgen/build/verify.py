"""``verify``: every manifest row's output exists with its sha256, counts match, annotations parse."""

from __future__ import annotations

import json
from pathlib import Path

from corruptgen.datasets import ADAPTERS
from corruptgen.files import sha256_bytes

from .engine import MANIFEST_DIR, STATE_FILE, combined_manifest_path, manifest_path
from .writers import read_member


def verify(out: Path) -> list[str]:
    """Return what is wrong with the build in ``out`` (empty when everything holds)."""
    out = Path(out)
    state_path = out / STATE_FILE
    if not state_path.is_file():
        return [f"{out} holds no {STATE_FILE}; it is not a corruptgen build."]
    try:
        state = json.loads(state_path.read_text())
        adapter = ADAPTERS[state["identity"]["dataset"]]
        shards = state["shards"]
        built = [tuple(cs) for cs in state["built"]]
        counts = state["counts"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{state_path} is damaged ({type(exc).__name__}: {exc})."]
    problems = []
    ok = failed = 0
    for c, s in built:
        texts = []
        for shard in shards:
            path = manifest_path(out, c, s, shard["shard"])
            if not path.is_file():
                problems.append(f"{path.relative_to(out)} is missing: {c} severity {s} shard {shard['shard']} was not finished.")
                continue
            texts.append(path.read_text())
            rows = [json.loads(line) for line in texts[-1].splitlines() if line]
            if len(rows) != shard["samples"]:
                problems.append(f"{path.relative_to(out)} has {len(rows)} rows; the shard has {shard['samples']} samples.")
            for row in rows:
                if row.get("status") != "ok":
                    failed += 1
                    continue
                ok += 1
                target = out / row["output"]
                if not target.is_file():
                    problems.append(f"{row['output']} is missing (listed in {path.relative_to(out)}).")
                elif "members" in row:
                    problems += _check_members(target, row)
                elif sha256_bytes(adapter.output_bytes(target, row)) != row["sha256"]:
                    problems.append(f"{row['output']}" + (f"[{row['index']}]" if "index" in row else "")
                                    + " does not match its sha256 in the manifest.")  # fmt: skip
        combined = combined_manifest_path(out, c, s)
        if len(texts) == len(shards) and (not combined.is_file() or combined.read_text() != "".join(texts)):
            problems.append(f"{combined.relative_to(out)} is missing or differs from its shards' manifests.")
    expected = {manifest_path(out, c, s, sh["shard"]) for c, s in built for sh in shards}
    expected |= {combined_manifest_path(out, c, s) for c, s in built}
    stray = sorted(p for p in (out / MANIFEST_DIR).rglob("*.jsonl") if p not in expected)
    problems += [f"{p.relative_to(out)} is not part of the recorded build." for p in stray[:10]]
    if (ok, failed) != (counts.get("ok"), counts.get("failed")):
        problems.append(f"manifests list {ok} ok and {failed} failed outputs; {STATE_FILE} records "
                        f"{counts.get('ok')} and {counts.get('failed')}.")  # fmt: skip
    problems += adapter.check(out)
    return problems


def _check_members(tar: Path, row: dict) -> list[str]:
    """A tar shard's members of one sample, each against its sha256 in the manifest row."""
    problems = []
    for member, digest in row["members"].items():
        try:
            data = read_member(tar, member)
        except (KeyError, OSError, EOFError) as exc:
            problems.append(f"{row['output']}: member {member} is missing or unreadable ({type(exc).__name__}).")
            continue
        if sha256_bytes(data) != digest:
            problems.append(f"{row['output']}: member {member} does not match its sha256 in the manifest.")
    return problems
