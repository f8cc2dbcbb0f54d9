"""Where a setting's raw value comes from: the command line, the environment, the ini file.

Cheap to import (no settings class, no client): it also tells whether a session asks for
pytest-dai at all (:func:`anything_given`), which every pytest session with the plugin
installed finds out.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue.settings_table import IGNORED_SECRET_KEY, TABLE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pytest_dai.glue.converters import Given
    from pytest_dai.glue.settings_table import Setting

__all__ = ["RawSources", "anything_given", "simulator_before_path"]


class RawSources:
    """The raw values of the settings at their three levels (command line, environment, ini
    file), as :class:`~pytest_dai.glue.converters.Given` texts not yet converted."""

    def __init__(self, config: pytest.Config, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.environ = os.environ if environ is None else environ
        self.cwd = Path(config.invocation_params.dir)
        inipath = config.inipath
        self.ini_dir = Path(inipath).parent if inipath is not None else Path(config.rootpath)

    def given(self, row: Setting) -> Given | None:
        """The highest-precedence raw value of ``row``: command line, environment, ini file."""
        if row.option is not None:
            value = self.config.getoption(row.option.lstrip("-").replace("-", "_"))
            if value is not None:
                text = value if isinstance(value, str) else str(value)
                source = f"command line ({row.option})"
                return _given(text, row.option, "the command line", source, self.cwd)
        if row.env is not None:
            # An empty variable counts as unset: CI systems export "" for a missing secret.
            value = self.environ.get(row.env)
            if value:
                source = f"environment ({row.env})"
                return _given(value, row.env, "the environment", source, self.cwd)
        if row.ini is not None:
            return self.ini(row.ini)
        return None

    def ini(self, key: str) -> Given | None:
        """The ini file's value of ``key`` as text (native TOML numbers and booleans too)."""
        with warnings.catch_warnings():
            # A list or table in pyproject.toml for a string key: pytest warns (and will
            # refuse); pytest-dai names the key and its file in one line below instead.
            warnings.simplefilter("ignore", DeprecationWarning)
            value = self.config.getini(key)
        if value is None:
            return None
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        given = _given(str(value), key, "the ini file", f"ini file ({key})", self.ini_dir)
        if not isinstance(value, str):
            given.fail("a single value")
        return given


def _given(value: str, label: str, origin: str, source: str, base: Path) -> Given:
    """A :class:`~pytest_dai.glue.converters.Given` (the converters are imported only once a
    value is given: a session that gives none never needs them)."""
    from pytest_dai.glue.converters import Given

    return Given(value, label, origin, source, base)


def anything_given(config: pytest.Config, environ: Mapping[str, str] | None = None) -> bool:
    """Whether any DAI setting is given at any level (the ignored ini secret included: it gets
    its warning): if not, every setting is its default and the session has not asked for
    pytest-dai."""
    sources = RawSources(config, environ)
    if any(sources.given(row) is not None for row in TABLE):
        return True
    try:
        return sources.ini(IGNORED_SECRET_KEY) is not None
    except (ValueError, pytest.UsageError):  # not registered, or not text: resolution says so
        return True


def simulator_before_path(args: list[str], cwd: Path) -> bool:
    """``pytest --dai-simulator tests/``: argparse would take the test path for the optional
    scenario file. When the word after ``--dai-simulator`` is a folder or a ``.py`` test file,
    make it ``--dai-simulator=`` (the default scenario) and leave the path a test path.
    Changes ``args`` in place; True if it did."""
    for index, arg in enumerate(args[:-1]):
        following = args[index + 1]
        if arg != "--dai-simulator" or following.startswith("-"):
            continue
        path = cwd / following.split("::", 1)[0]
        if path.is_dir() or (path.suffix == ".py" and path.is_file()):
            args[index] = "--dai-simulator="
            return True
    return False
