"""Benchmark: what finding and polling a run costs on each server shape (contract 2.7, rule 13).

Not collected by pytest. Run it with::

    python tests/benchmarks/bench_run_reads.py [--runs 4] [--seconds 20] [--dialects ...]

For each dialect preset (default: ``default``, ``dai_cloud``, ``no_run_by_id``,
``oldest_first``, ``unfiltered``, ``everything``) a simulator at ``time_scale`` 1 runs
``--runs`` marked tests of one ``--seconds`` run each, one per agent, in one pytest session
(``-n`` as many). From the simulator's request log, per run: the requests that found the run
grouped into polls by time (requests less than ``POLL_GAP`` apart are one poll's): the first
poll's requests (the lookup) and the mean requests of each later poll (1.0: one request a poll,
the target).
The DAI cloud has a history of 300 runs, oldest first, and ignores the filter.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from _harness import (
    RUNS_PATH,
    Project,
    fmt,
    median,
    model,
    scenario,
    sim_env,
    status_requests,
    table,
)

from pytest_dai.simulator import DAISimulator

DIALECTS = ("default", "dai_cloud", "no_run_by_id", "oldest_first", "unfiltered", "everything")


def tests_source(runs: int) -> str:
    lines = ["import pytest", ""]
    for k in range(runs):
        lines += [
            f'@pytest.mark.dai_model("Bench run", agent="agent-{k}")',
            f"def test_run_{k}():",
            "    pass",
            "",
        ]
    return "\n".join(lines)


#: Requests closer together than this belong to one poll (the polls of a run are at least
#: a few tenths of a second apart; the requests of one poll follow each other at once).
POLL_GAP = 0.15


def polls_of(records: list[Any]) -> list[int]:
    """How many status requests each poll of one run made (requests grouped by time)."""
    polls: list[int] = []
    last = None
    for record in records:
        if last is None or record.time - last > POLL_GAP:
            polls.append(0)
        polls[-1] += 1
        last = record.time
    return polls


def measure(dialect: str, runs: int, seconds: float) -> dict[str, Any]:
    agents = [f"agent-{k}" for k in range(runs)]
    sim = DAISimulator(
        scenario([model("Bench run", seconds, 4)], agents, time_scale=1.0), dialect=dialect
    ).start()
    project = Project(f"reads-{dialect}")
    try:
        project.write("test_reads.py", tests_source(runs))
        began = time.perf_counter()
        project.run(["-q", "-n", str(runs), "-p", "no:cacheprovider"], sim_env(sim)).check()
        wall = time.perf_counter() - began
        per_run = list(status_requests(sim).values())
    finally:
        sim.stop()
        project.cleanup()
    polls = [polls_of(records) for records in per_run]
    later = [count for run in polls for count in run[1:]]
    return {
        "requests": median([len(records) for records in per_run]),
        "polls": median([len(run) for run in polls]),
        "first": median([run[0] for run in polls if run]),
        "per_poll": sum(later) / len(later) if later else float("nan"),
        "worst": max(later, default=0),
        "one_run": sum(1 for records in per_run for r in records if r.path != RUNS_PATH),
        "wall": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--dialects", default=",".join(DIALECTS))
    args = parser.parse_args()
    rows = []
    for dialect in args.dialects.split(","):
        result = measure(dialect, args.runs, args.seconds)
        rows.append(
            [
                dialect,
                fmt(result["requests"], ".0f"),
                fmt(result["polls"], ".0f"),
                fmt(result["first"], ".0f"),
                fmt(result["per_poll"], ".2f"),
                str(result["worst"]),
                str(result["one_run"]),
                fmt(result["wall"], ".1f"),
            ]
        )
    print(
        f"Status requests of runs of {args.seconds:g} s ({args.runs} runs per dialect; medians "
        "per run): all, polls, the first poll's (the lookup), then per poll after it (mean, "
        "and the most one poll made), and the one-run reads (GET /ai/runs/{id}) of all runs"
    )
    print(
        table(
            [
                "dialect",
                "requests",
                "polls",
                "first poll",
                "per poll after",
                "most",
                "one-run reads",
                "wall s",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
