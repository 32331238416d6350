"""The ``corruptgen`` command: one click group, one module per command."""

from __future__ import annotations

import click

from corruptgen import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corruptgen")
def main() -> None:
    """Fast, seeded image corruptions and -C robustness datasets."""


def _register() -> None:
    from . import build_cmd, evaluate_cmd, list_cmd, preview_cmd, run_cmd, verify_cmd

    main.add_command(build_cmd.build_command)
    main.add_command(verify_cmd.verify_command)
    main.add_command(list_cmd.list_command)
    main.add_command(preview_cmd.preview_command)
    main.add_command(run_cmd.detect_command)
    main.add_command(run_cmd.classify_command)
    main.add_command(run_cmd.segment_command)
    main.add_command(evaluate_cmd.evaluate_command)


_register()
