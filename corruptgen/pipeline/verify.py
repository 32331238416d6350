"""``verify``: every manifest row's output exists with its sha256, counts match, annotations parse."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

from corruptgen.datasets import ADAPTERS
from corruptgen.files import sha256_bytes
from corruptgen.writers import writer_for

from .layout import MANIFEST_DIR, STATE_FILE, LayoutError, combined_manifest_path, manifest_path, read_rows, read_state
from .recipe import is_sequence_profile


def verify(out: Path, details: bool = False) -> list[str]:
    """Return what is wrong with the build in ``out`` (empty when everything holds). Shards a build has
    not finished (an interrupted or running build) are one sentence; ``details`` lists each."""
    out = Path(out)
    state_path = out / STATE_FILE
    if not state_path.is_file():
        return [f"{out} holds no {STATE_FILE}; it is not a corruptgen build."]
    try:
        state = read_state(out)
        adapter = ADAPTERS[state["identity"]["dataset"]]
        sequences = is_sequence_profile(state["identity"].get("profile"))
        writer = writer_for(state["identity"].get("output_format"), adapter, sequences)
        shards = state["shards"]
        built = [tuple(cs) for cs in state["built"]]
        counts = state["counts"]
    except LayoutError as exc:
        return [f"{exc}."]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{state_path} is damaged ({type(exc).__name__}: {exc})."]
    problems = []
    ok = failed = 0
    rows_in: dict[str, set[int]] = {}  # an array's rows the manifests name
    unfinished: list[str] = []
    for c, s in built:
        texts = []
        for shard in shards:
            path = manifest_path(out, c, s, shard["shard"])
            if not path.is_file():
                unfinished.append(f"{path.relative_to(out)} is missing: {c} severity {s} shard {shard['shard']} was not finished.")
                continue
            text = path.read_text(encoding="utf-8")
            try:
                rows = read_rows(path, text)
            except LayoutError as exc:
                problems.append(f"{exc}; rerun the build to rewrite it.")
                continue
            texts.append(text)
            if len(rows) != shard["samples"]:
                problems.append(f"{path.relative_to(out)} has {len(rows)} rows; the shard has {shard['samples']} samples.")
            for row in rows:
                if row.get("status") != "ok":
                    failed += 1
                    continue
                ok += 1
                if "index" in row:
                    rows_in.setdefault(row["output"], set()).add(row["index"])
                if not (out / row["output"]).is_file():
                    problems.append(f"{row['output']} is missing (listed in {path.relative_to(out)}).")
                elif "members" in row:
                    problems += _check_members(writer, out, row)
                elif sha256_bytes(writer.read(out, row)) != row["sha256"]:
                    problems.append(f"{row['output']}" + (f"[{row['index']}]" if "index" in row else "")
                                    + " does not match its sha256 in the manifest.")  # fmt: skip
        combined = combined_manifest_path(out, c, s)
        if len(texts) == len(shards) and (not combined.is_file() or combined.read_text() != "".join(texts)):
            problems.append(f"{combined.relative_to(out)} is missing or differs from its shards' manifests.")
    if unfinished and not details and state.get("status") != "complete":  # else files were removed: each says which
        problems.insert(0, _incomplete(unfinished, len(shards) * len(built), state))
    else:
        problems[:0] = unfinished
    if not failed and not unfinished:  # a failed output leaves its row unwritten: counted above, not an array's fault
        problems += _array_rows(out, rows_in)
    expected = {manifest_path(out, c, s, sh["shard"]) for c, s in built for sh in shards}
    expected |= {combined_manifest_path(out, c, s) for c, s in built}
    stray = sorted(p for p in (out / MANIFEST_DIR).rglob("*.jsonl") if p not in expected)
    problems += [f"{p.relative_to(out)} is not part of the recorded build." for p in stray[:10]]
    if (ok, failed) != (counts.get("ok"), counts.get("failed")):
        problems.append(f"manifests list {ok} ok and {failed} failed outputs; {STATE_FILE} records "
                        f"{counts.get('ok')} and {counts.get('failed')}.")  # fmt: skip
    if not sequences:  # a sequence build's arrays and files are checked row by row above
        problems += adapter.check(out)
    return problems


def _incomplete(unfinished: list[str], total: int, state: dict) -> str:
    """One sentence for the shards a build did not finish."""
    why = "it is running or was interrupted" if state.get("status") == "running" else "it was interrupted"
    return (f"incomplete: {total - len(unfinished)} of {total} shard manifests written ({why}); rerun the build "
            "command to finish it (verify --details lists the missing ones).")


def _array_rows(out: Path, rows_in: dict[str, set[int]]) -> list[str]:
    """Arrays whose rows are not exactly the ones their manifests name (rows no output filled, as a
    build sized for more samples than it wrote would leave, are scored as images)."""
    problems = []
    for relative, indices in sorted(rows_in.items()):
        try:
            length = len(np.load(out / relative, mmap_mode="r"))
        except (OSError, ValueError):
            continue  # unreadable: the sha256 check above names it
        if length != len(indices):
            problems.append(f"{relative} holds {length} rows but its manifests name {len(indices)}; rebuild it with "
                            "--overwrite.")  # fmt: skip
    return problems


def _check_members(writer, out: Path, row: dict) -> list[str]:
    """A tar shard's members of one sample, each against its sha256 in the manifest row."""
    problems = []
    for member, digest in row["members"].items():
        try:
            data = writer.read(out, {**row, "member": member})
        except (KeyError, OSError, EOFError, tarfile.TarError) as exc:
            problems.append(f"{row['output']}: member {member} is missing or unreadable ({type(exc).__name__}).")
            continue
        if sha256_bytes(data) != digest:
            problems.append(f"{row['output']}: member {member} does not match its sha256 in the manifest.")
    return problems
