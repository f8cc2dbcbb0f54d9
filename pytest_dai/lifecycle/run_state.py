"""What any run says of its state and timing, a model run's
(:class:`~pytest_dai.lifecycle.execution.Execution`) or a test configuration's
(:class:`~pytest_dai.lifecycle.test_config_run.TestConfigResult`): both read it from their
latest record, in the same words."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from pytest_dai.client.status import RunState, normalise_status

if TYPE_CHECKING:
    from datetime import datetime

    from pytest_dai.client.status import Status

__all__ = ["RunRecordLike", "RunStateView"]


class RunRecordLike(Protocol):
    """What a run's record says of its state and timing (a model run's
    :class:`~pytest_dai.client.records.RunRecord`, a test configuration's
    :class:`~pytest_dai.client.test_config_records.TestConfigResultRecord`)."""

    @property
    def status(self) -> Status:
        """The normalised status."""

    @property
    def started_at(self) -> datetime | None:
        """When the run started on the server."""

    @property
    def ended_at(self) -> datetime | None:
        """When the run ended on the server."""


R = TypeVar("R", bound=RunRecordLike)


class RunStateView(Generic[R]):
    """Status, state and timing of a run from its latest ``record`` (None until the server
    has one) and the monotonic times it keeps (``_created``: the start request;
    ``_running_since``: when it was seen running)."""

    record: R | None
    _created: float
    _running_since: float | None
    #: The status until the server has a record (a model run: what its start answered).
    _initial_status = "Queued"

    @property
    def status_info(self) -> Status:
        """The normalised status (state and the server's word); until the server has a
        record, the start's (Queued where it said none)."""
        if self.record is None:
            return normalise_status(self._initial_status)
        return self.record.status

    @property
    def started_at(self) -> datetime | None:
        """When the run started on the server (None while queued)."""
        return self.record.started_at if self.record is not None else None

    @property
    def ended_at(self) -> datetime | None:
        """When the run ended on the server."""
        return self.record.ended_at if self.record is not None else None

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
