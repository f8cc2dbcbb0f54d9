"""No import circle in pytest-dai: the import graph has no cycle, counting every import (at the
top of a module, inside a function, under ``if TYPE_CHECKING:``), in each package and in the
whole; and every module imports alone, in a fresh interpreter state."""

from __future__ import annotations

import subprocess
import sys

import pytest
from harness.imports import MODULES, cycles, import_graph


def test_cycles_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_every_import() -> None:
    graph = import_graph()
    # under ``if TYPE_CHECKING:`` only
    assert "pytest_dai.lifecycle.execution" in graph["pytest_dai.lifecycle.outcome"]
    # inside a function only (the start-up stays cheap)
    assert "pytest_dai.glue.hooks.start" in graph["pytest_dai.plugin"]
    # ``from package import module``
    assert "pytest_dai.glue.settings.converters" in graph["pytest_dai.glue.settings.table"]


def test_a_circle_through_a_function_level_import_is_found() -> None:
    graph = import_graph()
    graph["pytest_dai.glue.hooks.setup"] = graph["pytest_dai.glue.hooks.setup"] | {
        "pytest_dai.glue.hooks.start"
    }
    circle = {"pytest_dai.glue.hooks.setup", "pytest_dai.glue.hooks.start"}
    assert any(circle <= set(group) for group in cycles(graph))


@pytest.mark.parametrize(
    "package",
    ["pytest_dai.client", "pytest_dai.lifecycle", "pytest_dai.glue", "pytest_dai.simulator"],
)
def test_no_import_circle_in_a_package(package: str) -> None:
    assert cycles(import_graph(package)) == []


def test_no_import_circle_in_the_whole() -> None:
    assert cycles(import_graph()) == []


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
