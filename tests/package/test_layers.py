"""The package's layers, as the design card draws them: lower layers never import upper ones
(every import counts: at the top, inside a function, under ``if TYPE_CHECKING:``), the
simulator never imports the client, the glue's own layers import only those below them, and
importing the plugin stays cheap."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from harness.imports import MODULES, PACKAGE, import_graph

#: layer -> the pytest_dai layers it must not import
FORBIDDEN = {
    "client": (
        "pytest_dai.lifecycle",
        "pytest_dai.glue",
        "pytest_dai.plugin",
        "pytest_dai.simulator",
    ),
    "lifecycle": ("pytest_dai.glue", "pytest_dai.plugin", "pytest_dai.simulator"),
    "simulator": (
        "pytest_dai.client",
        "pytest_dai.lifecycle",
        "pytest_dai.glue",
        "pytest_dai.plugin",
        "pytest",
        "requests",
    ),
}

#: The glue's layers, bottom first (CONTRIBUTING.md says what each is for): a layer imports
#: only the layers before it (and itself); :mod:`pytest_dai.plugin` sits on top of them all.
GLUE_LAYERS = ("base", "settings", "markers", "report", "process", "run", "xdist", "hooks")
#: layer -> the glue layers it may import
ALLOWED = {layer: set(GLUE_LAYERS[: i + 1]) for i, layer in enumerate(GLUE_LAYERS)}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    offences = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for module in imported_modules(path):
            for forbidden in FORBIDDEN[layer]:
                if module == forbidden or module.startswith(forbidden + "."):
                    offences.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offences == []


def glue_layer(module: str) -> str | None:
    """The glue layer of ``module`` (``run`` for ``pytest_dai.glue.run.runner``), None for a
    module outside the glue."""
    parts = module.split(".")
    return parts[2] if module.startswith("pytest_dai.glue.") else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a glue module that points to a layer above its own (or to the plugin)."""
    offences = []
    for module, imported in sorted(graph.items()):
        layer = glue_layer(module)
        if layer is None:
            continue
        for other in sorted(imported):
            other_layer = glue_layer(other)
            if other == "pytest_dai.plugin" or (
                other_layer is not None and other_layer not in ALLOWED.get(layer, set())
            ):
                offences.append(f"{module} ({layer}) imports {other} ({other_layer or 'plugin'})")
    return offences


def test_every_glue_module_is_in_a_layer() -> None:
    loose = [
        name
        for name in MODULES
        if name.startswith("pytest_dai.glue.") and glue_layer(name) not in GLUE_LAYERS
    ]
    assert loose == []
    assert {p.name for p in (PACKAGE / "glue").iterdir() if p.is_dir() and p.name[0] != "_"} == set(
        GLUE_LAYERS
    )


def test_upward_imports_finds_one_inside_a_function() -> None:
    graph = import_graph("pytest_dai.glue")
    graph["pytest_dai.glue.report.facts"] = {"pytest_dai.glue.process.state"}  # report -> process
    assert upward_imports(graph) == [
        "pytest_dai.glue.report.facts (report) imports pytest_dai.glue.process.state (process)"
    ]


def test_no_glue_layer_imports_a_layer_above_it() -> None:
    assert upward_imports(import_graph()) == []


@pytest.mark.parametrize("layer", GLUE_LAYERS)
def test_each_glue_layer_says_in_one_line_what_it_is_for(layer: str) -> None:
    """Its ``__init__`` is a one-line docstring and nothing else: a session that does not use
    pytest-dai imports some of them at start-up."""
    tree = ast.parse((PACKAGE / "glue" / layer / "__init__.py").read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree) or ""
    assert len(tree.body) == 1
    assert docstring
    assert "\n" not in docstring.strip()


def test_importing_the_plugin_imports_neither_requests_nor_the_simulator() -> None:
    code = (
        "import sys, pytest_dai, pytest_dai.plugin; "
        "print(sorted(m for m in sys.modules if m == 'requests' or m.startswith('requests.') "
        "or m.startswith('pytest_dai.simulator') or m.startswith('pytest_dai.client.endpoints')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_the_package_is_typed() -> None:
    assert (PACKAGE / "py.typed").is_file()


def test_every_fixture_and_hook_has_a_docstring() -> None:
    from pytest_dai import plugin
    from pytest_dai.glue.base import hookspecs
    from pytest_dai.glue.hooks import interrupted
    from pytest_dai.glue.hooks import runtest as runtest_hooks
    from pytest_dai.glue.hooks import session as session_hooks
    from pytest_dai.glue.hooks import summary as summary_hooks
    from pytest_dai.glue.markers import check as marker_check
    from pytest_dai.glue.report import redaction
    from pytest_dai.glue.xdist import hooks as xdist_hooks

    def hooks(owner: object) -> list[object]:
        return [getattr(owner, n) for n in dir(owner) if n.startswith("pytest_")]

    public = [
        plugin.dai_session,
        plugin.dai_execution,
        plugin.dai_result,
        plugin.dai_simulator,
        *hooks(hookspecs.DAIHookSpecs),
        *hooks(plugin),
        *hooks(session_hooks),
        *hooks(runtest_hooks),
        *hooks(summary_hooks.SummaryHooks),
        *hooks(xdist_hooks.XdistHooks),
        *hooks(interrupted.InterruptHooks),
        *hooks(redaction.RedactionHooks),
        *hooks(marker_check.MarkerCheck),
    ]
    assert len(public) > 30
    missing = [getattr(f, "__name__", repr(f)) for f in public if not (f.__doc__ or "").strip()]
    assert missing == []
