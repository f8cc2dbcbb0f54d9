"""Benchmark: wall time of 16 DAI runs of equal length on 4 agents, sequential and with xdist.

Not collected by pytest. Run it with::

    python tests/benchmarks/bench_parallel.py [--quick] [--seconds 10] [--runs 16] [--agents 4]

16 marked tests, each on a named agent (test k on agent k mod 4: each agent gets 4 runs), on a
simulator at ``time_scale`` 1 (a 10 s model takes 10 s). Each mode is one pytest session in a
temporary project whose cache already has the model's duration (a warm-up session ran one run
per agent first, as a CI that runs the suite regularly would have); the wall time is the
session's, from the start of the process to its exit:

- sequential: plain ``pytest``;
- ``-n 4``: pytest-xdist's default ``--dist load``;
- ``-n 4 --dist loadgroup -o dai_xdist_group_by_agent=true`` (one worker per agent);
- ``-n 4``, tests without an agent (the server picks a free one), for comparison.

The ideal is the total run time divided by the agents (runs x seconds / 4). "queued" is the time
runs waited on a busy agent (simulator ``started_at - queued_at``, summed). ``--quick``: 3 s runs.
"""

from __future__ import annotations

import argparse

from _harness import Project, model, ratio, scenario, sim_env, table

from pytest_dai.simulator import DAISimulator

MODEL = "bench-parallel"


def tests_source(runs: int, agents: int, pinned: bool) -> str:
    lines = ["import pytest", ""]
    for k in range(runs):
        agent = f', agent="agent-{k % agents}"' if pinned else ""
        lines += ["", f'@pytest.mark.dai_model("{MODEL}"{agent})', f"def test_run_{k:02d}():"]
        lines += ["    pass", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s runs instead of 10 s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a run")
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--agents", type=int, default=4)
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds
    workers = str(args.agents)
    ideal = args.runs * seconds / args.agents

    agents = [f"agent-{i}" for i in range(args.agents)]
    sim = DAISimulator(scenario([model(MODEL, seconds)], agents, time_scale=1.0)).start()
    modes = [
        ("sequential", [], "test_pinned.py"),
        (f"-n {workers}", ["-n", workers], "test_pinned.py"),
        (
            f"-n {workers} --dist loadgroup, group by agent",
            ["-n", workers, "--dist", "loadgroup", "-o", "dai_xdist_group_by_agent=true"],
            "test_pinned.py",
        ),
        (f"-n {workers}, agent left to the server", ["-n", workers], "test_free.py"),
    ]
    rows = []
    project = Project("parallel")
    try:
        project.write("test_pinned.py", tests_source(args.runs, args.agents, pinned=True))
        project.write("test_free.py", tests_source(args.runs, args.agents, pinned=False))
        project.write("warmup/test_warmup.py", tests_source(args.agents, args.agents, True))
        # One run per agent first, so the model's duration is in the project's cache (as in a
        # CI that runs the suite regularly) and the plugin polls just before each run's end.
        project.run(["-q", "-n", workers, "warmup"], sim_env(sim)).check()
        for label, extra, path in modes:
            known = {ex["execution_id"] for ex in sim.executions()}
            result = project.run(["-q", *extra, path], sim_env(sim)).check()
            mine = [ex for ex in sim.executions() if ex["execution_id"] not in known]
            queued = sum(ex["started_at"] - ex["queued_at"] for ex in mine)
            span = max(ex["ended_at"] for ex in mine) - min(ex["queued_at"] for ex in mine)
            per_agent = sorted(
                sum(1 for ex in mine if ex["agent_name"] == agent) for agent in agents
            )
            rows.append(
                [
                    label,
                    f"{result.elapsed:.1f}",
                    f"{span:.1f}",
                    f"{queued:.1f}",
                    "/".join(str(n) for n in per_agent),
                    ratio(result.elapsed, ideal),
                ]
            )
    finally:
        project.cleanup()
        sim.stop()

    print(
        f"{args.runs} runs of {seconds:g} s on {args.agents} agents (time_scale 1); "
        f"ideal = {args.runs} x {seconds:g} s / {args.agents} = {ideal:.1f} s"
    )
    print()
    print(
        table(
            ["mode", "wall s", "runs span s", "queued s", "runs per agent", "wall / ideal"],
            [*rows, ["ideal", f"{ideal:.1f}", "", "", "", "1.00x"]],
        )
    )
    print()
    print("Target: -n 4 within 1.3x of the ideal (informational, never a failure).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
