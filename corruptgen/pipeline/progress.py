"""Progress a person can follow: a bar on a terminal that moves with every image a shard finishes, a line
per shard otherwise (and one every ``LINE_EVERY_S`` seconds within long shards), nothing when quiet."""

from __future__ import annotations

import sys
import threading
import time

from tqdm import tqdm

LINE_EVERY_S = 10.0
"""Without a terminal, the least seconds between two lines about images finished within shards."""


class Progress:
    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = None
        self.done_shards = 0
        self.done_images = 0
        self.within: dict[int, int] = {}  # images each running shard reported so far
        self.finished: set[int] = set()
        self.lock = threading.Lock()  # samples arrive on the relay's thread, shards on the main one
        self.last_line = time.perf_counter()

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

    def sample_done(self, shard: int, n: int = 1) -> None:
        """A shard finished ``n`` more images (reported while it runs)."""
        with self.lock:
            if shard in self.finished:
                return  # its end was counted already (reports cross processes and may arrive late)
            self.within[shard] = self.within.get(shard, 0) + n
            if self.quiet:
                return
            if self.bar is not None:
                self.bar.update(n)
            elif time.perf_counter() - self.last_line >= LINE_EVERY_S:
                self.last_line = time.perf_counter()
                running = self.done_images + sum(self.within.values())
                self._echo(f"{running}/{self.images} images done ({self.done_shards}/{self.shards} shards complete).")

    def shard_done(self, result) -> None:
        with self.lock:
            self.done_shards += 1
            self.done_images += result.images
            self.finished.add(result.index)
            already = self.within.pop(result.index, 0)
            if self.quiet:
                return
            if self.bar is not None:
                self.bar.update(result.images - already)
                return
            self.last_line = time.perf_counter()
        rate = self.done_images / max(time.perf_counter() - self.t0, 1e-9)
        self._echo(f"shard {result.index:05d} done ({self.done_shards}/{self.shards}): {result.images} images, "
                   f"{result.written} written, {result.failed} failed; {rate:.1f} images/s")  # fmt: skip

    def warn(self, text: str) -> None:
        """Said even when quiet (it silences progress, not what the user should know)."""
        self._echo(f"Warning: {text}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def _echo(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
