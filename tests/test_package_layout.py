"""The package's shape: no import cycles (function-level and TYPE_CHECKING imports counted), the
card's faces at the top, every sub-package saying what it owns, and `MainApp` as the only
composition root (nothing below it imports it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kalshi_trading"
ROOT = PACKAGE.name
FACES = ("main_app", "config", "kalshi_client", "trade_executor", "portfolio_tracker", "trade_logger",
         "trading_cli")
MAX_TOP_LEVEL = 15


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_by(name: str, source: str, known: dict[str, Path], *, is_package: bool = False) -> set[str]:
    """Every package module that module `name` (whose text is `source`) imports anywhere in its
    body, plus the packages whose `__init__` such an import runs (its own ancestors excepted:
    they are already loading)."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names
                           if f"{module}.{alias.name}" in known)
    found: set[str] = set()
    for target in targets:
        parts = target.split(".")
        for depth in range(1, len(parts) + 1):
            candidate = ".".join(parts[:depth])
            if candidate in known and not name.startswith(candidate + ".") and candidate != name:
                found.add(candidate)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported_by(name, path.read_text(encoding="utf-8"), known,
                              is_package=path.name == "__init__.py")
            for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_sees_function_level_and_type_checking_imports() -> None:
    """The check above could pass by seeing nothing: prove it sees the hidden kinds of import."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..main_app import MainApp\n"
              "def f():\n    from .. import trade_logger\n    from ..client import signing\n")
    found = imported_by(f"{ROOT}.terminal.probe", source, modules())
    assert {f"{ROOT}.main_app", f"{ROOT}.trade_logger", f"{ROOT}.client",
            f"{ROOT}.client.signing"} <= found


def test_the_top_level_reads_like_the_card() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top
    assert set(FACES) <= set(top)


@pytest.mark.parametrize("package", sorted(p.parent.relative_to(PACKAGE).as_posix()
                                           for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE))
def test_every_sub_package_says_what_it_owns(package: str) -> None:
    docstring = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
    assert docstring and len(docstring.split()) >= 6, f"{package}/__init__.py needs a docstring"


def test_only_the_entry_point_imports_the_composition_root() -> None:
    importers = sorted(name for name, deps in import_graph().items() if f"{ROOT}.main_app" in deps)
    assert importers == [f"{ROOT}.__main__"]
