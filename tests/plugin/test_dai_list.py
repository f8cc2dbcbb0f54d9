"""``pytest --dai-list models|agents|configs``: the names and ids a marker can use, from one
listing request, then exit without collecting or running anything; the usual one-line errors."""

from __future__ import annotations

import re

import pytest
from harness.wire import TOKEN_PATH

from pytest_dai.simulator import DAISimulator

from .conftest import run, run_subprocess

TEST_MODULE = "def test_never_run():\n    raise AssertionError('collected')\n"


def listing_requests(sim: DAISimulator) -> list[str]:
    """What the session asked the server, the token aside."""
    return [f"{r.method} {r.path}" for r in sim.request_log() if r.path != TOKEN_PATH]


def rows(result: pytest.RunResult) -> list[list[str]]:
    """The listing's table rows (header first), split on the column gaps."""
    start = next(
        i
        for i, line in enumerate(result.outlines)
        if line.startswith("dai: ") and ("a marker takes" in line)
    )
    found = []
    for line in result.outlines[start + 1 :]:
        if not line.startswith("  "):
            break
        found.append(re.split(r"\s{2,}", line.strip()))
    return found


def test_models_names_and_ids_one_request_nothing_run(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(TEST_MODULE)
    result = run(pytester, "--dai-list", "models")
    assert result.ret == pytest.ExitCode.OK
    table = rows(result)
    assert table[0] == ["name", "id"]
    assert [row[0] for row in table[1:]] == ["Pass", "Fail", "Error", "Cancel", "Slow"]
    assert all(len(row) == 2 and row[1] for row in table[1:]), table  # the server's ids
    assert len(table) == 1 + 5
    assert listing_requests(dai_env) == ["GET /ai/models"]
    assert "collected" not in result.stdout.str().replace("no tests ran", "")


def test_agents_say_which_are_offline(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    result = run(pytester, "--dai-list=agents")
    assert result.ret == pytest.ExitCode.OK
    table = rows(result)
    assert table[0] == ["name", "id", "status"]
    assert ["agent-1", "agent-1", "online"] in table
    (offline,) = [row for row in table if row[0] == "agent-offline"]
    assert offline[2].lower() == "offline"
    assert listing_requests(dai_env) == ["GET /ai/agents"]


@pytest.mark.slow
def test_configs_of_the_bundled_simulator(pytester: pytest.Pytester, no_dai_env: None) -> None:
    result = run_subprocess(pytester, "--dai-simulator", "--dai-list", "configs")
    assert result.ret == pytest.ExitCode.OK
    table = rows(result)
    assert table[0] == ["name", "id", "model or suite", "space"]
    assert "Nightly shop" in [row[0] for row in table]
    result.stdout.fnmatch_lines(["dai: * configs on http://127.0.0.1:*"])


@pytest.mark.slow
def test_under_xdist_it_is_printed_once(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    pytester.makepyfile(TEST_MODULE)
    result = run_subprocess(pytester, "-n", "2", "--dai-list", "models")
    assert result.ret == pytest.ExitCode.OK
    assert sum("a marker takes" in line for line in result.outlines) == 1
    assert listing_requests(dai_env) == ["GET /ai/models"]


@pytest.mark.slow
def test_a_bad_word_is_one_line(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    result = run_subprocess(pytester, "--dai-list", "model")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == (
        "ERROR: --dai-list from the command line: expected models or agents or configs, got 'model'"
    )
    assert listing_requests(dai_env) == []


def test_a_server_that_cannot_be_asked_is_one_line_and_exit_1(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, no_dai_env: None
) -> None:
    monkeypatch.setenv("DAI_CLIENT_SECRET", "list-S3cret-a81")
    result = run(
        pytester, "--dai-url=http://127.0.0.1:9", "--dai-request-retries=1", "--dai-list=agents"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (line,) = [line for line in result.outlines if line.startswith("dai: could not")]
    assert line.startswith("dai: could not list the agents of http://127.0.0.1:9: ")
    assert "list-S3cret-a81" not in result.stdout.str() + result.stderr.str()
