"""What the plugin's fixtures do for a test that uses pytest-dai (their bodies, imported on the
first such test: a session without DAI tests never loads this module).

A test marked ``dai_model`` or ``dai_test_config`` gets its marker checked and the DAI session
made before the test's other fixtures; ``dai_execution`` and ``dai_result`` hand out a
:class:`PendingExecution` until the run has finished (the run starts in
``pytest_runtest_call``, after every fixture is set up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import pytest

from pytest_dai.client.errors import DAIError
from pytest_dai.glue.base.keys import CONFIG_MARKER, MODEL_MARKER
from pytest_dai.glue.hooks.start import plugin_state
from pytest_dai.glue.markers.model import SPEC_KEY, parse_marker
from pytest_dai.glue.markers.test_config import CONFIG_SPEC_KEY, parse_test_config_marker
from pytest_dai.glue.process.failfast import note_fault, refuse_if_faulted

if TYPE_CHECKING:
    from pytest_dai.lifecycle.session import DAISession

__all__ = ["PendingExecution", "dai_session_for", "pending", "prepare_marked_test"]

#: What a test that asks for a run's fixture without its marker is told.
USAGE = {
    MODEL_MARKER: "the dai_execution fixture needs @pytest.mark.dai_model(...) on the test; to "
    "start runs by hand, use the dai_session fixture (dai_session.start(model))",
    CONFIG_MARKER: "the dai_result fixture needs @pytest.mark.dai_test_config(...) on the test; "
    "to start test configurations by hand, use dai_session.start_test_config(config)",
}
#: What a test marked for the other kind of run is told besides: the fixture of its marker.
OTHER_KIND = {
    CONFIG_MARKER: "this test is marked dai_test_config: its run is the dai_result fixture",
    MODEL_MARKER: "this test is marked dai_model: its run is the dai_execution fixture",
}


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


def fail(exc: DAIError) -> NoReturn:
    """Fail the test with ``exc`` as one line (no traceback)."""
    __tracebackhide__ = True
    # "from None": the report is this one line, not the DAIError again as the context.
    raise pytest.fail.Exception(f"{type(exc).__name__}: {exc}", pytrace=False) from None


def dai_session_for(request: pytest.FixtureRequest) -> DAISession:
    """The session's DAI client; a server fault fails the test that asked, in one line."""
    state = plugin_state(request.config)
    try:
        return state.session()
    except DAIError as exc:
        fail(note_fault(state, state.current_nodeid or request.node.nodeid, exc))


def pending(request: pytest.FixtureRequest, marker: str) -> PendingExecution:
    """The placeholder for the run of the test's ``marker``; without the marker, the test
    fails with a usage error."""
    node = request.node
    if node.get_closest_marker(marker) is None:
        other = CONFIG_MARKER if marker == MODEL_MARKER else MODEL_MARKER
        hint = f"; {OTHER_KIND[other]}" if node.get_closest_marker(other) is not None else ""
        pytest.fail(f"usage error: {node.nodeid}: {USAGE[marker]}{hint}", pytrace=False)
    return PendingExecution()


def prepare_marked_test(request: pytest.FixtureRequest) -> None:
    """Validate the test's ``dai_model`` or ``dai_test_config`` marker (its spec goes to the
    item's stash) and make the DAI session."""
    node = request.node
    state = plugin_state(request.config)
    model_marker = node.get_closest_marker(MODEL_MARKER)
    config_marker = node.get_closest_marker(CONFIG_MARKER)
    try:
        if config_marker is not None:
            if model_marker is not None:
                both = "a test takes dai_model or dai_test_config, not both"
                raise DAIError(f"{node.nodeid}: {both}")
            spec = parse_test_config_marker(config_marker, state.settings, node.nodeid)
            node.stash[CONFIG_SPEC_KEY] = spec
        elif model_marker is not None:
            node.stash[SPEC_KEY] = parse_marker(model_marker, state.settings, node.nodeid)
        # Either kind of run: after a fault of the whole server, not tried again.
        if state.server_fault is not None:
            refuse_if_faulted(state, node.nodeid)
    except DAIError as exc:
        fail(exc)
    request.getfixturevalue("dai_session")
