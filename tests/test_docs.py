"""Every example in the README and the documentation site runs (#40, item 4), so a renamed option breaks a test, not a
reader.

A collector reads the fenced blocks of ``README.md`` and ``docs/**/*.md``:

- Python blocks run top to bottom, one namespace per page (as a reader runs them), in a scratch folder, with
  stand-ins for the names a page leaves to the reader (``image``, ``digit``, ``my_dataset``); a block marked
  ``<!-- docs-test: stand-in NAME -->`` first gets the generated data ``NAME`` (a WebDataset tree, ...). A block that
  defines a model factory is run for its definitions (calling one would download weights).
- Shell blocks: every ``corruptgen`` command is checked against the click commands themselves (the subcommand, each
  option, each choice), then run, page by page and in order, in a scratch folder (:class:`World`): ``/data/NAME``
  sources are generated stand-ins, models are stand-ins of the right kind (a named model given ``--weights none``
  runs as written), builds and runs are kept to a few images. The commands :data:`SKIPPED` names are not run here
  (each has its own test), nor are the lines that are not corruptgen's (``pip``, ``dask``, the examples' scripts).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import numpy as np
import pytest
from fixtures import cli, make_imagenet, photo
from PIL import Image

from corruptgen.cli import main
from corruptgen.datasets import GROUPED_SETS, NATURAL_SHIFTS
from corruptgen.models import is_model_spec

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if "robustness/" not in p.as_posix())]
BLOCK = re.compile(r"(?:<!-- docs-test: (?P<mark>[^>]*?) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)


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


def page_namespace() -> dict:
    """The names a page leaves to its reader: an RGB photograph, an MNIST-sized digit, a list of images."""
    image = photo(0, 96, 128)
    return {"image": image, "digit": (photo(1, 28, 28).mean(axis=2)).astype(np.uint8),
            "my_dataset": [photo(i, 64, 64) for i in range(4)], "__name__": "docs_example"}  # fmt: skip


@pytest.mark.parametrize("page", [p for p in PAGES if any(lang == "python" for lang, _, _ in blocks(p))],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = page_namespace()
    ran = 0
    for lang, body, mark in blocks(page):
        if lang != "python":
            continue
        if mark and mark.startswith("stand-in "):
            stand_in(mark.split(" ", 1)[1], tmp_path)
        exec(compile(body, f"{page.name} example", "exec"), namespace)  # noqa: S102 (our own documentation)
        ran += 1
    assert ran


SKIPPED = {
    "ILSVRC2012_img_val.tar": "ImageNet's validation archive and devkit (read in place by tests/test_imagenet_sources.py)",
    "--baseline runs/alexnet-p": "a second model's ImageNet-P results (--baseline is tested in tests/test_sequences.py)",
    "--dask": "a Dask cluster (tests/test_scale.py runs a local one)",
}
"""Commands of the documentation not run here, and why (each has its own test)."""


NAMED_MODEL_OPTIONS = ("--weights", "--device", "--precision", "--templates", "--classnames")


class World:
    """A scratch folder where the documentation's commands run: ``/data/NAME`` and ``/shared/NAME`` are generated
    stand-ins under ``data-src/``, every model is a stand-in of the right kind (``tests/standin_models.py``), builds
    and runs are kept to a few images (``--limit``) and run inline; what the commands build, later ones read."""

    def __init__(self, cwd: Path):
        self.cwd, self.variables = cwd, {}

    # -- sources, made when a command first names them --
    def source(self, path: str) -> None:
        from fixtures import make_cifar, make_cityscapes, make_coco, make_folder, make_mnist, make_natural, make_voc
        from test_celeba import make_celeba
        from test_waterbirds import make_cub, make_places

        from corruptgen.labels import label_space

        c = self.cwd
        target = c / path.rstrip("/")
        if target.exists():
            return
        wnids = [cls.folder for cls in label_space("imagenet-r").classes[:2]]
        natural = {w: [(1, 2), (3, 4)] for w in wnids}
        makers = {
            "data-src/coco": lambda: make_coco(target), "data-src/mnist": lambda: make_mnist(target, 60, 30),
            "data-src/celeba": lambda: make_celeba(target), "data-src/CUB_200_2011": lambda: make_cub(c / "data-src"),
            "data-src/places365": lambda: make_places(target), "data-src/imagenet": lambda: self.imagenet(target),
            "data-src/VOCdevkit": lambda: make_voc(c / "data-src"), "data-src/cityscapes": lambda: make_cityscapes(target),
            "photos": lambda: make_folder(target), "data-src/imagenet-r": lambda: make_natural(target, natural),
            "imagenet-r.tar": lambda: make_natural(c / "imagenet-r-src" / "imagenet-r", natural, "tar").rename(target),
            "imagenetv2-matched-frequency.tar.gz": lambda: make_natural(
                c / "v2-src" / "imagenetv2-matched-frequency-format-val", {"0": [(0, 1)], "10": [(10, 3)]}, "tar.gz").rename(target),
            "data-src/ImageNet-Sketch": lambda: make_natural(target / "sketch", natural),
            "data-src/objectnet-1.0": lambda: make_natural(
                target / "images", {cls: [(5, 6)] for cls in ("air_freshener", "alarm_clock")}),
            "cifar-10-python.tar.gz": lambda: make_cifar(c / "cifar10-src", archive=True).rename(target),
            "cifar-100-python.tar.gz": lambda: make_cifar(c / "cifar100-src", "cifar100", archive=True).rename(target),
            "photo.jpg": lambda: Image.fromarray(photo(0, 96, 128)).save(target),
            "imagenet_test_image_ids.txt": lambda: target.write_text("n01440764/ILSVRC2012_val_00000000.JPEG\n"),
        }
        if path.rstrip("/") in makers:
            makers[path.rstrip("/")]()

    @staticmethod
    def imagenet(root: Path) -> None:
        """ImageNet val with, besides the fixture's classes, one class of each shift's label space."""
        from corruptgen.labels import imagenet_classes, label_space

        make_imagenet(root)
        wnids = imagenet_classes()[0]
        for space in ("imagenet-r", "objectnet"):
            folder = root / "val" / wnids[label_space(space).classes[0].in1k[0]]
            folder.mkdir(exist_ok=True)
            Image.fromarray(photo(3, 60, 80)).save(folder / f"ILSVRC2012_val_{space}.JPEG")

    def tree(self, name: str) -> None:
        """A -C tree a page scores without building it (ImageNet-C, Cityscapes-C, CIFAR-10-C)."""
        if (self.cwd / name / "corruptgen.json").is_file():
            return
        kind, src = {"imagenet-c": ("imagenet", "data-src/imagenet"), "cityscapes-c": ("cityscapes", "data-src/cityscapes"),
                     "data/CIFAR-10-C": ("cifar10", "cifar-10-python.tar.gz")}[name]  # fmt: skip
        self.source(src)
        cli("build", kind, "--src", self.cwd / src, "--out", self.cwd / name, "--corruptions", "fog,gaussian_noise",
            "--severities", "1,5", "--limit", 4, "--workers", 1, "--quiet")  # fmt: skip

    def model(self, command: str, target: str, args: list[str]) -> str:
        if command == "detect":
            return "standin_models:brightness_detector"
        if command == "segment":
            return "standin_models:halves_segmenter"
        if "--adapt" in args or target == "data/CIFAR-10-C":
            return "standin_models:tiny_bn_cnn"
        if target in GROUPED_SETS:
            return "standin_models:background_classifier"
        if target.endswith("-P"):
            return "standin_models:histogram_scorer"
        if target in NATURAL_SHIFTS or "--classes-of" in args:
            return "standin_models:imagenet_scores"
        return "standin_models:mean_classifier"

    def run(self, line: str) -> int:
        """Run a shell line's corruptgen calls (``NAME=value`` lines set variables); returns how many ran."""
        assignment = re.fullmatch(r"(\w+)=(.*)", line)
        if assignment:
            self.variables[assignment[1]] = shlex.split(assignment[2])[0]
            return 0
        for name, value in self.variables.items():
            line = line.replace(f"${name}", value)
        line = line.replace("/data/", "data-src/").replace("/shared/", "data-src/")
        ran = 0
        for args in corruptgen_calls(line):
            ran += self.call(args)
        return ran

    def call(self, args: list[str]) -> int:
        command = args[0]
        for token in args:  # a source the command names is generated first (unknown names are left alone)
            self.source(token)
        if command in ("classify", "detect", "segment"):
            target = args[1]
            if target in ("imagenet-c", "cityscapes-c", "data/CIFAR-10-C"):
                self.tree(target)
            at = args.index("--model")
            named = is_model_spec(args[at + 1])
            if not (named and "--weights" in args and args[args.index("--weights") + 1] == "none"):
                # a stand-in of the right kind (a named model with random weights runs as written)
                args = args[:at] + ["--model", self.model(command, target, args)] + args[at + 2:]
                for option in NAMED_MODEL_OPTIONS:
                    while option in args:
                        at = args.index(option)
                        args = args[:at] + args[at + 2:]
            args += ["--limit", "4", "--workers", "1"]
        if command == "build" and args[1] not in ("waterbirds", "celeba", "colored-mnist") or (
                command == "build" and "--corruptions" in args):
            args += ["--limit", "2" if "--perturbations" in args else "4"]
        if command == "build":
            args += ["--workers", "1"]
        cli(*args)
        return 1


def test_shell_examples_run_on_generated_stand_ins(tmp_path, monkeypatch):
    """Every corruptgen command of every page runs, in order, on stand-ins (but the few in SKIPPED)."""
    ran, skipped = 0, []
    for page in PAGES:
        cwd = tmp_path / page.relative_to(ROOT).as_posix().replace("/", "_")
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        world = World(cwd)
        for lang, body, mark in blocks(page):
            if lang != "bash":
                continue
            if mark and mark.startswith("stand-in "):
                stand_in(mark.split(" ", 1)[1], cwd)
            for line in commands(body):
                reason = next((why for key, why in SKIPPED.items() if key in line), None)
                if reason:
                    skipped.append(line)
                    continue
                try:
                    ran += world.run(line)
                except AssertionError as exc:
                    raise AssertionError(f"{page.relative_to(ROOT)}: `{line}` failed on the stand-ins: {exc}") from None
    assert ran >= 60 and len(skipped) <= 4, (ran, skipped)
