"""The plugin against the simulator in its default dialect, which follows contract revision 2
(the real log shape, modeluuid, pages of 20, agent null = no agent): the examples pass, a marker
without an agent starts with ``agent: null`` and reports "no agent", ``dai_agent`` picks the
agent and the record names it, and nothing ever sends ``POST /ai/agents``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from harness.env import point_env_at
from harness.simulators import agent_creations, starts, the_execution
from harness.wire import EXECUTIONS

from pytest_dai.simulator import DAISimulator

from .conftest import junit, marked_test, run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

NO_AGENT_TEST = """
    import pytest

    @pytest.mark.dai_model("Pass")
    def test_run():
        pass
    """


@pytest.mark.slow
def test_the_examples_pass_on_the_revision_2_simulator(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, never_creates_agents: list[Any]
) -> None:
    point_env_at(monkeypatch, None)
    shutil.copytree(
        EXAMPLES, pytester.path / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    before = len(never_creates_agents)
    result = pytester.runpytest("examples", "--dai-simulator", "--junitxml=junit.xml")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 4, outcomes
    assert (outcomes.get("failed", 0), outcomes.get("errors", 0)) == (0, 0), outcomes
    assert outcomes.get("xfailed") == 1, outcomes
    # the in-process --dai-simulator was watched by the session-wide POST /ai/agents check
    (simulator,) = never_creates_agents[before:]
    assert simulator.dialect.log_shape == "v2"
    assert agent_creations(simulator) == []
    # every start named its model by the listing's modeluuid
    model_ids = {
        (r.body or {}).get("model_id") for r in simulator.request_log() if r.path == EXECUTIONS
    }
    assert model_ids <= {m.id for m in simulator.scenario.models}


def test_a_marker_without_an_agent_starts_with_agent_null_and_says_no_agent(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(NO_AGENT_TEST)
    result = run(pytester, "--dai-junit-steps=steps.xml")
    result.assert_outcomes(passed=1)
    (body,) = starts(dai_env)
    assert "agent" in body
    assert body["agent"] is None
    assert the_execution(dai_env, "Pass")["agent_id"] is None
    case = junit(pytester)["test_run"]
    assert case.properties["dai_agent"] == "no agent"
    summary = result.stdout.str().split("DAI model runs", 1)[1]
    assert any(
        line.split()[:4] == ["Pass", "no", "agent", "Passed"] for line in summary.splitlines()
    )
    steps = (pytester.path / "steps.xml").read_text()
    assert '<property name="dai_agent" value="no agent" />' in steps


def test_dry_run_without_an_agent_says_no_agent(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(NO_AGENT_TEST)
    result = run(pytester, "--dai-dry-run")
    result.assert_outcomes(skipped=1)
    assert junit(pytester)["test_run"].message == "dry run: would start model 'Pass' with no agent"


@pytest.mark.parametrize("how", ["option", "environment", "ini"])
def test_dai_agent_names_the_agent_and_the_record_reports_it(
    pytester: pytest.Pytester, dai_env: DAISimulator, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    pytester.makepyfile(NO_AGENT_TEST)
    args: list[str] = []
    if how == "option":
        args = ["--dai-agent=agent-3"]
    elif how == "environment":
        monkeypatch.setenv("DAI_AGENT", "agent-3")
    else:
        pytester.makeini("[pytest]\ndai_agent = agent-3\n")
    run(pytester, *args).assert_outcomes(passed=1)
    (body,) = starts(dai_env)
    assert body["agent"] == {"agent_id": "agent-3", "is_hosted_agent": False}
    execution = the_execution(dai_env, "Pass")
    assert execution["agent_name"] == "agent-3"
    assert junit(pytester)["test_run"].properties["dai_agent"] == execution["agent_name"]


def test_the_markers_agent_beats_dai_agent(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Pass", agent="agent-2"))
    run(pytester, "--dai-agent=agent-3").assert_outcomes(passed=1)
    assert starts(dai_env)[0]["agent"]["agent_id"] == "agent-2"


def test_script_asset_and_pause_reach_the_start_body(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(
        marked_test("Pass", script="TestCases/Login", asset="Suites/Shop.suite", step_pause_time=0)
    )
    run(pytester).assert_outcomes(passed=1)
    (body,) = starts(dai_env)
    assert body["script"] == "TestCases/Login"
    assert body["asset"] == {"asset_path": "Suites/Shop.suite"}
    assert body["step_pause_time"] == 0


def test_a_fractional_step_pause_time_is_a_one_line_marker_error(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Pass", step_pause_time=1.5))
    result = run(pytester)  # a marker error, found at collection as for every bad argument
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    assert starts(dai_env) == []
    case = junit(pytester)["test_run"]
    assert (case.outcome, case.message) == ("error", "collection failure")
    message = case.text
    assert "step_pause_time: expected a whole number of seconds >= 0" in message
    assert "1.5" in message


def test_v2_auth_against_the_simulator(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    pytester.makepyfile(marked_test("Pass"))
    run(pytester, "--dai-auth=v2").assert_outcomes(passed=1)
    auths = [r for r in dai_env.request_log() if r.path in ("/api/v2/auth",)]
    assert [(r.method, r.status) for r in auths] == [("POST", 200)]
    assert not [r for r in dai_env.request_log() if "openid-connect" in r.path]


def test_the_session_watch_sees_the_tests_simulators(
    dai_env: DAISimulator, never_creates_agents: list[DAISimulator]
) -> None:
    assert dai_env in never_creates_agents


def test_a_csv_token_url_wins_over_the_derived_one(pytester: pytest.Pytester) -> None:
    from .test_settings import resolve, write_csv

    kc = "https://kc-dai.example/auth/realms/custom/protocol/openid-connect/token"
    write_csv(pytester.path / "creds.csv", token_url=kc)
    settings = resolve(
        pytester,
        "--dai-url=https://dai.example",
        "--dai-realm=other",
        "--dai-credentials=creds.csv",
    )
    assert settings.token_url == kc
    assert settings.sources["token_url"].startswith("credentials file ")


def test_v2_auth_derives_its_url_from_the_server(pytester: pytest.Pytester) -> None:
    from .test_settings import resolve, write_csv

    write_csv(pytester.path / "creds.csv", token_url="https://kc.example/token")
    settings = resolve(
        pytester, "--dai-url=https://dai.example", "--dai-auth=v2", "--dai-credentials=creds.csv"
    )
    assert (settings.auth, settings.token_url) == ("v2", "https://dai.example/api/v2/auth")
    assert settings.sources["token_url"] == "derived from url (dai_auth = v2)"
    explicit = resolve(
        pytester, "--dai-url=https://dai.example", "--dai-auth=v2", "--dai-token-url=https://a.b/x"
    )
    assert explicit.token_url == "https://a.b/x"
    with pytest.raises(pytest.UsageError, match="--dai-auth from the command line: expected "):
        resolve(pytester, "--dai-url=https://dai.example", "--dai-auth=basic")
