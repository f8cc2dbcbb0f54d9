"""The README's first command runs warning-free in a plain install.

``pytest examples`` from the project's folder must not pick up the project's own development
settings (pyproject's ``timeout``, ``-p pytester``): a plain ``pip install .`` has no
pytest-timeout, so they would end the run with ``PytestConfigWarning: Unknown config option``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_COMMAND = "python -m pip install . && pytest examples --dai-simulator --junitxml=report.xml"

#: What ``pip install .`` leaves out (the ``test`` extra): as if they were not installed.
NOT_IN_A_PLAIN_INSTALL = ("timeout", "xdist", "xdist.looponfail", "randomly", "html", "metadata")


def test_the_readme_still_starts_with_this_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh\n(.+?)\n```", readme)
    assert first is not None
    assert first.group(1) == FIRST_COMMAND


@pytest.mark.slow
def test_the_first_command_runs_the_examples_without_a_warning(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAI_", "PYTEST_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    disabled = [arg for name in NOT_IN_A_PLAIN_INSTALL for arg in ("-p", f"no:{name}")]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *disabled,
            "examples",
            "--dai-simulator",
            f"--junitxml={tmp_path / 'report.xml'}",
            "-o",
            f"cache_dir={tmp_path / 'cache'}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert re.search(r"\d+ passed", output), output
    assert (tmp_path / "report.xml").is_file()
