"""Server text is data, never markup, commands or a secret (issue 22), in one table-driven test.

A proxy in front of the simulator (``server_fields.Rewriter``) puts hostile text into one server
field a run: a status word, a run id, an execution id, agent, model, test-case and configuration
names, a result id, log messages and times of both kinds of run. The hostile text carries every
kind of attack at once (``server_fields.hostile``): a workflow command at its start and after a
newline, an old-style ``##[command]``, ANSI and OSC escapes, ``<script>``, an ``onerror``
attribute and a quote that would end an attribute, a Markdown link and image, a JUnit attachment
of ``/etc/passwd``, the client secret and the access token the server issued for that very
request.

One inner session runs a test per field and writes every output: the terminal (``-v -rA``), the
JUnit XML (``junit_logging = all``), the steps file, the GitHub job summary and annotations,
the pytest-html report, the cache and the evidence files. Each output has its checks of what
would be live there (``server_outputs.OUTPUTS``); each field has its row
(``server_fields.FIELDS``). A new field or output is one row. Every field's tag must show up
somewhere (the hostile text did travel), and no output may carry any of it live.

Two more: a test configuration fans out no further than the limit (class 7 of the issue), and
a report of hostile run and result ids runs no script in a real browser (class 2).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

import pytest
from harness.browser import browser, run_browser
from harness.env import point_at
from harness.inner import FAST, finish, popen

from pytest_dai.client.server_text import NAME_LENGTH_LIMIT
from pytest_dai.simulator import DAISimulator

from .server_fields import (
    FIELDS,
    TOKEN_PLACEHOLDER,
    Rewriter,
    _config_test,
    _scenario,
    hostile,
)
from .server_outputs import OUTPUTS, Session
from .support import SECRET

#: Inner sessions in processes of their own: see README, Development.
pytestmark = pytest.mark.slow

pytest.importorskip("pytest_html")

# -- the test ------------------------------------------------------------------------------------


@pytest.fixture
def rewriter(
    make_sim: Callable[..., DAISimulator], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[DAISimulator, Rewriter]]:
    """The simulator with a model or configuration a field, behind the rewriting proxy; the
    inner pytest points at the proxy, as GitHub Actions runs it."""
    sim = make_sim(_scenario(), point=False)
    proxy = Rewriter(sim.url)
    point_at(monkeypatch, proxy.url, sim.client_id, sim.client_secret)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("PY_COLORS", "0")
    yield sim, proxy
    proxy.close()


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["one-process", "xdist"])
def test_server_text_never_comes_out_live(
    xdist: tuple[str, ...],
    pytester: pytest.Pytester,
    rewriter: tuple[DAISimulator, Rewriter],
    monkeypatch: pytest.MonkeyPatch,
    record_row: Callable[..., None],
) -> None:
    sim, _ = rewriter
    masked = hostile("F00").replace(SECRET, "***").replace(TOKEN_PLACEHOLDER, "***")
    assert len(masked) <= NAME_LENGTH_LIMIT, "a name would be cut: its last attacks never tested"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "summary.md"))
    pytester.makepyfile(test_hostile="import pytest\n\n" + "\n\n".join(f.test for f in FIELDS))
    process = popen(
        pytester,
        *FAST,
        "-v",
        "-rA",
        "--junitxml=junit.xml",
        "-o",
        "junit_logging=all",
        "--dai-junit-steps=steps.xml",
        "--html=report.html",
        "--self-contained-html",
        "--log-file=dai.log",
        "--log-file-level=DEBUG",
        *xdist,
    )
    terminal, rc = finish(process, timeout=240)
    session = Session(pytester.path, terminal, [SECRET, *sim.issued_tokens()])

    assert sim.issued_tokens(), "no token issued"
    assert "INTERNALERROR" not in terminal, terminal[-3000:]
    assert rc == pytest.ExitCode.TESTS_FAILED, terminal[-3000:]

    problems: list[str] = []
    seen: dict[str, list[str]] = {field.tag: [] for field in FIELDS}
    for output, check in OUTPUTS.items():
        text, found = check(session)
        problems += [f"{output}: {problem}" for problem in found]
        for field in FIELDS:
            if f"{field.tag}-" in text or f"'{field.tag}'" in text:
                seen[field.tag].append(output)
    for field in FIELDS:
        record_row(
            "server text",
            session="xdist" if xdist else "one process",
            field=field.name,
            tag=field.tag,
            shown_in=len(seen[field.tag]),
        )
    unseen = [f"{f.tag} {f.name}" for f in FIELDS if not seen[f.tag]]
    assert problems == [], "\n".join(problems)
    assert unseen == [], f"the hostile text of these fields reached no output: {unseen}"


#: The inner session's fan-out limit in the test below (the real one is 10 000: as many
#: subtests would take minutes); the plugin's modules read it where they use it.
SMALL_LIMIT = 3

SMALL_LIMIT_CONFTEST = f"""
import pytest_dai.client.test_configs
import pytest_dai.lifecycle.test_config_run

