"""A simulated Eggplant DAI server implementing the wire contract of ``spec/dai-api.md``.

Standard library only, independent of the plugin's client::

    from pytest_dai.simulator import DAISimulator

    with DAISimulator() as sim:          # the packaged default scenario, a free port
        print(sim.url, sim.token_url, sim.client_id, sim.client_secret)

Run it on its own with ``dai-simulator --port 8000 --scenario FILE`` (or
``python -m pytest_dai.simulator``).
"""

from __future__ import annotations

from pytest_dai.simulator.dialects import DIALECTS, Dialect
from pytest_dai.simulator.faults import Faults
from pytest_dai.simulator.scenario import Scenario
from pytest_dai.simulator.server import DAISimulator, RequestRecord
from pytest_dai.simulator.specs import ScenarioError

__all__ = [
    "DIALECTS",
    "DAISimulator",
    "Dialect",
    "Faults",
    "RequestRecord",
    "Scenario",
    "ScenarioError",
]
