"""What lands in reports: JUnit properties and the summary under pytest-xdist, and the run log
in ``<system-out>``."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pytest_dai.simulator import DAISimulator

from .conftest import JUNIT, junit, run, run_subprocess

PROPERTIES = ("dai_execution_id", "dai_model", "dai_agent", "dai_status", "dai_url", "dai_duration")

FOUR_RUNS = """
    import pytest

    @pytest.mark.dai_model("Pass", agent="agent-1")
    def test_pass_1():
        pass

    @pytest.mark.dai_model("Pass", agent="agent-2")
    def test_pass_2():
        pass

    @pytest.mark.dai_model("Fail", agent="agent-3")
    def test_fail():
        pass

    @pytest.mark.dai_model("Error", agent="agent-4")
    def test_error():
        pass

    def test_plain():
        pass
    """


@pytest.mark.slow
def test_xdist_every_marked_testcase_has_the_dai_properties(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(FOUR_RUNS)
    result = run_subprocess(pytester, "-n", "2")
    result.assert_outcomes(passed=3, failed=2)

    cases = junit(pytester)
    runs = {ex["execution_id"]: ex for ex in dai_env.executions()}
    assert len(runs) == 4
    for name in ("test_pass_1", "test_pass_2", "test_fail", "test_error"):
        props = cases[name].properties
        assert all(props.get(key) for key in PROPERTIES), (name, props)
        ex = runs[props["dai_execution_id"]]
        assert props["dai_model"] == ex["model_name"]
        assert props["dai_agent"] == ex["agent_name"]
        assert props["dai_status"] == ex["status"]
        assert props["dai_url"] == f"{dai_env.url}/runs/{ex['run_id']}"
    assert not any(key.startswith("dai_") for key in cases["test_plain"].properties)


@pytest.mark.slow
def test_xdist_prints_the_summary_once(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    pytester.makepyfile(FOUR_RUNS)
    result = run_subprocess(pytester, "-n", "2")

    output = result.stdout.str()
    assert output.count("DAI model runs") == 1, output
    summary = output.split("DAI model runs", 1)[1]
    for ex in dai_env.executions():
        assert f"{dai_env.url}/runs/{ex['run_id']}" in summary


def test_summary_lists_every_run_with_status_duration_and_address(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(FOUR_RUNS)
    result = run(pytester)

    section = result.stdout.str().split("DAI model runs", 1)[1]
    summary = section.split("short test summary info", 1)[0].splitlines()
    for ex in dai_env.executions():
        address = f"{dai_env.url}/runs/{ex['run_id']}"
        (line,) = [line for line in summary if address in line]
        assert ex["model_name"] in line
        assert ex["status"] in line
        assert line.split()[3].endswith("s")  # duration


def test_junit_logging_log_puts_the_run_log_into_system_out(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makeini("[pytest]\njunit_logging = log\n")
    pytester.makepyfile(FOUR_RUNS)
    run(pytester)

    cases = junit(pytester)
    assert "'Pay': done" in cases["test_pass_1"].system_out
    assert "Card declined" in cases["test_fail"].system_out
    assert "Run finished: Error" in cases["test_error"].system_out


BY_HAND = """
    import pytest

    def test_two_by_hand(dai_session):
        first = dai_session.start("Pass", agent="agent-1")
        second = dai_session.start("Fail", agent="agent-2")
        for execution in (first, second):
            execution.wait(timeout=30)

    @pytest.mark.dai_model("Pass", agent="agent-3")
    def test_marker_and_by_hand(dai_session):
        dai_session.start("Pass", agent="agent-4").wait(timeout=30)
    """


@pytest.mark.slow
@pytest.mark.parametrize("xdist", [False, True], ids=["in-process", "xdist"])
def test_runs_started_by_hand_are_in_the_summary_and_the_junit_properties(
    pytester: pytest.Pytester, dai_env: DAISimulator, xdist: bool
) -> None:
    pytester.makepyfile(BY_HAND)
    steps = "--dai-junit-steps=steps.xml"
    result = run_subprocess(pytester, "-n", "2", steps) if xdist else run(pytester, steps)
    result.assert_outcomes(passed=2)

    section = result.stdout.str().split("DAI model runs", 1)[1]
    summary = section.split("short test summary info", 1)[0].splitlines()
    executions = dai_env.executions()
    assert len(executions) == 4
    for ex in executions:
        (line,) = [line for line in summary if f"/runs/{ex['run_id']}" in line]
        assert ex["status"] in line

    cases = {
        case.get("name"): [(prop.get("name"), prop.get("value")) for prop in case.iter("property")]
        for case in ET.parse(pytester.path / JUNIT).getroot().iter("testcase")
    }
    by_id = {ex["execution_id"]: ex for ex in executions}
    # A test with no marker run: one group of dai_* properties per run, in the order started.
    ids = [value for name, value in cases["test_two_by_hand"] if name == "dai_execution_id"]
    assert [by_id[i]["model_name"] for i in ids] == ["Pass", "Fail"]
    statuses = [value for name, value in cases["test_two_by_hand"] if name == "dai_status"]
    assert statuses == ["Passed", "Failed"]
    # with their step counts, as the server counts them
    totals = [value for name, value in cases["test_two_by_hand"] if name == "dai_steps_total"]
    assert totals == [str(by_id[i]["steps_total"]) for i in ids]
    # and in the steps file, a testsuite per run (the marker's and those started by hand)
    suites = {
        {p.get("name"): p.get("value") for p in suite.iter("property")}["dai_execution_id"]: suite
        for suite in ET.parse(pytester.path / "steps.xml").getroot().iter("testsuite")
    }
    assert sorted(suites) == sorted(by_id)
    for execution_id, suite in suites.items():
        assert suite.get("tests") == str(by_id[execution_id]["steps_total"]), execution_id
    # A marked test keeps exactly its marker run's properties.
    ids = [value for name, value in cases["test_marker_and_by_hand"] if name == "dai_execution_id"]
    assert [by_id[i]["agent_name"] for i in ids] == ["agent-3"]
