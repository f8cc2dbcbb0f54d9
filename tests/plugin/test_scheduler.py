"""``--dai-dist=agent`` end to end: real xdist workers against the simulator.

Which worker ran a test comes from the test report (``report.worker_id``, set by xdist), written
down by a conftest hook on the controller.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from pytest_dai.simulator import DAISimulator

from .conftest import run_subprocess

#: Inner sessions in processes of their own, signals, soaks: see CONTRIBUTING.md.
pytestmark = pytest.mark.slow

pytest.importorskip("xdist")

WORKERS_CONFTEST = """
import json

def pytest_runtest_logreport(report):
    if report.when == "call" and hasattr(report, "worker_id"):
        with open("workers.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps([report.nodeid.split("::")[-1], report.worker_id]) + "\\n")
"""


def source_on(agents: dict[str, int], unpinned: int = 0, model: str = "Pass") -> str:
    lines = ["import pytest", ""]
    for agent, count in agents.items():
        for k in range(count):
            name = agent.replace("-", "")
            lines += [f"@pytest.mark.dai_model({model!r}, agent={agent!r})"]
            lines += [f"def test_{name}_{k}():", "    pass", ""]
    for k in range(unpinned):
        lines += [f"@pytest.mark.dai_model({model!r})", f"def test_free_{k}():", "    pass", ""]
    return "\n".join(lines)


def workers_of(pytester: pytest.Pytester) -> dict[str, str]:
    path = pytester.path / "workers.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    return {name: worker for name, worker in rows}


def test_pinned_tests_land_on_one_worker_per_agent(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makeconftest(WORKERS_CONFTEST)
    pytester.makepyfile(source_on({"agent-1": 3, "agent-2": 3, "agent-3": 2}))
    result = run_subprocess(pytester, "-n", "3", "--dai-dist=agent", "-v")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*scheduling tests via AgentScheduling*"])

    workers = workers_of(pytester)
    by_agent: dict[str, set[str]] = defaultdict(set)
    for name, worker in workers.items():
        by_agent[name.split("_")[1]].add(worker)
    assert {agent: len(w) for agent, w in by_agent.items()} == {
        "agent1": 1,
        "agent2": 1,
        "agent3": 1,
    }, workers
    # No run waited for another on its agent.
    for ex in dai_env.executions():
        assert ex["started_at"] - ex["queued_at"] < 0.05, ex


def test_unpinned_tests_spread_over_the_workers(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makeconftest(WORKERS_CONFTEST)
    pytester.makepyfile(source_on({}, unpinned=6))
    result = run_subprocess(pytester, "-n", "3", "--dai-dist=agent")
    result.assert_outcomes(passed=6)

    assert sorted(set(workers_of(pytester).values())) == ["gw0", "gw1", "gw2"]


def test_a_killed_workers_tests_are_rescheduled(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makeconftest(WORKERS_CONFTEST)
    pytester.makepyfile(
        """
        import os
        import signal

        import pytest

        @pytest.mark.dai_model("Pass", agent="agent-1")
        def test_a_kills_its_worker():
            os.kill(os.getpid(), signal.SIGKILL)

        @pytest.mark.dai_model("Pass", agent="agent-1")
        def test_b_after_it():
            pass

        @pytest.mark.dai_model("Pass", agent="agent-1")
        def test_c_last():
            pass

        @pytest.mark.dai_model("Pass", agent="agent-2")
        def test_other_agent():
            pass
        """
    )
    result = run_subprocess(pytester, "-n", "2", "--dai-dist=agent")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*replacing crashed worker*", "*FAILED*test_a_kills_its_worker*"])

    workers = workers_of(pytester)
    # test_b was already handed to the worker that died (it holds the next test): it ran on
    # another one, as did the rest of agent-1's tests.
    assert workers["test_b_after_it"] == workers["test_c_last"]
    assert len(dai_env.executions()) == 4


@pytest.mark.parametrize(
    ("args", "scheduler"),
    [
        (["-n", "2"], "LoadScheduling"),
        (["-n", "2", "--dist", "loadfile"], "LoadFileScheduling"),
        (["-n", "2", "-p", "no:dai"], "LoadScheduling"),
        (["-n", "2", "--dai-dist=no"], "LoadScheduling"),
    ],
)
def test_without_dai_dist_xdist_schedules_as_usual(
    pytester: pytest.Pytester, dai_env: DAISimulator, args: list[str], scheduler: str
) -> None:
    pytester.makepyfile("def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    result = pytester.runpytest_subprocess("-v", *args, timeout=120)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*scheduling tests via {scheduler}*"])


def test_a_bad_dai_dist_is_one_line(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    pytester.makepyfile("def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess("--dai-dist=agents", timeout=60)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--dai-dist from the command line: expected agent or no, got 'agents'*"]
    )
