"""Every stash key of the pytest glue, and the one check for "am I an xdist worker?".

Cheap to import: the plugin module and the fixtures need these at every test (the types are
named for the type checker only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_dai.client.records import LogEntry
    from pytest_dai.glue.evidence import Evidence
    from pytest_dai.glue.facts import RunReport
    from pytest_dai.glue.model_marker import ModelSpec
    from pytest_dai.glue.prestart import Prestart
    from pytest_dai.glue.reporting import SummaryCollector
    from pytest_dai.glue.settings import Settings
    from pytest_dai.glue.state import DAIState
    from pytest_dai.glue.test_config_marker import TestConfigSpec
    from pytest_dai.lifecycle.session import AnyRun

__all__ = [
    "CALL_START_KEY",
    "CONFIG_SPEC_KEY",
    "EVIDENCE_KEY",
    "EXECUTION_KEY",
    "IN_SUBTESTS_KEY",
    "LOGS_KEY",
    "MESSAGES_KEY",
    "PRESTART_KEY",
    "PROTOCOL_START_KEY",
    "RERUN_OF_KEY",
    "RUN_REPORT_KEY",
    "SCREENSHOTS_DOWN_KEY",
    "SETTINGS_KEY",
    "SIGTERM_KEY",
    "SPEC_KEY",
    "STATE_KEY",
    "SUMMARY_KEY",
    "WORKERINPUT_JOURNAL",
    "WORKERINPUT_SIMULATOR",
    "WORKERINPUT_STEPS",
    "WORKERINPUT_TEST_MAP",
    "is_worker",
    "worker_input",
]

# -- on the config (one per pytest process) ---------------------------------------------------

#: The resolved settings.
SETTINGS_KEY: pytest.StashKey[Settings] = pytest.StashKey()
#: The plugin's state for this process (see :mod:`pytest_dai.glue.state`).
STATE_KEY: pytest.StashKey[DAIState] = pytest.StashKey()
#: The runs the reports told of, for the summary, the steps file, history and rerun.
SUMMARY_KEY: pytest.StashKey[SummaryCollector] = pytest.StashKey()
#: The runs started ahead (``--dai-prestart``) of this process.
PRESTART_KEY: pytest.StashKey[Prestart] = pytest.StashKey()
#: The SIGTERM handler pytest-dai replaced (restored at the end).
SIGTERM_KEY: pytest.StashKey[Any] = pytest.StashKey()
#: Set (to why) once a screenshot could not be fetched for want of an answer: a server that
#: does not answer is not asked for screenshots again in this process.
SCREENSHOTS_DOWN_KEY: pytest.StashKey[str] = pytest.StashKey()

# -- on a test report ----------------------------------------------------------------------------

#: The test report attribute that carries a test's runs (a list of
#: :class:`~pytest_dai.glue.facts.RunReport`; plain dicts while it travels from an xdist worker).
RUNS_ATTRIBUTE = "dai_runs"
#: The test report attribute that carries a failed DAI test's evidence (a dict).
EVIDENCE_ATTRIBUTE = "dai_evidence"

# -- on an item (one per test) ------------------------------------------------------------------

#: The ``dai_test_config`` marker of the test, parsed and resolved against the settings.
CONFIG_SPEC_KEY: pytest.StashKey[TestConfigSpec] = pytest.StashKey()
#: The ``dai_model`` marker of the test, parsed and resolved against the settings.
SPEC_KEY: pytest.StashKey[ModelSpec] = pytest.StashKey()
#: The test's marker run (a model run, or a test configuration's), once started.
EXECUTION_KEY: pytest.StashKey[AnyRun] = pytest.StashKey()
#: The facts of the test's marker run as last known (its steps once it ended).
RUN_REPORT_KEY: pytest.StashKey[RunReport] = pytest.StashKey()
#: The run's log, once fetched.
LOGS_KEY: pytest.StashKey[list[LogEntry] | None] = pytest.StashKey()
#: Each failed test case's last error lines, by test result id (a test configuration).
MESSAGES_KEY: pytest.StashKey[dict[str, str]] = pytest.StashKey()
#: Set while a test configuration's test case runs are reported as pytest subtests: their
#: reports are the subtests', and carry neither the run nor the evidence.
IN_SUBTESTS_KEY: pytest.StashKey[bool] = pytest.StashKey()
#: With ``--dai-rerun-failed``: the run id of the failed run this test re-runs.
RERUN_OF_KEY: pytest.StashKey[str] = pytest.StashKey()
#: ``time.monotonic()`` when the test's setup began (pytest-timeout's clock starts there).
PROTOCOL_START_KEY: pytest.StashKey[float] = pytest.StashKey()
#: The failure evidence of the test's run (screenshot, last log lines, suite commit).
EVIDENCE_KEY: pytest.StashKey[Evidence] = pytest.StashKey()
#: ``time.monotonic()`` when the test's call began (with ``timeout_func_only``).
CALL_START_KEY: pytest.StashKey[float] = pytest.StashKey()


# -- what the xdist controller hands each worker (``workerinput`` keys) -------------------------

#: The controller's ``--dai-simulator`` (address and credentials).
WORKERINPUT_SIMULATOR = "dai_simulator"
#: The controller's run journal folder.
WORKERINPUT_JOURNAL = "dai_journal"
#: Where a worker leaves the runs it was waiting on when the session was interrupted.
WORKERINPUT_STEPS = "dai_steps_dir"
#: Where a worker publishes each marked test's agent (``--dai-dist=agent``).
WORKERINPUT_TEST_MAP = "dai_test_map_dir"


def is_worker(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker (xdist gives each worker's config a ``workerinput``)."""
    return hasattr(config, "workerinput")


def worker_input(config: pytest.Config) -> dict[str, Any]:
    """What the xdist controller handed this worker (empty on the controller, without xdist)."""
    given = getattr(config, "workerinput", None)
    return given if isinstance(given, dict) else {}
