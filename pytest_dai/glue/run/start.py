"""Starting a marked test's run now, for either kind (a model run or a test configuration):
what a test's turn does, and what ``--dai-prestart`` does ahead of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_dai.glue.base.keys import CONFIG_MARKER, RERUN_OF_KEY
from pytest_dai.glue.run.runner import start_model_run
from pytest_dai.glue.run.test_config import start_config_run

if TYPE_CHECKING:
    import pytest

    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.lifecycle.session import AnyRun


def start_run(item: pytest.Item, state: DAIState, spec: Any) -> AnyRun:
    """Start the run of ``item``'s marker now, as its turn would (either kind)."""
    if item.get_closest_marker(CONFIG_MARKER) is not None:
        return start_config_run(item, state, spec)
    return start_model_run(item, state.session(), spec, item.stash.get(RERUN_OF_KEY, ""))
