"""``--dai-reap-orphans-only`` prints one clean line per run and a total: no pytest ``Exit``
banner, no private class name, nothing twice; with pytest-xdist too, and exit 1 when a run could
not be aborted."""

from __future__ import annotations

import pytest
from harness.inner import FAST
from harness.simulators import is_idle_within, statuses

from pytest_dai.simulator import DAISimulator

from .support import sigkill_during_run

TOTAL = "dai: aborted 1 run left by an earlier, killed session"


def _dai_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("dai: ") and "=" not in line]


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["-n", "2"], ["-q"]], ids=["plain", "xdist", "quiet"])
def test_one_line_per_run_and_a_total(
    pytester: pytest.Pytester, sim: DAISimulator, extra: list[str]
) -> None:
    sigkill_during_run(pytester, sim)

    result = pytester.runpytest_subprocess(*FAST, *extra, "--dai-reap-orphans-only", "test_long.py")

    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 0, output
    (run,) = [line for line in _dai_lines(output) if line.startswith("dai: aborted model")]
    assert run.startswith("dai: aborted model 'Long' (execution "), output
    assert "test test_long.py::test_long, pid " in run
    assert _dai_lines(output) == [run, TOTAL], output
    assert "Exit" not in output, output
    assert "_pytest" not in output, output
    assert "no tests ran" in output
    assert is_idle_within(sim)
    assert statuses(sim) == ["Cancelled"]

    again = pytester.runpytest_subprocess(*FAST, *extra, "--dai-reap-orphans-only")
    assert again.ret == 0
    assert _dai_lines(again.stdout.str()) == ["dai: no runs left by killed sessions"]


@pytest.mark.slow
def test_a_run_that_could_not_be_aborted_says_so_and_exits_1(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    sigkill_during_run(pytester, sim)
    sim.set_faults(error_rate=1.0, error_statuses=[500], fault_paths=["/execution_service"])

    result = pytester.runpytest_subprocess(
        *FAST, "--dai-request-retries=1", "--dai-reap-orphans-only", "test_long.py"
    )

    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 1, output
    lines = _dai_lines(output)
    assert len(lines) == 2, output
    assert lines[0].startswith("dai: could not abort a run left by a killed session: model 'Long'")
    assert lines[1] == (
        "dai: aborted 0 runs left by an earlier, killed session; 1 could not be aborted or "
        "looked for (see above)"
    )
    assert "Exit" not in output, output
