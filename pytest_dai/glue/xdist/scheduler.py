"""``--dai-dist=agent``: a pytest-xdist scheduler that knows each test's DAI agent.

An agent runs one model run at a time; a second run started on it only queues. So:

- every test pinned to one agent runs on one worker, one after another: an agent belongs to the
  worker that has one of its tests, until that worker has none left, and no other worker gets
  its tests meanwhile;
- tests without an agent (and plain tests) fill the free workers;
- the longest expected work goes first (longest processing time first): an agent's tests count
  as one block of their summed durations, an unpinned test as its own. Durations come from the
  models' earlier runs in pytest's cache; an unknown one counts as the longest known;
- a worker that crashes has its remaining tests put back and handed out again, as xdist's own
  schedulers do.

A worker runs a test only once it knows the next one (or is told to shut down), so each worker
holds at most two tests: the one running and the next. A worker that can get no next test (every
test left belongs to an agent another worker holds) is shut down, so it runs its last test now.

The controller does not collect: the workers publish each test's agent (see ``agent_map``).
"""

from __future__ import annotations

import shutil
import tempfile
from typing import TYPE_CHECKING, Any

import pytest
from xdist.report import report_collection_diff
from xdist.workermanage import parse_tx_spec_config

from pytest_dai.glue.base.keys import WORKERINPUT_TEST_MAP
from pytest_dai.glue.xdist.agent_map import PlannedTest, read_test_map

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from xdist.workermanage import WorkerController

__all__ = ["AgentDistPlugin", "AgentScheduling"]

#: Tests a worker holds: the one it runs and the next (xdist's worker needs the next to start).
HELD = 2


