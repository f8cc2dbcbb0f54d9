#!/usr/bin/env bash
# Records the session of docs/transcript.md: the bundled simulator with scenario.json, the tests
# of test_shop.py copied to a fresh folder, pytest as a CI job runs it (CI=true, 100 columns),
# and Ctrl-C (SIGINT) 35 s into the hour-long soak. Prints what the user saw.
#   bash docs/transcript/record.sh [extra pytest arguments, e.g. -n 3]
set -euo pipefail
set -m  # job control: the background pytest takes SIGINT (Ctrl-C) as in a terminal
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/shop-tests.XXXX)
trap 'kill "$sim" 2> /dev/null || true; rm -rf "$work"' EXIT
cp "$here/test_shop.py" "$work/"
printf '[pytest]\n' > "$work/pytest.ini"
python -m pytest_dai.simulator --port 0 --scenario "$here/scenario.json" > "$work/sim.out" 2>&1 &
sim=$!
until grep -q "listening on" "$work/sim.out"; do sleep 0.2; done
export DAI_URL
DAI_URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/sim.out")
export DAI_CLIENT_ID=client:dai:agent:transcript DAI_CLIENT_SECRET=transcript-secret-5e2b
cd "$work"
CI=true COLUMNS=100 pytest -p no:cacheprovider --junitxml=report.xml "$@" > out.txt 2>&1 &
tests=$!
until grep -q "DAI run started: Long soak" out.txt; do sleep 0.5; done
sleep 35
kill -INT -- "-$tests"  # the whole job, as Ctrl-C in a terminal (xdist workers too)
wait "$tests" || echo "(pytest exited with $?)" >> out.txt
cat out.txt
