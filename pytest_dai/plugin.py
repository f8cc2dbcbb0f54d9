"""pytest entry point of pytest-dai (registered as ``dai`` in the ``pytest11`` group).

The hooks live in :mod:`pytest_dai.glue` by what they are about (set-up, the session, each
test, the summary, xdist); this module gathers them and the fixtures for pytest to find.

It stays cheap to import: it does not import ``requests``, the client or the simulator.
Those are imported the first time a DAI test, fixture or option needs them.
"""

from __future__ import annotations

from pytest_dai.glue.fixtures import (
    _dai_model_marker,
    _dai_simulator_reset,
    dai_execution,
    dai_result,
    dai_session,
    dai_simulator,
)
from pytest_dai.glue.session_hooks import (
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_report_collectionfinish,
    pytest_sessionfinish,
    pytest_sessionstart,
)
from pytest_dai.glue.setup_hooks import (
    CONFIG_MARKER_HELP,
    MARKER_HELP,
    pytest_addhooks,
    pytest_addoption,
    pytest_configure,
    pytest_load_initial_conftests,
    pytest_report_header,
    pytest_unconfigure,
)
from pytest_dai.glue.summary_hooks import SummaryHooks
from pytest_dai.glue.test_hooks import (
    pytest_dai_map_outcome,
    pytest_report_from_serializable,
    pytest_report_to_serializable,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_runtest_protocol,
)
from pytest_dai.glue.xdist_hooks import XdistHooks

__all__ = [
    "CONFIG_MARKER_HELP",
    "MARKER_HELP",
    "SummaryHooks",
    "XdistHooks",
    "_dai_model_marker",
    "_dai_simulator_reset",
    "dai_execution",
    "dai_result",
    "dai_session",
    "dai_simulator",
    "pytest_addhooks",
    "pytest_addoption",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_dai_map_outcome",
    "pytest_load_initial_conftests",
    "pytest_report_collectionfinish",
    "pytest_report_from_serializable",
    "pytest_report_header",
    "pytest_report_to_serializable",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_unconfigure",
]
