"""``python -m pytest_dai.simulator``: prints where it listens, stops cleanly on a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _launch(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "pytest_dai.simulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_serves_and_stops_on_signal(sig) -> None:
    process = _launch("--port", "0")
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(4)]
        assert lines[0].startswith("DAI simulator listening on http://127.0.0.1:")
        url = lines[0].rsplit(" ", 1)[1]
        assert lines[1] == f"token URL: {url}/auth/realms/eggplant/protocol/openid-connect/token"
        assert lines[2] == "client id: client:dai:agent:integration"
        assert lines[3].startswith("client secret: ")
        secret = lines[3].split(": ", 1)[1]
        response = requests.post(
            lines[1].split(": ", 1)[1],
            data={
                "grant_type": "client_credentials",
                "client_id": "client:dai:agent:integration",
                "client_secret": secret,
            },
            timeout=5,
        )
        assert response.status_code == 200
        process.send_signal(sig)
        _out, err = process.communicate(timeout=5)
        assert process.returncode == 0
        assert "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
def test_cli_scenario_file(tmp_path: Path) -> None:
    scenario = json.loads((ROOT / "examples" / "scenario.json").read_text())
    scenario["realm"] = "acme"
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(scenario))
    process = _launch("--port", "0", "--scenario", str(path), "--dialect", "upper")
    try:
        assert process.stdout is not None
        process.stdout.readline()
        assert "/realms/acme/" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=5)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
def test_cli_bad_scenario(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        '{"agents": [{"id": "a"}], "models": [{"id": "m", "name": "M", '
        '"steps": [{"name": "s", "duration": "abc"}]}]}'
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest_dai.simulator", "--port", "0", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f'{path}: models[0].steps[0].duration: expected a number >= 0, got "abc"' in lines[0]


def test_main_is_importable() -> None:
    from pytest_dai.simulator.__main__ import main

    assert callable(main)


def test_cli_port_out_of_range_is_a_usage_error(capsys) -> None:
    from pytest_dai.simulator.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["--port", "99999"])
    assert info.value.code == 2
    assert "argument --port: invalid port value: '99999'" in capsys.readouterr().err
