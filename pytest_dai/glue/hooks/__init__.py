"""The pytest hooks of pytest-dai: set-up, start, session, each test, summary, interrupts."""
