"""The ``corruptgen`` command: one click group, one module per command.

Commands are imported when they run (a ``--help`` lists them from :data:`COMMANDS` without importing
any), so ``corruptgen --version`` and ``--help`` start without NumPy, OpenCV or Numba.
"""

from __future__ import annotations

import atexit
import gc
import importlib

import click

from corruptgen import __version__

COMMANDS = {
    "build": ("build_cmd", "build_command", "Build the corrupted version of DATASET from --src into --out."),
    "classify": ("run_cmd", "classify_command", "Run a classifier over TARGET: its clean source and every..."),
    "detect": ("run_cmd", "detect_command", "Run a detector over TARGET: its clean source and every..."),
    "evaluate": ("evaluate_cmd", "evaluate_command", "Score --results against TREE (a built tree; omit it for an..."),
    "list": ("list_cmd", "list_command", "List the corruptions a profile has: family, set, and..."),
    "preview": ("preview_cmd", "preview_command", "Draw IMAGE under each corruption (rows) and severity..."),
    "report": ("report_cmd", "report_command", "Write an HTML page of TARGET (a built tree): the build, a..."),
    "segment": ("run_cmd", "segment_command", "Run a semantic segmenter over TARGET: its clean source and..."),
    "verify": ("verify_cmd", "verify_command", "Check that every output listed in OUT's manifests exists with..."),
}
"""name -> (module in this package, command object, the short help ``--help`` lists: the command's own,
checked by the tests)."""


RESUME_HINTS = {
    "build": "rerun the same command to resume: the shards already finished are kept, the rest are built.",
    "classify": "rerun the same command to resume: the cells already written under --results are kept.",
    "detect": "rerun the same command to resume: the cells already written under --results are kept.",
    "segment": "rerun the same command to resume: the cells already written under --results are kept.",
}
"""What to do after Ctrl-C, per command (click alone prints "Aborted!")."""


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's documented lazy-loading pattern)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            hint = RESUME_HINTS.get(ctx.invoked_subcommand or "", "nothing it wrote is left half-done.")
            click.echo(f"\nInterrupted; {hint}", err=True)
            ctx.exit(130)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corruptgen")
def main() -> None:
    """Fast, seeded image corruptions and -C robustness datasets."""
    # A command that ran a kernel leaves Numba's compiler objects on the heap, which the interpreter's
    # last full collection walks at exit: about 0.25 s of every such command (scripts/bench_startup.py).
    # Freezing the heap at exit skips that walk, as Spack's launcher does; atexit handlers, weakref
    # finalizers and stream flushes still run. Registered once however often main() runs (tests).
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
