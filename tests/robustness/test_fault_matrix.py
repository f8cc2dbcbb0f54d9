"""The fault matrix: however a session ends while a long DAI run is going, no run is left going.

Soft ends (Ctrl-C, SIGTERM, pytest-timeout's signal method, the run's own deadline under the
thread method, also after a slow fixture, and the same under xdist) abort the run in the session
itself. Hard ends (SIGKILL, SIGHUP, ``os._exit``, the thread method ending the process) leave an
in-flight journal entry that the NEXT session against the same server and project aborts,
saying so in its report header. A killed xdist worker's run is aborted by the controller
(``pytest_testnodedown``). Each case records a row of the "fault matrix" table: who was to abort
the run and who did, the aborts the server saw, the runs and journal entries left after.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from harness.inner import FAST, finish, kill_group, popen
from harness.simulators import is_idle_within, statuses, wait_running

from pytest_dai.simulator import DAISimulator

from .support import PLAIN_MODULE, REAPED, journal_files

#: Inner sessions in processes of their own, signals, soaks: see CONTRIBUTING.md.
pytestmark = pytest.mark.slow

#: The inner test module. ``test_marked`` waits for a 10-minute run through the marker;
#: ``test_by_hand`` starts one with ``dai_session.start()`` and then, by ROBUSTNESS_HOW: waits
#: for it (``wait``), ends the process with ``os._exit`` once it runs (``exit``), or blocks
#: (``block``). Both write their process id to ROBUSTNESS_PIDFILE (for the xdist worker kill).
FAULT_MODULE = """
import os
import pathlib
import time

import pytest


@pytest.fixture
def note_pid():
    pathlib.Path(os.environ["ROBUSTNESS_PIDFILE"]).write_text(str(os.getpid()))
    time.sleep(float(os.environ["ROBUSTNESS_SETUP_DELAY"]))


@pytest.mark.dai_model("Long", agent="a1")
def test_marked(note_pid):
    pass


def test_by_hand(dai_session, note_pid):
    execution = dai_session.start("Long", agent="a1")
    how = os.environ["ROBUSTNESS_HOW"]
    if how == "wait":
        execution.wait()
    while execution.refresh().status != "Running":
        time.sleep(0.05)
    if how == "exit":
        os._exit(3)
    time.sleep(120)
