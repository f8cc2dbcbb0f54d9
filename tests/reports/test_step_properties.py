"""The step counts of a run as JUnit properties (``dai_steps_total``, ``dai_steps_failed``), and
``min_steps=``: a passed run with fewer steps fails the test."""

from __future__ import annotations

import pytest
from harness.inner import FAST

from pytest_dai.simulator import DAISimulator

from .support import properties, read_junit

MODULE = """
import pytest

@pytest.mark.dai_model("Passing", agent="a1")
def test_passed():
    pass

@pytest.mark.dai_model("Failing", agent="a2")
def test_failed():
    pass

@pytest.mark.dai_model("Passing", agent="a3", min_steps=3)
def test_enough_steps():
    pass

@pytest.mark.dai_model("Passing", agent="a4", min_steps=4)
def test_too_few_steps():
    pass
"""


def test_step_counts_and_min_steps(pytester: pytest.Pytester, sim: DAISimulator) -> None:
    pytester.makepyfile(test_steps=MODULE)
    result = pytester.runpytest("--junitxml=junit.xml", *FAST)
    result.assert_outcomes(passed=2, failed=2)
    cases = read_junit(pytester.path / "junit.xml")

    def counts(name: str) -> tuple[str, str, str]:
        props = properties(cases[name])
        return props["dai_status"], props["dai_steps_total"], props["dai_steps_failed"]

    assert counts("test_passed") == ("Passed", "3", "0")
    assert counts("test_failed") == ("Failed", "3", "1")
    assert counts("test_enough_steps") == ("Passed", "3", "0")
    assert cases["test_enough_steps"].is_passed

    assert counts("test_too_few_steps") == ("Passed", "3", "0")
    assert cases["test_too_few_steps"].is_failure
    (failure,) = cases["test_too_few_steps"].result
    assert "passed but ran 3 steps, fewer than min_steps=4" in failure.message
    assert failure.message.startswith("DAIRunFailed")
