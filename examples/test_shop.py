"""Example DAI model runs as pytest tests. Run them on the bundled simulator with:

pytest examples --dai-simulator --junitxml=report.xml
"""

from __future__ import annotations

import pytest

from pytest_dai import DAIRunFailed, DAISession, Execution


@pytest.mark.dai_model("Shop checkout", agent="agent-1")
def test_checkout() -> None:
    """The run is the test: it passes when the model run passes."""


@pytest.mark.dai_model("Search catalogue", agent="agent-2", timeout=600)
def test_search_catalogue(dai_execution: Execution) -> None:
    """Extra checks on the finished run; the body runs only once the run passed."""
    assert dai_execution.passed
    assert dai_execution.steps_failed == 0
    assert (dai_execution.steps_total or 0) >= 5


@pytest.mark.dai_model("User login", agent="agent-3", test_case=12)
def test_login_directed_test_case(dai_execution: Execution) -> None:
    """A directed test case (``test_case=``) of a model instead of an exploratory run."""
    assert dai_execution.model == "User login"


@pytest.mark.xfail(reason="known bug: declined cards end the checkout", raises=DAIRunFailed)
@pytest.mark.dai_model("Payment declined", agent="agent-4")
def test_payment_declined() -> None:
    """This model fails today; the test is expected to fail until the bug is fixed."""


def test_runs_by_hand(dai_session: DAISession) -> None:
    """Start runs yourself through the session client, for flows a marker cannot express."""
    assert "User login" in {model.name for model in dai_session.models()}
    execution = dai_session.start("User login", agent="agent-1", test_case=13)
    execution.wait(timeout=120)
    assert execution.passed, execution.status
    assert execution.logs(), "a finished run has a log"
