"""WebDataset tar shards: every corruption/severity gets ``<out>/<corruption>/<severity>/<prefix>-NNNNNN.tar``
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

from corruptgen.datasets.base import Adapter, SampleError, decode_image_bytes
from corruptgen.files import contained, sha256_bytes

from .base import Writer


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


class TarWriter(Writer):
    """One tar per corruption/severity of the shard, written under a fixed temporary name and
    renamed into place at :meth:`close` (a killed worker's leftover is overwritten by the rerun)."""

    def __init__(self, adapter: Adapter, out: Path, shard: int, cells=()):
        super().__init__(adapter, out, shard, cells)
        self.open: dict[str, tuple[_TarStream, Path, Path]] = {}

    @staticmethod
    def prepare(adapter: Adapter, out: Path, trees: dict[tuple[str, int], str], moved: frozenset[str], samples=(), profile=None) -> None:
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

    def encode(self, cell, sample, pixels) -> tuple[str, bytes]:
        """A sample's output member: its extension and bytes (the source's image format)."""
        return _extension(sample.output), self.adapter.encode(sample, pixels)

    @classmethod
    def decode(cls, data: bytes, display: str):
        """An output member's bytes decoded (:meth:`pixels`)."""
        return decode_image_bytes(data, display)[0]

    def add(self, cell, tree, sample, pixels, moved_files, fields):
        tar, name = self._tar(tree)
        key = tar_key(sample.key)
        extension, image = self.encode(cell, sample, pixels)
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

    def abort(self) -> None:
        for tar, tmp, _ in self.open.values():
            tar.handle.close()
            tmp.unlink(missing_ok=True)  # never renamed: the rerun writes the shard again
        self.open.clear()
        self.adapter.close()

    @classmethod
    def read(cls, out, row):
        return read_member(Path(out) / row["output"], row["member"])

    @classmethod
    def pixels(cls, out, row):
        try:
            data = cls.read(out, row)
        except (KeyError, OSError, EOFError, tarfile.TarError) as exc:
            raise SampleError(f"{row['output']}: member {row['member']} cannot be read ({type(exc).__name__}).") from None
        return cls.decode(data, f"{row['output']}:{row['member']}")


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
