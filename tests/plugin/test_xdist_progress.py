"""Progress under pytest-xdist: the workers send a run's start (with its address), its progress
and its end to the controller, which prints each once, in order, between xdist's own output
(``-n 2``, with and without ``-v``, in a CI log and on a terminal)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from pytest_dai.simulator import DAISimulator

from .test_terminal_hygiene import (
    ANSI,
    PROGRESS,
    TESTS,
    Screen,
    _inner_args,
    run_on_a_terminal,
    sim,  # noqa: F401  (the fixture: runs long enough to watch)
)

#: Progress lines every 0.05 s instead of every 30 s (the workers import this conftest too).
FAST_LOG = """
    import pytest_dai.glue.report.live as live

    live.LOG_INTERVAL = 0.05
    """

RUNS = {"Pass": ("agent-1", "test_pass", "PASSED"), "Fail": ("agent-2", "test_fail", "FAILED")}
NEWS = re.compile(r"^\[(gw\d)\] DAI run (started|going|ended): (\w+) on ")

pytestmark = pytest.mark.slow


def _args(pytester: pytest.Pytester, *args: str) -> list[str]:
    return _inner_args(pytester, "-n", "2", *args)


def _env(columns: int, *, ci: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "CI")}
    env["COLUMNS"] = str(columns)
    if ci:
        env["CI"] = "true"
    return env


def _news(lines: list[str]) -> list[tuple[int, str, str, str]]:
    """(line number, worker, what, model) of every progress line."""
    found = []
    for number, line in enumerate(lines):
        match = NEWS.match(line)
        if match:
            found.append((number, match.group(1), match.group(2), match.group(3)))
    return found


@pytest.mark.parametrize("verbose", [False, True], ids=["dots", "verbose"])
def test_ci_log_gets_each_runs_start_progress_and_end_once_in_order(
    pytester: pytest.Pytester, dai_env: DAISimulator, verbose: bool
) -> None:
    pytester.makepyfile(test_progress=TESTS)
    pytester.makeconftest(FAST_LOG)
    done = subprocess.run(
        _args(pytester, *(["-v"] if verbose else [])),
        cwd=pytester.path,
        env=_env(100, ci=True),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stdout
    news = _news(lines)
    for model, (agent, test, word) in RUNS.items():
        mine = [(number, worker, what) for number, worker, what, name in news if name == model]
        whats = [what for _, _, what in mine]
        assert whats[0] == "started", lines
        assert whats[-1] == "ended", lines
        assert whats.count("started") == 1, lines
        assert whats.count("ended") == 1, lines
        if model == "Pass":  # half a second of polls (Fail may end at its second poll)
            assert "going" in whats, lines  # every 0.05 s here; every 30 s by default
        assert {worker for _, worker, _ in mine} == {mine[0][1]}, lines
        started = lines[mine[0][0]]
        assert re.search(
            rf"DAI run started: {model} on {agent}: http://127\.0\.0\.1:\d+/runs/", started
        )
        if verbose:
            # xdist's result line of the test comes after its run ended, from the same worker
            (result,) = [
                i
                for i, line in enumerate(lines)
                if line.endswith(f"{word} test_progress.py::{test} ")
                or line.endswith(f"{word} test_progress.py::{test}")
            ]
            assert result > mine[-1][0], lines
            assert lines[result].startswith(f"[{mine[0][1]}] "), lines
    # xdist's own output is whole: no blank line inside the results, the [NN%] column where
    # pytest puts it (one short of the width), each test id at most in xdist's two lines
    first, last = news[0][0], news[-1][0]
    assert "" not in lines[first : last + 1], lines
    if verbose:
        assert any(re.match(r"\[gw\d\] \[\s*\d+%\] (PASSED|FAILED) ", line) for line in lines)
    else:
        progress = [line for line in lines if PROGRESS.search(line)]
        assert progress, lines
        assert all(len(line) == 99 for line in progress), progress
    start = next(i for i, line in enumerate(lines) if "workers [4 items]" in line)
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith("=="))
    for test in ("test_plain", "test_pass", "test_fail", "test_last"):
        named = [line for line in lines[start:end] if line.rstrip().endswith(f"::{test}")]
        assert len(named) <= (2 if verbose else 0), lines


def test_quiet_prints_no_progress(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    pytester.makepyfile(test_progress=TESTS)
    done = subprocess.run(
        _args(pytester, "-q"),
        cwd=pytester.path,
        env=_env(100, ci=True),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 1, done.stdout
    assert not _news(done.stdout.splitlines()), done.stdout
    assert "[DAI " not in done.stdout


@pytest.mark.parametrize("verbose", [False, True], ids=["dots", "verbose"])
def test_terminal_shows_live_progress_and_leaves_xdist_lines_as_they_were(
    pytester: pytest.Pytester, dai_env: DAISimulator, verbose: bool
) -> None:
    pytester.makepyfile(test_progress=TESTS)
    columns = 160  # room for both runs' live text after the longest test id
    screen = Screen(columns)
    args = _args(pytester, *(["-v"] if verbose else []))
    raw = run_on_a_terminal(args, pytester, _env(columns, ci=False), screen, timeout=180)

    lines = screen.text()
    texts = re.findall(r"\[DAI ([^\]]*)\]", ANSI.sub("", raw))
    live = {found for text in texts for found in re.findall(r"gw\d (Pass|Fail)\b", text)}
    assert live == {"Pass", "Fail"}, raw
    assert not any("[DAI " in line for line in lines), "live text left on the screen"
    assert not [line for line in screen.wrapped if line.startswith(".")], lines
    assert not [line for line in lines if "] DAI run " in line], "log lines on a terminal"
    if verbose:
        # each test: xdist's line when it starts, and its result line, each whole
        for test, word in [
            ("test_plain", "PASSED"),
            ("test_pass", "PASSED"),
            ("test_fail", "FAILED"),
            ("test_last", "PASSED"),
        ]:
            assert f"test_progress.py::{test}" in lines, lines
            results = [line for line in lines if line.endswith(f"{word} test_progress.py::{test}")]
            assert len(results) == 1, lines
            assert re.match(r"\[gw\d\] \[\s*\d+%\] ", results[0]), lines
        return
    results = [line for line in lines if PROGRESS.search(line)]
    assert len(results) == 1, lines
    assert results[0].startswith(".") or results[0].startswith("F"), lines
    assert sorted(results[0].split()[0]) == sorted("..F."), lines
    assert len(results[0]) == columns - 1, lines
