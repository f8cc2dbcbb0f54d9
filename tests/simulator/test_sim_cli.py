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


def _header(process: subprocess.Popen[str]) -> list[str]:
    """The lines the CLI prints before serving: addresses, credentials and ``export`` lines."""
    assert process.stdout is not None
    lines: list[str] = []
    while not (lines and lines[-1].startswith("export DAI_CLIENT_SECRET=")):
        line = process.stdout.readline()
        assert line, f"the simulator stopped early: {lines}"
        lines.append(line.rstrip("\n"))
    return lines


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _err = process.communicate(timeout=5)
    assert process.returncode == 0
    return out


@pytest.mark.slow
def test_cli_prints_export_lines_a_shell_takes(tmp_path: Path) -> None:
    scenario = json.loads((ROOT / "examples" / "scenario.json").read_text())
    scenario["credentials"] = {"client_id": "client:dai:x", "client_secret": "it's $ecret"}
    path = tmp_path / "quoted.json"
    path.write_text(json.dumps(scenario))
    process = _launch("--port", "0", "--scenario", str(path))
    try:
        lines = _header(process)
        url = lines[0].rsplit(" ", 1)[1]
        exports = [line for line in lines if line.startswith("export ")]
        assert [line.split("=", 1)[0] for line in exports] == [
            "export DAI_URL",
            "export DAI_REALM",
            "export DAI_CLIENT_ID",
            "export DAI_CLIENT_SECRET",
        ]
        shell = subprocess.run(
            [
                "sh",
                "-c",
                "\n".join(exports) + '\nprintf "%s\\n" "$DAI_URL" "$DAI_REALM" '
                '"$DAI_CLIENT_ID" "$DAI_CLIENT_SECRET"',
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        assert shell.stdout.splitlines() == [url, "eggplant", "client:dai:x", "it's $ecret"]
        _stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
def test_cli_verbose_prints_each_request_without_bodies() -> None:
    process = _launch("--port", "0", "--verbose")
    try:
        lines = _header(process)
        url = lines[0].rsplit(" ", 1)[1]
        secret = lines[3].split(": ", 1)[1]
        token_url = lines[1].split(": ", 1)[1]
        requests.post(
            token_url,
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": secret},
            timeout=5,
        )
        requests.get(f"{url}/ai/runs", params={"execution_id": "e-1"}, timeout=5)
        out = _stop(process)
        logged = out.splitlines()
        assert len(logged) == 2, out
        assert logged[0].endswith(" POST /auth/realms/eggplant/protocol/openid-connect/token 401")
        assert logged[1].endswith(" GET /ai/runs?execution_id=e-1 401")
        assert secret not in out
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
def test_cli_is_quiet_about_requests_without_verbose() -> None:
    process = _launch("--port", "0")
    try:
        url = _header(process)[0].rsplit(" ", 1)[1]
        requests.get(f"{url}/ai/runs", timeout=5)
        assert _stop(process) == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
