"""The ``dai_simulator`` fixture: one simulator for the session, reset after every test."""

from __future__ import annotations

import pytest

# requests must stay loaded in this process across in-process inner sessions (see
# tests/plugin/conftest.py).
import requests  # noqa: F401

INNER = """
import requests

SEEN = {}


def test_a_sets_faults(dai_simulator):
    SEEN["sim"] = dai_simulator
    dai_simulator.set_faults(burst=5, burst_status=503, latency=0.01)
    dai_simulator.set_dialect(status_case="upper")
    assert requests.get(dai_simulator.url + "/ai/models", timeout=5).status_code == 503


def test_b_sees_none_of_them(dai_simulator):
    assert dai_simulator is SEEN["sim"]  # the same simulator: session scope
    assert dai_simulator.faults.burst == 0
    assert dai_simulator.faults.latency == 0
    assert dai_simulator.dialect.status_case == "title"
    answer = requests.get(dai_simulator.url + "/ai/models", timeout=5)
    assert answer.status_code == 401  # the server's own answer: no token, no fault


def test_c_without_the_fixture():
    assert SEEN["sim"].running
"""


def _no_dai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DAI_URL", "DAI_CLIENT_ID", "DAI_CLIENT_SECRET", "DAI_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)


def test_faults_set_in_one_test_are_gone_in_the_next(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_dai_env(monkeypatch)
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:xdist", "-q")
    result.assert_outcomes(passed=3)


def test_without_the_reset_the_fault_would_leak(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inner test above can fail: with the reset fixture disabled, test b sees test a's
    faults."""
    _no_dai_env(monkeypatch)
    pytester.makepyfile(test_inner=INNER)
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(autouse=True)
def _dai_simulator_reset():
    yield
"""
    )
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:xdist", "-q")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_b_sees_none_of_them*"])
