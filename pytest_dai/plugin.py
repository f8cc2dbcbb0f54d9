"""pytest entry point of pytest-dai (registered as ``dai`` in the ``pytest11`` group): the
fixtures, and the hooks every session needs.

The fixtures are here, the way pytest-httpserver's plugin module only wraps its library in
fixtures: ``dai_session``, ``dai_execution``, ``dai_result`` and ``dai_simulator``. A test
marked ``@pytest.mark.dai_model(...)`` gets its run through an autouse fixture that pulls in
``dai_session`` (the pytest-django way); the run itself starts in ``pytest_runtest_call``,
after all of the test's fixtures are set up.

The hooks live in :mod:`pytest_dai.glue` by what they are about. This module gathers those
every session needs (options, hookspecs, markers, the set-up: :mod:`pytest_dai.glue.setup_hooks`);
the hooks of the session, of each test, of the summary and of xdist are registered when
pytest-dai starts for the session: a session that does not use it never imports them.

It stays cheap to import: it does not import ``requests``, the client or the simulator.
Those are imported the first time a DAI test, fixture or option needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import pytest

from pytest_dai.glue.keys import CONFIG_SPEC_KEY, SPEC_KEY, STATE_KEY
from pytest_dai.glue.setup_hooks import CONFIG_MARKER, MODEL_MARKER, plugin_state
from pytest_dai.glue.setup_hooks import CONFIG_MARKER_HELP as CONFIG_MARKER_HELP
from pytest_dai.glue.setup_hooks import MARKER_HELP as MARKER_HELP
from pytest_dai.glue.setup_hooks import pytest_addhooks as pytest_addhooks
from pytest_dai.glue.setup_hooks import pytest_addoption as pytest_addoption
from pytest_dai.glue.setup_hooks import pytest_configure as pytest_configure
from pytest_dai.glue.setup_hooks import (
    pytest_load_initial_conftests as pytest_load_initial_conftests,
)
from pytest_dai.glue.setup_hooks import pytest_report_header as pytest_report_header
from pytest_dai.glue.setup_hooks import pytest_unconfigure as pytest_unconfigure

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_dai.client.errors import DAIError
    from pytest_dai.lifecycle.session import DAISession
    from pytest_dai.simulator import DAISimulator

#: The fixtures (the hooks above are re-exported for pytest to find, each by its name).
__all__ = ["PendingExecution", "dai_execution", "dai_result", "dai_session", "dai_simulator"]


class PendingExecution:
    """Stands for a marked test's run until it has finished.

    The run starts after every fixture is set up, so a fixture that asks for ``dai_execution``
    gets this placeholder; the test function itself gets the finished ``Execution``.
    """

    def __repr__(self) -> str:
        return "<PendingExecution: the DAI run starts after the test's fixtures are set up>"

    def __getattr__(self, name: str) -> NoReturn:
        raise AttributeError(
            f"dai_execution.{name}: the DAI run has not finished yet; use dai_execution in the "
            "test function, not in a fixture"
        )


def _fail(exc: DAIError) -> NoReturn:
    __tracebackhide__ = True
    # "from None": the report is this one line, not the DAIError again as the context.
    raise pytest.fail.Exception(f"{type(exc).__name__}: {exc}", pytrace=False) from None


@pytest.fixture(scope="session")
def dai_session(request: pytest.FixtureRequest) -> DAISession:
    """The authenticated DAI client of this test session (a ``DAISession``).

    ``models()``, ``agents()``, ``runs()``, ``start(model, **options) -> Execution``,
    ``execution(id) -> Execution``. Runs started through it that are still going when the
    session ends (or is interrupted) are aborted.
    """
    from pytest_dai.client.errors import DAIError  # (as everything DAI: on first use)

    state = plugin_state(request.config)
    try:
        return state.session()
    except DAIError as exc:
        from pytest_dai.glue.failfast import note_fault

        _fail(note_fault(state, state.current_nodeid or request.node.nodeid, exc))


@pytest.fixture
def dai_execution(request: pytest.FixtureRequest) -> PendingExecution:
    """In a test marked ``@pytest.mark.dai_model(...)``: the finished DAI run (an
    ``Execution``: ``id``, ``status``, ``passed``, ``steps_total``, ``steps_failed``, ``url``,
    ``run``, ``logs()``, ...). The test body runs only once the run passed."""
    return _pending(
        request,
        MODEL_MARKER,
        "the dai_execution fixture needs @pytest.mark.dai_model(...) on the test; to start "
        "runs by hand, use the dai_session fixture (dai_session.start(model))",
    )


@pytest.fixture
def dai_result(request: pytest.FixtureRequest) -> PendingExecution:
    """In a test marked ``@pytest.mark.dai_test_config(...)``: the finished test-config run (a
    ``TestConfigResult``: ``id``, ``task_instance_id``, ``status``, ``passed``, ``url``,
    ``test_results``, ``junit()``). The test body runs only once the result passed."""
    return _pending(
        request,
        CONFIG_MARKER,
        "the dai_result fixture needs @pytest.mark.dai_test_config(...) on the test; to start "
        "test configurations by hand, use dai_session.start_test_config(config)",
    )


def _pending(request: pytest.FixtureRequest, marker: str, usage: str) -> PendingExecution:
    """The placeholder for the run of the test's ``marker``; without the marker, the test
    fails with ``usage``."""
    if request.node.get_closest_marker(marker) is None:
        pytest.fail(f"usage error: {request.node.nodeid}: {usage}", pytrace=False)
    return PendingExecution()


@pytest.fixture(autouse=True)
def _dai_model_marker(request: pytest.FixtureRequest) -> None:
    """Prepare a ``dai_model``- or ``dai_test_config``-marked test: validate the marker and
    make the DAI session."""
    marker = request.node.get_closest_marker(MODEL_MARKER)
    config_marker = request.node.get_closest_marker(CONFIG_MARKER)
    if config_marker is not None:
        _prepare_test_config(request, config_marker)
        return
    if marker is None:
        return
    from pytest_dai.client.errors import DAIError
    from pytest_dai.glue.model_marker import parse_marker

    state = plugin_state(request.config)
    try:
        request.node.stash[SPEC_KEY] = parse_marker(marker, state.settings, request.node.nodeid)
    except DAIError as exc:
        _fail(exc)
    if state.server_fault is not None:
        from pytest_dai.glue.failfast import refuse_if_faulted

        refuse_if_faulted(state, request.node.nodeid)
    request.getfixturevalue("dai_session")


def _prepare_test_config(request: pytest.FixtureRequest, marker: pytest.Mark) -> None:
    from pytest_dai.client.errors import DAIError
    from pytest_dai.glue.test_config_marker import parse_test_config_marker

    state = plugin_state(request.config)
    if request.node.get_closest_marker(MODEL_MARKER) is not None:
        _fail(
            DAIError(f"{request.node.nodeid}: a test takes dai_model or dai_test_config, not both")
        )
    try:
        spec = parse_test_config_marker(marker, state.settings, request.node.nodeid)
    except DAIError as exc:
        _fail(exc)
    request.node.stash[CONFIG_SPEC_KEY] = spec
    request.getfixturevalue("dai_session")


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
