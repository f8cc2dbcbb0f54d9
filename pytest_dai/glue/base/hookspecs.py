"""Hooks that pytest-dai calls, for a ``conftest.py`` or another plugin to implement.

Added with ``pytest_addhooks``, so pytest checks implementations against these signatures.
They fire for both kinds of run: ``execution.kind`` is ``"model"`` for a ``dai_model`` run (an
``Execution``) and ``"test_config"`` for a ``dai_test_config`` run (a ``TestConfigResult``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_dai.lifecycle.session import AnyRun


class DAIHookSpecs:
    """The hook specifications of pytest-dai."""

    @pytest.hookspec
    def pytest_dai_execution_started(self, item: pytest.Item, execution: AnyRun) -> None:
        """Called right after a marked test's DAI run was started (``execution.id`` is set;
        for a test configuration, ``execution.task_instance_id``)."""

    @pytest.hookspec
    def pytest_dai_execution_finished(self, item: pytest.Item, execution: AnyRun) -> None:
        """Called once a marked test's DAI run has ended (``execution.finished`` is true), or
        was aborted at its deadline, before the outcome is decided."""

    @pytest.hookspec(firstresult=True)
    def pytest_dai_map_outcome(
        self, item: pytest.Item, execution: AnyRun
    ) -> str | BaseException | None:
        """Decide the test's outcome from the finished run.

        Return ``"passed"``, ``"failed"``, ``"skipped"`` or ``"xfailed"``, or an exception to
        raise, or None to leave the decision to the next implementation (the default maps
        failed, error and cancelled runs to ``DAIRunFailed``, ``DAIRunError`` and
        ``DAIRunCancelled``). Example, a server-side cancellation as a skip::

            def pytest_dai_map_outcome(item, execution):
                if execution.state == "cancelled" and not execution.aborted:
                    return "skipped"
        """
