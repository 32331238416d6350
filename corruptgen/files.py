"""Filesystem helpers shared by adapters and the build engine: atomic writes, contained paths, hashing."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import shutil
from functools import lru_cache
from pathlib import Path, PurePosixPath

import numpy as np


class UnsafePathError(ValueError):
    """A path that would leave the folder it must stay in."""


_STORAGE_FAULTS = {
    errno.ENOSPC: ("no space is left on its device", "free space and rerun the same command"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space or raise the quota, and rerun the same command"),
    errno.EROFS: ("its file system is read-only", "write to a writable folder, or remount it, and rerun"),
    errno.EACCES: ("permission is denied", "make the folder writable, or write elsewhere, and rerun"),
    errno.EPERM: ("the operation is not permitted", "make the folder writable, or write elsewhere, and rerun"),
    errno.ENOENT: ("its folder disappeared", "rerun the same command"),
}


class StorageError(OSError):
    """A file corruptgen writes could not be written because of where it goes (a full disk, a quota,
    a read-only or vanished folder): one sentence naming the path and what to do. Nothing half-written
    is left under the file's name; builds resume from their last complete shard."""

    def __init__(self, message: str, errno_: int | None = None):
        super().__init__(message)
        self.message, self.errno = message, errno_

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # crosses process and Dask boundaries with its sentence
        return (StorageError, (self.message, self.errno))


def is_storage_fault(exc: OSError) -> bool:
    """Whether ``exc`` is the storage's doing (full, quota, read-only, vanished), not a file's."""
    return isinstance(exc, StorageError) or exc.errno in _STORAGE_FAULTS


def storage_error(exc: OSError, path: Path) -> OSError:
    """``exc`` as a :class:`StorageError` when the storage caused it (else ``exc`` itself).

    >>> str(storage_error(OSError(errno.ENOSPC, "No space left on device"), Path("out/fog/1/a.png")))
    'cannot write out/fog/1/a.png: no space is left on its device; free space and rerun the same command (a build resumes from its last complete shard).'
    """
    if isinstance(exc, StorageError) or not is_storage_fault(exc):
        return exc
    reason, advice = _STORAGE_FAULTS[exc.errno]
    return StorageError(f"cannot write {path}: {reason}; {advice} (a build resumes from its last complete shard).", exc.errno)


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
        try:
            fh = open(tmp, "wb")
        except FileNotFoundError:  # first file in this folder: create it (cheaper than mkdir before every write)
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(tmp, "wb")
        with fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # nothing half-written stays behind
            tmp.unlink()
        raise storage_error(exc, path) from None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


LINK_MODES = ("hardlink", "symlink", "copy")


def link_or_copy(source: Path, target: Path, mode: str = "hardlink") -> None:
    """Put ``source`` at ``target`` (kept when it is there already): a hard link (so carried annotations and linked
    images are stored once; a copy where the file system refuses), a symbolic link to its resolved path, or a copy."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    tmp.unlink(missing_ok=True)
    if mode == "symlink":
        os.symlink(Path(source).resolve(), tmp)
    elif mode == "copy":
        shutil.copyfile(source, tmp)
    else:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def preallocate(path: Path, shape: tuple[int, ...]) -> bool:
    """Make ``path`` a uint8 ``.npy`` of ``shape``, keeping one a resumed build finds whole; True when
    an array was there but damaged or of another shape (the rows its manifests name are gone)."""
    try:
        if np.load(path, mmap_mode="r").shape == shape:
            return False
    except (OSError, ValueError):
        pass
    lost = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape).flush()
    return lost


def write_labels(path: Path, labels: np.ndarray) -> None:
    """``labels.npy``, rewritten only when its bytes would change."""
    buffer = io.BytesIO()
    np.save(buffer, labels)
    if not path.is_file() or path.read_bytes() != buffer.getvalue():
        atomic_write(path, buffer.getvalue())
