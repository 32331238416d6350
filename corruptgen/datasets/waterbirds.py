"""Waterbirds (Sagawa et al., group DRO), generated from CUB-200-2011 and Places365 as the reference does, seeded.

kohpangwei/group_DRO ``dataset_scripts/generate_waterbirds.py`` and ``dataset_utils.py`` (``../shared/research/
shifts.md`` section 5.1), step by step:

1. a species is a waterbird when its lower-cased name holds one of the reference's 17 words as a substring
   (``--species-rule reference``; the reference's README notes that this marks Eastern Towhees, Western Meadowlarks
   and Western Wood Pewees as waterbirds, "tern" being inside "eastern" and "western"), or as whole words of the
   name (``--species-rule strict``, which corrects those three);
2. CUB's own train / test split, ``round(0.2 n)`` of the training images drawn (without replacement) as
   validation; splits coded 0 train, 1 val, 2 test;
3. per split and label, ``round(f n)`` images drawn to get a water background, ``f`` = 1 - 0.95 for landbirds
   and 0.95 for waterbirds in train, 0.5 in val and test (``--confounder-strength`` changes 0.95);
4. the land backgrounds (``bamboo_forest``, ``forest/broadleaf``) and the water ones (``ocean``,
   ``lake/natural``) listed from Places365's ``data_large/``, shuffled, one distinct file per image in
   ``img_id`` order;
5. each image: ``bird = round(img * seg)`` with CUB's soft segmentation (``seg`` / 255, not binarised), the
   background cropped to the bird image's aspect ratio and resized (enlarged first when smaller) by
   ``crop_and_resize``, ``round(background * (1 - seg))`` added, saved as JPEG at Pillow's defaults under the
   bird's own ``NNN.Species/<file>.jpg``.

Where this differs, knowingly: every draw comes from one ``numpy.random.Generator`` seeded with ``--seed`` (the
reference draws unseeded from ``np.random`` and ``random``, so "running this script will not create the exact
dataset we provide"), the background files are listed in sorted order before the shuffle (the reference shuffles
``os.listdir``'s order, which the file system decides), and resizing uses ``Image.LANCZOS``, the filter Pillow
< 10 called ``ANTIALIAS`` (removed in Pillow 10, where the reference fails). The same seed gives the same bytes,
whatever ``--workers`` and after an interruption (a rerun writes what is missing).

Written under ``--out``: the images, ``metadata.csv`` with the reference's columns (``img_id, img_filename, y,
split, place, place_filename``; what group DRO's ``CUBDataset`` and WILDS' ``WaterbirdsDataset`` read),
``RELEASE_v1.0.txt`` (the file by which WILDS recognises ``<root>/waterbirds_v1.0/``) and ``corruptgen.json``. With
``--output-format webdataset`` the images go into ``<split>/waterbirds-<split>-NNNNNN.tar`` shards instead (each
sample's ``.jpg``, ``.cls`` = y and ``.json`` = its metadata row; deterministic tar bytes), ``metadata.csv`` beside.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tarfile
from concurrent.futures import Executor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from corruptgen import __version__
from corruptgen.files import atomic_write, contained

from .base import DatasetError, SampleError, check_generated_out, read_record, write_record

WATER_BIRDS = ("Albatross", "Auklet", "Cormorant", "Frigatebird", "Fulmar", "Gull", "Jaeger", "Kittiwake", "Pelican",
               "Puffin", "Tern", "Gadwall", "Grebe", "Mallard", "Merganser", "Guillemot", "Pacific_Loon")  # fmt: skip
"""The reference's seabirds (Albatross ... Tern) and waterfowl (Gadwall ... Pacific_Loon)."""
PLACES = (("bamboo_forest", "forest/broadleaf"), ("ocean", "lake/natural"))
"""Places365 categories of the land (place 0) and water (place 1) backgrounds."""
SPECIES_RULES = ("reference", "strict")
SPLITS = {0: "train", 1: "val", 2: "test"}
COLUMNS = ("img_id", "img_filename", "y", "split", "place", "place_filename")
RELEASE_FILE = "RELEASE_v1.0.txt"


def is_waterbird(species: str, rule: str = "reference") -> bool:
    """Whether a CUB species (``Black_footed_Albatross``) is a waterbird: the reference's substring test of the
    lower-cased name, or (``strict``) the words of a listed name appearing as whole words of the species' name.

    >>> is_waterbird("Eastern_Towhee"), is_waterbird("Eastern_Towhee", "strict"), is_waterbird("Arctic_Tern", "strict")
    (True, False, True)
    """
    name = species.lower()
    if rule == "reference":
        return any(word.lower() in name for word in WATER_BIRDS)
    words = name.split("_")
    for listed in WATER_BIRDS:
        part = listed.lower().split("_")
        if any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1)):
            return True
    return False


