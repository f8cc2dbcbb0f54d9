"""How a finished run maps to a pytest outcome, for runs that really ended so on the simulator:
passed, failed, error, cancelled on the server, and too few steps."""

from __future__ import annotations

import pytest

from pytest_dai.lifecycle.outcome import (
    DAIRunCancelled,
    DAIRunError,
    DAIRunFailed,
    DAIRunOutcome,
    default_outcome,
)
from pytest_dai.lifecycle.session import DAISession


@pytest.mark.parametrize(
    ("model", "expected", "summary"),
    [
        ("Failing", DAIRunFailed, "failed: status Failed"),
        ("Erroring", DAIRunError, "ended in error: status Error"),
        ("Cancelled", DAIRunCancelled, "was cancelled on the server: status Cancelled"),
    ],
)
def test_a_run_that_did_not_pass_maps_to_its_exception(
    session: DAISession, model: str, expected: type[DAIRunOutcome], summary: str
) -> None:
    execution = session.start(model, agent="a1").wait(timeout=30)
    logs = execution.logs()
    outcome = default_outcome(execution, logs)
    assert type(outcome) is expected
    assert outcome.execution is execution
    lines = str(outcome).splitlines()
    assert lines[0] == f"DAI run of model {model!r} (execution {execution.id}) {summary}"
    assert lines[-1] == f"run: {execution.url}"
    assert outcome.details == execution.failure_details(logs)


def test_a_passed_run_maps_to_no_exception_unless_it_ran_too_few_steps(
    session: DAISession,
) -> None:
    execution = session.start("Quick", agent="a1").wait(timeout=30)
    assert default_outcome(execution) is None
    assert default_outcome(execution, min_steps=3) is None
    too_few = default_outcome(execution, min_steps=4)
    assert isinstance(too_few, DAIRunFailed)
    assert str(too_few).splitlines()[0].endswith("passed but ran 3 steps, fewer than min_steps=4")


def test_the_outcome_exceptions_are_also_importable_from_the_package() -> None:
    import pytest_dai
    from pytest_dai.lifecycle import run_errors

    for name in ("DAIRunOutcome", "DAIRunFailed", "DAIRunError", "DAIRunCancelled"):
        assert getattr(pytest_dai, name) is getattr(run_errors, name)
