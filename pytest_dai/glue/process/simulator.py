"""``--dai-simulator``: the simulator this process starts (the controller's, under xdist), its
connection put into the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pytest_dai.glue.base.keys import WORKERINPUT_SIMULATOR, worker_input
from pytest_dai.glue.settings.values import SETTINGS_KEY

if TYPE_CHECKING:
    from pytest_dai.glue.process.state import DAIState


def start_simulator(state: DAIState) -> None:
    """With ``--dai-simulator``: start it (controller) or use the controller's (worker)."""
    settings, config = state.settings, state.config
    if settings.simulator is None:
        return
    if state.is_worker:
        info = worker_input(config).get(WORKERINPUT_SIMULATOR)
        if info:
            config.stash[SETTINGS_KEY] = settings.with_simulator(**info)
            return
    from pytest_dai.simulator import DAISimulator, ScenarioError

    try:
        simulator = DAISimulator(settings.simulator or None)
        simulator.start()
    except ScenarioError as exc:
        raise pytest.UsageError(f"--dai-simulator: {exc}") from None
    state.simulator = simulator
    config.stash[SETTINGS_KEY] = settings.with_simulator(
        url=simulator.url,
        token_url=simulator.token_url,
        client_id=simulator.client_id,
        client_secret=simulator.client_secret,
    )


def simulator_info(state: DAIState) -> dict[str, Any] | None:
    """What a pytest-xdist worker needs to talk to this process's simulator."""
    if state.simulator is None:
        return None
    settings = state.settings
    return {
        "url": settings.url,
        "token_url": settings.token_url,
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
    }
