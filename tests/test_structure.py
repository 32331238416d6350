"""The package's shape, checked: every ``>>>`` example runs, imports only point down the layers of
``design.md`` and never form a cycle, and the developer guide's map names the rooms that exist."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import corruptgen

LAYERS = {
    # bottom: helpers and array kernels (no severities, no I/O of datasets)
    "files": 0, "rng": 0, "assets": 0, "kernels": 0,
    "geometry": 1,  # warps and the annotations they move: a corruption returns its Warp
    "corruptions": 2,
    "selection": 3, "metrics": 3, "labels": 3,
    "api": 4,
    "datasets": 5, "compat": 5,
    "writers": 6, "augment": 6,
    "pipeline": 7, "models": 7, "adapt": 7,
    "evaluate": 8, "preview": 8,
    "report": 9,
    "cli": 10, "__main__": 11,
}  # fmt: skip
"""Each room of :mod:`corruptgen` and its layer (``../shared/design.md``): a module imports its own room
or rooms below it, never a room above or a sibling room of its layer."""


def modules() -> list[str]:
    """Every module of the installed package (``corruptgen.kernels`` lives in ``kernels/`` at the top of
    the repository and is mapped in by the install, so packages are walked by their own paths)."""
    found, todo = {"corruptgen", "corruptgen.kernels"}, [corruptgen, importlib.import_module("corruptgen.kernels")]
    while todo:
        package = todo.pop()
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            found.add(info.name)
            if info.ispkg:
                todo.append(importlib.import_module(info.name))
    return sorted(found)


MODULES = modules()


def room(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def _runtime_nodes(tree: ast.AST):
    """Every node but those under ``if TYPE_CHECKING:`` (annotations only: never imported at run time)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


def imports(module: str) -> set[str]:
    """The corruptgen modules ``module`` imports anywhere in its source (inside functions too), but
    its own parent packages (which Python imports before it in any case)."""
    spec = importlib.util.find_spec(module)
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    found = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            base = f"{base}.{node.module}" if base and node.module else (node.module or base)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in MODULES and name != module and not module.startswith(name + ".")}
    return found


GRAPH = {module: imports(module) for module in MODULES}


def test_every_room_has_a_layer():
    assert {room(m) for m in MODULES} - {"__init__"} == set(LAYERS)


def test_imports_point_down_the_layers():
    upward = []
    for module, targets in GRAPH.items():
        if module == "corruptgen":  # the package's face re-exports from every layer
            continue
        for target in targets:
            if target == "corruptgen" or room(target) == room(module):
                continue
            if LAYERS[room(target)] >= LAYERS[room(module)]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that do not point down the layers of design.md:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    cycles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for target in sorted(GRAPH[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("module", [m for m in MODULES if not m.endswith("__main__")])  # importing it runs the CLI
def test_docstring_examples_run(module):
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    imported = importlib.import_module(module)
    for test in finder.find(imported, module):
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} of {runner.tries} examples in {module} fail (run with -s to see them)"


def test_developer_guides_map_names_existing_paths_and_every_room():
    guide = (Path(__file__).parent.parent / "docs" / "developer.md").read_text(encoding="utf-8")
    table = guide.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    root = Path(__file__).parent.parent
    named = set(re.findall(r"`((?:corruptgen|kernels|scripts|examples|docs|tests)/[^`]*?)`", table))
    for path in named:
        expanded = re.sub(r"\{([^}]*)\}", lambda m: m.group(1).split(",")[0], path)
        assert (root / expanded).exists(), f"the developer guide's map names {path}, which does not exist"
    for name in LAYERS:
        if name not in ("__main__", "kernels"):
            assert f"corruptgen/{name}" in table, f"the developer guide's map does not say where corruptgen/{name} is"


def test_every_package_of_the_source_is_installed():
    """setup.cfg lists the packages explicitly: a new subpackage missing there imports in an editable
    install and nowhere else."""
    import configparser

    root = Path(__file__).parent.parent
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "corruptgen").rglob("__init__.py")}
    found |= {"corruptgen.kernels"} if (root / "kernels" / "__init__.py").is_file() else set()
    assert found == listed, f"in the source, not in setup.cfg: {sorted(found - listed)}; the reverse: {sorted(listed - found)}"
