"""What a session leaves in pytest's cache for the next one.

``--dai-rerun-failed``: the next session re-runs only the tests whose DAI run failed, each as a
DAI rerun of the failed run (E1 ``rerun_id``), and says so in the JUnit property
``dai_rerun_of``. ``dai/durations``: how long passed runs took, whatever the server's word for
passed."""

from __future__ import annotations

import json

import pytest
import xmlschema
from harness.inner import FAST
from harness.simulators import starts

from pytest_dai.simulator import DAISimulator

from .support import SCENARIO, properties, read_junit, read_step_suites, read_steps

MODULE = """
import pytest

@pytest.mark.dai_model("Passing", agent="a1")
def test_stable():
    pass

@pytest.mark.dai_model("Flaky", agent="a2")
def test_flaky():
    pass

@pytest.mark.dai_model("Passing", agent="a3")
def test_other():
    pass
"""


def session(pytester: pytest.Pytester, name: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        f"--junitxml={name}.xml", f"--dai-junit-steps={name}-steps.xml", *FAST, *args
    )


def test_rerun_failed_reruns_only_the_failed_run(
    pytester: pytest.Pytester, sim: DAISimulator, schema: xmlschema.XMLSchema
) -> None:
    pytester.makepyfile(test_shop=MODULE)

    first = session(pytester, "first")
    first.assert_outcomes(passed=2, failed=1)
    failed = properties(read_junit(pytester.path / "first.xml")["test_flaky"])
    assert failed["dai_status"] == "Failed"
    failed_run_id = failed["dai_run_id"]
    assert len(starts(sim)) == 3

    second = session(pytester, "second", "--dai-rerun-failed")
    second.assert_outcomes(passed=1, deselected=2)
    # like pytest's --lf, it says what it re-runs
    second.stdout.fnmatch_lines(
        [
            "collected 3 items / 2 deselected / 1 selected",
            "dai: re-running 1 failed run of the last session",
        ]
    )
    cases = read_junit(pytester.path / "second.xml")
    assert sorted(cases) == ["test_flaky"]
    props = properties(cases["test_flaky"])
    assert props["dai_rerun_of"] == failed_run_id
    assert props["dai_status"] == "Passed"
    assert props["dai_run_id"] != failed_run_id
    (rerun_start,) = starts(sim)[3:]
    assert rerun_start["rerun_id"] == int(failed_run_id)
    assert "model_id" not in rerun_start  # DAI re-runs from rerun_id alone (contract 2.1)
    rerun = sim.execution(props["dai_execution_id"])
    assert rerun is not None
    assert rerun["model_id"] == "m-flaky"
    assert (rerun["rerun_id"], rerun["attempt"], rerun["status"]) == (
        int(failed_run_id),
        2,
        "Passed",
    )
    (suite,) = read_steps(pytester.path / "second-steps.xml", schema).values()
    assert suite.properties["dai_rerun_of"] == failed_run_id

    # Nothing failed last time: --dai-rerun-failed runs every test, as plain runs.
    third = session(pytester, "third", "--dai-rerun-failed")
    third.assert_outcomes(passed=3)
    third.stdout.fnmatch_lines(
        ["dai: no failed runs on record for this server: running every test in full"]
    )
    assert all("rerun_id" not in body for body in starts(sim)[4:])
    assert len(starts(sim)) == 7
    for case in read_junit(pytester.path / "third.xml").values():
        assert "dai_rerun_of" not in properties(case)


