"""How long this model's earlier runs took, kept in pytest's cache (``dai/durations``), so the
wait can sleep until just before a run's expected end (see ``lifecycle.polling``).

Only passed runs count (a failed run ends early); the last few per model are kept and their
median is the expectation. The controller writes (from the reports, so xdist workers' runs
count too); every process reads.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from pytest_dai.glue.report.summary import SummaryCollector

__all__ = ["CACHE_KEY", "KEEP", "expected_duration", "history_key", "record_durations"]

CACHE_KEY = "dai/durations"
KEEP = 5


def _load(config: pytest.Config) -> dict[str, list[float]]:
    cache = getattr(config, "cache", None)
    if cache is None:
        return {}
    raw: Any = cache.get(CACHE_KEY, {})
    if not isinstance(raw, dict):
        return {}
    return {
        str(model): [float(d) for d in durations if isinstance(d, (int, float))]
        for model, durations in raw.items()
        if isinstance(durations, list)
    }


def history_key(name: str, kind: str = "model") -> str:
    """A model's name, or ``test config: <name>`` for a test configuration (the two kinds of
    run may share a name)."""
    return f"test config: {name}" if kind == "test_config" else name


def expected_duration(config: pytest.Config, model: str) -> float | None:
    """The median duration of the model's last passed runs, or None when there are none."""
    durations = _load(config).get(model)
    return statistics.median(durations) if durations else None


def record_durations(config: pytest.Config, collector: SummaryCollector) -> None:
    """Add this session's passed runs to the cache."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return
    history = _load(config)
    changed = False
    for run in collector.runs.values():
        if run.test_failed or not run.duration or not run.passed:
            continue
        key = history_key(run.name, run.kind)
        history[key] = [*history.get(key, []), run.duration][-KEEP:]
        changed = True
    if changed:
        cache.set(CACHE_KEY, history)
