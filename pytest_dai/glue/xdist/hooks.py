"""pytest-xdist hooks of the controller: hand each worker what it needs, and abort the runs a
crashed worker left going."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_dai.client.errors import DAIError
from pytest_dai.glue.base.keys import WORKERINPUT_JOURNAL, WORKERINPUT_SIMULATOR, WORKERINPUT_STEPS
from pytest_dai.glue.process.reaping import reap_left_runs
from pytest_dai.glue.process.simulator import simulator_info
from pytest_dai.glue.xdist.handover import worker_steps_dir

if TYPE_CHECKING:
    from pytest_dai.glue.process.state import DAIState

__all__ = ["XdistHooks"]


class XdistHooks:
    """pytest-xdist hooks, registered only when xdist is present (controller side)."""

    def __init__(self, state: DAIState) -> None:
        self.state = state
        self._rerun_told = False

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """``--dai-rerun-failed``: say once what it re-runs (the workers collect, and their
        "collected" lines are not shown)."""
        if self._rerun_told or not self.state.settings.rerun_failed:
            return
        self._rerun_told = True
        from pytest_dai.glue.report.rerun import rerun_ids, rerun_line

        reporter = self.state.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            from pytest_dai.glue.report.terminal import fresh_line

            fresh_line(reporter)
            reporter.write_line(rerun_line(len(rerun_ids(self.state.config, ids))))

    def pytest_configure_node(self, node: Any) -> None:
        """Hand the controller's simulator and journal folder to each worker; take its
        progress news (:mod:`pytest_dai.glue.report.progress`)."""
        info = simulator_info(self.state)
        if info is not None:
            node.workerinput[WORKERINPUT_SIMULATOR] = info
        node.workerinput[WORKERINPUT_JOURNAL] = str(self.state.journal.directory)
        node.workerinput[WORKERINPUT_STEPS] = str(worker_steps_dir(self.state))
        from pytest_dai.glue.report.progress import relay_progress

        relay_progress(self.state.config, node)

    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        """A worker went down: abort the runs it left going (if it crashed or was killed).

        The controller can hear of a killed worker before its process has finished exiting
        (still alive to ``kill(pid, 0)``), so that worker's runs are aborted whether or not
        its process still looks alive."""
        if error is None or not self.state.settings.reap_orphans:
            return
        pid = self._worker_pid(node)
        before = len(self.state.reap_lines)
        try:
            reaped = reap_left_runs(self.state, gone=() if pid is None else (pid,))
        except DAIError as exc:
            reaped = []
            self.state.reap_lines.append(f"dai: could not abort runs of a crashed worker: {exc}")
        reporter = self.state.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        if reaped:
            worker = getattr(getattr(node, "gateway", None), "id", node)
            reporter.write_line(
                f"dai: worker {worker} went down; aborted "
                + "; ".join(entry.describe() for entry in reaped)
            )
        # The report header is written already: show failures to abort now.
        for line in self.state.reap_lines[before:]:
            if line.startswith("dai: could not"):
                reporter.write_line(line)

    @staticmethod
    def _worker_pid(node: Any) -> int | None:
        """The worker's process id, from execnet's remote info that xdist caches when the
        worker starts; None when unknown."""
        info = getattr(getattr(node, "gateway", None), "_cache_rinfo", None)
        pid = getattr(info, "pid", None)
        return pid if isinstance(pid, int) else None
