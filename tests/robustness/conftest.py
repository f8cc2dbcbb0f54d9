"""Fixtures of the robustness tests: simulators on free ports with the inner pytest pointed at
them through the environment, and the result tables (fault matrix, soak) for the lead to quote.

Each table row is a JUnit property of its test (so it survives pytest-xdist), a line in
``robustness-results.jsonl`` at the root of the pytest temporary folder, and, when this conftest
is loaded by the process that writes the terminal summary (``pytest tests/robustness``, with or
without ``-n``), a table at the end of the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.env import point_at, point_env_at
from harness.simulators import Simulators

# Imported here, before any test: pytester drops the modules a test imported when it ends, and
# the client imported again by a later in-process test would clash with the copies other modules
# kept ("You can only merge into CookieJar"). The tests of test_reaping.py use the plugin's
# state in this process; the plugin imports these lazily.
import pytest_dai.client.credentials
import pytest_dai.client.endpoints
import pytest_dai.lifecycle.journal
import pytest_dai.lifecycle.session  # noqa: F401
from pytest_dai.simulator import DAISimulator

from .hostile import Proxy
from .support import SCENARIO

ROW_PREFIX = "robustness:"
RESULTS_FILE = "robustness-results.jsonl"

_TABLES: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture
def make_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., DAISimulator]]:
    """Start simulators (free ports; stopped at teardown). ``make_sim(scenario_dict, cls=...,
    point=True)``: with ``point``, the inner pytest is pointed at it (DAI_URL, DAI_CLIENT_ID,
    DAI_CLIENT_SECRET; other DAI_* cleared)."""
    simulators = Simulators(default=lambda: SCENARIO)

    def make(
        data: dict[str, Any] | None = None,
        *,
        cls: type[DAISimulator] = DAISimulator,
        point: bool = True,
    ) -> DAISimulator:
        simulator = simulators.start(data, cls=cls, port=0)
        if point:
            point_env_at(monkeypatch, simulator)
        return simulator

    yield make
    simulators.stop_all()


@pytest.fixture
def proxied_scenario() -> dict[str, Any] | None:
    """The scenario of the simulator behind ``proxied`` (None: the robustness scenario); a test
    module overrides it."""
    return None


@pytest.fixture
def proxied(
    make_sim: Callable[..., DAISimulator],
    monkeypatch: pytest.MonkeyPatch,
    proxied_scenario: dict[str, Any] | None,
) -> Iterator[tuple[DAISimulator, Proxy]]:
    """A simulator behind a :class:`Proxy`; the inner pytest points at the proxy."""
    sim = make_sim(proxied_scenario, point=False)
    proxy = Proxy(sim.url)
    point_at(monkeypatch, proxy.url, sim.client_id, sim.client_secret)
    yield sim, proxy
    proxy.close()


@pytest.fixture
def sim(make_sim: Callable[..., DAISimulator]) -> DAISimulator:
    """A simulator with the robustness scenario, the inner pytest pointed at it."""
    return make_sim()


def results_file(factory: pytest.TempPathFactory) -> Path:
    """``robustness-results.jsonl`` at the root of this run's temporary folder (shared by the
    xdist workers, whose own folders are ``popen-gwN`` below it)."""
    base = factory.getbasetemp()
    if base.name.startswith("popen-gw"):  # an xdist worker's own folder
        base = base.parent
    return base / RESULTS_FILE


@pytest.fixture
def record_row(
    record_property: Callable[[str, object], None], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., None]:
    """``record_row(table, **figures)``: one row of a result table (see the module docstring)."""

    def record(table: str, **row: Any) -> None:
        text = json.dumps(row)
        record_property(ROW_PREFIX + table, text)
        with results_file(tmp_path_factory).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"table": table, **row}) + "\n")
        print(f"{table}: {text}")

    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the result rows (on the controller under xdist, where the reports arrive)."""
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if isinstance(name, str) and name.startswith(ROW_PREFIX):
            _TABLES.setdefault(name[len(ROW_PREFIX) :], []).append(json.loads(str(value)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print each result table, and where the rows were written."""
    if not _TABLES:
        return
    for table, rows in sorted(_TABLES.items()):
        columns = list(dict.fromkeys(key for row in rows for key in row))
        cells = [[str(row.get(column, "")) for column in columns] for row in rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        terminalreporter.write_sep("-", f"robustness: {table}")
        for line in [columns, *cells]:
            terminalreporter.write_line(
                "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
            )
    factory = getattr(terminalreporter.config, "_tmp_path_factory", None)
    if factory is not None and results_file(factory).is_file():
        terminalreporter.write_line(f"robustness: rows also in {results_file(factory)}")
