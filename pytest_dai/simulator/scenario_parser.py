"""Reading a scenario: :class:`ScenarioParser` walks the parsed JSON of a scenario file (schema
in :mod:`~pytest_dai.simulator.scenario`), keeping the field path for its one-line errors
(``scenario.json: models[1].steps[0].duration: expected a number >= 0, got "abc"``). The
values are checked by the validators of :mod:`~pytest_dai.simulator.values`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from pytest_dai.simulator.dialects import DIALECTS, Dialect, dialect_preset, validate_dialect
from pytest_dai.simulator.faults import Faults, validate_faults
from pytest_dai.simulator.specs import (
    RUN_OUTCOMES,
    STEP_OUTCOMES,
    RunRef,
    ScenarioError,
    SimAgentSpec,
    SimModelSpec,
    SimStepSpec,
    SimTestCaseSpec,
    SimTestConfigSpec,
)
from pytest_dai.simulator.values import FieldError, boolean, describe, integer, number, text, word

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["ScenarioParser"]

T = TypeVar("T")

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
_AGENT_KEYS = ("id", "name", "hosted", "online", "fault_stream")
_STEP_KEYS = ("name", "duration", "outcome", "message")
_CASE_KEYS = ("id", "name", "steps", "final_status", "attempts", "continue_on_failure")
_MODEL_KEYS = (*_CASE_KEYS, "test_cases")


class ScenarioParser:
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

    def check(self, value: Any, path: str, validator: Callable[[Any], T]) -> T:
        """``validator(value)``, or a one-line error naming ``path``."""
        try:
            return validator(value)
        except ValueError as exc:
            self.fail(path, str(exc))

    def string(self, value: Any, path: str) -> str:
        return self.check(value, path, text)

    def number(self, value: Any, path: str, minimum: float, *, strict: bool = False) -> float:
        return self.check(value, path, number(minimum, strict=strict))

    def integer(self, value: Any, path: str, minimum: int | None = None) -> int:
        return self.check(value, path, integer(minimum, whole_floats=False))

    def boolean(self, value: Any, path: str) -> bool:
        return self.check(value, path, boolean)

    def word(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        return self.check(value, path, word(*choices))

    def array(self, value: Any, path: str, *, non_empty: bool = True) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {describe(value)}")
        if non_empty and not value:
            self.fail(path, "expected a non-empty list, got []")
        return value

    def entries(
        self,
        value: Any,
        path: str,
        keys: tuple[str, ...],
        required: tuple[str, ...],
        *,
        non_empty: bool = True,
    ) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """Each object of the list at ``path``, with its index and its own path: only
        ``keys`` allowed, those ``required`` there."""
        for index, item in enumerate(self.array(value, path, non_empty=non_empty)):
            where = f"{path}[{index}]"
            raw = self.obj(item, where, keys)
            for key in required:
                if key not in raw:
                    self.fail(f"{where}.{key}", "missing")
            yield index, where, raw

    # -- parts ---------------------------------------------------------------------------------

    def scenario(self, data: Any) -> dict[str, Any]:
        top = self.obj(data, "", _TOP_KEYS)
        kwargs: dict[str, Any] = {"source": self.source, **self.server(top)}
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
            kwargs["test_configs"] = parse_test_configs(
                self, top["test_configs"], kwargs["models"], kwargs["agents"]
            )
        return kwargs

    def server(self, top: dict[str, Any]) -> dict[str, Any]:
        """The server-wide keys: description, realm, credentials, times, first ids."""
        kwargs: dict[str, Any] = {}
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
            for name in ("client_id", "client_secret"):
                if name in creds:
                    kwargs[name] = self.string(creds[name], f"credentials.{name}")
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
        return kwargs

    def agents(self, value: Any) -> tuple[SimAgentSpec, ...]:
        agents: list[SimAgentSpec] = []
        seen_ids: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        for index, path, raw in self.entries(value, "agents", _AGENT_KEYS, ("id",)):
            agent_id = self.string(raw["id"], f"{path}.id")
            name = self.string(raw.get("name", agent_id), f"{path}.name")
            hosted = self.boolean(raw.get("hosted", False), f"{path}.hosted")
            online = self.boolean(raw.get("online", True), f"{path}.online")
            stream = raw.get("fault_stream")
            stream = "" if stream is None else self.string(stream, f"{path}.fault_stream")
            self.unique(seen_ids, agent_id, index, "agents", "id")
            self.unique(seen_names, name, index, "agents", "name")
            agents.append(
                SimAgentSpec(
                    id=agent_id, name=name, hosted=hosted, online=online, fault_stream=stream
                )
            )
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

    def steps(self, value: Any, path: str) -> tuple[SimStepSpec, ...]:
        steps: list[SimStepSpec] = []
        for _, where, raw in self.entries(value, path, _STEP_KEYS, ("name", "duration")):
            message = raw.get("message")
            if message is not None and not isinstance(message, str):
                self.fail(f"{where}.message", f"expected a string, got {describe(message)}")
            steps.append(
                SimStepSpec(
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

    def models(self, value: Any) -> tuple[SimModelSpec, ...]:
        models: list[SimModelSpec] = []
        seen_ids: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        for index, path, raw in self.entries(value, "models", _MODEL_KEYS, ("id", "name")):
            model_id = self.string(raw["id"], f"{path}.id")
            name = self.string(raw["name"], f"{path}.name")
            self.unique(seen_ids, model_id, index, "models", "id")
            self.unique(seen_names, name, index, "models", "name")
            options = self.run_options(raw, path)
            cases = self.test_cases(raw.get("test_cases", []), f"{path}.test_cases")
            models.append(SimModelSpec(id=model_id, name=name, test_cases=cases, **options))
        return tuple(models)

    def test_cases(self, value: Any, path: str) -> tuple[SimTestCaseSpec, ...]:
        cases: list[SimTestCaseSpec] = []
        seen: dict[int, int] = {}
        entries = self.entries(value, path, _CASE_KEYS, ("id", "name"), non_empty=False)
        for index, where, raw in entries:
            case_id = self.integer(raw["id"], f"{where}.id")
            if case_id in seen:
                self.fail(
                    f"{where}.id",
                    f"duplicate test case id {case_id} (also {path}[{seen[case_id]}])",
                )
            seen[case_id] = index
            name = self.string(raw["name"], f"{where}.name")
            cases.append(SimTestCaseSpec(id=case_id, name=name, **self.run_options(raw, where)))
        return tuple(cases)

    def built(
        self, value: Any, path: str, build: Callable[[dict[str, Any]], T], what: str = "an object"
    ) -> T:
        """``build(value)`` for the object at ``path``; a :class:`FieldError` it raises names
        its field under ``path`` (``what``: what else the message says was expected)."""
        if not isinstance(value, dict):
            self.fail(path, f"expected {what}, got {describe(value)}")
        try:
            return build(value)
        except FieldError as exc:
            self.fail(f"{path}.{exc.field}", exc.problem)

    def faults(self, value: Any) -> Faults:
        return self.built(value, "faults", lambda raw: Faults(**validate_faults(raw)))

    def dialect(self, value: Any) -> Dialect:
        if isinstance(value, str):
            if value not in DIALECTS:
                self.fail(
                    "dialect",
                    f"unknown dialect preset {describe(value)} "
                    f"(expected one of: {', '.join(DIALECTS)})",
                )
            return dialect_preset(value)
        return self.built(
            value,
            "dialect",
            lambda raw: Dialect(**validate_dialect(raw)),
            "an object or a preset name",
        )


TEST_CONFIG_KEYS = (
    "id",
    "name",
    "model",
    "suite",
    "agent",
    "runs",
    "result_delay",
    "task_instance_in_results",
    "accepts_options",
    "task_abort",
    "junit",
    "space",
    "accepts_previous",
)
_RUN_KEYS = ("model", "test_case")


# -- test configurations ------------------------------------------------------------------


def parse_test_configs(
    parser: ScenarioParser,
    value: Any,
    models: tuple[SimModelSpec, ...],
    agents: tuple[SimAgentSpec, ...],
) -> tuple[SimTestConfigSpec, ...]:
    """Validate the scenario's ``test_configs`` (``parser`` reads the rest of the scenario)."""
    configs: list[SimTestConfigSpec] = []
    seen: dict[str, int] = {}
    agent_ids = {agent.id for agent in agents}
    required = ("id", "name", "runs")
    for index, path, raw in parser.entries(
        value, "test_configs", TEST_CONFIG_KEYS, required, non_empty=False
    ):
        config_id = parser.string(raw["id"], f"{path}.id")
        parser.unique(seen, config_id, index, "test_configs", "id")
        options: dict[str, Any] = {}
        for key in ("model", "suite", "agent", "space"):
            if key in raw:
                options[key] = parser.string(raw[key], f"{path}.{key}")
        if options.get("agent") is not None and options["agent"] not in agent_ids:
            parser.fail(f"{path}.agent", f"unknown agent {options['agent']!r}")
        if "result_delay" in raw:
            options["result_delay"] = parser.number(raw["result_delay"], f"{path}.result_delay", 0)
        for key in ("task_instance_in_results", "accepts_options", "junit", "accepts_previous"):
            if key in raw:
                options[key] = parser.boolean(raw[key], f"{path}.{key}")
        if "task_abort" in raw:
            options["task_abort"] = parser.word(
                raw["task_abort"], f"{path}.task_abort", ("supported", "404", "405")
            )
        runs = tuple(
            _run_ref(parser, run, f"{path}.runs[{i}]", models)
            for i, run in enumerate(parser.array(raw["runs"], f"{path}.runs"))
        )
        configs.append(
            SimTestConfigSpec(
                id=config_id, name=parser.string(raw["name"], f"{path}.name"), runs=runs, **options
            )
        )
    return tuple(configs)


def _run_ref(
    parser: ScenarioParser, value: Any, path: str, models: tuple[SimModelSpec, ...]
) -> RunRef:
    raw = parser.obj(value, path, _RUN_KEYS)
    if "model" not in raw:
        parser.fail(f"{path}.model", "missing")
    key = parser.string(raw["model"], f"{path}.model")
    model = next((m for m in models if m.id == key), None) or next(
        (m for m in models if m.name == key), None
    )
    if model is None:
        parser.fail(f"{path}.model", f"unknown model {key!r}")
    if "test_case" not in raw:
        return RunRef(model.id, None, model.name)
    case_id = parser.integer(raw["test_case"], f"{path}.test_case")
    case = model.test_case(case_id)
    if case is None:
        parser.fail(f"{path}.test_case", f"model {model.name!r} has no test case {case_id}")
    return RunRef(model.id, case_id, case.name)
