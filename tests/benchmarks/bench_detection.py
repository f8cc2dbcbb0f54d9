"""Benchmark: how soon pytest-dai sees a DAI run end, and how often it asks the server.

Not collected by pytest. Run it with::

    python tests/benchmarks/bench_detection.py [--quick] [--runs 4] [--intervals 5,60]
        [--schedule OLD_POLLING_PY]

Runs of 5 s, 60 s and 600 s (``--quick``: 5 s and 60 s) on a simulator at ``time_scale`` 1, so a
600 s model really takes 600 s (the full benchmark takes about 21 minutes: a cold session and a
measured session, each as long as the longest run). For each ``--dai-poll-interval``, in its own
temporary project (its own pytest cache):

1. a cold session (no history): ``--runs`` marked tests per length, all at once (``pytest -n``);
2. the measured session, the same tests again, now with the durations of the cold session's runs
   in the cache (``dai/durations``), so the plugin expects each run's end.

During the measured sessions a fixed poller in this process (one thread per run, a plain
``requests.Session``, ``GET /ai/runs?execution_id=..`` right after the start and then every 5 s)
runs ``--runs`` runs per length on agents of its own: the baseline, in the same run.

The simulator fails 5 % of the status requests with 503 (Retry-After 1 s); the plugin and the
fixed poller both retry them (urllib3 Retry, as pytest-dai's client by default). "requests" are
all ``GET /ai/runs`` requests for the run's execution id, retries included.

Detection delay: the time a conftest's ``pytest_dai_execution_finished`` hook (or the fixed
poller) saw the run end, minus the simulator's ``ended_at``. Polls: the ``GET /ai/runs`` requests
for the run's execution id in the simulator's request log.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from _harness import (
    DETECTION_CONFTEST,
    EXECUTIONS_PATH,
    RUNS_PATH,
    Project,
    fmt,
    median,
    model,
    polls_by_execution,
    ratio,
    read_jsonl,
    scenario,
    sim_env,
    table,
)
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pytest_dai.simulator import DAISimulator

if TYPE_CHECKING:
    from collections.abc import Sequence

FINAL = {"passed", "failed", "error", "cancelled", "aborted"}
FIXED_INTERVAL = 5.0
DELAY_TARGET = 0.5
#: The simulator's 503 faults during the measured sessions: this share of the status requests
#: fails with 503 (Retry-After 1 s); both parties retry them the same way (urllib3 Retry).
FAULT_RATE = 0.05


def retrying_session() -> requests.Session:
    """A requests session that retries 5xx/429 as pytest-dai's client does by default (5
    attempts, backoff factor 0.5, Retry-After honoured)."""
    session = requests.Session()
    retry = Retry(
        total=4,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,
        respect_retry_after_header=True,
    )
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def model_name(length: int) -> str:
    return f"bench-{length}s"


def tests_source(prefix: str, lengths: Sequence[int], runs: int) -> str:
    """Marked tests: ``runs`` per length, each on an agent of its own."""
    lines = ["import pytest", ""]
    for length in lengths:
        for k in range(runs):
            lines += [
                "",
                f'@pytest.mark.dai_model("{model_name(length)}", agent="{prefix}-{length}s-{k}")',
                f"def test_{length}s_{k}():",
                "    pass",
                "",
            ]
    return "\n".join(lines)


@dataclass
class Sample:
    """One run as seen by the plugin or the fixed poller."""

    length: int
    delay: float
    polls: int


@dataclass
class FixedPoller:
    """The baseline: starts runs itself and polls each every ``interval`` seconds."""

    sim: DAISimulator
    interval: float = FIXED_INTERVAL
    seen: dict[str, float] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = requests.Session()
        token = self.http.post(
            self.sim.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.sim.client_id,
                "client_secret": self.sim.client_secret,
            },
            timeout=30,
        ).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        models = self.http.get(self.sim.url + "/ai/models", headers=self.headers, timeout=30)
        self.model_ids = {m["name"]: m["id"] for m in models.json()}

    def start(self, model: str, agent: str, phase: float | None = None) -> str:
        """Start a run (E1) and a thread that polls it right away, then at ``phase`` + k *
        ``interval`` seconds; returns the execution id."""
        body = {
            "execution_type": "executing",
            "model_id": self.model_ids[model],
            "agent": {"agent_id": agent},
        }
        response = self.http.post(
            self.sim.url + EXECUTIONS_PATH, json=body, headers=self.headers, timeout=30
        )
        response.raise_for_status()
        execution_id = str(response.json()["id"])
        offset = self.interval if phase is None else phase
        thread = threading.Thread(target=self._poll, args=(execution_id, offset), daemon=True)
        self.threads.append(thread)
        thread.start()
        return execution_id

    def _poll(self, execution_id: str, phase: float) -> None:
        own = retrying_session()
        began = time.monotonic() + phase - self.interval
        k = 0
        while True:
            try:
                response = own.get(
                    self.sim.url + RUNS_PATH,
                    params={"execution_id": execution_id},
                    headers=self.headers,
                    timeout=30,
                )
            except requests.RequestException:
                response = None
            if response is not None and response.ok:
                items: Any = response.json()
                items = (
                    items.get(self.sim.dialect.envelope or "items", items)
                    if isinstance(items, dict)
                    else items
                )
                for run in items:
                    if str(run.get("execution_id")) == execution_id and (
                        str(run.get("status", "")).casefold() in FINAL
                    ):
                        self.seen[execution_id] = time.time()
                        return
            k += 1
            time.sleep(max(began + k * self.interval - time.monotonic(), 0.0))

    def join(self) -> None:
        for thread in self.threads:
            thread.join()


def plugin_samples(sim: DAISimulator, rows: list[dict[str, Any]]) -> list[Sample]:
    """The plugin's runs of one session: its hook's records against the simulator's."""
    executions = {ex["execution_id"]: ex for ex in sim.executions()}
    polls = polls_by_execution(sim)
    samples = []
    for row in rows:
        ex = executions[row["execution_id"]]
        length = int(ex["model_name"].removeprefix("bench-").removesuffix("s"))
        samples.append(
            Sample(length, row["seen"] - ex["ended_at"], polls.get(ex["execution_id"], 0))
        )
    return samples


