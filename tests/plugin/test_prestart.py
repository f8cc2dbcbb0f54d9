"""Runs started ahead (``--dai-prestart``): off by default; once on, the runs of the selected
tests start before their turns, one at a time per agent and in test order, within the limit,
never for a test that will not run; every guarantee of a run started at its turn holds
(aborts on ``-x``, Ctrl-C and SIGTERM, reaping after SIGKILL, xdist, test configurations)."""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from harness import inner
from harness.env import point_env_at
from harness.scenarios import changed
from harness.simulators import wait_idle

from pytest_dai.simulator import DAISimulator

from .conftest import FAST, SCENARIO, junit, simulator_of

#: Pass takes 0.5 s: long enough to see which runs overlap.
PACED = changed(
    SCENARIO,
    time_scale=100,
    test_configs=[
        {"id": "tc-pass", "name": "Passing", "agent": "agent-3", "runs": [{"model": "Pass"}]},
    ],
)

TESTS = """
    import pytest

    @pytest.mark.dai_model("Pass", agent="agent-1")
    def test_a():
        pass

    @pytest.mark.dai_model("Pass", agent="agent-2")
    def test_b():
        pass

    @pytest.mark.dai_model("Pass", agent="agent-1")
    def test_c():
        pass

    @pytest.mark.dai_model("Pass", agent="agent-3"{extra})
    def test_d():
        pass
"""


@pytest.fixture
def paced(monkeypatch: pytest.MonkeyPatch) -> Iterator[DAISimulator]:
    """A simulator where a Pass run takes 0.5 s, the environment pointed at it."""
    for sim in simulator_of(PACED):
        point_env_at(monkeypatch, sim)
        yield sim
        wait_idle(sim)


def slow_tests(count: int) -> str:
    """A module of ``count`` tests, each a Slow run (a minute) on an agent of its own."""
    tests = [
        f'@pytest.mark.dai_model("Slow", agent="agent-{k}")\ndef test_{k}():\n    pass\n'
        for k in range(1, count + 1)
    ]
    return "import pytest\n\n\n" + "\n\n".join(tests)


def runs_by_test(sim: DAISimulator) -> list[dict[str, Any]]:
    """The simulator's executions, oldest first."""
    return sorted(sim.executions(), key=lambda ex: ex["queued_at"])


def overlap(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether ``second`` was started (queued) before ``first`` ended."""
    return second["queued_at"] < first["ended_at"]


def test_off_by_default_runs_start_at_their_turn(
    pytester: pytest.Pytester, paced: DAISimulator
) -> None:
    pytester.makepyfile(TESTS.format(extra=""))
    pytester.runpytest(*FAST).assert_outcomes(passed=4)
    runs = runs_by_test(paced)
    assert [ex["agent_id"] for ex in runs] == ["agent-1", "agent-2", "agent-1", "agent-3"]
    for before, after in itertools.pairwise(runs):
        assert not overlap(before, after)


def test_runs_start_ahead_one_at_a_time_per_agent_in_test_order(
    pytester: pytest.Pytester, paced: DAISimulator
) -> None:
    pytester.makepyfile(TESTS.format(extra=""))
    result = pytester.runpytest(*FAST, "--dai-prestart")
    result.assert_outcomes(passed=4)
    assert "dai: runs are started ahead" in result.stdout.str()
    runs = runs_by_test(paced)
    by_agent: dict[str, list[dict[str, Any]]] = {}
    for ex in runs:
        by_agent.setdefault(ex["agent_id"], []).append(ex)
    a, c = by_agent["agent-1"]
    (b,) = by_agent["agent-2"]
    (d,) = by_agent["agent-3"]
    assert overlap(a, b), "agent-2's run did not start ahead"
    assert overlap(a, d), "agent-3's run did not start ahead"
    assert not overlap(a, c), "a second run on agent-1 started while its first was going"
    assert all(ex["status"] == "Passed" for ex in runs)
    props = junit(pytester)
    assert {case.properties["dai_execution_id"] for case in props.values()} == {
        ex["execution_id"] for ex in runs
    }


def test_prestart_false_keeps_a_test_to_its_turn(
    pytester: pytest.Pytester, paced: DAISimulator
) -> None:
    pytester.makepyfile(TESTS.format(extra=", prestart=False"))
    pytester.runpytest(*FAST, "--dai-prestart").assert_outcomes(passed=4)
    runs = runs_by_test(paced)
    d = next(ex for ex in runs if ex["agent_id"] == "agent-3")
    c = [ex for ex in runs if ex["agent_id"] == "agent-1"][-1]
    assert d["queued_at"] >= c["ended_at"], "the prestart=False run started before its turn"


def test_the_ini_setting_and_the_limit(pytester: pytest.Pytester, paced: DAISimulator) -> None:
    pytester.makeini("[pytest]\ndai_prestart = true\ndai_prestart_limit = 1\n")
    pytester.makepyfile(TESTS.format(extra=""))
    pytester.runpytest(*FAST).assert_outcomes(passed=4)
    runs = runs_by_test(paced)
    # At each start, the runs going: one waited for plus at most one started ahead.
    most = max(
        sum(1 for other in runs if other["queued_at"] <= ex["queued_at"] < other["ended_at"])
        for ex in runs
    )
    assert most <= 2
    assert overlap(runs[0], runs[1]), "nothing was started ahead"


def test_x_aborts_runs_started_ahead_and_lists_them(
    pytester: pytest.Pytester, paced: DAISimulator
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.dai_model("Fail", agent="agent-4")
        def test_fails():
            pass

        @pytest.mark.dai_model("Slow", agent="agent-1")
        def test_slow():
            pass

        @pytest.mark.dai_model("Slow", agent="agent-2")
        def test_slow_too():
            pass
        """
    )
    result = pytester.runpytest(*FAST, "--dai-prestart", "-x")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    slow = [ex for ex in paced.executions() if ex["model_name"] == "Slow"]
    assert len(slow) == 2
    assert paced.wait_for(
        lambda s: all(
            ex["status"] == "Cancelled" for ex in s.executions() if ex["model_name"] == "Slow"
        ),
        timeout=10,
    )
    for ex in slow:  # by its run id, or its execution id where its record was not seen
        assert any(f"aborted run {ex[key]} " in out for key in ("run_id", "execution_id")), out


