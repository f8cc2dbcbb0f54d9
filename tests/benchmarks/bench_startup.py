"""Benchmark: what pytest-dai costs a pytest session that does not use it.

Not collected by pytest. Run it with::

    python tests/benchmarks/bench_startup.py [--quick] [--rounds 25]

1. ``pytest --co -q`` on a tiny plain test file in a temporary project, with the plugin loaded
   (as installed) and with ``-p no:dai``, alternating, ``--rounds`` times each (after one
   warm-up of each): median wall time of the process and the difference.
2. ``python -X importtime -c "import pytest; import pytest_dai.plugin"`` (pytest is loaded
   anyway): the cumulative import time of ``pytest_dai.plugin`` and the self time of every
   ``pytest_dai`` module, median of ``--rounds`` / 5 runs, and whether ``requests`` or
   ``pytest_dai.simulator`` got imported (they must not be: they load on first use).

``--quick``: 10 rounds.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

from _harness import PYTEST, Project, table

LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")
UNWANTED = ("requests", "urllib3", "pytest_dai.simulator", "pytest_dai.client.http")


def clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DAI_", "PYTEST_")) and k != "PYTHONDONTWRITEBYTECODE"
    }


def timed(cmd: list[str], cwd: str, env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def importtime(env: dict[str, str]) -> tuple[float, float, set[str]]:
    """(cumulative ms of pytest_dai.plugin, self ms of all pytest_dai modules, modules seen)."""
    code = "import pytest; import pytest_dai.plugin"
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    cumulative = 0.0
    own = 0.0
    seen: set[str] = set()
    after_pytest = False
    for line in out.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        self_us, cum_us, _indent, name = match.groups()
        if after_pytest:
            seen.add(name)
        if name == "pytest" and not match.group(3).strip(" "):
            after_pytest = True  # everything after this line is what the plugin adds
        if name.startswith("pytest_dai"):
            own += int(self_us) / 1000
        if name == "pytest_dai.plugin":
            cumulative = int(cum_us) / 1000
    return cumulative, own, seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 rounds instead of 25")
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    rounds = 10 if args.quick else args.rounds
    env = clean_env()

    project = Project("startup")
    try:
        project.write("test_plain.py", "def test_one():\n    assert True\n")
        base = [*PYTEST, "--co", "-q", "-p", "no:cacheprovider", "test_plain.py"]
        variants = {"plugin loaded": base, "-p no:dai": [*base, "-p", "no:dai"]}
        times: dict[str, list[float]] = {name: [] for name in variants}
        for cmd in variants.values():
            timed(cmd, str(project.path), env)  # warm-up: bytecode, file cache
        for _ in range(rounds):
            for name, cmd in variants.items():
                times[name].append(timed(cmd, str(project.path), env))
    finally:
        project.cleanup()

    imports = [importtime(env) for _ in range(max(rounds // 5, 3))]
    cumulative = statistics.median(i[0] for i in imports)
    own = statistics.median(i[1] for i in imports)
    seen = set().union(*(i[2] for i in imports))
    unwanted = sorted(m for m in seen if m.startswith(UNWANTED))
    dai_modules = sorted(m for m in seen if m.startswith("pytest_dai"))

    with_plugin = statistics.median(times["plugin loaded"]) * 1000
    without = statistics.median(times["-p no:dai"]) * 1000
    rows = [
        [
            name,
            len(values),
            f"{statistics.median(values) * 1000:.1f}",
            f"{min(values) * 1000:.1f}",
            f"{statistics.quantiles(values, n=4)[2] * 1000:.1f}",
        ]
        for name, values in times.items()
    ]
    print(f"pytest --co -q on one plain test, {rounds} alternating rounds")
    print()
    print(table(["variant", "runs", "median ms", "min ms", "p75 ms"], rows))
    print()
    print(
        f"plugin overhead (median difference): {with_plugin - without:+.1f} ms "
        f"({with_plugin / without:.3f}x); target < 10 ms (informational)"
    )
    print()
    print(
        f"python -X importtime -c 'import pytest; import pytest_dai.plugin' ({len(imports)} runs)"
    )
    print()
    print(
        table(
            ["figure", "value"],
            [
                ["pytest_dai.plugin cumulative, ms (median)", f"{cumulative:.1f}"],
                ["pytest_dai.* self time, ms (median)", f"{own:.1f}"],
                ["pytest_dai modules imported", len(dai_modules)],
                ["requests / urllib3 imported", "yes" if unwanted else "no"],
                [
                    "pytest_dai.simulator imported",
                    "yes" if any(m.startswith("pytest_dai.simulator") for m in seen) else "no",
                ],
            ],
        )
    )
    if unwanted:
        print("  unwanted imports: " + ", ".join(unwanted))
    print("  modules: " + ", ".join(dai_modules))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
