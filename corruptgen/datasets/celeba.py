"""CelebA groups: a target attribute and confounders, grouped as group DRO and WILDS number them.

From CelebA as downloaded (``list_attr_celeba.csv`` / ``.txt``, ``list_eval_partition.csv`` / ``.txt``,
``img_align_celeba/``), the tree group DRO's loader and WILDS' ``CelebADataset`` read, images linked, not rewritten:

    <out>/img_align_celeba/<file>    hard links (a copy where the file system refuses)
    <out>/list_attr_celeba.csv       the attributes, as group DRO and WILDS read them
    <out>/list_eval_partition.csv    the splits (0 train, 1 val, 2 test)
    <out>/metadata.csv               image_id, split, y, each confounder (0/1), group

Attributes -1/1 become 0/1; ``confounder_id = sum_k c_k 2^k``; ``n_groups = 2 * 2^K``; ``group = y * n_groups / 2 +
confounder_id`` (kohpangwei/group_DRO ``data/celebA_dataset.py:L35-L54``: with ``Blond_Hair`` and ``Male``, group 0
is not blond and female, 3 blond and male).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from corruptgen import __version__
from corruptgen.files import atomic_write, link_or_copy

from .base import DatasetError, check_generated_out, write_record


def _table(src: Path, stem: str) -> tuple[list[str], list[list[str]]]:
    """A CelebA list file as (header, rows): the CSV form (``image_id,...``) or the original text one (a count line,
    then the attribute names, then ``file v1 v2 ...``; the partition file has no header)."""
    csv_path, txt_path = src / f"{stem}.csv", src / f"{stem}.txt"
    if csv_path.is_file():
        rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
        return rows[0], rows[1:]
    if txt_path.is_file():
        lines = [line.split() for line in txt_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if stem == "list_attr_celeba":
            return ["image_id", *lines[1]], lines[2:]
        return ["image_id", "partition"], lines
    raise DatasetError(f"{src} holds no {stem}.csv (nor .txt); CelebA needs list_attr_celeba, list_eval_partition and "
                       "img_align_celeba/.")  # fmt: skip


def build_celeba(src: Path, out: Path, target: str = "Blond_Hair", confounders: tuple[str, ...] = ("Male",)) -> dict:
    src, out = Path(src), Path(out)
    header, rows = _table(src, "list_attr_celeba")
    missing = [a for a in (target, *confounders) if a not in header]
    if missing:
        raise DatasetError(f"CelebA has no attribute {missing[0]!r}; valid ones are {', '.join(header[1:])}.")
    partition_header, partition_rows = _table(src, "list_eval_partition")
    split = {r[0]: int(r[1]) for r in partition_rows}
    images = src / "img_align_celeba"
    if not images.is_dir():
        raise DatasetError(f"{images} does not exist; CelebA needs its aligned images folder img_align_celeba/.")
    check_generated_out(out)
    col = {name: i for i, name in enumerate(header)}
    n_groups = 2 * 2 ** len(confounders)
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(["image_id", "split", "y", *confounders, "group"])
    counts: dict[str, list[int]] = {"0": [0] * n_groups, "1": [0] * n_groups, "2": [0] * n_groups}
    for row in rows:
        image = row[0]
        if image not in split:
            raise DatasetError(f"{image} has no split in list_eval_partition.")
        y = int(int(row[col[target]]) > 0)
        conf = [int(int(row[col[c]]) > 0) for c in confounders]
        group = y * (n_groups // 2) + sum(c << k for k, c in enumerate(conf))
        writer.writerow([image, split[image], y, *conf, group])
        counts[str(split[image])][group] += 1
        source = images / image
        if not source.is_file():
            raise DatasetError(f"{source} is missing; list_attr_celeba names it.")
        target_path = out / "img_align_celeba" / image
        if not target_path.exists():
            link_or_copy(source, target_path)
    # the readers' own files, in the CSV form group DRO and WILDS read, from the tables parsed above
    for stem, table in (("list_attr_celeba", [header, *rows]), ("list_eval_partition", [partition_header, *partition_rows])):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(table)
        atomic_write(out / f"{stem}.csv", buffer.getvalue().encode())
    atomic_write(out / "metadata.csv", lines.getvalue().encode())
    return write_record(out, {"corruptgen_version": __version__, "generated": "celeba", "source": str(src),
                              "target": target, "confounders": list(confounders), "n_groups": n_groups,
                              "group_counts": {{"0": "train", "1": "val", "2": "test"}[k]: v for k, v in counts.items()}})  # fmt: skip
