"""Benchmark: token requests (and other API requests) per 100 DAI runs.

Not collected by pytest. Run it with::

    python tests/benchmarks/bench_tokens.py [--quick] [--runs 100] [--workers 4]

One pytest session of ``--runs`` short marked tests (0.5 s runs, time_scale 1) with
``-n --workers``, against a simulator whose tokens live 300 s, then the same against one whose
tokens live 2 s. Counts come from the simulator (``token_requests()`` and its request log).

With 2 s tokens a process that talks to the server for the session's API span needs a token for
each lifetime it has begun, ceil(span / lifetime); the figure to look at is token requests /
(API processes x lifetimes begun): at most 1 means no process fetched a token it did not need.
(pytest-dai fetches a token again a tenth of its life, at most 30 s, before it expires, so a
process that runs for many lifetimes can need one extra now and then.)
``--quick``: 40 runs.
"""

from __future__ import annotations

import argparse
import math
import re

from _harness import EXECUTIONS_PATH, RUNS_PATH, Project, model, scenario, sim_env, table

from pytest_dai.simulator import DAISimulator

MODEL = "bench-short"
TOKEN_PATH = re.compile(r"^/auth/realms/[^/]+/protocol/openid-connect/token$")


def tests_source(runs: int) -> str:
    lines = ["import pytest", ""]
    for k in range(runs):
        lines += ["", f'@pytest.mark.dai_model("{MODEL}")', f"def test_run_{k:03d}():", "    pass"]
        lines.append("")
    return "\n".join(lines)


def endpoint(path: str, method: str) -> str:
    if TOKEN_PATH.match(path):
        return "token"
    if path == EXECUTIONS_PATH and method == "POST":
        return "E1 start"
    if path.startswith(EXECUTIONS_PATH):
        return "E3 abort"
    if path == RUNS_PATH or path.startswith(RUNS_PATH + "/"):
        return "E2 runs"
    if path.startswith("/ai/runlogs"):
        return "E6 logs"
    if path in ("/ai/models", "/ai/agents"):
        return "E4/E5 lists"
    return "other"


KINDS = ["token", "E1 start", "E2 runs", "E6 logs", "E4/E5 lists", "E3 abort", "other"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 runs instead of 100")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=0.5, help="length of a run")
    args = parser.parse_args()
    runs = 40 if args.quick else args.runs
    agents = [f"agent-{i}" for i in range(args.workers)]

    rows = []
    breakdown = []
    for lifetime in (300.0, 2.0):
        sc = scenario([model(MODEL, args.seconds)], agents, token_lifetime=lifetime)
        with DAISimulator(sc) as sim:
            project = Project("tokens")
            try:
                project.write("test_runs.py", tests_source(runs))
                xdist = ["-n", str(args.workers)] if args.workers > 1 else []
                result = project.run(["-q", "-p", "no:cacheprovider", *xdist], sim_env(sim))
                result.check()
            finally:
                project.cleanup()
            log = sim.request_log()
            tokens = sim.token_requests()
            unauthorized = sum(1 for r in log if r.status == 401)
        span = max(r.time for r in log) - min(r.time for r in log)
        processes = max(args.workers, 1)
        # A process that talks to the server for `span` seconds needs a token for each lifetime
        # it has begun: ceil(span / lifetime) at the least (the first token counts too).
        begun = processes * max(math.ceil(span / lifetime), 1)
        per_lifetime = tokens / begun
        rows.append(
            [
                f"{lifetime:g} s",
                runs,
                f"{result.elapsed:.1f}",
                f"{span:.1f}",
                tokens,
                f"{tokens / runs * 100:.1f}",
                begun,
                f"{per_lifetime:.2f}",
                unauthorized,
            ]
        )
        counts = dict.fromkeys(KINDS, 0)
        for record in log:
            counts[endpoint(record.path, record.method)] += 1
        breakdown.append(
            [
                f"{lifetime:g} s",
                *(f"{counts[k] / runs:.2f}" for k in KINDS),
                f"{len(log) / runs:.2f}",
            ]
        )

    print(
        f"{runs} runs of {args.seconds:g} s, pytest -n {args.workers} "
        f"({args.workers} processes talk to the server), one session per token lifetime"
    )
    print()
    print(
        table(
            [
                "token lifetime",
                "runs",
                "wall s",
                "API span s",
                "token requests",
                "per 100 runs",
                "lifetimes begun",
                "per lifetime begun",
                "401s",
            ],
            rows,
        )
    )
    print()
    print("Requests per run, by endpoint")
    print(table(["token lifetime", *KINDS, "all"], breakdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