def test_deselected_and_dry_run_tests_start_nothing(
    pytester: pytest.Pytester, paced: DAISimulator
) -> None:
    pytester.makepyfile(TESTS.format(extra=""))
    pytester.runpytest(*FAST, "--dai-prestart", "-k", "test_a").assert_outcomes(
        passed=1, deselected=3
    )
    assert len(paced.executions()) == 1
    dry = pytester.runpytest(*FAST, "--dai-prestart", "--dai-dry-run")
    dry.assert_outcomes(skipped=4)
    assert len(paced.executions()) == 1
    assert "--dai-prestart is off for a dry run" in dry.stdout.str()


def test_a_test_configuration_is_started_ahead(
    pytester: pytest.Pytester, paced: DAISimulator
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.dai_model("Pass", agent="agent-1")
        def test_model():
            pass

        @pytest.mark.dai_test_config("Passing")
        def test_config(dai_result):
            assert dai_result.passed
        """
    )
    pytester.runpytest(*FAST, "--dai-prestart").assert_outcomes(passed=2)
    model_run, config_run = runs_by_test(paced)
    assert overlap(model_run, config_run), "the configuration's run did not start ahead"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--dai-prestart-limit=0",), "--dai-prestart-limit"),
        (("--dai-prestart-limit=many",), "a whole number >= 1"),
    ],
)
def test_a_bad_limit_is_one_line(
    pytester: pytest.Pytester, paced: DAISimulator, args: tuple[str, ...], words: str
) -> None:
    pytester.makepyfile(TESTS.format(extra=""))
    result = pytester.runpytest(*FAST, "--dai-prestart", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert words in result.stderr.str()


def test_a_bad_marker_value_is_one_line(pytester: pytest.Pytester, paced: DAISimulator) -> None:
    pytester.makepyfile(TESTS.format(extra=", prestart='no'"))
    result = pytester.runpytest(*FAST, "--dai-prestart")
    result.assert_outcomes(errors=1)  # marker arguments are checked at collection
    assert "prestart: expected True or False, got 'no' (str)" in result.stdout.str()


@pytest.mark.slow
def test_ctrl_c_aborts_every_run_started_ahead(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sim in simulator_of(SCENARIO):
        point_env_at(monkeypatch, sim)
        pytester.makepyfile(test_slow=slow_tests(3))
        process = inner.popen(pytester, *FAST, "--dai-prestart", "test_slow.py")
        try:
            assert sim.wait_for(lambda s: s.running_count() == 3, timeout=30)
            inner.signal_when_running(process, sim, "Slow", signal.SIGINT)
            out, code = inner.finish(process)
        finally:
            inner.kill_group(process)
        assert code == pytest.ExitCode.INTERRUPTED, out
        assert sim.wait_for(lambda s: s.running_count() == 0, timeout=15)
        runs = sim.executions()
        assert len(runs) == 3
        assert all(ex["status"] == "Cancelled" for ex in runs)
        for ex in runs:  # by its run id, or its execution id where its record was not seen
            assert any(f"aborted run {ex[key]} " in out for key in ("run_id", "execution_id"))


@pytest.mark.slow
def test_a_killed_session_leaves_runs_the_next_one_reaps(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sim in simulator_of(SCENARIO):
        point_env_at(monkeypatch, sim)
        pytester.makepyfile(test_slow=slow_tests(2))
        pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
        process = inner.popen(pytester, *FAST, "--dai-prestart", "test_slow.py")
        try:
            assert sim.wait_for(lambda s: s.running_count() == 2, timeout=30)
            time.sleep(0.2)
            process.kill()
            process.wait(timeout=10)
        finally:
            inner.kill_group(process)
        assert sim.running_count() == 2
        reaped = pytester.runpytest_subprocess(*FAST, "test_plain.py")
        reaped.assert_outcomes(passed=1)
        assert "left by an earlier, killed session" in reaped.stdout.str()
        assert sim.wait_for(lambda s: s.running_count() == 0, timeout=15)
        assert all(ex["status"] == "Cancelled" for ex in sim.executions())


@pytest.mark.slow
def test_xdist_workers_start_ahead_only_their_own_tests(
    pytester: pytest.Pytester, paced: DAISimulator
) -> None:
    pytester.makepyfile(TESTS.format(extra=""))
    result = pytester.runpytest_subprocess(
        *FAST, "--dai-prestart", "-n", "2", "--dai-dist=agent", timeout=120
    )
    result.assert_outcomes(passed=4)
    runs = runs_by_test(paced)
    assert len(runs) == 4, "a run was started twice (by two workers)"
    a, c = [ex for ex in runs if ex["agent_id"] == "agent-1"]
    assert not overlap(a, c)


def test_a_dead_server_fails_fast_as_without_prestart(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAI_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DAI_CLIENT_SECRET", "x")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("k", range(6))
        @pytest.mark.dai_model("Pass", agent="agent-1")
        def test_run(k):
            pass
        """
    )
    began = time.monotonic()
    result = pytester.runpytest(*FAST, "--dai-prestart")
    result.assert_outcomes(failed=1, errors=5)
    assert "connection refused" in result.stdout.str()
    assert time.monotonic() - began < 30  # not 6 times the retries (each takes seconds)


