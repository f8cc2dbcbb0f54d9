"""Benchmark: what pytest-dai costs a pytest session that does not use it.

Not collected by pytest. Run it with::

    python tests/benchmarks/bench_startup.py [--quick] [--rounds 60]

1. ``pytest --co -q`` on a tiny plain test file in a temporary project, with the plugin loaded
   (as installed) and with ``-p no:dai``, alternating (each goes first in every other round),
   ``--rounds`` times each (after one warm-up of each): median wall time of the process; the
   overhead as the median of the rounds' differences (each round runs both, back to back: on a
   shared machine this pairs runs that saw about the same load, so a change of pace during the
   benchmark cancels out) and as the difference of the medians; the same for the CPU time
   (user + system) of the process.
2. Where the overhead goes, in one process (CPU time, median of ``--rounds``): importing
   ``pytest_dai.plugin`` (after ``import pytest``), and the plugin's hooks: ``pytest.main`` on
   the same file with the plugin minus with ``-p no:dai``, the plugin's modules imported already.
3. ``python -X importtime -c "import pytest; import pytest_dai.plugin"`` (pytest is loaded
   anyway): the cumulative import time of ``pytest_dai.plugin`` and the self time of every
   ``pytest_dai`` module, median of ``--rounds`` / 5 runs, and whether ``requests`` or
   ``pytest_dai.simulator`` got imported (they must not be: they load on first use).

4. With ``--instructions`` (needs valgrind): the instructions the two ``pytest --co`` runs
   execute, counted by ``valgrind --tool=callgrind`` (the same count on every run, whatever
   else the machine is doing), their ratio, and that ratio applied to the median wall time of
   ``-p no:dai``: an estimate of the overhead that load on the machine cannot blur.

The first line says how pytest-dai is installed: an editable install, or a regular one (where
pytest rewrites the assertions of every module of a plugin's package it imports, which makes
each module the plugin imports at start-up cost more).

``--quick``: 10 rounds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from _harness import PYTEST, Project, table

LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")
UNWANTED = ("requests", "urllib3", "pytest_dai.simulator", "pytest_dai.client.http")


def clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DAI_", "PYTEST_")) and k != "PYTHONDONTWRITEBYTECODE"
    }


#: Run in a child: CPU ms of ``import pytest_dai.plugin``, then of ``pytest.main`` with the
#: plugin and with ``-p no:dai`` (alternating, the first round a warm-up), one line per round.
PHASES = """
import contextlib, io, sys, time
import pytest
began = time.process_time()
import pytest_dai.plugin
print("import", (time.process_time() - began) * 1000)
args = sys.argv[2:]
for k in range(int(sys.argv[1]) + 1):
    for name, extra in (("with", []), ("without", ["-p", "no:dai"])):
        began = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            pytest.main([*args, *extra])
        if k:
            print(name, (time.process_time() - began) * 1000)
"""


def timed(cmd: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one run of ``cmd``."""
    began = time.perf_counter()
    with subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as proc:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime


