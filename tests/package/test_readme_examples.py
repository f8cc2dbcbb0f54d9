"""The README's code blocks that can run against the simulator do: its Python examples (the
marked tests, the runs started by hand, the hook) and the quick start's shell lines, with the
server settings pointed at a simulator. The first command (the demo) is run by
``test_readme_first_command.py``; the GitHub recipe it shows by ``test_ci_recipes.py``; its
links by ``test_docs_pages.py``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from harness.recipes import (
    ROOT,
    examples_scenario,
    make_project,
    recipe_env,
    run,
    server_values,
)

from pytest_dai.simulator import DAISimulator

README = ROOT / "README.md"


def blocks(language: str) -> list[str]:
    """The README's fenced code blocks in ``language``, dedented (some sit in a list)."""
    found = re.findall(rf"^( *)```{language}\n(.*?)^\1```", README.read_text("utf-8"), re.M | re.S)
    return [textwrap.dedent(text) for _indent, text in found]


def test_the_python_blocks_are_the_ones_this_module_runs() -> None:
    python = blocks("python")
    tests = [block for block in python if "def test_" in block]
    hooks = [block for block in python if "def pytest_dai_" in block]
    assert len(tests) == 3, python
    assert len(hooks) == 1, python
    for block in python:
        compile(block, "README.md", "exec")


@pytest.mark.slow
def test_the_python_examples_run_against_the_simulator(tmp_path: Path) -> None:
    python = blocks("python")
    (tmp_path / "conftest.py").write_text(
        "\n\n".join(block for block in python if "def pytest_dai_" in block), encoding="utf-8"
    )
    for number, block in enumerate(block for block in python if "def test_" in block):
        (tmp_path / f"test_readme_{number}.py").write_text(block, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\ndai_poll_interval = 0.05\n", "utf-8")
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(examples_scenario()), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", f"--dai-simulator={scenario}", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=recipe_env({}, {}),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b3 passed in\b", done.stdout), done.stdout


def quick_start() -> str:
    """The quick start's shell block (the one that exports ``DAI_URL``)."""
    return next(block for block in blocks("sh") if "export DAI_URL=" in block)


def test_the_quick_start_exports_only_what_the_harness_can_point_at_a_simulator() -> None:
    exported = re.findall(r"^export (\w+)=", quick_start(), re.M)
    assert exported == ["DAI_URL", "DAI_CREDENTIALS"]


@pytest.mark.slow
def test_the_quick_start_runs_against_a_simulator(tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo")
    with DAISimulator(examples_scenario()) as simulator:
        values: dict[str, Any] = server_values(simulator, tmp_path)

        def pointed(match: re.Match[str]) -> str:
            return f"export {match.group(1)}={values[match.group(1)]}"

        script = re.sub(r"^export (\w+)=\S+", pointed, quick_start(), flags=re.M)
        done = run(script, project, recipe_env({}, {}))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "DAI dry run: nothing was started" in output, output
    assert re.search(r"\b6 ready, 0 not ready\b", output), output
    assert re.search(r"\b5 passed, 1 xfailed\b", output), output
    assert (project / "report.xml").is_file()


def test_the_supported_versions_are_the_known_servers_with_presets_that_exist() -> None:
    from pytest_dai.simulator.dialects import DIALECTS
    from pytest_dai.simulator.known_servers import KNOWN_SERVERS, support_table

    section = README.read_text("utf-8").split("\n## Supported DAI versions\n", 1)[1]
    rows = [line for line in section.split("\n## ", 1)[0].splitlines() if line.startswith("|")]
    assert rows == support_table(), "README's table, from KNOWN_SERVERS:\n" + "\n".join(
        support_table()
    )
    assert [s.preset for s in KNOWN_SERVERS if s.preset not in DIALECTS] == []
