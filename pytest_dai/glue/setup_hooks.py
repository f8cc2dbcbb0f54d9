"""Hooks that set pytest-dai up and take it down: options, hookspecs, markers, the settings,
the plugin's state and helper plugins, the report header, the SIGTERM handler."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue import hookspecs
from pytest_dai.glue.activation import (
    DORMANT_PLUGIN,
    NO_SERVER_HEADER,
    DormantHooks,
    restore_sigterm,
    start_plugin,
)
from pytest_dai.glue.keys import SETTINGS_KEY, STATE_KEY
from pytest_dai.glue.settings_table import add_options
from pytest_dai.glue.sources import anything_given, simulator_before_path

if TYPE_CHECKING:
    from pytest_dai.glue.settings import Settings

__all__ = [
    "CONFIG_MARKER_HELP",
    "MARKER_HELP",
    "pytest_addhooks",
    "pytest_addoption",
    "pytest_configure",
    "pytest_load_initial_conftests",
    "pytest_report_header",
    "pytest_unconfigure",
]

CONFIG_MARKER_HELP = (
    "dai_test_config(config, *, model=None, suite=None, parameters=None, filter_by=None, "
    "timeout=None): start an Eggplant DAI test configuration after the test's fixtures, wait "
    "for it, and pass only if its result passed"
)
MARKER_HELP = (
    "dai_model(model, *, agent=None, test_case=None, sut=None, sut_criteria=None, rerun=None, "
    "step_pause_time=None, timeout=None, min_steps=None, script=None, asset=None): start an "
    "Eggplant DAI model run after the test's fixtures, wait for it, and pass or fail with it"
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
    else leave the plugin dormant until the first DAI test (see :mod:`.activation`)."""
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", CONFIG_MARKER_HELP)
    if config.getoption("help", False) or config.getoption("version", False):
        return  # --help must work even when a DAI_* variable is bad: that is how to fix it
    if anything_given(config):
        start_plugin(config)
    else:
        config.pluginmanager.register(DormantHooks(config), DORMANT_PLUGIN)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Abort what is still going, stop the simulator, restore the SIGTERM handler."""
    state = config.stash.get(STATE_KEY, None)
    try:
        if state is not None:
            state.close()
    finally:
        restore_sigterm(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Show every effective DAI setting and where it came from, secrets masked; runs aborted
    for killed sessions; a warning when pytest-timeout's thread method is in use."""
    settings = config.stash.get(SETTINGS_KEY, None)
    state = config.stash.get(STATE_KEY, None)
    lines: list[str] = []
    if config.pluginmanager.has_plugin(DORMANT_PLUGIN):
        return [NO_SERVER_HEADER]
    if settings is not None:
        from pytest_dai.glue.header import header_lines

        lines = header_lines(config, settings)
        if settings.dist == "agent":
            lines.extend(dist_header_lines(config, settings))
    if state is not None:
        lines.extend(state.reap_lines)
    if state is not None and config.pluginmanager.hasplugin("timeout"):
        from pytest_dai.glue.timeouts import TIMEOUT_MARGIN, timeout_method

        if timeout_method(config) == "thread":
            lines.append(
                "dai: pytest-timeout's thread method ends the whole process on a timeout: each "
                f"DAI run gets its own deadline {TIMEOUT_MARGIN:g} s (at most a quarter of the "
                "timeout) before pytest-timeout's, and runs left by a killed process are "
                "aborted by the next session"
            )
    return lines


def dist_header_lines(config: pytest.Config, settings: Settings) -> list[str]:
    """Header lines about ``--dai-dist=agent``: without xdist it does nothing; the old
    ``dai_xdist_group_by_agent`` is an alias."""
    lines = []
    if not config.pluginmanager.hasplugin("xdist"):
        lines.append("dai: dai_dist = agent needs pytest-xdist (pip install pytest-xdist); ignored")
    if settings.xdist_group_by_agent and settings.source("dist") == settings.source(
        "xdist_group_by_agent"
    ):
        lines.append(
            "dai: dai_xdist_group_by_agent is deprecated: it now selects dai_dist = agent "
            "(xdist's --dist loadgroup is not needed); write dai_dist = agent instead"
        )
    return lines
