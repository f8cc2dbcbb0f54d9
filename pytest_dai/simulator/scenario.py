"""Scenario files of the DAI simulator: what the simulated server knows and how its runs go.

A scenario is a JSON object. Every key is optional except ``agents`` and ``models``; unknown
keys are an error everywhere (a typo never goes unnoticed). Schema::

    {
      "description": "free text, ignored",
      "realm": "eggplant",                      // Keycloak realm in the token URL
      "credentials": {                          // the only client accepted by the token endpoint
        "client_id": "client:dai:agent:integration",
        "client_secret": "sim-secret-..."
      },
      "token_lifetime": 300,     // real seconds a token lives (expires_in); > 0
      "time_scale": 300,         // simulated seconds per real second: a 600 s model runs in 2 s
      "abort_delay": 0.2,        // real seconds from an abort (E3) to the run being Cancelled
      "first_run_id": 30832,     // run id (E2 "id", E6 path) of the first execution
      "first_execution_number": 5001,  // execution id of the first execution, numeric dialect
      "agents": [                // at least one; ids and names unique
        {"id": "agent-1",        // required, non-empty string
         "name": "agent-1",      // default: the id
         "hosted": false,        // default false
         "online": true,         // default true; runs for an offline agent stay Queued
         "fault_stream": "a"}    // default "": with faults' fault_draw "per_execution",
                                 // runs on agents of one stream meet the same faults
      ],
      "models": [                // at least one; ids and names unique
        {"id": "<uuid>",         // required, non-empty string
         "name": "Shop checkout",// required, non-empty string
         "steps": [              // required, at least one
           {"name": "Open shop", // required
            "duration": 30,      // simulated seconds, a number >= 0
            "outcome": "passed", // passed (default) | failed | error
            "message": "..."}    // optional: text of the log entry when the step fails
         ],
         "continue_on_failure": false,  // default false: a failed step ends the run
         "final_status": null,   // optional: passed | failed | error | cancelled, forced at the end
         "attempts": ["failed", "passed"],
                                 // optional: outcome of the 1st, 2nd, ... run (the last one
                                 // repeats): passed (every step passes), failed (the last step
                                 // fails), error (the last step errors), cancelled (the server
                                 // cancels the run at its end)
         "test_cases": [         // optional: directed test cases (E1 "test_case_id")
           {"id": 12, "name": "Valid password", "steps": [...],
            "final_status": null, "attempts": [...]}   // ids: integers, unique in the model
         ]}
      ],
      "faults": {...},           // see Faults: latency, error_rate, burst, drop_rate, ...
      "dialect": {...},          // see Dialect, or the name of a preset in DIALECTS, e.g. "upper"
      "test_configs": [...]      // test configurations: see pytest_dai.simulator.test_configs
    }

A step's real duration is ``duration / time_scale``. A run's status: Error if a step errors
(the run ends there), else Failed if a step failed (the run ends there unless
``continue_on_failure``), else Passed; ``final_status`` overrides it. Attempts are counted per
model (runs without a test case) and per test case.

Errors are one line, naming the file and the field path, e.g.
``scenario.json: models[1].steps[0].duration: expected a number >= 0, got "abc"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_dai.simulator.dialects import Dialect
from pytest_dai.simulator.faults import Faults
from pytest_dai.simulator.specs import (
    ScenarioError,
    SimAgentSpec,
    SimModelSpec,
    SimTestConfigSpec,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


DEFAULT_SCENARIO_FILE = "default_scenario.json"
T = TypeVar("T")


@dataclass
class Scenario:
    """A validated scenario. Build one with :meth:`load`, :meth:`from_file` or :meth:`from_dict`."""

    agents: tuple[SimAgentSpec, ...]
    models: tuple[SimModelSpec, ...]
    realm: str = "eggplant"
    client_id: str = "client:dai:agent:integration"
    client_secret: str = "sim-secret-pytest-dai"
    token_lifetime: float = 300.0
    time_scale: float = 300.0
    abort_delay: float = 0.2
    first_run_id: int = 30832
    first_execution_number: int = 5001
    faults: Faults = field(default_factory=Faults)
    dialect: Dialect = field(default_factory=Dialect)
    test_configs: tuple[SimTestConfigSpec, ...] = ()
    description: str = ""
    source: str = "<scenario>"

    @classmethod
    def load(cls, scenario: Scenario | Mapping[str, Any] | str | Path | None) -> Scenario:
        """Accept ``None`` (the packaged default), a file path, a dict or a :class:`Scenario`."""
        if scenario is None:
            return cls.default()
        if isinstance(scenario, Scenario):
            return scenario
        if isinstance(scenario, (str, Path)):
            return cls.from_file(scenario)
        return cls.from_dict(scenario)

    @classmethod
    def default(cls) -> Scenario:
        """The packaged default scenario (``pytest_dai/simulator/default_scenario.json``)."""
        text = (
            resources.files("pytest_dai.simulator")
            .joinpath(DEFAULT_SCENARIO_FILE)
            .read_text(encoding="utf-8")
        )
        return cls.from_json(text, source=DEFAULT_SCENARIO_FILE)

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario file."""
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError(f"{source}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{source}: cannot read the file: {exc}") from None
        return cls.from_json(text, source=source)

    @classmethod
    def from_json(cls, text: str, *, source: str = "<scenario>") -> Scenario:
        """Validate a scenario given as JSON text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<scenario>") -> Scenario:
        """Validate a scenario given as a parsed JSON object."""
        from pytest_dai.simulator.scenario_parser import ScenarioParser

        return cls(**ScenarioParser(source).scenario(data))

    def model(self, key: str) -> SimModelSpec | None:
        """The model with this id (or, failing that, this name), or ``None``."""
        for model in self.models:
            if model.id == key:
                return model
        for model in self.models:
            if model.name == key:
                return model
        return None
