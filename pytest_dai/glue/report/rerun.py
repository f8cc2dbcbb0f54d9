"""``--dai-rerun-failed``: re-run, for each test whose DAI run failed last time, only the failed
test case run (DAI's ``rerun_id``), not the whole test.

The failed runs are kept in pytest's cache (``dai/failed_runs``: test id -> run id, execution
id, model). A test that passes on rerun is reported passed, with the property ``dai_rerun_of``.
Unlike pytest-rerunfailures (which re-runs the whole test at once, in the same session), this
works across sessions, like pytest's ``--lf``, and asks DAI to repeat only what failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_dai.glue.settings.values import SETTINGS_KEY

if TYPE_CHECKING:
    import pytest

    from pytest_dai.glue.report.summary import SummaryCollector

__all__ = [
    "CACHE_KEY",
    "previous_task_instance",
    "rerun_ids",
    "rerun_line",
    "select_reruns",
    "update_failed_runs",
]

CACHE_KEY = "dai/failed_runs"
GROUP_SUFFIX = "@dai-agent-"


def test_key(nodeid: str) -> str:
    """A test id without the ``@group`` suffix xdist's loadgroup adds for agent groups."""
    return nodeid.split(GROUP_SUFFIX, 1)[0]


def failed_runs(config: pytest.Config) -> dict[str, dict[str, Any]]:
    """The failed runs the last sessions left in the cache (empty without a cache)."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return {}
    value = cache.get(CACHE_KEY, {})
    return value if isinstance(value, dict) else {}


def _server(config: pytest.Config) -> str:
    settings = config.stash.get(SETTINGS_KEY, None)
    return (settings.url or "") if settings is not None else ""


def forget_failed_run(config: pytest.Config, nodeid: str) -> None:
    """Drop a test's failed run from the record (the server does not know it any more)."""
    cache = getattr(config, "cache", None)
    failed = failed_runs(config)
    if cache is not None and failed.pop(test_key(nodeid), None) is not None:
        cache.set(CACHE_KEY, failed)


def update_failed_runs(config: pytest.Config, collector: SummaryCollector) -> None:
    """Remember this session's failed runs; forget the ones that passed now."""
    cache = getattr(config, "cache", None)
    if cache is None or not collector.runs:
        return
    failed = failed_runs(config)
    for run in collector.runs.values():  # in order: a test's last run decides
        if run.by_hand:
            continue  # the marker's run is what --dai-rerun-failed re-runs
        nodeid = run.nodeid
        # A test whose run passed but whose body failed: DAI has nothing to re-run.
        if run.test_failed and run.run_id and not run.passed:
            failed[test_key(nodeid)] = {
                "server": _server(config),
                "run_id": run.run_id,
                "execution_id": run.key,
                "model": run.name,
            }
        elif not run.test_failed or run.passed:
            failed.pop(test_key(nodeid), None)
    cache.set(CACHE_KEY, failed)


def previous_task_instance(config: pytest.Config, nodeid: str) -> str:
    """The task instance of a test configuration's failed run on record for ``nodeid`` (a
    re-run of its failed steps names it: contract 2.7); "" when none is known."""
    entry = failed_runs(config).get(test_key(nodeid))
    if not isinstance(entry, dict) or entry.get("server", _server(config)) != _server(config):
        return ""
    found = entry.get("execution_id")
    return str(found) if isinstance(found, (str, int)) and not isinstance(found, bool) else ""


def rerun_ids(config: pytest.Config, nodeids: list[str]) -> dict[str, str]:
    """The run id to re-run per test id, for the tests whose run failed last time on this
    server (a run can be re-run only on the server it ran on)."""
    server = _server(config)
    failed = {
        key: entry
        for key, entry in failed_runs(config).items()
        if isinstance(entry, dict) and entry.get("server", server) == server
    }
    return {
        nodeid: str(failed[test_key(nodeid)]["run_id"])
        for nodeid in nodeids
        if test_key(nodeid) in failed
    }


def select_reruns(
    config: pytest.Config, items: list[pytest.Item]
) -> tuple[dict[str, str], list[pytest.Item]]:
    """With failed runs on record: the run id to re-run per test id, and the items to deselect
    (every other item). With none on record: nothing to re-run, nothing deselected."""
    reruns = rerun_ids(config, [item.nodeid for item in items])
    if not reruns:
        return {}, []
    return reruns, [item for item in items if item.nodeid not in reruns]


def rerun_line(reruns: int) -> str:
    """What ``--dai-rerun-failed`` does this session, as pytest's ``--lf`` says it."""
    if not reruns:
        return "dai: no failed runs on record for this server: running every test in full"
    runs = "run" if reruns == 1 else "runs"
    return f"dai: re-running {reruns} failed {runs} of the last session"
