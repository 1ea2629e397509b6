"""The package's layers: no import cycle between modules of `matrix/`, and no import that runs upward.

The layers, top to bottom (DESIGN.md, "Layout"; docs/architecture.md):
commands → the wings (report, images, run, offline, hostchecks) → the root (catalogue, cli, repo,
docker_env) and, beside it, the plans library → suite → models; `matrix.errors` is the ground every
layer stands on. Imports inside functions count: a lazy import is still an arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "matrix"
WINGS = ("report", "images", "run", "offline", "hostchecks")
# `plans` is the public plan-inspection library (matrix.plans): a room beside the root, under the wings
# and commands that use it, over `suite` whose header reader it wraps; it and the root import neither
# each other nor anything above.
RANK = {"commands": 4, **dict.fromkeys(WINGS, 3), "root": 2, "plans": 2, "suite": 1, "models": 0, "errors": -1}
# Wings stand side by side; these are the only arrows between them: the report reads the runner's
# results files, and the tier-0 API check uses the offline stand-in library.
SIDEWAYS = {("report", "run"), ("hostchecks", "offline")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The `matrix` modules `path` imports (at any depth of the file), resolved to module names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            resolved = target
            while resolved and resolved not in known:
                resolved = resolved.rpartition(".")[0]
            if resolved.startswith("matrix") and resolved != name:
                found.add(resolved)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def room(module: str) -> str:
    parts = module.split(".")
    if module == "matrix.errors":
        return "errors"
    if len(parts) > 1 and parts[1] in RANK and (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return "root"


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def upward(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for src, targets in g.items():
        for dst in targets:
            a, b = room(src), room(dst)
            if a == b or dst == "matrix" or b == "errors":
                continue
            if src == "matrix.cli" and b == "commands":
                continue  # the entry point dispatches to the commands; nothing imports cli
            if (a, b) in SIDEWAYS:
                continue
            if RANK[b] >= RANK[a]:
                bad.append(f"{src} ({a}) imports {dst} ({b})")
    return sorted(bad)


def test_no_import_cycle_between_modules() -> None:
    assert cycles(graph()) == []


def test_imports_run_downward() -> None:
    assert upward(graph()) == []


def test_the_root_stays_small() -> None:
    root = [p.name for p in PACKAGE.glob("*.py")]
    assert len(root) <= 8, root
    for wing in ("images", "run", "offline", "report"):
        doc = ast.get_docstring(ast.parse((PACKAGE / wing / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"matrix/{wing}/__init__.py states its contract and what it may import"


@pytest.mark.parametrize(
    ("planted", "finder"),
    [
        ({"matrix.models.a": {"matrix.suite.b"}, "matrix.suite.b": set()}, upward),
        ({"matrix.suite.a": {"matrix.run.b"}, "matrix.run.b": set()}, upward),
        ({"matrix.run.a": {"matrix.commands.b"}, "matrix.commands.b": set()}, upward),
        ({"matrix.run.a": {"matrix.report.b"}, "matrix.report.b": set()}, upward),
        ({"matrix.models.a": {"matrix.models.b"}, "matrix.models.b": {"matrix.models.a"}}, cycles),
    ],
)
def test_the_walk_finds_what_it_forbids(planted: dict[str, set[str]], finder: object) -> None:
    """Test the test: a planted upward import or cycle is reported."""
    assert callable(finder)
    assert finder(planted) != []


def test_lazy_and_relative_imports_are_seen() -> None:
    g = graph()
    assert "matrix.models.reference" in g["matrix.models.quantize_model"]
    assert "matrix.offline.standin" in g["matrix.hostchecks.api"]  # imported inside a function
