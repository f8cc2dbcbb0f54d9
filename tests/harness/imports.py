"""pytest-dai's own import graph, read from the source (no module is imported): every import
counts, at the top of a module, inside a function or under ``if TYPE_CHECKING:`` (a lazy
import is still a dependency, it only runs later). For ``tests/package``'s checks of cycles
and layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest_dai

PACKAGE = Path(pytest_dai.__file__).parent


def module_name(path: Path) -> str:
    """``pytest_dai.lifecycle.execution`` for ``.../pytest_dai/lifecycle/execution.py``."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported_from(node: ast.ImportFrom, package: str) -> str:
    """The module a ``from ... import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def imports_of(path: Path) -> set[str]:
    """The pytest_dai modules a file imports, wherever the import statement is. ``from P import
    name`` depends on ``P`` (its ``__init__`` runs) and on the module ``P.name`` when there is
    one, also where ``P`` is the importer's own package: ``from pytest_dai.simulator import
    values`` in a simulator module reads the package's ``__init__``, which may import it back
    (``import pytest_dai.simulator.values as values`` does not)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _imported_from(node, package)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


def import_graph(prefix: str = "pytest_dai") -> dict[str, set[str]]:
    """Module -> the modules it imports, for the modules named ``prefix`` or under it."""
    names = {n for n in MODULES if n == prefix or n.startswith(prefix + ".")}
    return {name: imports_of(MODULES[name]) & names for name in names}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