def phases(args: list[str], cwd: str, env: dict[str, str], rounds: int) -> dict[str, float]:
    """Median CPU ms of importing the plugin and of its hooks (see :data:`PHASES`)."""
    out = subprocess.run(
        [sys.executable, "-c", PHASES, str(rounds), *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    values: dict[str, list[float]] = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        values.setdefault(name, []).append(float(value))
    hooks = [a - b for a, b in zip(values["with"], values["without"], strict=True)]
    return {"import": values["import"][0], "hooks": statistics.median(hooks)}


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


CALLGRIND_TOTAL = re.compile(r"Collected : (\d+)")


def instructions(cmd: list[str], cwd: str, env: dict[str, str]) -> int | None:
    """Instructions ``cmd`` executes (``valgrind --tool=callgrind``), or None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)  # bytecode written
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.out", *cmd],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    match = CALLGRIND_TOTAL.search(run.stderr)
    return int(match.group(1)) if match else None


def install_layout() -> str:
    """How pytest_dai is installed: ``editable`` (from a checkout) or ``regular``."""
    import pytest_dai

    site = {Path(p).resolve() for p in sys.path if "site-packages" in p}
    package = Path(pytest_dai.__file__).resolve().parent.parent
    return "regular" if package in site else f"editable (from {package})"


def print_instructions(counted: dict[str, int | None], wall_without_ms: float) -> None:
    """The instruction counts of both variants, and the overhead they give at this pace."""
    with_plugin, without = counted.get("plugin loaded"), counted.get("-p no:dai")
    if not with_plugin or not without:
        print("  instructions: not counted (valgrind not found)")
        return
    share = with_plugin / without - 1
    print(
        f"  instructions (callgrind): {with_plugin:,} with the plugin, {without:,} with -p no:dai:"
        f" {share:+.2%}, i.e. {share * wall_without_ms:+.1f} ms of the -p no:dai run's median"
        f" {wall_without_ms:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 rounds instead of 60")
    # 60: one round's difference spreads over tens of ms on a shared 2-core machine, and the
    # median of 40 still moved by 6 ms between three runs in a row (3.4, 9.5, 4.2 ms).
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions (valgrind)"
    )
    opts = parser.parse_args()
    rounds = 10 if opts.quick else opts.rounds
    env = clean_env()

    project = Project("startup")
    try:
        project.write("test_plain.py", "def test_one():\n    assert True\n")
        args = ["--co", "-q", "-p", "no:cacheprovider", "test_plain.py"]
        base = [*PYTEST, *args]
        variants = {"plugin loaded": base, "-p no:dai": [*base, "-p", "no:dai"]}
        times: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        for cmd in variants.values():
            timed(cmd, str(project.path), env)  # warm-up: bytecode, file cache
        for round_number in range(rounds):
            order = list(variants.items())
            if round_number % 2:
                order.reverse()  # each variant goes first in half of the rounds
            for name, cmd in order:
                wall, used = timed(cmd, str(project.path), env)
                times[name].append(wall)
                cpu[name].append(used)
        split = phases([*PYTEST[3:], *args], str(project.path), env, rounds)
        counted = (
            {name: instructions(cmd, str(project.path), env) for name, cmd in variants.items()}
            if opts.instructions
            else {}
        )
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

    def paired(values: dict[str, list[float]]) -> float:
        pairs = zip(values["plugin loaded"], values["-p no:dai"], strict=True)
        return statistics.median(a - b for a, b in pairs) * 1000

    cpu_with, cpu_without = (statistics.median(cpu[name]) for name in variants)
    cpu_diff = (cpu_with - cpu_without) * 1000
    rows = [
        [
            name,
            len(values),
            f"{statistics.median(values) * 1000:.1f}",
            f"{min(values) * 1000:.1f}",
            f"{statistics.quantiles(values, n=4)[2] * 1000:.1f}",
            f"{statistics.median(cpu[name]) * 1000:.1f}",
        ]
        for name, values in times.items()
    ]
    print(f"pytest_dai installed: {install_layout()}; pytest {pytest.__version__}")
    print(f"pytest --co -q on one plain test, {rounds} alternating rounds")
    print()
    print(table(["variant", "runs", "median ms", "min ms", "p75 ms", "median CPU ms"], rows))
    print()
    # The median of the paired differences: each round runs both variants back to back, so a
    # change of the machine's pace during the benchmark (other jobs, a busy host) cancels out
    # of it, where it shifts the two medians apart.
    print(
        f"plugin overhead (median of the rounds' differences): {paired(times):+.1f} ms "
        f"({(without + paired(times)) / without:.3f}x); target < 10 ms (informational)"
    )
    print(
        f"  difference of the medians: wall {with_plugin - without:+.1f} ms; CPU: median of the"
        f" rounds' differences {paired(cpu):+.1f} ms, difference of the medians {cpu_diff:+.1f} ms"
    )
    print(
        f"  where it goes (CPU, in one process): import pytest_dai.plugin {split['import']:.1f} ms,"
        f" the plugin's hooks {split['hooks']:+.1f} ms (median of {rounds})"
    )
    load = os.getloadavg()
    print(f"  load average during the benchmark: {load[0]:.1f} (1 min), {load[1]:.1f} (5 min)")
    if opts.instructions:
        print_instructions(counted, without)
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
