"""The hooks of pytest-dai, implemented in a conftest of the inner session."""

from __future__ import annotations

import pytest
from harness.marked import Target, marked_tests, runs_of_each_outcome

from pytest_dai.simulator import DAISimulator

from .conftest import junit, run

MAP_OUTCOME_CONFTEST = """
    def pytest_dai_map_outcome(item, execution):
        if execution.state == "cancelled" and not execution.aborted:
            return "skipped"
        if execution.state == "failed":
            return "passed"
        return None
    """

RECORDING_CONFTEST = """
    def _record(hook, item, execution):
        with open("hooks.log", "a") as log:
            log.write(f"{hook} {item.name} {execution.id}\\n")

    def pytest_dai_execution_started(item, execution):
        _record("started", item, execution)

    def pytest_dai_execution_finished(item, execution):
        assert execution.finished or execution.aborted
        _record("finished", item, execution)
    """

THREE_RUNS = runs_of_each_outcome("pass", "fail", "deadline")


def test_map_outcome_turns_a_server_cancellation_into_a_skip(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makeconftest(MAP_OUTCOME_CONFTEST)
    pytester.makepyfile(
        marked_tests(Target("model", "Cancel", {"agent": "agent-1"}), name="test_cancelled")
    )
    run(pytester).assert_outcomes(skipped=1)

    case = junit(pytester)["test_cancelled"]
    assert case.outcome == "skipped"
    assert "cancelled on the server" in case.message


def test_map_outcome_turns_a_failed_run_into_a_pass(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makeconftest(MAP_OUTCOME_CONFTEST)
    failing = Target("model", "Fail", {"agent": "agent-1"})
    pytester.makepyfile(
        marked_tests(
            failing,
            name="test_failed",
            fixture="dai_execution",
            body='assert dai_execution.status == "Failed"',
        )
    )
    run(pytester).assert_outcomes(passed=1)

    assert junit(pytester)["test_failed"].properties["dai_status"] == "Failed"


def test_started_and_finished_are_called_once_per_run(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makeconftest(RECORDING_CONFTEST)
    pytester.makepyfile(THREE_RUNS)
    run(pytester).assert_outcomes(passed=1, failed=2)

    calls = sorted((pytester.path / "hooks.log").read_text().splitlines())
    ids = {ex["model_name"]: ex["execution_id"] for ex in dai_env.executions()}
    assert len(ids) == 3
    expected = sorted(
        f"{hook} {name} {ids[model]}"
        for hook in ("started", "finished")
        for name, model in (("test_pass", "Pass"), ("test_fail", "Fail"), ("test_deadline", "Slow"))
    )
    assert calls == expected


USER_HOOK_MODULE = marked_tests(Target("model", "Pass", {"agent": "agent-1"}), name="test_marked")


@pytest.mark.parametrize(
    ("conftest", "shown"),
    [
        (
            """
            def pytest_dai_execution_finished(item, execution):
                raise ValueError("my hook broke")
            """,
            'raise ValueError("my hook broke")',
        ),
        (
            """
            def pytest_dai_map_outcome(item, execution):
                return ValueError("my hook said so")
            """,
            "E   ValueError: my hook said so",
        ),
    ],
    ids=["raised", "returned"],
)
def test_an_exception_from_a_users_hook_shows_the_users_frame_not_the_plugins(
    pytester: pytest.Pytester, dai_env: DAISimulator, conftest: str, shown: str
) -> None:
    pytester.makeconftest(conftest)
    pytester.makepyfile(USER_HOOK_MODULE)
    result = run(pytester)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    failure = out.split("= FAILURES =", 1)[1].split("Captured log", 1)[0].split("= DAI", 1)[0]
    assert shown in failure, out
    assert "pytest_dai/" not in failure, failure  # no frame of the plugin
    assert len(failure.splitlines()) < 20, failure


def test_a_fault_of_the_plugin_itself_keeps_its_traceback(
    pytester: pytest.Pytester, dai_env: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a user's hook's exception hides the plugin's frames."""
    pytester.makeconftest(
        """
        import pytest_dai.glue.run.runner as runner

        def broken(item, execution):
            raise RuntimeError("plugin bug")

        runner.record = broken
        """
    )
    pytester.makepyfile(USER_HOOK_MODULE)
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert "pytest_dai/glue/run/runner.py" in result.stdout.str()
