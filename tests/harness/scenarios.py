"""Building simulator scenarios: a step, a model, numbered agents, a whole scenario, and a copy
of one with some keys replaced (each test directory keeps its own ``SCENARIO``)."""

from __future__ import annotations

import copy
from typing import Any


def step(
    name: str, duration: float, outcome: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """One step of a model: ``duration`` in simulated seconds, ``outcome`` (failed, error ...)
    and its ``message`` where the step does not pass."""
    data: dict[str, Any] = {"name": name, "duration": duration}
    if outcome is not None:
        data["outcome"] = outcome
    if message is not None:
        data["message"] = message
    return data


def steps(duration: float, *names: str) -> list[dict[str, Any]]:
    """Passing steps of one ``duration`` each."""
    return [step(name, duration) for name in names]


def model(model_id: str, name: str, *model_steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A model with its steps; ``extra``: other keys (``attempts``, ``final_status`` ...)."""
    return {"id": model_id, "name": name, "steps": list(model_steps), **extra}


def agents(prefix: str, count: int) -> list[dict[str, Any]]:
    """Online agents ``<prefix>1`` to ``<prefix><count>``."""
    return [{"id": f"{prefix}{n}"} for n in range(1, count + 1)]


def scenario(
    client_id: str,
    client_secret: str,
    *,
    time_scale: float,
    agents: list[dict[str, Any]],
    models: list[dict[str, Any]],
    abort_delay: float = 0.05,
    **extra: Any,
) -> dict[str, Any]:
    """A scenario: the client's credentials, ``time_scale`` (simulated seconds a real second),
    the agents and models, and how long an abort takes (real seconds)."""
    return {
        "credentials": {"client_id": client_id, "client_secret": client_secret},
        "time_scale": time_scale,
        "abort_delay": abort_delay,
        "agents": agents,
        "models": models,
        **extra,
    }


def changed(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with top-level keys replaced (``base`` is never touched)."""
    data = copy.deepcopy(base)
    data.update(changes)
    return data


def with_models(base: dict[str, Any], *more: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with models added after its own."""
    data = copy.deepcopy(base)
    data["models"].extend(copy.deepcopy(list(more)))
    return data
