"""What a dataset adapter is: enumerate samples, read one, say where its outputs and annotations go.

An adapter knows its format and nothing about how a corruption works; the build engine
knows nothing about any format. Adapters are plain picklable objects so that a shard task
can run in another process or on a Dask worker.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import ClassVar

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from corruptgen.files import atomic_write, contained, sha256_bytes

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
FORMAT_EXTENSIONS = {"png": ".png", "jpeg": ".jpg"}


class SampleError(ValueError):
    """One sample cannot be read; the message names its file and what is wrong."""


class DatasetError(ValueError):
    """The dataset as a whole cannot be read (missing split, unreadable annotation file)."""


@dataclass(frozen=True)
class Sample:
    """One source image: a stable key, where it is, and where its outputs go.

    ``output`` is relative to ``<out>/<corruption>/<severity>/``. ``problem`` is set when the
    sample is known to be unusable before reading it (a file name outside ``--src``).
    """

    key: str
    source: str
    output: str
    problem: str | None = None
    locator: tuple[int, int] | None = None
    """``(offset, size)`` of the image's bytes inside an archive (read without unpacking it)."""


@dataclass(frozen=True)
class CarriedFile:
    """An annotation file for the output: once under ``<out>/`` or into every corruption tree.

    Either ``source`` (hard-linked or copied unchanged) or ``data`` (rewritten bytes).
    """

    target: str
    source: Path | None = None
    data: bytes | None = None
    per_tree: bool = False
    moves: bool = False
    """One sample's annotation of where things are (a VOC XML, a Cityscapes label map): trees of a
    content-moving corruption get it moved, per output, by :meth:`Adapter.moved_targets`."""


@dataclass
class BuildSettings:
    image_format: str = "source"  # source | png | jpeg
    jpeg_quality: int = 95
    video: str = "release"
    """How perturbation sequences become MP4s (``writers.video.VIDEO_MODES``)."""


def decode_image(path: Path, display: str) -> tuple[np.ndarray, str | None]:
    """Read an image as uint8 grey (H x W) or RGB (H x W x 3), with a note when it was converted.

    Palette, CMYK, LA, RGBA and 16-bit images are converted (16-bit by dropping the low byte);
    truncated, empty or non-image files raise SampleError naming ``display``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SampleError(f"{display}: file not found.") from None
    except OSError as exc:
        raise SampleError(f"{display}: cannot be read ({exc.strerror or exc}).") from None
    return decode_image_bytes(data, display)


def decode_image_bytes(data: bytes, display: str) -> tuple[np.ndarray, str | None]:
    """:func:`decode_image` of bytes already read (an archive member)."""
    if not data:
        raise SampleError(f"{display}: file is empty (0 bytes), not an image.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            mode = img.mode
            if mode in ("L", "RGB"):
                return np.asarray(img), None
            if mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(img).astype(np.uint32)
                return (arr >> 8).clip(0, 255).astype(np.uint8), f"converted {mode} (16-bit) to 8-bit grey"
            if mode in ("LA", "1"):
                return np.asarray(img.convert("L")), f"converted {mode} to L"
            return np.asarray(img.convert("RGB")), f"converted {mode} to RGB"
    except UnidentifiedImageError:
        raise SampleError(f"{display}: not a recognised image file.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise SampleError(f"{display}: damaged image ({exc}).") from None


def encode_image(pixels: np.ndarray, extension: str, jpeg_quality: int) -> bytes:
    """Encode with OpenCV (deterministic bytes for a given OpenCV build): PNG lossless or JPEG."""
    ext = extension.lower()
    bgr = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    if ext in (".jpg", ".jpeg"):
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
    elif ext == ".png":
        # zlib level 1 with run-length matching: within ~5% of level 9's size on photos, 1.5-2x faster
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE])
    else:
        ok, buf = cv2.imencode(ext, bgr)
    if not ok:
        raise SampleError(f"OpenCV could not encode an image as {ext}.")
    return buf.tobytes()


def output_name(relative: str, image_format: str) -> str:
    """The source-relative path with its extension changed when ``--image-format`` asks."""
    if image_format == "source":
        return relative
    return str(PurePosixPath(relative).with_suffix(FORMAT_EXTENSIONS[image_format]))


def array_problems(images_path: Path, labels_path: Path, image_shape: tuple[int, ...]) -> list[str]:
    """What is wrong with a release's image array and its labels (MNIST-C's, CIFAR-10-C's): empty when
    both load, the images are uint8 ``N x image_shape`` and there are as many labels."""
    try:
        images, labels = np.load(images_path, mmap_mode="r"), np.load(labels_path, mmap_mode="r")
    except (OSError, ValueError) as exc:
        return [f"{images_path}: does not load with its labels {labels_path.name} ({exc})."]
    if images.dtype != np.uint8 or images.shape[1:] != image_shape or len(images) != len(labels):
        return [f"{images_path}: shape {images.shape} {images.dtype} vs {len(labels)} labels in {labels_path.name}."]
    return []


RECORD_FILE = "corruptgen.json"


def check_generated_out(out: Path) -> None:
    """A generated dataset's ``--out`` (Colored MNIST, CelebA groups, ImageNet-D): new, empty, or an earlier
    build of it (its record there); DatasetError otherwise, before anything is written."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / RECORD_FILE).is_file():
        raise DatasetError(f"--out {out} is not empty and holds no {RECORD_FILE}; choose a new or empty folder.")


