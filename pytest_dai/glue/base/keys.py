"""The glue's shared names: the marker and fixture names of a DAI test, the stash keys whose
values are of the layers below the glue (each other key is kept beside its value's type, in its
own layer), the xdist ``workerinput`` keys, and the one check for "am I an xdist worker?".

Cheap to import: the plugin module needs these at start-up (the types are named for the type
checker only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_dai.client.records import LogEntry
    from pytest_dai.lifecycle.session import AnyRun

# -- what makes a test a DAI test ------------------------------------------------------------

MODEL_MARKER = "dai_model"
CONFIG_MARKER = "dai_test_config"
DAI_MARKERS = (MODEL_MARKER, CONFIG_MARKER)
#: The fixtures of a run (a test asking for one is a DAI test).
DAI_FIXTURES = frozenset({"dai_session", "dai_execution", "dai_result"})


def uses_dai(item: pytest.Item) -> bool:
    """Whether ``item`` is a DAI test: marked, or using a ``dai_*`` fixture of a run."""
    if any(item.get_closest_marker(name) is not None for name in DAI_MARKERS):
        return True
    return not DAI_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


# -- on the config (one per pytest process) ---------------------------------------------------

#: The SIGTERM handler pytest-dai replaced (restored at the end).
SIGTERM_KEY: pytest.StashKey[Any] = pytest.StashKey()
#: Set (to why) once a screenshot could not be fetched for want of an answer: a server that
#: does not answer is not asked for screenshots again in this process.
SCREENSHOTS_DOWN_KEY: pytest.StashKey[str] = pytest.StashKey()

# -- on a test report ----------------------------------------------------------------------------

#: The test report attribute that carries a test's runs (a list of
#: :class:`~pytest_dai.glue.report.facts.RunReport`; plain dicts while it travels from an
#: xdist worker).
RUNS_ATTRIBUTE = "dai_runs"
#: The test report attribute that carries a failed DAI test's evidence (a dict).
EVIDENCE_ATTRIBUTE = "dai_evidence"

# -- on an item (one per test) ------------------------------------------------------------------

#: The test's marker run (a model run, or a test configuration's), once started.
EXECUTION_KEY: pytest.StashKey[AnyRun] = pytest.StashKey()
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
