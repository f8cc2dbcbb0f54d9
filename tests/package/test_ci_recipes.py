"""The CI recipes under ``docs/ci/`` work as written: each is parsed (YAML, or the Jenkinsfile's
``sh '...'`` lines), and its commands run against a simulator in a temporary project laid out as
a user's repository (see :mod:`harness.recipes`), so they cannot rot."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness.recipes import (
    RECIPES,
    ROOT,
    TESTS,
    attachments,
    examples_scenario,
    installs_the_wheel,
    is_install,
    make_project,
    recipe_env,
    run,
    server_values,
)
from harness.simulators import eventually
from harness.wire import RUNS

from pytest_dai.simulator import DAISimulator

GITHUB = RECIPES / "github-actions.yml"
GITLAB = RECIPES / "gitlab-ci.yml"
JENKINS = RECIPES / "Jenkinsfile"
PUBLISHED = "pip install pytest-dai pytest-xdist"

#: A test whose run waits for the offline agent: a session killed while it waits leaves a run.
QUEUED_TEST = """
import pytest


@pytest.mark.dai_model("Shop checkout", agent="agent-offline")
def test_waits_for_the_offline_agent():
    pass
"""


@pytest.fixture(scope="module")
def simulator() -> Any:
    """One fast simulator of the examples' scenario for the recipes of this module."""
    with DAISimulator(examples_scenario()) as sim:
        yield sim


def github_job() -> dict[str, Any]:
    workflow = yaml.safe_load(GITHUB.read_text("utf-8"))
    job: dict[str, Any] = workflow["jobs"]["dai"]
    return job


def step_named(steps: list[dict[str, Any]], uses: str) -> dict[str, Any]:
    return next(step for step in steps if str(step.get("uses", "")).startswith(uses))


def jenkins_lines() -> tuple[dict[str, str], list[str]]:
    """The Jenkinsfile's ``environment`` variables and its ``sh '...'`` commands, in order
    (commented-out lines left out)."""
    text = JENKINS.read_text("utf-8")
    block = re.search(r"environment \{(.*?)\}", text, re.S)
    assert block is not None
    env = dict(re.findall(r"^\s*(\w+) = (.+?)\s*$", block.group(1), re.M))
    commands = re.findall(r"^\s*sh '([^']+)'\s*$", text, re.M)
    return env, commands


# ------------------------------------------------------------------------------------------
# What the recipes say, checked without running them


def test_the_readme_shows_the_github_recipe_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    assert GITHUB.read_text("utf-8") in blocks
    for recipe in (GITHUB, GITLAB, JENKINS):
        assert f"(docs/ci/{recipe.name})" in readme


def test_every_recipe_installs_the_wheel_a_checkout_builds_and_says_what_changes() -> None:
    gitlab = yaml.safe_load(GITLAB.read_text("utf-8"))["dai-tests"]["script"]
    github = [step["run"] for step in github_job()["steps"] if "run" in step]
    jenkins = jenkins_lines()[1]
    for name, commands in (("github", github), ("gitlab", gitlab), ("jenkins", jenkins)):
        installs = [command for command in commands if "pip install" in command]
        assert len(installs) == 1, name
        assert installs_the_wheel(installs[0]), (name, installs[0])
    for recipe in (GITHUB, GITLAB, JENKINS):
        text = recipe.read_text("utf-8")
        assert "not on PyPI yet" in text, recipe.name
        assert PUBLISHED in text, recipe.name


def test_the_github_recipe_keeps_its_reports_and_reaps_after_a_cancel() -> None:
    job = github_job()
    steps = job["steps"]
    assert job["env"]["DAI_CLIENT_SECRET"] == "${{ secrets.DAI_CLIENT_SECRET }}"
    assert all("secrets." not in str(v) for k, v in job["env"].items() if k != "DAI_CLIENT_SECRET")
    reap = next(step for step in steps if step.get("if") == "cancelled()")
    assert reap["run"] == "pytest --dai-reap-orphans-only"
    save = step_named(steps, "actions/cache/save")
    restore = step_named(steps, "actions/cache/restore")
    assert save["if"] == "always()"
    assert save["with"]["key"] == restore["with"]["key"]
    assert save["with"]["path"] == restore["with"]["path"] == ".pytest_cache"
    upload = step_named(steps, "actions/upload-artifact")
    assert upload["if"] == "always()"
    assert set(upload["with"]["path"].split()) == {"report.xml", "steps.xml", "dai-artifacts/"}


def test_the_gitlab_recipe_reports_junit_and_keeps_the_screenshots() -> None:
    job = yaml.safe_load(GITLAB.read_text("utf-8"))["dai-tests"]
    assert job["artifacts"]["reports"]["junit"] == "report.xml"
    assert job["artifacts"]["when"] == "always"
    assert {"report.xml", "dai-artifacts/"} <= set(job["artifacts"]["paths"])
    assert job["cache"]["paths"] == [".pytest_cache/"]
    assert job["cache"]["when"] == "always"


