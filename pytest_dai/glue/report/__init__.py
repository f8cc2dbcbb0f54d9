"""What users see of runs: facts, summary, live line, JUnit, steps, GitHub, HTML, history, rerun."""
