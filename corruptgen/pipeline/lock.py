"""One build at a time into one ``--out``: the kernel's lock on ``<out>/.corruptgen.lock``."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corruptgen.datasets.base import DatasetError

from .layout import LOCK_FILE


@contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold ``<out>/.corruptgen.lock`` for the build: a second build into the same folder (another
    terminal, another client) is refused while this one runs. The lock is the kernel's (``flock``),
    so a killed build's is released with its process and never blocks the rerun."""
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = open(out / LOCK_FILE, "a+")
    except OSError as exc:
        raise DatasetError(f"--out {out} cannot be created ({exc.strerror or exc}); choose a folder you can write to.") from None
    try:
        import fcntl
    except ImportError:  # no flock (Windows): builds are not guarded against each other
        fcntl = None
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DatasetError(f"--out {out} is being built right now ({holder}); wait for that build to finish, "
                               "or choose another --out.") from None  # fmt: skip
    handle.seek(0)
    handle.truncate()
    handle.write(f"corruptgen build, pid {os.getpid()} on {socket.gethostname()}, since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S')}")  # fmt: skip
    handle.flush()
    try:
        yield
    finally:
        handle.seek(0)
        handle.truncate()  # the same (empty) file after every finished build
        handle.close()  # releases the lock
        if created and {p.name for p in out.iterdir()} == {LOCK_FILE}:
            shutil.rmtree(out)  # a refused first build leaves nothing behind
