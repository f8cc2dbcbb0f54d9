"""Every ``pytest_dai`` module, and what they import, loaded once in the outer process.

An in-process inner session (``pytester.runpytest``) unloads, when it ends, every module it
imported, so without this each inner session imported the client, the lifecycle and requests
anew (slow), and a later one mixed fresh requests classes with the stale ones other modules kept
("ValueError: You can only merge into CookieJar"). Import this module from a ``conftest.py``.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest_dai


def load_all() -> list[str]:
    """Import every module of the ``pytest_dai`` package; their names."""
    names = [
        info.name
        for info in pkgutil.walk_packages(pytest_dai.__path__, prefix="pytest_dai.")
        if not info.name.endswith("__main__")
    ]
    for name in names:
        importlib.import_module(name)
    return names


LOADED = load_all()
