"""The DAI session: an authenticated client, name lookups, and every run started through it.

This is what the ``dai_session`` fixture gives. Runs started through it are tracked so that
:meth:`DAISession.abort_unfinished` can abort what is still going when the session ends.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pytest_dai.client import defaults
from pytest_dai.client.calls import (
    LIST_AGENTS,
    LIST_MODELS,
    LIST_TEST_CONFIGS,
    START_RUN,
    START_TEST_CONFIG,
)
from pytest_dai.lifecycle.agent_watch import AgentWatch
from pytest_dai.lifecycle.execution import Execution
from pytest_dai.lifecycle.journal_entries import TEST_CONFIG, StartIntent
from pytest_dai.lifecycle.lookup import Listing, pick, resolve_test_config
from pytest_dai.lifecycle.run_errors import DAIDryRun
from pytest_dai.lifecycle.start_guard import StartGuard

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from pytest_dai.client.endpoints import DAIClient
    from pytest_dai.client.records import Agent, Model, RunRecord
    from pytest_dai.client.start_body import Asset
    from pytest_dai.client.test_configs import TestConfig, TestConfigAPI
    from pytest_dai.lifecycle.journal import Journal
    from pytest_dai.lifecycle.test_config_run import TestConfigResult

    #: A run of either kind (``run.kind`` is "model" or "test_config").
    AnyRun = Execution | TestConfigResult

__all__ = ["DAISession"]

log = logging.getLogger("pytest_dai")


class DAISession:
    """An authenticated DAI client for one test session: lists, name lookups, and runs.

    ``start()`` returns an :class:`Execution`; every run started here is remembered, and
    :meth:`abort_unfinished` aborts those still going (the plugin calls it at session end).
    """

    def __init__(
        self,
        client: DAIClient,
        *,
        run_url: str = defaults.RUN_URL,
        poll_interval: float = defaults.POLL_INTERVAL,
        record_grace: float = 120.0,
        on_start: Callable[[AnyRun], None] | None = None,
        on_end: Callable[[AnyRun], None] | None = None,
        dry_run: bool = False,
        result_url: str = defaults.RESULT_URL,
        journal: Journal | None = None,
        current_test: Callable[[], str] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.dry_run = dry_run
        self.run_url = run_url
        self.poll_interval = poll_interval
        self.record_grace = record_grace
        self.on_start = on_start
        self.on_end = on_end
        #: Where start intents are written (see :mod:`pytest_dai.lifecycle.lost_starts`).
        self.journal = journal
        self._current_test = current_test
        #: Shows a one-line notice to the user (a lost start found and aborted during Ctrl-C).
        self.on_notice = on_notice
        self._lock = threading.Lock()
        self._models: Listing[Model] = Listing(lambda: self.client.list_models())
        self._agents: Listing[Agent] = Listing(lambda: self.client.list_agents())
        self._started: list[Execution] = []
        self.result_url = result_url
        self._configs: Listing[TestConfig] = Listing(
            lambda: self.test_config_api.list_test_configs()
        )
        self._config_api: TestConfigAPI | None = None
        self._started_configs: list[TestConfigResult] = []
        self._guard = StartGuard(client, journal, self._known_ids, self._notice)

    def __repr__(self) -> str:
        return f"DAISession(url={self.client.url!r}, runs_started={len(self._started)})"

    @property
    def url(self) -> str:
        """The DAI server's base URL."""
        return self.client.url

    def models(self, *, refresh: bool = False) -> list[Model]:
        """The server's models (E5), cached for the session unless ``refresh``."""
        return self._models.get(refresh=refresh)

    def agents(self, *, refresh: bool = False) -> list[Agent]:
        """The server's agents (E4), cached for the session unless ``refresh``."""
        return self._agents.get(refresh=refresh)

    def runs(self) -> list[RunRecord]:
        """The run records the server lists (E2, unfiltered)."""
        return self.client.list_runs()

    def resolve_model(self, ref: str) -> Model:
        """The model whose id or name is ``ref``; unknown: DAINotFoundError with close matches."""
        listed_by = LIST_MODELS.request(self.url)
        return self._models.find(lambda models: models[pick(ref, models, "model", listed_by)])

    def resolve_agent(self, ref: str) -> Agent:
        """The agent whose id or name is ``ref``; unknown: DAINotFoundError with close matches."""
        listed_by = LIST_AGENTS.request(self.url)
        return self._agents.find(lambda agents: agents[pick(ref, agents, "agent", listed_by)])

    def start(
        self,
        model: str,
        *,
        agent: str | None = None,
        test_case: int | str | None = None,
        sut: str | None = None,
        sut_criteria: Sequence[str] = (),
        rerun: int | str | None = None,
        step_pause_time: float | None = None,
        expected_duration: float | None = None,
        script: str | None = None,
        asset: Asset | None = None,
        rerun_only: bool = False,
    ) -> Execution:
        """Start a run of ``model`` (id or name) on ``agent`` (id or name; None: no agent,
        ``agent: null``, contract 2.1) and return its :class:`Execution` without waiting.

        ``script`` and ``asset`` go into the start body as DAI names them; ``rerun_only``
        (with ``rerun``) re-runs that test case run without naming the model in the body."""
        found_model = self.resolve_model(model)
        found_agent = self.resolve_agent(agent) if agent is not None else None
        if self.dry_run:
            where = f"on agent {found_agent.name!r}" if found_agent else "with no agent"
            raise DAIDryRun(f"dry run: would start model {found_model.name!r} {where}")
        intent = self._intent(
            model_id=found_model.id,
            model=found_model.name,
            agent_id=found_agent.id if found_agent else "",
            agent=found_agent.name if found_agent else "",
        )
        requested_at = time.monotonic()
        with self._guard.sending(intent, START_RUN):
            started = self.client.start_execution(
                None if rerun_only and rerun is not None else found_model.start_id,
                agent_id=found_agent.id if found_agent else None,
                is_hosted_agent=found_agent.hosted if found_agent else False,
                test_case_id=test_case,
                sut_id=sut,
                sut_criteria=sut_criteria,
                rerun_id=rerun,
                step_pause_time=step_pause_time,
                script=script,
                asset=asset,
            )
        execution = self._execution(
            started.id,
            model=found_model.name,
            agent=found_agent.name if found_agent else None,
            expected_duration=expected_duration,
            initial_status=started.status or "Queued",
            on_end=self.on_end,
            requested_at=requested_at,
            agent_watch=self._agent_watch(found_agent),
        )
        with self._lock:
            self._started.append(execution)
        self._announce(execution, intent)
        return execution

    def _agent_watch(self, agent: Agent | None) -> AgentWatch | None:
        """What tells whether the run's agent is offline (none for a run on no agent)."""
        return None if agent is None else AgentWatch(self.client.list_agents, agent.id, agent.name)

    def _intent(self, **start: str) -> StartIntent:
        """The intent of a start sent now, by the test running now."""
        nodeid = self._current_test() if self._current_test else ""
        return StartIntent.now(self.client.url, nodeid=nodeid, **start)

    def _announce(self, run: AnyRun, intent: StartIntent) -> None:
        """Tell ``on_start`` (which journals the run), then forget the start's intent."""
        try:
            if self.on_start is not None:
                self.on_start(run)
        finally:
            self._guard.done(intent)

    # -- test configurations (contract 2.6) -----------------------------------------------------

    @property
    def test_config_api(self) -> TestConfigAPI:
        """The test-configuration endpoints on this session's client."""
        from pytest_dai.client.test_configs import TestConfigAPI

        with self._lock:
            if self._config_api is None:
                self._config_api = TestConfigAPI(self.client)
            return self._config_api

    def test_configs(self, *, refresh: bool = False) -> list[TestConfig]:
        """The server's test configurations (E14), cached for the session unless ``refresh``."""
        return self._configs.get(refresh=refresh)

    def resolve_test_config(
        self,
        ref: str,
        *,
        model: str | None = None,
        suite: str | None = None,
        space: str | None = None,
    ) -> TestConfig:
        """The test configuration whose id or name is ``ref`` (told apart by ``space``,
        ``model`` or ``suite`` where names repeat); unknown: DAINotFoundError with close
        matches."""
        listed_by = LIST_TEST_CONFIGS.request(self.url)
        return self._configs.find(
            lambda configs: resolve_test_config(
                configs, ref, model=model, suite=suite, space=space, listed_by=listed_by
            )
        )

    def start_test_config(
        self,
        config: str,
        *,
        model: str | None = None,
        suite: str | None = None,
        parameters: Mapping[str, object] | None = None,
        filter_by: Mapping[str, Sequence[str]] | None = None,
        expected_duration: float | None = None,
        space: str | None = None,
        previous_task_instance_id: str | None = None,
    ) -> TestConfigResult:
        """Start a test configuration (id or name, in ``space`` if given) with global
        parameter overrides, step filters and the task instance whose failed steps to re-run
        if given; return its :class:`TestConfigResult` without waiting. A server without
        test-config results (DAI 7.4) is one line before anything starts."""
        from pytest_dai.lifecycle.test_config_run import TestConfigResult

        found = self.resolve_test_config(config, model=model, suite=suite, space=space)
        self.test_config_api.check_results_api(found.id)
        if self.dry_run:
            extra = f" (space {found.space!r})" if found.space else ""
            extra += " with parameter overrides" if parameters else ""
            extra += f" filtered by {dict(filter_by)}" if filter_by else ""
            raise DAIDryRun(f"dry run: would start test configuration {found.name!r}{extra}")
        intent = self._intent(model=found.name, kind=TEST_CONFIG, config_id=found.id)
        with self._guard.sending(intent, START_TEST_CONFIG):
            task_instance_id = self.test_config_api.start(
                found.id,
                parameters=parameters,
                filters=filter_by,
                previous_task_instance_id=previous_task_instance_id,
            )
        run = TestConfigResult(
            self.test_config_api,
            found,
            task_instance_id,
            started_wall=datetime.fromtimestamp(intent.started, tz=timezone.utc),
            result_url=self.result_url,
            poll_interval=self.poll_interval,
            record_grace=self.record_grace,
            expected_duration=expected_duration,
            on_end=self.on_end,
        )
        with self._lock:
            self._started_configs.append(run)
        self._announce(run, intent)
        return run

    @property
    def started_test_configs(self) -> list[TestConfigResult]:
        """Every test-config run started through this session."""
        with self._lock:
            return list(self._started_configs)

    def _notice(self, line: str) -> None:
        """Show ``line`` with :attr:`on_notice`; without one, as a warning in the log."""
        if self.on_notice is not None:
            self.on_notice(line)
        else:
            log.warning("pytest-dai: %s", line.removeprefix("dai: "))

    def _known_ids(self) -> set[str]:
        """Ids of runs known to be someone's: ours (execution ids, task instance ids), and
        those in the journal."""
        known = {execution.id for execution in self.started}
        known |= {run.task_instance_id for run in self.started_test_configs}
        if self.journal is not None:
            known |= {entry.execution_id for entry in self.journal.entries()}
        return known

    def _execution(self, execution_id: str, **details: Any) -> Execution:
        """An :class:`Execution` on this session's client, with its settings."""
        return Execution(
            self.client,
            execution_id,
            run_url=self.run_url,
            poll_interval=self.poll_interval,
            record_grace=self.record_grace,
            **details,
        )

    def execution(self, execution_id: str) -> Execution:
        """An :class:`Execution` for a run started elsewhere, refreshed once."""
        execution = self._execution(str(execution_id), model="?")
        execution.refresh()
        if execution.record is not None and execution.record.model_name:
            execution.model = execution.record.model_name
            execution.agent = execution.record.agent_name
        return execution

    @property
    def started(self) -> list[Execution]:
        """Every run started through this session."""
        with self._lock:
            return list(self._started)

    def abort_unfinished(self) -> list[AnyRun]:
        """Abort every run started here (model runs and test configurations) that has not
        ended; return those aborted."""
        aborted: list[AnyRun] = []
        runs: list[AnyRun] = [*self.started, *self.started_test_configs]
        for run in runs:
            if not run.finished and not run.aborted and run.abort():
                aborted.append(run)
        return aborted

    def close(self) -> list[AnyRun]:
        """Abort what is still going, then close the client's connections; return the runs
        aborted (the plugin calls this at the end of the pytest session)."""
        try:
            return self.abort_unfinished()
        finally:
            self.client.close()
