"""``dai_offline_agent``: what a test does while its run is queued for an agent the server lists
as offline (the run's :class:`~pytest_dai.lifecycle.agent_watch.AgentWatch` finds it out).

- ``wait`` (the default): the test waits, up to the run deadline, as DAI would; the live line
  says the agent is offline, and so does the failure if the deadline then passes.
- ``fail``: the test fails at once with that reason (:class:`DAIAgentOffline`); the wait aborts
  the queued run before the failure goes on, as on any other exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_dai.glue.settings.values import SETTINGS_KEY
from pytest_dai.lifecycle.agent_watch import DAIAgentOffline

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest

    from pytest_dai.lifecycle.session import AnyRun

__all__ = ["FAIL", "offline_failure", "offline_policy"]

#: The ``dai_offline_agent`` word that fails such a test at once.
FAIL = "fail"


def offline_failure(run: AnyRun) -> DAIAgentOffline:
    """The failure of a test whose run is queued for an offline agent."""
    what = f"model {run.model!r}" if run.kind == "model" else f"test configuration {run.model!r}"
    return DAIAgentOffline(
        f"DAI run of {what} (execution {run.id}) is queued for an offline agent "
        f"({run.agent_offline}); aborted at once, as dai_offline_agent = fail asks",
        execution=run,
        details=f"run: {run.url}",
        reason=f"{run.agent_offline}: the run was queued for it (dai_offline_agent = fail)",
    )


def offline_policy(item: pytest.Item) -> Callable[[AnyRun], None]:
    """What to do after each poll of the test's run: nothing, or (``fail``) raise
    :func:`offline_failure` once the run is known to wait for an offline agent."""
    settings = item.config.stash.get(SETTINGS_KEY, None)
    mode = settings.offline_agent if settings is not None else ""

    def check(run: AnyRun) -> None:
        if mode == FAIL and run.agent_offline and not run.finished:
            raise offline_failure(run)

    return check
