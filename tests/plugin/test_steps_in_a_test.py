"""``dai_execution.steps`` in a marked test's body: the finished run's steps by name, outcome
and message, without parsing ``logs()``."""

from __future__ import annotations

import pytest

from pytest_dai.simulator import DAISimulator

from .conftest import run

MODULE = """
import pytest

@pytest.mark.dai_model("Pass", agent="agent-1")
def test_steps(dai_execution):
    steps = dai_execution.steps
    assert [(s.number, s.name, s.outcome) for s in steps] == [
        (1, "Open shop", "passed"),
        (2, "Search", "passed"),
        (3, "Pay", "passed"),
    ]
    assert [s.message for s in steps] == ["", "", ""]
"""


def test_the_body_reads_the_steps_of_the_run(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(test_body=MODULE)
    run(pytester).assert_outcomes(passed=1)
