"""What an xdist worker leaves for the controller in a folder the controller named: a JSON
file written whole (to a temporary name, then renamed), so the controller never reads half; and
the runs a worker was waiting on when the session was interrupted (no test report carries
those), handed over that way."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

from pytest_dai.glue.base.keys import WORKERINPUT_STEPS, worker_input
from pytest_dai.glue.report.facts import from_plain

if TYPE_CHECKING:
    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.glue.report.facts import RunReport

__all__ = ["collect_worker_runs", "hand_over_pending_runs", "leave_json", "worker_steps_dir"]

log = logging.getLogger("pytest_dai")


def leave_json(folder: str, name: str, data: object) -> None:
    """Write ``data`` as ``folder/name`` atomically (raises ``OSError`` when it cannot)."""
    target = os.path.join(folder, name)
    with open(target + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(target + ".tmp", target)


def worker_steps_dir(state: DAIState) -> str:
    """(Controller) a folder where workers leave the runs they were waiting on when the
    session was interrupted."""
    if state.steps_dir is None:
        state.steps_dir = tempfile.mkdtemp(prefix="pytest-dai-steps-")
    return state.steps_dir


def hand_over_pending_runs(state: DAIState) -> None:
    """(Worker) leave this worker's pending runs in the controller's folder."""
    folder = worker_input(state.config).get(WORKERINPUT_STEPS)
    if not folder or not state.pending_runs:
        return
    data = [run.to_dict() for run in state.pending_runs.values()]
    try:
        leave_json(folder, f"{os.getpid()}.json", data)
    except OSError as exc:
        log.warning("pytest-dai: could not hand the run steps to the controller: %s", exc)


def collect_worker_runs(state: DAIState) -> list[RunReport]:
    """(Controller) the pending runs the workers left, and the folder removed."""
    folder, state.steps_dir = state.steps_dir, None
    if folder is None:
        return []
    found: list[RunReport] = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".json"):
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    found.extend(from_plain(json.load(handle)))
            except (OSError, ValueError, TypeError):
                continue
    shutil.rmtree(folder, ignore_errors=True)
    return found
