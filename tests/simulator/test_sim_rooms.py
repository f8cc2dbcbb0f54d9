"""The simulator's layout: small rooms, and no class that could be taken for the client's."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest_dai

PACKAGE = Path(pytest_dai.__file__).parent
SIMULATOR = PACKAGE / "simulator"


def _classes(folder: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found[node.name] = str(path.relative_to(PACKAGE))
    return found


def test_no_simulator_class_shares_a_name_with_a_product_class() -> None:
    simulator = _classes(SIMULATOR)
    product: dict[str, str] = {}
    for layer in ("client", "lifecycle", "glue"):
        product.update(_classes(PACKAGE / layer))
    shared = sorted(
        f"{name} ({simulator[name]}, {product[name]})" for name in simulator.keys() & product.keys()
    )
    assert shared == []


def test_simulator_modules_and_functions_are_small() -> None:
    too_big = []
    for path in sorted(SIMULATOR.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 400:
            too_big.append(f"{path.name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 60:
                    too_big.append(f"{path.name}:{node.lineno} {node.name}: {length} lines")
    assert too_big == []
