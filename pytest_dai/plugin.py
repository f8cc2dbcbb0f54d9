"""pytest entry point of pytest-dai (registered as ``dai`` in the ``pytest11`` group): the
fixtures, and the hooks every session needs.

The fixtures are here, the way pytest-httpserver's plugin module only wraps its library in
fixtures: ``dai_session``, ``dai_execution``, ``dai_result`` and ``dai_simulator``. A test
marked ``@pytest.mark.dai_model(...)`` gets its run through an autouse fixture that pulls in
``dai_session`` (the pytest-django way); the run itself starts in ``pytest_runtest_call``,
after all of the test's fixtures are set up. What the fixtures do for a DAI test is in
:mod:`pytest_dai.glue.hooks.marked_tests`, imported on the first such test.

The hooks live in :mod:`pytest_dai.glue` by what they are about. This module gathers those
every session needs (options, hookspecs, markers, the set-up: :mod:`pytest_dai.glue.hooks.setup`);
the hooks of the session, of each test, of the summary and of xdist are registered when
pytest-dai starts for the session (:mod:`pytest_dai.glue.hooks.start`): a session that does not use
it never imports them.

It stays cheap to import: it does not import ``requests``, the client or the simulator.
Those are imported the first time a DAI test, fixture or option needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue.base.keys import CONFIG_MARKER, MODEL_MARKER
from pytest_dai.glue.hooks.setup import CONFIG_MARKER_HELP as CONFIG_MARKER_HELP
from pytest_dai.glue.hooks.setup import MARKER_HELP as MARKER_HELP
from pytest_dai.glue.hooks.setup import pytest_addhooks as pytest_addhooks
from pytest_dai.glue.hooks.setup import pytest_addoption as pytest_addoption
from pytest_dai.glue.hooks.setup import pytest_configure as pytest_configure
from pytest_dai.glue.hooks.setup import pytest_itemcollected as pytest_itemcollected
from pytest_dai.glue.hooks.setup import (
    pytest_load_initial_conftests as pytest_load_initial_conftests,
)
from pytest_dai.glue.hooks.setup import pytest_report_header as pytest_report_header
from pytest_dai.glue.hooks.setup import pytest_unconfigure as pytest_unconfigure
from pytest_dai.glue.process.keys import STATE_KEY

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_dai.glue.hooks.marked_tests import PendingExecution
    from pytest_dai.lifecycle.session import DAISession
    from pytest_dai.simulator import DAISimulator

#: The fixtures (the hooks above are re-exported for pytest to find, each by its name).
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
