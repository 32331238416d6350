"""ImageNet as people hold it: validation labels from the devkit or Kaggle's CSV, and images read
straight from the official .tar archives (never unpacked).

- Devkit (``ILSVRC2012_devkit_t12.tar.gz`` or its extracted folder): ``data/meta.mat`` maps
  ILSVRC2012 ids 1-1000 to wnids (the 1000 leaf synsets: ``num_children == 0``);
  ``data/ILSVRC2012_validation_ground_truth.txt`` holds one id per line for
  ``ILSVRC2012_val_00000001.JPEG``, ``..._00000002.JPEG``, ... in order.
- Kaggle's ``LOC_val_solution.csv``: ``ImageId,PredictionString``, the wnid first in the string.
- Archives: an index of member offsets is built once (``tarfile`` reads only the headers); an
  image is then one ``seek`` + ``read``. ``ILSVRC2012_img_train.tar`` holds one inner tar per class
  (``n01440764.tar``), stored uncompressed, so its members' offsets are offsets in the outer file.
"""

from __future__ import annotations

import csv
import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from .base import IMAGE_EXTENSIONS, DatasetError

VAL_NAME = re.compile(r"ILSVRC2012_val_(\d{8})")
LABEL_SOURCES = ("--labels ILSVRC2012_devkit_t12.tar.gz (or its extracted folder) or --labels LOC_val_solution.csv "
                 "(Kaggle's)")  # fmt: skip


@dataclass(frozen=True)
class Labels:
    """The class (wnid) of each validation image by file name, and the classes."""

    by_number: dict[int, str]
    wnids: tuple[str, ...]
    origin: str

    def wnid(self, file_name: str) -> str | None:
        match = VAL_NAME.search(file_name)
        return self.by_number.get(int(match.group(1))) if match else None


def read_labels(path: Path) -> Labels:
    """Labels from a devkit (.tar.gz or folder) or a LOC_val_solution.csv; DatasetError naming the file."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return _from_csv(path)
    if path.is_dir():
        meta, truth = path / "data" / "meta.mat", path / "data" / "ILSVRC2012_validation_ground_truth.txt"
        if not meta.is_file() or not truth.is_file():
            raise DatasetError(f"--labels {path} is a folder without data/meta.mat and data/ILSVRC2012_validation_ground_truth.txt; "
                               f"give {LABEL_SOURCES}.")  # fmt: skip
        return _from_devkit(meta.read_bytes(), truth.read_text(), str(path))
    if path.is_file() and tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            found = {}
            for member in archive:
                for wanted in ("data/meta.mat", "data/ILSVRC2012_validation_ground_truth.txt"):
                    if member.isfile() and member.name.endswith(wanted):
                        found[wanted] = archive.extractfile(member).read()  # into memory, never to disk
        if len(found) < 2:
            raise DatasetError(f"--labels {path} holds no data/meta.mat and data/ILSVRC2012_validation_ground_truth.txt; "
                               f"give {LABEL_SOURCES}.")  # fmt: skip
        return _from_devkit(found["data/meta.mat"], found["data/ILSVRC2012_validation_ground_truth.txt"].decode(), str(path))
    raise DatasetError(f"--labels {path} is neither a devkit nor a CSV; give {LABEL_SOURCES}.")


def _from_devkit(meta_bytes: bytes, truth_text: str, origin: str) -> Labels:
    from scipy.io import loadmat

    try:
        synsets = loadmat(io.BytesIO(meta_bytes), squeeze_me=True)["synsets"]
        id_to_wnid = {int(s["ILSVRC2012_ID"]): str(s["WNID"]) for s in synsets if int(s["num_children"]) == 0}
        ids = [int(line) for line in truth_text.split()]
    except (KeyError, ValueError, TypeError) as exc:
        raise DatasetError(f"--labels {origin}: the devkit's meta.mat or ground truth does not parse ({exc}).") from None
    unknown = sorted({i for i in ids if i not in id_to_wnid})
    if unknown:
        raise DatasetError(f"--labels {origin}: the ground truth names ILSVRC2012 id {unknown[0]}, which meta.mat lacks.")
    return Labels({n: id_to_wnid[i] for n, i in enumerate(ids, start=1)}, tuple(sorted(id_to_wnid.values())), origin)


def _from_csv(path: Path) -> Labels:
    by_number = {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                match = VAL_NAME.search(row.get("ImageId") or "")
                words = (row.get("PredictionString") or "").split()
                if match and words:
                    by_number[int(match.group(1))] = words[0]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"--labels {path} cannot be read as Kaggle's LOC_val_solution.csv ({exc}).") from None
    if not by_number:
        raise DatasetError(f"--labels {path} holds no ImageId,PredictionString rows; it is not Kaggle's LOC_val_solution.csv.")
    return Labels(by_number, tuple(sorted(set(by_number.values()))), str(path))


def index_archive(path: Path) -> list[tuple[str, int, int]]:
    """``(member name, data offset, size)`` of every image in an uncompressed tar, inner tars
    (the training archive's per-class ones) expanded as ``<inner tar stem>/<member>``."""
    entries = []
    try:
        with tarfile.open(path, mode="r:") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                if member.name.lower().endswith(".tar"):
                    stem = Path(member.name).stem
                    with tarfile.open(fileobj=_Window(path, member.offset_data, member.size), mode="r:") as nested:
                        for item in nested:
                            if item.isfile() and Path(item.name).suffix.lower() in IMAGE_EXTENSIONS:
                                entries.append((f"{stem}/{Path(item.name).name}", member.offset_data + item.offset_data, item.size))
                elif Path(member.name).suffix.lower() in IMAGE_EXTENSIONS:
                    entries.append((member.name, member.offset_data, member.size))
    except (tarfile.TarError, OSError) as exc:
        raise DatasetError(f"--src {path} cannot be read as a tar archive ({exc}).") from None
    return entries


class _Window(io.RawIOBase):
    """A read-only view of ``size`` bytes at ``offset`` of a file: an inner tar, read in place."""

    def __init__(self, path: Path, offset: int, size: int):
        self._file = open(path, "rb")  # noqa: SIM115 (closed in close())
        self._offset, self._size, self._pos = offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        self._pos = {0: pos, 1: self._pos + pos, 2: self._size + pos}[whence]
        return self._pos

    def readinto(self, buffer) -> int:
        n = max(0, min(len(buffer), self._size - self._pos))
        self._file.seek(self._offset + self._pos)
        data = self._file.read(n)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


def read_member(path: Path, offset: int, size: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(size)
