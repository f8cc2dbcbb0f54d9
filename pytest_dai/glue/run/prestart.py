"""Runs started ahead (``--dai-prestart``): one process drives a whole suite.

A DAI run executes on a DAI agent, not here: pytest only starts it and waits. With this on,
the runs of the selected marked tests are started before their tests' turns, so that every
lane (an agent; a test configuration, which runs once at a time; or, for a run on no agent,
the run alone) has its next run going or queued on DAI. A lane's runs start in the order of
the tests, one at a time: the next one only once the one before has ended (seen by its test's
wait, or by a look at it while another test waits). ``dai_prestart_limit`` bounds the runs
started and not yet waited for; ``prestart=False`` on a marker keeps its test's run to its
turn (it still holds its lane until then).

When a test's turn comes, its wait takes the run already started (:func:`claim`) and goes on
exactly as for a run started then; its deadline counts from the start request. Runs are started
through the DAI session, so each is journalled before its start request and aborted with the
session; runs started ahead that no test waited for (``-x``, Ctrl-C) are aborted at the
session's end and reported. Under pytest-xdist each worker starts ahead only the tests it was
given. Everything here runs on the main thread: between tests and after each poll of a wait.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_dai.client.errors import DAIError
from pytest_dai.client.status import RunState
from pytest_dai.glue.base.keys import CONFIG_MARKER, MODEL_MARKER
from pytest_dai.glue.markers.model import parse_marker
from pytest_dai.glue.markers.test_config import parse_test_config_marker
from pytest_dai.glue.process.failfast import check_server_once, is_server_wide
from pytest_dai.glue.report.history import expected_duration, history_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pytest_dai.glue.markers.model import ModelSpec
    from pytest_dai.glue.markers.test_config import TestConfigSpec
    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.lifecycle.polling import PollSchedule
    from pytest_dai.lifecycle.session import AnyRun

__all__ = ["Prestart", "ahead_text", "claim", "prestart_of", "started_ahead_for"]

log = logging.getLogger("pytest_dai")


#: The runs started ahead (``--dai-prestart``) of this process.
PRESTART_KEY: pytest.StashKey[Prestart] = pytest.StashKey()


@dataclass(eq=False)
class Planned:
    """One marked test of the plan, in test order."""

    item: pytest.Item
    spec: ModelSpec | TestConfigSpec | None
    #: The run started ahead (None: not started ahead).
    run: AnyRun | None = None
    #: What starting it ahead raised: raised again at the test's turn.
    error: BaseException | None = None
    #: ``time.monotonic()`` when its start request was sent.
    started: float = 0.0
    claimed: bool = False
    #: Its run has ended, or its test is over: its lane is free.
    done: bool = False
    #: When its run is next looked at (``time.monotonic()``), and by what schedule: the wait's
    #: own (:class:`PollSchedule`), so a look costs what a wait's poll would.
    next_look: float = 0.0
    schedule: PollSchedule | None = None
    lane: tuple[str, ...] | None = None

    @property
    def ahead(self) -> bool:
        """Started ahead and not waited for yet (what the limit counts)."""
        return self.run is not None and not self.claimed and not self.done


class Prestart:
    """The plan of one process (see the module): its marked tests in order, each test's run
    once started ahead, and the lanes."""

    def __init__(
        self,
        state: DAIState,
        limit: int,
        pending: Callable[[], list[pytest.Item]],
        start: Callable[[pytest.Item, DAIState, Any], AnyRun],
    ) -> None:
        self.state = state
        #: Starts a test's run now, as its turn would (either kind).
        self.start = start
        self.limit = limit
        #: The tests still to run in this process, in order (the current one first).
        self.pending = pending
        self.entries: dict[str, Planned] = {}
        self.stopped = False

    # -- the plan ------------------------------------------------------------------------------

    def add(self, items: list[pytest.Item]) -> None:
        """Add the marked tests among ``items`` (in their order) that are not planned yet."""
        for item in items:
            if item.nodeid in self.entries:
                continue
            marked = item.get_closest_marker(MODEL_MARKER) or item.get_closest_marker(CONFIG_MARKER)
            if marked is not None:
                self.entries[item.nodeid] = Planned(item, self._spec(item))

    def _spec(self, item: pytest.Item) -> ModelSpec | TestConfigSpec | None:
        """The test's marker as its run will be started, or None where it is not to be
        started ahead (``prestart=False``, or a marker its turn will report as wrong)."""
        settings = self.state.settings
        try:
            config_marker = item.get_closest_marker(CONFIG_MARKER)
            spec: ModelSpec | TestConfigSpec
            if config_marker is not None:
                spec = parse_test_config_marker(config_marker, settings, item.nodeid)
            else:
                model_marker = item.get_closest_marker(MODEL_MARKER)
                assert model_marker is not None
                spec = parse_marker(model_marker, settings, item.nodeid)
        except DAIError:
            return None
        return spec if spec.prestart and not _skipped(item) else None

    # -- lanes ---------------------------------------------------------------------------------

    def _lane(self, entry: Planned) -> tuple[str, ...]:
        """Where the test's run queues on DAI: its agent (by id), its test configuration, or,
        for a run on no agent (or one not to be started ahead), itself."""
        if entry.lane is not None:
            return entry.lane
        spec = entry.spec
        lane: tuple[str, ...] = ("test", entry.item.nodeid)
        if spec is None:
            lane = self._turn_only_lane(entry.item)
        elif entry.item.get_closest_marker(CONFIG_MARKER) is not None:
            config_spec: Any = spec
            lane = ("config", config_spec.config, str(config_spec.model), str(config_spec.suite))
        else:
            agent = getattr(spec, "agent", None)
            if agent is not None:
                lane = ("agent", self.state.session().resolve_agent(agent).id)
        entry.lane = lane
        return lane

    def _turn_only_lane(self, item: pytest.Item) -> tuple[str, ...]:
        """The lane of a test not started ahead: its agent as the marker names it (a name not
        resolved: its own turn says what is wrong with it)."""
        marker = item.get_closest_marker(MODEL_MARKER)
        agent = marker.kwargs.get("agent") if marker is not None else None
        if isinstance(agent, str):
            try:
                return ("agent", self.state.session().resolve_agent(agent).id)
            except DAIError:
                pass
        return ("test", item.nodeid)

    # -- starting ------------------------------------------------------------------------------

    def fill(self) -> None:
        """Start ahead the next run of every free lane among the tests still to run, within
        the limit."""
        if self.stopped or getattr(self.state, "server_fault", None) is not None:
            return
        try:
            check_server_once(self.state)
        except DAIError:
            # Nothing starts ahead; the first test's turn checks again and says why.
            self.stopped, self.state.server_checked = True, False
            return
        pending = self.pending()
        self.add(pending)
        self._look_at_runs_ahead(self._lanes_with_more(pending))
        busy: set[tuple[str, ...]] = set()
        ahead = sum(1 for entry in self.entries.values() if entry.ahead)
        for entry in self._open(pending):
            lane = self._lane(entry)
            if lane in busy:
                continue
            busy.add(lane)  # the lane's head: later tests on it wait for this one
            if entry.run is not None or entry.error is not None or entry.spec is None:
                continue
            if ahead >= self.limit:
                break
            self._start(entry)
            ahead += entry.run is not None

    def _open(self, pending: list[pytest.Item]) -> Iterator[Planned]:
        """The planned tests among ``pending`` whose lane is not free yet, in order (a lane
        that cannot be told, e.g. an unknown agent name, leaves its test to its turn)."""
        for item in pending:
            entry = self.entries.get(item.nodeid)
            if entry is None or entry.done:
                continue
            try:
                self._lane(entry)
            except DAIError as exc:
                entry.error, entry.done = exc, True
                self.stopped = self.stopped or is_server_wide(exc)
                continue
            yield entry

    def _lanes_with_more(self, pending: list[pytest.Item]) -> set[tuple[str, ...]]:
        """The lanes with more than one test still to run: only there does it matter when the
        run going ends."""
        seen: set[tuple[str, ...]] = set()
        more: set[tuple[str, ...]] = set()
        for entry in self._open(pending):
            lane = self._lane(entry)
            (more if lane in seen else seen).add(lane)
        return more

    def _start(self, entry: Planned) -> None:
        """Start ``entry``'s run now, journalled under its test."""
        state, item = self.state, entry.item
        was = state.current_nodeid
        state.current_nodeid = item.nodeid
        entry.started = time.monotonic()
        try:
            check_server_once(state)
            entry.run = self.start(item, state, entry.spec)
        except DAIError as exc:
            entry.error = exc
            # A server nobody can use: its test's turn says so, the others are not tried.
            self.stopped = is_server_wide(exc)
        finally:
            state.current_nodeid = was
        if entry.run is not None:
            from pytest_dai.lifecycle.polling import PollSchedule

            run = entry.run
            key = history_key(run.model, run.kind)
            run.expected_duration = expected_duration(item.config, key)
            entry.schedule = PollSchedule(
                max_interval=state.settings.poll_interval, expected_duration=run.expected_duration
            )
            entry.next_look = entry.started + entry.schedule.next_delay(
                0.0 if run.expected_duration is not None else None
            )

    def _look_at_runs_ahead(self, lanes: set[tuple[str, ...]]) -> None:
        """Look at each run started ahead in ``lanes`` (those with tests after it) that is due
        by its schedule: one that has ended frees its lane."""
        now = time.monotonic()
        for entry in self._watched(lanes):
            if now < entry.next_look:
                continue
            run = entry.run
            assert run is not None
            assert entry.schedule is not None
            try:
                run.refresh()
            except DAIError as exc:
                log.info("pytest-dai: a run started ahead could not be looked at: %s", exc)
            if run.finished:
                entry.done = True
            entry.next_look = time.monotonic() + run.poll_delay(entry.schedule)

    def _watched(self, lanes: set[tuple[str, ...]]) -> list[Planned]:
        """The runs started ahead whose end frees a lane with tests waiting."""
        return [entry for entry in self.entries.values() if entry.ahead and entry.lane in lanes]

    def idle(self, seconds: float) -> None:
        """Pass ``seconds`` (a wait between its polls), looking at runs started ahead and
        starting the next ones as they come due."""
        end = time.monotonic() + seconds
        while not self.stopped:
            lanes = self._lanes_with_more(self.pending())
            due = min((entry.next_look for entry in self._watched(lanes)), default=end)
            now = time.monotonic()
            if due >= end:
                break
            time.sleep(max(due - now, 0.0))
            self.fill()
        time.sleep(max(end - time.monotonic(), 0.0))

    # -- the test's turn -----------------------------------------------------------------------

    def claim(self, item: pytest.Item) -> AnyRun | None:
        """The run started ahead for ``item`` (its turn has come), None if none was; what
        starting it raised is raised now."""
        entry = self.entries.get(item.nodeid)
        if entry is None:
            return None
        if entry.error is not None and entry.run is None and entry.spec is not None:
            entry.claimed = True
            raise entry.error
        if entry.run is None:
            return None
        entry.claimed = True
        return entry.run

    def finished(self, nodeid: str) -> None:
        """The test is over: its lane is free."""
        entry = self.entries.get(nodeid)
        if entry is not None:
            entry.done = True

    def started_at(self, item: pytest.Item) -> float | None:
        """When the claimed run of ``item`` was started ahead (``time.monotonic()``)."""
        entry = self.entries.get(item.nodeid)
        return entry.started if entry is not None and entry.claimed and entry.run else None

    def counts(self) -> tuple[int, int]:
        """(going, queued) of the runs started ahead and not waited for, as last seen."""
        going = queued = 0
        for entry in self.entries.values():
            if entry.ahead and entry.run is not None and not entry.run.finished:
                if entry.run.started_at is None and entry.run.state is RunState.QUEUED:
                    queued += 1
                else:
                    going += 1
        return going, queued

    def unclaimed(self) -> Iterator[Planned]:
        """The runs started ahead that no test waited for."""
        return (e for e in self.entries.values() if e.run is not None and not e.claimed)


