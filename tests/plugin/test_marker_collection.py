"""Mistakes found when pytest starts, before any run: bad markers are collection errors (also
with ``--co``), a secret in the ini file gets its own warning, ``--dai-simulator`` before a
test folder leaves the folder a test path."""

from __future__ import annotations

import os

import pytest

SECRET = "ini-Secret-never-shown-42"

MODULE = """
import pytest

@pytest.mark.dai_model("Shop", agnet="agent-1")
def test_bad_model():
    pass

@pytest.mark.dai_test_config("Nightly", colour="red")
def test_bad_config():
    pass

@pytest.mark.dai_model("Shop", "agent-1")
def test_two_positional():
    pass

@pytest.mark.dai_test_config()
def test_no_config():
    pass

@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.dai_model("Shop", timeout="soon")
def test_bad_timeout(n):
    pass

@pytest.mark.dai_model("Shop", agent="agent-1", timeout=60)
def test_good_model():
    pass

@pytest.mark.dai_test_config("Nightly", suite="Shop", timeout=60)
def test_good_config():
    pass

def test_plain():
    pass
"""

ERRORS = {
    "test_bad_model": "DAIConfigError: @pytest.mark.dai_model on test_markers.py::test_bad_model:"
    " unknown keyword 'agnet', did you mean 'agent'? (known: agent, test_case, sut, "
    "sut_criteria, rerun, step_pause_time, timeout, min_steps, script, asset, prestart)",
    "test_bad_config": "DAIConfigError: @pytest.mark.dai_test_config on "
    "test_markers.py::test_bad_config: unknown keyword 'colour' (known: model, suite, space, "
    "parameters, filter_by, timeout, prestart)",
    "test_two_positional": "DAIConfigError: @pytest.mark.dai_model on "
    "test_markers.py::test_two_positional: too many positional arguments (2): only the model "
    "is positional, give the others as keywords (agent=..., timeout=...)",
    "test_no_config": "DAIConfigError: @pytest.mark.dai_test_config on "
    "test_markers.py::test_no_config: config is required (the first positional argument)",
    "test_bad_timeout[1]": "DAIConfigError: @pytest.mark.dai_model on "
    "test_markers.py::test_bad_timeout[1]: timeout: expected a number of seconds >= 0, got "
    "'soon'",
    "test_bad_timeout[2]": "DAIConfigError: @pytest.mark.dai_model on "
    "test_markers.py::test_bad_timeout[2]: timeout: expected a number of seconds >= 0, got "
    "'soon'",
}


@pytest.fixture(autouse=True)
def _no_dai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DAI_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("collect_only", [False, True], ids=["run", "co"])
def test_bad_markers_are_collection_errors_naming_the_test(
    pytester: pytest.Pytester, collect_only: bool
) -> None:
    pytester.makepyfile(test_markers=MODULE)
    result = pytester.runpytest(*(["--co"] if collect_only else []), "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    lines = result.outlines
    for test, message in ERRORS.items():
        assert message in lines, test  # the whole error is this one line
        assert any(line.startswith(f"ERROR test_markers.py::{test} - ") for line in lines), test
    assert f"{len(ERRORS)} errors during collection" in result.stdout.str()
    assert "test_good_model" not in "\n".join(line for line in lines if "Error" in line)
    assert "passed" not in result.stdout.str()  # nothing ran: found before any run


def test_the_other_tests_run_with_continue_on_collection_errors(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_markers=MODULE.split('@pytest.mark.dai_model("Shop", agent=')[0])
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest("--continue-on-collection-errors", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=len(ERRORS))


def test_good_markers_collect_cleanly_and_deselected_ones_are_not_checked(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_markers=MODULE)
    result = pytester.runpytest("--co", "-q", "-k", "good or plain")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*3/9 tests collected (6 deselected)*"])
    assert "DAIConfigError" not in result.stdout.str()


def test_dai_model_and_dai_test_config_together_is_a_collection_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_both="""
        import pytest

        @pytest.mark.dai_model("Shop")
        @pytest.mark.dai_test_config("Nightly")
        def test_both():
            pass
        """
    )
    result = pytester.runpytest("--co")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert (
        "DAIError: test_both.py::test_both: a test takes dai_model or dai_test_config, not both"
        in result.outlines
    )


@pytest.mark.parametrize("where", ["ini", "toml"])
def test_a_secret_in_the_ini_file_gets_its_own_warning(
    pytester: pytest.Pytester, where: str
) -> None:
    if where == "ini":
        pytester.makeini(f"[pytest]\ndai_client_secret = {SECRET}\n")
    else:
        pytester.makepyprojecttoml(f'[tool.pytest.ini_options]\ndai_client_secret = "{SECRET}"\n')
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1, warnings=1)
    text = result.stdout.str() + result.stderr.str()
    assert SECRET not in text
    assert "Unknown config option" not in text
    result.stdout.fnmatch_lines(
        [
            "*PytestConfigWarning: dai_client_secret in the ini file is ignored on purpose: a "
            "secret in a committed file leaks; set DAI_CLIENT_SECRET or give the API Access CSV "
            "(--dai-credentials)"
        ]
    )


def test_no_warning_without_a_secret_in_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ndai_timeout = 60\n")
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "dai_client_secret" not in result.stdout.str()


SIMULATED = """
from pytest_dai.glue.settings.values import SETTINGS_KEY

def test_on_the_simulator(request):
    settings = request.config.stash[SETTINGS_KEY]
    assert settings.simulator == ""
    assert settings.url.startswith("http://127.0.0.1:")
"""


@pytest.mark.parametrize(
    "args",
    [
        ("--dai-simulator", "tests"),
        ("--dai-simulator", "tests/test_sim.py"),
        ("--dai-simulator", "tests/test_sim.py::test_on_the_simulator"),
        ("tests", "--dai-simulator"),
    ],
    ids=["folder", "file", "node-id", "after"],
)
def test_dai_simulator_before_a_test_path_keeps_the_path(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    pytester.mkdir("tests").joinpath("test_sim.py").write_text(SIMULATED, encoding="utf-8")
    pytester.makepyfile(test_elsewhere="def test_elsewhere():\n    assert False\n")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)


def test_dai_simulator_before_something_else_is_still_a_scenario_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest("--dai-simulator", "nothere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "expected a scenario .json file, got 'nothere'" in result.stderr.str()