pytest_dai.client.test_configs.FAN_OUT_LIMIT = {SMALL_LIMIT}
pytest_dai.lifecycle.test_config_run.FAN_OUT_LIMIT = {SMALL_LIMIT}
"""


def test_a_test_configuration_fans_out_no_further_than_the_limit(
    pytester: pytest.Pytester, rewriter: tuple[DAISimulator, Rewriter]
) -> None:
    """Issue 22, class 7: a result listing more test results than the limit becomes as many
    subtests and steps-file testcases as the limit, and the output names the limit."""
    _, proxy = rewriter
    proxy.fan_out["C-fan"] = SMALL_LIMIT + 5
    pytester.makeconftest(SMALL_LIMIT_CONFTEST)
    pytester.makepyfile(test_fan="import pytest\n\n" + _config_test("fan", "tc-fan"))
    process = popen(pytester, *FAST, "-v", "-rA", "--dai-junit-steps=steps.xml")
    terminal, rc = finish(process, timeout=120)
    assert rc == pytest.ExitCode.OK, terminal[-3000:]

    note = f"more than {SMALL_LIMIT} test results: the first {SMALL_LIMIT} are reported"
    assert note in terminal, terminal[-3000:]
    subtests = [line for line in terminal.splitlines() if "SUBPASSED[C-fan]" in line]
    assert len(subtests) == SMALL_LIMIT, terminal[-3000:]
    (suite,) = ET.fromstring((pytester.path / "steps.xml").read_bytes()).iter("testsuite")
    cases = list(suite.iter("testcase"))
    assert len(cases) == SMALL_LIMIT + 1, [case.get("name") for case in cases]
    (skipped,) = cases[-1].iter("skipped")
    assert note in (skipped.get("message") or ""), ET.tostring(cases[-1])


#: A run id (and a result id) that runs script in a report that puts it into HTML unescaped:
#: at once (``onerror``, ``<script>``, ``autofocus`` with ``onfocus``), no click needed.
#: No ``/``: an id with one is refused before it goes into a path (then no run to report).
BROWSER_ID = (
    '7"><img src=x onerror="document.body.dataset.pwned=\'img\'">'
    "<svg onload=\"document.body.dataset.pwned='svg'\">"
    "\" autofocus onfocus=\"document.body.dataset.pwned='focus'"
)


def test_a_report_with_a_hostile_run_id_runs_no_script_in_a_browser(
    pytester: pytest.Pytester, rewriter: tuple[DAISimulator, Rewriter]
) -> None:
    """Issue 22, class 2, in a real browser: pytest-html's report of runs whose run id and
    result id (in the run's and the result's address) are HTML that runs script."""
    executable = browser()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    _, proxy = rewriter
    proxy.texts.update({"F02": BROWSER_ID, "F12": BROWSER_ID})
    tests = [field.test for field in FIELDS if field.tag in ("F02", "F12")]
    pytester.makepyfile(test_hostile="import pytest\n\n" + "\n\n".join(tests))
    process = popen(pytester, *FAST, "--html=report.html", "--self-contained-html")
    terminal, rc = finish(process, timeout=120)
    assert rc == pytest.ExitCode.TESTS_FAILED, terminal[-3000:]

    page = (pytester.path / "report.html").as_uri()
    dom = run_browser(executable, pytester.path / "profile", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "test_hostile.py::test_run_id" in dom.stdout, "the report did not render"
    links = re.findall(r'<a [^>]*class="col-links__extra url"', dom.stdout)
    assert len(links) == 2, f"the runs' links are not in the report: {links}"
    assert all("pwned" in link for link in links), links
    assert "data-pwned" not in dom.stdout, "the report ran the server's script"
