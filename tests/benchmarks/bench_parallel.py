"""Benchmark: wall time of parallel DAI suites with pytest-xdist, by scheduling mode.

Not collected by pytest. Run it with::

    python tests/benchmarks/bench_parallel.py [--quick] [--seconds 10] [--runs 16] [--agents 4]
        [--sequential]

Two suites on a simulator at ``time_scale`` 1 (a 10 s model takes 10 s), each mode one pytest
session in a temporary project whose cache already has the models' durations (as in a CI that
runs the suite regularly); the wall time is the session's, from the start of the process to its
exit:

1. pinned: 16 runs of 10 s, each on a named agent (test k on agent k mod 4: 4 runs per agent),
   ``-n 4`` with xdist's default ``--dist load``, and with ``--dai-dist=agent``; the ideal is
   runs x seconds / agents. ``--sequential`` adds plain ``pytest`` (160 s more).
2. mixed: 4 runs of 4 x 10 s and 12 of 10 s, no agent named (test k is a long one when
   k mod 4 = 3), ``-n 4`` with ``--dist load`` and with ``--dai-dist=agent``; the optimal
   makespan is the total run time / agents (here also achievable: 40 + 3 x 10 s).

The floor: the same sessions (``-n 4``, and ``-n 4 --dai-dist=agent``) on 16 plain tests that
start no run, twice each: what pytest-xdist's start-up and exit cost on this machine at this
load, with no DAI run to wait for. "ideal + floor" adds the matching floor's median to the ideal
(the best a session could do here); the ratio to the ideal alone is printed beside it.

"to 1st run" is the session's start-up (process start to the first run's start request),
"after last" the time from the last run's end to the session's exit; "queued" is the time runs
waited on a busy agent (simulator ``started_at - queued_at``, summed).
``--quick``: 3 s runs (the ratios then weigh xdist's start-up more).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from _harness import Project, model, ratio, scenario, sim_env, table

from pytest_dai.simulator import DAISimulator

MODEL = "bench-parallel"
LONG_MODEL = "bench-parallel-long"
LONG_FACTOR = 4


def suite_source(runs: int, agents: int, pinned: bool, long_every: int = 0) -> str:
    lines = ["import pytest", ""]
    for k in range(runs):
        agent = f', agent="agent-{k % agents}"' if pinned else ""
        name = LONG_MODEL if long_every and k % long_every == long_every - 1 else MODEL
        lines += ["", f'@pytest.mark.dai_model("{name}"{agent})', f"def test_run_{k:02d}():"]
        lines += ["    pass", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s runs instead of 10 s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a run")
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--sequential", action="store_true", help="also run the pinned suite")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds
    workers = str(args.agents)
    ideal = args.runs * seconds / args.agents
    longs = args.runs // 4
    optimal = ((args.runs - longs) * seconds + longs * LONG_FACTOR * seconds) / args.agents

    agents = [f"agent-{i}" for i in range(args.agents)]
    models = [model(MODEL, seconds), model(LONG_MODEL, seconds * LONG_FACTOR)]
    sim = DAISimulator(scenario(models, agents, time_scale=1.0)).start()
    n = ["-n", workers]
    modes = [
        ("pinned", f"-n {workers}, --dist load", n, "test_pinned.py", ideal),
        (
            "pinned",
            f"-n {workers} --dai-dist=agent",
            [*n, "--dai-dist=agent"],
            "test_pinned.py",
            ideal,
        ),
        ("mixed", f"-n {workers}, --dist load", n, "test_mixed.py", optimal),
        (
            "mixed",
            f"-n {workers} --dai-dist=agent",
            [*n, "--dai-dist=agent"],
            "test_mixed.py",
            optimal,
        ),
    ]
    if args.sequential:
        modes.insert(0, ("pinned", "sequential", [], "test_pinned.py", ideal))
    rows = []
    project = Project("parallel")
    try:
        project.write("test_pinned.py", suite_source(args.runs, args.agents, pinned=True))
        project.write("test_mixed.py", suite_source(args.runs, args.agents, False, long_every=4))
        # The models' durations in the project's cache, as a CI that runs the suite regularly
        # has them (pytest's cache format: JSON under .pytest_cache/v/KEY).
        durations = {MODEL: [seconds], LONG_MODEL: [seconds * LONG_FACTOR]}
        project.write(".pytest_cache/v/dai/durations", json.dumps(durations))
        project.write("test_warmup.py", "def test_nothing():\n    pass\n")
        project.run(["-q", *n, "test_warmup.py"], sim_env(sim)).check()  # bytecode, imports
        project.write("test_plain.py", "".join(f"def test_{k}():\n    pass\n" for k in range(16)))
        floors = {
            label: [
                project.run(["-q", *extra, "test_plain.py"], sim_env(sim)).check().elapsed
                for _ in range(2)
            ]
            for label, extra in (("load", n), ("agent", [*n, "--dai-dist=agent"]))
        }
        floor = {label: statistics.median(values) for label, values in floors.items()}
        for suite, label, extra, path, target in modes:
            known = {ex["execution_id"] for ex in sim.executions()}
            began = time.time()
            result = project.run(["-q", *extra, path], sim_env(sim)).check()
            mine = [ex for ex in sim.executions() if ex["execution_id"] not in known]
            queued = sum(ex["started_at"] - ex["queued_at"] for ex in mine)
            first = min(ex["queued_at"] for ex in mine)
            last = max(ex["ended_at"] for ex in mine)
            span = last - first
            kind = "agent" if "--dai-dist=agent" in extra else "load"
            rows.append(
                [
                    suite,
                    label,
                    f"{result.elapsed:.1f}",
                    f"{first - began:.1f}",
                    f"{span:.1f}",
                    f"{began + result.elapsed - last:.1f}",
                    f"{queued:.1f}",
                    f"{target:.1f}",
                    ratio(result.elapsed, target),
                    f"{target + floor[kind]:.1f}",
                    ratio(result.elapsed, target + floor[kind]),
                ]
            )
    finally:
        project.cleanup()
        sim.stop()

    print(
        f"pinned: {args.runs} runs of {seconds:g} s on {args.agents} agents, ideal "
        f"{ideal:.1f} s; mixed: {longs} runs of {seconds * LONG_FACTOR:g} s and "
        f"{args.runs - longs} of {seconds:g} s, no agent named, optimal "
        f"{optimal:.1f} s (time_scale 1)"
    )
    print()
    print(
        table(
            [
                "suite",
                "mode",
                "wall s",
                "to 1st run s",
                "runs span s",
                "after last s",
                "queued s",
                "ideal s",
                "wall / ideal",
                "ideal + floor s",
                "wall / (ideal + floor)",
            ],
            rows,
        )
    )
    print()
    print(
        "floor (16 plain tests, no run): "
        + "; ".join(
            f"-n {workers}{' --dai-dist=agent' if label == 'agent' else ''}: "
            + ", ".join(f"{v:.1f}" for v in values)
            + " s"
            for label, values in floors.items()
        )
        + f"; load average {os.getloadavg()[0]:.1f} (1 min) at the end"
    )
    print()
    print(
        "Targets: pinned with --dai-dist=agent at most 1.05x the ideal, mixed within 1.1x of "
        "the optimal (informational, never a failure)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
