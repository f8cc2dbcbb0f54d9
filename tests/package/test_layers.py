"""The package's layers, as the design card draws them: lower layers never import upper ones,
the simulator never imports the client, and importing the plugin stays cheap."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_dai

PACKAGE = Path(pytest_dai.__file__).parent

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
    from pytest_dai.glue import (
        hookspecs,
        interrupted,
        marker_args,
        redaction,
        runtest_hooks,
        session_hooks,
        summary_hooks,
        xdist_hooks,
    )

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
        *hooks(marker_args.MarkerCheck),
    ]
    assert len(public) > 30
    missing = [getattr(f, "__name__", repr(f)) for f in public if not (f.__doc__ or "").strip()]
    assert missing == []
