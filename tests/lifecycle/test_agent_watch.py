"""AgentWatch: while a run is queued, the agent listing is asked when the run is first seen
queued, then at most every CHECK_EVERY polls; what it says is the run's ``agent_offline``."""

from __future__ import annotations

import pytest

from pytest_dai.client.errors import DAIConnectionError
from pytest_dai.client.records import Agent
from pytest_dai.client.status import RunState
from pytest_dai.lifecycle.agent_watch import CHECK_EVERY, AgentWatch
from pytest_dai.lifecycle.execution import Execution
from pytest_dai.lifecycle.run_errors import DAIRunTimeout
from pytest_dai.lifecycle.session import DAISession
from pytest_dai.simulator import DAISimulator


class Listing:
    """A stand-in for the client's agent listing: what it returns, and how often it was asked."""

    def __init__(self, status: str | None = "offline") -> None:
        self.status = status
        self.calls = 0
        self.error: Exception | None = None

    def __call__(self) -> list[Agent]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return [
            Agent("a-1", "agent-1", "online", False),
            Agent("a-7", "agent-7", self.status, False),
        ]


def test_first_queued_poll_asks_then_every_n_polls() -> None:
    listing = Listing()
    watch = AgentWatch(listing, "a-7", "agent-7")
    notes = [watch.after_poll(RunState.QUEUED) for _ in range(3 * CHECK_EVERY)]
    assert notes[0] == "agent 'agent-7' is offline"
    assert set(notes) == {"agent 'agent-7' is offline"}
    assert listing.calls == 3


def test_the_note_goes_once_the_agent_is_back_or_the_run_starts() -> None:
    listing = Listing()
    watch = AgentWatch(listing, "a-7", "agent-7", every=2)
    assert watch.after_poll(RunState.QUEUED)
    listing.status = "Online"
    watch.after_poll(RunState.QUEUED)  # not due: the note stays until the next listing
    assert watch.after_poll(RunState.QUEUED) == ""
    listing.status = "Disconnected"
    watch.after_poll(RunState.QUEUED)
    watch.after_poll(RunState.QUEUED)
    assert watch.offline == "agent 'agent-7' is disconnected"
    calls = listing.calls
    assert watch.after_poll(RunState.RUNNING) == ""
    assert listing.calls == calls, "a running run needs no listing"


@pytest.mark.parametrize("status", ["online", None, "busy"])
def test_an_agent_not_said_to_be_offline_is_no_news(status: str | None) -> None:
    watch = AgentWatch(Listing(status), "a-7", "agent-7")
    assert watch.after_poll(RunState.QUEUED) == ""


def test_an_agent_not_listed_or_a_listing_that_fails_changes_nothing() -> None:
    listing = Listing()
    assert AgentWatch(listing, "a-99", "gone").after_poll(RunState.QUEUED) == ""
    listing.error = DAIConnectionError("GET /ai/agents: connection refused")
    watch = AgentWatch(listing, "a-7", "agent-7")
    assert watch.after_poll(RunState.QUEUED) == ""
    assert watch.checks == 1


def test_ctrl_c_during_the_listing_goes_on() -> None:
    listing = Listing()
    listing.error = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        AgentWatch(listing, "a-7", "agent-7").after_poll(RunState.QUEUED)


# -- against the real simulator ------------------------------------------------------------------


def agent_listings(sim: DAISimulator) -> int:
    return sum(1 for r in sim.request_log() if r.method == "GET" and r.path == "/ai/agents")


def test_a_run_queued_for_an_offline_agent_says_so_until_the_agent_is_back(
    sim: DAISimulator, session: DAISession
) -> None:
    sim.set_agent_online("a1", False)
    execution = session.start("Quick", agent="a1")
    notes: list[str] = []

    def on_poll(run: Execution) -> None:
        notes.append(run.agent_offline)
        if len(notes) == 3:
            sim.set_agent_online("a1", True)

    execution.wait(timeout=30, on_poll=on_poll)
    assert execution.passed
    assert notes[0] == "agent 'agent one' is offline"
    assert notes[-1] == ""
    assert execution.agent_offline == ""


def test_the_deadline_of_a_run_queued_for_an_offline_agent_says_why(
    sim: DAISimulator, session: DAISession
) -> None:
    sim.set_agent_online("a2", False)
    execution = session.start("Quick", agent="a2")
    with pytest.raises(DAIRunTimeout) as caught:
        execution.wait(timeout=0.6)
    error = caught.value
    assert "last status Queued (agent 'agent two' is offline)" in str(error).splitlines()[0]
    assert (
        error.reason
        == "agent 'agent two' is offline: the run waited in its queue until the deadline"
    )
    assert str(error).splitlines()[1] == error.reason
    assert len(sim.abort_requests()) == 1
    # the resolution's listing, then one when first seen queued and one every CHECK_EVERY polls
    assert agent_listings(sim) <= 2 + execution.polls // CHECK_EVERY + 1


def test_a_run_with_no_agent_never_lists_the_agents(sim: DAISimulator, session: DAISession) -> None:
    execution = session.start("Quick").wait(timeout=30)
    assert execution.passed
    assert execution.agent_watch is None
    assert agent_listings(sim) == 0
