"""The in-flight journal on disk: runs and intents written and read back, orphans told from
live processes, invalid or foreign files ignored, and the folder kept private."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_dai.lifecycle.journal import Journal, JournalRefusedError, StartIntent
from pytest_dai.lifecycle.processes import pid_alive, process_start_time


def dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_run_is_written_read_back_and_removed(journal: Journal) -> None:
    entry = journal.record("http://dai", "ex-1", model="Quick", nodeid="t.py::test")
    assert journal.entries() == [entry]
    assert entry.pid == os.getpid()
    assert entry.pid_start == process_start_time(os.getpid())
    assert stat.S_IMODE(os.stat(journal.directory).st_mode) == 0o700
    journal.remove("ex-1")
    assert journal.entries() == []


def test_intents_of_both_kinds_are_written_and_read_back(journal: Journal) -> None:
    model = StartIntent.now("http://dai", model_id="m-1", model="Quick", agent="agent one")
    config = StartIntent.now("http://dai", model="Nightly", kind="test_config", config_id="tc-1")
    journal.record_intent(model)
    journal.record_intent(config)
    assert sorted(journal.intents(), key=lambda i: i.kind) == [model, config]
    assert config.describe() == f"test configuration 'Nightly' (test -, pid {os.getpid()})"
    assert model.describe() == f"model 'Quick' on agent 'agent one' (test -, pid {os.getpid()})"
    journal.remove_intent(config)
    assert journal.intents() == [model]


def test_only_entries_of_dead_processes_of_this_host_and_server_are_orphans(
    journal: Journal,
) -> None:
    journal.record("http://dai", "ex-mine")
    dead = dead_pid()
    folder = journal.directory
    for name, server, pid in (("gone", "http://dai", dead), ("other", "http://else", dead)):
        entry = json.loads((folder / f"{os.getpid()}-ex-mine.run.json").read_text())
        entry.update(execution_id=f"ex-{name}", server=server, pid=pid, pid_start=None)
        (folder / f"{pid}-ex-{name}.run.json").write_text(json.dumps(entry))
    assert not pid_alive(dead)
    assert [e.execution_id for e in journal.orphans("http://dai")] == ["ex-gone"]
    mine = StartIntent.now("http://dai", model="Nightly", kind="test_config", config_id="tc-1")
    journal.record_intent(mine)
    left = dataclasses.replace(mine, key=f"{dead}-1", pid=dead, pid_start=None)
    journal.record_intent(left)
    assert journal.orphan_intents("http://dai") == [left]  # not ours: this process is alive
    assert journal.orphan_intents("http://else") == []


@pytest.mark.parametrize(
    "change",
    [
        {"config_id": "../runs"},
        {"kind": "something"},
        {"key": "a/b"},
        {"pid": "12"},
        {"started": float("nan")},
    ],
)
def test_an_invalid_intent_is_ignored(journal: Journal, change: dict[str, object]) -> None:
    intent = StartIntent.now("http://dai", model="Nightly", kind="test_config", config_id="tc-1")
    journal.record_intent(intent)
    path = next(journal.directory.glob("*.intent.json"))
    raw = json.loads(path.read_text())
    raw.update(change)
    path.write_text(json.dumps(raw))
    assert journal.intents() == []


def test_a_folder_open_to_others_is_refused_and_never_read(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    Journal(folder).record("http://dai", "ex-1")
    os.chmod(folder, 0o777)
    journal = Journal(folder)
    with pytest.raises(JournalRefusedError, match="writable by group or others"):
        journal.check()
    assert journal.entries() == []
    assert journal.intents() == []
    Journal(folder, tighten=True).check()  # one pytest-dai made itself: made private instead
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
