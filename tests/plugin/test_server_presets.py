"""The examples pass on every DAI server we know of: the bundled simulator in each known
server's preset (``KNOWN_SERVERS``), at a high time scale, as a user would run them.

A change that breaks one server shape (a DAI cloud's ``teststatus`` and oldest-first run list,
DAI 7.4's public API v1, ...) turns this red.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_dai.simulator.dialects import DIALECTS
from pytest_dai.simulator.known_servers import KNOWN_SERVERS, KnownServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: What a known server may do differently to an example's outcome: nothing, except where a
#: server lacks what the example needs (the preset's name -> {test name: expected words}).
EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    "dai74": {"test_nightly_shop": "DAI 7.5 or later"},
}


def run_examples(tmp_path: Path, server: KnownServer) -> tuple[str, Path]:
    """Run the examples against the simulator in ``server``'s preset; output and JUnit file."""
    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("__pycache__", "dai-artifacts"))
    scenario = json.loads((work / "scenario.json").read_text(encoding="utf-8"))
    scenario.update(time_scale=3000, dialect=server.preset)
    (work / "scenario.json").write_text(json.dumps(scenario), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAI_", "PYTEST_"))}
    junit = tmp_path / "report.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--dai-simulator=scenario.json",
            "--dai-poll-interval=0.1",
            f"--junitxml={junit}",
            "-rA",
            *server.plugin_args,
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return done.stdout + done.stderr, junit


@pytest.mark.slow
@pytest.mark.parametrize("server", KNOWN_SERVERS, ids=lambda server: server.preset)
def test_the_examples_on_a_known_server(tmp_path: Path, server: KnownServer) -> None:
    output, junit = run_examples(tmp_path, server)
    assert junit.is_file(), output
    expected = EXPECTED_FAILURES.get(server.preset, {})
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert len(cases) >= 6, output
    for case in cases:
        name = case.get("name", "")
        failure = case.find("failure")
        if name in expected:
            assert failure is not None, output
            assert expected[name] in (failure.get("message", "") + (failure.text or "")), output
            continue
        if name == "test_payment_declined":
            assert case.find("skipped") is not None, output  # the example's xfail
            continue
        assert failure is None, f"{name} failed on {server.preset}:\n{output}"
        assert case.find("error") is None, output
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert props.keys() & {"dai_execution_id", "dai_task_instance_id"}, (name, props)


def test_every_known_server_has_a_preset() -> None:
    assert {server.preset for server in KNOWN_SERVERS} <= DIALECTS.keys()
    assert len({server.preset for server in KNOWN_SERVERS}) == len(KNOWN_SERVERS)


@pytest.mark.slow
def test_a_dai_cloud_run_shows_its_run_type_and_test_case(tmp_path: Path) -> None:
    cloud = next(server for server in KNOWN_SERVERS if server.preset == "dai_cloud")
    output, junit = run_examples(tmp_path, cloud)
    case = next(
        c
        for c in ET.parse(junit).getroot().iter("testcase")
        if c.get("name") == "test_login_directed_test_case"
    )
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props.get("dai_run_type") == "directed", output
    assert props.get("dai_test_case") == "Valid password", output
    assert props.get("dai_status") == "PASSED", output