def crop_and_resize(source: Image.Image, width: int, height: int) -> Image.Image:
    """``dataset_utils.crop_and_resize``: the background made exactly ``width`` x ``height``. A side smaller than
    the target's: enlarged to match the target's width (or, where that leaves it short, its height), then cropped.
    Otherwise the wider (or taller) aspect is cropped symmetrically and the rest resized."""
    sw, sh = source.size
    if sw < width or sh < height:
        by_width = (width, int((width / sw) * sh))
        if by_width[0] >= width and by_width[1] >= height:
            return crop_and_resize(source.resize(by_width, Image.LANCZOS), width, height)
        by_height = (int((height / sh) * sw), height)
        return crop_and_resize(source.resize(by_height, Image.LANCZOS), width, height)
    source_aspect, target_aspect = sw / sh, width / height
    if source_aspect > target_aspect:
        offset = (sw - int(target_aspect * sh)) // 2
        box = (offset, 0, sw - offset, sh)
    else:
        offset = (sh - int(sw / target_aspect)) // 2
        box = (0, offset, sw, sh - offset)
    return source.crop(box).resize((width, height), Image.LANCZOS)


def composite(bird: np.ndarray, segmentation: np.ndarray, background: Image.Image) -> np.ndarray:
    """The reference's composite (``combine_and_mask``): ``round(bird * m) + round(crop_and_resize(background) *
    (1 - m))`` with ``m`` the soft mask (``segmentation`` as RGB / 255), as uint8."""
    mask = segmentation / 255
    bird_only = np.around(bird * mask).astype(np.uint8)
    height, width = bird_only.shape[:2]
    resized = np.asarray(crop_and_resize(background, width, height))
    return bird_only + np.around(resized * (1 - mask)).astype(np.uint8)


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    confounder_strength: float = 0.95
    val_fraction: float = 0.2
    species_rule: str = "reference"


@dataclass(frozen=True)
class Row:
    img_id: int
    img_filename: str
    y: int
    split: int
    place: int
    place_filename: str


def find_cub(src: Path) -> tuple[Path, Path]:
    """CUB-200-2011's folder (``images.txt``, ``train_test_split.txt``, ``images/``) and its segmentations folder
    (``segmentations/``, a separate download, inside it or beside it)."""
    src = Path(src)
    root = src if (src / "images.txt").is_file() else src / "CUB_200_2011"
    for name in ("images.txt", "train_test_split.txt", "images"):
        if not (root / name).exists():
            raise DatasetError(f"{src} holds no CUB_200_2011 {name}; give the CUB-200-2011 folder (images.txt, "
                               "train_test_split.txt, images/, and the segmentations/ of its separate download).")  # fmt: skip
    for seg in (root / "segmentations", root.parent / "segmentations"):
        if seg.is_dir():
            return root, seg
    raise DatasetError(f"no segmentations/ folder in or beside {root}; Waterbirds cuts each bird out with CUB's "
                       "segmentation masks (segmentations.tgz, a separate download): extract it there.")  # fmt: skip


def find_places(places: Path) -> Path:
    """Places365's ``data_large/`` (the high-resolution training images the reference uses)."""
    places = Path(places)
    root = places if places.name == "data_large" else places / "data_large"
    missing = [c for group in PLACES for c in group if not (root / c[0] / c).is_dir()]
    if missing:
        raise DatasetError(f"{places} has no data_large/{missing[0][0]}/{missing[0]}/; Waterbirds' backgrounds are "
                           "Places365's high-resolution training images (data_large/<letter>/<category>/*.jpg) of "
                           f"{', '.join(c for g in PLACES for c in g)}.")  # fmt: skip
    return root


def _table(path: Path, columns: int) -> list[list[str]]:
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    bad = next((r for r in rows if len(r) != columns), None)
    if bad is not None:
        raise DatasetError(f"{path}: the line {' '.join(bad)!r} does not have {columns} fields.")
    return rows


