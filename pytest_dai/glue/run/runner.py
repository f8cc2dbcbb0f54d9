"""A marked test's DAI run: start it after the fixtures, wait, report, decide the outcome.

Called from ``pytest_runtest_call`` (see :mod:`pytest_dai.plugin`), so the run starts after every
fixture of the test is set up and the test body runs only once the run passed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, NoReturn, cast

import pytest

from pytest_dai.client.errors import DAIConfigError, DAIError, DAINotFoundError
from pytest_dai.glue.base.keys import (
    CALL_START_KEY,
    EXECUTION_KEY,
    LOGS_KEY,
    MESSAGES_KEY,
    PROTOCOL_START_KEY,
    RERUN_OF_KEY,
)
from pytest_dai.glue.base.timeouts import TIMEOUT_MARGIN
from pytest_dai.glue.base.user_hooks import call_hook, from_user_hook
from pytest_dai.glue.markers.model import SPEC_KEY
from pytest_dai.glue.report.facts import RUN_REPORT_KEY, RunReport, set_property
from pytest_dai.glue.report.history import expected_duration
from pytest_dai.glue.report.live import LiveLine
from pytest_dai.glue.report.rerun import forget_failed_run
from pytest_dai.glue.report.run_label import run_title
from pytest_dai.glue.run.evidence import keep_run_evidence
from pytest_dai.glue.run.offline import offline_policy
from pytest_dai.glue.run.prestart import ahead_text, claim, prestart_of, started_ahead_for
from pytest_dai.glue.settings.server_options import NO_AGENT
from pytest_dai.lifecycle.agent_watch import DAIAgentOffline
from pytest_dai.lifecycle.steps import run_steps

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.records import LogEntry
    from pytest_dai.glue.markers.model import ModelSpec
    from pytest_dai.glue.markers.test_config import TestConfigSpec
    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.lifecycle.execution import Execution
    from pytest_dai.lifecycle.outcome import DAIRunTimeout
    from pytest_dai.lifecycle.session import AnyRun, DAISession
    from pytest_dai.lifecycle.steps import StepResult
    from pytest_dai.lifecycle.test_config_run import TestConfigResult

__all__ = [
    "LOG_SECTION",
    "apply_outcome",
    "default_map_outcome",
    "run_marked_test",
]

#: Report section key: pytest shows it as "Captured log from the DAI run call", and JUnit XML
#: gets it in ``<system-out>`` with ``junit_logging = log`` (or ``all``).
LOG_SECTION = "log from the DAI run"

OUTCOME_WORDS = ("passed", "failed", "skipped", "xfailed")

#: With pytest-timeout active, a run's own deadline ends this long before pytest-timeout's
#: (at most a quarter of it), so pytest-dai aborts the run and fails the test first.
MIN_DEADLINE = 0.1  # a run whose time is already up still gets one look at its status


def _pytest_timeout_settings(item: pytest.Item) -> tuple[float, str, bool] | None:
    """pytest-timeout's (timeout, method, func_only) for ``item``, or None when it is not
    active."""
    plugin = item.config.pluginmanager.get_plugin("timeout")
    getter = getattr(plugin, "_get_item_settings", None)
    if getter is None:
        return None
    try:
        settings = getter(item)
        timeout = float(settings.timeout or 0)
        method = str(settings.method)
        func_only = bool(getattr(settings, "func_only", False))
    except Exception:  # a private helper of another plugin: never fail a test over it
        return None
    return (timeout, method, func_only) if timeout > 0 else None


def run_deadline(item: pytest.Item, spec: ModelSpec | TestConfigSpec) -> float | None:
    """The run's deadline in seconds from now (None: none): the marker's or the setting's,
    cut to end a margin (:data:`TIMEOUT_MARGIN`, at most a quarter of the timeout) before
    pytest-timeout's timeout for this test ends.

    pytest-timeout's clock starts with the test's setup (unless ``timeout_func_only``), so
    the time the fixtures and the start took is taken off."""
    return run_deadline_and_source(item, spec)[0]


def run_deadline_and_source(
    item: pytest.Item, spec: ModelSpec | TestConfigSpec
) -> tuple[float | None, str]:
    """:func:`run_deadline`, and what set it when pytest-timeout did ("" otherwise). The run's
    own deadline counts from its start request (earlier than now for a run started ahead);
    pytest-timeout's from the test's own start."""
    deadline = spec.timeout or None
    if deadline is not None:
        deadline = max(deadline - started_ahead_for(item), MIN_DEADLINE)
    source = ""
    outer = _pytest_timeout_settings(item)
    if outer is not None:
        timeout, _method, func_only = outer
        started = item.stash.get(CALL_START_KEY if func_only else PROTOCOL_START_KEY, None)
        elapsed = time.monotonic() - started if started is not None else 0.0
        own = max(timeout - elapsed - min(TIMEOUT_MARGIN, timeout * 0.25), MIN_DEADLINE)
        if deadline is None or own < deadline:
            deadline = own
            source = f"it ends before the test's pytest-timeout of {timeout:g} s"
    return deadline, source


def record(item: pytest.Item, run: AnyRun) -> RunReport:
    """The facts of the test's marker run as they are now: kept on the item (its report
    carries them) and written as the run's ``dai_*`` JUnit properties."""
    report = RunReport.of(run, item.nodeid)
    report.rerun_of = item.stash.get(RERUN_OF_KEY, "")
    item.stash[RUN_REPORT_KEY] = report
    for name, value in report.properties():
        set_property(item, name, value)
    return report


