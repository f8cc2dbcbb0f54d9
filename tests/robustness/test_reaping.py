"""The in-flight journal and reaping, beyond the fault matrix: ``--dai-reap-orphans-only``,
``dai_reap_orphans = false``, a live session in the same project (never reaped), and the rules
for which entries are orphans (pid reuse, other hosts, other servers, a crashed xdist worker
whose process has not finished exiting)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, replace
from types import SimpleNamespace
from typing import Any

import pytest
from harness.inner import FAST, finish, kill_group
from harness.simulators import is_idle_within, statuses

from pytest_dai.glue.hooks.setup import STATE_KEY
from pytest_dai.glue.process.state import DAIState
from pytest_dai.glue.xdist.hooks import XdistHooks
from pytest_dai.lifecycle.journal import SUFFIX, JournalEntry, process_start_time
from pytest_dai.simulator import DAISimulator

from .support import REAPED, journal_files, sigkill_during_run, start_long_run

#: Inner sessions in processes of their own, signals, soaks: see CONTRIBUTING.md.
pytestmark = pytest.mark.slow


def test_reap_orphans_only_aborts_the_orphan_and_runs_nothing(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    sigkill_during_run(pytester, sim)

    # (--dai-timeout: should the flag be ignored, the run it starts ends soon.)
    result = pytester.runpytest_subprocess(
        *FAST, "--dai-timeout=2", "--dai-reap-orphans-only", "test_long.py"
    )

    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 0, output
    assert REAPED in output, output
    assert not re.search(r"\d+ (passed|failed)", output), output
    assert is_idle_within(sim), sim.executions()
    assert statuses(sim) == ["Cancelled"], "a run was started, or the orphan not aborted"
    assert journal_files(pytester.path) == []


def test_reaping_off_leaves_the_orphan_to_a_later_session(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    sigkill_during_run(pytester, sim)
    pytester.makeini("[pytest]\ndai_reap_orphans = false\n")

    kept = pytester.runpytest_subprocess(*FAST, "test_plain.py")
    assert REAPED not in kept.stdout.str()
    assert (sim.running_count(), len(sim.abort_requests())) == (1, 0)
    assert len(journal_files(pytester.path)) == 1

    pytester.makeini("[pytest]\ndai_reap_orphans = true\n")
    reaped = pytester.runpytest_subprocess(*FAST, "test_plain.py")
    assert REAPED in reaped.stdout.str(), reaped.stdout.str()
    assert is_idle_within(sim)
    assert statuses(sim) == ["Cancelled"]


def test_a_live_session_in_the_same_project_is_never_reaped(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    first = start_long_run(pytester, sim)
    try:
        second = pytester.runpytest_subprocess(*FAST, "test_plain.py")
        second.assert_outcomes(passed=1)
        assert "left by an earlier, killed session" not in second.stdout.str()
        assert sim.abort_requests() == [], "the live session's run was aborted"
        assert statuses(sim) == ["Running"]
        os.kill(first.pid, signal.SIGINT)
        output, rc = finish(first)
    finally:
        kill_group(first)
    assert rc == pytest.ExitCode.INTERRUPTED, output
    assert is_idle_within(sim)
    assert statuses(sim) == ["Cancelled"]
    assert len(sim.abort_requests()) == 1


# --------------------------------------------------------------------------------------------
# Which entries are orphans, with a real plugin state in this process.


@pytest.fixture
def state(pytester: pytest.Pytester, sim: DAISimulator) -> Iterator[DAIState]:
    """The plugin's state of a configured (not running) inner session pointed at ``sim``;
    unconfigured (its runs aborted) before the simulator stops."""
    config = pytester.parseconfigure("-o", "dai_handle_sigterm=false")
    yield config.stash[STATE_KEY]
    config._ensure_unconfigure()


@pytest.fixture
def live_process() -> Iterator[subprocess.Popen[bytes]]:
    """Another live process on this host (its pid stands for a session still going)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def journal_run(state: DAIState, execution_id: str = "", **changes: Any) -> JournalEntry:
    """Journal a run as ``changes`` say (pid, host, server ...); without ``execution_id``,
    start a real "Long" run on the simulator for it."""
    if not execution_id:
        execution = state.session().start("Long", agent="a1")
        state.journal.remove(execution.id)
        execution_id = execution.id
    entry = replace(
        JournalEntry(
            server=state.settings.url or "",
            execution_id=execution_id,
            model="Long",
            nodeid="test_x.py::test_x",
            pid=os.getpid(),
            host=socket.gethostname(),
            started=0.0,
            pid_start=process_start_time(os.getpid()),
        ),
        **changes,
    )
    state.journal.directory.mkdir(parents=True, exist_ok=True)
    path = state.journal.directory / f"{entry.pid}-{entry.execution_id}{SUFFIX}"
    path.write_text(json.dumps(asdict(entry)), encoding="utf-8")
    return entry