def plan(cub: Path, data_large: Path, settings: Settings) -> list[Row]:
    """Every image's label, split, background class and background file: the reference's steps 1-4, drawn from one
    generator seeded with ``settings.seed``."""
    if settings.species_rule not in SPECIES_RULES:
        raise DatasetError(f"--species-rule {settings.species_rule}: valid ones are {', '.join(SPECIES_RULES)}.")
    if not 0.5 <= settings.confounder_strength <= 1:
        raise DatasetError(f"--confounder-strength {settings.confounder_strength}: give a value from 0.5 (no "
                           "correlation) to 1 (every training image on its class's background).")  # fmt: skip
    if not 0 <= settings.val_fraction < 1:
        raise DatasetError(f"--val-fraction {settings.val_fraction}: give a fraction from 0 to below 1.")
    images = {int(i): name for i, name in _table(cub / "images.txt", 2)}
    official = {int(i): int(s) for i, s in _table(cub / "train_test_split.txt", 2)}
    ids = np.array(sorted(images), dtype=np.int64)
    missing = [i for i in ids if i not in official]
    if missing:
        raise DatasetError(f"{cub / 'train_test_split.txt'} has no split for image {missing[0]} of images.txt.")
    species = {i: images[i].split("/")[0].split(".", 1)[-1] for i in ids}
    y = {i: int(is_waterbird(species[i], settings.species_rule)) for i in ids}
    rng = np.random.default_rng(settings.seed)
    train = np.array([i for i in ids if official[i] == 1], dtype=np.int64)
    val = set(rng.choice(train, size=int(np.round(settings.val_fraction * len(train))), replace=False).tolist())
    split = {i: 2 if official[i] == 0 else 1 if i in val else 0 for i in ids}
    place = dict.fromkeys(ids.tolist(), 0)
    for s in (0, 1, 2):
        for label in (0, 1):
            if s == 0:
                water = settings.confounder_strength if label else 1 - settings.confounder_strength
            else:
                water = 0.5
            members = np.array([i for i in ids if split[i] == s and y[i] == label], dtype=np.int64)
            for i in rng.choice(members, size=int(np.round(water * len(members))), replace=False).tolist():
                place[i] = 1
    backgrounds = {}
    for index, categories in enumerate(PLACES):
        files = [f"/{c[0]}/{c}/{p.name}" for c in categories
                 for p in sorted((data_large / c[0] / c).iterdir()) if p.name.endswith(".jpg")]  # fmt: skip
        files = [files[k] for k in rng.permutation(len(files))]
        wanted = [i for i in ids.tolist() if place[i] == index]
        if len(files) < len(wanted):
            raise DatasetError(f"not enough {' and '.join(categories)} backgrounds in {data_large}: {len(files):,} for "
                               f"{len(wanted):,} images.")  # fmt: skip
        backgrounds.update(zip(wanted, files))
    return [Row(int(i), images[i], y[i], split[i], place[i], backgrounds[i]) for i in ids.tolist()]