def _skipped(item: pytest.Item) -> bool:
    """Whether the test's own marks skip it (``skip``, a true ``skipif``, ``xfail(run=False)``):
    nothing is started for a test that will not run."""
    try:
        from _pytest.skipping import evaluate_skip_marks, evaluate_xfail_marks

        xfailed = evaluate_xfail_marks(item)
        return evaluate_skip_marks(item) is not None or bool(xfailed and not xfailed.run)
    except Exception:  # pytest's own helpers, or a skipif that fails: its turn reports it
        return False


def prestart_of(config: pytest.Config) -> Prestart | None:
    """This process's :class:`Prestart`, None when runs are not started ahead."""
    return config.stash.get(PRESTART_KEY, None)


def claim(item: pytest.Item) -> AnyRun | None:
    """The run started ahead for ``item``, if any (see :meth:`Prestart.claim`)."""
    prestart = prestart_of(item.config)
    return None if prestart is None else prestart.claim(item)


def started_ahead_for(item: pytest.Item) -> float:
    """Seconds since the start request of ``item``'s run started ahead (0: not started ahead):
    its deadline counts from there."""
    prestart = prestart_of(item.config)
    started = None if prestart is None else prestart.started_at(item)
    return 0.0 if started is None else time.monotonic() - started


def ahead_text(config: pytest.Config) -> str:
    """``, 3 going, 5 queued ahead`` for the live line ("" when there are none)."""
    prestart = prestart_of(config)
    if prestart is None:
        return ""
    going, queued = prestart.counts()
    if not going and not queued:
        return ""
    return f"; ahead: {going} going, {queued} queued"