def keep_steps(
    item: pytest.Item, state: DAIState, run: AnyRun, steps: list[StepResult], interrupted: str
) -> RunReport:
    """The run's final facts with its steps: on the item (they go out with the test's
    report, also from an xdist worker) and in the state (for a session interrupted before
    the test's report is made)."""
    report = record(item, run).with_steps(steps, interrupted)
    state.pending_runs[report.key] = report
    return report


def _log_text(logs: list[LogEntry]) -> str:
    return "\n".join(entry.format() for entry in logs)


def run_marked_test(item: pytest.Item, state: DAIState, spec: ModelSpec) -> Execution:
    """Start the run, wait for it (aborting on any interruption), report, apply the outcome.

    Returns the finished :class:`Execution` when the test may go on to its body.
    """
    __tracebackhide__ = from_user_hook
    session = state.session()
    if state.settings.dry_run:
        dry_run(session, spec)
    ahead = claim(item)
    execution = cast("Execution", ahead) if ahead is not None else None
    if execution is None:
        execution = start_model_run(item, session, spec, item.stash.get(RERUN_OF_KEY, ""))
    item.stash[EXECUTION_KEY] = execution
    execution.expected_duration = expected_duration(item.config, execution.model)
    record(item, execution)

    def on_interrupt(exc: BaseException) -> None:
        why = _why(exc)
        steps = run_steps(execution, _quick_logs(execution), nodeid=item.nodeid, interrupted=why)
        keep_steps(item, state, execution, steps.steps, why)

    timed_out = wait_for_run(item, execution, spec, on_interrupt)
    logs = _read_logs(item, execution)

    keep_run_evidence(item, state, execution, logs, timed_out=timed_out is not None)
    why = "the run deadline passed" if timed_out is not None else ""
    steps = run_steps(execution, logs, nodeid=item.nodeid, interrupted=why)
    keep_steps(item, state, execution, steps.steps, why)
    if timed_out is not None:
        raise timed_out
    result = call_hook(item.config.hook.pytest_dai_map_outcome, item=item, execution=execution)
    apply_outcome(item, execution, result)
    return execution


def wait_for_run(
    item: pytest.Item,
    run: AnyRun,
    spec: ModelSpec | TestConfigSpec,
    on_interrupt: Callable[[BaseException], None],
) -> DAIRunTimeout | None:
    """Wait for the started run of the test's marker (either kind), between the
    ``pytest_dai_execution_started`` and ``_finished`` hooks, with the live line and the JUnit
    properties kept up to date. Any interruption aborts the run, then ``on_interrupt`` keeps
    what is known and the exception goes on.

    Returns the deadline's :class:`DAIRunTimeout` (the run was aborted) or None."""
    __tracebackhide__ = from_user_hook
    from pytest_dai.lifecycle.outcome import DAIRunTimeout

    hook = item.config.hook
    live = LiveLine(item.config)
    timed_out: DAIRunTimeout | None = None
    prestart = prestart_of(item.config)
    try:
        call_hook(hook.pytest_dai_execution_started, item=item, execution=run)

        offline = offline_policy(item)

        def on_poll(current: AnyRun) -> None:
            record(item, current)
            live.update(current, ahead_text(item.config))
            offline(current)
            if prestart is not None:
                prestart.fill()

        try:
            deadline, source = run_deadline_and_source(item, spec)
            if prestart is not None:
                run.idle = prestart.idle  # between polls: look at the runs started ahead
            run.wait(deadline, on_poll=on_poll, deadline_source=source)
        except DAIRunTimeout as exc:
            timed_out = exc
    except BaseException as exc:
        try:
            run.abort()
            on_interrupt(exc)
        finally:
            live.end(run, quiet=isinstance(exc, KeyboardInterrupt))
        raise
    live.end(run)
    record(item, run)
    if prestart is not None:  # its lane is free: the next run on it may start
        prestart.finished(item.nodeid)
        prestart.fill()
    call_hook(hook.pytest_dai_execution_finished, item=item, execution=run)
    return timed_out


def _read_logs(item: pytest.Item, execution: Execution) -> list[LogEntry] | None:
    """The finished run's log (also in the report section); None when it cannot be read."""
    logs: list[LogEntry] | None
    try:
        logs = execution.logs()
    except DAIError as exc:
        logs = None
        item.add_report_section("call", LOG_SECTION, f"(the run log could not be read: {exc})")
    else:
        if logs:
            item.add_report_section("call", LOG_SECTION, _log_text(logs))
    item.stash[LOGS_KEY] = logs
    return logs


