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
         "online": true}         // default true; runs for an offline agent stay Queued
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
from typing import TYPE_CHECKING, Any, NoReturn

from pytest_dai.simulator.faults import (
    DIALECTS,
    Dialect,
    Faults,
    FieldError,
    describe,
    dialect_preset,
    validate_dialect,
    validate_faults,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pytest_dai.simulator.test_configs import TestConfigSpec

STEP_OUTCOMES: tuple[str, ...] = ("passed", "failed", "error")
RUN_OUTCOMES: tuple[str, ...] = ("passed", "failed", "error", "cancelled")
DEFAULT_SCENARIO_FILE = "default_scenario.json"


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message is one line naming the file and the field."""


@dataclass(frozen=True)
class StepSpec:
    """One step of a model or test case: ``duration`` is in simulated seconds."""

    name: str
    duration: float
    outcome: str = "passed"
    message: str | None = None


@dataclass(frozen=True)
class TestCaseSpec:
    """A directed test case of a model."""

    __test__ = False  # not a pytest test class

    id: int
    name: str
    steps: tuple[StepSpec, ...]
    final_status: str | None = None
    attempts: tuple[str, ...] = ()
    continue_on_failure: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """A model: its steps for an explorative run, and its test cases."""

    id: str
    name: str
    steps: tuple[StepSpec, ...]
    final_status: str | None = None
    attempts: tuple[str, ...] = ()
    continue_on_failure: bool = False
    test_cases: tuple[TestCaseSpec, ...] = ()

    def test_case(self, test_case_id: int) -> TestCaseSpec | None:
        """The test case with this id, or ``None``."""
        for case in self.test_cases:
            if case.id == test_case_id:
                return case
        return None


@dataclass(frozen=True)
class AgentSpec:
    """An agent as declared in the scenario."""

    id: str
    name: str
    hosted: bool = False
    online: bool = True


@dataclass
class Scenario:
    """A validated scenario. Build one with :meth:`load`, :meth:`from_file` or :meth:`from_dict`."""

    agents: tuple[AgentSpec, ...]
    models: tuple[ModelSpec, ...]
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
    test_configs: tuple[TestConfigSpec, ...] = ()
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
        return _Parser(source).scenario(data)

    def model(self, key: str) -> ModelSpec | None:
        """The model with this id (or, failing that, this name), or ``None``."""
        for model in self.models:
            if model.id == key:
                return model
        for model in self.models:
            if model.name == key:
                return model
        return None


_TOP_KEYS = (
    "description",
    "realm",
    "credentials",
    "token_lifetime",
    "time_scale",
    "abort_delay",
    "first_run_id",
    "first_execution_number",
    "agents",
    "models",
    "faults",
    "dialect",
    "test_configs",
)
_AGENT_KEYS = ("id", "name", "hosted", "online")
_STEP_KEYS = ("name", "duration", "outcome", "message")
_CASE_KEYS = ("id", "name", "steps", "final_status", "attempts", "continue_on_failure")
_MODEL_KEYS = (*_CASE_KEYS, "test_cases")


class _Parser:
    """Walks the parsed JSON, keeping the field path for error messages."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> NoReturn:
        where = f"{path}: " if path else ""
        raise ScenarioError(f"{self.source}: {where}{problem}")

    def obj(self, value: Any, path: str, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {describe(value)}")
        for key in value:
            if key not in keys:
                self.fail(
                    f"{path}.{key}" if path else str(key),
                    f"unknown key (expected one of: {', '.join(keys)})",
                )
        return value

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected a non-empty string, got {describe(value)}")
        return value

    def number(self, value: Any, path: str, minimum: float, *, strict: bool = False) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        finite = ok and value == value and value not in (float("inf"), float("-inf"))
        if finite and (value > minimum or (not strict and value == minimum)):
            return float(value)
        sign = ">" if strict else ">="
        self.fail(path, f"expected a number {sign} {minimum:g}, got {describe(value)}")

    def integer(self, value: Any, path: str, minimum: int | None = None) -> int:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if is_int and (minimum is None or value >= minimum):
            return int(value)
        wanted = "an integer" + (f" >= {minimum}" if minimum is not None else "")
        self.fail(path, f"expected {wanted}, got {describe(value)}")

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, got {describe(value)}")
        return value

    def word(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        self.fail(path, f"expected one of {', '.join(choices)}, got {describe(value)}")

    def array(self, value: Any, path: str, *, non_empty: bool = True) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {describe(value)}")
        if non_empty and not value:
            self.fail(path, "expected a non-empty list, got []")
        return value

    # -- parts ---------------------------------------------------------------------------------

    def scenario(self, data: Any) -> Scenario:
        top = self.obj(data, "", _TOP_KEYS)
        kwargs: dict[str, Any] = {"source": self.source}
        if "description" in top:
            if not isinstance(top["description"], str):
                self.fail("description", f"expected a string, got {describe(top['description'])}")
            kwargs["description"] = top["description"]
        if "realm" in top:
            realm = self.string(top["realm"], "realm")
            if "/" in realm or "?" in realm or "#" in realm:
                self.fail(
                    "realm", f"expected a realm name without '/', '?' or '#', got {describe(realm)}"
                )
            kwargs["realm"] = realm
        if "credentials" in top:
            creds = self.obj(top["credentials"], "credentials", ("client_id", "client_secret"))
            if "client_id" in creds:
                kwargs["client_id"] = self.string(creds["client_id"], "credentials.client_id")
            if "client_secret" in creds:
                kwargs["client_secret"] = self.string(
                    creds["client_secret"], "credentials.client_secret"
                )
        if "token_lifetime" in top:
            kwargs["token_lifetime"] = self.number(
                top["token_lifetime"], "token_lifetime", 0, strict=True
            )
        if "time_scale" in top:
            kwargs["time_scale"] = self.number(top["time_scale"], "time_scale", 0, strict=True)
        if "abort_delay" in top:
            kwargs["abort_delay"] = self.number(top["abort_delay"], "abort_delay", 0)
        if "first_run_id" in top:
            kwargs["first_run_id"] = self.integer(top["first_run_id"], "first_run_id", 1)
        if "first_execution_number" in top:
            kwargs["first_execution_number"] = self.integer(
                top["first_execution_number"], "first_execution_number", 1
            )
        if "agents" not in top:
            self.fail("agents", "missing (a scenario needs at least one agent)")
        if "models" not in top:
            self.fail("models", "missing (a scenario needs at least one model)")
        kwargs["agents"] = self.agents(top["agents"])
        kwargs["models"] = self.models(top["models"])
        if "faults" in top:
            kwargs["faults"] = self.faults(top["faults"])
        if "dialect" in top:
            kwargs["dialect"] = self.dialect(top["dialect"])
        if "test_configs" in top:
            from pytest_dai.simulator.test_configs import parse_test_configs

            kwargs["test_configs"] = parse_test_configs(
                self, top["test_configs"], kwargs["models"], kwargs["agents"]
            )
        return Scenario(**kwargs)

    def agents(self, value: Any) -> tuple[AgentSpec, ...]:
        items = self.array(value, "agents")
        agents: list[AgentSpec] = []
        seen_ids: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        for index, item in enumerate(items):
            path = f"agents[{index}]"
            raw = self.obj(item, path, _AGENT_KEYS)
            if "id" not in raw:
                self.fail(f"{path}.id", "missing")
            agent_id = self.string(raw["id"], f"{path}.id")
            name = self.string(raw.get("name", agent_id), f"{path}.name")
            hosted = self.boolean(raw.get("hosted", False), f"{path}.hosted")
            online = self.boolean(raw.get("online", True), f"{path}.online")
            self.unique(seen_ids, agent_id, index, "agents", "id")
            self.unique(seen_names, name, index, "agents", "name")
            agents.append(AgentSpec(id=agent_id, name=name, hosted=hosted, online=online))
        return tuple(agents)

    def unique(self, seen: dict[str, int], value: str, index: int, listing: str, key: str) -> None:
        """Fail when another entry of ``listing`` has the same ``key``; else remember it."""
        if value in seen:
            what = listing[:-1]  # "agents" -> "agent"
            self.fail(
                f"{listing}[{index}].{key}",
                f"duplicate {what} {key} {describe(value)} (also {listing}[{seen[value]}])",
            )
        seen[value] = index

    def steps(self, value: Any, path: str) -> tuple[StepSpec, ...]:
        items = self.array(value, path)
        steps: list[StepSpec] = []
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            raw = self.obj(item, where, _STEP_KEYS)
            for required in ("name", "duration"):
                if required not in raw:
                    self.fail(f"{where}.{required}", "missing")
            message = raw.get("message")
            if message is not None and not isinstance(message, str):
                self.fail(f"{where}.message", f"expected a string, got {describe(message)}")
            steps.append(
                StepSpec(
                    name=self.string(raw["name"], f"{where}.name"),
                    duration=self.number(raw["duration"], f"{where}.duration", 0),
                    outcome=self.word(
                        raw.get("outcome", "passed"), f"{where}.outcome", STEP_OUTCOMES
                    ),
                    message=message,
                )
            )
        return tuple(steps)

    def run_options(self, raw: dict[str, Any], path: str) -> dict[str, Any]:
        """The fields shared by models and test cases."""
        if "steps" not in raw:
            self.fail(f"{path}.steps", "missing (at least one step is needed)")
        options: dict[str, Any] = {"steps": self.steps(raw["steps"], f"{path}.steps")}
        final = raw.get("final_status")
        if final is not None:
            options["final_status"] = self.word(final, f"{path}.final_status", RUN_OUTCOMES)
        if "attempts" in raw:
            attempts = self.array(raw["attempts"], f"{path}.attempts")
            options["attempts"] = tuple(
                self.word(word, f"{path}.attempts[{i}]", RUN_OUTCOMES)
                for i, word in enumerate(attempts)
            )
        if "continue_on_failure" in raw:
            options["continue_on_failure"] = self.boolean(
                raw["continue_on_failure"], f"{path}.continue_on_failure"
            )
        return options

    def models(self, value: Any) -> tuple[ModelSpec, ...]:
        items = self.array(value, "models")
        models: list[ModelSpec] = []
        seen_ids: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        for index, item in enumerate(items):
            path = f"models[{index}]"
            raw = self.obj(item, path, _MODEL_KEYS)
            for required in ("id", "name"):
                if required not in raw:
                    self.fail(f"{path}.{required}", "missing")
            model_id = self.string(raw["id"], f"{path}.id")
            name = self.string(raw["name"], f"{path}.name")
            self.unique(seen_ids, model_id, index, "models", "id")
            self.unique(seen_names, name, index, "models", "name")
            options = self.run_options(raw, path)
            cases = self.test_cases(raw.get("test_cases", []), f"{path}.test_cases")
            models.append(ModelSpec(id=model_id, name=name, test_cases=cases, **options))
        return tuple(models)

    def test_cases(self, value: Any, path: str) -> tuple[TestCaseSpec, ...]:
        items = self.array(value, path, non_empty=False)
        cases: list[TestCaseSpec] = []
        seen: dict[int, int] = {}
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            raw = self.obj(item, where, _CASE_KEYS)
            for required in ("id", "name"):
                if required not in raw:
                    self.fail(f"{where}.{required}", "missing")
            case_id = self.integer(raw["id"], f"{where}.id")
            if case_id in seen:
                self.fail(
                    f"{where}.id",
                    f"duplicate test case id {case_id} (also {path}[{seen[case_id]}])",
                )
            seen[case_id] = index
            name = self.string(raw["name"], f"{where}.name")
            cases.append(TestCaseSpec(id=case_id, name=name, **self.run_options(raw, where)))
        return tuple(cases)

    def faults(self, value: Any) -> Faults:
        if not isinstance(value, dict):
            self.fail("faults", f"expected an object, got {describe(value)}")
        try:
            return Faults(**validate_faults(value))
        except FieldError as exc:
            self.fail(f"faults.{exc.field}", exc.problem)

    def dialect(self, value: Any) -> Dialect:
        if isinstance(value, str):
            if value not in DIALECTS:
                self.fail(
                    "dialect",
                    f"unknown dialect preset {describe(value)} "
                    f"(expected one of: {', '.join(DIALECTS)})",
                )
            return dialect_preset(value)
        if not isinstance(value, dict):
            self.fail("dialect", f"expected an object or a preset name, got {describe(value)}")
        try:
            return Dialect(**validate_dialect(value))
        except FieldError as exc:
            self.fail(f"dialect.{exc.field}", exc.problem)
