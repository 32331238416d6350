"""Generated spurious-correlation datasets read back as datasets with groups: Waterbirds, CelebA, Colored MNIST.

``corruptgen build waterbirds | celeba | colored-mnist`` writes a tree from the user's source (see
:mod:`.waterbirds`, :mod:`.celeba`, :mod:`.colored_mnist`); these adapters read such a tree as WILDS does: each image's
label ``y`` and metadata fields (WILDS' ``metadata_fields``, in its order), the group of a sample being WILDS'
``CombinatorialGrouper`` id over those fields (the first varying fastest: Waterbirds' ``background + 2 y``, which is
group DRO's ``2 y + place``), named as WILDS names it (``y:waterbird_background:land``). Splits are the tree's (train,
val, test; Colored MNIST: its environments), the test split scored by default. So ``classify`` scores per group, and
``build <kind> --src <generated tree> --corruptions ...`` writes its -C variant with the metadata carried into every
corruption tree (a corrupted Waterbirds is read by WILDS as the clean one is).
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np

from .base import (
    RECORD_FILE,
    Adapter,
    CarriedFile,
    DatasetError,
    NamedClass,
    Sample,
    SampleError,
    output_name,
    read_record,
)
from .colored_mnist import rgb
from .decoded import decoded, file_identity
from .waterbirds import shard_key


@dataclass(frozen=True)
class Field:
    """One metadata field: its name (WILDS'), its values' display names (WILDS' ``metadata_map``; empty: the
    integer itself) and how many values it takes."""

    name: str
    values: tuple[str, ...] = ()
    cardinality: int = 2


def group_names(fields: tuple[Field, ...]) -> list[str]:
    """Every group's name as WILDS' ``group_field_str`` writes it: the fields last to first, ``name:value`` joined
    by ``_``, spaces removed (``y:waterbird_background:land``).

    >>> group_names((Field("background", ("land", "water")), Field("y", ("landbird", "waterbird"))))[1]
    'y:landbird_background:water'
    """
    names = []
    total = int(np.prod([f.cardinality for f in fields]))
    for group in range(total):
        parts, rest = [], group
        for f in fields:
            value = rest % f.cardinality
            rest //= f.cardinality
            parts.append(f"{f.name}:{(f.values[value] if f.values else str(value)).replace(' ', '')}")
        names.append("_".join(reversed(parts)))
    return names


@dataclass
class GroupedAdapter(Adapter):
    """A generated tree with ``metadata.csv``: one row per image, its split, label and metadata fields."""

    name = "grouped"
    generated: ClassVar[str]
    """What ``corruptgen.json``'s ``generated`` says a tree of this kind is."""
    scored_split = "test"
    split_names: ClassVar[dict[str, str]] = {"0": "train", "1": "val", "2": "test"}

    @cached_property
    def record(self) -> dict:
        """The tree's ``corruptgen.json``, read once (CelebA's fields come from it); DatasetError where ``src`` is not
        a tree of this kind."""
        record = read_record(self.src)
        if record.get("output_format") == "webdataset":
            raise DatasetError(f"{self.src} holds {self.generated} as WebDataset shards; scoring and -C builds read the "
                               f"folder form: {self.build_hint} (without --output-format webdataset).")  # fmt: skip
        if record.get("generated") != self.generated or not (self.src / "metadata.csv").is_file():
            raise DatasetError(f"{self.src} is not a {self.generated} tree written by `corruptgen build {self.generated}` "
                               f"(no {RECORD_FILE} naming it, or no metadata.csv); build it first: {self.build_hint}.")  # fmt: skip
        return record

    build_hint: ClassVar[str] = ""

    def rows(self) -> list[dict]:
        def read() -> list[dict]:
            self.record  # noqa: B018 (the check that src is such a tree, before reading it)
            return list(csv.DictReader(io.StringIO((self.src / "metadata.csv").read_text(encoding="utf-8"))))

        return decoded(("grouped-metadata", file_identity(self.src / "metadata.csv")), read)

    # -- what each kind says about a row --

    def fields(self) -> tuple[Field, ...]:
        raise NotImplementedError

    def row_key(self, row: dict) -> str:
        raise NotImplementedError

    def row_split(self, row: dict) -> str:
        return self.split_names[row["split"]]

    def row_metadata(self, row: dict) -> tuple[int, ...]:
        """The row's value of each of :meth:`fields`."""
        raise NotImplementedError

    # -- the adapter --

    def describe(self) -> dict:
        return {**super().describe(), "generated": self.record.get("settings") or self.record.get("variant")}

    def expected_layout(self) -> str:
        return f"a tree written by corruptgen build {self.generated} (metadata.csv and corruptgen.json)"

    def splits(self) -> list[str]:
        held = list(dict.fromkeys(self.row_split(r) for r in self.rows()))
        if self.split is not None:
            if self.split not in held:
                raise DatasetError(f"{self.src} has no split {self.split!r}; it holds {', '.join(held)}.")
            return [self.split]
        return held

    def samples(self) -> list[Sample]:
        wanted = set(self.splits())
        out = []
        for row in self.rows():
            if self.row_split(row) in wanted:
                key = self.row_key(row)
                out.append(Sample(key=key, source=key, output=output_name(self.output_of(row), self.settings.image_format)))
        return out

    def output_of(self, row: dict) -> str:
        return self.row_key(row)

    def split_of(self, sample: Sample) -> str:
        return self.row_split(self._rows_by_key()[sample.key])

    def _rows_by_key(self) -> dict[str, dict]:
        rows = self.rows()  # read first: the process cache's lock is not re-entrant
        return decoded(("grouped-index", file_identity(self.src / "metadata.csv"), type(self).__name__),
                       lambda: {self.row_key(r): r for r in rows})

    def metadata(self, sample: Sample) -> tuple[int, ...]:
        return self.row_metadata(self._rows_by_key()[sample.key])

    def label(self, sample: Sample) -> int:
        return int(self._rows_by_key()[sample.key]["y"])

    def group(self, sample: Sample) -> int:
        """WILDS' ``CombinatorialGrouper`` id of the sample (first field fastest)."""
        return self._group_of_row(self._rows_by_key()[sample.key])

    def _group_of_row(self, row: dict) -> int:
        group, factor = 0, 1
        for f, value in zip(self.fields(), self.row_metadata(row)):
            group += value * factor
            factor *= f.cardinality
        return group

    def group_names(self) -> list[str]:
        return group_names(self.fields())

    def train_counts(self) -> list[int] | None:
        """Each group's size in the training split, the weights of the adjusted average; None without one."""
        train = [r for r in self.rows() if self.row_split(r) == "train"]
        if not train:
            return None
        counts = [0] * len(self.group_names())
        for row in train:
            counts[self._group_of_row(row)] += 1
        return counts

    def class_list(self) -> list:
        y = next(f for f in self.fields() if f.name == "y")
        return [NamedClass(name) for name in y.values]

    def members(self, sample, moved_files, fields) -> dict[str, bytes]:
        row = self._rows_by_key()[sample.key]
        return {"cls": str(self.label(sample)).encode(), "json": json.dumps(row, sort_keys=True).encode()}

    def carried(self) -> list[CarriedFile]:
        """``metadata.csv`` (its file names changed where ``--image-format`` changes them) and the readers' other
        files, into every corruption tree: each is then read as the clean tree is."""
        metadata = (self.src / "metadata.csv").read_bytes()
        if self.settings.image_format != "source":
            metadata = self.renamed_metadata(metadata)
        files = [CarriedFile("metadata.csv", data=metadata, per_tree=True)]
        for name in self.reader_files:
            if (self.src / name).is_file():
                files.append(CarriedFile(name, source=self.src / name, per_tree=True))
        return files

    reader_files: ClassVar[tuple[str, ...]] = ()
    file_column: ClassVar[str] = ""

    def renamed_metadata(self, data: bytes) -> bytes:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        column = rows[0].index(self.file_column)
        for row in rows[1:]:
            row[column] = output_name(row[column], self.settings.image_format)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue().encode()


@dataclass
class WaterbirdsAdapter(GroupedAdapter):
    """Waterbirds: ``y`` landbird / waterbird, ``background`` land / water (WILDS' fields and names)."""

    name = "waterbirds"
    generated = "waterbirds"
    build_hint = "corruptgen build waterbirds --src CUB_200_2011 --places PLACES365 --out DIR"
    reader_files = ("RELEASE_v1.0.txt",)
    file_column = "img_filename"

    def fields(self) -> tuple[Field, ...]:
        return (Field("background", ("land", "water")), Field("y", ("landbird", "waterbird")))

    def row_key(self, row: dict) -> str:
        return row["img_filename"]

    def row_metadata(self, row: dict) -> tuple[int, ...]:
        return int(row["place"]), int(row["y"])


@dataclass
class CelebAAdapter(GroupedAdapter):
    """CelebA groups: the recorded confounders (WILDS: ``male``) then ``y``, images under ``img_align_celeba/``."""

    name = "celeba"
    generated = "celeba"
    build_hint = "corruptgen build celeba --src CELEBA --out DIR"
    reader_files = ("list_attr_celeba.csv", "list_eval_partition.csv", "RELEASE_v1.0.txt")

    def fields(self) -> tuple[Field, ...]:
        record = self.record
        target = record.get("target", "Blond_Hair")
        word = "blond" if target == "Blond_Hair" else target.lower()
        return (*(Field(c.lower()) for c in record.get("confounders", ["Male"])), Field("y", (f"not {word}", word)))

    def row_key(self, row: dict) -> str:
        return f"img_align_celeba/{row['image_id']}"

    def row_metadata(self, row: dict) -> tuple[int, ...]:
        confounders = self.record.get("confounders", ["Male"])
        return (*(int(row[c]) for c in confounders), int(row["y"]))

    def renamed_metadata(self, data: bytes) -> bytes:
        # metadata.csv names images by id; the readers' list files name them too: a changed extension is said there
        return data


@dataclass
class ColoredMnistAdapter(GroupedAdapter):
    """Colored MNIST's environments as splits (the colour-flip-0.9 one scored by default), each image the red and
    green channels of the arrays with blue zero; fields ``color`` (red / green) then ``y``."""

    name = "colored-mnist"
    generated = "colored-mnist"
    build_hint = "corruptgen build colored-mnist --src MNIST --out DIR"

    def __post_init__(self):
        # the environment a model is tested on: the last (colour flip 0.9: -90% or test-0.9)
        if self.src is not None and (Path(self.src) / "metadata.csv").is_file():
            self.scored_split = list(dict.fromkeys(r["env"] for r in self.rows()))[-1]

    def fields(self) -> tuple[Field, ...]:
        return (Field("color", ("red", "green")), Field("y", ("0", "1")))

    def row_key(self, row: dict) -> str:
        return f"{row['env']}/{int(row['index']):05d}"

    def output_of(self, row: dict) -> str:
        return f"{row['env']}/{row['y']}/{int(row['index']):05d}.png"

    def row_split(self, row: dict) -> str:
        return row["env"]

    def row_metadata(self, row: dict) -> tuple[int, ...]:
        return int(row["color"]), int(row["y"])

    def train_counts(self) -> list[int] | None:
        return None  # environments, not a training split: no adjusted average

    def _images(self, env: str) -> np.ndarray:
        path = self.src / env / "images.npy"
        return decoded(("colored-mnist", file_identity(path)), lambda: np.load(path, mmap_mode="r"))

    def load(self, sample: Sample) -> tuple[np.ndarray, str | None]:
        env, index = sample.key.rsplit("/", 1)
        try:
            two = self._images(env)[int(index)]
        except (OSError, ValueError, IndexError) as exc:
            raise SampleError(f"{self.src / env / 'images.npy'} row {int(index)}: cannot be read ({exc}).") from None
        return rgb(two), None

    def carried(self) -> list[CarriedFile]:
        return [CarriedFile("metadata.csv", source=self.src / "metadata.csv", per_tree=True)]


GROUPED_SETS: dict[str, type[GroupedAdapter]] = {a.name: a for a in (WaterbirdsAdapter, CelebAAdapter, ColoredMnistAdapter)}
"""The generated datasets read back with their groups, by dataset kind."""


def check_generated(out: Path) -> tuple[int, list[str]]:
    """A generated tree checked against what it lists: every image its ``metadata.csv`` (ImageNet-D: its
    ``manifest.jsonl``) names is there (Colored MNIST: each environment's arrays hold its rows), and the build
    finished. Returns (images checked, problems)."""
    out = Path(out)
    record = read_record(out)
    kind = record.get("generated")
    problems = [] if record.get("complete", True) else [
        f"{out} is an unfinished {kind} build ({len(record.get('problems') or [])} images failed, or it was "
        "interrupted); rerun the build command to finish it."]  # fmt: skip
    if record.get("output_format") == "webdataset":  # Waterbirds' shards: every listed image a member of one
        rows = list(csv.DictReader(io.StringIO((out / "metadata.csv").read_text(encoding="utf-8"))))
        members = set()
        for shard in sorted(out.glob("*/*.tar")):
            try:
                with tarfile.open(shard) as tar:
                    members.update(n for n in tar.getnames() if n.endswith(".jpg"))
            except (OSError, tarfile.TarError) as exc:
                problems.append(f"{shard} cannot be read as a tar ({exc}).")
        missing = [r["img_filename"] for r in rows if f"{shard_key(r['img_filename'])}.jpg" not in members]
        return len(rows), problems + [f"{m} is in no shard; metadata.csv lists it." for m in missing[:100]]
    if kind == "imagenet-d":
        rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines() if line.strip()]
        missing = [r["output"] for r in rows if not (out / r["output"]).is_file()]
        return len(rows), problems + [f"{out / m} is missing; manifest.jsonl lists it." for m in missing]
    adapter = GROUPED_SETS[kind](src=out)
    try:
        rows = adapter.rows()
    except DatasetError as exc:
        return 0, problems + [str(exc)]
    if kind == "colored-mnist":
        for env, count in {e: sum(r["env"] == e for r in rows) for e in dict.fromkeys(r["env"] for r in rows)}.items():
            for name in ("images.npy", "labels.npy"):
                try:
                    held = len(np.load(out / env / name, mmap_mode="r"))
                except (OSError, ValueError) as exc:
                    problems.append(f"{out / env / name} does not load ({exc}).")
                    continue
                if held != count:
                    problems.append(f"{out / env / name} holds {held} rows; metadata.csv names {count} in {env}.")
        return len(rows), problems
    missing = [adapter.row_key(r) for r in rows if not (out / adapter.row_key(r)).is_file()]
    return len(rows), problems + [f"{out / m} is missing; metadata.csv lists it." for m in missing]
