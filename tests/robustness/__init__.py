"""Robustness of pytest-dai: faults, soak, bad inputs and secrets, against the simulator."""
