"""Secrets: the client secret and every access token the server issued appear nowhere a CI job
keeps: the terminal (``-v``, live DEBUG logs, locals in tracebacks), the JUnit XML with
``junit_logging = all``, the steps JUnit file, a DEBUG log file, the in-flight journal (read
while runs are going) and any file under the cache folder.

Three sessions, each with every one of those outputs on: runs that pass, fail and error, and a
run during which every token is revoked now and then (so calls get a 401, fetch a fresh token
and go again); a wrong client secret (the token endpoint answers 401); and an endpoint that
stays 401 with a fresh token too.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.inner import FAST, finish, kill_group, popen
from harness.scenarios import changed

from pytest_dai.simulator import DAISimulator

from .support import SCENARIO, SECRET, journal_files

#: Inner sessions in processes of their own, signals, soaks: see CONTRIBUTING.md.
pytestmark = pytest.mark.slow

WRONG_SECRET = "wr0ng-Secret-a83be51f07"

SECRETS_MODULE = """
import pytest

@pytest.mark.dai_model("Short", agent="a1")
def test_passes(dai_execution):
    assert dai_execution.passed

@pytest.mark.dai_model("Failing", agent="a2")
def test_run_fails():
    pass

@pytest.mark.dai_model("Erroring", agent="a3")
def test_run_errors():
    pass

@pytest.mark.dai_model("Medium", agent="a4")
def test_long_run_passes(dai_execution):
    assert dai_execution.passed

def test_body_fails_after_a_run(dai_session):
    execution = dai_session.start("Short", agent="a5")
    execution.wait()
    session, client = dai_session, dai_session.client
    tokens = client.tokens
    assert not execution.passed, "the body fails, with its locals shown"

def test_plain():
    pass
"""

MODELS = [
    *SCENARIO["models"],
    {
        "id": "m-medium",
        "name": "Medium",
        "steps": [{"name": f"Step {n}", "duration": 500} for n in range(1, 5)],
    },
]

OUTPUTS = (
    "-v",
    "-l",
    "--tb=long",
    "-rA",
    "--log-level=DEBUG",
    "--log-cli-level=DEBUG",
    "--log-file=debug.log",
    "--log-file-level=DEBUG",
    "--junitxml=junit.xml",
    "-o",
    "junit_logging=all",
    "--dai-junit-steps=steps.xml",
)


def leaks(secrets: list[str], texts: dict[str, str]) -> list[str]:
    """Where any secret, or the first or last 16 characters of a token, shows."""
    found = []
    for secret in secrets:
        pieces = {secret} | ({secret[:16], secret[-16:]} if len(secret) > 32 else set())
        for where, text in texts.items():
            found.extend(f"{where}: {secret[:6]}..." for piece in pieces if piece in text)
    return found


def kept_files(project: Path) -> dict[str, str]:
    """The files a CI job keeps: reports, the log file, everything under the cache folder."""
    files = {
        name: (project / name).read_text(encoding="utf-8", errors="replace")
        for name in ("junit.xml", "debug.log", "steps.xml")
        if (project / name).exists()
    }
    for path in sorted((project / ".pytest_cache").rglob("*")):
        if path.is_file():
            files[str(path.relative_to(project))] = path.read_text("utf-8", errors="replace")
    return files


def medium_running(sim: DAISimulator) -> bool:
    """Whether the "Medium" run is going (tokens are revoked only then, so that only
    test_long_run_passes meets the 401s, and every other outcome is certain)."""
    return any(
        ex["model_name"] == "Medium" and ex["status"] == "Running" for ex in sim.executions()
    )


def run_session(
    pytester: pytest.Pytester, sim: DAISimulator, revoke: bool
) -> tuple[str, int, dict[str, str]]:
    """Run the inner session with every output on; while it runs, read the journal (and, with
    ``revoke``, revoke every token now and then during the "Medium" run). Output, exit code,
    the texts to search."""
    process = popen(pytester, *FAST, *OUTPUTS, "test_secrets.py")
    journal: dict[str, str] = {}
    try:
        last = time.monotonic()
        while process.poll() is None:
            for path in journal_files(pytester.path):
                with contextlib.suppress(OSError):  # removed as the run ended
                    journal[f"journal {path.name}"] = path.read_text(encoding="utf-8")
            if revoke and time.monotonic() - last > 0.4 and medium_running(sim):
                sim.expire_tokens()
                last = time.monotonic()
            time.sleep(0.05)
        output, rc = finish(process)
    finally:
        kill_group(process)
    return output, rc, {"terminal": output, **journal, **kept_files(pytester.path)}


@pytest.mark.parametrize("case", ["revoked-tokens", "wrong-secret", "endpoint-stays-401"])
def test_no_secret_or_token_anywhere(
    case: str,
    pytester: pytest.Pytester,
    make_sim: Callable[..., DAISimulator],
    monkeypatch: pytest.MonkeyPatch,
    record_row: Callable[..., None],
) -> None:
    sim = make_sim(changed(SCENARIO, models=MODELS))
    if case == "wrong-secret":
        monkeypatch.setenv("DAI_CLIENT_SECRET", WRONG_SECRET)
    if case == "endpoint-stays-401":
        sim.set_faults(burst=2, burst_status=401, fault_paths=["/ai/models"])
    pytester.makepyfile(test_secrets=SECRETS_MODULE)

    output, rc, texts = run_session(pytester, sim, revoke=case == "revoked-tokens")

    secrets = [SECRET, WRONG_SECRET, *sim.issued_tokens()]
    statuses = [record.status for record in sim.request_log()]
    found = leaks(secrets, texts)
    record_row(
        "secrets",
        case=case,
        exit=rc,
        texts_searched=len(texts),
        journal_reads=sum(1 for name in texts if name.startswith("journal")),
        tokens_issued=len(sim.issued_tokens()),
        status_401=statuses.count(401),
        leaks=len(found),
    )
    assert found == [], found
    assert rc == pytest.ExitCode.TESTS_FAILED, output
    assert {"junit.xml", "debug.log", "steps.xml"} <= set(texts), sorted(texts)
    assert "test_plain PASSED" in output, output
    if case == "revoked-tokens":
        assert "DAIRunFailed" in output, output
        assert "DAIRunError" in output, output
        assert "PASSED test_secrets.py::test_passes" in output, output  # the -rA summary line
        assert statuses.count(401) >= 1, statuses
        assert any(name.startswith("journal") for name in texts), sorted(texts)
        assert len(sim.issued_tokens()) >= 2
    elif case == "wrong-secret":
        assert "401 Invalid client or Invalid client credentials" in output, output
        assert sim.issued_tokens() == []
    else:
        assert "(a fresh token was refused too)" in output, output
