"""The ``dai_model`` marker and the ``dai_execution`` fixture, as users meet them."""

from __future__ import annotations

import pytest
from harness.simulators import starts

from pytest_dai.simulator import DAISimulator

from .conftest import Case, junit, marked_test, run


def one_line_failure(case: Case) -> str:
    """The failure or error text of a testcase, checked to be a single line."""
    assert case.outcome in ("failure", "error"), case
    text = case.text.strip()
    assert text, case
    assert "\n" not in text, text
    return text


def test_strict_markers_accept_dai_model(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    pytester.makepyfile(marked_test("Pass"))
    result = run(pytester, "--strict-markers")
    result.assert_outcomes(passed=1)


def test_unknown_model_fails_listing_close_matches(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Pas"))
    run(pytester).assert_outcomes(failed=1)

    text = one_line_failure(junit(pytester)["test_run"])
    assert "unknown model 'Pas'" in text
    assert "close matches: 'Pass'" in text
    assert starts(dai_env) == []


def test_unknown_agent_fails_listing_close_matches(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Pass", agent="agent1"))
    run(pytester).assert_outcomes(failed=1)

    text = one_line_failure(junit(pytester)["test_run"])
    assert "unknown agent 'agent1'" in text
    assert "close matches: 'agent-1'" in text
    assert starts(dai_env) == []


def test_bad_marker_arguments_are_collection_errors_of_their_test_with_one_line(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.dai_model("Pass", agent="agent-1", timeout="soon")
        def test_bad_timeout():
            pass

        @pytest.mark.dai_model("Pass", agnet="agent-1")
        def test_unknown_keyword():
            pass

        @pytest.mark.dai_model("Pass", agent="agent-2")
        def test_good():
            pass
        """
    )
    result = run(pytester, "--continue-on-collection-errors")
    result.assert_outcomes(passed=1, errors=2)

    cases = junit(pytester)
    bad_timeout = one_line_failure(cases["test_bad_timeout"])
    assert cases["test_bad_timeout"].message == "collection failure"
    assert "timeout: expected a number of seconds >= 0, got 'soon'" in bad_timeout
    assert "test_bad_timeout" in bad_timeout
    unknown = one_line_failure(cases["test_unknown_keyword"])
    assert "unknown keyword 'agnet', did you mean 'agent'?" in unknown
    assert cases["test_good"].outcome == "passed"
    assert [body["agent"]["agent_id"] for body in starts(dai_env)] == ["agent-2"]


def test_dai_execution_without_the_marker_says_what_to_do(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(
        """
        def test_unmarked(dai_execution):
            pass
        """
    )
    run(pytester).assert_outcomes(errors=1)

    text = one_line_failure(junit(pytester)["test_unmarked"])
    assert "needs @pytest.mark.dai_model(...)" in text
    assert "use the dai_session fixture (dai_session.start(model))" in text
