"""Where output bytes go, and how they are read back: one protocol, one module per format.

- :mod:`.base`: the :class:`~.base.Writer` protocol (prepare / add / close, a context manager;
  ``read`` and ``pixels`` give back what a manifest row names) and :func:`~.base.place`;
- :mod:`.folder`: the source's own layout, one file per output (or a row of a release's array,
  MNIST-C's ``.npy``);
- :mod:`.webdataset`: WebDataset tar shards, byte-reproducible;
- :mod:`.arrays`: a -C release's arrays, one ``.npy`` per corruption (CIFAR-10-C, CIFAR-100-C): the
  folder format of datasets whose release is arrays;
- :mod:`.sequences`: perturbation sequences (ImageNet-P's MP4s through :mod:`.video`, CIFAR-10-P's
  ``(N, T, H, W, C)`` arrays, an ``.mp4`` member per WebDataset sample).

The build engine and the adapters do not know which is in use: the engine asks :data:`WRITERS`
for ``--output-format``'s writer; verify and evaluation read outputs through the same class.
"""

from __future__ import annotations

from .arrays import ReleaseArrayWriter
from .base import Writer, place
from .folder import FolderWriter
from .sequences import SequenceArrayWriter, VideoFolderWriter, VideoTarWriter
from .webdataset import TarWriter

WRITERS: dict[str, type[Writer]] = {"folder": FolderWriter, "webdataset": TarWriter}
"""``--output-format`` -> its writer."""


def writer_for(output_format: str | None, adapter=None, sequences: bool = False) -> type[Writer]:
    """The writer of a build's recorded ``output_format`` (absent: the folder tree) for ``adapter``
    (an adapter or its class): a dataset whose release is arrays is written as those in the folder format.
    ``sequences``: a perturbation build's (MP4s, or the dataset's arrays of frames).

    Examples
    --------
    >>> writer_for(None).__name__, writer_for("webdataset").__name__
    ('FolderWriter', 'TarWriter')
    """
    if output_format not in (None, *WRITERS):
        raise ValueError(f"unknown output format {output_format!r}; valid formats are {', '.join(WRITERS)}.")
    if sequences:
        if (output_format or "folder") == "webdataset":
            return VideoTarWriter
        return SequenceArrayWriter if getattr(adapter, "sequence_arrays", False) else VideoFolderWriter
    if (output_format or "folder") == "folder" and getattr(adapter, "release_arrays", False):
        return ReleaseArrayWriter
    return WRITERS[output_format or "folder"]


__all__ = ["WRITERS", "FolderWriter", "ReleaseArrayWriter", "SequenceArrayWriter", "TarWriter", "VideoFolderWriter",
           "VideoTarWriter", "Writer", "place", "writer_for"]
