"""pytest entry point of pytest-dai (registered as ``dai`` in the ``pytest11`` group).

The hooks live in :mod:`pytest_dai.glue` by what they are about. This module gathers what every
session needs (options, hookspecs, markers, the set-up and the fixtures); the hooks of the
session, of each test, of the summary and of xdist are registered when pytest-dai starts for
the session (:mod:`pytest_dai.glue.activation`): a session that does not use it never imports
them.

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

__all__ = [
    "CONFIG_MARKER_HELP",
    "MARKER_HELP",
    "_dai_model_marker",
    "_dai_simulator_reset",
    "dai_execution",
    "dai_result",
    "dai_session",
    "dai_simulator",
    "pytest_addhooks",
    "pytest_addoption",
    "pytest_configure",
    "pytest_load_initial_conftests",
    "pytest_report_header",
    "pytest_unconfigure",
]
