"""Tiny datasets in each source's real layout, generated from scikit-image's photographs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
FEW = ["--corruptions", "gaussian_noise,glass_blur,fog", "--severities", "1,3"]
"""A small grid of cells for runner and evaluation tests (a noise, glass blur's shuffle, fog's plasma)."""
CELLS = [(c, s) for c in ("gaussian_noise", "glass_blur", "fog") for s in (1, 3)]


def cli(*args, expect=0):
    """``corruptgen ARGS`` in this process; its exit code checked, the result returned."""
    from click.testing import CliRunner

    from corruptgen.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == expect, result.output + repr(result.exception)
    return result


def photo(index: int, height: int = 40, width: int = 52) -> np.ndarray:
    return cv2.resize(getattr(data, PHOTOS[index % len(PHOTOS)])(), (width, height), interpolation=cv2.INTER_AREA)


def make_coco(root: Path, n: int = 3, split: str = "val2017", size: tuple[int, int] = (40, 52), distinct: bool = False) -> Path:
    """``n`` photos with one 30 x 20 box each; ``distinct`` gives each image its own size (so a
    stand-in model can tell them apart)."""
    (root / split).mkdir(parents=True)
    (root / "annotations").mkdir()
    images, anns = [], []
    for i in range(n):
        if distinct:
            size = (40 + i, 52 + 2 * i)
        name = f"{i + 1:012d}.jpg"
        Image.fromarray(photo(i, *size)).save(root / split / name, quality=95)
        images.append({"id": i + 1, "file_name": name, "width": size[1], "height": size[0]})
        x, y = 5 + i, 4 + i
        poly = [x, y, x + 30, y, x + 30, y + 20, x, y + 20]
        anns.append({"id": i + 1, "image_id": i + 1, "category_id": 1, "segmentation": [poly], "area": 600.0,
                     "bbox": [x, y, 30, 20], "iscrowd": 0})  # fmt: skip
    doc = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "thing", "supercategory": "x"}]}
    (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(doc))
    return root


def make_imagenet(root: Path) -> Path:
    for i, wnid in enumerate(["n01440764", "n01443537"]):
        (root / "val" / wnid).mkdir(parents=True)
        for j in range(2):
            Image.fromarray(photo(i + j, 60, 80)).save(root / "val" / wnid / f"ILSVRC2012_val_{i * 2 + j:08d}.JPEG")
    (root / "val" / "n09999999").mkdir()  # a class whose images are all elsewhere: must still exist
    return root


def make_voc(root: Path) -> Path:
    year = root / "VOCdevkit" / "VOC2007"
    for sub in ("JPEGImages", "Annotations", "ImageSets/Main", "SegmentationClass"):
        (year / sub).mkdir(parents=True)
    ids = ["000001", "000002"]
    for i, ident in enumerate(ids):
        Image.fromarray(photo(i)).save(year / "JPEGImages" / f"{ident}.jpg")
        (year / "Annotations" / f"{ident}.xml").write_text(
            f"<annotation><folder>VOC2007</folder><filename>{ident}.jpg</filename><size><width>52</width>"
            "<height>40</height><depth>3</depth></size><object><name>cat</name><difficult>0</difficult>"
            "<bndbox><xmin>3</xmin><ymin>4</ymin><xmax>30</xmax><ymax>20</ymax></bndbox></object></annotation>"
        )
        seg = Image.fromarray(np.full((40, 52), 8 * (i + 1), np.uint8), "L").convert("P")
        seg.save(year / "SegmentationClass" / f"{ident}.png")
    (year / "ImageSets" / "Main" / "test.txt").write_text("\n".join(ids) + "\n")
    return root / "VOCdevkit"


def make_cityscapes(root: Path) -> Path:
    for city, frame in (("frankfurt", 19), ("lindau", 42)):
        stem = f"{city}_000000_{frame:06d}"
        img_dir = root / "leftImg8bit" / "val" / city
        gt_dir = root / "gtFine" / "val" / city
        img_dir.mkdir(parents=True)
        gt_dir.mkdir(parents=True)
        Image.fromarray(photo(frame, 32, 64)).save(img_dir / f"{stem}_leftImg8bit.png")
        Image.fromarray(np.full((32, 64), 7, np.uint8)).save(gt_dir / f"{stem}_gtFine_labelIds.png")
        Image.fromarray(np.full((32, 64), 26001, np.uint16)).save(gt_dir / f"{stem}_gtFine_instanceIds.png")
        (gt_dir / f"{stem}_gtFine_polygons.json").write_text(json.dumps(
            {"imgHeight": 32, "imgWidth": 64, "objects": [{"label": "road", "polygon": [[0, 20], [63, 20], [63, 31], [0, 31]]}]}))  # fmt: skip
    return root


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def make_mnist(root: Path, n_train: int = 7, n_test: int = 5, gz: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = cv2.resize(data.camera(), (28, 28 * n), interpolation=cv2.INTER_AREA).reshape(n, 28, 28)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            payload = _idx(array)
            if gz:
                (root / f"{name}.gz").write_bytes(gzip.compress(payload, mtime=0))
            else:
                (root / name).write_bytes(payload)
    return root


def make_folder(root: Path) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    Image.fromarray(photo(0)).save(root / "a" / "one.png")
    Image.fromarray(photo(1)).save(root / "a" / "b" / "two.jpg")
    Image.fromarray(photo(2)[:, :, 0]).save(root / "gray.png")
    (root / "notes.txt").write_text("not an image, and not listed: only image extensions are walked")
    return root


def tree_digest(root: Path, exclude: tuple[str, ...] = ("corruptgen.json",)) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes), for byte-identity comparisons."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in exclude}  # fmt: skip


IMAGENET_WNIDS = ("n01440764", "n01443537", "n01484850")


def make_imagenet_forms(root: Path) -> dict[str, Path]:
    """One generated validation set (6 photos, 3 classes) in every form ImageNet is held in:
    class folders, a flat folder, the flat .tar, a devkit (folder and .tar.gz), Kaggle's CSV,
    and a training-style archive of per-class inner tars."""
    import io
    import tarfile

    from scipy.io import savemat

    classes = [i % 3 for i in range(6)]
    names = [f"ILSVRC2012_val_{i + 1:08d}.JPEG" for i in range(6)]
    payloads = []
    for i in range(len(names)):
        buffer = io.BytesIO()
        Image.fromarray(photo(i, 60 + 4 * i, 80)).save(buffer, format="JPEG", quality=92)
        payloads.append(buffer.getvalue())
    forms = {}
    for i, name in enumerate(names):
        folder = root / "folders" / "val" / IMAGENET_WNIDS[classes[i]]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(payloads[i])
        (root / "flat" / "val").mkdir(parents=True, exist_ok=True)
        (root / "flat" / "val" / name).write_bytes(payloads[i])
    forms["folders"], forms["flat"] = root / "folders", root / "flat"

    def add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))

    forms["tar"] = root / "ILSVRC2012_img_val.tar"
    with tarfile.open(forms["tar"], "w") as archive:
        for name, data in zip(names, payloads):
            add(archive, name, data)
    # the devkit: meta.mat (ids 1-3 are the leaves, 1001 an inner synset) and the ground truth
    devkit = root / "devkit" / "ILSVRC2012_devkit_t12"
    (devkit / "data").mkdir(parents=True)
    synsets = np.zeros((4,), dtype=[("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O"), ("num_children", "O")])
    for i, wnid in enumerate(IMAGENET_WNIDS):
        synsets[i] = (i + 1, wnid, f"class {i}", 0)
    synsets[3] = (1001, "n00000001", "an inner synset", 3)
    savemat(devkit / "data" / "meta.mat", {"synsets": synsets})
    (devkit / "data" / "ILSVRC2012_validation_ground_truth.txt").write_text("".join(f"{c + 1}\n" for c in classes))
    forms["devkit"] = devkit
    forms["devkit_tgz"] = root / "ILSVRC2012_devkit_t12.tar.gz"
    with tarfile.open(forms["devkit_tgz"], "w:gz") as archive:
        archive.add(devkit, arcname="ILSVRC2012_devkit_t12")
    forms["csv"] = root / "LOC_val_solution.csv"
    rows = [f"{n[:-5]},{IMAGENET_WNIDS[c]} 10 20 30 40 {IMAGENET_WNIDS[c]} 1 2 3 4" for n, c in zip(names, classes)]
    forms["csv"].write_text("ImageId,PredictionString\n" + "\n".join(reversed(rows)) + "\n")
    # a training-style archive: one inner tar per class, holding that class's images
    forms["train_tar"] = root / "ILSVRC2012_img_train.tar"
    with tarfile.open(forms["train_tar"], "w") as outer:
        for c, wnid in enumerate(IMAGENET_WNIDS):
            inner = io.BytesIO()
            with tarfile.open(fileobj=inner, mode="w") as archive:
                for i in range(6):
                    if classes[i] == c:
                        add(archive, names[i], payloads[i])
            add(outer, f"{wnid}.tar", inner.getvalue())
    return forms


def warp_gain(name: str, severity: int, profile: str = "imagenet") -> float:
    """The spectral norm of an affine corruption's source-to-output map: how far a source pixel's
    worth of error can reach in the output (the same for every seed: only the warp's sign is drawn)."""
    from corruptgen.api import corrupt_rgb_or_gray
    from corruptgen.corruptions import get_corruption

    _, warp = corrupt_rgb_or_gray(np.zeros((16, 16, 3), np.uint8), get_corruption(name), severity, np.random.default_rng(0),
                                  profile, with_warp=True)  # fmt: skip
    return float(np.linalg.norm(warp.forward[:2, :2], 2))


def assert_box_fits_pixels(box_xyxy, white: np.ndarray, gain: float) -> None:
    """A white rectangle warped bilinearly and thresholded at one half, against its warped box.

    A pixel is white only where the interpolated step exceeds one half, that is where its centre's
    preimage lies inside the rectangle (on OpenCV's 1/32-pixel sampling grid: up to 1/64 px per axis
    off), so the pixel box lies inside the warped box widened by half a pixel. The other way, the
    corners are cut: the interpolation rounds a corner off by up to half a source pixel's diagonal,
    and the nearest pixel centre inside the wedge left may be a pixel further."""
    ys, xs = np.nonzero(white)
    lo, hi = np.asarray(box_xyxy[:2], float), np.asarray(box_xyxy[2:], float)
    pixel_lo, pixel_hi = np.array([xs.min(), ys.min()]), np.array([xs.max() + 1, ys.max() + 1])
    grid = gain * np.sqrt(2) / 64
    assert np.all(pixel_lo >= lo - 0.5 - grid) and np.all(pixel_hi <= hi + 0.5 + grid), (box_xyxy, pixel_lo, pixel_hi)
    corner = 1 + gain * np.sqrt(2) / 2
    assert np.all(pixel_lo - lo <= corner) and np.all(hi - pixel_hi <= corner), (box_xyxy, pixel_lo, pixel_hi, corner)


class _Py2Str(bytes):
    """Bytes pickled as a Python 2 ``str`` (``SHORT_BINSTRING`` / ``BINSTRING``), as in the CIFAR release's
    pickles: ``encoding="bytes"`` loads them as bytes, ``encoding="latin1"`` (torchvision) as str."""


def _py2_pickle(obj) -> bytes:
    import io
    import pickle
    import struct

    class Py2Pickler(pickle._Pickler):
        dispatch = dict(pickle._Pickler.dispatch)

        def save_py2str(self, value):
            raw = bytes(value)
            head = b"U" + bytes([len(raw)]) if len(raw) < 256 else b"T" + struct.pack("<i", len(raw))
            self.write(head + raw)
            self.memoize(value)

        dispatch[_Py2Str] = save_py2str

    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def cifar_images(n: int, seed: int = 0) -> np.ndarray:
    """``n`` real-photograph tiles at 32 x 32 (random windows of scikit-image's photographs, resized),
    N x 32 x 32 x 3 uint8."""
    rng = np.random.default_rng(seed)
    photos = [getattr(data, name)() for name in ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")]
    photos = [p if p.ndim == 3 else np.repeat(p[:, :, None], 3, axis=2) for p in photos]
    out = np.empty((n, 32, 32, 3), np.uint8)
    for i in range(n):
        image = photos[i % len(photos)]
        size = int(rng.integers(32, min(image.shape[:2]) // 2))
        y, x = (int(rng.integers(0, image.shape[k] - size)) for k in (0, 1))
        out[i] = cv2.resize(np.ascontiguousarray(image[y : y + size, x : x + size, :3]), (32, 32), interpolation=cv2.INTER_AREA)
    return out


def make_cifar(root: Path, kind: str = "cifar10", n_test: int = 20, n_train: int = 10, archive: bool = False) -> Path:
    """The CIFAR python release in its exact pickle format (Python 2 ``str`` keys, ``data`` N x 3072 uint8
    channel-planar), from :func:`cifar_images`: ``<root>/cifar-10-batches-py/`` (five train batches of
    ``n_train // 5``, ``test_batch``, ``batches.meta``) or ``<root>/cifar-100-python/`` (``train``, ``test``,
    ``meta``); with ``archive``, the ``.tar.gz`` as downloaded. Returns the folder or the archive."""
    import tarfile

    classes = 10 if kind == "cifar10" else 100
    folder = root / ("cifar-10-batches-py" if kind == "cifar10" else "cifar-100-python")
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    label_key = _Py2Str(b"labels" if kind == "cifar10" else b"fine_labels")

    def batch(name: str, images: np.ndarray, title: str) -> None:
        labels = [int(v) for v in rng.integers(0, classes, len(images))]
        doc = {_Py2Str(b"batch_label"): _Py2Str(title.encode()), label_key: labels,
               _Py2Str(b"data"): np.ascontiguousarray(images.transpose(0, 3, 1, 2).reshape(len(images), 3072)),
               _Py2Str(b"filenames"): [_Py2Str(f"img_{i:05d}.png".encode()) for i in range(len(images))]}  # fmt: skip
        if kind == "cifar100":
            doc[_Py2Str(b"coarse_labels")] = [v // 5 for v in labels]
        (folder / name).write_bytes(_py2_pickle(doc))

    images = cifar_images(n_test + n_train)
    if kind == "cifar10":
        batch("test_batch", images[:n_test], "testing batch 1 of 1")
        for b, part in enumerate(np.array_split(images[n_test:], 5), start=1):
            batch(f"data_batch_{b}", part, f"training batch {b} of 5")
        names = [_Py2Str(f"class{i}".encode()) for i in range(10)]
        (folder / "batches.meta").write_bytes(_py2_pickle({_Py2Str(b"label_names"): names, _Py2Str(b"num_vis"): 3072}))
    else:
        batch("test", images[:n_test], "testing batch 1 of 1")
        batch("train", images[n_test:], "training batch 1 of 1")
        meta = {_Py2Str(b"fine_label_names"): [_Py2Str(f"fine{i}".encode()) for i in range(100)],
                _Py2Str(b"coarse_label_names"): [_Py2Str(f"coarse{i}".encode()) for i in range(20)]}  # fmt: skip
        (folder / "meta").write_bytes(_py2_pickle(meta))
    if not archive:
        return folder
    path = root / ("cifar-10-python.tar.gz" if kind == "cifar10" else "cifar-100-python.tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return path


def coded_photo(index: int, second: int, photo_index: int = 0, size: tuple[int, int] = (300, 400)) -> np.ndarray:
    """A photograph whose central 120 px square names two ImageNet classes for ``standin_models.colour_coded``:
    red and green give ``index`` (red x 4 + green // 64), blue gives ``second`` (the runner-up) as its offset
    from it plus 128 (offsets -128..127)."""
    image = photo(photo_index, *size).copy()
    cy, cx = size[0] // 2, size[1] // 2
    offset = second - index
    assert -128 <= offset < 128, "the runner-up is coded as an offset of -128..127"
    image[cy - 60 : cy + 60, cx - 60 : cx + 60] = (index // 4, (index % 4) * 64, offset + 128)
    return image


def make_natural(root: Path, folders: dict[str, list[tuple[int, int]]], archive: str | None = None) -> Path:
    """A test set in its release layout: ``root/<folder>/<n>.png``, each image coded with its (top, runner-up)
    ImageNet classes; ``archive`` ``tar`` or ``tar.gz``: the folder packed as the release ships it."""
    import tarfile

    root.mkdir(parents=True, exist_ok=True)
    for folder, codes in folders.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for n, (top, second) in enumerate(codes):
            Image.fromarray(coded_photo(top, second, n)).save(root / folder / f"{n:03d}.png")
    if archive is None:
        return root
    path = root.parent / f"{root.name}.{archive}"
    with tarfile.open(path, "w:gz" if archive == "tar.gz" else "w") as tar:
        tar.add(root, arcname=root.name)
    return path
