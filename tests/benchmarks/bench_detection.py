"""Benchmark: how soon pytest-dai sees a DAI run end, and how often it asks the server.

Not collected by pytest. Run it with::

    python tests/benchmarks/bench_detection.py [--quick] [--runs 4] [--intervals 5,60]
        [--steps 4,40] [--schedule OLD_POLLING_PY] [--trace] [--dialect dai_cloud]

Runs of 5 s, 60 s and 600 s (``--quick``: 5 s and 60 s) on a simulator at ``time_scale`` 1, so a
600 s model really takes 600 s (the full benchmark takes about 21 minutes: a cold session and a
measured session, each as long as the longest run). Each length comes in two shapes, runs of 4
equal steps and of 40 (``--steps``; the contract's example run record has 40): without history
the steps are all the plugin has to go by. The second shape is measured at the first interval
only (fewer xdist workers at once). For each ``--dai-poll-interval``, in its own
temporary project (its own pytest cache):

1. a cold session (no history): ``--runs`` marked tests per length, all at once (``pytest -n``);
2. the measured session, the same tests again, now with the durations of the cold session's runs
   in the cache (``dai/durations``), so the plugin expects each run's end.

During the measured sessions a fixed poller in this process (one thread per run, a plain
``requests.Session``, ``GET /ai/runs?execution_id=..`` right after the start and then every 5 s)
runs ``--runs`` runs per length on agents of its own: the baseline, in the same run. With
``--dialect dai_cloud`` (a DAI cloud, contract 2.7) it reads as the Eggplant staff's script
did: the list's last page (``total_count``) until it knows the run id, then
``GET /ai/runs/{id}`` every 5 s; both parties' requests of both kinds are counted.

The simulator fails 5 % of the status requests with 503 (Retry-After 1 s); the plugin and the
fixed poller both retry them (urllib3 Retry, as pytest-dai's client by default). The faults are
drawn per execution (the simulator's ``fault_draw="per_execution"``): whether a run's n-th
status request fails depends only on the seed, on n and on its agent's ``fault_stream``, which
is the run's shape and its number k within the shape: the k-th run of a shape meets the same
faults at the same request count for every party (common random numbers: a party that polls
less can never pay more retries, and the requests compare the polls, not the luck of a shared
random generator, which made the 600 s rows a coin toss), while the runs of one party meet
different faults (a row's median is not one fault pattern's). "requests" are
all ``GET /ai/runs`` requests for the run's execution id, retries included; "503s" how many of
them were answered 503 (each costs one retry: a party's requests less its 503s are its polls).
``--trace`` prints, for each run of the cold sessions, when its requests came (seconds after the
run's start, ``*`` for a 503) against its end.

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
    ratio,
    read_jsonl,
    scenario,
    sim_env,
    status_requests,
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
#: fails with 503 (Retry-After 1 s), drawn per execution (the n-th request of the k-th run of a
#: shape meets the same draw for both parties); both retry them the same way (urllib3 Retry).
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


def model_name(length: int, steps: int) -> str:
    return f"bench-{length}s-{steps}st"


def tests_source(prefix: str, shapes: Sequence[tuple[int, int]], runs: int) -> str:
    """Marked tests: ``runs`` per shape (length, steps), each on an agent of its own."""
    lines = ["import pytest", ""]
    for length, steps in shapes:
        for k in range(runs):
            agent = f"{prefix}-{length}s-{steps}st-{k}"
            lines += [
                "",
                f'@pytest.mark.dai_model("{model_name(length, steps)}", agent="{agent}")',
                f"def test_{length}s_{steps}st_{k}():",
                "    pass",
                "",
            ]
    return "\n".join(lines)


@dataclass
class Sample:
    """One run as seen by the plugin or the fixed poller: its shape, the detection delay, its
    status requests (retries included), how many of them were answered 503, and when they came
    (seconds after the run's start; a negative 503 flag list alongside)."""

    length: int
    steps: int
    delay: float
    polls: int
    faults: int = 0
    times: list[tuple[float, bool]] = field(default_factory=list)


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
        # Revision 2: a listing carries the uuid to start with as "modeluuid" ("id" is a number).
        listed = models.json()
        if isinstance(listed, dict):  # an envelope (the dialect's)
            listed = listed[self.sim.dialect.envelope or "items"]
        self.model_ids = {m["name"]: str(m.get("modeluuid") or m["id"]) for m in listed}

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
        run_id: str | None = None
        while True:
            record = self._read(own, execution_id, run_id)
            if record is not None:
                run_id = str(record.get("id"))
                word = record.get("status", record.get("teststatus", ""))
                if str(word).casefold() in FINAL:
                    self.seen[execution_id] = time.time()
                    return
            k += 1
            time.sleep(max(began + k * self.interval - time.monotonic(), 0.0))

    def _read(
        self, own: requests.Session, execution_id: str, run_id: str | None
    ) -> dict[str, Any] | None:
        """The run's record, as a plain script reads it: on a server that reads one run
        (``GET /ai/runs/{id}``, once the id is known), that; else the run list filtered by the
        execution id, and where the list is oldest first, its last page (``total_count``)."""
        dialect = self.sim.dialect
        try:
            if run_id is not None and dialect.run_by_id:
                one = own.get(
                    f"{self.sim.url}{RUNS_PATH}/{run_id}", headers=self.headers, timeout=30
                )
                return one.json() if one.ok else None
            params: dict[str, Any] = {"execution_id": execution_id}
            response = own.get(
                self.sim.url + RUNS_PATH, params=params, headers=self.headers, timeout=30
            )
            if not response.ok:
                return None
            body = response.json()
            if dialect.runs_order == "oldest_first" and isinstance(body, dict):
                params.update(limit=20, offset=max(body["total_count"] - 20, 0))
                response = own.get(
                    self.sim.url + RUNS_PATH, params=params, headers=self.headers, timeout=30
                )
                if not response.ok:
                    return None
                body = response.json()
        except requests.RequestException:
            return None
        items = body.get(dialect.envelope or "items", body) if isinstance(body, dict) else body
        return next((r for r in items if str(r.get("execution_id")) == execution_id), None)

    def join(self) -> None:
        for thread in self.threads:
            thread.join()


def status_requests_of(sim: DAISimulator) -> dict[str, list[tuple[float, bool]]]:
    """The status requests of each execution id: (arrival time, answered 503)."""
    return {
        key: [(record.time, record.status == 503) for record in records]
        for key, records in status_requests(sim).items()
    }


def samples_of(sim: DAISimulator, seen: dict[str, float]) -> list[Sample]:
    """The runs whose end was seen at ``seen[execution id]`` (``time.time()``), against the
    simulator's record of them."""
    executions = {ex["execution_id"]: ex for ex in sim.executions()}
    requests_by_run = status_requests_of(sim)
    shapes = {model_name(length, steps): (length, steps) for length, steps in SHAPES}
    samples = []
    for execution_id, at in seen.items():
        ex = executions[execution_id]
        length, steps = shapes[ex["model_name"]]
        mine = requests_by_run.get(execution_id, [])
        samples.append(
            Sample(
                length,
                steps,
                at - ex["ended_at"],
                len(mine),
                sum(1 for _, fault in mine if fault),
                [(t - ex["started_at"], fault) for t, fault in mine],
            )
        )
    return samples


def plugin_samples(sim: DAISimulator, rows: list[dict[str, Any]]) -> list[Sample]:
    """The plugin's runs of one session: its hook's records against the simulator's."""
    return samples_of(sim, {row["execution_id"]: row["seen"] for row in rows})


#: The (length, steps) shapes of this benchmark run (set in main).
SHAPES: list[tuple[int, int]] = []


def shapes_at(interval: int, intervals: Sequence[int]) -> list[tuple[int, int]]:
    """The shapes measured at ``--dai-poll-interval interval``: all of them at the first (the
    default) interval, the first step count only at the others (fewer xdist workers at once
    on a small machine)."""
    if interval == intervals[0]:
        return list(SHAPES)
    return [shape for shape in SHAPES if shape[1] == SHAPES[0][1]]


def summary(
    samples: list[Sample], shape: tuple[int, int]
) -> tuple[int, float, float, float, float]:
    """(runs, median delay, max delay, median requests, median 503s) of one shape."""
    mine = [s for s in samples if (s.length, s.steps) == shape]
    delays = [s.delay for s in mine]
    return (
        len(mine),
        median(delays),
        max(delays) if delays else float("nan"),
        median([float(s.polls) for s in mine]),
        median([float(s.faults) for s in mine]),
    )


def trace(label: str, samples: list[Sample]) -> None:
    """Each run's requests (seconds after its start, * for a 503) and its end."""
    for s in sorted(samples, key=lambda s: (s.length, s.steps, s.delay)):
        times = " ".join(f"{t:.2f}{'*' if fault else ''}" for t, fault in s.times)
        print(f"  {label} {s.length} s x {s.steps}: delay {s.delay:.2f} s, requests: {times}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="drop the 600 s length")
    parser.add_argument("--runs", type=int, default=4, help="runs per shape and party")
    parser.add_argument("--steps", default="4,40", help="equal steps per model, one shape each")
    parser.add_argument("--intervals", default="5,60", help="--dai-poll-interval values")
    parser.add_argument(
        "--schedule",
        metavar="POLLING_PY",
        help="A/B: the plugin uses the PollSchedule of this file (e.g. an older polling.py)",
    )
    parser.add_argument("--trace", action="store_true", help="print the cold runs' requests")
    parser.add_argument(
        "--dialect", default="default", help="the simulator's dialect preset (e.g. dai_cloud)"
    )
    args = parser.parse_args()
    lengths = [5, 60] if args.quick else [5, 60, 600]
    SHAPES[:] = [(length, int(n)) for length in lengths for n in args.steps.split(",")]
    intervals = [int(v) for v in args.intervals.split(",")]
    runs = args.runs

    def agents_of(prefix: str) -> list[str]:
        return [f"{prefix}-{ln}s-{n}st-{k}" for ln, n in SHAPES for k in range(runs)]

    agents = agents_of("fixed")
    for interval in intervals:
        agents += agents_of(f"p{interval}")  # some unused: shapes_at
    models = [model(model_name(ln, n), ln, n) for ln, n in SHAPES]
    setup = scenario(models, agents, time_scale=1.0, token_lifetime=3600)
    for agent in setup["agents"]:
        # The k-th run of a shape meets the same faults for every party (its agent's name
        # without the party), the k-th and the j-th run of one party other ones.
        agent["fault_stream"] = agent["id"].split("-", 1)[1]
    sim = DAISimulator(setup, dialect=args.dialect).start()
    projects = {
        interval: Project(f"detection-{interval}", conftest=DETECTION_CONFTEST)
        for interval in intervals
    }
    began = time.perf_counter()
    try:
        for interval, project in projects.items():
            project.write(
                "test_runs.py", tests_source(f"p{interval}", shapes_at(interval, intervals), runs)
            )

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
                        str(runs * len(shapes_at(interval, intervals))),
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
        # retry them the same way), the same for the k-th runs of a shape at the same count.
        sim.set_faults(
            error_rate=FAULT_RATE,
            error_statuses=[503],
            retry_after=1,
            fault_paths=[RUNS_PATH],
            seed=16,
            fault_draw="per_execution",
        )
        cold = run_phase("cold")
        poller = FixedPoller(sim)
        for length, steps in SHAPES:
            for k in range(runs):
                # The runs' lengths are multiples of 5 s; real ones are not: spread the phase
                # of the polls against the run's end evenly over the interval.
                phase = (k + 0.5) / runs * FIXED_INTERVAL
                poller.start(model_name(length, steps), f"fixed-{length}s-{steps}st-{k}", phase)
        warm = run_phase("warm")
        poller.join()
        fixed = samples_of(sim, poller.seen)
    finally:
        sim.stop()
        for project in projects.values():
            project.cleanup()
    wall = time.perf_counter() - began
    report(args, intervals, runs, wall, cold, warm, fixed)
    return 0


def report(
    args: argparse.Namespace,
    intervals: list[int],
    runs: int,
    wall: float,
    cold: dict[int, list[Sample]],
    warm: dict[int, list[Sample]],
    fixed: list[Sample],
) -> None:
    """Print the tables, the per-row verdicts and (``--trace``) the cold runs' requests."""
    if args.schedule:
        print(f"PollSchedule from {args.schedule}")
    print(
        f"Detection delay (plugin saw the end - server end) and GET /ai/runs requests per run "
        f"(retries included; 503s: how many were answered 503); {runs} runs per shape and "
        f"party, equal steps, time_scale 1; fixed poller every {FIXED_INTERVAL:g} s in the same "
        f"run; wall {wall / 60:.1f} min."
    )
    verdicts = []
    for interval in intervals:
        rows = []
        for shape in shapes_at(interval, intervals):
            length, steps = shape
            f_n, f_med, f_max, f_polls, f_faults = summary(fixed, shape)
            for label, samples in (("plugin, history", warm), ("plugin, cold", cold)):
                n, med, mx, polls, faults = summary(samples[interval], shape)
                rows.append(
                    [
                        f"{length} s",
                        steps,
                        label,
                        n,
                        fmt(med),
                        fmt(mx),
                        fmt(polls, ".1f"),
                        fmt(faults, ".1f"),
                        ratio(med, f_med),
                        ratio(polls, f_polls),
                    ]
                )
                verdicts.append(
                    f"  interval {interval:>3} s, {length:>3} s x {steps:>2} steps, "
                    f"{'history' if samples is warm else 'no history':<10}: median delay "
                    f"{fmt(med)} s ({'met' if med <= DELAY_TARGET else 'missed'}, target <= "
                    f"{DELAY_TARGET} s); requests {ratio(polls, f_polls)} of the fixed poller's "
                    f"({'met' if polls <= f_polls else 'missed'}, target <= 1.00x)"
                )
            rows.append(
                [
                    f"{length} s",
                    steps,
                    "fixed 5 s",
                    f_n,
                    fmt(f_med),
                    fmt(f_max),
                    fmt(f_polls, ".1f"),
                    fmt(f_faults, ".1f"),
                    "",
                    "",
                ]
            )
        print()
        print(f"--dai-poll-interval {interval}")
        print(
            table(
                [
                    "length",
                    "steps",
                    "party",
                    "runs",
                    "median delay s",
                    "max delay s",
                    "median requests",
                    "median 503s",
                    "delay vs fixed",
                    "requests vs fixed",
                ],
                rows,
            )
        )
    print()
    print("Targets (informational, never a failure):")
    print("\n".join(verdicts))
    if args.trace:
        print()
        print("Requests of each run (seconds after its start; * answered 503):")
        for interval in intervals:
            trace(f"interval {interval}, cold:", cold[interval])
        trace("fixed:", fixed)


if __name__ == "__main__":
    raise SystemExit(main())
