"""Stash keys the pytest glue keeps on items (cheap to import: the plugin module and the
fixtures need them at every test, the runner only for ``dai_model`` tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_dai.client.records import LogEntry
    from pytest_dai.glue.evidence import Evidence
    from pytest_dai.glue.options import ModelSpec
    from pytest_dai.glue.test_config_marker import TestConfigSpec
    from pytest_dai.lifecycle.session import AnyRun
    from pytest_dai.lifecycle.steps import RunSteps

__all__ = [
    "CALL_START_KEY",
    "CONFIG_SPEC_KEY",
    "EVIDENCE_KEY",
    "EXECUTION_KEY",
    "LOGS_KEY",
    "PROTOCOL_START_KEY",
    "RERUN_OF_KEY",
    "SPEC_KEY",
    "STEPS_KEY",
]

#: The ``dai_test_config`` marker of the test, parsed and resolved against the settings.
CONFIG_SPEC_KEY: pytest.StashKey[TestConfigSpec] = pytest.StashKey()
#: The ``dai_model`` marker of the test, parsed and resolved against the settings.
SPEC_KEY: pytest.StashKey[ModelSpec] = pytest.StashKey()
#: The test's marker run (a model run, or a test configuration's), once started.
EXECUTION_KEY: pytest.StashKey[AnyRun] = pytest.StashKey()
#: The run's log, once fetched.
LOGS_KEY: pytest.StashKey[list[LogEntry] | None] = pytest.StashKey()
#: The run's steps (for the steps JUnit file and the summary).
STEPS_KEY: pytest.StashKey[RunSteps] = pytest.StashKey()
#: With ``--dai-rerun-failed``: the run id of the failed run this test re-runs.
RERUN_OF_KEY: pytest.StashKey[str] = pytest.StashKey()
#: ``time.monotonic()`` when the test's setup began (pytest-timeout's clock starts there).
PROTOCOL_START_KEY: pytest.StashKey[float] = pytest.StashKey()
#: The failure evidence of the test's run (screenshot, last log lines, suite commit).
EVIDENCE_KEY: pytest.StashKey[Evidence] = pytest.StashKey()
#: ``time.monotonic()`` when the test's call began (with ``timeout_func_only``).
CALL_START_KEY: pytest.StashKey[float] = pytest.StashKey()
