#!/usr/bin/env bash
# Run a pytest selection N times in a row and count the runs that did not exit 0, optionally
# with CPU-bound processes beside it (a flaky test fails CI one run in four: find it here).
#
#   bash scripts/repeat_tests.sh N [--busy K] [pytest args]
#   bash scripts/repeat_tests.sh 50 --busy 1 tests/test_asr.py
#
# Uses the active virtual environment, else .venv (make it with scripts/test.sh). Each run's
# output goes to repeat-out/run-I.log; the last line says how many runs failed and exit 1 if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: repeat_tests.sh N [--busy K] [pytest args]}
shift
busy=0
if [ "${1:-}" = "--busy" ]; then
  busy=${2:?--busy needs a number of processes}
  shift 2
fi
if [ -z "${VIRTUAL_ENV:-}" ]; then
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
mkdir -p repeat-out
burners=()
for _ in $(seq 1 "$busy"); do
  python -c "while True: pass" &
  burners+=($!)
done
trap '[ ${#burners[@]} -gt 0 ] && kill "${burners[@]}" 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  python -X faulthandler -m pytest -q -p no:cacheprovider "$@" >"repeat-out/run-$i.log" 2>&1
  rc=$?
  echo "run $i: exit $rc in $(($(date +%s) - start)) s: $(tail -n 1 "repeat-out/run-$i.log")"
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
done
echo "$failed of $n runs failed (with $busy CPU-bound process(es) beside)"
[ "$failed" -eq 0 ]
