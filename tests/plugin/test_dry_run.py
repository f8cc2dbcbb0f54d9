"""``--dai-dry-run``: everything is checked, nothing is started."""

from __future__ import annotations

import pytest
from harness.simulators import starts

from pytest_dai.simulator import DAISimulator

from .conftest import junit, run

DRY_RUN_TESTS = """
    import pytest

    @pytest.mark.dai_model("Pass", agent="agent-1")
    def test_marked_pass():
        pass

    @pytest.mark.dai_model("Fail", agent="agent-2")
    def test_marked_fail():
        pass

    def test_by_hand(dai_session):
        dai_session.start("Pass", agent="agent-3")
        raise AssertionError("dai_session.start() returned in a dry run")
    """


def test_dry_run_skips_marked_tests_saying_what_would_start(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(DRY_RUN_TESTS)
    result = run(pytester, "--dai-dry-run", "-rs")
    result.assert_outcomes(skipped=3)

    cases = junit(pytester)
    assert cases["test_marked_pass"].outcome == "skipped"
    assert cases["test_marked_pass"].message == (
        "dry run: would start model 'Pass' on agent 'agent-1'"
    )
    assert cases["test_marked_fail"].message == (
        "dry run: would start model 'Fail' on agent 'agent-2'"
    )
    result.stdout.fnmatch_lines(["SKIPPED * dry run: would start model 'Pass' on agent 'agent-1'"])


def test_dry_run_skips_runs_started_by_hand(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(DRY_RUN_TESTS)
    run(pytester, "--dai-dry-run")

    case = junit(pytester)["test_by_hand"]
    assert case.outcome == "skipped"
    assert case.message == "dry run: would start model 'Pass' on agent 'agent-3'"


def test_dry_run_starts_nothing(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    pytester.makepyfile(DRY_RUN_TESTS)
    run(pytester, "--dai-dry-run")

    assert dai_env.request_log(), "the dry run did not ask the server anything"
    assert starts(dai_env) == []
    assert dai_env.executions() == []
