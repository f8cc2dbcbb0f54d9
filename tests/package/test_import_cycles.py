"""No import circle in pytest-dai: every module imports alone, in a fresh interpreter state, and
the import graph has no cycle (in the client and the lifecycle, type-only imports count too)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_dai

PACKAGE = Path(pytest_dai.__file__).parent


def module_name(path: Path) -> str:
    """``pytest_dai.lifecycle.execution`` for ``.../pytest_dai/lifecycle/execution.py``."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def top_level_imports(path: Path, *, type_only: bool) -> set[str]:
    """The pytest_dai modules a file imports when it is loaded (imports inside functions are
    not: they run later); ``type_only``: also those under ``if TYPE_CHECKING:``."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                if not _is_type_checking(node) or type_only:
                    visit(node.body)
                if not _is_type_checking(node):
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {name for name in found if name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
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


def import_graph(prefix: str, *, type_only: bool) -> dict[str, set[str]]:
    """Module -> the modules it imports, for the modules under ``prefix``."""
    names = {name for name in MODULES if name.startswith(prefix)}
    return {
        name: (top_level_imports(MODULES[name], type_only=type_only) & names) - {name}
        for name in names
    }


def test_cycles_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_type_only_imports() -> None:
    strict = import_graph("pytest_dai.lifecycle.", type_only=True)
    loose = import_graph("pytest_dai.lifecycle.", type_only=False)
    assert "pytest_dai.lifecycle.execution" in strict["pytest_dai.lifecycle.outcome"]
    assert "pytest_dai.lifecycle.execution" not in loose["pytest_dai.lifecycle.outcome"]


def test_no_import_circle_when_loaded() -> None:
    assert cycles(import_graph("pytest_dai", type_only=False)) == []


@pytest.mark.parametrize("layer", ["client", "lifecycle"])
def test_no_import_circle_even_for_types(layer: str) -> None:
    assert cycles(import_graph(f"pytest_dai.{layer}.", type_only=True)) == []


IMPORT_EACH = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "pytest_dai" or m.startswith("pytest_dai.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
"""


@pytest.mark.slow
def test_every_module_imports_on_its_own() -> None:
    """Each module imported first, with no pytest_dai module loaded before it (an import circle
    shows as an ImportError that depends on which module comes first)."""
    names = [name for name in MODULES if not name.endswith("__main__")]
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *names],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == ""
