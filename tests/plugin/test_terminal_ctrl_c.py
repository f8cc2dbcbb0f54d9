"""Ctrl-C on a real terminal (a pty that is the inner pytest's controlling terminal): the
terminal echoes ``^C`` after the live text, and no piece of the live text (``test_long.py  [``)
is left on the line."""

from __future__ import annotations

import fcntl
import os
import re
import select
import subprocess
import termios
import time

import pytest

from pytest_dai.simulator import DAISimulator

from .test_terminal_hygiene import Screen, _env, _inner_args

pytestmark = pytest.mark.slow

LONG = """
    import pytest

    @pytest.mark.dai_model("Slow", agent="agent-1")
    def test_long():
        pass
    """


def _controlling_terminal(slave: int) -> None:
    """(In the child) a session of its own with the pty as its controlling terminal: the pty's
    ``^C`` then goes to it as SIGINT, echoed, as when a person presses Ctrl-C."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)


def _read(master: int, screen: Screen, until: float) -> str:
    """What the terminal got until ``until`` (monotonic) or the child closed it."""
    raw = ""
    while time.monotonic() < until:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536).decode(errors="replace")
        except OSError:
            break
        if not chunk:
            break
        raw += chunk
        screen.feed(chunk)
        if "[DAI " in chunk and until - time.monotonic() > 60:
            break
    return raw


@pytest.mark.parametrize("xdist", [(), ("-n", "1")], ids=["plain", "xdist"])
def test_ctrl_c_leaves_no_piece_of_the_live_text(
    pytester: pytest.Pytester, dai_env: DAISimulator, xdist: tuple[str, ...]
) -> None:
    pytester.makepyfile(test_long=LONG)
    screen = Screen(80)
    master, slave = os.openpty()
    process = subprocess.Popen(
        _inner_args(pytester, *xdist),
        cwd=pytester.path,
        env=_env(80),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        preexec_fn=lambda: _controlling_terminal(slave),
    )
    os.close(slave)
    try:
        raw = _read(master, screen, time.monotonic() + 90)  # up to the first live text
        assert "[DAI " in raw, screen.text()
        time.sleep(1.2)  # one more rewrite of the live text
        raw += _read(master, screen, time.monotonic() + 0.5)
        os.write(master, b"\x03")  # Ctrl-C, as typed
        raw += _read(master, screen, time.monotonic() + 30)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, raw
    lines = screen.text()
    assert "^C" in raw or "KeyboardInterrupt" in raw, raw
    assert not [line for line in lines if "[DAI" in line], lines
    # what the backspaces alone left: "test_long.py  [", or " [dai: aborted run ..." under xdist
    assert not [line for line in lines if re.search(r"\s\[$", line)], lines
    assert not [line for line in lines if line.startswith(" [")], lines
    aborted = [line for line in lines if "dai: aborted run" in line]
    assert aborted, lines
    assert all(line.startswith("dai: aborted run") for line in aborted), lines
    if not xdist:
        (result,) = [line for line in lines if line.startswith("test_long.py")]
        assert re.fullmatch(r"test_long\.py", result), lines
