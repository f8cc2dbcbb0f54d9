"""Shared helpers of the pytest-dai benchmarks (not a benchmark itself, never collected).

The benchmarks drive the real plugin: pytest sessions in subprocesses, in a temporary project
(its own ``pytest.ini``, conftest and generated test files, and its own ``.pytest_cache`` kept
across the sessions of one benchmark), against a :class:`DAISimulator` started in the benchmark
process and reached through ``DAI_URL``/``DAI_CLIENT_ID``/``DAI_CLIENT_SECRET``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from pytest_dai.simulator import DAISimulator

PYTEST = [sys.executable, "-m", "pytest", "-p", "no:randomly"]
EXECUTIONS_PATH = "/execution_service/api/v1/executions"
RUNS_PATH = "/ai/runs"

#: A conftest that writes, for every finished DAI run, when the plugin saw it end.
DETECTION_CONFTEST = """\
import importlib.util
import json
import os
import sys
import time

if os.environ.get("BENCH_POLL_SCHEDULE"):
    # A/B runs: the PollSchedule of another polling.py (e.g. an older version) instead.
    import pytest_dai.lifecycle.polled_run

    spec = importlib.util.spec_from_file_location(
        "bench_poll_schedule", os.environ["BENCH_POLL_SCHEDULE"]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    pytest_dai.lifecycle.polled_run.PollSchedule = module.PollSchedule


def pytest_dai_execution_finished(item, execution):
    seen = time.time()
    out = os.environ.get("BENCH_RESULTS")
    if not out:
        return
    record = {
        "nodeid": item.nodeid,
        "execution_id": execution.id,
        "model": execution.model,
        "status": execution.status,
        "seen": seen,
        "detected_at": execution.detected_at,
        "polls": execution.polls,
        "expected_duration": execution.expected_duration,
    }
    with open(os.path.join(out, f"seen-{os.getpid()}.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\\n")
"""


def model(name: str, seconds: float, steps: int = 1) -> dict[str, Any]:
    """A scenario model of ``steps`` equal steps lasting ``seconds`` simulated seconds in all."""
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pytest-dai-bench/{name}")),
        "name": name,
        "steps": [{"name": f"step {i + 1}", "duration": seconds / steps} for i in range(steps)],
    }


def scenario(
    models: Sequence[dict[str, Any]],
    agents: Iterable[str],
    *,
    time_scale: float = 1.0,
    token_lifetime: float = 3600.0,
) -> dict[str, Any]:
    """A scenario dict with these models and agents (ids = names)."""
    return {
        "description": "pytest-dai benchmark",
        "time_scale": time_scale,
        "token_lifetime": token_lifetime,
        "agents": [{"id": name, "name": name} for name in agents],
        "models": list(models),
    }


def sim_env(sim: DAISimulator, **extra: str) -> dict[str, str]:
    """The environment of a pytest session pointed at ``sim`` (and nothing else)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DAI_", "PYTEST_", "BENCH_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        DAI_URL=sim.url,
        DAI_CLIENT_ID=sim.client_id,
        DAI_CLIENT_SECRET=sim.client_secret,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Result:
    """A finished pytest session."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    def check(self) -> Result:
        """Raise with the session's output when it did not pass."""
        if self.returncode != 0:
            tail = "\n".join((self.stdout + self.stderr).splitlines()[-40:])
            raise RuntimeError(f"pytest {' '.join(self.args)} exited {self.returncode}:\n{tail}")
        return self


class Project:
    """A throwaway pytest project in a temporary folder."""

    def __init__(self, name: str, ini: Mapping[str, str] | None = None, conftest: str = "") -> None:
        self.path = Path(tempfile.mkdtemp(prefix=f"pytest-dai-bench-{name}-"))
        lines = ["[pytest]", *(f"{key} = {value}" for key, value in (ini or {}).items())]
        self.write("pytest.ini", "\n".join(lines) + "\n")
        self.write("conftest.py", conftest)

    def write(self, name: str, text: str) -> Path:
        """Write a file of the project; returns its path."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def results_dir(self, name: str) -> Path:
        """An empty folder for a session's JSON results."""
        path = self.path / "results" / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def start(self, args: Sequence[str], env: Mapping[str, str]) -> Session:
        """Start ``python -m pytest ARGS`` in the project folder."""
        return Session(self, list(args), env)

    def run(self, args: Sequence[str], env: Mapping[str, str]) -> Result:
        """Run ``python -m pytest ARGS`` in the project folder and wait for it."""
        return self.start(args, env).wait()

    def cleanup(self) -> None:
        """Remove the folder."""
        shutil.rmtree(self.path, ignore_errors=True)


class Session:
    """A pytest session running in a subprocess."""

    def __init__(self, project: Project, args: list[str], env: Mapping[str, str]) -> None:
        self.args = args
        name = uuid.uuid4().hex[:8]
        self._out = project.path / "sessions" / f"{name}.out"
        self._err = project.path / "sessions" / f"{name}.err"
        self._out.parent.mkdir(exist_ok=True)
        self.began = time.perf_counter()
        # The child keeps its own copies of the descriptors: the files may be closed here.
        with self._out.open("w") as out, self._err.open("w") as err:
            self._proc = subprocess.Popen(
                [*PYTEST, *args],
                cwd=project.path,
                env=dict(env),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

    def wait(self) -> Result:
        """Wait for the session to end."""
        code = self._proc.wait()
        elapsed = time.perf_counter() - self.began
        return Result(
            self.args,
            code,
            self._out.read_text("utf-8", errors="replace"),
            self._err.read_text("utf-8", errors="replace"),
            elapsed,
        )


def read_jsonl(folder: Path) -> list[dict[str, Any]]:
    """Every JSON line of every ``*.jsonl`` file in ``folder``."""
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text("utf-8").splitlines() if line)
    return rows


def status_requests(sim: DAISimulator) -> dict[str, list[Any]]:
    """The status requests of each execution, in order, from the request log:
    ``GET /ai/runs?execution_id=X`` and ``GET /ai/runs/{its run id}``."""
    executions = sim.executions()
    by_run_id = {f"{RUNS_PATH}/{ex['run_id']}": ex["execution_id"] for ex in executions}
    found: dict[str, list[Any]] = {}
    for record in sim.request_log():
        if record.method != "GET":
            continue
        if record.path == RUNS_PATH:
            wanted = record.query.get("execution_id")
        else:
            wanted = by_run_id.get(record.path)
        if wanted:
            found.setdefault(wanted, []).append(record)
    return found


def polls_by_execution(sim: DAISimulator) -> dict[str, int]:
    """Status requests per execution id (see :func:`status_requests`)."""
    return {key: len(records) for key, records in status_requests(sim).items()}


def median(values: Sequence[float]) -> float:
    """The median, NaN for no values."""
    return statistics.median(values) if values else float("nan")


def fmt(value: float | None, spec: str = ".2f") -> str:
    """A number for a table cell ("-" for none)."""
    if value is None or value != value:  # NaN
        return "-"
    return format(value, spec)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain text table, first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def ratio(a: float, b: float) -> str:
    """``a / b`` as ``1.23x`` ("-" when undefined)."""
    if not b or a != a or b != b:
        return "-"
    return f"{a / b:.2f}x"
