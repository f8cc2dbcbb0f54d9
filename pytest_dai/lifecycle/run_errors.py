"""The exceptions a DAI run that did not pass is reported with (see
:mod:`pytest_dai.lifecycle.outcome` for which status maps to which).

They stand on their own, knowing a run only by :class:`RunLike`, so that the modules that
raise them (a model run's :mod:`~pytest_dai.lifecycle.execution`, a test configuration's
:mod:`~pytest_dai.lifecycle.test_config_run`) and the mapping in
:mod:`~pytest_dai.lifecycle.outcome` never import each other in a circle.
"""

from __future__ import annotations

from typing import Protocol

from pytest_dai.client.errors import DAIError, redact

__all__ = [
    "DAIDryRun",
    "DAIRunCancelled",
    "DAIRunError",
    "DAIRunFailed",
    "DAIRunOutcome",
    "DAIRunTimeout",
    "RunLike",
]


class RunLike(Protocol):
    """What an outcome exception holds of a run: a model run's
    :class:`~pytest_dai.lifecycle.execution.Execution` or a test configuration's
    :class:`~pytest_dai.lifecycle.test_config_run.TestConfigResult`."""

    @property
    def kind(self) -> str:
        """``"model"`` or ``"test_config"``."""

    @property
    def url(self) -> str:
        """The run's address in the DAI UI."""

    @property
    def status(self) -> str:
        """The server's status word."""


class DAIDryRun(DAIError):
    """Raised by ``DAISession.start`` in a dry run (``--dai-dry-run``) after the checks,
    instead of starting anything; the plugin reports the test as skipped with this message."""


class DAIRunOutcome(DAIError):
    """A DAI run that did not pass. The first line says what happened; more lines follow with
    the failed steps, the last error lines of the run log and the run's address."""

    def __init__(
        self,
        summary: str,
        *,
        execution: RunLike | None = None,
        details: str = "",
        reason: str = "",
    ):
        super().__init__(summary)
        self.execution = execution
        self.details = redact(details.strip())
        #: The one line that says why (the failed step or test case and its message, the
        #: agent that is offline...), as the details show it; "" when nothing more is known.
        self.reason = redact(" ".join(reason.split()))

    def __str__(self) -> str:
        return f"{self.message}\n{self.details}" if self.details else self.message


class DAIRunFailed(DAIRunOutcome):
    """The DAI run ended as failed."""


class DAIRunError(DAIRunOutcome):
    """The DAI run ended in error (or with a status word pytest-dai does not know), or the
    server could not be asked about it."""


class DAIRunCancelled(DAIRunOutcome):
    """The DAI run was cancelled on the server (by a person, or by the server itself)."""


class DAIRunTimeout(DAIRunOutcome):
    """The run deadline (``timeout=`` or ``--dai-timeout``) passed; the run was aborted."""
