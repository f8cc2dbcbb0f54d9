"""The stash key of the process's :class:`~pytest_dai.glue.process.state.DAIState`: alone in a
module of its own, as a session that does not use pytest-dai imports it at start-up (to see
that the plugin is dormant) and nothing else of this layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_dai.glue.process.state import DAIState

#: The plugin's state for this process (see :mod:`pytest_dai.glue.process.state`); absent
#: while the plugin is dormant.
STATE_KEY: pytest.StashKey[DAIState] = pytest.StashKey()
