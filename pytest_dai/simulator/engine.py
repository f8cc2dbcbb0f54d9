"""The simulated DAI state: agents, executions and tokens, all computed from timestamps.

Nothing here runs on its own: :meth:`Engine.advance` brings the state up to a given wall-clock
time, processing run ends and agent hand-offs in time order, so the state is exact at any
instant without a background thread. Every method expects the caller to hold
:attr:`Engine.lock` (the server and the Python-side API do).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from typing import TYPE_CHECKING

from pytest_dai.simulator.runlog import SimLogEntry, log_entries
from pytest_dai.simulator.runs import SimAgent, SimRun, StartOptions, plan_steps
from pytest_dai.simulator.specs import SimAgentSpec, SimModelSpec, SimStepSpec

if TYPE_CHECKING:
    from pytest_dai.simulator.faults import Faults
    from pytest_dai.simulator.scenario import Scenario
    from pytest_dai.simulator.specs import SimTestCaseSpec

FINAL_STATUSES = frozenset({"Passed", "Failed", "Error", "Cancelled"})


class NotFound(Exception):
    """A start or an abort names something the server does not know (HTTP 404)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class Engine:
    """All the state of one simulated server. Hold :attr:`lock` around every call."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.lock = threading.Lock()
        now = time.time()
        self.agents = [
            SimAgent(spec=spec, online=spec.online, free_at=now) for spec in scenario.agents
        ]
        self._agents_by_id = {agent.spec.id: agent for agent in self.agents}
        self.runs: list[SimRun] = []
        self._by_key: dict[str, SimRun] = {}
        self._by_run: dict[int, SimRun] = {}
        self._active: list[SimRun] = []
        self._attempts: dict[tuple[str, int | None], int] = {}
        self._next_run_id = scenario.first_run_id
        self._next_number = scenario.first_execution_number
        self.created_agents: list[str] = []
        self.tokens: dict[str, float] = {}
        self.issued: list[str] = []
        self.token_requests = 0

    # -- time ----------------------------------------------------------------------------------

    def advance(self, now: float) -> None:
        """Bring every execution and agent up to ``now``, events in time order."""
        while True:
            for agent in self.agents:
                if agent.online and agent.current is None and agent.queue:
                    execution = agent.queue.popleft()
                    self._start(execution, max(execution.queued_at, agent.free_at))
                    agent.current = execution
            due = [ex for ex in self._active if ex.end_at is not None and ex.end_at <= now]
            if not due:
                return
            first = min(due, key=lambda ex: (ex.end_at or 0.0, ex.number))
            self._finish(first)

    def _start(self, execution: SimRun, t0: float) -> None:
        scale = self.scenario.time_scale
        execution.started_at = t0
        execution.status = "Running"
        clock = t0
        natural = "Passed"
        for step in execution.steps:
            step.start = clock
            clock += step.duration / scale
            step.end = clock
            if step.outcome == "error":
                natural = "Error"
                break
            if step.outcome == "failed":
                natural = "Failed"
                if not execution.continue_on_failure:
                    break
        end, status, reason = clock, execution.forced_status or natural, "completed"
        if execution.cancel_after is not None:
            cancel_at = t0 + execution.cancel_after / scale
            if cancel_at < end:
                end, status, reason = cancel_at, "Cancelled", "server_cancelled"
        execution.end_at, execution.end_status, execution.end_reason = end, status, reason
        self._active.append(execution)

    def _finish(self, execution: SimRun) -> None:
        self._active.remove(execution)
        execution.ended_at = execution.end_at
        execution.status = execution.end_status or "Error"
        agent = execution.agent
        if agent is not None and agent.current is execution:
            agent.current = None
            agent.free_at = execution.ended_at or time.time()

    # -- agents and models ---------------------------------------------------------------------

    def agent(self, agent_id: str) -> SimAgent | None:
        """The agent with this id, or ``None``."""
        return self._agents_by_id.get(agent_id)

    def set_agent_online(self, agent_id: str, online: bool, now: float) -> None:
        """Bring an agent online or take it offline (``KeyError`` if unknown)."""
        agent = self._agents_by_id[agent_id]
        self.advance(now)
        if online and not agent.online:
            agent.free_at = max(agent.free_at, now)
        agent.online = online
        self.advance(now)

    def _model_for(
        self, model_id: str | None, rerun_id: int | None, script: str | None
    ) -> SimModelSpec:
        if model_id is not None:
            model = next((m for m in self.scenario.models if m.id == model_id), None)
            if model is None:
                raise NotFound(f"Model with id '{model_id}' not found")
            return model
        if rerun_id is not None:
            earlier = self._by_run.get(rerun_id)
            if earlier is None:
                raise NotFound(f"Run {rerun_id} not found")
            return earlier.model
        name = script or "script"
        return SimModelSpec(id=f"script:{name}", name=name, steps=(SimStepSpec(name, 30.0),))

    def create_agent(self, name: str, now: float) -> SimAgent:
        """A new online agent (what ``POST /ai/agents`` does on a real server)."""
        number = len(self.agents) + 1
        agent_id = f"created-agent-{number}"
        while agent_id in self._agents_by_id:
            number += 1
            agent_id = f"created-agent-{number}"
        agent = SimAgent(
            spec=SimAgentSpec(id=agent_id, name=name or agent_id), online=True, free_at=now
        )
        self.agents.append(agent)
        self._agents_by_id[agent_id] = agent
        self.created_agents.append(agent_id)
        return agent

    # -- executions ----------------------------------------------------------------------------

    def find(self, key: str) -> SimRun | None:
        """The execution whose uuid or number (as text) is ``key``."""
        return self._by_key.get(key)

    def find_run(self, run_id: int) -> SimRun | None:
        """The execution whose run id is ``run_id``."""
        return self._by_run.get(run_id)

    def start(self, *, options: StartOptions, faults: Faults, now: float) -> SimRun:
        """Queue a new run; it starts as soon as its agent is free and online (at once with no
        agent: the model's actions then run on no agent, contract 2.1).

        Without ``model_id``: the model of run ``rerun_id``, or else a one-step run of
        ``script`` (contract 2.1: at least one of the three is given)."""
        self.advance(now)
        model, agent, test_case = self._resolve(options)
        spec: SimModelSpec | SimTestCaseSpec = test_case if test_case is not None else model
        key = (model.id, test_case.id if test_case is not None else None)
        attempt = self._attempts.get(key, 0) + 1
        self._attempts[key] = attempt
        steps, forced = plan_steps(spec, attempt, options.step_pause_time)
        run = SimRun(
            uuid=str(uuid.uuid4()),
            number=self._next_number,
            run_id=self._next_run_id,
            model=model,
            test_case=test_case,
            agent=agent,
            rerun_id=options.rerun_id,
            attempt=attempt,
            steps=steps,
            forced_status=forced,
            continue_on_failure=spec.continue_on_failure,
            queued_at=now,
            hidden_until=now + faults.no_record_grace,
            cancel_after=faults.cancel_after,
        )
        self._next_number += 1
        self._next_run_id += 1
        self.runs.append(run)
        self._by_key[run.uuid] = run
        self._by_key[str(run.number)] = run
        self._by_run[run.run_id] = run
        if agent is None:
            self._start(run, now)
        else:
            agent.queue.append(run)
        self.advance(now)
        return run

    def _resolve(
        self, options: StartOptions
    ) -> tuple[SimModelSpec, SimAgent | None, SimTestCaseSpec | None]:
        """The model, agent and test case a start names (:class:`NotFound` if unknown)."""
        rerun_id = options.rerun_id
        model = self._model_for(options.model_id, rerun_id, options.script)
        agent: SimAgent | None = None
        if options.agent_id is not None:
            agent = self._agents_by_id.get(options.agent_id)
            if agent is None:
                raise NotFound(f"Agent with id '{options.agent_id}' not found")
        test_case = None
        if options.test_case_id is not None:
            test_case = model.test_case(options.test_case_id)
            if test_case is None:
                raise NotFound(
                    f"Test case {options.test_case_id} not found in model '{model.name}'"
                )
        if rerun_id is not None:
            earlier = self._by_run.get(rerun_id)
            if earlier is None or earlier.model is not model:
                raise NotFound(f"Run {rerun_id} not found for model '{model.name}'")
            if test_case is None:
                test_case = earlier.test_case
        return model, agent, test_case

    def abort(self, key: str, now: float) -> SimRun:
        """Ask for an execution to stop: it is Cancelled ``abort_delay`` seconds from now."""
        self.advance(now)
        execution = self._by_key.get(key)
        if execution is None:
            raise NotFound(f"Execution '{key}' not found")
        if execution.ended_at is not None:
            raise NotFound(f"Execution '{key}' has already finished ({execution.status})")
        if execution.abort_requested_at is None:
            execution.abort_requested_at = now
            effective = now + self.scenario.abort_delay
            if execution.started_at is None and execution.agent is not None:
                execution.agent.queue.remove(execution)
                execution.end_at = effective
                execution.end_status, execution.end_reason = "Cancelled", "aborted"
                self._active.append(execution)
            elif execution.end_at is None or effective < execution.end_at:
                execution.end_at = effective
                execution.end_status, execution.end_reason = "Cancelled", "aborted"
            self.advance(now)
        return execution

    def running_count(self) -> int:
        """Executions not yet final."""
        return sum(1 for ex in self.runs if ex.ended_at is None)

    # -- tokens --------------------------------------------------------------------------------

    def issue_token(self, now: float, lifetime: float) -> str:
        """A new access token valid for ``lifetime`` real seconds."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = now + lifetime
        self.issued.append(token)
        return token

    def token_problem(self, token: str | None, now: float) -> str | None:
        """Why ``token`` is not accepted at ``now``, or ``None`` when it is."""
        if token is None:
            return "Not authenticated"
        expires = self.tokens.get(token)
        if expires is None:
            return "Invalid token"
        if now >= expires:
            return "Token has expired"
        return None

    # -- views ---------------------------------------------------------------------------------

    def log_entries(self, execution: SimRun, now: float) -> list[SimLogEntry]:
        """The run log of ``execution`` as it stands at ``now``, oldest first."""
        return log_entries(execution, now)

    def snapshot(self, execution: SimRun, now: float) -> dict[str, object]:
        """A plain dict describing ``execution`` at ``now`` (canonical status word)."""
        total, done, failed = execution.counts(now)
        return {
            "execution_id": execution.uuid,
            "execution_number": execution.number,
            "run_id": execution.run_id,
            "model_id": execution.model.id,
            "model_name": execution.model.name,
            "agent_id": execution.agent.spec.id if execution.agent else None,
            "agent_name": execution.agent.spec.name if execution.agent else None,
            "test_case_id": execution.test_case.id if execution.test_case else None,
            "rerun_id": execution.rerun_id,
            "attempt": execution.attempt,
            "status": execution.status,
            "queued_at": execution.queued_at,
            "started_at": execution.started_at,
            "ended_at": execution.ended_at,
            "steps_total": total,
            "steps_done": done,
            "steps_failed": failed,
            "aborted": execution.abort_requested_at is not None,
            "end_reason": execution.end_reason if execution.ended_at is not None else None,
        }
