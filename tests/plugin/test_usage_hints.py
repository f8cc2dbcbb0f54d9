"""A test marked for one kind of run that asks for the other kind's fixture is told which
fixture its run is (``dai_result`` for a ``dai_test_config`` test, ``dai_execution`` for a
``dai_model`` one)."""

from __future__ import annotations

import pytest

from pytest_dai.simulator import DAISimulator

from .conftest import run

USAGE_MODULE = """
import pytest

@pytest.mark.dai_test_config("Nightly")
def test_config(dai_execution):
    pass

@pytest.mark.dai_model("Pass", agent="agent-1")
def test_model(dai_result):
    pass
"""


def test_the_fixture_of_the_other_kind_of_run_is_a_usage_error_naming_the_right_one(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(test_usage=USAGE_MODULE)
    result = run(pytester)
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert "the dai_execution fixture needs @pytest.mark.dai_model(...)" in out
    assert "this test is marked dai_test_config: its run is the dai_result fixture" in out
    assert "this test is marked dai_model: its run is the dai_execution fixture" in out
    assert dai_env.executions() == []