def _quick_logs(execution: Execution) -> list[LogEntry] | None:
    """The run log as far as it goes, asked quickly (the wait was interrupted); None if the
    server does not answer at once."""
    try:
        return execution.logs(quick=True)
    except DAIError:
        return None


def _why(exc: BaseException) -> str:
    """Why a wait stopped early, for the steps never reached."""
    if isinstance(exc, KeyboardInterrupt):
        return "the session was interrupted (Ctrl-C or SIGTERM)"
    if isinstance(exc, DAIAgentOffline):
        return exc.reason
    if isinstance(exc, DAIError):
        return f"the server could not be asked: {exc}"
    if isinstance(exc, pytest.fail.Exception) and "Timeout" in str(exc):
        return "the test timed out (pytest-timeout)"
    return f"the wait was interrupted ({type(exc).__name__})"


def start_model_run(
    item: pytest.Item, session: DAISession, spec: ModelSpec, rerun_of: str
) -> Execution:
    """Start the marker's run (a DAI rerun of ``rerun_of`` with ``--dai-rerun-failed``)."""
    try:
        return session.start(
            spec.model,
            agent=spec.agent,
            test_case=spec.test_case,
            sut=spec.sut,
            sut_criteria=spec.sut_criteria,
            rerun=rerun_of or spec.rerun,
            step_pause_time=spec.step_pause_time,
            script=spec.script,
            asset=spec.asset,
            # --dai-rerun-failed: DAI re-runs the failed test case run from its id alone.
            rerun_only=bool(rerun_of),
        )
    except DAINotFoundError as exc:
        if not rerun_of:
            raise
        # The server no longer knows the failed run: forget it, so the next
        # --dai-rerun-failed runs this test in full instead of failing the same way.

        forget_failed_run(item.config, item.nodeid)
        raise DAINotFoundError(
            f"{exc} (re-running failed run {rerun_of}; it is forgotten now, so the next "
            "--dai-rerun-failed runs this test in full)",
            endpoint=exc.endpoint,
            status=exc.status,
        ) from None


def dry_run(session: DAISession, spec: ModelSpec) -> NoReturn:
    """``--dai-dry-run``: check what the run needs, start nothing, skip with what it would do.

    Authenticates (listing models does), resolves the model and agent names and checks the
    agent is online; any problem raises its one-line error and fails the test.
    """
    __tracebackhide__ = True
    model = session.resolve_model(spec.model)
    where = f"with {NO_AGENT}"
    if spec.agent is not None:
        agent = session.resolve_agent(spec.agent)
        if not agent.online:
            raise DAIConfigError(
                f"dry run: agent {agent.name!r} is {agent.status or 'offline'}; a run of model "
                f"{model.name!r} would wait for it"
            )
        where = f"on agent {agent.name!r}"
    # The id's type is checked with the marker; DAI's API cannot list a model's test cases.
    extra = f", test case {spec.test_case} (id not checked)" if spec.test_case is not None else ""
    skip(f"dry run: would start model {model.name!r} {where}{extra}")


def skip(reason: str) -> NoReturn:
    """Skip the test, reported at the test's own location (not this module's)."""
    __tracebackhide__ = True
    raise pytest.skip.Exception(reason, _use_item_location=True)


def default_map_outcome(item: pytest.Item, execution: AnyRun) -> str | BaseException:
    """The default mapping: passed, or the DAIRun* exception for the run's final state."""
    from pytest_dai.lifecycle.outcome import default_outcome

    if execution.kind == "test_config":
        from pytest_dai.lifecycle.test_config_outcome import config_outcome

        found = config_outcome(
            cast("TestConfigResult", execution), item.stash.get(MESSAGES_KEY, {})
        )
        return "passed" if found is None else found

    spec = item.stash.get(SPEC_KEY, None)
    error = default_outcome(
        cast("Execution", execution),
        item.stash.get(LOGS_KEY, None),
        min_steps=spec.min_steps if spec is not None else None,
    )
    return "passed" if error is None else error


def apply_outcome(item: pytest.Item, execution: AnyRun, result: object) -> None:
    """Act on what ``pytest_dai_map_outcome`` returned."""
    __tracebackhide__ = True  # an exception from here is the hook's (or a DAIError: one line)
    if isinstance(result, BaseException):
        raise result
    if result is None or result == "passed":
        return
    if result in ("failed", "skipped", "xfailed"):
        default = default_map_outcome(item, execution)
        reason = (
            str(default).splitlines()[0]
            if isinstance(default, BaseException)
            else f"{run_title(execution)} ended as {execution.status}"
        )
        if result == "skipped":
            skip(reason)
        if result == "xfailed":
            pytest.xfail(reason)
        if isinstance(default, BaseException):
            raise default
        pytest.fail(reason, pytrace=False)
    raise DAIError(
        f"pytest_dai_map_outcome returned {result!r}; expected one of "
        f"{', '.join(OUTCOME_WORDS)}, an exception, or None"
    )
