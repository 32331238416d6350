"""Every example in the README and the documentation site runs (#40, item 4), so a renamed option breaks a test, not a
reader.

A collector reads the fenced blocks of ``README.md`` and ``docs/**/*.md``:

- Python blocks run top to bottom, one namespace per page (as a reader runs them), in a scratch folder, with
  stand-ins for the names a page leaves to the reader (``image``, ``digit``, ``my_dataset``); a block marked
  ``<!-- docs-test: stand-in NAME -->`` first gets the generated data ``NAME`` (a WebDataset tree, ...). A block that
  defines a model factory is run for its definitions (calling one would download weights).
- Shell blocks: every ``corruptgen`` command is checked against the click commands themselves (the subcommand, each
  option, each choice); the blocks that need nothing beyond what ships or is generated here (no ``/data/``, no
  user module) are run, in order, in one scratch folder per page, on the bundled sample and generated stand-ins.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import numpy as np
import pytest
from fixtures import cli, make_imagenet, photo

from corruptgen.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if "robustness/" not in p.as_posix())]
BLOCK = re.compile(r"(?:<!-- docs-test: (?P<mark>[^>]*?) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)
OFFLINE_ONLY = re.compile(r"/data/|\bmy\w*:|--dask|\bpip\b|\bdask\b|\bpython\b|\bbash\b|\bcd\b|<|\bTREE\b|photo\.jpg|"
                          r"\bsrun\b|\bsbatch\b|\.\.\.|\bdata/|\bCORRUPTGEN_|timm:|open_clip:|hf:|--weights [^n]")


def blocks(page: Path) -> list[tuple[str, str, str | None]]:
    return [(m["lang"], m["body"], m["mark"]) for m in BLOCK.finditer(page.read_text(encoding="utf-8"))]


def commands(body: str) -> list[str]:
    """The shell lines of a block, continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", body)
    out = []
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def corruptgen_calls(line: str) -> list[list[str]]:
    """Each ``corruptgen ...`` call of a shell line (``a && b`` gives two), as argument lists."""
    calls = []
    for part in re.split(r"&&|\|\||;|\|", line):
        tokens = shlex.split(part)
        if tokens and tokens[0] == "corruptgen":
            calls.append(tokens[1:])
    return calls


def check_call(args: list[str], where: str) -> None:
    """The subcommand exists and every option (and each choice given) is one it has."""
    assert args, f"{where}: a bare corruptgen"
    command = main.get_command(click.Context(main), args[0])  # the group imports its commands lazily
    assert command is not None, f"{where}: no command {args[0]!r}"
    options = {opt: p for p in command.params for opt in (*p.opts, *p.secondary_opts) if opt.startswith("-")}
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    positional = 0
    i = 1
    while i < len(args):
        token = args[i]
        if token.startswith("-") and token != "-":
            name, _, inline = token.partition("=")
            param = options.get(name)
            assert param is not None, f"{where}: corruptgen {args[0]} has no option {name}"
            takes_value = not (param.is_flag or param.count) if isinstance(param, click.Option) else True
            if isinstance(param, click.Option) and param.is_flag and param.flag_value is not None and not isinstance(param.flag_value, bool):
                takes_value = i + 1 < len(args) and not args[i + 1].startswith("-") and not inline
            value = inline or (args[i + 1] if takes_value and i + 1 < len(args) else None)
            if takes_value and not inline:
                i += 1
            if value is not None and isinstance(param.type, click.Choice):
                assert value in param.type.choices, f"{where}: {name} {value!r} is not one of {param.type.choices}"
        else:
            if positional < len(arguments) and isinstance(arguments[positional].type, click.Choice):
                choices = arguments[positional].type.choices
                assert token in choices, f"{where}: {token!r} is not one of {choices}"
            positional += 1
        i += 1


def test_every_command_in_the_docs_is_one_the_cli_has():
    checked = 0
    for page in PAGES:
        for lang, body, _ in blocks(page):
            if lang != "bash":
                continue
            for line in commands(body):
                for call in corruptgen_calls(line):
                    check_call(call, f"{page.relative_to(ROOT)}: {line}")
                    checked += 1
    assert checked >= 60  # the README's and the guides' commands


def stand_in(name: str, cwd: Path) -> None:
    """Generated data a marked block reads, put where it reads it."""
    if name == "imagenet-c-webdataset":
        src = make_imagenet(cwd / "imagenet-src")
        cli("build", "imagenet", "--src", src, "--out", cwd / "imagenet-c", "--corruptions", "fog", "--severities", "3",
            "--output-format", "webdataset", "--quiet")  # fmt: skip
    elif name == "coco-c-runs":  # a bundled-sample build and two detectors' evaluated runs on it
        cli("build", "coco", "--out", cwd / "coco-c", "--corruptions", "fog,rotate", "--severities", "1,3", "--quiet")
        for run in ("frcnn", "detr"):
            cli("detect", cwd / "coco-c", "--model", "standin_models:brightness_detector", "--results", cwd / "runs" / run,
                "--workers", 1, "--quiet")  # fmt: skip
            cli("evaluate", cwd / "coco-c", "--results", cwd / "runs" / run, "--out", cwd / "runs" / run / "report")
    else:
        raise AssertionError(f"unknown stand-in {name!r}")


def page_namespace(cwd: Path) -> dict:
    """The names a page leaves to its reader: an RGB photograph, an MNIST-sized digit, a list of images."""
    image = photo(0, 96, 128)
    return {"image": image, "digit": (photo(1, 28, 28).mean(axis=2)).astype(np.uint8),
            "my_dataset": [photo(i, 64, 64) for i in range(4)], "__name__": "docs_example"}  # fmt: skip


@pytest.mark.parametrize("page", [p for p in PAGES if any(lang == "python" for lang, _, _ in blocks(p))],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = page_namespace(tmp_path)
    ran = 0
    for lang, body, mark in blocks(page):
        if lang != "python":
            continue
        if mark and mark.startswith("stand-in "):
            stand_in(mark.split(" ", 1)[1], tmp_path)
        exec(compile(body, f"{page.name} example", "exec"), namespace)  # noqa: S102 (our own documentation)
        ran += 1
    assert ran


def runnable(body: str) -> bool:
    return bool(body.strip()) and not OFFLINE_ONLY.search(body)


@pytest.mark.parametrize("page", [p for p in PAGES if any(lang == "bash" and runnable(b) for lang, b, _ in blocks(p))],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shell_examples_run_on_the_bundled_sample(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ran = 0
    for lang, body, mark in blocks(page):
        if lang != "bash" or not runnable(body):
            continue
        if mark and mark.startswith("stand-in "):
            stand_in(mark.split(" ", 1)[1], tmp_path)
        for line in commands(body):
            for call in corruptgen_calls(line):
                cli(*call)
                ran += 1
    assert ran
