"""The DAI session: an authenticated client, name lookups, and every run started through it.

This is what the ``dai_session`` fixture gives. Runs started through it are tracked so that
:meth:`DAISession.abort_unfinished` can abort what is still going when the session ends.
"""

from __future__ import annotations

import difflib
import logging
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pytest_dai.client import defaults
from pytest_dai.client.endpoints import E4, E5
from pytest_dai.client.errors import DAIError, DAINotFoundError
from pytest_dai.lifecycle.execution import Execution
from pytest_dai.lifecycle.lost_starts import may_have_started, recover_lost_start
from pytest_dai.lifecycle.outcome import DAIDryRun
from pytest_dai.lifecycle.shield import interrupts_held

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from pytest_dai.client.endpoints import DAIClient
    from pytest_dai.client.records import Agent, Model, RunRecord
    from pytest_dai.client.start_body import Asset
    from pytest_dai.client.test_configs import TestConfig, TestConfigAPI
    from pytest_dai.lifecycle.test_config_run import TestConfigResult

    #: A run of either kind (``run.kind`` is "model" or "test_config").
    AnyRun = Execution | TestConfigResult
    from pytest_dai.lifecycle.journal import Journal, StartIntent

__all__ = ["DAISession"]

log = logging.getLogger("pytest_dai")


