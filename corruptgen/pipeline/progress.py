"""Progress a person can follow: a bar on a terminal, a line per shard otherwise, nothing when quiet."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Progress:
    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = None
        self.done_shards = 0
        self.done_images = 0

    def start(self, images: int, shards: int, outputs: int) -> None:
        self.shards, self.images, self.t0 = shards, images, time.perf_counter()
        if self.quiet:
            return
        if shards == 0:
            self._echo("Nothing to do: every requested output is already built.")
        elif self.tty:
            self.bar = tqdm(total=images, unit="img", file=self.stream, dynamic_ncols=True,
                            desc=f"{shards} shards, {outputs} outputs")  # fmt: skip
        else:
            self._echo(f"Building {outputs} outputs from {images} images in {shards} shards.")

    def shard_done(self, result) -> None:
        self.done_shards += 1
        self.done_images += result.images
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(result.images)
            return
        rate = self.done_images / max(time.perf_counter() - self.t0, 1e-9)
        self._echo(f"shard {result.index:05d} done ({self.done_shards}/{self.shards}): {result.images} images, "
                   f"{result.written} written, {result.failed} failed; {rate:.1f} images/s")  # fmt: skip

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def _echo(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
