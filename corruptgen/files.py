"""Filesystem helpers shared by adapters and the build engine: atomic writes, contained paths, hashing."""

from __future__ import annotations

import hashlib
import os
import shutil
from functools import lru_cache
from pathlib import Path, PurePosixPath


class UnsafePathError(ValueError):
    """A path that would leave the folder it must stay in."""


def contained(root: Path, relative: str) -> Path:
    """``root / relative`` if that stays inside ``root``, else UnsafePathError naming the path.

    Rejects absolute paths and ``..`` outright, and paths whose existing folders lead out of
    ``root`` through a symbolic link.
    """
    rel = PurePosixPath(relative.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise UnsafePathError(f"path {relative!r} points outside {root}; only paths inside it are allowed.")
    if not _inside(str(root), str(rel.parent)):
        raise UnsafePathError(f"path {relative!r} resolves outside {root} (through a link).")
    return root.joinpath(*rel.parts)


@lru_cache(maxsize=4096)
def _inside(root: str, parent: str) -> bool:
    # cached per folder: a build writes thousands of files into a few hundred folders
    root_resolved = os.path.realpath(root)
    resolved = os.path.realpath(os.path.join(root, parent))
    return resolved == root_resolved or resolved.startswith(root_resolved + os.sep)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name beside ``path`` and rename it into place.

    The temporary name is fixed per target, so a rerun after a kill overwrites what the killed
    run left half-written instead of leaving it behind.
    """
    tmp = path.with_name(f".{path.name}.partial")
    try:
        fh = open(tmp, "wb")
    except FileNotFoundError:  # first file in this folder: create it (cheaper than mkdir before every write)
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(tmp, "wb")
    with fh:
        fh.write(data)
    os.replace(tmp, path)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link ``source`` to ``target`` (so carried annotations are stored once), else copy it."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)
