"""The simulator's run records: the run list (E2, ``GET /ai/runs``) and one run
(``GET /ai/runs/{run_id}``, contract 2.7), worded as the dialect says.

The dialect decides the list's order (newest or oldest first), whether the status is under
``status`` or ``teststatus``, whether a DAI cloud's fields (``runtype``, ``testcase``,
``groupid``) are there, and how many finished runs of other people come before this session's
(``past_runs``: a server with a history, listed like the real ones).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from pytest_dai.simulator.answers import Response, detail, envelope, execution_id, extra
from pytest_dai.simulator.answers import json_response as json_answer
from pytest_dai.simulator.runlog import format_time
from pytest_dai.simulator.validation import paging

if TYPE_CHECKING:
    from pytest_dai.simulator.dialects import Dialect
    from pytest_dai.simulator.runs import SimRun
    from pytest_dai.simulator.state import SimState

__all__ = ["ONE_RUN_RE", "RUNS_PATH", "one_run", "runs"]

RUNS_PATH = "/ai/runs"
ONE_RUN_RE = re.compile(r"^/ai/runs/([^/]+)$")

#: When the past runs of a ``past_runs`` dialect ran (a fixed day, an hour each).
_PAST_EPOCH = 1_780_000_000.0


def runs(state: SimState, query: dict[str, str], dialect: Dialect) -> Response:
    """``GET /ai/runs``: a page of run records, filtered by ``execution_id`` unless the dialect
    ignores the filter, in the dialect's order, past runs included."""
    errors, limit, offset = paging(query)
    if errors:
        return detail(422, errors)
    wanted = query.get("execution_id") or query.get("execution_status_id")
    with state.lock:
        now = time.time()
        state.engine.advance(now)
        listed = [run for run in state.engine.runs if now >= run.hidden_until]
        filtered = wanted is not None and not dialect.runs_ignore_filter
        if filtered:
            listed = [run for run in listed if wanted in (run.uuid, str(run.number))]
        first_id = state.engine.scenario.first_run_id
        past = [] if filtered else _past_records(dialect, first_id)
        records = past + [run_record(run, now, dialect) for run in listed]  # oldest first
        if dialect.runs_order == "newest_first":
            records.reverse()
        total = len(records)
        if limit is None:
            limit = dialect.runs_page_size
        page = records[offset:] if limit is None else records[offset : offset + limit]
    if not page and dialect.runs_404_when_empty:
        return detail(404, "No runs found")
    return json_answer(200, envelope(page, total, dialect))


def one_run(state: SimState, raw_id: str, dialect: Dialect) -> Response:
    """``GET /ai/runs/{run_id}``: one run record; 404 where the dialect has no such call or
    the run is unknown (or not listed yet)."""
    if not dialect.run_by_id:
        return detail(404, "Not Found")
    with state.lock:
        now = time.time()
        state.engine.advance(now)
        run = state.engine.find_run(int(raw_id)) if raw_id.isdigit() else None
        if run is None or now < run.hidden_until:
            return detail(404, f"Run {raw_id} not found")
        record = run_record(run, now, dialect)
    return json_answer(200, record)


def run_record(run: SimRun, now: float, dialect: Dialect) -> dict[str, Any]:
    """The record of ``run`` (contract 2.3, and 2.7 for a DAI cloud's fields)."""
    total, done, failed = run.counts(now)
    record: dict[str, Any] = {
        "id": run.run_id,
        dialect.execution_id_key: execution_id(run, dialect),
        "model_id": run.model.id,
        "modelname": run.model.name,
        "agentname": run.agent.spec.name if run.agent is not None else None,
        "initiator": "api",
        dialect.status_field: dialect.status_word(run.status),
        "starttime": format_time(run.started_at, dialect.time_format),
        "endtime": format_time(run.ended_at, dialect.time_format),
        "steps_total": total,
        "steps_done": done,
        "steps_failed": failed,
    }
    if run.test_case is not None:
        record["test_case_id"] = run.test_case.id
        record["testcasename"] = run.test_case.name
    if run.rerun_id is not None:
        record["rerun_id"] = run.rerun_id
    if dialect.cloud_fields:
        record["runtype"] = "directed" if run.test_case is not None else "exploratory"
        record["testcase"] = run.test_case.name if run.test_case is not None else None
        record["groupid"] = run.number
    return extra(record, dialect)


def _past_records(dialect: Dialect, first_run_id: int) -> list[dict[str, Any]]:
    """The dialect's ``past_runs`` finished runs, oldest first, with run ids just below this
    session's first one."""
    count = min(dialect.past_runs, max(first_run_id - 1, 0))
    records = []
    for n in range(count):
        run_id = first_run_id - count + n
        started = _PAST_EPOCH + 3600.0 * n
        record: dict[str, Any] = {
            "id": run_id,
            dialect.execution_id_key: f"past-{run_id}",
            "model_id": "past-model",
            "modelname": "Earlier model",
            "agentname": "earlier-agent",
            "initiator": "scheduler",
            dialect.status_field: dialect.status_word("Passed"),
            "starttime": format_time(started, dialect.time_format),
            "endtime": format_time(started + 600.0, dialect.time_format),
            "steps_total": 10,
            "steps_done": 10,
            "steps_failed": 0,
        }
        if dialect.cloud_fields:
            record.update(runtype="exploratory", testcase=None, groupid=run_id)
        records.append(extra(record, dialect))
    return records
