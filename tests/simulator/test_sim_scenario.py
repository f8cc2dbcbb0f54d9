"""Scenario loading and validation, and the packaged default scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_dai.simulator import DIALECTS, DAISimulator, Faults, Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ROOT / "pytest_dai" / "simulator" / "default_scenario.json"
EXAMPLE = ROOT / "examples" / "scenario.json"


def test_default_scenario_equals_example() -> None:
    assert json.loads(PACKAGED.read_text()) == json.loads(EXAMPLE.read_text())


def test_default_scenario_contents() -> None:
    scenario = Scenario.default()
    assert [a.id for a in scenario.agents] == [
        "agent-1",
        "agent-2",
        "agent-3",
        "agent-4",
        "agent-offline",
    ]
    assert [a.online for a in scenario.agents] == [True, True, True, True, False]
    names = {m.name: m for m in scenario.models}
    assert list(names) == [
        "Shop checkout",
        "User login",
        "Search catalogue",
        "Payment declined",
        "Flaky basket",
    ]
    assert len(names["Shop checkout"].steps) == 6
    assert len(names["User login"].steps) == 5
    assert [(c.id, c.name, len(c.steps)) for c in names["User login"].test_cases] == [
        (12, "Valid password", 3),
        (13, "Locked account", 3),
    ]
    assert len(names["Search catalogue"].steps) == 8
    declined = names["Payment declined"]
    assert len(declined.steps) == 5
    assert declined.steps[2].outcome == "failed"
    assert declined.steps[2].message == (
        "Card was declined: expected 'Order confirmed' but saw 'Payment failed'"
    )
    assert names["Flaky basket"].attempts == ("failed", "passed")
    assert len(names["Flaky basket"].steps) == 4
    for model in scenario.models:
        runs = [model.steps, *(case.steps for case in model.test_cases)]
        for steps in runs:
            real = sum(step.duration for step in steps) / scenario.time_scale
            if model.name == "Payment declined":  # ends at the failing step
                real = sum(step.duration for step in steps[:3]) / scenario.time_scale
            assert 1.0 <= real <= 3.0, (model.name, real)
            assert all(step.duration >= 30 for step in steps)  # minutes, simulated


def test_load_accepts_every_form(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text())
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    from_dict = Scenario.load(data)
    assert Scenario.load(str(path)).models == from_dict.models
    assert Scenario.load(path).agents == from_dict.agents
    assert Scenario.load(from_dict) is from_dict
    assert Scenario.load(None).models == from_dict.models
    assert Scenario.load(path).source == str(path)


def test_defaults_of_optional_keys() -> None:
    scenario = Scenario.from_dict(
        {
            "agents": [{"id": "x"}],
            "models": [{"id": "m", "name": "M", "steps": [{"name": "s", "duration": 0}]}],
        }
    )
    assert scenario.realm == "eggplant"
    assert scenario.client_id == "client:dai:agent:integration"
    assert scenario.token_lifetime == 300
    assert scenario.agents[0].name == "x"
    assert scenario.agents[0].online is True
    assert scenario.models[0].steps[0].outcome == "passed"
    assert scenario.faults == Faults()


def test_faults_and_dialect_in_scenario(scenario_data) -> None:
    data = scenario_data(faults={"latency": 0.01, "burst": 2, "retry_after": 1}, dialect="upper")
    scenario = Scenario.from_dict(data)
    assert scenario.faults.latency == 0.01
    assert scenario.faults.burst == 2
    assert scenario.dialect == DIALECTS["upper"]
    scenario = Scenario.from_dict(scenario_data(dialect={"envelope": "data", "id_as_number": True}))
    assert scenario.dialect.envelope == "data"
    assert scenario.dialect.id_as_number is True


def _model(**fields):
    base = {"id": "m1", "name": "M1", "steps": [{"name": "s", "duration": 1}]}
    base.update(fields)
    return base


BASE = {"agents": [{"id": "a"}], "models": [_model()]}


def _with(**changes):
    data = json.loads(json.dumps(BASE))
    data.update(changes)
    return data


BAD_SCENARIOS = [
    pytest.param(
        _with(
            models=[_model(), _model(id="m2", name="M2", steps=[{"name": "s", "duration": "abc"}])]
        ),
        'models[1].steps[0].duration: expected a number >= 0, got "abc"',
        id="duration-string",
    ),
    pytest.param(
        _with(models=[_model(steps=[{"name": "s", "duration": -1}])]),
        "models[0].steps[0].duration: expected a number >= 0, got -1",
        id="negative",
    ),
    pytest.param(_with(colour="blue"), "colour: unknown key", id="unknown-top-key"),
    pytest.param(
        _with(models=[_model(), _model(id="m2")]),
        'models[1].name: duplicate model name "M1" (also models[0])',
        id="dup-name",
    ),
    pytest.param(
        _with(models=[_model(), _model(name="Other")]),
        'models[1].id: duplicate model id "m1" (also models[0])',
        id="dup-id",
    ),
    pytest.param(
        _with(models=[_model(steps=[{"name": "s", "duration": 1, "outcome": "exploded"}])]),
        'models[0].steps[0].outcome: expected one of passed, failed, error, got "exploded"',
        id="bad-outcome",
    ),
    pytest.param(
        _with(models=[_model(attempts=["passed", "maybe"])]),
        'models[0].attempts[1]: expected one of passed, failed, error, cancelled, got "maybe"',
        id="bad-attempt",
    ),
    pytest.param(
        _with(models=[_model(final_status="won")]),
        "models[0].final_status: expected one of",
        id="bad-final",
    ),
    pytest.param(
        _with(models=[_model(steps=[{"name": "s", "duration": 1, "colour": 1}])]),
        "models[0].steps[0].colour: unknown key",
        id="nested-unknown-key",
    ),
    pytest.param(
        _with(models=[_model(steps=[])]),
        "models[0].steps: expected a non-empty list",
        id="no-steps",
    ),
    pytest.param({"models": [_model()]}, "agents: missing", id="no-agents"),
    pytest.param(
        _with(agents=[{"id": "a"}, {"id": "a"}]),
        'agents[1].id: duplicate agent id "a"',
        id="dup-agent",
    ),
    pytest.param(
        _with(agents=[{"id": "a", "online": "yes"}]),
        'agents[0].online: expected true or false, got "yes"',
        id="agent-online",
    ),
    pytest.param(_with(time_scale=0), "time_scale: expected a number > 0, got 0", id="scale"),
    pytest.param(
        _with(faults={"error_rate": 2}),
        "faults.error_rate: expected a number >= 0 and <= 1, got 2",
        id="fault-range",
    ),
    pytest.param(
        _with(faults={"latencyy": 1}), "faults.latencyy: unknown field", id="fault-unknown"
    ),
    pytest.param(
        _with(dialect="klingon"), 'dialect: unknown dialect preset "klingon"', id="dialect-preset"
    ),
    pytest.param(
        _with(dialect={"status_case": "camel"}),
        'dialect.status_case: expected one of "title", "upper", "lower", got "camel"',
        id="dialect-field",
    ),
    pytest.param(
        _with(dialect={"status_words": {"Done": "x"}}),
        "dialect.status_words.Done: unknown status",
        id="dialect-words",
    ),
    pytest.param(
        _with(
            models=[
                _model(
                    test_cases=[
                        {"id": "twelve", "name": "c", "steps": [{"name": "s", "duration": 1}]}
                    ]
                )
            ]
        ),
        'models[0].test_cases[0].id: expected an integer, got "twelve"',
        id="case-id",
    ),
    pytest.param(
        _with(
            models=[
                _model(
                    test_cases=[
                        {"id": 1, "name": "c", "steps": [{"name": "s", "duration": 1}]},
                        {"id": 1, "name": "d", "steps": [{"name": "s", "duration": 1}]},
                    ]
                )
            ]
        ),
        "models[0].test_cases[1].id: duplicate test case id 1",
        id="case-dup",
    ),
    pytest.param([1, 2], "expected an object, got [1, 2]", id="not-object"),
]


@pytest.mark.parametrize(("data", "expected"), BAD_SCENARIOS)
def test_bad_scenario_file(tmp_path: Path, data, expected: str) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ScenarioError) as info:
        Scenario.from_file(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text('{\n  "agents": [\n    {"id": "a"}\n  ]\n  "models": []\n}\n')
    with pytest.raises(ScenarioError) as info:
        Scenario.from_file(path)
    assert str(info.value) == (f"{path}: invalid JSON at line 5, column 3: Expecting ',' delimiter")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(ScenarioError, match=r"nope\.json: no such file"):
        DAISimulator(path)


def test_scenario_error_from_dict_names_source() -> None:
    with pytest.raises(ScenarioError, match=r"^<scenario>: models: missing"):
        DAISimulator({"agents": [{"id": "a"}]})
