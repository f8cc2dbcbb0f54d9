"""Whether a queued run waits for an agent the server lists as offline.

DAI queues a run for an offline agent and starts it only once the agent comes back, which may
be never: the run waits, silently, up to its deadline. While a run is queued, its
:class:`AgentWatch` looks at the agent listing (E4): when the run is first seen queued, then
at most every :data:`CHECK_EVERY` polls while it stays queued (the listing is one request
beside the polls; a long queue costs a few). What it found is the run's ``agent_offline``
(``agent 'agent-7' is offline``): the live line, the timeout's failure and, with
``dai_offline_agent = fail``, the test's failure (:class:`DAIAgentOffline`) say it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pytest_dai.client.errors import DAIError
from pytest_dai.client.status import RunState
from pytest_dai.lifecycle.run_errors import DAIRunError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pytest_dai.client.records import Agent

__all__ = ["CHECK_EVERY", "AgentWatch", "DAIAgentOffline"]

log = logging.getLogger("pytest_dai")

#: While a run stays queued, the agent listing is asked again at most every this many polls.
CHECK_EVERY = 6


class DAIAgentOffline(DAIRunError):
    """The run was queued for an agent the server lists as offline, and the test was told
    not to wait for it (``dai_offline_agent = fail``); the run was aborted."""


class AgentWatch:
    """Tells whether the agent ``agent_id`` a queued run waits for is offline; call
    :meth:`after_poll` after every poll of the run."""

    def __init__(
        self,
        list_agents: Callable[[], Sequence[Agent]],
        agent_id: str,
        agent_name: str,
        *,
        every: int = CHECK_EVERY,
    ) -> None:
        self._list_agents = list_agents
        self.agent_id = agent_id
        self.agent_name = agent_name
        self.every = max(every, 1)
        #: ``agent 'x' is offline`` while the listing says so, else "".
        self.offline = ""
        #: Listings asked for so far.
        self.checks = 0
        self._queued_polls = 0

    def after_poll(self, state: RunState) -> str:
        """What a poll that saw the run in ``state`` tells: the agent offline note, or ""
        (the run is not queued, or the agent is online or not listed)."""
        if state is not RunState.QUEUED:
            self.offline = ""
            return ""
        due = self._queued_polls % self.every == 0
        self._queued_polls += 1
        if due:
            self._check()
        return self.offline

    def _check(self) -> None:
        """Ask the listing once; a listing that cannot be had changes nothing (the run's own
        polls go on, and say so if the server is gone)."""
        self.checks += 1
        try:
            agents = self._list_agents()
        except DAIError as exc:
            log.debug("pytest-dai: could not list the agents: %s", exc)
            return
        found = next((agent for agent in agents if agent.id == self.agent_id), None)
        if found is None:
            return
        self.agent_name = found.name
        self.offline = "" if found.online else f"agent {found.name!r} is {_word(found)}"


def _word(agent: Agent) -> str:
    """The listing's word for an agent that is not online (``offline`` when it gives none)."""
    word = " ".join((agent.status or "").split())[:40]
    return word.lower() if word else "offline"