def _pick(ref: str, records: Sequence[Model | Agent], kind: str, endpoint: str) -> int:
    """Index of the record whose id or name is ``ref`` (exact, then case-insensitive)."""
    for i, record in enumerate(records):
        if ref in (record.id, getattr(record, "uuid", None)):
            return i
    for i, record in enumerate(records):
        if record.name == ref:
            return i
    folded = [i for i, r in enumerate(records) if r.name.casefold() == ref.casefold()]
    if len(folded) == 1:
        return folded[0]
    names = [r.name for r in records]
    close = difflib.get_close_matches(ref, names, n=3, cutoff=0.5)
    hint = (
        "close matches: " + ", ".join(repr(n) for n in close)
        if close
        else f"known {kind}s: " + (", ".join(repr(n) for n in names[:10]) or "none")
    )
    raise DAINotFoundError(f"unknown {kind} {ref!r} ({endpoint}); {hint}", endpoint=endpoint)


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
        self._models: list[Model] | None = None
        self._agents: list[Agent] | None = None
        self._started: list[Execution] = []
        self.result_url = result_url
        self._configs: list[TestConfig] | None = None
        self._config_api: TestConfigAPI | None = None
        self._started_configs: list[TestConfigResult] = []

    def __repr__(self) -> str:
        return f"DAISession(url={self.client.url!r}, runs_started={len(self._started)})"

    @property
    def url(self) -> str:
        """The DAI server's base URL."""
        return self.client.url

    def models(self, *, refresh: bool = False) -> list[Model]:
        """The server's models (E5), cached for the session unless ``refresh``."""
        with self._lock:
            cached = self._models
        if cached is None or refresh:
            cached = self.client.list_models()
            with self._lock:
                self._models = cached
        return list(cached)

    def agents(self, *, refresh: bool = False) -> list[Agent]:
        """The server's agents (E4), cached for the session unless ``refresh``."""
        with self._lock:
            cached = self._agents
        if cached is None or refresh:
            cached = self.client.list_agents()
            with self._lock:
                self._agents = cached
        return list(cached)

    def runs(self) -> list[RunRecord]:
        """The run records the server lists (E2, unfiltered)."""
        return self.client.list_runs()

    def resolve_model(self, ref: str) -> Model:
        """The model whose id or name is ``ref``; unknown: DAINotFoundError with close matches."""
        models = self.models()
        try:
            return models[_pick(ref, models, "model", E5)]
        except DAINotFoundError:
            models = self.models(refresh=True)
            return models[_pick(ref, models, "model", E5)]

    def resolve_agent(self, ref: str) -> Agent:
        """The agent whose id or name is ``ref``; unknown: DAINotFoundError with close matches."""
        agents = self.agents()
        try:
            return agents[_pick(ref, agents, "agent", E4)]
        except DAINotFoundError:
            agents = self.agents(refresh=True)
            return agents[_pick(ref, agents, "agent", E4)]

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
        intent = self._write_intent(found_model, found_agent)
        try:
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
        except BaseException as exc:
            if intent is not None:
                self._lost_start(intent, exc)
            raise
        status = started.raw.get("status")
        execution = Execution(
            self.client,
            started.id,
            model=found_model.name,
            agent=found_agent.name if found_agent else None,
            run_url=self.run_url,
            poll_interval=self.poll_interval,
            record_grace=self.record_grace,
            expected_duration=expected_duration,
            initial_status=status if isinstance(status, str) and status else "Queued",
            on_end=self.on_end,
        )
        with self._lock:
            self._started.append(execution)
        try:
            if self.on_start is not None:
                self.on_start(execution)
        finally:
            if intent is not None and self.journal is not None:
                self.journal.remove_intent(intent)
        return execution

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
        with self._lock:
            cached = self._configs
        if cached is None or refresh:
            cached = self.test_config_api.list_test_configs()
            with self._lock:
                self._configs = cached
        return list(cached)

    def resolve_test_config(
        self, ref: str, *, model: str | None = None, suite: str | None = None
    ) -> TestConfig:
        """The test configuration whose id or name is ``ref`` (told apart by ``model`` or
        ``suite`` where names repeat); unknown: DAINotFoundError with close matches."""
        from pytest_dai.lifecycle.test_config_support import resolve_test_config

        try:
            return resolve_test_config(self.test_configs(), ref, model=model, suite=suite)
        except DAINotFoundError:
            configs = self.test_configs(refresh=True)
            return resolve_test_config(configs, ref, model=model, suite=suite)

    def start_test_config(
        self,
        config: str,
        *,
        model: str | None = None,
        suite: str | None = None,
        parameters: Mapping[str, object] | None = None,
        filter_by: Mapping[str, Sequence[str]] | None = None,
        expected_duration: float | None = None,
    ) -> TestConfigResult:
        """Start a test configuration (id or name) with global parameter overrides and step
        filters if given; return its :class:`TestConfigResult` without waiting."""
        from pytest_dai.lifecycle.test_config_run import TestConfigResult

        found = self.resolve_test_config(config, model=model, suite=suite)
        if self.dry_run:
            extra = " with parameter overrides" if parameters else ""
            extra += f" filtered by {dict(filter_by)}" if filter_by else ""
            raise DAIDryRun(f"dry run: would start test configuration {found.name!r}{extra}")
        started_wall = datetime.now(timezone.utc)
        try:
            task_instance_id = self.test_config_api.start(
                found.id, parameters=parameters, filters=filter_by
            )
        except BaseException as exc:
            self._lost_config_start(found, started_wall, exc)
            raise
        run = TestConfigResult(
            self.test_config_api,
            found,
            task_instance_id,
            started_wall=started_wall,
            result_url=self.result_url,
            poll_interval=self.poll_interval,
            record_grace=self.record_grace,
            expected_duration=expected_duration,
            on_end=self.on_end,
        )
        with self._lock:
            self._started_configs.append(run)
        if self.on_start is not None:
            self.on_start(run)
        return run

    def _lost_config_start(
        self, config: TestConfig, started_wall: datetime, exc: BaseException
    ) -> None:
        """E7 failed: if it may have started the configuration anyway, find that run and
        abort it (bounded; Ctrl-C held meanwhile), and say so in the error or a warning."""
        from pytest_dai.lifecycle.test_config_support import (
            config_start_may_have_started,
            recover_lost_config_start,
        )

        if not config_start_may_have_started(exc):
            return
        known = {run.task_instance_id for run in self.started_test_configs}
        with interrupts_held():
            line = recover_lost_config_start(self.test_config_api, config, started_wall, known)
        if not line:
            return
        if isinstance(exc, DAIError):
            exc.message = f"{exc.message}; {line}"
            exc.args = (exc.message,)
        else:
            log.warning("pytest-dai: %s", line)

    @property
    def started_test_configs(self) -> list[TestConfigResult]:
        """Every test-config run started through this session."""
        with self._lock:
            return list(self._started_configs)

    def _write_intent(self, model: Model, agent: Agent | None) -> StartIntent | None:
        """Journal the start about to be sent; None when there is no journal or it refuses."""
        if self.journal is None:
            return None
        try:
            return self.journal.record_intent(
                self.client.url,
                model_id=model.id,
                model=model.name,
                agent_id=agent.id if agent else "",
                agent=agent.name if agent else "",
                nodeid=self._current_test() if self._current_test else "",
            )
        except OSError as exc:
            log.warning("pytest-dai: could not write the run journal: %s", exc)
            return None

    def _lost_start(self, intent: StartIntent, exc: BaseException) -> None:
        """The start failed: if it may have started a run anyway, find that run and abort it
        (bounded; Ctrl-C held meanwhile) and say so in the error, or in a warning."""
        assert self.journal is not None
        if not may_have_started(exc):
            self.journal.remove_intent(intent)
            return
        with interrupts_held():
            searched, line = recover_lost_start(self.client, intent, self._known_ids())
        if searched:
            self.journal.remove_intent(intent)
        if not line:
            return
        if isinstance(exc, DAIError):
            exc.message = f"{exc.message}; {line.removeprefix('dai: ')}"
            exc.args = (exc.message,)
        elif self.on_notice is not None:
            self.on_notice(line)
        else:
            log.warning("pytest-dai: %s", line.removeprefix("dai: "))

    def _known_ids(self) -> set[str]:
        """Execution ids of runs known to be someone's: ours, and those in the journal."""
        known = {execution.id for execution in self.started}
        if self.journal is not None:
            known |= {entry.execution_id for entry in self.journal.entries()}
        return known

    def execution(self, execution_id: str) -> Execution:
        """An :class:`Execution` for a run started elsewhere, refreshed once."""
        execution = Execution(
            self.client,
            str(execution_id),
            model="?",
            run_url=self.run_url,
            poll_interval=self.poll_interval,
            record_grace=self.record_grace,
        )
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

    def close(self) -> None:
        """Abort what is still going, then close the client's connections."""
        try:
            self.abort_unfinished()
        finally:
            self.client.close()
