#!/usr/bin/env bash
# End to end: the example detector fills a fresh observability database through the Postgres sink, the console
# server serves the built dashboard and GraphQL over it (anonymous browser = read-only role), and the dashboard
# e2e drives Debian's Chromium against it, checking what it shows against SQL. Screenshots go to
# $EVENTSCOPE_ARTIFACTS_DIR. Needs a built tree ($EVENTSCOPE_BUILD_DIR) and the npm packages installed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${EVENTSCOPE_BUILD_DIR:-$root/build}
artifacts=${EVENTSCOPE_ARTIFACTS_DIR:-$build/test-artifacts/e2e}
mkdir -p "$artifacts"
die() { echo "e2e: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
# Absolute: the cleanup runs after steps that change directory.
build=$(cd "$build" && pwd) || die "no build directory $build"
artifacts=$(cd "$artifacts" && pwd)

detector="$build/examples/detector_service"
[ -x "$detector" ] || die "$detector is missing: build the tree first"
[ -f "$root/dashboard/server/dist-server/src/main.js" ] || (cd "$root/dashboard/server" && npm run build >/dev/null) || die "console server does not build"
[ -f "$root/dashboard/dist/index.html" ] || (cd "$root/dashboard" && npm run build >/dev/null) || die "dashboard does not build"

own_cluster=""
if [ -z "${EVENTSCOPE_TEST_DB_URL:-}" ]; then
  own_cluster="$build/e2e-pg"
  bash "$root/scripts/pg-cluster.sh" remove "$own_cluster" >/dev/null 2>&1
  EVENTSCOPE_TEST_DB_URL=$(bash "$root/scripts/pg-cluster.sh" start "$own_cluster") || die "could not start PostgreSQL"
fi
db="e2e_$$_$RANDOM"
db_url="${EVENTSCOPE_TEST_DB_URL%/*}/$db"
server_pid=""
admin_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$admin_pid" ] && kill "$admin_pid" 2>/dev/null && wait "$admin_pid" 2>/dev/null
  psql "$EVENTSCOPE_TEST_DB_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  [ -n "$own_cluster" ] && bash "$root/scripts/pg-cluster.sh" remove "$own_cluster" >/dev/null 2>&1
}
trap cleanup EXIT

psql "$EVENTSCOPE_TEST_DB_URL" -qc "CREATE DATABASE $db" >/dev/null || die "cannot create database $db"
psql "$db_url" -q -v ON_ERROR_STOP=1 -f "$root/sql/schema.sql" >/dev/null || die "schema did not apply"

echo "filling $db with the example detector's demo run"
"$detector" --demo --sink postgres --db-url "$db_url" --report "$artifacts/demo-report.json" \
    --service-log "$artifacts/detector_service.log" >"$artifacts/demo.out" 2>&1 || { tail -20 "$artifacts/demo.out"; die "demo run failed"; }
psql "$db_url" -qc "SELECT event_detector_observability.refresh_dashboard_stats()" >/dev/null || die "refresh_dashboard_stats failed"
# Issue 14: a dry-run replay of what the demo stored, through the same build (its report page is checked).
"$detector" --replay --db-url "$db_url" --build-label "e2e replay" >"$artifacts/replay.out" 2>&1 || { cat "$artifacts/replay.out"; die "replay failed"; }
grep -q "invocations replayed" "$artifacts/replay.out" || { cat "$artifacts/replay.out"; die "the replay printed no report"; }
[ "$(psql "$db_url" -Atc "SELECT count(*) FROM event_detector_observability.job_executions WHERE created_at > (SELECT max(created_at) FROM event_detector_observability.replay_runs)")" = 0 ] \
  || die "the replay wrote job rows"

# Issue 14: alert on silence, from the example service (CLI for cron, and GET /alerts/silence), on a database of
# its own: quiet.ev detected 5 of 10 checks an hour for 7 days, then 0 of 10 for the last 6 hours.
silence_db="${db}_silence"
silence_url="${EVENTSCOPE_TEST_DB_URL%/*}/$silence_db"
psql "$EVENTSCOPE_TEST_DB_URL" -qc "CREATE DATABASE $silence_db" >/dev/null || die "cannot create database $silence_db"
psql "$silence_url" -q -v ON_ERROR_STOP=1 -f "$root/sql/schema.sql" >/dev/null 2>&1 || die "schema did not apply to $silence_db"
"$detector" --check-silence --db-url "$silence_url" >"$artifacts/silence-none.out" 2>&1 \
  || { cat "$artifacts/silence-none.out"; die "--check-silence alerted on an empty database"; }
