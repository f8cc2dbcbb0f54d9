"""Fail fast, once: a fault of the whole server is reported once with its real cause, the other
DAI tests error at once with a reference to it, and urllib3's retry warnings stay off the
terminal."""

from __future__ import annotations

import time

import pytest
from harness.simulators import closed_port_url

from pytest_dai.simulator import DAISimulator

from .conftest import SCENARIO, run

FIFTY = "import pytest\n" + "".join(
    f"""
@pytest.mark.dai_model("Pass", agent="agent-1")
def test_{i:02d}():
    pass
"""
    for i in range(50)
)

THREE = "import pytest\n" + "".join(
    f"""
@pytest.mark.dai_model("Pass", agent="agent-1")
def test_{i}():
    pass
"""
    for i in range(3)
)


@pytest.fixture(autouse=True)
def not_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The line counts below are those of a terminal: on CI (``CI`` or ``BUILD_NUMBER`` set)
    pytest does not shorten the short test summary, so every reference would be counted
    twice."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)


def _reference_lines(result: pytest.RunResult, first: str) -> list[str]:
    return [line for line in result.outlines if f"see the first failure ({first})" in line]


def test_fifty_tests_against_a_closed_port_report_the_cause_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAI_URL", closed_port_url())
    monkeypatch.setenv("DAI_CLIENT_SECRET", "x-secret")
    pytester.makepyfile(test_many=FIFTY)

    started = time.monotonic()
    result = run(pytester)
    took = time.monotonic() - started
    print(f"50 marked tests against a closed port: {took:.2f} s")

    result.assert_outcomes(failed=1, errors=49)
    cause = [line for line in result.outlines if "connection refused" in line]
    assert len(cause) == 1, result.stdout.str()
    assert "nothing listens on that port" in cause[0]
    # Each other test's error is the short reference.
    assert len(_reference_lines(result, "test_many.py::test_00")) == 49
    assert "Retrying" not in result.stdout.str()


def test_a_fault_found_after_the_retries_is_not_met_again(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    # The server is reached, but its token endpoint keeps answering 503: the first test
    # fails after its retries, which are not shown; the others do not try again.
    dai_env.set_faults(burst=1000, burst_status=503, fault_paths=["/auth/"])
    pytester.makepyfile(test_three=THREE)

    result = run(pytester, "--dai-backoff-factor=0", "--dai-request-retries=3")

    result.assert_outcomes(failed=1, errors=2)
    assert "Retrying" not in result.stdout.str()
    token_posts = [r for r in dai_env.request_log() if r.path.startswith("/auth/")]
    assert len(token_posts) == 3, "only the first test asked, three attempts"
    assert len(_reference_lines(result, "test_three.py::test_0")) == 2
    dai_env.clear_faults()


def test_https_to_a_plain_http_server_says_so(
    pytester: pytest.Pytester, dai_env: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAI_URL", dai_env.url.replace("http://", "https://"))
    pytester.makepyfile(test_three=THREE)

    result = run(pytester)

    result.assert_outcomes(failed=1, errors=2)
    port = dai_env.url.rsplit(":", 1)[1]
    result.stdout.fnmatch_lines([f"*speaks plain http, not https (use http://127.0.0.1:{port}*"])
    assert "CA bundle" not in result.stdout.str()


def test_an_unknown_host_name_says_so(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAI_URL", "http://no-such-host.invalid:8000")
    monkeypatch.setenv("DAI_CLIENT_SECRET", "x-secret")
    pytester.makepyfile(test_three=THREE)

    result = run(pytester)

    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines(["*host name 'no-such-host.invalid' not resolved*"])


def test_a_url_with_a_path_explains_the_token_404(
    pytester: pytest.Pytester, dai_env: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAI_URL", dai_env.url + "/dai")
    pytester.makepyfile(test_three=THREE)

    result = run(pytester)

    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [f"*404*the DAI URL {dai_env.url}/dai has a path (/dai)*root URL ({dai_env.url})*"]
    )


def test_credentials_of_another_server_say_so(
    pytester: pytest.Pytester, dai_env: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = {**SCENARIO, "credentials": {"client_id": "other-id", "client_secret": "other-s3"}}
    with DAISimulator(other, port=0) as elsewhere:
        csv = pytester.path / "api-access.csv"
        csv.write_text(
            "client_id,client_secret,token_url\n"
            f"{dai_env.client_id},{dai_env.client_secret},{elsewhere.token_url}\n"
        )
        monkeypatch.delenv("DAI_CLIENT_SECRET")
        monkeypatch.delenv("DAI_CLIENT_ID")
        monkeypatch.setenv("DAI_CREDENTIALS", str(csv))
        pytester.makepyfile(test_three=THREE)

        result = run(pytester)

    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [f"*401*the token URL (credentials file *) is on {elsewhere.url}, not on the DAI server*"]
    )
