"""Imports flow one way: no module of the library imports, even inside a function, a module that imports it back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("indexer", "retriever", "server", "eval")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every library module -> the library modules it imports anywhere in its body (``from a import b`` counts
    as importing ``a.b`` when that is a module, else ``a``)."""
    paths = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
                targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in paths else base for a in node.names)
        graph[name] = {t for t in targets if t in paths and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles, each as the modules around it (one per strongly connected set, Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while (w := stack.pop()) != v:
                group.append(w)
            group.append(v)
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    assert "server.workers" in graph["server.app"]  # imported inside worker_app()
    assert "indexer.indexdir.store" in graph["indexer.indexdir.writer"]
    assert "eval.bench.load" in graph["eval.bench.soak"]  # subpackages too


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_index_dir_names_are_those_of_their_modules():
    import importlib

    import indexer.indexdir as indexdir

    for name in indexdir.__all__:
        home = importlib.import_module(f"indexer.indexdir.{indexdir._HOME[name]}")
        assert getattr(indexdir, name) is getattr(home, name), name
    assert sorted(indexdir._HOME) == sorted(indexdir.__all__)
    moved = ("store", "writer", "vectors", "fsutil", "manifest")
    assert not [m for m in moved if (ROOT / "indexer" / f"{m}.py").exists()]  # no shim left at the old paths


def test_the_index_dir_package_loads_its_modules_on_use():
    code = ("import sys, indexer.indexdir.fsutil, indexer.status\n"
            "heavy = [m for m in ('numpy', 'pydantic', 'indexer.indexdir.store') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "from indexer.indexdir import IndexStore\n"
            "assert 'numpy' in sys.modules and IndexStore.__module__ == 'indexer.indexdir.store'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
