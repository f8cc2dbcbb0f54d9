"""Where a setting's raw value comes from: the command line, the environment, the ini file.

Used by the resolution (:mod:`pytest_dai.glue.settings.resolve`) only: whether a session gives any
setting at all is :func:`pytest_dai.glue.hooks.setup.anything_given`'s cheaper look.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_dai.glue.settings.table import in_ini_file

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pytest

    from pytest_dai.glue.settings.converters import Given
    from pytest_dai.glue.settings.table import Setting

__all__ = ["RawSources"]


class RawSources:
    """The raw values of the settings at their three levels (command line, environment, ini
    file), as :class:`~pytest_dai.glue.settings.converters.Given` texts not yet converted."""

    def __init__(self, config: pytest.Config, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.environ = os.environ if environ is None else environ
        self.cwd = Path(config.invocation_params.dir)
        inipath = config.inipath
        self.ini_dir = Path(inipath).parent if inipath is not None else Path(config.rootpath)

    def given(self, row: Setting) -> Given | None:
        """The highest-precedence raw value of ``row``: command line, environment, ini file."""
        value = row.on_command_line(self.config)
        if row.option is not None and value is not None:
            text = value if isinstance(value, str) else str(value)
            source = f"command line ({row.option})"
            return _given(text, row.option, "the command line", source, self.cwd)
        env_value = row.in_environment(self.environ)
        if row.env is not None and env_value is not None:
            source = f"environment ({row.env})"
            return _given(env_value, row.env, "the environment", source, self.cwd)
        if row.ini is not None:
            return self.ini(row.ini)
        return None

    def ini(self, key: str) -> Given | None:
        """The ini file's value of ``key`` as text (native TOML numbers and booleans too)."""
        value = in_ini_file(self.config, key)
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
    """A :class:`~pytest_dai.glue.settings.converters.Given` (the converters are imported only
    once a value is given: a session that gives none never needs them)."""
    from pytest_dai.glue.settings.converters import Given

    return Given(value, label, origin, source, base)
