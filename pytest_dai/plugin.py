"""pytest entry point of pytest-dai (registered as ``dai`` in the ``pytest11`` group): the
fixtures, and the hooks every session needs.

The fixtures are here, the way pytest-httpserver's plugin module only wraps its library in
fixtures: ``dai_session``, ``dai_execution``, ``dai_result`` and ``dai_simulator``. A test
marked ``@pytest.mark.dai_model(...)`` gets its run through an autouse fixture that pulls in
``dai_session`` (the pytest-django way); the run itself starts in ``pytest_runtest_call``,
after all of the test's fixtures are set up. What the fixtures do for a DAI test is in
:mod:`pytest_dai.glue.hooks.marked_tests`, imported on the first such test.

The hooks every session needs are here too: options, hookspecs, markers, the start of the
plugin's state, the report header, SIGTERM (what they need is :mod:`pytest_dai.glue.hooks.setup`).
The hooks of the session, of each test, of the summary and of xdist
(:mod:`pytest_dai.glue.hooks`) are registered when pytest-dai starts for the session
(:mod:`pytest_dai.glue.hooks.start`): a session that does not use it never imports them.

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

It stays cheap to import: it does not import ``requests``, the client or the simulator.
Those are imported the first time a DAI test, fixture or option needs them.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue.base import hookspecs
from pytest_dai.glue.base.keys import CONFIG_MARKER, MODEL_MARKER, SIGTERM_KEY, uses_dai
from pytest_dai.glue.hooks.setup import (
    CONFIG_MARKER_HELP,
    MARKER_HELP,
    STATE_KEY,
    anything_given,
    simulator_before_path,
)
from pytest_dai.glue.settings.table import NO_SERVER_HEADER, add_options

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_dai.glue.hooks.marked_tests import PendingExecution
    from pytest_dai.lifecycle.session import DAISession
    from pytest_dai.simulator import DAISimulator

__all__ = ["dai_execution", "dai_result", "dai_session", "dai_simulator"]


@pytest.fixture(scope="session")
def dai_session(request: pytest.FixtureRequest) -> DAISession:
    """The authenticated DAI client of this test session (a ``DAISession``).

    ``models()``, ``agents()``, ``runs()``, ``start(model, **options) -> Execution``,
    ``execution(id) -> Execution``. Runs started through it that are still going when the
    session ends (or is interrupted) are aborted.
    """
    from pytest_dai.glue.hooks.marked_tests import dai_session_for

    return dai_session_for(request)


@pytest.fixture
def dai_execution(request: pytest.FixtureRequest) -> PendingExecution:
    """In a test marked ``@pytest.mark.dai_model(...)``: the finished DAI run (an
    ``Execution``: ``id``, ``status``, ``passed``, ``steps_total``, ``steps_failed``, ``url``,
    ``run``, ``logs()``, ...). The test body runs only once the run passed."""
    from pytest_dai.glue.hooks.marked_tests import pending

    return pending(request, MODEL_MARKER)


@pytest.fixture
def dai_result(request: pytest.FixtureRequest) -> PendingExecution:
    """In a test marked ``@pytest.mark.dai_test_config(...)``: the finished test-config run (a
    ``TestConfigResult``: ``id``, ``task_instance_id``, ``status``, ``passed``, ``url``,
    ``test_results``, ``junit()``). The test body runs only once the result passed."""
    from pytest_dai.glue.hooks.marked_tests import pending

    return pending(request, CONFIG_MARKER)


@pytest.fixture(autouse=True)
def _dai_model_marker(request: pytest.FixtureRequest) -> None:
    """Prepare a ``dai_model``- or ``dai_test_config``-marked test: validate the marker and
    make the DAI session."""
    node = request.node
    if node.get_closest_marker(MODEL_MARKER) or node.get_closest_marker(CONFIG_MARKER):
        from pytest_dai.glue.hooks.marked_tests import prepare_marked_test

        prepare_marked_test(request)


@pytest.fixture(scope="session")
def dai_simulator(request: pytest.FixtureRequest) -> Iterator[DAISimulator]:
    """A running DAI simulator (``url``, ``token_url``, ``client_id``, ``client_secret``,
    ``request_log()``, ``set_faults()``...): the one ``--dai-simulator`` started in this
    process, or else a new one with the packaged scenario for this session. Its faults and
    dialect are put back after each test (``DAISimulator.reset()``)."""
    state = request.config.stash.get(STATE_KEY, None)
    if state is not None and state.simulator is not None:
        yield state.simulator
        return
    from pytest_dai.simulator import DAISimulator

    with DAISimulator() as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _dai_simulator_reset(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used ``dai_simulator``, put its faults and dialect back (as
    pytest-httpserver's ``httpserver`` clears its handlers): the simulator stays up for the
    session, but what one test set never leaks into the next."""
    if "dai_simulator" not in request.fixturenames:
        yield
        return
    simulator: DAISimulator = request.getfixturevalue("dai_simulator")
    yield
    simulator.reset()


# -- the hooks every session needs -------------------------------------------------------


def pytest_itemcollected(item: pytest.Item) -> None:
    """While pytest-dai is dormant, the first DAI test collected starts it."""
    if STATE_KEY not in item.config.stash and uses_dai(item):
        from pytest_dai.glue.hooks.start import plugin_state

        plugin_state(item.config)


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
