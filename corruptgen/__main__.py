"""``python -m corruptgen`` is the ``corruptgen`` command."""

from corruptgen.cli import main

main()