def metadata_csv(rows: list[Row]) -> bytes:
    """``metadata.csv`` as the reference's ``df.to_csv`` writes it (the index, ``img_id``, first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([r.img_id, r.img_filename, r.y, r.split, r.place, r.place_filename] for r in rows)
    return buffer.getvalue().encode()


def _open_rgb(path: Path) -> Image.Image:
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except FileNotFoundError:
        raise SampleError(f"{path}: file not found.") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise SampleError(f"{path}: not a readable image ({exc}).") from None


def render(row: Row, cub: Path, segmentations: Path, data_large: Path) -> bytes:
    """One Waterbirds image, encoded as the reference saves it (Pillow's JPEG defaults)."""
    bird = np.asarray(_open_rgb(cub / "images" / row.img_filename))
    seg_path = segmentations / row.img_filename.replace(".jpg", ".png")
    segmentation = np.asarray(_open_rgb(seg_path))
    if segmentation.shape != bird.shape:
        raise SampleError(f"{seg_path}: {segmentation.shape[1]} x {segmentation.shape[0]} mask for a "
                          f"{bird.shape[1]} x {bird.shape[0]} image.")  # fmt: skip
    background = _open_rgb(data_large / row.place_filename[1:])
    buffer = io.BytesIO()
    Image.fromarray(composite(bird, segmentation, background)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _render_chunk(rows: list[Row], cub: Path, segmentations: Path, data_large: Path, out: Path) -> list[str]:
    """Write each row's image not yet under ``out``; returns the problems (one sentence each)."""
    problems = []
    for row in rows:
        target = contained(out, row.img_filename)
        if target.is_file():  # written whole by an earlier run (atomic writes leave nothing half-written)
            continue
        try:
            atomic_write(target, render(row, cub, segmentations, data_large))
        except SampleError as exc:
            problems.append(str(exc))
    return problems


SHARD_SIZE = 500
"""Images per WebDataset shard (``--output-format webdataset``)."""


def shard_key(img_filename: str) -> str:
    """An image's WebDataset key: its path without the extension, only ``[A-Za-z0-9_/-]`` (readers split a member's
    name at the first dot of its base name)."""
    return re.sub(r"[^A-Za-z0-9_/-]", "_", img_filename.rsplit(".", 1)[0])


def _render_shard(rows: list[Row], cub: Path, segmentations: Path, data_large: Path, path: Path) -> list[str]:
    """One WebDataset shard of ``rows`` (each sample's ``.jpg``, ``.cls`` = y and ``.json`` = its metadata row), written
    whole or not at all, skipped when an earlier run wrote it; returns the problems (a failed image leaves the shard
    unwritten, so a rerun after the fix writes it)."""
    if path.is_file():
        return []
    buffer = io.BytesIO()
    problems = []
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for row in rows:
            try:
                image = render(row, cub, segmentations, data_large)
            except SampleError as exc:
                problems.append(str(exc))
                continue
            meta = json.dumps(dict(zip(COLUMNS, (row.img_id, row.img_filename, row.y, row.split, row.place,
                                                 row.place_filename))), sort_keys=True).encode()  # fmt: skip
            for extension, data in (("jpg", image), ("cls", str(row.y).encode()), ("json", meta)):
                info = tarfile.TarInfo(f"{shard_key(row.img_filename)}.{extension}")
                info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = len(data), 0, 0o644, 0, 0, "", ""
                tar.addfile(info, io.BytesIO(data))
    if not problems:
        atomic_write(path, buffer.getvalue())
    return problems


def build_waterbirds(src: Path, places: Path, out: Path, settings: Settings = Settings(), executor: Executor | None = None,
                     quiet: bool = True, output_format: str = "folder") -> dict:  # fmt: skip
    """Generate Waterbirds from CUB-200-2011 (``src``) and Places365 (``places``) into ``out``, the images rendered on
    ``executor`` (a process pool; None: in this process); returns the record."""
    cub, segmentations = find_cub(src)
    data_large = find_places(places)
    out = Path(out)
    check_generated_out(out)
    earlier = read_record(out)
    if earlier.get("settings") is not None:
        before = (earlier["settings"], earlier.get("output_format", "folder"))
        if before != (asdict(settings), output_format):
            raise DatasetError(f"{out} holds a Waterbirds build with other settings ({before[0]}, {before[1]}); choose a "
                               "new folder, or rerun with those to finish it.")  # fmt: skip
    rows = plan(cub, data_large, settings)
    record = {"corruptgen_version": __version__, "generated": "waterbirds", "source": str(src), "places": str(places),
              "settings": asdict(settings), "output_format": output_format, "complete": False}  # fmt: skip
    write_record(out, record)  # first: a rerun with other settings is refused before it mixes two datasets
    atomic_write(out / "metadata.csv", metadata_csv(rows))
    atomic_write(out / RELEASE_FILE, b"Waterbirds generated by corruptgen (metadata.csv records how).\n")
    if output_format == "webdataset":  # <out>/<split>/waterbirds-<split>-NNNNNN.tar, a shard the unit of resume
        tasks = []
        for s, name in SPLITS.items():
            members = [r for r in rows if r.split == s]
            for k in range(0, len(members), SHARD_SIZE):
                tasks.append((_render_shard, members[k : k + SHARD_SIZE],
                              out / name / f"waterbirds-{name}-{k // SHARD_SIZE:06d}.tar"))  # fmt: skip
    else:
        tasks = [(_render_chunk, rows[k : k + 64], out) for k in range(0, len(rows), 64)]
    problems: list[str] = []
    with tqdm(total=len(rows), unit="img", desc="waterbirds", disable=quiet) as bar:
        if executor is not None:
            futures = [executor.submit(fn, chunk, cub, segmentations, data_large, where) for fn, chunk, where in tasks]
            for (_, chunk, _), future in zip(tasks, futures):
                problems += future.result()
                bar.update(len(chunk))
        else:
            for fn, chunk, where in tasks:
                problems += fn(chunk, cub, segmentations, data_large, where)
                bar.update(len(chunk))
    counts = {name: {f"y={y},place={p}": sum(r.split == s and r.y == y and r.place == p for r in rows)
                     for y in (0, 1) for p in (0, 1)} for s, name in SPLITS.items()}  # fmt: skip
    record.update({"images": len(rows), "group_counts": counts, "problems": problems[:100], "complete": not problems,
                   "waterbird_species": sorted({r.img_filename.split("/")[0] for r in rows if r.y})})  # fmt: skip
    return write_record(out, record)
