"""``--dai-dry-run`` prints its plan as a short table after the session, without ``-rs``: one
row per DAI test, ready (what it would start) or not (why), and the counts; once under xdist.
``test_case`` takes an id only (DAI's API cannot look a test case up by name)."""

from __future__ import annotations

import re

import pytest
from harness.simulators import starts

from pytest_dai.simulator import DAISimulator

from .conftest import run, run_subprocess

PLAN_TESTS = """
    import pytest

    def test_plain():
        pass

    @pytest.mark.dai_model("Pass", agent="agent-1")
    def test_ready():
        pass

    @pytest.mark.dai_model("Fail", agent="agent-2", test_case="12")
    def test_case_id():
        pass

    @pytest.mark.dai_model("Pas", agent="agent-1")
    def test_typo():
        pass

    @pytest.mark.dai_model("Pass", agent="agent-offline")
    def test_offline():
        pass


    def test_by_hand(dai_session):
        dai_session.start("Pass", agent="agent-3")
    """

TITLE = "DAI dry run: nothing was started"

EXPECTED = {
    "test_ready": ("ready", "would start model 'Pass' on agent 'agent-1'"),
    "test_case_id": (
        "ready",
        "would start model 'Fail' on agent 'agent-2', test case 12 (id not checked)",
    ),
    "test_typo": ("NOT READY", "unknown model 'Pas'"),
    "test_offline": ("NOT READY", "agent 'agent-offline' is Offline"),
    "test_by_hand": ("ready", "would start model 'Pass' on agent 'agent-3'"),
}


def _table(lines: list[str]) -> dict[str, tuple[str, str]]:
    """The table's rows by test name, checked to come once, under the title and a header."""
    titles = [i for i, line in enumerate(lines) if TITLE in line]
    assert len(titles) == 1, lines
    start = titles[0]
    assert re.match(r"test\s+check\s+plan$", lines[start + 1]), lines
    rows = {}
    for line in lines[start + 2 :]:
        match = re.match(r"test_plan\.py::(\w+)\s+(ready|NOT READY)\s+(.*)$", line)
        if not match:
            assert line == "3 ready, 2 not ready", lines
            break
        rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def _check(rows: dict[str, tuple[str, str]]) -> None:
    assert set(rows) == set(EXPECTED), rows
    for name, (state, text) in EXPECTED.items():
        assert rows[name][0] == state, (name, rows[name])
        assert rows[name][1].startswith(text), (name, rows[name])


def test_the_plan_is_a_table_after_the_session_without_rs(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(test_plan=PLAN_TESTS)
    result = run(pytester, "--dai-dry-run")

    result.assert_outcomes(passed=1, skipped=3, failed=2)
    _check(_table(result.stdout.lines))
    assert starts(dai_env) == []
    assert dai_env.executions() == []


@pytest.mark.slow
def test_the_plan_is_printed_once_by_the_xdist_controller(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(test_plan=PLAN_TESTS)
    result = run_subprocess(pytester, "--dai-dry-run", "-n", "2")

    _check(_table(result.stdout.lines))
    assert dai_env.executions() == []


def test_no_table_without_a_dry_run_or_without_dai_tests(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    assert TITLE not in run(pytester, "--dai-dry-run").stdout.str()
    pytester.makepyfile(
        test_run="""
        import pytest

        @pytest.mark.dai_model("Pass", agent="agent-1")
        def test_ready():
            pass
        """
    )
    assert TITLE not in run(pytester).stdout.str()


NAMED_CASE = """
    import pytest

    @pytest.mark.dai_model("Pass", agent="agent-1", test_case="Valid password")
    def test_case_name():
        pass
    """

NAME_REFUSED = (
    "test_case: expected a test case id (an integer), got 'Valid password': DAI's API cannot "
    "look a test case up by name, so only ids are accepted; a test case's id is shown in DAI "
    "next to its name"
)


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_a_test_case_given_by_name_is_refused_with_one_line_saying_where_ids_are(
    pytester: pytest.Pytester, dai_env: DAISimulator, dry_run: bool
) -> None:
    pytester.makepyfile(test_named=NAMED_CASE)
    result = run(pytester, *(["--dai-dry-run"] if dry_run else []))

    assert result.ret != 0
    output = result.stdout.str()
    assert NAME_REFUSED in output, output
    assert "422" not in output
    assert dai_env.executions() == []
