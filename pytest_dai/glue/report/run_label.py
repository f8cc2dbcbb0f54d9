"""How the terminal names a run, the same words for both kinds: a model run by its model and
agent (``Pay on agent-1``, ``Pay on no agent``), a test configuration by its name
(``test configuration Checkout``: a configuration names no single agent, so none is said)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_dai.glue.settings.server_options import NO_AGENT

if TYPE_CHECKING:
    from pytest_dai.lifecycle.session import AnyRun

__all__ = ["run_label", "run_title"]


def run_label(kind: str, name: str, agent: str | None) -> str:
    """``name on agent`` for a model run; ``test configuration name`` for a configuration."""
    if kind == "test_config":
        return f"test configuration {name}"
    return f"{name} on {agent or NO_AGENT}"


def run_title(run: AnyRun) -> str:
    """The run as an outcome's first line names it: ``DAI run of model 'Pay' (execution 7f3e)``
    or ``DAI test configuration 'Checkout' (result 9001)``."""
    if run.kind == "test_config":
        return f"DAI test configuration {run.model!r} (result {run.id})"
    return f"DAI run of model {run.model!r} (execution {run.id})"
