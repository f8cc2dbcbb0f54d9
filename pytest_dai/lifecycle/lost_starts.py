"""Starts whose answer was lost: find the run they may have created, and abort it.

A start (E1) that timed out, lost its connection after sending, got a 5xx, a body without an
id, or was cut by Ctrl-C may still have started a run on the server, with no execution id on
our side to abort it by. Before E1 is sent, the journal gets an intent (model, agent, time); if
no id comes back, the server's run list (E2) is searched for a run of that model on that agent
that started at or after the intent (or is still queued, with no start time yet), and not one
we know about; each one found is aborted (E3). The same happens at the next session's start
for intents left by a killed session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_dai.client.calls import START_RUN
from pytest_dai.client.deadline import call_budget
from pytest_dai.client.errors import DAIAuthError, DAIError, DAIHTTPError

if TYPE_CHECKING:
    from collections.abc import Collection

    from pytest_dai.client.endpoints import DAIClient
    from pytest_dai.client.records import RunRecord
    from pytest_dai.lifecycle.journal import StartIntent

__all__ = ["may_have_started", "recover_lost_start", "runs_of_intent"]

#: Clock skew allowed between this host and the server when comparing start times, seconds.
CLOCK_SKEW = 30.0
#: The most one search-and-abort takes (the listing, and the aborts), seconds.
RECOVERY_BUDGET = 10.0
#: Runs listed per page when searching.
PAGE_SIZE = 100


def may_have_started(exc: BaseException) -> bool:
    """Whether a start that failed with ``exc`` may have created a run anyway: everything but
    an answer saying it did not (a 4xx, refused credentials)."""
    if isinstance(exc, DAIAuthError):
        return False
    if isinstance(exc, DAIHTTPError):
        return exc.status is None or exc.status >= 500
    if isinstance(exc, DAIError):
        return START_RUN.named_in(exc.endpoint)
    return True


def runs_of_intent(
    records: list[RunRecord], intent: StartIntent, known: Collection[str] = ()
) -> list[RunRecord]:
    """The runs in ``records`` that the lost start of ``intent`` may have created: that model
    (by id or name), that agent (when one was asked for), not ended, started at or after the
    intent (or queued without a start time), and not among the ``known`` execution ids."""
    found = []
    for record in records:
        if record.execution_id is None or record.execution_id in known:
            continue
        if record.status.final or record.ended_at is not None:
            continue
        model_id = record.raw.get("model_id")
        if str(model_id) != intent.model_id and record.model_name != intent.model:
            continue
        if intent.agent and record.agent_name not in (intent.agent, intent.agent_id):
            continue
        started = record.started_at
        if started is not None and started.timestamp() < intent.started - CLOCK_SKEW:
            continue
        found.append(record)
    return found


def recover_lost_start(
    client: DAIClient, intent: StartIntent, known: Collection[str] = ()
) -> tuple[bool, str]:
    """Search for and abort the run(s) ``intent``'s start may have created.

    Returns (searched, line): ``searched`` is False when the server could not be asked (the
    intent should be kept for a later session); ``line`` says what was found and done, in one
    line ("" when nothing was found). Bounded in time; never raises a :class:`DAIError`.
    """
    try:
        with call_budget(RECOVERY_BUDGET):
            records = client.list_runs(limit=PAGE_SIZE)
    except DAIError as exc:
        return False, (
            f"dai: a start of {intent.describe()} got no answer and the runs could not be "
            f"listed to find it: {exc}"
        )
    aborted: list[str] = []
    failed: list[str] = []
    for record in runs_of_intent(records, intent, known):
        assert record.execution_id is not None
        try:
            client.abort_execution(record.execution_id)
        except DAIError as exc:
            failed.append(f"{record.execution_id} ({exc})")
            continue
        aborted.append(record.execution_id)
    if not aborted and not failed:
        return True, ""
    line = f"dai: a start of {intent.describe()} got no answer; the run it started"
    if aborted:
        line += f" (execution {', '.join(aborted)}) was found and aborted"
    if failed:
        line += (" and" if aborted else "") + f" could not be aborted: {'; '.join(failed)}"
    return True, line
