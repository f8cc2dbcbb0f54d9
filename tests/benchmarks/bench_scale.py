"""Benchmark: a whole suite of DAI runs from one process (``--dai-prestart``) against one xdist
worker per agent, side by side in one run.

Not collected by pytest. Run it with::

    python tests/benchmarks/bench_scale.py [--sizes 16,32,64] [--seconds 30]
        [--modes prestart,xdist-n,xdist-4] [--mixed] [--time-scale 1]

For each size N: N tests of one ``--seconds`` step, one per agent (N agents), run

- ``prestart``: in one process with ``--dai-prestart`` and default settings;
- ``xdist-n``: ``-n N --dai-dist=agent`` (one worker per agent);
- ``xdist-4``: ``-n 4 --dai-dist=agent``.

Printed for each: the wall time against the ideal (one run's length: every agent has one run),
the peak memory of the pytest process tree (the sum of the resident sizes of the pytest
process and its descendants, sampled every 50 ms) and its CPU seconds (user + system of the
tree, from the kernel's accounting of waited-for children). ``--mixed`` adds a suite of several
tests per agent of unequal lengths, in an interleaved order, against its optimal makespan (the
longest agent's total: runs on one agent take turns, agents run side by side).

The simulator runs in this process (a thread), so its cost is not counted.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import PYTEST, Project, fmt, model, scenario, sim_env, table

from pytest_dai.simulator import DAISimulator

MODES = {
    "prestart": ["--dai-prestart"],
    "xdist-n": ["-n", "{n}", "--dai-dist=agent"],
    "xdist-4": ["-n", "4", "--dai-dist=agent"],
}
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measured:
    wall: float
    peak_mb: float
    cpu: float
    returncode: int


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry))
    return tree


def tree_rss(root: int) -> int:
    """The resident bytes of ``root`` and all its descendants."""
    tree = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(project: Project, args: list[str], env: dict[str, str]) -> Measured:
    """Run ``pytest ARGS`` in the project; wall, peak tree memory and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    process = subprocess.Popen(
        [*PYTEST, *args],
        cwd=project.path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    wall = time.perf_counter() - began
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(wall, peak / 1e6, cpu, code)


def suite_source(tests: list[tuple[str, str]]) -> str:
    """A test module: one test per (model, agent), in that order."""
    lines = ["import pytest", ""]
    for k, (name, agent) in enumerate(tests):
        lines += [f"@pytest.mark.dai_model({name!r}, agent={agent!r})", f"def test_{k}():"]
        lines += ["    pass", ""]
    return "\n".join(lines)


def run_suite(
    tests: list[tuple[str, str]],
    models: list[dict[str, object]],
    agents: list[str],
    modes: list[str],
    time_scale: float,
) -> dict[str, Measured]:
    """Each mode on a fresh simulator and project; what each measured."""
    results = {}
    for mode in modes:
        sim = DAISimulator(scenario(models, agents, time_scale=time_scale)).start()
        project = Project(f"scale-{mode}")
        try:
            project.write("test_suite.py", suite_source(tests))
            args = [a.format(n=len(agents)) for a in MODES[mode]]
            args += ["-q", "-p", "no:cacheprovider"]
            results[mode] = measure(project, args, sim_env(sim))
        finally:
            sim.stop()
            project.cleanup()
    return results


def mixed_suite(agents: int, per_agent: int, seed: int) -> tuple[list[tuple[str, str]], float]:
    """Tests of unequal lengths (10, 20 or 30 s), ``per_agent`` on each agent, shuffled; and the
    optimal makespan (the longest agent's total), in simulated seconds."""
    rng = random.Random(seed)
    tests, totals = [], {}
    for a in range(agents):
        for _ in range(per_agent):
            length = rng.choice((10, 20, 30))
            tests.append((f"Run {length} s", f"agent-{a}"))
            totals[a] = totals.get(a, 0) + length
    rng.shuffle(tests)
    return tests, float(max(totals.values()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="16,32,64")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--mixed", action="store_true", help="also the mixed suite (prestart)")
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args()
    modes = args.modes.split(",")
    ideal = args.seconds / args.time_scale
    rows = []
    for n in (int(v) for v in args.sizes.split(",")):
        agents = [f"agent-{a}" for a in range(n)]
        results = run_suite(
            [("Run", agent) for agent in agents],
            [model("Run", args.seconds, 1)],
            agents,
            modes,
            args.time_scale,
        )
        for mode, m in results.items():
            rows.append(_row(f"N={n}", mode, m, ideal))
    if args.mixed:
        tests, makespan = mixed_suite(8, 4, seed=7)
        models = [model(f"Run {s} s", s, 1) for s in (10, 20, 30)]
        agents = sorted({agent for _, agent in tests})
        results = run_suite(tests, models, agents, ["prestart"], args.time_scale)
        rows.append(_row("mixed 8x4", "prestart", results["prestart"], makespan / args.time_scale))
    print(
        f"{args.seconds:g} s runs (time scale {args.time_scale:g}), one test per agent: wall "
        "against the ideal (mixed: the optimal makespan), peak memory of the process tree, CPU"
    )
    print(table(["suite", "mode", "wall s", "vs ideal", "peak MB", "CPU s", "exit"], rows))
    return 0


def _row(suite: str, mode: str, m: Measured, ideal: float) -> list[str]:
    return [
        suite,
        mode,
        fmt(m.wall, ".1f"),
        f"{m.wall / ideal:.2f}x",
        fmt(m.peak_mb, ".0f"),
        fmt(m.cpu, ".1f"),
        str(m.returncode),
    ]


if __name__ == "__main__":
    raise SystemExit(main())
