#!/usr/bin/env bash
# End-to-end test of the demo (scripts/demo.sh) in both modes: --no-db --exit (JSON lines) and --exit
# (PostgreSQL). Checks each report against what the sink received. Reuses $EVENTSCOPE_BUILD_DIR if set.
# Prints ok/not ok lines and ends with "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
export EVENTSCOPE_BUILD_DIR=${EVENTSCOPE_BUILD_DIR:-$root/build}
here=$root/tests/demo
work=$(mktemp -d /tmp/eventscope-demo-test.XXXXXX)
passed=0; failed=0

cleanup() {
  "$root/scripts/pg-cluster.sh" remove "$EVENTSCOPE_BUILD_DIR/demo-pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
# Runs the checker and folds its ok/not ok lines into the totals, prefixed with the mode.
run_checker() {
  local mode=$1; shift
  local line
  while IFS= read -r line; do
    case "$line" in
      "ok - "*) ok "$mode: ${line#ok - }" ;;
      "not ok - "*) not_ok "$mode: ${line#not ok - }" ;;
      *) echo "# $line" ;;
    esac
  done < <(python3 "$here/check_report.py" "$@" 2>&1)
}

report=$EVENTSCOPE_BUILD_DIR/demo-report.json

# --- mode 1: no database ------------------------------------------------------------------------------------
out=$work/no-db.out
if "$root/scripts/demo.sh" --no-db --exit >"$out" 2>&1; then ok "no-db: demo.sh --no-db --exit exits 0"; else not_ok "no-db: demo.sh --no-db --exit exits 0 (output: $(tail -n 5 "$out" | tr '\n' ' '))"; fi
if [ -s "$report" ] && [ -s "$EVENTSCOPE_BUILD_DIR/demo-records.jsonl" ]; then
  ok "no-db: report and JSON lines written"
  grep -q "chains .* longest" "$out" && ok "no-db: the printed report names the chains" || not_ok "no-db: the printed report names the chains"
  n_malformed=$(ls "$root"/examples/payloads/malformed--*.json | wc -l)
  [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"]["400"])' "$report")" = "$n_malformed" ] \
    && ok "no-db: every malformed corpus payload answered 400 ($n_malformed)" || not_ok "no-db: malformed payloads answered 400"
  run_checker no-db "$report" --jsonl "$EVENTSCOPE_BUILD_DIR/demo-records.jsonl"
else
  not_ok "no-db: report and JSON lines written"
fi

# --- mode 2: PostgreSQL (cluster kept for the check, removed by the trap) ----------------------------------------
out=$work/db.out
rm -f "$report"
if EVENTSCOPE_DEMO_KEEP_DB=1 "$root/scripts/demo.sh" --exit >"$out" 2>&1; then ok "db: demo.sh --exit exits 0"; else not_ok "db: demo.sh --exit exits 0 (output: $(tail -n 5 "$out" | tr '\n' ' '))"; fi
if grep -q "falling back" "$out"; then
  not_ok "db: ran against PostgreSQL ($(grep -B1 'falling back' "$out" | head -1 | sed 's/^ *//'))"
elif [ -s "$report" ] && [ -f "$EVENTSCOPE_BUILD_DIR/demo-pg/url" ]; then
  ok "db: ran against PostgreSQL"
  base=$(cat "$EVENTSCOPE_BUILD_DIR/demo-pg/url"); base=${base%/*}
  run_checker db "$report" --db-url "$base/hasura_event_detector_observability"
  undelivered=$(psql "$base/demo_app" -AtX -c "SELECT count(*) FROM event_log WHERE NOT delivered" 2>&1)
  [ "$undelivered" = 0 ] && ok "db: every app change was delivered as an event" || not_ok "db: undelivered app changes: $undelivered"
  tokens=$(psql "$base/demo_app" -AtX -c "SELECT count(*) FROM orders WHERE updated_by LIKE '%|%|%'" 2>&1)
  [[ "$tokens" =~ ^[1-9][0-9]*$ ]] && ok "db: job writes carry tracking tokens in updated_by ($tokens orders)" || not_ok "db: tracking tokens in orders.updated_by: $tokens"
  linked=$(psql "$base/hasura_event_detector_observability" -AtX -c "SELECT count(*) FROM event_detector_observability.invocations WHERE source_job_id IS NOT NULL" 2>&1)
  [[ "$linked" =~ ^[1-9][0-9]*$ ]] && ok "db: invocations.source_job_id set ($linked)" || not_ok "db: invocations.source_job_id: $linked"
else
  not_ok "db: report written and cluster kept"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