psql "$silence_url" -q -v ON_ERROR_STOP=1 -c "INSERT INTO event_detector_observability.event_rollup (hour_bucket, source_function, event_name, checked, detected)
  SELECT h, 'db-orders', 'quiet.ev', 10, CASE WHEN h > date_trunc('hour', now(), 'UTC') - interval '6 hours' THEN 0 ELSE 5 END
  FROM generate_series(date_trunc('hour', now(), 'UTC') - interval '7 days' - interval '5 hours', date_trunc('hour', now(), 'UTC'), interval '1 hour') h" \
  || die "could not write the silence fixture"
"$detector" --check-silence --db-url "$silence_url" >"$artifacts/silence-alert.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q '"event_name": "quiet.ev"' "$artifacts/silence-alert.out" \
  || { cat "$artifacts/silence-alert.out"; die "--check-silence: exit $rc, expected 1 with quiet.ev listed"; }
"$detector" --check-silence --db-url "$silence_url" --silence-fraction 2 >"$artifacts/silence-bad.out" 2>&1
[ $? = 2 ] && grep -q "silence-fraction" "$artifacts/silence-bad.out" || { cat "$artifacts/silence-bad.out"; die "--silence-fraction 2 not refused"; }
STATE_DIRECTORY="$artifacts/silence-service-state" "$detector" --port 0 --sink postgres --db-url "$silence_url" >"$artifacts/silence-service.out" 2>&1 &
silence_pid=$!
silence_port=""
for _ in $(seq 1 100); do
  silence_port=$(grep -oE '127\.0\.0\.1:[0-9]+' "$artifacts/silence-service.out" | head -1 | cut -d: -f2)
  [ -n "$silence_port" ] && break
  sleep 0.1
done
alert=$(curl -sS "http://127.0.0.1:$silence_port/alerts/silence?hours=6&fraction=0.5")
bad=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$silence_port/alerts/silence?hours=x")
kill "$silence_pid" 2>/dev/null; wait "$silence_pid" 2>/dev/null
psql "$EVENTSCOPE_TEST_DB_URL" -qc "DROP DATABASE IF EXISTS $silence_db WITH (FORCE)" >/dev/null 2>&1
python3 -c 'import json, sys; r = json.loads(sys.argv[1]); sys.exit(0 if r["status"] == "alert" and [s["event_name"] for s in r["silent"]] == ["quiet.ev"] else 1)' "$alert" \
  && [ "$bad" = 400 ] || die "GET /alerts/silence answered $alert (bad parameter: HTTP $bad)"
echo "silence: --check-silence exit 0 on an empty database, 1 listing quiet.ev; GET /alerts/silence the same; bad parameters refused"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EVENTSCOPE_CONSOLE_BROWSER_ROLE=observer node "$root/dashboard/server/dist-server/src/main.js" \
  --metadata-dir "$root/hasura-metadata" --database-url "$db_url" --port "$port" \
  --static-dir "$root/dashboard/dist" >"$artifacts/console-server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$artifacts/console-server.log"; die "console server exited"; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || die "console server not healthy"
# The same app served as admin (no browser role, no secret: the console server's dev mode), for what the
# read-only role may not read: payload values (old -> new, payload diffs) and the values detection clauses compared.
admin_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u EVENTSCOPE_CONSOLE_BROWSER_ROLE -u HASURA_GRAPHQL_ADMIN_SECRET node "$root/dashboard/server/dist-server/src/main.js" \
  --metadata-dir "$root/hasura-metadata" --database-url "$db_url" --port "$admin_port" \
  --static-dir "$root/dashboard/dist" >"$artifacts/console-server-admin.log" 2>&1 &
admin_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$admin_port/healthz" >/dev/null 2>&1 && break
  kill -0 "$admin_pid" 2>/dev/null || { cat "$artifacts/console-server-admin.log"; die "admin console server exited"; }
  sleep 0.2
done

cd "$root/dashboard" && EVENTSCOPE_E2E_URL="http://127.0.0.1:$port" EVENTSCOPE_E2E_DB_URL="$db_url" \
  EVENTSCOPE_E2E_ADMIN_URL="http://127.0.0.1:$admin_port" \
  EVENTSCOPE_ARTIFACTS_DIR="$artifacts" node e2e/run.mjs
