"""Where output bytes go, and how they are read back: one protocol, one module per format.

- :mod:`.base`: the :class:`~.base.Writer` protocol (prepare / add / close, a context manager;
  ``read`` and ``pixels`` give back what a manifest row names) and :func:`~.base.place`;
- :mod:`.folder`: the source's own layout, one file per output (or a row of a release's array,
  MNIST-C's ``.npy``);
- :mod:`.webdataset`: WebDataset tar shards, byte-reproducible.

The build engine and the adapters do not know which is in use: the engine asks :data:`WRITERS`
for ``--output-format``'s writer; verify and evaluation read outputs through the same class.
"""

from __future__ import annotations

from .base import Writer, place
from .folder import FolderWriter
from .webdataset import TarWriter

WRITERS: dict[str, type[Writer]] = {"folder": FolderWriter, "webdataset": TarWriter}
"""``--output-format`` -> its writer."""


def writer_for(output_format: str | None) -> type[Writer]:
    """The writer of a build's recorded ``output_format`` (absent: the folder tree).

    Examples
    --------
    >>> writer_for(None).__name__, writer_for("webdataset").__name__
    ('FolderWriter', 'TarWriter')
    """
    try:
        return WRITERS[output_format or "folder"]
    except KeyError:
        raise ValueError(f"unknown output format {output_format!r}; valid formats are {', '.join(WRITERS)}.") from None


__all__ = ["WRITERS", "FolderWriter", "TarWriter", "Writer", "place", "writer_for"]
