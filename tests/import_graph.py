"""The plugin's import graph, read with ``ast`` (nothing is imported): modules, edges, cycles.

Module names are dotted paths from the plugin root (``engine.offsets.tracking``); the root's own
``__init__.py`` is ``""``. Every import statement counts, also those inside functions and under
``if TYPE_CHECKING:``: a cycle that only lazy imports keep from failing is still a cycle in the
design. Imports of ``geohazard.x`` (the installed plugin's name) are imports of ``x``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

PLUGIN_NAME = "geohazard"
NOT_PLUGIN = {"tests", "scripts", "benchmarks", "typings", "docs", ".venv", ".git", "dist"}


def module_name(rel: Path) -> str:
    """``engine/offsets/tracking.py`` -> ``engine.offsets.tracking``; a package's __init__ is
    the package."""
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def plugin_modules(root: Path, files: Iterable[Path] | None = None) -> dict[str, Path]:
    """Dotted name -> file, for the plugin's Python files (all of them outside the development
    folders, or the given ``files`` relative to ``root``)."""
    if files is None:
        files = (
            p.relative_to(root)
            for p in root.rglob("*.py")
            if not NOT_PLUGIN.intersection(p.relative_to(root).parts)
        )
    return {module_name(Path(rel)): root / rel for rel in files}


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str | None:
    """The absolute (plugin-relative) name a ``from ... import`` refers to; None if outside."""
    if level == 0:
        if module is None:
            return None
        if module == PLUGIN_NAME:
            return ""
        if module.startswith(PLUGIN_NAME + "."):
            return module[len(PLUGIN_NAME) + 1 :]
        return None  # a third-party or standard-library module
    package = current.split(".") if current else []
    if not is_package:
        package = package[:-1]
    if level - 1 > len(package):
        return None
    base = package[: len(package) - (level - 1)]
    if module:
        base += module.split(".")
    return ".".join(base)


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The plugin modules that the module ``name`` (file ``path``) imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def add(target: str | None) -> None:
        if target is None:
            return
        # importing a.b.c also runs a and a.b: keep the deepest module the plugin has
        while target not in known and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in known and target != name:
            found.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(_resolve(name, is_package, 0, alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node.level, node.module)
            if base is None:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}" if base else alias.name
                add(sub if sub in known else base)  # a submodule, or a name in base
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the plugin modules it imports."""
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:  # recursion depth is bounded by the number of modules
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def sibling_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Edges between siblings: the modules and subpackages directly inside one package, where
    any module inside A importing any module inside B makes A -> B. A cycle here is a package
    and a module (or two packages) that need each other, even when no two modules do."""
    out: dict[str, set[str]] = {}
    for src, targets in graph.items():
        for dst in targets:
            a, b = src.split(".") if src else [], dst.split(".") if dst else []
            common = 0
            while common < min(len(a), len(b)) and a[common] == b[common]:
                common += 1
            if common == len(a) or common == len(b):
                continue  # a package and its own contents: not siblings
            parent = a[:common]
            left = ".".join(parent + [a[common]])
            right = ".".join(parent + [b[common]])
            out.setdefault(left, set()).add(right)
            out.setdefault(right, set())
    return out
