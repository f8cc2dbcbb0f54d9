"""One marked test's run, either kind: start, wait, abort, evidence, dry run, runs started ahead."""
