"""pytest-dai: run Eggplant DAI model-based tests as pytest tests.

The package is split in layers, each visible from its folder name:

- ``pytest_dai.client``: the wire client (credentials, auth, HTTP, endpoints, errors, statuses).
- ``pytest_dai.lifecycle``: one execution's life (start, wait, abort, outcome).
- ``pytest_dai.glue`` and ``pytest_dai.plugin``: the pytest plugin (options, marker, fixtures,
  hooks, reporting), itself in layers (``base`` -> ``settings`` -> ``markers`` -> ``report`` ->
  ``process`` -> ``run`` -> ``xdist`` -> ``hooks``; CONTRIBUTING.md says what each is for).
- ``pytest_dai.simulator``: a DAI server simulator that implements the same wire contract.

Importing this package is cheap: the names below are imported on first use, and nothing here
imports ``requests`` or the simulator until one of them asks for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "DAIError": "pytest_dai.client.errors",
    "DAIAuthError": "pytest_dai.client.errors",
    "DAIConfigError": "pytest_dai.client.errors",
    "DAIConnectionError": "pytest_dai.client.errors",
    "DAIHTTPError": "pytest_dai.client.errors",
    "DAINotFoundError": "pytest_dai.client.errors",
    "DAIProtocolError": "pytest_dai.client.errors",
    "DAIRunOutcome": "pytest_dai.lifecycle.run_errors",
    "DAIAgentOffline": "pytest_dai.lifecycle.agent_watch",
    "Step": "pytest_dai.lifecycle.steps",
    "DAIRunFailed": "pytest_dai.lifecycle.run_errors",
    "DAIRunError": "pytest_dai.lifecycle.run_errors",
    "DAIRunCancelled": "pytest_dai.lifecycle.run_errors",
    "DAIRunTimeout": "pytest_dai.lifecycle.run_errors",
    "RunState": "pytest_dai.client.status",
    "Execution": "pytest_dai.lifecycle.execution",
    "DAISession": "pytest_dai.lifecycle.session",
    "DAIClient": "pytest_dai.client.endpoints",
    "Credentials": "pytest_dai.client.credentials",
    "DAISimulator": "pytest_dai.simulator",
    "TestConfigResult": "pytest_dai.lifecycle.test_config_run",
    "TestResult": "pytest_dai.lifecycle.test_config_support",
}

__all__ = [
    "Credentials",
    "DAIAgentOffline",
    "DAIAuthError",
    "DAIClient",
    "DAIConfigError",
    "DAIConnectionError",
    "DAIError",
    "DAIHTTPError",
    "DAINotFoundError",
    "DAIProtocolError",
    "DAIRunCancelled",
    "DAIRunError",
    "DAIRunFailed",
    "DAIRunOutcome",
    "DAIRunTimeout",
    "DAISession",
    "DAISimulator",
    "Execution",
    "RunState",
    "Step",
    "TestConfigResult",
    "TestResult",
    "__version__",
]

if TYPE_CHECKING:
    from pytest_dai.client.credentials import Credentials
    from pytest_dai.client.endpoints import DAIClient
    from pytest_dai.client.errors import (
        DAIAuthError,
        DAIConfigError,
        DAIConnectionError,
        DAIError,
        DAIHTTPError,
        DAINotFoundError,
        DAIProtocolError,
    )
    from pytest_dai.client.status import RunState
    from pytest_dai.lifecycle.agent_watch import DAIAgentOffline
    from pytest_dai.lifecycle.execution import Execution
    from pytest_dai.lifecycle.run_errors import (
        DAIRunCancelled,
        DAIRunError,
        DAIRunFailed,
        DAIRunOutcome,
        DAIRunTimeout,
    )
    from pytest_dai.lifecycle.session import DAISession
    from pytest_dai.lifecycle.steps import Step
    from pytest_dai.lifecycle.test_config_run import TestConfigResult
    from pytest_dai.lifecycle.test_config_support import TestResult
    from pytest_dai.simulator import DAISimulator


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_dai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
