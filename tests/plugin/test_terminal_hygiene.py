"""The live line never breaks pytest's column bookkeeping: no wrapped line, no file name or test
id written twice, the ``[NN%]`` column where pytest puts it; on a terminal (a pty) and in a CI
log, at 80 and 120 columns."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from pytest_dai.simulator import DAISimulator

from .conftest import LEISURELY, simulator_of

#: Inner sessions in processes of their own, signals, soaks: see CONTRIBUTING.md.
pytestmark = pytest.mark.slow

TESTS = """
    import pytest

    def test_plain():
        pass

    @pytest.mark.dai_model("Pass", agent="agent-1")
    def test_pass():
        pass

    @pytest.mark.dai_model("Fail", agent="agent-2")
    def test_fail():
        pass

    def test_last():
        pass
    """


@pytest.fixture
def sim() -> Iterator[DAISimulator]:
    """The plugin tests' simulator at a tenth of their pace (:data:`LEISURELY`): runs long
    enough to show live text."""
    yield from simulator_of(LEISURELY)


PROGRESS = re.compile(r"\[\s*\d+%\]$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _inner_args(pytester: pytest.Pytester, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--color=no",
        f"--basetemp={pytester.path / 'basetemp'}",
        "--dai-poll-interval=0.1",
        *args,
    ]


def _env(columns: int) -> dict[str, str]:
    env = dict(os.environ)
    env["COLUMNS"] = str(columns)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _check_progress_lines(lines: list[str], columns: int) -> None:
    progress = [line for line in lines if PROGRESS.search(line)]
    assert progress, lines
    for line in progress:
        # pytest pads the percentage to end one short of the terminal width.
        assert len(line) == columns - 1, (columns, line, lines)


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("verbose", [False, True], ids=["dots", "verbose"])
def test_ci_log_keeps_the_columns_and_names_each_file_once(
    pytester: pytest.Pytester, dai_env: DAISimulator, columns: int, verbose: bool
) -> None:
    pytester.makepyfile(test_columns=TESTS)
    args = ["-v"] if verbose else []
    done = subprocess.run(
        _inner_args(pytester, *args),
        cwd=pytester.path,
        env=_env(columns),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.splitlines()

    assert done.returncode == 1, done.stdout
    assert any(line.startswith("DAI run started: Pass on agent-1: http") for line in lines)
    results = [line for line in lines if not line.startswith(("DAI run ", "dai: "))]
    if verbose:
        for name in ("test_plain", "test_pass", "test_fail", "test_last"):
            named = [line for line in results if line.startswith(f"test_columns.py::{name}")]
            assert len(named) == 1, (name, lines)
    else:
        named = [line for line in results if line.startswith("test_columns.py")]
        assert len(named) == 1, lines
    _check_progress_lines(lines, columns)


class Screen:
    """A tiny terminal: prints, ``\\r``, ``\\n`` and ``\\b``; notes any line that wrapped."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.lines: list[list[str]] = [[]]
        self.col = 0
        self.wrapped: list[str] = []

    def feed(self, text: str) -> None:
        """Put ``text`` on the screen."""
        for char in ANSI.sub("", text):
            line = self.lines[-1]
            if char == "\n":
                self.lines.append([])
                self.col = 0
            elif char == "\r":
                self.col = 0
            elif char == "\b":
                self.col = max(self.col - 1, 0)
            else:
                if self.col >= self.columns:
                    self.wrapped.append("".join(line))
                    self.lines.append([])
                    self.col = 0
                    line = self.lines[-1]
                while len(line) <= self.col:
                    line.append(" ")
                line[self.col] = char
                self.col += 1

    def text(self) -> list[str]:
        """The screen's lines, trailing spaces removed."""
        return ["".join(line).rstrip() for line in self.lines]


def run_on_a_terminal(
    args: list[str],
    pytester: pytest.Pytester,
    env: dict[str, str],
    screen: Screen,
    *,
    timeout: float,
) -> str:
    """Run ``args`` in ``pytester``'s folder with a pty as its terminal, feeding ``screen``;
    everything it wrote (killed after ``timeout`` seconds)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        args, cwd=pytester.path, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    raw = ""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536).decode(errors="replace")
            except OSError:
                break
            if not chunk:
                break
            raw += chunk
            screen.feed(chunk)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
    return raw


@pytest.mark.parametrize("columns", [80, 120])
def test_terminal_live_line_never_wraps_and_leaves_the_line_as_pytest_wrote_it(
    pytester: pytest.Pytester, dai_env: DAISimulator, columns: int
) -> None:
    pytester.makepyfile(test_columns=TESTS)
    screen = Screen(columns)
    raw = run_on_a_terminal(_inner_args(pytester), pytester, _env(columns), screen, timeout=120)

    lines = screen.text()
    assert "[DAI " in raw, lines
    # Long lines of pytest's own (the header, a failure's text) may wrap; the results may not.
    assert not [line for line in screen.wrapped if line.startswith("test_columns.py")], lines
    assert not any("[DAI " in line for line in lines), "live text left on the screen"
    results = [line for line in lines if line.startswith("test_columns.py")]
    assert results == [results[0]], lines
    assert results[0].startswith("test_columns.py ..F. ")
    _check_progress_lines(lines, columns)
