"""The ``--dai-dist=agent`` scheduler's decisions, driven like xdist's ``DSession`` drives it,
with stand-in workers that run each test for its expected time on a simulated clock.

The end-to-end behaviour (real workers, the simulator) is in ``test_scheduler.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("xdist")

from pytest_dai.glue.xdist.agent_map import PlannedTest
from pytest_dai.glue.xdist.scheduler import AgentScheduling


@dataclass(eq=False)
class Worker:
    """A stand-in for xdist's ``WorkerController``."""

    name: str
    received: list[int] = field(default_factory=list)
    shutting_down: bool = False

    @property
    def gateway(self) -> Any:
        return SimpleNamespace(id=self.name)

    def send_runtest_some(self, indices: list[int]) -> None:
        self.received.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


class Config:
    """Just what the scheduler asks of ``pytest.Config``: ``-n N``."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.hook = SimpleNamespace(pytest_collectreport=lambda report: None)

    def getvalue(self, name: str) -> Any:
        assert name == "tx"
        return [f"{self.workers}*popen"]


def scheduler(
    workers: int, tests: dict[str, PlannedTest | None]
) -> tuple[AgentScheduling, list[Worker]]:
    planned = {nodeid: p for nodeid, p in tests.items() if p is not None}
    sched = AgentScheduling(Config(workers), planned=lambda: planned)  # type: ignore[arg-type]
    nodes = [Worker(f"gw{i}") for i in range(workers)]
    for node in nodes:
        sched.add_node(node)  # type: ignore[arg-type]
    for node in nodes:
        sched.add_node_collection(node, list(tests))  # type: ignore[arg-type]
    assert sched.collection_is_completed
    sched.schedule()
    return sched, nodes


def simulate(
    sched: AgentScheduling,
    nodes: list[Worker],
    durations: dict[str, float],
    crashed: tuple[str, ...] = (),
) -> tuple[float, dict[str, str], dict[str, list[tuple[float, float]]]]:
    """Run the session as xdist's workers would: a worker runs the first test it holds once
    it holds a second one or was told to shut down. Returns the makespan, each test's worker,
    and each worker's (start, end) intervals."""
    assert sched.collection is not None
    names = sched.collection
    clock = 0.0
    running: dict[str, tuple[int, float, float]] = {}  # worker -> (index, start, end)
    done: dict[str, str] = {}
    spans: dict[str, list[tuple[float, float]]] = {node.name: [] for node in nodes}
    position = {node.name: 0 for node in nodes}
    for _ in range(10_000):
        for node in nodes:
            if node.name in running:
                continue
            held = node.received[position[node.name] :]
            if held and (len(held) >= 2 or node.shutting_down):
                index = held[0]
                end = clock + durations[names[index]]
                running[node.name] = (index, clock, end)
        if not running:
            break
        name, (index, start, end) = min(running.items(), key=lambda kv: kv[1][2])
        clock = end
        del running[name]
        position[name] += 1
        done[names[index]] = name
        spans[name].append((start, end))
        node = next(n for n in nodes if n.name == name)
        sched.mark_test_complete(node, index, end - start)  # type: ignore[arg-type]
        if sched.tests_finished:
            for other in nodes:
                other.shutdown()
    assert set(done) == set(names) - set(crashed), f"not run: {set(names) - set(done)}"
    return clock, done, spans


def pinned(agent: str | None, expected: float | None = 10.0) -> PlannedTest:
    return PlannedTest(agent, expected)


def test_pinned_tests_run_on_one_worker_per_agent_back_to_back() -> None:
    tests = {f"t{k:02d}": pinned(f"agent-{k % 4}") for k in range(16)}
    sched, nodes = scheduler(4, tests)
    makespan, worker_of, _ = simulate(sched, nodes, dict.fromkeys(tests, 10.0))

    for agent in range(4):
        workers = {worker_of[t] for t in tests if tests[t].agent == f"agent-{agent}"}  # type: ignore[union-attr]
        assert len(workers) == 1, (agent, workers)
    assert len(set(worker_of.values())) == 4
    assert makespan == 40.0  # the ideal: 4 runs of 10 s per agent, one after another


