"""pytest-dai must stay cheap for sessions that do not use it (``bench_startup.py`` measures it):
neither importing the plugin nor a whole ``pytest --co`` session without DAI tests may load
``requests``, the HTTP client, the run lifecycle, the simulator or the features that only DAI
tests need. A new feature imports its module inside the hook or fixture that needs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Inner sessions in processes of their own, signals, soaks: see CONTRIBUTING.md.
pytestmark = pytest.mark.slow

#: Loaded only when a DAI test, fixture or option needs them.
HEAVY = (
    "requests",
    "urllib3",
    "pytest_dai.simulator",
    "pytest_dai.lifecycle",
    "pytest_dai.client.http",
    "pytest_dai.client.auth",
    "pytest_dai.client.endpoints",
    "pytest_dai.client.credentials",
    "pytest_dai.client.records",
    "pytest_dai.glue.run.",
    "pytest_dai.glue.process.connect",
    "pytest_dai.glue.xdist.scheduler",
    "pytest_dai.glue.xdist.agent_map",
    "pytest_dai.glue.report.junit_steps",
    "pytest_dai.glue.report.rerun",
    "pytest_dai.glue.report.history",
    "pytest_dai.glue.report.live",
)

LOADED = """
import json, sys
before = set(sys.modules)
{code}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def loaded_by(code: str, cwd: Path) -> list[str]:
    """The modules a fresh interpreter loads running ``code`` (after ``import pytest``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAI_", "PYTEST_"))}
    source = "import pytest\n" + LOADED.format(code=code)
    out = subprocess.run(
        [sys.executable, "-c", source],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(HEAVY)]


def test_importing_the_plugin_loads_nothing_heavy(tmp_path: Path) -> None:
    modules = loaded_by("import pytest_dai.plugin", tmp_path)
    assert "pytest_dai.plugin" in modules
    assert heavy(modules) == []


@pytest.mark.parametrize("args", [["--co"], ["--co", "-v"], ["-p", "xdist", "--co"]])
def test_a_session_without_dai_tests_loads_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    tmp_path.joinpath("test_plain.py").write_text("def test_one():\n    pass\n")
    code = f"pytest.main({[*args, '-p', 'no:cacheprovider', 'test_plain.py']!r})"
    if "xdist" in args:
        pytest.importorskip("xdist")
        code = code.replace("'-p', 'xdist', ", "")
    modules = loaded_by(code, tmp_path)
    assert "pytest_dai.plugin" in modules  # the plugin was loaded (installed, not disabled)
    assert heavy(modules) == []


#: All a session that does not use pytest-dai imports of it (each module costs start-up time:
#: under a regular install pytest rewrites every module of a plugin's package it imports). The
#: glue's layers on the way (base, settings, hooks) are packages whose ``__init__`` is a
#: docstring only (tests/package/test_layers.py).
STARTUP = {
    "pytest_dai",
    "pytest_dai.client",
    "pytest_dai.client.defaults",
    "pytest_dai.glue",
    "pytest_dai.glue.base",
    "pytest_dai.glue.base.hookspecs",
    "pytest_dai.glue.base.keys",
    "pytest_dai.glue.settings",
    "pytest_dai.glue.settings.table",
    "pytest_dai.glue.hooks",
    "pytest_dai.glue.hooks.setup",
    "pytest_dai.plugin",
}


@pytest.mark.parametrize("args", [["--co"], ["--co", "-v"], []], ids=["co", "co-v", "run"])
def test_a_session_that_gives_no_dai_setting_imports_only_the_start_up_modules(
    tmp_path: Path, args: list[str]
) -> None:
    tmp_path.joinpath("test_plain.py").write_text("def test_one():\n    pass\n")
    code = f"pytest.main({[*args, '-p', 'no:cacheprovider', 'test_plain.py']!r})"
    modules = loaded_by(code, tmp_path)
    assert {m for m in modules if m.startswith("pytest_dai")} == STARTUP


def test_a_dai_setting_starts_the_plugin_and_its_imports(tmp_path: Path) -> None:
    """The counter-check: the same session given one setting imports more."""
    tmp_path.joinpath("test_plain.py").write_text("def test_one():\n    pass\n")
    code = (
        "pytest.main(['--co', '--dai-poll-interval=1', '-p', 'no:cacheprovider', 'test_plain.py'])"
    )
    modules = loaded_by(code, tmp_path)
    assert {"pytest_dai.glue.process.state", "pytest_dai.glue.settings.resolve"} <= set(modules)
    assert heavy(modules) == []
