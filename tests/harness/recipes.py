"""Running the commands users copy (the CI recipes under ``docs/ci/``, the README's code
blocks) as written, against a simulator instead of their DAI server.

A recipe runs in a temporary project laid out as a user's repository: the examples under
``tests/dai/``, their ``pytest.ini`` at the top, and ``.venv/bin/pytest`` (the recipes' own
virtual environment) standing for this interpreter's pytest. Only the values of the recipe's
``DAI_*`` variables change: they point at the simulator. Install lines (``venv``, ``pip
install``) are checked, not run: this machine has no network and no wheel folder.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from pytest_dai.simulator import DAISimulator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
RECIPES = ROOT / "docs" / "ci"
#: The folder the recipes run their tests from.
TESTS = "tests/dai"
#: Polling as fast as the tests' fast simulator needs (the ini is the user's to set).
FAST_INI = "dai_poll_interval = 0.05\n"
#: Environment variables of the outer session or CI that must not reach a recipe's commands.
FOREIGN = ("DAI_", "PYTEST_", "GITHUB_", "GITLAB_", "CI_", "JENKINS_", "BUILD_")


def examples_scenario(time_scale: float = 3000.0) -> dict[str, object]:
    """The examples' scenario, ten times faster (runs of 0.1 to 0.3 s)."""
    data: dict[str, object] = json.loads((EXAMPLES / "scenario.json").read_text("utf-8"))
    data["time_scale"] = time_scale
    data["abort_delay"] = 0.05
    return data


def make_project(where: Path) -> Path:
    """A user's repository: the examples in ``tests/dai``, their ini at the top (with fast
    polling), and ``.venv/bin/pytest`` running this interpreter's pytest."""
    tests = where / TESTS
    tests.mkdir(parents=True)
    for source in EXAMPLES.iterdir():
        if source.suffix in (".py", ".json"):
            shutil.copy(source, tests / source.name)
    ini = (EXAMPLES / "pytest.ini").read_text("utf-8")
    (where / "pytest.ini").write_text(ini + FAST_INI, encoding="utf-8")
    venv_bin = where / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    wrapper = venv_bin / "pytest"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pytest "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return where


def server_values(simulator: DAISimulator, where: Path) -> dict[str, str]:
    """What each ``DAI_*`` variable of a recipe becomes: the simulator's URL and credentials
    (``DAI_CREDENTIALS``: an API Access CSV of them)."""
    csv = where / "api-access.csv"
    csv.write_text(
        "client_id,client_secret,token_url\n"
        f"{simulator.client_id},{simulator.client_secret},{simulator.token_url}\n",
        encoding="utf-8",
    )
    return {
        "DAI_URL": simulator.url,
        "DAI_CLIENT_ID": simulator.client_id,
        "DAI_CLIENT_SECRET": simulator.client_secret,
        "DAI_CREDENTIALS": str(csv),
    }


def recipe_env(recipe: dict[str, str], values: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment a recipe's commands see: this machine's, without the outer session's
    or CI's variables, this interpreter first on ``PATH``, the recipe's variables with each
    ``DAI_*`` one pointed at the simulator, and ``extra`` (what the CI system sets)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name, value in recipe.items():
        if name.startswith("DAI_"):
            assert name in values, f"a recipe sets {name}: teach harness.recipes its value"
            env[name] = values[name]
        else:
            env[name] = value
    env.update(extra)
    return env


def is_install(command: str) -> bool:
    """A line that makes the virtual environment or installs packages (checked, not run)."""
    return bool(re.search(r"-m venv |-m pip install ", command))


def wheel_name() -> str:
    """The file name ``python -m pip wheel --no-deps .`` gives this checkout's wheel."""
    from pytest_dai import __version__

    return f"pytest_dai-{__version__}-py3-none-any.whl"


def installs_the_wheel(command: str) -> bool:
    """True when ``command`` installs pytest-dai from a wheel glob that matches the wheel
    this checkout builds."""
    globs = [word for word in command.split() if word.endswith(".whl")]
    return any(fnmatch.fnmatch(f"ci/wheels/{wheel_name()}", glob) for glob in globs)


def run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one recipe command (or script) with bash, as CI systems do, in ``cwd``."""
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def attachments(report: Path) -> list[str]:
    """The paths of the ``[[ATTACHMENT|path]]`` lines of a JUnit file."""
    return re.findall(r"\[\[ATTACHMENT\|(.+?)\]\]", report.read_text("utf-8"))