def test_an_agents_runs_never_overlap_in_any_mix() -> None:
    import random

    rng = random.Random(16)
    for _ in range(200):
        workers = rng.randint(1, 6)
        tests: dict[str, PlannedTest | None] = {}
        durations = {}
        for k in range(rng.randint(1, 30)):
            agent = rng.choice([None, None, "a", "b", "c", "d", "e"])
            expected = rng.choice([None, 5.0, 10.0, 40.0])
            tests[f"t{k:02d}"] = None if rng.random() < 0.1 else pinned(agent, expected)
            durations[f"t{k:02d}"] = rng.choice([1.0, 5.0, 10.0, 40.0])
        sched, nodes = scheduler(workers, tests)
        _, worker_of, _spans = simulate(sched, nodes, durations)

        for agent in "abcde":
            mine = [t for t, p in tests.items() if p is not None and p.agent == agent]
            assert len({worker_of[t] for t in mine}) <= 1, (agent, tests, worker_of)
        assert not sched.has_pending


def test_mixed_suite_longest_first_reaches_the_optimal_makespan() -> None:
    # 4 runs of 40 s and 12 of 10 s, agent left to the server, 4 workers: optimal 70 s.
    tests = {f"short{k:02d}": pinned(None, 10.0) for k in range(12)}
    tests.update({f"long{k}": pinned(None, 40.0) for k in range(4)})
    durations = {t: p.expected for t, p in tests.items() if p and p.expected}
    sched, nodes = scheduler(4, tests)
    makespan, worker_of, _ = simulate(sched, nodes, durations)

    assert makespan == 70.0
    assert len({worker_of[f"long{k}"] for k in range(4)}) == 4


def test_unknown_durations_count_as_long() -> None:
    tests = {
        "short": pinned(None, 5.0),
        "unknown": pinned(None, None),
        "long": pinned(None, 30.0),
        "plain": None,
    }
    sched, nodes = scheduler(1, tests)
    assert sched.collection is not None
    first_two = {sched.collection[i] for i in nodes[0].received}
    assert first_two == {"long", "unknown"}  # an unknown one counts as the longest known


def test_a_longer_agent_block_goes_before_a_single_longer_run() -> None:
    tests = {"single": pinned(None, 25.0)}
    tests.update({f"b{k}": pinned("agent-b", 10.0) for k in range(3)})  # 30 s in all
    sched, nodes = scheduler(2, tests)
    assert sched.collection is not None
    assert [sched.collection[i] for i in nodes[0].received] == ["b0", "b1"]
    assert [sched.collection[i] for i in nodes[1].received] == ["single"]
    assert nodes[1].shutting_down  # nothing else may go to it: it runs its test now


def test_workers_beyond_the_agents_are_let_go() -> None:
    tests = {f"t{k}": pinned(f"agent-{k % 2}") for k in range(6)}
    _sched, nodes = scheduler(4, tests)
    assert [len(n.received) for n in nodes] == [2, 2, 0, 0]
    assert [n.shutting_down for n in nodes] == [False, False, True, True]


def test_a_crashed_workers_tests_are_handed_out_again() -> None:
    tests = {f"t{k}": pinned("agent-1") for k in range(4)}
    tests["free"] = pinned(None, 1.0)
    sched, nodes = scheduler(2, tests)
    assert sched.collection is not None
    crashed = next(n for n in nodes if len(n.received) == 2 and "t0" in names(sched, n))
    assert names(sched, crashed) == ["t0", "t1"]

    crashitem = sched.remove_node(crashed)  # type: ignore[arg-type]

    assert crashitem == "t0"
    replacement = Worker("gw9")
    sched.add_node(replacement)  # type: ignore[arg-type]
    sched.add_node_collection(replacement, list(tests))  # type: ignore[arg-type]
    sched.schedule()
    assert names(sched, replacement) == ["t1", "t2"]
    survivor = next(n for n in nodes if n is not crashed)
    _, worker_of, _ = simulate(sched, [survivor, replacement], dict.fromkeys(tests, 1.0), ("t0",))
    assert {worker_of[t] for t in ("t1", "t2", "t3")} == {"gw9"}


def names(sched: AgentScheduling, node: Worker) -> list[str]:
    assert sched.collection is not None
    return [sched.collection[i] for i in node.received]
