"""The DAI client: model runs' calls as typed methods (contract section 2: E1 to E6, E12).

Configure a :class:`DAIClient` once (URL, credentials, retries, timeouts, CA bundle) and use it
from any thread. Every call has a timeout and retries through urllib3's ``Retry``
(:mod:`pytest_dai.client.transport`); every failure is a one-line :class:`DAIError` that says
which call failed and where (:mod:`pytest_dai.client.calls`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_dai.client.calls import (
    ABORT_RUN,
    LIST_AGENTS,
    LIST_MODELS,
    LIST_RUNS,
    ONE_RUN,
    RUN_LOG,
    RUN_STATUS,
    SCREENSHOT,
    START_RUN,
)
from pytest_dai.client.deadline import call_budget
from pytest_dai.client.records import (
    EXECUTION_ID_FIELDS,
    LIST_ENVELOPES,
    Agent,
    LogEntry,
    Model,
    RunRecord,
    id_in_answer,
    list_items,
)
from pytest_dai.client.run_lookup import (
    Page,
    Query,
    RunReads,
    abort_already_over,
    find_record,
    record_ids,
)
from pytest_dai.client.safety import (
    SCREENSHOT_BODY_LIMIT,
    escape_control_chars,
    path_id,
)
from pytest_dai.client.server_text import server_text
from pytest_dai.client.start_body import build_start_body
from pytest_dai.client.transport import DAITransport, check_token_url

if TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from typing_extensions import Unpack

    from pytest_dai.client.start_body import StartParams

__all__ = [
    "SCREENSHOT_LIMIT",
    "DAIClient",
    "LogPage",
    "StartedExecution",
    "check_token_url",
]

log = logging.getLogger("pytest_dai")

#: The most log entries read for one run (each page is also capped in bytes).
LOG_ENTRIES_LIMIT = 100_000

#: The largest screenshot read (contract rule 12): 20 MB.
SCREENSHOT_LIMIT = SCREENSHOT_BODY_LIMIT
#: The longest one attempt to fetch a screenshot may take, seconds (evidence is secondary).
SCREENSHOT_TIMEOUT = 10.0
#: The longest a screenshot fetch takes in all (token fetch, attempts and waits), seconds.
SCREENSHOT_TOTAL = 15.0


def _is_envelope(payload: dict[str, Any]) -> bool:
    """Whether an object is a list envelope (``{"items": [...]}``) rather than one record."""
    return any(isinstance(payload.get(key), list) for key in LIST_ENVELOPES)


@dataclass(frozen=True)
class StartedExecution:
    """What the start answered: the execution id (always a string) and the raw body."""

    id: str
    raw: dict[str, Any] = field(repr=False)

    @property
    def status(self) -> str | None:
        """The status word the start answered, made safe (None when it gave none)."""
        word = self.raw.get("status")
        return server_text(word) or None if isinstance(word, str) else None


@dataclass(frozen=True)
class LogPage:
    """One page of a run's log: entries and the server's total count (None if it gave none)."""

    items: list[LogEntry]
    total_count: int | None


class DAIClient(DAITransport):
    """An authenticated client of one DAI server (see :class:`DAITransport` for the
    arguments); thread-safe, reuses its connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._run_reads = RunReads()

    def __enter__(self) -> DAIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_execution(
        self, model_id: str | None, **options: Unpack[StartParams]
    ) -> StartedExecution:
        """Start a run (E1) of ``model_id`` with the options given (``agent_id``,
        ``test_case_id``, ``rerun_id``, ``script``...: see
        :class:`~pytest_dai.client.start_body.StartParams`; the body:
        :func:`~pytest_dai.client.start_body.build_start_body`)."""
        body = build_start_body(model_id, **options)
        endpoint = self.label(START_RUN)
        response = self.send(endpoint, "POST", START_RUN.path, json=body)
        if response.status_code == 404:
            named = ["model"] if model_id is not None else []
            for key, what in (
                ("agent_id", "agent"),
                ("test_case_id", "test case"),
                ("sut_id", "SUT"),
                ("rerun_id", "run to re-run"),
            ):
                named += [what] if options.get(key) is not None else []
            named += ["script"] if options.get("script") is not None and not named else []
            what = " or ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
            raise self.not_found(response, endpoint, f"unknown {what}")
        return self._started(response, endpoint)

    def _started(self, response: requests.Response, endpoint: str) -> StartedExecution:
        """The start's answer, with its execution id (a 405 or an answer without an id: an
        error)."""
        if response.status_code == 405:
            raise self.refused(response, endpoint)
        payload = self.read_json(response, endpoint)
        execution_id = id_in_answer(payload, EXECUTION_ID_FIELDS, endpoint, "execution id")
        return StartedExecution(id=execution_id, raw=payload)

    def find_run(self, execution_id: str, run_id: str | None = None) -> RunRecord | None:
        """The run record of ``execution_id``, or None while there is none yet.

        Once the run id is known (``run_id``), one request reads it: ``GET /ai/runs/{run_id}``
        (contract 2.7), unless the server answered that 404 or 405 once in this session; then
        the run list (E2), reading first the page that held the run last time. The list may
        ignore the filter and list other runs, in either order (tolerance rules 3, 10 and 13):
        the record is picked by its own ``execution_id``/``execution_status_id``, bounded
        (:func:`~pytest_dai.client.run_lookup.find_record`). A 404 or an empty list means no
        record yet.
        """
        if run_id is not None and self._run_reads.by_id:
            record = self._read_one_run(execution_id, run_id)
            if record is not None:
                return record
        raw, where = find_record(
            self._runs_page, execution_id, hint=self._run_reads.where(execution_id)
        )
        self._run_reads.found(execution_id, where)
        return None if raw is None else RunRecord.parse(raw, self.label(RUN_STATUS))

    def _read_one_run(self, execution_id: str, run_id: str) -> RunRecord | None:
        """The record ``GET /ai/runs/{run_id}`` answers; None when the server has no such
        call (404/405: the run list is used from now on, once said in the log) or answers
        another run's record."""
        endpoint = self.label(ONE_RUN, run_id=run_id)
        safe_id = path_id(run_id, endpoint=endpoint, field="run id")
        response = self.send(endpoint, "GET", ONE_RUN.path.format(run_id=safe_id))
        if response.status_code in (404, 405):
            if self._run_reads.by_id_answered(False):
                log.info(
                    "pytest-dai: %s answered %d: run records are read from the run list "
                    "for the rest of the session",
                    endpoint,
                    response.status_code,
                )
            return None
        payload = self.read_json(response, endpoint)
        raw = payload if isinstance(payload, dict) and not _is_envelope(payload) else None
        if raw is None:
            raw = next(iter(list_items(payload, endpoint)), None)
        ids = record_ids(raw) if raw is not None else set()
        if raw is None or (ids and execution_id not in ids):
            self._run_reads.by_id_answered(False)
            return None
        self._run_reads.by_id_answered(True)
        return RunRecord.parse(raw, endpoint)

    def _runs_page(self, params: Query, endpoint: str | None = None) -> Page:
        """One page of E2: its records (None on 404) and the ``total_count`` if it has one."""
        endpoint = endpoint or self.label(RUN_STATUS)
        response = self.send(endpoint, "GET", RUN_STATUS.path, params=params or None)
        if response.status_code == 404:
            return None, None
        if response.status_code == 405:
            raise self.refused(response, endpoint)
        payload = self.read_json(response, endpoint)
        total = payload.get("total_count") if isinstance(payload, dict) else None
        valid = isinstance(total, int) and not isinstance(total, bool) and total >= 0
        return list_items(payload, endpoint), total if valid else None

    def list_runs(self, *, limit: int | None = None, offset: int | None = None) -> list[RunRecord]:
        """The run records the server lists (E2 without a filter)."""
        return self.runs_page(limit=limit, offset=offset)[0]

    def runs_page(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> tuple[list[RunRecord], int | None]:
        """One page of E2 without a filter, in the server's order, and its ``total_count``
        (None where the server gives none)."""
        endpoint = self.label(LIST_RUNS)
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        raws, total = self._runs_page(params, endpoint)
        return [RunRecord.parse(raw, endpoint) for raw in raws or ()], total

    def abort_execution(self, execution_id: str, *, timeout: float | None = None) -> bool:
        """Ask the server to stop a run (E3). True if it will; False if it was already over
        (404, or a 400/422 that says the execution is finished or unknown: tolerance rule 9).

        Quick by design and bounded in total (:meth:`~DAITransport.send_abort`): it runs while
        Ctrl-C waits.
        """
        endpoint = self.label(ABORT_RUN, id=execution_id)
        safe_id = path_id(execution_id, endpoint=endpoint, field="execution id")
        path = ABORT_RUN.path.format(id=safe_id)
        # A 400/422 that says "finished" or "unknown": already over (rule 9).
        response = self.send_abort(endpoint, path, timeout=timeout, already_over=abort_already_over)
        if response is None or response.status_code == 404:
            return False
        if response.status_code == 405:
            raise self.refused(response, endpoint)
        return True

    def list_agents(self) -> list[Agent]:
        """The agents (E4), with GET only: ``POST /ai/agents`` CREATES an agent on a real
        server (seen), so a 405 is a clear error and never a reason to try POST (tolerance
        rule 5)."""
        endpoint = self.label(LIST_AGENTS)
        response = self.send(endpoint, "GET", LIST_AGENTS.path)
        if response.status_code == 405:
            raise self.refused(
                response,
                endpoint,
                ": this server does not list agents with GET (pytest-dai never sends "
                "POST /ai/agents: on DAI that creates an agent)",
            )
        if response.status_code == 404:
            raise self.refused(response, endpoint)
        payload = self.read_json(response, endpoint)
        return [Agent.parse(raw, endpoint) for raw in list_items(payload, endpoint)]

    def list_models(self) -> list[Model]:
        """The models (E5)."""
        endpoint = self.label(LIST_MODELS)
        response = self.send(endpoint, "GET", LIST_MODELS.path)
        if response.status_code in (404, 405):
            raise self.refused(response, endpoint)
        payload = self.read_json(response, endpoint)
        return [Model.parse(raw, endpoint) for raw in list_items(payload, endpoint)]

    def run_logs(
        self, run_id: str, *, limit: int = 500, offset: int = 0, quick: bool = False
    ) -> LogPage:
        """One page of a run's log (E6). ``quick``: with the abort's short timeout and few
        attempts (for an interrupted session, where nobody wants to wait)."""
        endpoint = self.label(RUN_LOG, run_id=run_id)
        safe_id = path_id(run_id, endpoint=endpoint, field="run id")
        response = self.send(
            endpoint,
            "GET",
            RUN_LOG.path.format(run_id=safe_id),
            params={"limit": limit, "offset": offset},
            quick=quick,
        )
        if response.status_code == 404:
            raise self.not_found(response, endpoint, "unknown run")
        if response.status_code == 405:
            raise self.refused(response, endpoint)
        payload = self.read_json(response, endpoint)
        total = payload.get("total_count") if isinstance(payload, dict) else None
        items = [LogEntry.parse(raw) for raw in list_items(payload, endpoint)]
        return LogPage(items, total if isinstance(total, int) else None)

    def screenshot(self, image_id: str, *, timeout: float | None = None) -> bytes:
        """A screenshot's bytes (E12; DAI sends PNG), at most :data:`SCREENSHOT_LIMIT` (a
        larger one is not read: a :class:`DAIProtocolError`).

        Quick by design, since evidence must not hold a failed test up: the abort's few
        attempts and short backoff, ``timeout`` an attempt (default the smaller of the request
        timeout and :data:`SCREENSHOT_TIMEOUT`) and :data:`SCREENSHOT_TOTAL` in all. The id
        (from a run log) is validated and percent-encoded. A 404 is :class:`DAINotFoundError`.
        """
        endpoint = self.label(SCREENSHOT, image_id=image_id)
        safe_id = path_id(image_id, endpoint=endpoint, field="image_id")
        with call_budget(SCREENSHOT_TOTAL):
            # On the public API version in use (v1 on DAI 7.4: settled by this call if not yet).
            response, endpoint = self.send_public(
                SCREENSHOT,
                {"image_id": image_id},
                {"image_id": safe_id},
                timeout=min(self.timeout, SCREENSHOT_TIMEOUT) if timeout is None else timeout,
                quick=True,
                body_limit=SCREENSHOT_LIMIT,
            )
        if response.status_code == 404:
            raise self.not_found(response, endpoint, "unknown screenshot")
        if response.status_code == 405:
            raise self.refused(response, endpoint)
        return response.content

    def iter_run_logs(
        self, run_id: str, *, page_size: int = 500, quick: bool = False
    ) -> Iterable[LogEntry]:
        """Every entry of a run's log, page by page.

        A server that ignores ``limit`` (a page longer than asked for) or ``offset`` (the same
        page again) ends the paging rather than looping forever.
        """
        offset = 0
        previous: list[LogEntry] | None = None
        while True:
            page = self.run_logs(run_id, limit=page_size, offset=offset, quick=quick)
            if page.items and page.items == previous:
                return
            if offset + len(page.items) > LOG_ENTRIES_LIMIT:
                yield from page.items[: LOG_ENTRIES_LIMIT - offset]
                log.warning(
                    "pytest-dai: %s: the log of run %s has more than %d entries; the rest is "
                    "not read",
                    self.label(RUN_LOG, run_id=run_id),
                    escape_control_chars(str(run_id))[:80],
                    LOG_ENTRIES_LIMIT,
                )
                return
            yield from page.items
            offset += len(page.items)
            if not page.items or len(page.items) != page_size:
                return
            if page.total_count is not None and offset >= page.total_count:
                return
            previous = page.items