def test_the_jenkinsfile_publishes_junit_with_its_attachments() -> None:
    text = JENKINS.read_text("utf-8")
    publisher = "testDataPublishers: [[$class: 'AttachmentPublisher']]"
    assert f"junit testResults: 'report.xml', {publisher}" in text
    reap = "sh '.venv/bin/pytest --dai-reap-orphans-only'"
    assert re.search(r"aborted \{\s*//[^\n]*\n\s*" + re.escape(reap), text)


# ------------------------------------------------------------------------------------------
# The recipes' commands, run


def polls_since(sim: DAISimulator, first: int) -> int:
    """Status polls (``GET /ai/runs...``) the simulator saw from request ``first`` on."""
    requests = sim.request_log()[first:]
    return sum(1 for r in requests if r.method == "GET" and r.path.startswith(RUNS))


def kill_a_session_waiting_for_a_run(project: Path, env: dict[str, str], sim: DAISimulator) -> None:
    """Leave a run going as a cancelled job does: a session killed (SIGKILL) while it waits."""
    (project / TESTS / "test_queued.py").write_text(QUEUED_TEST, encoding="utf-8")
    before = len(sim.request_log())
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", f"{TESTS}/test_queued.py"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # Two status polls of the run: the answer to its start was taken (and journalled).
        eventually(lambda: polls_since(sim, before) >= 2, timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    (project / TESTS / "test_queued.py").unlink()


@pytest.mark.slow
def test_the_github_recipe_runs_as_written(tmp_path: Path, simulator: DAISimulator) -> None:
    project = make_project(tmp_path / "repo")
    job = github_job()
    summary = tmp_path / "summary.md"
    github = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    values = server_values(simulator, tmp_path)
    ran = []
    for step in job["steps"]:
        command = step.get("run")
        if command is None or is_install(command):
            continue
        env = recipe_env({**job["env"], **step.get("env", {})}, values, **github)
        if step.get("if") == "cancelled()":
            kill_a_session_waiting_for_a_run(project, env, simulator)
        done = run(command, project, env)
        ran.append(command)
        assert done.returncode == 0, done.stdout + done.stderr
        if step.get("if") == "cancelled()":
            assert "left by an earlier, killed session" in done.stdout, done.stdout
            assert "dai: aborted model 'Shop checkout'" in done.stdout, done.stdout
        else:
            assert re.search(r"5 passed, 1 xfailed", done.stdout), done.stdout
    assert len(ran) == 2
    upload = step_named(job["steps"], "actions/upload-artifact")
    for path in upload["with"]["path"].split():
        assert (project / path).exists(), path
    assert (project / ".pytest_cache").is_dir()  # what the cache steps keep
    assert "Payment declined" in summary.read_text("utf-8")


@pytest.mark.slow
def test_the_gitlab_recipe_runs_as_written(tmp_path: Path, simulator: DAISimulator) -> None:
    project = make_project(tmp_path / "repo")
    job = yaml.safe_load(GITLAB.read_text("utf-8"))["dai-tests"]
    variables = dict(job.get("variables", {}))
    # Settings > CI/CD > Variables, as the recipe's comment says:
    variables.update(dict.fromkeys(("DAI_URL", "DAI_CLIENT_ID", "DAI_CLIENT_SECRET"), ""))
    values = server_values(simulator, tmp_path)
    env = recipe_env(variables, values, GITLAB_CI="true", CI_PROJECT_DIR=str(project))
    for command in job["script"]:
        if not is_install(command):
            done = run(command, project, env)
            assert done.returncode == 0, done.stdout + done.stderr
    before = attachments(project / "report.xml")
    assert before
    assert all(Path(path).is_absolute() for path in before)
    env["CI_JOB_STATUS"] = "canceled"
    for command in job["after_script"]:
        done = run(command, project, env)
        assert done.returncode == 0, done.stdout + done.stderr
    assert "dai: no runs left by killed sessions" in done.stdout  # the cancel branch ran
    for report in ("report.xml", "steps.xml"):
        paths = attachments(project / report)
        assert paths, report
        for path in paths:
            assert not Path(path).is_absolute(), path
            assert (project / path).is_file(), path
    for path in job["artifacts"]["paths"]:
        assert (project / path).exists(), path


@pytest.mark.slow
def test_the_jenkinsfile_runs_as_written(tmp_path: Path, simulator: DAISimulator) -> None:
    project = make_project(tmp_path / "repo")
    variables, commands = jenkins_lines()
    values = server_values(simulator, tmp_path)
    env = recipe_env(variables, values, JENKINS_URL="http://jenkins.example/")
    assert "DAI_CREDENTIALS" in env
    assert "DAI_CLIENT_SECRET" not in env
    ran = [command for command in commands if not is_install(command)]
    assert len(ran) == 2
    for command in ran:
        done = run(command, project, env)
        assert done.returncode == 0, done.stdout + done.stderr
    paths = attachments(project / "report.xml")
    assert paths
    assert all(Path(path).is_absolute() and Path(path).is_file() for path in paths)
