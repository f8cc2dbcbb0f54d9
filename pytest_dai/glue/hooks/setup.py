"""Hooks that set pytest-dai up and take it down: options, hookspecs, markers, the plugin's
state (started now, or when the session first needs it), the report header, SIGTERM.

A session that gives no DAI setting at all (no ``--dai-*`` option, ``DAI_*`` variable or
``dai_*`` ini key) has not asked for pytest-dai: every setting is its default, and most such
sessions run no DAI test. There the plugin stays dormant (no state in ``config.stash``):
nothing is resolved, no helper plugin is registered, SIGTERM is left alone, and the session
pays next to nothing for the plugin being installed. The first test collected that is marked
``dai_model`` or ``dai_test_config``, or uses a ``dai_*`` fixture, starts it (during
collection, so the marker checks and the summary see every test), and so does a fixture asked
for by name. A session that gives any DAI setting starts it at once, in ``pytest_configure``:
a bad value is then a usage error before anything runs. Starting is
:func:`pytest_dai.glue.hooks.start.plugin_state`.

This module and the few it imports are all a session that does not use pytest-dai loads.
"""

from __future__ import annotations

import copy
import os
from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue.base import hookspecs
from pytest_dai.glue.base.keys import SIGTERM_KEY, uses_dai
from pytest_dai.glue.process.keys import STATE_KEY
from pytest_dai.glue.settings.table import (
    IGNORED_SECRET_KEY,
    NO_SERVER_HEADER,
    TABLE,
    add_options,
    in_ini_file,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


__all__ = [
    "CONFIG_MARKER_HELP",
    "MARKER_HELP",
    "anything_given",
    "pytest_addhooks",
    "pytest_addoption",
    "pytest_configure",
    "pytest_itemcollected",
    "pytest_load_initial_conftests",
    "pytest_report_header",
    "pytest_unconfigure",
    "simulator_before_path",
]


def pytest_itemcollected(item: pytest.Item) -> None:
    """While pytest-dai is dormant, the first DAI test collected starts it."""
    if STATE_KEY not in item.config.stash and uses_dai(item):
        from pytest_dai.glue.hooks.start import plugin_state

        plugin_state(item.config)


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


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``dai`` option group and the ``dai_*`` ini keys."""
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """``--dai-simulator`` written before a test folder or file: keep that a test path."""
    if simulator_before_path(args, early_config.invocation_params.dir):
        early_config.known_args_namespace = parser.parse_known_args(
            args, namespace=copy.copy(early_config.option)
        )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add pytest-dai's hookspecs (``pytest_dai_*``)."""
    pluginmanager.add_hookspecs(hookspecs.DAIHookSpecs)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the markers; start pytest-dai's state when the session gives any DAI setting,
    else leave the plugin dormant until the first DAI test."""
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", CONFIG_MARKER_HELP)
    if config.getoption("help", False) or config.getoption("version", False):
        return  # --help must work even when a DAI_* variable is bad: that is how to fix it
    if anything_given(config):
        from pytest_dai.glue.hooks.start import plugin_state

        plugin_state(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Abort what is still going, stop the simulator, restore the SIGTERM handler."""
    state = config.stash.get(STATE_KEY, None)
    try:
        if state is not None:
            state.close()
    finally:
        if config.stash.get(SIGTERM_KEY, None) is not None:
            from pytest_dai.glue.hooks.start import restore_sigterm

            restore_sigterm(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Show every effective DAI setting and where it came from, secrets masked; runs aborted
    for killed sessions; a warning when pytest-timeout's thread method is in use."""
    if STATE_KEY not in config.stash:
        return [NO_SERVER_HEADER]  # dormant
    from pytest_dai.glue.hooks.header import report_header

    return report_header(config)


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