"""

SIGNAL_TIMEOUT = ("--timeout=3", "--timeout-method=signal")
THREAD_TIMEOUT = ("--timeout=3", "--timeout-method=thread")
NO_CACHE = ("-p", "no:cacheprovider")


@dataclass(frozen=True)
class Case:
    """One way for a session to end while a run is going."""

    id: str
    test: str
    rc: int
    #: Who must abort the run: "session" (the session itself), "next session" (its reaping
    #: at session start), or "controller" (xdist's pytest_testnodedown).
    reaper: str
    args: tuple[str, ...] = ()
    how: str = "block"
    #: A signal for the inner pytest once the run is going and polled.
    kill: int | None = None
    #: Send ``kill`` to the xdist worker running the test instead.
    worker: bool = False
    #: A pattern the inner session's output must contain.
    says: str = ""
    #: Send ``kill`` to the inner pytest's whole process group (as Ctrl-C in a terminal does).
    group: bool = False
    #: Seconds the test's fixtures take to set up (before the run starts).
    setup_delay: float = 0.0


CASES = (
    Case("ctrl-c", "test_marked", 2, "session", kill=signal.SIGINT, says="KeyboardInterrupt"),
    Case("sigterm", "test_marked", 2, "session", kill=signal.SIGTERM, says="KeyboardInterrupt"),
    # The run's own deadline (3 s - 0.75 s) ends first: the test fails with DAIRunTimeout.
    Case("timeout-signal", "test_marked", 1, "session", SIGNAL_TIMEOUT, says="DAIRunTimeout"),
    # No deadline of ours on a hand-made wait(): pytest-timeout's SIGALRM interrupts it.
    Case(
        "timeout-signal-wait", "test_by_hand", 1, "session", SIGNAL_TIMEOUT, "wait", says="Timeout"
    ),
    Case("timeout-thread", "test_marked", 1, "session", THREAD_TIMEOUT, says="DAIRunTimeout"),
    # pytest-timeout counts from the start of setup: a slow fixture must not let it end the
    # process before the run's own deadline.
    Case(
        "timeout-thread-slow-setup",
        "test_marked",
        1,
        "session",
        THREAD_TIMEOUT,
        says="DAIRunTimeout",
        setup_delay=1.5,
    ),
    # The thread method ends the whole process (os._exit(1)) in a test blocked by hand.
    Case(
        "timeout-thread-kill",
        "test_by_hand",
        1,
        "next session",
        THREAD_TIMEOUT,
        "block",
        says="Timeout",
    ),
    Case("os._exit", "test_by_hand", 3, "next session", how="exit"),
    Case("sigkill", "test_marked", -signal.SIGKILL, "next session", kill=signal.SIGKILL),
    # A closed terminal or ssh session: no handler, the process just ends.
    Case("sighup", "test_marked", -signal.SIGHUP, "next session", kill=signal.SIGHUP),
    Case(
        "sigkill-no-cache",
        "test_marked",
        -signal.SIGKILL,
        "next session",
        NO_CACHE,
        kill=signal.SIGKILL,
    ),
    Case(
        "xdist-sigterm-controller",
        "test_marked",
        2,
        "session",
        ("-n", "2"),
        kill=signal.SIGTERM,
        says="KeyboardInterrupt",
    ),
    Case(
        "xdist-ctrl-c",
        "test_marked",
        2,
        "session",
        ("-n", "2"),
        kill=signal.SIGINT,
        group=True,
        says="KeyboardInterrupt",
    ),
    Case(
        "xdist-worker-sigkill",
        "test_marked",
        1,
        "controller",
        ("-n", "2"),
        kill=signal.SIGKILL,
        worker=True,
        says=r"dai: worker gw\d went down; aborted model 'Long' \(execution ",
    ),
)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_no_run_left_going(
    case: Case,
    pytester: pytest.Pytester,
    sim: DAISimulator,
    monkeypatch: pytest.MonkeyPatch,
    record_row: Callable[..., None],
) -> None:
    pidfile = pytester.path / "test.pid"
    monkeypatch.setenv("ROBUSTNESS_HOW", case.how)
    monkeypatch.setenv("ROBUSTNESS_SETUP_DELAY", str(case.setup_delay))
    monkeypatch.setenv("ROBUSTNESS_PIDFILE", str(pidfile))
    # Without a cache the journal is in the temporary folder: keep it inside this project.
    (pytester.path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(pytester.path / "tmp"))
    pytester.makepyfile(test_faults=FAULT_MODULE, test_plain=PLAIN_MODULE)

    process = popen(pytester, *FAST, *case.args, f"test_faults.py::{case.test}")
    try:
        if case.kill is not None:
            assert wait_running(sim, process, "Long"), f"no run going: {sim.executions()}"
            target = int(pidfile.read_text()) if case.worker else process.pid
            if case.group:
                os.killpg(process.pid, case.kill)
            else:
                os.kill(target, case.kill)
        output, rc = finish(process)
    finally:
        kill_group(process)

    # Who aborted the run: this session (or its xdist controller), else the next session
    # (which must find a journal entry, the run still going and no abort sent yet).
    aborts_by_session = len(sim.abort_requests())
    left = (sim.running_count(), len(journal_files(pytester.path)))
    header = ""
    if aborts_by_session:
        aborted_by = (
            "controller" if re.search(r"dai: worker gw\d+ went down", output) else "session"
        )
    else:
        cache = NO_CACHE if NO_CACHE[1] in case.args else ()
        following = pytester.runpytest_subprocess(*FAST, *cache, "test_plain.py")
        header = following.stdout.str()
        following.assert_outcomes(passed=1)
        aborted_by = "next session" if REAPED in header else "nobody"
    # (Without any abort sent there is nothing to wait for.)
    idle = is_idle_within(sim) if sim.abort_requests() else sim.running_count() == 0
    record_row(
        "fault matrix",
        case=case.id,
        exit=rc,
        expected=case.reaper,
        aborted_by=aborted_by,
        aborts_seen=len(sim.abort_requests()),
        running_after=sim.running_count(),
        journal_after=len(journal_files(pytester.path)),
        status=",".join(statuses(sim)),
    )

    assert rc == case.rc, output
    assert re.search(case.says, output), output
    assert aborted_by == case.reaper, output + header
    if aborted_by == "next session":
        assert left == (1, 1), "the killed session should leave its run and journal entry"
    assert idle, f"runs still going: {sim.executions()}"
    assert statuses(sim) == ["Cancelled"]
    assert len(sim.abort_requests()) == 1
    assert journal_files(pytester.path) == []
