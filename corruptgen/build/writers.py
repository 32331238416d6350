"""Where a shard's outputs go: the source's own folder layout, or WebDataset tar shards.

A writer takes one shard's outputs, sample by sample, and makes them durable at :meth:`close`;
the engine writes the shard's manifests only after that, so a manifest on disk means its
outputs are complete. Adapters say what an output and its targets are (bytes, names); writers
decide how they are stored.

WebDataset: every corruption/severity gets ``<out>/<corruption>/<severity>/<prefix>-NNNNNN.tar``
(NNNNNN = the build's shard index), each sample a run of members sharing its key: the image
(``.jpg`` / ``.png`` / the source's extension) and its targets (``.cls``, ``.json``, label PNGs).
Tar bytes are deterministic: members in a fixed order, mtime 0, owner 0:0, mode 0644.
"""

from __future__ import annotations

import os
import re
import tarfile
from functools import lru_cache
from pathlib import Path, PurePosixPath

from corruptgen.datasets.base import Adapter, CarriedFile, Sample
from corruptgen.files import atomic_write, contained, link_or_copy, sha256_bytes


@lru_cache(maxsize=4096)
def tar_key(key: str) -> str:
    """A sample key as a WebDataset key: no extension, no dots (readers split a member's name at the
    first dot of its base name), only ``[A-Za-z0-9_/-]``."""
    stem = str(PurePosixPath(key).with_suffix("")) if PurePosixPath(key).suffix else key
    return re.sub(r"[^A-Za-z0-9_/-]", "_", stem)


@lru_cache(maxsize=4096)
def _extension(output: str) -> str:
    return PurePosixPath(output).suffix.lower().lstrip(".")


def shard_name(prefix: str, shard: int) -> str:
    return f"{prefix}-{shard:06d}.tar"


def place(out: Path, target: str, item: CarriedFile) -> None:
    """A carried annotation file at ``target`` under ``out``: rewritten bytes, or a hard link / copy."""
    if item.data is not None:
        atomic_write(contained(out, target), item.data)
    else:
        link_or_copy(item.source, contained(out, target))


class FolderWriter:
    """Each output where the source's layout puts it (the adapter's ``write_output``), and moved
    annotation files beside it in the same tree."""

    def __init__(self, adapter: Adapter, out: Path, shard: int):
        self.adapter, self.out = adapter, out

    @staticmethod
    def prepare(adapter: Adapter, out: Path, trees: dict[tuple[str, int], str], moved: frozenset[str]) -> None:
        """Make every tree a complete copy of the source's layout before the shards run: its per-tree
        annotation files (but a sample's own where the corruption moves content: written moved, per
        output), the folders it must have, the arrays outputs are written into."""
        per_tree = [item for item in adapter.carried() if item.per_tree]
        for (corruption, _), tree in trees.items():
            root = contained(out, tree)
            root.mkdir(parents=True, exist_ok=True)
            for item in per_tree:
                if not (item.moves and corruption in moved):
                    place(root, item.target, item)
            for name in adapter.tree_dirs():
                contained(root, name).mkdir(parents=True, exist_ok=True)
            adapter.prepare_tree(root)

    @staticmethod
    def finish(adapter: Adapter, tree: Path, rows: list[dict]) -> None:
        """A moved tree's dataset-level annotation files, from its manifest rows."""
        adapter.finish_tree(tree, rows)

    def add(self, tree: str, sample: Sample, pixels, moved_files: dict[str, bytes], fields: dict) -> dict:
        root = contained(self.out, tree)
        for relative, data in moved_files.items():
            atomic_write(contained(root, relative), data)
        written = self.adapter.write_output(root, sample, pixels)
        return {**written, "output": f"{tree}/{written['output']}"}

    def close(self) -> None:
        self.adapter.close()


class _TarStream:
    """An append-only tar file: the stdlib's GNU headers (long names without PAX records), each
    member's data padded to 512 bytes, the end-of-archive blocks and record padding at close, as
    ``tarfile`` writes them, without its per-member bookkeeping (a build adds millions)."""

    def __init__(self, path: Path):
        self.handle = open(path, "wb", buffering=1 << 20)  # members reach the disk in large writes
        self.size = 0

    def add(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = len(data), 0, 0o644, 0, 0, "", ""
        header = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
        padding = -len(data) % tarfile.BLOCKSIZE
        self.handle.write(header + data + b"\0" * padding)
        self.size += len(header) + len(data) + padding

    def close(self) -> None:
        end = self.size + 2 * tarfile.BLOCKSIZE
        end += -end % tarfile.RECORDSIZE
        self.handle.write(b"\0" * (end - self.size))
        self.handle.close()


class TarWriter:
    """One tar per corruption/severity of the shard, written under a fixed temporary name and
    renamed into place at :meth:`close` (a killed worker's leftover is overwritten by the rerun)."""

    def __init__(self, adapter: Adapter, out: Path, shard: int):
        self.adapter, self.out, self.shard = adapter, out, shard
        self.open: dict[str, tuple[_TarStream, Path, Path]] = {}

    @staticmethod
    def prepare(adapter: Adapter, out: Path, trees: dict[tuple[str, int], str], moved: frozenset[str]) -> None:
        """Only the trees' folders: each sample's targets travel as members of its tar."""
        for tree in trees.values():
            contained(out, tree).mkdir(parents=True, exist_ok=True)

    @staticmethod
    def finish(adapter: Adapter, tree: Path, rows: list[dict]) -> None:
        """Nothing: moved annotations are in the members already."""

    def _tar(self, tree: str) -> tuple[_TarStream, str]:
        name = shard_name(self.adapter.name, self.shard)
        if tree not in self.open:  # the engine made every tree's folder before the shards ran
            final = contained(self.out, f"{tree}/{name}")
            tmp = final.with_name(f".{name}.partial")
            self.open[tree] = (_TarStream(tmp), tmp, final)
        return self.open[tree][0], name

    def add(self, tree: str, sample: Sample, pixels, moved_files: dict[str, bytes], fields: dict) -> dict:
        tar, name = self._tar(tree)
        key, extension = tar_key(sample.key), _extension(sample.output)
        image = self.adapter.encode(sample, pixels)
        members = {f"{key}.{extension}": image}
        members.update({f"{key}.{suffix}": data for suffix, data in self.adapter.members(sample, moved_files, fields).items()})
        digests = {}
        for member, data in members.items():
            tar.add(member, data)
            digests[member] = sha256_bytes(data)
        image_member = f"{key}.{extension}"
        return {"output": f"{tree}/{name}", "member": image_member, "sha256": digests[image_member], "bytes": len(image),
                "members": digests}  # fmt: skip

    def close(self) -> None:
        for tar, tmp, final in self.open.values():
            tar.close()
            os.replace(tmp, final)
        self.open.clear()
        self.adapter.close()


WRITERS = {"folder": FolderWriter, "webdataset": TarWriter}
"""``--output-format`` -> its writer."""


@lru_cache(maxsize=8)
def _members(path: Path, mtime_ns: int) -> dict[str, tuple[int, int]]:
    with tarfile.open(path) as tar:
        return {info.name: (info.offset_data, info.size) for info in tar.getmembers() if info.isfile()}


def read_member(path: Path, member: str) -> bytes:
    """One member's bytes from a tar shard (its index read once per file version)."""
    index = _members(path, path.stat().st_mtime_ns)
    if member not in index:
        raise KeyError(member)
    offset, size = index[member]
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(size)