def test_only_gone_processes_on_this_host_and_server_are_orphans(
    state: DAIState, sim: DAISimulator, live_process: subprocess.Popen[bytes]
) -> None:
    gone_pid = 2**22 + 7  # above the kernel's largest pid
    journal_run(state, "live", pid=live_process.pid, pid_start=process_start_time(live_process.pid))
    journal_run(state, "reused", pid=live_process.pid, pid_start="1")
    journal_run(state, "own", pid=os.getpid())
    journal_run(state, "elsewhere", pid=gone_pid, host="another-host")
    journal_run(state, "other-server", pid=gone_pid, server="http://127.0.0.1:9")
    journal_run(state, "gone", pid=gone_pid)

    orphans = state.journal.orphans(state.settings.url or "")

    assert sorted(entry.execution_id for entry in orphans) == ["gone", "reused"]


def test_a_crashed_worker_that_still_looks_alive_is_reaped(
    state: DAIState, sim: DAISimulator, live_process: subprocess.Popen[bytes]
) -> None:
    """xdist can report a killed worker down before its process has finished exiting: the
    controller must abort that worker's runs anyway, and only that worker's."""
    start = process_start_time(live_process.pid)
    crashed = journal_run(state, pid=live_process.pid, pid_start=start)
    other = journal_run(state, pid=os.getpid())
    node = SimpleNamespace(
        gateway=SimpleNamespace(id="gw7", _cache_rinfo=SimpleNamespace(pid=live_process.pid))
    )

    XdistHooks(state).pytest_testnodedown(node, "Not properly terminated")

    assert [r.path.rsplit("/", 1)[1] for r in sim.abort_requests()] == [crashed.execution_id]
    assert [entry.execution_id for entry in state.journal.entries()] == [other.execution_id]
    assert state.reap_lines[:1] == [REAPED + ": " + crashed.describe()], state.reap_lines


def test_a_crashed_worker_whose_run_cannot_be_aborted_is_said_at_once(
    state: DAIState,
    sim: DAISimulator,
    live_process: subprocess.Popen[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The report header is already written when a worker goes down: a run that could not be
    aborted is said in the terminal then, and its journal entry kept for a later session."""
    crashed = journal_run(state, pid=live_process.pid)
    node = SimpleNamespace(
        gateway=SimpleNamespace(id="gw7", _cache_rinfo=SimpleNamespace(pid=live_process.pid))
    )
    reporter = state.config.pluginmanager.get_plugin("terminalreporter")
    lines: list[str] = []
    monkeypatch.setattr(reporter, "write_line", lambda line, **kw: lines.append(line))
    sim.stop()

    XdistHooks(state).pytest_testnodedown(node, "Not properly terminated")

    sim.start()
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        "dai: could not abort a run left by a killed session: " + crashed.describe()
    ), lines
    assert [entry.execution_id for entry in state.journal.entries()] == [crashed.execution_id]
