"""The test harness every test directory shares: scenarios, simulators and what they saw, the
environment an inner pytest reads, and the inner pytest itself.

- :mod:`harness.wire`: the DAI paths the tests look for in a simulator's request log.
- :mod:`harness.scenarios`: building simulator scenarios (models, steps, agents) and copies.
- :mod:`harness.simulators`: starting simulators, waiting on them, reading what they saw.
- :mod:`harness.env`: pointing the ``DAI_*`` environment at a server.
- :mod:`harness.inner`: running an inner pytest in a process of its own and signalling it.
- :mod:`harness.marked`: inner test modules of marked tests, for either kind of run.
- :mod:`harness.recipes`: running the CI recipes and the README's commands as users copy them.

``tests`` is on ``sys.path`` (``pythonpath`` in pyproject.toml), so every test imports these as
``harness.<module>``.
"""