def read_record(out: Path) -> dict:
    """A generated dataset's ``corruptgen.json`` under ``out`` ({} where there is none, or it is not one)."""
    try:
        record = json.loads((Path(out) / RECORD_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def generated_kind(out: Path | None) -> str | None:
    """What ``corruptgen build`` generated into ``out`` (``waterbirds``, ``celeba``, ``colored-mnist``,
    ``imagenet-d``), or None where ``out`` holds a -C build or nothing of corruptgen's."""
    return None if out is None else read_record(out).get("generated")


def write_record(out: Path, record: dict) -> dict:
    """A generated dataset's ``corruptgen.json`` (what was built, from what, with which counts); returns it."""
    atomic_write(Path(out) / RECORD_FILE, (json.dumps(record, indent=2, default=str) + "\n").encode())
    return record


def walk_images(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith("."):
            yield path


@dataclass(frozen=True)
class NamedClass:
    """A class of a dataset that is no ImageNet label space: its name (CIFAR's, a folder's)."""

    name: str
    in1k: tuple[int, ...] = ()


@dataclass
class Adapter:
    """Base adapter. Subclasses set ``name`` and implement :meth:`samples` (and, as needed,
    :meth:`load`, :meth:`carried`, :meth:`tree_dirs`, :meth:`problems` and :meth:`check`)."""

    src: Path
    split: str | None = None
    settings: BuildSettings = field(default_factory=BuildSettings)
    name = "base"
    spatial_annotations = False
    """True when annotations locate things in the image (boxes, polygons, masks), so a
    corruption that moves content would invalidate them."""
    default_profile = "imagenet"
    """The severity tables a build uses when ``--profile`` is not given."""
    benchmark_size: ClassVar[tuple[str, int, int] | None] = None
    """The benchmark a classification tree of this kind is scored against: its name, images and classes
    (ImageNet-C: 50,000 validation images of 1,000 classes), so a summary can say when a tree covers a
    small part of it; None: no such benchmark."""
    scored_split: ClassVar[str | None] = None
    """Where a tree holds several splits in one sample list (MNIST without ``--split``), the one
    benchmarks score by default (MNIST-C reports the test split); None: a tree holds one split."""
    default_corruptions: ClassVar[str | None] = None
    """The corruptions a build makes when ``--corruptions`` is not given (None: the profile's suite)."""

    def describe(self) -> dict:
        """What identifies the source in corruptgen.json (a rerun with another refuses)."""
        return {"dataset": self.name, "source": str(self.src), "split": self.split}

    def expected_layout(self) -> str:
        """The layout this adapter reads, for the "nothing found" error."""
        return "image files"

    def load_cache(self, out: Path) -> None:
        """Reuse what an earlier build into ``out`` saved with :meth:`save_cache` (an archive index)."""

    def save_cache(self, out: Path) -> None:
        """Keep what enumerating the source cost (an archive's member index) beside corruptgen.json."""

    def samples(self) -> list[Sample]:
        raise NotImplementedError

    def splits(self) -> list[str]:
        """The splits :meth:`samples` enumerates."""
        return [self.split] if self.split else []

    def split_of(self, sample: Sample) -> str | None:
        """The split a sample belongs to (where :meth:`splits` holds several)."""
        return self.split

    def size_warning(self, built: int) -> str | None:
        """A sentence when the ``built`` samples are not what the release's loaders assume (CIFAR-10-C's
        10,000 per severity), said before the build and kept in corruptgen.json; None when they are."""
        return None

    def problems(self) -> list[str]:
        """Dataset-level inconsistencies found while enumerating (reported, not fatal)."""
        return []

    def load(self, sample: Sample) -> tuple[np.ndarray, str | None]:
        return decode_image(self.src / sample.source, sample.source)

    sequence_arrays: ClassVar[bool] = False
    """True when a perturbation build writes the dataset's frames as arrays (:meth:`array_slot`),
    CIFAR-10-P's layout, rather than one MP4 per image."""

    def load_for_sequences(self, sample: Sample) -> tuple[np.ndarray, str | None]:
        """The image a perturbation sequence starts from (ImageNet: the Resize(256) image, before the
        crop that :meth:`frame_size` names); :meth:`load`'s by default."""
        return self.load(sample)

    def frame_size(self) -> tuple[int, int] | None:
        """The (height, width) a sequence's frames are centre-cropped to; None: the image's own."""
        return None

    def array_slot(self, sample: Sample) -> tuple[str, int]:
        """Where a sample's row goes in an array dataset: the folder under ``--out`` (``""``: the top)
        and its index there."""
        raise NotImplementedError

    def encode(self, sample: Sample, pixels: np.ndarray) -> bytes:
        return encode_image(pixels, PurePosixPath(sample.output).suffix, self.settings.jpeg_quality)

    def prepare_tree(self, tree: Path, samples: list[Sample]) -> bool:
        """Called once per corruption/severity tree before any shard writes into it (``samples``: the
        build's, after ``--limit``); True when outputs written there earlier were found damaged or of
        another size and dropped (the build writes them again)."""
        return False

    def write_output(self, tree: Path, sample: Sample, pixels: np.ndarray) -> dict:
        """Store one corrupted image under ``tree``; return its manifest fields.

        The default encodes one file per image, written atomically.
        """
        data = self.encode(sample, pixels)
        atomic_write(contained(tree, sample.output), data)
        return {"output": sample.output, "sha256": sha256_bytes(data), "bytes": len(data)}

    def close(self) -> None:
        """Release what :meth:`write_output` kept open (end of a shard task)."""

    def annotation_files(self, sample: Sample) -> dict[str, tuple[str, Path]]:
        """The sample's own annotation files: tree-relative path -> (a tag the adapter chooses, source path)."""
        return {}

    def own_annotations(self, sample: Sample) -> dict[str, tuple[str, Path, bytes]]:
        """:meth:`annotation_files` with their bytes, read once per sample: a shard asks for them for
        every corruption and severity of the sample in turn, so the last sample's are kept."""
        memo = self.__dict__.get("_own_memo")
        if memo is None or memo[0] != sample.key:
            files = {rel: (tag, path, path.read_bytes()) for rel, (tag, path) in self.annotation_files(sample).items()}
            memo = self.__dict__["_own_memo"] = (sample.key, files)
        return memo[1]

    def moved_targets(self, sample: Sample, warp, size: tuple[int, int]) -> tuple[dict[str, bytes], dict]:
        """The sample's annotations moved by ``warp`` (a :class:`corruptgen.geometry.Warp`; the image is
        ``size`` = (height, width)): its own annotation files (tree-relative path -> bytes, as the source
        lays them out), and manifest fields (``dropped``: objects pushed out of the image; COCO's moved
        ``annotations``, which :meth:`finish_tree` assembles)."""
        return {}, {}

    def label(self, sample: Sample) -> int | None:
        """The sample's class index for class-labelled datasets (None: no class)."""
        return None

    def class_list(self) -> list | None:
        """The classes :meth:`label` indexes, in its order, each with a ``name`` (and ``in1k``, the ImageNet
        classes it is): what a zero-shot model is asked to tell apart. None: the dataset has no classes."""
        return None

    def members(self, sample: Sample, moved_files: dict[str, bytes], fields: dict) -> dict[str, bytes]:
        """The sample's targets as WebDataset members (extension -> bytes): ``cls`` for a class label,
        or the annotations (moved ones when given) as the dataset keeps them."""
        label = self.label(sample)
        return {} if label is None else {"cls": str(label).encode()}

    def finish_tree(self, tree: Path, rows: list[dict]) -> None:
        """Write a moved tree's dataset-level annotation files from its manifest rows (key order)."""

    def carried(self) -> list[CarriedFile]:
        return []

    def tree_dirs(self) -> list[str]:
        """Folders every corruption tree must have even when empty (ImageNet class folders)."""
        return []

    @classmethod
    def check(cls, out: Path) -> list[str]:
        """Parse the annotation files of a built tree; return what is wrong."""
        return []
