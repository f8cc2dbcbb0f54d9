"""``RunReport``: the typed facts of a run, as the test report carries them. They cross to the
xdist controller as plain data and come back typed; strings are made for JUnit only."""

from __future__ import annotations

import json

import pytest

from pytest_dai.client.status import RunState
from pytest_dai.glue.report.facts import RunReport, from_plain, to_plain
from pytest_dai.lifecycle.steps import StepResult


def model_run(**changes: object) -> RunReport:
    facts: dict[str, object] = {
        "kind": "model",
        "key": "e-1",
        "name": "Shop",
        "nodeid": "t.py::test_shop",
        "status": "Running",
        "state": RunState.RUNNING,
        "url": "https://dai.example/runs/7",
        "run_id": "7",
        "agent": "agent-1",
        "duration": 12.345,
        "steps_total": 3,
        "steps_failed": None,
        "steps": [StepResult(1, "001 Open", "passed", 1.5), StepResult(2, "002 Pay", "skipped")],
    }
    facts.update(changes)
    return RunReport(**facts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "run",
    [
        model_run(),
        model_run(aborted=True, interrupted="the session was interrupted", by_hand=True),
        model_run(
            kind="test_config",
            key="task-1",
            name="Nightly",
            agent="",
            run_id="",
            duration=None,
            state=RunState.PASSED,
            status="PASSED",
            finished=True,
            steps_total=None,
        ),
    ],
    ids=["model", "aborted-by-hand", "test-config"],
)
def test_a_run_crosses_to_the_controller_as_plain_data_and_comes_back_typed(
    run: RunReport,
) -> None:
    plain = json.loads(json.dumps(to_plain([run])))  # what execnet or a report log carries
    (back,) = from_plain(plain)
    assert back == run
    assert isinstance(back.state, RunState)
    assert all(isinstance(step, StepResult) for step in back.steps)
    assert back.duration == run.duration  # a number, never parsed back from "12.3"


def test_properties_are_the_product_specs_strings() -> None:
    assert model_run(rerun_of="5").properties() == [
        ("dai_rerun_of", "5"),
        ("dai_execution_id", "e-1"),
        ("dai_run_id", "7"),
        ("dai_model", "Shop"),
        ("dai_agent", "agent-1"),
        ("dai_status", "Running"),
        ("dai_url", "https://dai.example/runs/7"),
        ("dai_duration", "12.3"),
        ("dai_steps_total", "3"),
        ("dai_steps_failed", "0"),
    ]
    aborted = dict(model_run(aborted=True, run_id="").properties())
    assert aborted["dai_status"] == "Aborted (last seen Running)"
    assert aborted["dai_aborted"] == "true"
    assert "dai_run_id" not in aborted  # not known: left out rather than empty
    config = dict(
        model_run(
            kind="test_config",
            key="task-1",
            name="Nightly",
            run_id="",
            steps_total=None,
            aborted=True,
            abort_report="DELETE task instance: 204",
        ).properties()
    )
    assert list(config) == [
        "dai_test_config",
        "dai_task_instance_id",
        "dai_status",
        "dai_url",
        "dai_duration",
        "dai_aborted",
        "dai_abort",
    ]
    assert config["dai_abort"] == "DELETE task instance: 204"


def test_the_steps_file_says_aborted_and_the_summary_what_was_last_seen() -> None:
    run = model_run(aborted=True)
    assert (run.cut_short, run.ended_as, run.status_text) == (
        True,
        "Aborted",
        "Aborted (last seen Running)",
    )
    ended = model_run(aborted=True, finished=True, status="Failed", state=RunState.FAILED)
    assert (ended.cut_short, ended.ended_as, ended.status_text) == (False, "Failed", "Failed")
    assert not ended.passed
    assert model_run(state=RunState.PASSED).passed


def test_unknown_keys_from_another_version_are_ignored() -> None:
    data = model_run().to_dict() | {"from_the_future": 1}
    assert RunReport.from_dict(data) == model_run()