class AgentScheduling:
    """Hands out tests by agent (see the module's docstring); implements xdist's
    ``Scheduling`` protocol (the attributes and methods ``DSession`` uses).

    ``planned`` is called once, when every worker has collected: each marked test's agent and
    expected duration by test id.
    """

    def __init__(
        self,
        config: pytest.Config,
        log: Any = None,
        planned: Callable[[], Mapping[str, PlannedTest] | None] = dict,
    ) -> None:
        self.config = config
        self.numnodes = len(parse_tx_spec_config(config))
        self.log: Any = log.daisched if log is not None else (lambda *args: None)
        self.node2collection: dict[WorkerController, list[str]] = {}
        self.node2pending: dict[WorkerController, list[int]] = {}
        self.pending: list[int] = []
        self.collection: list[str] | None = None
        self._planned = planned
        self.agent_of: list[str | None] = []
        self.weight: list[float] = []
        self.map_found = False

    @property
    def nodes(self) -> list[WorkerController]:
        """The workers taking part."""
        return list(self.node2pending)

    @property
    def collection_is_completed(self) -> bool:
        """Whether every initial worker has sent its collection."""
        return len(self.node2collection) >= self.numnodes

    @property
    def tests_finished(self) -> bool:
        """Whether all tests ran (a worker holding one test is about to run it)."""
        if not self.collection_is_completed or self.pending:
            return False
        return all(len(held) < HELD for held in self.node2pending.values())

    @property
    def has_pending(self) -> bool:
        """Whether any test is left to run or running."""
        return bool(self.pending) or any(self.node2pending.values())

    def add_node(self, node: WorkerController) -> None:
        """A worker is up."""
        assert node not in self.node2pending
        self.node2pending[node] = []

    def add_node_collection(self, node: WorkerController, collection: Sequence[str]) -> None:
        """A worker's collection (a worker replacing a crashed one must match the first)."""
        assert node in self.node2pending
        known = self.collection
        if self.collection_is_completed and known is not None and list(collection) != known:
            other = next(iter(self.node2collection))
            self.log(report_collection_diff(known, collection, other.gateway.id, node.gateway.id))
            return
        self.node2collection[node] = list(collection)

    def remove_pending_tests_from_node(
        self, node: WorkerController, indices: Sequence[int]
    ) -> None:
        """Only for schedulers that steal tests back; this one never does."""
        raise NotImplementedError

    def schedule(self) -> None:
        """Start handing out tests once every worker has collected (later: fill new workers)."""
        assert self.collection_is_completed
        if self.collection is not None:
            self._fill_all()
            return
        if not self._same_collections():
            self.log("**Different tests collected, aborting run**")
            return
        collection = list(next(iter(self.node2collection.values())))
        self.collection = collection
        self._plan(collection, self._planned())
        self.pending[:] = self._ordered(range(len(collection)))
        if collection:
            self._fill_all()

    def _same_collections(self) -> bool:
        """Whether all workers collected the same tests (differences go to the report)."""
        (first, col), *others = self.node2collection.items()
        same = True
        for node, collection in others:
            msg = report_collection_diff(col, collection, first.gateway.id, node.gateway.id)
            if msg:
                same = False
                self.log(msg)
                report = pytest.CollectReport(
                    nodeid=node.gateway.id, outcome="failed", longrepr=msg, result=[]
                )
                self.config.hook.pytest_collectreport(report=report)
        return same

    def mark_test_complete(
        self, node: WorkerController, item_index: int, duration: float = 0
    ) -> None:
        """A worker finished a test: give it (and any worker it freed an agent for) more."""
        self.node2pending[node].remove(item_index)
        self._fill_all()

    def mark_test_pending(self, item: str) -> None:
        """Put a test back (another plugin asked to run it again)."""
        assert self.collection is not None
        self.pending[:] = self._ordered([*self.pending, self.collection.index(item)])
        self._fill_all()

    def check_schedule(self, node: WorkerController, duration: float = 0) -> None:
        """Give ``node`` tests if it can take any."""
        self._fill(node)

    def remove_node(self, node: WorkerController) -> str | None:
        """A worker is gone: its tests not run go back to the pending ones; returns the test it
        was running when it crashed (None when it had none)."""
        pending = self.node2pending.pop(node)
        if not pending:
            return None
        assert self.collection is not None
        crashitem: str = self.collection[pending.pop(0)]
        self.pending[:] = self._ordered([*self.pending, *pending])
        self._fill_all()
        return crashitem

    # -- planning ----------------------------------------------------------------------------

    def _plan(self, collection: list[str], planned: Mapping[str, PlannedTest] | None) -> None:
        self.map_found = planned is not None
        planned = planned or {}
        known = [p.expected for p in planned.values() if p.expected is not None]
        unknown = max(known, default=1.0)  # unknown durations count as long
        self.agent_of = []
        self.weight = []
        for nodeid in collection:
            entry = planned.get(nodeid)
            self.agent_of.append(entry.agent if entry is not None else None)
            if entry is None:
                self.weight.append(0.0)  # a plain test: no DAI run to wait for
            else:
                self.weight.append(unknown if entry.expected is None else entry.expected)

    def _ordered(self, indices: Sequence[int] | range) -> list[int]:
        """Longest first; collection order among equals."""
        return sorted(set(indices), key=lambda i: (-self.weight[i], i))

    def _held_agents(self, exclude: WorkerController) -> set[str]:
        return {
            agent
            for node, held in self.node2pending.items()
            if node is not exclude
            for agent in (self.agent_of[i] for i in held)
            if agent is not None
        }

    def _pick(self, node: WorkerController) -> int | None:
        """The next test for ``node``: more of the agent it holds, else the longest block
        (an agent nobody holds, or an unpinned test); None when nothing may go to it."""
        held = self.node2pending[node]
        current = self.agent_of[held[-1]] if held else None
        if current is not None:
            for index in self.pending:  # longest first
                if self.agent_of[index] == current:
                    return index
        taken = self._held_agents(exclude=node)
        best: int | None = None
        best_weight = -1.0
        blocks: dict[str, float] = {}
        first: dict[str, int] = {}
        for index in self.pending:
            agent = self.agent_of[index]
            if agent is None:
                if self.weight[index] > best_weight:
                    best, best_weight = index, self.weight[index]
            elif agent not in taken:
                blocks[agent] = blocks.get(agent, 0.0) + self.weight[index]
                first.setdefault(agent, index)
        for agent, weight in blocks.items():
            index = first[agent]
            if weight > best_weight or (weight == best_weight and index < (best or 0)):
                best, best_weight = index, weight
        return best

    # -- handing out -------------------------------------------------------------------------

    def _send(self, node: WorkerController, index: int) -> None:
        self.pending.remove(index)
        self.node2pending[node].append(index)
        node.send_runtest_some([index])

    def _fill(self, node: WorkerController, up_to: int = HELD) -> None:
        """Give ``node`` tests up to ``up_to`` held; shut it down when it can get no more."""
        if node.shutting_down or node not in self.node2pending:
            return
        while len(self.node2pending[node]) < up_to:
            index = self._pick(node)
            if index is None:
                # Nothing for it now or later (every test left belongs to an agent another
                # worker holds): shut it down, so that it runs the test it holds.
                node.shutdown()
                return
            self._send(node, index)

    def _fill_all(self) -> None:
        """Fill the emptiest workers first, one test each in turn, so the longest blocks
        spread over the workers instead of stacking on one."""
        if self.collection is None:
            return
        for up_to in range(1, HELD + 1):
            for node in sorted(self.node2pending, key=lambda n: len(self.node2pending[n])):
                if len(self.node2pending[node]) < up_to:
                    self._fill(node, up_to)
        self.log("num items waiting for node:", len(self.pending))


class AgentDistPlugin:
    """pytest-xdist hooks of ``--dai-dist=agent`` (controller only, registered when xdist is
    present): the scheduler, and the folder where the workers publish their test maps."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.folder = tempfile.mkdtemp(prefix="pytest-dai-dist-")
        self.scheduler: AgentScheduling | None = None

    def pytest_configure_node(self, node: Any) -> None:
        """Tell each worker where to publish its test map."""
        node.workerinput[WORKERINPUT_TEST_MAP] = self.folder

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> AgentScheduling:
        """The agent-aware scheduler instead of ``--dist``'s."""
        self.scheduler = AgentScheduling(config, log, planned=self._read)
        return self.scheduler

    def _read(self) -> Mapping[str, PlannedTest] | None:
        planned = read_test_map(self.folder)
        if planned is None:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(
                    "dai: --dai-dist=agent: the workers published no test map; "
                    "tests are handed out without their agents"
                )
        return planned

    def pytest_unconfigure(self) -> None:
        """Remove the folder."""
        shutil.rmtree(self.folder, ignore_errors=True)
