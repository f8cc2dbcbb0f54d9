"""What any run says of its state and timing, a model run's
(:class:`~pytest_dai.lifecycle.execution.Execution`) or a test configuration's
(:class:`~pytest_dai.lifecycle.test_config_run.TestConfigResult`): both read it from their
latest record, in the same words."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pytest_dai.client.status import RunState

if TYPE_CHECKING:
    from datetime import datetime

    from pytest_dai.client.status import Status

__all__ = ["RunStateView"]


class RunStateView:
    """Status, state and timing of a run from :attr:`status_info`, :attr:`started_at` and
    :attr:`ended_at` (which the run class gives) and the monotonic times it keeps
    (``_created``: the start request; ``_running_since``: when it was seen running)."""

    _created: float
    _running_since: float | None

    @property
    def status_info(self) -> Status:
        """The normalised status."""
        raise NotImplementedError

    @property
    def started_at(self) -> datetime | None:
        """When the run started on the server (None while queued)."""
        raise NotImplementedError

    @property
    def ended_at(self) -> datetime | None:
        """When the run ended on the server."""
        raise NotImplementedError

    @property
    def status(self) -> str:
        """The server's status word ("Queued" before the server has a record)."""
        return self.status_info.word or str(self.status_info.state)

    @property
    def state(self) -> RunState:
        """The normalised state."""
        return self.status_info.state

    @property
    def finished(self) -> bool:
        """True once the run has ended."""
        return self.status_info.final

    @property
    def passed(self) -> bool:
        """True when the run ended as passed."""
        return self.state is RunState.PASSED

    @property
    def elapsed(self) -> float:
        """Seconds since the start request, by this process's clock."""
        return time.monotonic() - self._created

    @property
    def duration(self) -> float | None:
        """Seconds from start to end by the server's clock; while going, the time so far."""
        start, end = self.started_at, self.ended_at
        if start is not None and end is not None:
            return max((end - start).total_seconds(), 0.0)
        if self._running_since is not None:
            return time.monotonic() - self._running_since
        return None
