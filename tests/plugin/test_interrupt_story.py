"""An interrupted session tells the truth: one line per aborted run, the summary still printed
with the run marked Aborted, the steps file and the JUnit XML say Aborted."""

from __future__ import annotations

import re
import signal
import xml.etree.ElementTree as ET

import pytest
from harness.simulators import the_execution

from pytest_dai.simulator import DAISimulator

from .conftest import signal_mid_run

#: Inner sessions in processes of their own, signals, soaks: see CONTRIBUTING.md.
pytestmark = pytest.mark.slow

PASS_THEN_SLOW = """
    import pytest

    @pytest.mark.dai_model("Pass", agent="agent-2")
    def test_pass():
        pass

    @pytest.mark.dai_model("Slow", agent="agent-1")
    def test_slow():
        pass
    """


def _shown_id(simulator: DAISimulator, output: str) -> str:
    """The run's id as the server shows it; its execution id if the session was interrupted
    before the server had a run record."""
    execution = the_execution(simulator, "Slow")
    return (
        str(execution["run_id"])
        if str(execution["run_id"]) in output
        else execution["execution_id"]
    )


def _summary(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "DAI model runs" in line)
    return [line for line in lines[start + 1 :] if not line.startswith("=")][:3]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_session_says_which_runs_it_aborted(
    pytester: pytest.Pytester, dai_env: DAISimulator, signum: int
) -> None:
    pytester.makepyfile(PASS_THEN_SLOW)
    interrupted = signal_mid_run(pytester, dai_env, signum, "--dai-junit-steps=steps.xml")
    out = interrupted.output

    assert interrupted.exit_code == pytest.ExitCode.INTERRUPTED, out
    run_id = _shown_id(dai_env, out)
    aborted = [line for line in out.splitlines() if line.startswith("dai: aborted run")]
    assert aborted == [f"dai: aborted run {run_id} (Slow on agent-1)"], out
    # No "ended ... Running" line: the run did not end, it was aborted.
    assert not re.search(r"DAI run ended: Slow.*Running", out), out
    summary = _summary(out)
    assert summary[0].split()[:3] == ["model", "agent", "status"], out
    assert summary[1].split()[:3] == ["Pass", "agent-2", "Passed"], out
    assert summary[2].split()[:3] == ["Slow", "agent-1", "Aborted"], out
    assert summary[2].endswith(
        "test_an_interrupted_session_says_which_runs_it_aborted.py::test_slow"
    )
    # pytest's usual short interrupt report, not a traceback of the plugin.
    assert "KeyboardInterrupt" in out
    assert "Traceback (most recent call last)" not in out

    steps = ET.parse(pytester.path / "steps.xml").getroot()
    statuses = {
        suite.get("name", "").split(" (")[0]: {
            p.get("name"): p.get("value") for p in suite.iter("property")
        }["dai_status"]
        for suite in steps.iter("testsuite")
    }
    assert statuses == {"Pass": "Passed", "Slow": "Aborted"}

    junit = ET.parse(pytester.path / "junit.xml").getroot()
    suite_props = [
        p.get("value", "") for p in junit.iter("property") if p.get("name") == "dai_aborted_run"
    ]
    assert len(suite_props) == 1, ET.tostring(junit)
    assert suite_props[0].startswith(f"{run_id} (Slow on agent-1): Aborted, "), suite_props


def test_an_interrupted_xdist_session_says_which_runs_it_aborted(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(PASS_THEN_SLOW)
    interrupted = signal_mid_run(
        pytester, dai_env, signal.SIGINT, "-n", "2", "--dai-junit-steps=steps.xml"
    )
    out = interrupted.output

    run_id = _shown_id(dai_env, out)
    aborted = [line for line in out.splitlines() if line.startswith("dai: aborted run")]
    assert aborted == [f"dai: aborted run {run_id} (Slow on agent-1)"], out
    assert any(line.split()[:3] == ["Slow", "agent-1", "Aborted"] for line in _summary(out)), out