@pytest.mark.slow
def test_rerun_failed_says_what_it_reruns_under_xdist(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    pytester.makepyfile(test_shop=MODULE)
    session(pytester, "first").assert_outcomes(passed=2, failed=1)
    second = pytester.runpytest_subprocess(*FAST, "-n", "2", "--dai-rerun-failed", timeout=120)
    second.assert_outcomes(passed=1)
    lines = [line for line in second.stdout.lines if line.startswith("dai: re-running")]
    assert lines == ["dai: re-running 1 failed run of the last session"], second.stdout.str()


@pytest.mark.parametrize("dialect", ["default", "alt_words"])
def test_passed_runs_go_into_the_duration_history(
    pytester: pytest.Pytester, sim: DAISimulator, dialect: str
) -> None:
    sim.dialect = dialect  # alt_words: the server says "Succeeded" for passed
    pytester.makepyfile(test_shop=MODULE)
    pytester.runpytest("-k", "stable or flaky", *FAST).assert_outcomes(
        passed=1, failed=1, deselected=1
    )
    cache = pytester.path / ".pytest_cache" / "v" / "dai" / "durations"
    history = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() else {}
    assert list(history) == ["Passing"], history
    assert len(history["Passing"]) == 1


FLAKY_MODULE = """
import pytest

@pytest.mark.flaky(reruns=1)
@pytest.mark.dai_model("Flaky", agent="a2")
def test_flaky():
    pass
"""


def test_pytest_rerunfailures_repeat_shows_each_run_in_summary_and_steps(
    pytester: pytest.Pytester, sim: DAISimulator, schema: xmlschema.XMLSchema
) -> None:
    """pytest-rerunfailures re-runs the whole test in the same session: a new model run each
    time. The summary and the steps file show both runs; the failed run is not remembered for
    --dai-rerun-failed, since the test passed in the end."""
    pytester.makepyfile(test_flaky=FLAKY_MODULE)

    result = session(pytester, "flaky")
    assert result.parseoutcomes() == {"passed": 1, "rerun": 1}
    assert len(starts(sim)) == 2
    section = result.stdout.str().split("DAI model runs", 1)[1]
    summary = section.split("short test summary info", 1)[0]
    runs = sim.executions()
    assert sorted(ex["status"] for ex in runs) == ["Failed", "Passed"]
    for ex in runs:
        (line,) = [line for line in summary.splitlines() if f"/runs/{ex['run_id']}" in line]
        assert ex["status"] in line
        assert "test_flaky.py::test_flaky" in line

    suites = read_step_suites(pytester.path / "flaky-steps.xml", schema)
    assert [suite.properties["dai_status"] for suite in suites] == ["Failed", "Passed"]
    assert {suite.properties["dai_execution_id"] for suite in suites} == {
        ex["execution_id"] for ex in runs
    }

    again = session(pytester, "again", "--dai-rerun-failed")
    again.assert_outcomes(passed=1)
    assert "rerun_id" not in starts(sim)[2]


def test_rerun_failed_against_another_server_runs_every_test_in_full(
    pytester: pytest.Pytester, sim: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed run can only be re-run where it ran: on another server (a fresh
    --dai-simulator has a new address each session) --dai-rerun-failed selects nothing."""
    pytester.makepyfile(test_shop=MODULE)
    session(pytester, "first").assert_outcomes(passed=2, failed=1)

    with DAISimulator(SCENARIO, port=0) as other:
        monkeypatch.setenv("DAI_URL", other.url)
        second = session(pytester, "second", "--dai-rerun-failed")
        second.assert_outcomes(passed=2, failed=1)  # the Flaky model's first attempt fails
        assert len(starts(other)) == 3
        assert all("rerun_id" not in body for body in starts(other))


def test_a_failed_run_the_server_no_longer_knows_is_forgotten(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    pytester.makepyfile(test_shop=MODULE)
    session(pytester, "first").assert_outcomes(passed=2, failed=1)
    cache = pytester.path / ".pytest_cache" / "v" / "dai" / "failed_runs"
    record = json.loads(cache.read_text())
    (key,) = record
    record[key]["run_id"] = "999999"
    cache.write_text(json.dumps(record))

    second = session(pytester, "second", "--dai-rerun-failed")
    second.assert_outcomes(failed=1, deselected=2)
    second.stdout.fnmatch_lines(["*DAINotFoundError*999999*it is forgotten now*"])

    third = session(pytester, "third", "--dai-rerun-failed")
    third.assert_outcomes(passed=3)
    third.stdout.fnmatch_lines(
        ["dai: no failed runs on record for this server: running every test in full"]
    )  # every test in full (the Flaky model's 2nd attempt passes)
    assert len(starts(sim)) == 7
    assert all("rerun_id" not in body for body in starts(sim)[4:])
