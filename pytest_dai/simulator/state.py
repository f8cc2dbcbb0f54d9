"""What one simulated DAI server holds: the scenario, the engine, the live faults and dialect,
and the request log. The routes answer from a :class:`SimState`; ``DAISimulator`` is the
Python-side face of one. Hold :attr:`SimState.lock` (the engine's) around every change.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_dai.simulator.answers import Response, detail, format_seconds, phrase
from pytest_dai.simulator.dialects import (
    DIALECTS,
    Dialect,
    copy_dialect,
    dialect_preset,
    validate_dialect,
)
from pytest_dai.simulator.engine import Engine
from pytest_dai.simulator.faults import Faults, copy_faults, validate_faults
from pytest_dai.simulator.test_configs import TestConfigState

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.simulator.scenario import Scenario

__all__ = ["LOG_LIMIT", "RequestRecord", "SimState", "as_dialect"]

LOG_LIMIT = 100_000


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request the simulator received.

    ``status`` is the status answered (0: the connection was dropped by a fault), ``time`` the
    arrival time (``time.time()``), ``body`` the JSON body when it was a JSON object.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    time: float
    body: dict[str, Any] | None = None


def as_dialect(value: Dialect | str) -> Dialect:
    """A copy of ``value``, or of the preset it names (``ValueError`` if unknown)."""
    if isinstance(value, str):
        if value not in DIALECTS:
            raise ValueError(
                f"unknown dialect preset {value!r} (expected one of: {', '.join(DIALECTS)})"
            )
        return dialect_preset(value)
    return copy_dialect(value)


class SimState:
    """The state of one simulated server (see the module docstring)."""

    def __init__(
        self,
        scenario: Scenario,
        faults: Faults | None,
        dialect: Dialect | str | None,
        on_request: Callable[[RequestRecord], None] | None,
    ) -> None:
        self.scenario = scenario
        self.engine = Engine(scenario)
        self.lock = self.engine.lock
        self.test_configs = TestConfigState(scenario.test_configs)
        self.on_request = on_request
        self.log: deque[RequestRecord] = deque(maxlen=LOG_LIMIT)
        self._initial_faults = copy_faults(faults if faults is not None else scenario.faults)
        self._initial_dialect = as_dialect(dialect if dialect is not None else scenario.dialect)
        self.faults = copy_faults(self._initial_faults)
        self.dialect = copy_dialect(self._initial_dialect)
        self.rng = random.Random(self.faults.seed)
        #: Requests in scope of the faults so far, per execution id (``fault_draw``).
        self._requests_per_execution: dict[str, int] = {}
        self._draw_base = self._new_draw_base()

    # -- faults and dialect --------------------------------------------------------------------

    def replace_faults(self, faults: Faults) -> None:
        """Use a copy of ``faults`` from now on (the random generator is seeded again)."""
        with self.lock:
            self.faults = copy_faults(faults)
            self.rng = random.Random(self.faults.seed)
            self._draw_base = self._new_draw_base()

    def set_faults(self, **fields: Any) -> Faults:
        """Replace the named fault fields at once (``ValueError`` on a bad name or value)."""
        checked = validate_faults(fields)
        with self.lock:
            self.faults = dataclasses.replace(self.faults, **checked)
            if "seed" in checked:
                self.rng = random.Random(self.faults.seed)
                self._draw_base = self._new_draw_base()
            return self.faults

    def set_dialect(self, **fields: Any) -> Dialect:
        """Replace the named dialect fields at once (``ValueError`` on a bad name or value)."""
        checked = validate_dialect(fields)
        with self.lock:
            self.dialect = dataclasses.replace(self.dialect, **checked)
            return self.dialect

    def reset(self) -> None:
        """Put back the faults and the dialect the server was created with."""
        self.replace_faults(self._initial_faults)
        with self.lock:
            self.dialect = copy_dialect(self._initial_dialect)

    def fault_action(self, path: str, execution: str | None = None) -> str | int | None:
        """Whether this request is dropped (``"drop"``), failed (a status) or served (None).
        ``execution``: the execution id the request names, if any (``fault_draw``).
        Called with the lock held: the counters of ``drop_next`` and ``burst`` go down."""
        faults = self.faults
        if not faults.in_scope(path):
            return None
        rng = self._draws_for(execution)
        if faults.drop_next > 0:
            faults.drop_next -= 1
            return "drop"
        if faults.drop_rate > 0 and rng.random() < faults.drop_rate:
            return "drop"
        if faults.burst > 0:
            faults.burst -= 1
            return faults.burst_status
        if faults.error_rate > 0 and rng.random() < faults.error_rate:
            return rng.choice(faults.error_statuses)
        return None

    def _draws_for(self, execution: str | None) -> random.Random:
        """The generator of one request's fault draws: the shared one, or with ``fault_draw``
        ``"per_execution"`` one that depends only on the seed, the ``fault_stream`` of the
        execution's agent and how many requests in scope for ``execution`` came before this one
        while the draws were per execution. Counts the request then (lock held): in the shared
        mode nothing is kept per execution id."""
        if execution is None or self.faults.fault_draw != "per_execution":
            return self.rng
        before = self._requests_per_execution.get(execution, 0)
        self._requests_per_execution[execution] = before + 1
        run = self.engine.find(execution)
        stream = run.agent.spec.fault_stream if run is not None and run.agent else ""
        key = f"{self._draw_base}:{stream}:{before}" if stream else f"{self._draw_base}:{before}"
        return random.Random(key)

    def _new_draw_base(self) -> int:
        """The seed of the per-execution draws: ``seed``, or one drawn now if it is unset."""
        seed = self.faults.seed
        return seed if seed is not None else random.getrandbits(64)

    def fault_response(self, status: int) -> Response:
        """The answer of an injected fault (with ``Retry-After`` on 429 and 503 if set)."""
        headers: list[tuple[str, str]] = []
        retry_after = self.faults.retry_after
        if retry_after is not None and status in (429, 503):
            headers.append(("Retry-After", str(format_seconds(retry_after))))
        return detail(status, f"Simulated fault: {status} {phrase(status)}", headers)

    # -- requests ------------------------------------------------------------------------------

    def record(self, record: RequestRecord) -> None:
        """Log an answered (or dropped) request and tell ``on_request``."""
        with self.lock:
            self.log.append(record)
        if self.on_request is not None:
            self.on_request(record)

    def auth_problem(self, authorization: str | None) -> str | None:
        """Why the request's bearer token is refused, or ``None`` when it is accepted."""
        token = None
        if authorization:
            parts = authorization.split(None, 1)
            if len(parts) == 2 and parts[0].lower() == "bearer":
                token = parts[1].strip()
        with self.lock:
            return self.engine.token_problem(token, time.time())
