"""What pytest-dai needs to know of pytest-timeout before any DAI test runs (the report
header's warning), kept apart from ``runner`` so that the header does not load the run
machinery."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

__all__ = ["TIMEOUT_MARGIN", "timeout_method"]

#: A run's own deadline ends this long (at most a quarter of the timeout) before pytest-timeout's.
TIMEOUT_MARGIN = 5.0


def timeout_method(config: pytest.Config) -> str | None:
    """pytest-timeout's method for the session when a timeout is set, else None."""
    plugin = config.pluginmanager.get_plugin("timeout")
    getter = getattr(plugin, "get_env_settings", None)
    if getter is None:
        return None
    try:
        settings = getter(config)
    except Exception:
        return None
    return str(settings.method) if settings.timeout else None
