"""Starts whose answer was lost: find the run they may have created, and abort it.

A start (a model run's E1, a test configuration's E7) that timed out, lost its connection after
sending, got a 5xx, a body without an id, or was cut by Ctrl-C may still have started a run on
the server, with no id on our side to abort it by. Before the start is sent, the journal gets
an intent (what was started, on which agent, when: :class:`~pytest_dai.lifecycle.journal.
StartIntent`); if no id comes back, the server is searched for a run that start may have made:

- a model run: the run list (E2, newest first, a few pages: tolerance rule 10) for a run of
  that model on that agent that started at or after the intent (or is still queued, with no
  start time yet), and not one we know about; each one found is aborted (E3);
- a test configuration: its results (E8) that are not final and started at or after the intent
  (or have no start time yet), not ours; each one is aborted (the task-instance DELETE, or each
  running model execution).

The same happens at the next session's start for intents left by a killed session.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING

from pytest_dai.client.calls import START_RUN
from pytest_dai.client.deadline import call_budget
from pytest_dai.client.errors import DAIAuthError, DAIError, DAIHTTPError
from pytest_dai.client.run_lookup import list_order
from pytest_dai.lifecycle.journal_entries import TEST_CONFIG
from pytest_dai.lifecycle.test_config_support import abort_task_instance

if TYPE_CHECKING:
    from collections.abc import Collection

    from pytest_dai.client.calls import Call
    from pytest_dai.client.endpoints import DAIClient
    from pytest_dai.client.records import RunRecord
    from pytest_dai.client.test_config_records import TestConfigResultRecord
    from pytest_dai.client.test_configs import TestConfigAPI
    from pytest_dai.lifecycle.journal import StartIntent

__all__ = ["may_have_started", "recover_lost_start", "runs_of_intent"]

#: Clock skew allowed between this host and the server when comparing start times, seconds.
CLOCK_SKEW = 30.0
#: The most one search-and-abort takes (the listing, and the aborts), seconds.
RECOVERY_BUDGET = 10.0
#: Runs listed per page when searching, and the most pages read (tolerance rule 10).
PAGE_SIZE = 100
MAX_PAGES = 5


def may_have_started(exc: BaseException, start: Call = START_RUN) -> bool:
    """Whether a ``start`` call that failed with ``exc`` may have created a run anyway:
    everything but an answer saying it did not (a 4xx, refused credentials), or an error
    before it was sent (a bad setting, no token)."""
    if isinstance(exc, DAIAuthError):
        return False
    if isinstance(exc, DAIHTTPError):
        return exc.status is None or exc.status >= 500
    if isinstance(exc, DAIError):
        return start.named_in(exc.endpoint)
    return True  # Ctrl-C, SIGTERM or pytest-timeout while the start was on its way


def recover_lost_start(
    client: DAIClient, intent: StartIntent, known: Collection[str] = ()
) -> tuple[bool, str]:
    """Search for and abort the run(s) ``intent``'s start may have created; ``known``: ids of
    runs that are someone's (execution ids, task instance ids).

    Returns (searched, line): ``searched`` is False when the server could not be asked (the
    intent should be kept for a later session); ``line`` says what was found and done, in one
    line ("" when nothing was found). Bounded in time; never raises a :class:`DAIError`.
    """
    if intent.kind == TEST_CONFIG:
        from pytest_dai.client.test_configs import TestConfigAPI

        return _recover_test_config(TestConfigAPI(client), intent, known)
    try:
        with call_budget(RECOVERY_BUDGET):
            records = _recent_runs(client, since=intent.started - CLOCK_SKEW)
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


def _recent_runs(client: DAIClient, since: float) -> list[RunRecord]:
    """The newest runs, page by page (at most :data:`MAX_PAGES`): a busy server may have
    started many runs since the intent. A list that shows itself oldest first is read from
    its end (``total_count``, contract rule 13). Paging ends early on a short or empty page, a
    page seen before (a server that ignores ``offset``), or a page whose runs all started
    before ``since`` (epoch seconds: older pages cannot hold the run)."""
    first, total = client.runs_page(limit=PAGE_SIZE, offset=0)
    page_size = len(first) if first else PAGE_SIZE  # the server's own page size
    order = list_order([record.raw for record in first])
    oldest_first = order == "oldest first"
    # In a list in order, a page with a run older than ``since`` is the last one worth reading.
    enough = any if order is not None else all
    if oldest_first and total is not None and total > len(first):
        offsets = range(max(total - page_size, 0), -1, -page_size)
    else:
        offsets = range(0, page_size * MAX_PAGES, page_size)
    records: list[RunRecord] = []
    seen: set[tuple[str | None, str | None]] = set()
    for number, offset in enumerate(offsets):
        if number >= MAX_PAGES:
            break
        page = first if offset == 0 else client.runs_page(limit=page_size, offset=offset)[0]
        keys = {(record.execution_id, record.run_id) for record in page}
        if not page or keys <= seen:
            break
        seen |= keys
        records.extend(page)
        if len(page) < page_size and not oldest_first:
            break
        if enough(r.started_at is not None and r.started_at.timestamp() < since for r in page):
            break
    return records


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


def _recover_test_config(
    api: TestConfigAPI, intent: StartIntent, known: Collection[str]
) -> tuple[bool, str]:
    """:func:`recover_lost_start` for a test configuration: its results (E8) that the lost
    start may have made, each aborted."""
    earliest = datetime.fromtimestamp(intent.started, tz=timezone.utc) - timedelta(
        seconds=CLOCK_SKEW
    )
    try:
        with call_budget(RECOVERY_BUDGET):
            records = api.results(intent.config_id)
    except DAIError as exc:
        return False, (
            f"dai: a start of {intent.describe()} got no answer and its results could not be "
            f"listed to find the run: {exc}"
        )
    done: list[str] = []
    for record in records:
        if record.status.final or record.task_instance_id in known:
            continue
        if record.started_at is not None and record.started_at < earliest:
            continue
        done.append(f"result {record.id}: {_abort_result(api, record)}")
    if not done:
        return True, ""
    return True, (
        f"dai: a start of {intent.describe()} got no answer; the run it may have started was "
        f"looked for: {'; '.join(done)}"
    )


def _abort_result(api: TestConfigAPI, record: TestConfigResultRecord) -> str:
    """Abort the run of a test-config result that a lost start made; how it went, in words."""
    try:
        with call_budget(RECOVERY_BUDGET):
            if record.task_instance_id is not None:
                return abort_task_instance(
                    api,
                    record.task_instance_id,
                    test_results=partial(api.test_results, record.id, quick=True),
                )[1]
            running = [
                r
                for r in api.test_results(record.id, quick=True)
                if not r.status.final and r.execution_id
            ]
            for test_result in running:
                api.client.abort_execution(test_result.execution_id or "")
            return f"aborted {len(running)} running model execution(s) one by one"
    except DAIError as exc:
        return f"could not abort: {exc}"
