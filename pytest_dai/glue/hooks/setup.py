"""What the hooks that set pytest-dai up and take it down (in :mod:`pytest_dai.plugin`: options,
hookspecs, markers, the plugin's state, the report header, SIGTERM) need: the state's stash key,
the markers' help, whether the session gives any DAI setting, ``--dai-simulator`` before a path.

This module and the few it imports are all a session that does not use pytest-dai loads of
the glue (see :mod:`pytest_dai.plugin` for the dormant plugin).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue.settings.table import IGNORED_SECRET_KEY, TABLE, in_ini_file

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from pytest_dai.glue.process.state import DAIState


__all__ = [
    "CONFIG_MARKER_HELP",
    "MARKER_HELP",
    "STATE_KEY",
    "anything_given",
    "simulator_before_path",
]


#: The plugin's state for this process (:class:`~pytest_dai.glue.process.state.DAIState`,
#: started by :func:`pytest_dai.glue.hooks.start.plugin_state`); absent while it is dormant.
STATE_KEY: pytest.StashKey[DAIState] = pytest.StashKey()

CONFIG_MARKER_HELP = (
    "dai_test_config(config, *, model=None, suite=None, space=None, parameters=None, "
    "filter_by=None, timeout=None, prestart=None): start an Eggplant DAI test configuration "
    "after the test's fixtures, wait for it, and pass only if its result passed"
)
MARKER_HELP = (
    "dai_model(model, *, agent=None, test_case=None, sut=None, sut_criteria=None, rerun=None, "
    "step_pause_time=None, timeout=None, min_steps=None, script=None, asset=None, "
    "prestart=None): start an Eggplant DAI model run after the test's fixtures, wait for it, "
    "and pass or fail with it"
)


def anything_given(config: pytest.Config, environ: Mapping[str, str] | None = None) -> bool:
    """Whether any DAI setting is given, on the command line, in the environment or in the ini
    file (the ignored ini secret included: it gets its warning). If not, every setting is its
    default and the session has not asked for pytest-dai. (Which value wins and whether it is
    good is :func:`pytest_dai.glue.settings.resolve.resolve_settings`' business.)"""
    environ = os.environ if environ is None else environ
    for row in TABLE:
        if row.on_command_line(config) is not None or row.in_environment(environ) is not None:
            return True
    keys = [row.ini for row in TABLE if row.ini is not None] + [IGNORED_SECRET_KEY]
    return any(in_ini_file(config, key) is not None for key in keys)


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
