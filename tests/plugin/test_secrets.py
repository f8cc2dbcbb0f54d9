"""The client secret and the access tokens never show: not on the terminal, not in the JUnit
files, not in pytest's cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness.marked import runs_of_each_outcome

from pytest_dai.simulator import DAISimulator

from .conftest import JUNIT, run

RUNS_AND_PRINTS = "import logging\n" + runs_of_each_outcome(
    "pass",
    "fail",
    "error",
    "deadline",
    fixtures={"pass": "dai_execution, dai_session"},
    bodies={
        "pass": "print(repr(dai_execution), repr(dai_session), repr(dai_session.client))\n"
        '    logging.getLogger("user").debug("run %r", dai_execution.run)'
    },
)


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_no_secret_or_token_in_output_junit_or_cache(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    # Short-lived tokens: the session needs several.
    dai_env.set_faults(token_lifetime=0.1)
    pytester.makepyfile(RUNS_AND_PRINTS)
    result = run(
        pytester,
        "-v",
        "-rA",
        "--log-level=DEBUG",
        "-o",
        "log_cli=true",
        "--log-cli-level=DEBUG",
        "-o",
        "junit_logging=all",
        "--dai-junit-steps=steps.xml",
    )
    result.assert_outcomes(passed=1, failed=3)

    secrets = [dai_env.client_secret, *dai_env.issued_tokens()]
    assert len(secrets) >= 3, "expected several tokens to be issued"
    cache = files_under(pytester.path / ".pytest_cache")
    assert any("dai" in str(path) for path in cache), cache
    places = {
        "stdout": result.stdout.str(),
        "stderr": result.stderr.str(),
        JUNIT: (pytester.path / JUNIT).read_text(),
        "steps.xml": (pytester.path / "steps.xml").read_text(),
    }
    places.update({str(path): path.read_text(errors="replace") for path in cache})
    hits = [(where, s[:6]) for where, text in places.items() for s in secrets if s in text]
    assert hits == []