def fixed_samples(sim: DAISimulator, poller: FixedPoller) -> list[Sample]:
    executions = {ex["execution_id"]: ex for ex in sim.executions()}
    polls = polls_by_execution(sim)
    samples = []
    for execution_id, seen in poller.seen.items():
        ex = executions[execution_id]
        length = int(ex["model_name"].removeprefix("bench-").removesuffix("s"))
        samples.append(Sample(length, seen - ex["ended_at"], polls.get(execution_id, 0)))
    return samples


def summary(samples: list[Sample], length: int) -> tuple[int, float, float, float]:
    """(runs, median delay, max delay, median polls) of one length."""
    mine = [s for s in samples if s.length == length]
    delays = [s.delay for s in mine]
    return (
        len(mine),
        median(delays),
        max(delays) if delays else float("nan"),
        median([float(s.polls) for s in mine]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="drop the 600 s length")
    parser.add_argument("--runs", type=int, default=4, help="runs per length and party")
    parser.add_argument("--steps", type=int, default=4, help="equal steps per model")
    parser.add_argument("--intervals", default="5,60", help="--dai-poll-interval values")
    parser.add_argument(
        "--schedule",
        metavar="POLLING_PY",
        help="A/B: the plugin uses the PollSchedule of this file (e.g. an older polling.py)",
    )
    args = parser.parse_args()
    lengths = [5, 60] if args.quick else [5, 60, 600]
    intervals = [int(v) for v in args.intervals.split(",")]
    runs = args.runs

    agents = [f"fixed-{length}s-{k}" for length in lengths for k in range(runs)]
    for interval in intervals:
        agents += [f"p{interval}-{length}s-{k}" for length in lengths for k in range(runs)]
    models = [model(model_name(length), length, args.steps) for length in lengths]
    sim = DAISimulator(scenario(models, agents, time_scale=1.0, token_lifetime=3600)).start()
    projects = {
        interval: Project(f"detection-{interval}", conftest=DETECTION_CONFTEST)
        for interval in intervals
    }
    began = time.perf_counter()
    try:
        for interval, project in projects.items():
            project.write("test_runs.py", tests_source(f"p{interval}", lengths, runs))

        def run_phase(phase: str) -> dict[int, list[Sample]]:
            sessions = {}
            folders = {}
            for interval, project in projects.items():
                folders[interval] = project.results_dir(phase)
                env = sim_env(sim, BENCH_RESULTS=str(folders[interval]))
                if args.schedule:
                    env["BENCH_POLL_SCHEDULE"] = str(Path(args.schedule).resolve())
                sessions[interval] = project.start(
                    [
                        "-q",
                        "-n",
                        str(runs * len(lengths)),
                        "--dai-poll-interval",
                        str(interval),
                        "test_runs.py",
                    ],
                    env,
                )
            for session in sessions.values():
                session.wait().check()
            return {
                interval: plugin_samples(sim, read_jsonl(folders[interval]))
                for interval in intervals
            }

        # 503 faults on the status requests, for both parties (the plugin and the fixed poller
        # retry them the same way).
        sim.set_faults(
            error_rate=FAULT_RATE,
            error_statuses=[503],
            retry_after=1,
            fault_paths=[RUNS_PATH],
            seed=16,
        )
        cold = run_phase("cold")
        poller = FixedPoller(sim)
        for length in lengths:
            for k in range(runs):
                # The runs' lengths are multiples of 5 s; real ones are not: spread the phase
                # of the polls against the run's end evenly over the interval.
                phase = (k + 0.5) / runs * FIXED_INTERVAL
                poller.start(model_name(length), f"fixed-{length}s-{k}", phase)
        warm = run_phase("warm")
        poller.join()
        fixed = fixed_samples(sim, poller)
    finally:
        sim.stop()
        for project in projects.values():
            project.cleanup()
    wall = time.perf_counter() - began

    if args.schedule:
        print(f"PollSchedule from {args.schedule}")
    print(
        f"Detection delay (plugin saw the end - server end) and GET /ai/runs polls per run; "
        f"{runs} runs per length and party, {args.steps} equal steps per model, time_scale 1; "
        f"fixed poller every {FIXED_INTERVAL:g} s in the same run; wall {wall / 60:.1f} min."
    )
    verdicts = []
    for interval in intervals:
        rows = []
        for length in lengths:
            f_n, f_med, f_max, f_polls = summary(fixed, length)
            for label, samples in (("plugin, history", warm), ("plugin, cold", cold)):
                n, med, mx, polls = summary(samples[interval], length)
                rows.append(
                    [
                        f"{length} s",
                        label,
                        n,
                        fmt(med),
                        fmt(mx),
                        fmt(polls, ".1f"),
                        ratio(med, f_med),
                        ratio(polls, f_polls),
                    ]
                )
            rows.append(
                [
                    f"{length} s",
                    "fixed 5 s",
                    f_n,
                    fmt(f_med),
                    fmt(f_max),
                    fmt(f_polls, ".1f"),
                    "",
                    "",
                ]
            )
            for label, samples in (("history", warm), ("no history", cold)):
                _, med, _, polls = summary(samples[interval], length)
                verdicts.append(
                    f"  interval {interval:>3} s, {length:>3} s runs, {label:<10}: median delay "
                    f"{fmt(med)} s ({'met' if med <= DELAY_TARGET else 'missed'}, target <= "
                    f"{DELAY_TARGET} s); requests {ratio(polls, f_polls)} of the fixed poller's "
                    f"({'met' if polls <= f_polls else 'missed'}, target <= 1.00x)"
                )
        print()
        print(f"--dai-poll-interval {interval}")
        print(
            table(
                [
                    "length",
                    "party",
                    "runs",
                    "median delay s",
                    "max delay s",
                    "median requests",
                    "delay vs fixed",
                    "requests vs fixed",
                ],
                rows,
            )
        )
    print()
    print("Targets (plugin with history; informational, never a failure):")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
