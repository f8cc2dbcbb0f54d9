"""The live line: a finished run's time is its duration, as the summary shows it (not the time
until the poll that saw the end); a run queued for an offline agent says so; after Ctrl-C no
piece of the live text is left on the terminal (the terminal's ``^C`` echo moved the cursor)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_dai.glue.report.live import describe_progress
from pytest_dai.glue.report.terminal import TerminalOut
from pytest_dai.simulator import DAISimulator

from .conftest import marked_test, run
from .test_terminal_hygiene import Screen


def a_run(**facts: Any) -> Any:
    """A stand-in for a run, with what :func:`describe_progress` reads."""
    base: dict[str, Any] = {
        "kind": "model",
        "model": "Shop",
        "agent": "agent-1",
        "status": "Passed",
        "steps_total": 3,
        "steps_done": 3,
        "steps_failed": 0,
        "agent_offline": "",
        "finished": True,
        "duration": 1.62,
        "elapsed": 5.3,
    }
    return SimpleNamespace(**{**base, **facts})


def test_a_finished_run_shows_its_duration_as_the_summary_does() -> None:
    assert describe_progress(a_run()) == "Shop on agent-1: Passed, steps 3/3, 1.6s"
    going = a_run(status="Running", steps_done=1, finished=False, duration=0.4)
    assert describe_progress(going) == "Shop on agent-1: Running, steps 1/3, 5s"
    unknown = a_run(duration=None)
    assert describe_progress(unknown).endswith(", 5s")


def test_a_run_queued_for_an_offline_agent_says_so() -> None:
    queued = a_run(
        status="Queued",
        steps_done=0,
        finished=False,
        duration=None,
        elapsed=35.2,
        agent_offline="agent 'agent-1' is offline",
    )
    assert describe_progress(queued) == (
        "Shop on agent-1: Queued (agent 'agent-1' is offline), steps 0/3, 35s"
    )


@pytest.mark.slow
def test_the_end_line_and_the_summary_agree_for_a_short_run(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Pass"))
    # polls a second apart: the end is seen well after the run's 0.05 s
    result = run(pytester, "--dai-poll-interval=1")
    result.assert_outcomes(passed=1)
    (ended,) = [line for line in result.outlines if line.startswith("DAI run ended: ")]
    took = re.search(r", (\d+\.\d)s$", ended)
    assert took is not None, ended
    (row,) = [line for line in result.outlines if line.startswith("Pass ") and "/runs/" in line]
    assert f"  {took.group(1)}s  " in row, (ended, row)


class Writer:
    """What pytest's terminal writer keeps of the line it is on."""

    def __init__(self, columns: int) -> None:
        self.fullwidth = columns
        self._current_line = ""

    @property
    def width_of_current_line(self) -> int:
        return len(self._current_line)


class Reporter:
    """A terminal reporter writing to a :class:`Screen`."""

    isatty = True

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self._tw = Writer(screen.columns)

    def write(self, text: str, **_: object) -> None:
        self.screen.feed(text)
        self._tw._current_line += text.rsplit("\n", 1)[-1]

    def flush(self) -> None:
        pass


def terminal(screen: Screen) -> tuple[TerminalOut, Reporter]:
    reporter = Reporter(screen)
    plugins = {"terminalreporter": reporter, "capturemanager": None}
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=plugins.get))
    return TerminalOut(config), reporter  # type: ignore[arg-type]


@pytest.mark.parametrize("columns", [40, 80])
def test_after_ctrl_c_only_pytests_text_is_left_on_the_line(columns: int) -> None:
    screen = Screen(columns)
    out, reporter = terminal(screen)
    reporter.write("test_long.py ")
    out.rewrite(" [DAI Long on agent-1: Running, steps 1/3, 12s]")
    assert "[DAI" in screen.text()[-1]
    screen.feed("^C")  # the terminal's echo of Ctrl-C, at the cursor
    out.wipe()
    assert screen.text()[-1] == "test_long.py"
    assert reporter._tw._current_line == "test_long.py "
    assert screen.wrapped == []
    assert not out.shown


def test_backspaces_alone_would_leave_a_stray_bracket() -> None:
    """Why :meth:`TerminalOut.wipe` exists: the clearing that serves between results."""
    screen = Screen(80)
    out, reporter = terminal(screen)
    reporter.write("test_long.py ")
    out.rewrite(" [DAI Long on agent-1: Running, steps 1/3, 12s]")
    screen.feed("^C")
    out.rewrite("")
    assert screen.text()[-1] == "test_long.py  [", screen.text()


def test_wipe_without_live_text_writes_nothing() -> None:
    screen = Screen(80)
    out, reporter = terminal(screen)
    reporter.write("test_a.py .")
    out.wipe()
    assert screen.text()[-1] == "test_a.py ."