def test_nothing_is_started_for_a_test_skipped_by_its_marks(
    pytester: pytest.Pytester, paced: DAISimulator
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.skipif(True, reason="not today")
        @pytest.mark.dai_model("Pass", agent="agent-1")
        def test_skipped():
            pass

        @pytest.mark.xfail(run=False, reason="never")
        @pytest.mark.dai_model("Pass", agent="agent-2")
        def test_not_run():
            pass

        @pytest.fixture
        def broken():
            raise RuntimeError("the fixture fails")

        @pytest.mark.dai_model("Slow", agent="agent-3")
        def test_setup_fails(broken):
            pass

        @pytest.mark.dai_model("Pass", agent="agent-4")
        def test_runs():
            pass
        """
    )
    result = pytester.runpytest(*FAST, "--dai-prestart")
    result.assert_outcomes(passed=1, skipped=1, xfailed=1, errors=1)
    runs = {ex["model_name"]: ex for ex in paced.executions()}
    assert sorted(ex["agent_id"] for ex in runs.values()) == ["agent-3", "agent-4"]
    # The run started ahead for the test whose setup failed is aborted when that test ends.
    assert paced.wait_for(lambda s: s.running_count() == 0, timeout=10)
    assert runs["Slow"]["execution_id"] in {ex["execution_id"] for ex in paced.executions()}
    assert (paced.execution(runs["Slow"]["execution_id"]) or {})["status"] == "Cancelled"
    slow = runs["Slow"]
    assert f"dai: aborted run {slow['execution_id']} (Slow on agent-3)" in result.stdout.str()


def test_a_deadline_counts_from_the_start_request_of_a_run_started_ahead(
    pytester: pytest.Pytester, paced: DAISimulator
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("k", range(4))
        @pytest.mark.dai_model("Pass", agent="agent-1")
        def test_first(k):
            pass

        @pytest.mark.dai_model("Slow", agent="agent-2", timeout=2.5)
        def test_slow():
            pass
        """
    )
    result = pytester.runpytest(*FAST, "--dai-prestart")
    result.assert_outcomes(passed=4, failed=1)
    assert "DAIRunTimeout" in result.stdout.str()
    assert paced.wait_for(lambda s: s.running_count() == 0, timeout=10)
    slow = next(ex for ex in paced.executions() if ex["model_name"] == "Slow")
    first = [ex for ex in paced.executions() if ex["model_name"] == "Pass"]
    assert slow["queued_at"] < min(ex["queued_at"] for ex in first[1:]), "not started ahead"
    # Its 2.5 s ran from its start request, not from its turn (after 4 runs of 0.5 s).
    assert 2.5 <= slow["ended_at"] - slow["queued_at"] < 3.7
