#!/usr/bin/env bash
# eventscope demo: one command on a fresh machine.
#   scripts/demo.sh [--no-db] [--exit] [--orders N]
# Installs missing packages, builds (Release, build/), starts a private PostgreSQL under build/demo-pg
# (127.0.0.1 only), applies the schema, runs the example detector service with its demo driver (Hasura's part:
# webhook deliveries over a loopback socket, then the follow-up events the jobs' writes cause), prints the
# report, then serves the dashboard over the demo database until Ctrl-C.
#   --no-db   no PostgreSQL: records go to build/demo-records.jsonl (also the fallback when Postgres fails)
#   --exit    exit after the report (no dashboard)
# Environment: EVENTSCOPE_BUILD_DIR (default build/), EVENTSCOPE_DEMO_KEEP_DB=1 (leave the cluster running
# on exit; its URL is in $EVENTSCOPE_BUILD_DIR/demo-pg/url; remove with scripts/pg-cluster.sh remove DIR).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${EVENTSCOPE_BUILD_DIR:-$root/build}
mkdir -p "$BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
PG_DIR=$BUILD_DIR/demo-pg
OBS_DB=hasura_event_detector_observability
APP_DB=demo_app

no_db=0; exit_after=0; orders=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-db) no_db=1 ;;
    --exit) exit_after=1 ;;
    --orders) [ $# -ge 2 ] || { echo "demo: --orders needs a number" >&2; exit 2; }; orders=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
[ -t 1 ] || step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

console_pid=""; cluster_started=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$console_pid" ] && kill -0 "$console_pid" 2>/dev/null; then
    kill "$console_pid" 2>/dev/null || true
    wait "$console_pid" 2>/dev/null || true
  fi
  if [ $cluster_started = 1 ]; then
    if [ "${EVENTSCOPE_DEMO_KEEP_DB:-0}" = 1 ]; then
      note "database kept running: $(cat "$PG_DIR/url" 2>/dev/null) (remove: scripts/pg-cluster.sh remove $PG_DIR)"
    else
      "$root/scripts/pg-cluster.sh" remove "$PG_DIR" >/dev/null 2>&1 || true
    fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'echo; exit 130' INT
trap 'exit 143' TERM

# 1. Packages.
step "dependencies"
if ! "$root/scripts/install-deps.sh" --check >/dev/null 2>&1; then
  "$root/scripts/install-deps.sh" || note "continuing; the build below says what is really missing"
else
  note "all present"
fi

# 2. Build (only what the demo runs).
step "build ($BUILD_DIR)"
build_log=$BUILD_DIR/demo-build.log
configure=(-DCMAKE_BUILD_TYPE=Release)
# An existing build tree (EVENTSCOPE_BUILD_DIR from a test run) keeps its own configuration.
[ -f "$BUILD_DIR/CMakeCache.txt" ] && configure=()
{
  cmake -S "$root" -B "$BUILD_DIR" "${configure[@]}" &&
  cmake --build "$BUILD_DIR" -j2 --target detector_service
} >"$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; die "build failed (full log: $build_log)"; }
bin=$BUILD_DIR/examples/detector_service
[ -x "$bin" ] || die "build produced no $bin (see $build_log)"
note "ok"

# 3. PostgreSQL: a private cluster, the observability schema, the application database.
obs_url=""; app_url=""
if [ $no_db = 0 ]; then
  step "database (private PostgreSQL under $PG_DIR, 127.0.0.1 only)"
  why=""
  if ! "$bin" --help | grep -q 'sinks in this build:.*postgres'; then
    why="this build has no PostgreSQL sink (libpqxx or eventscope::postgres_sink missing)"
  else
    [ -e "$PG_DIR" ] && "$root/scripts/pg-cluster.sh" remove "$PG_DIR" >/dev/null 2>&1
    if url=$("$root/scripts/pg-cluster.sh" start "$PG_DIR" 2>"$BUILD_DIR/demo-pg.log"); then
      cluster_started=1
      base=${url%/*}
      obs_url=$base/$OBS_DB; app_url=$base/$APP_DB
      if ! { psql "$url" -qX -v ON_ERROR_STOP=1 -v dbname=$OBS_DB -f "$root/sql/create-database.sql" &&
             psql "$url" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $APP_DB" &&
             psql "$obs_url" -qX -v ON_ERROR_STOP=1 -f "$root/sql/schema.sql"; } >>"$BUILD_DIR/demo-pg.log" 2>&1; then
        why="the schema could not be applied (see $BUILD_DIR/demo-pg.log)"
      fi
    else
      why="PostgreSQL could not be started: $(grep . "$BUILD_DIR/demo-pg.log" | tail -n 1 | sed 's/^pg-cluster: //')"
      "$root/scripts/pg-cluster.sh" remove "$PG_DIR" >/dev/null 2>&1 || true
    fi
  fi
  if [ -n "$why" ]; then
    note "$why"
    note "falling back to --no-db (JSON lines)"
    no_db=1
    if [ $cluster_started = 1 ]; then "$root/scripts/pg-cluster.sh" remove "$PG_DIR" >/dev/null 2>&1 || true; cluster_started=0; fi
  else
    note "$obs_url (schema event_detector_observability) + $APP_DB"
  fi
fi

# 4. The service and the driver.
report=$BUILD_DIR/demo-report.json
service_log=$BUILD_DIR/demo-service.log
records=$BUILD_DIR/demo-records.jsonl
args=(--demo --report "$report" --service-log "$service_log")
[ -n "$orders" ] && args+=(--orders "$orders")
if [ $no_db = 1 ]; then
  rm -f "$records"
  args+=(--sink jsonl --out "$records")
  step "demo (sink: JSON lines, app tables in-process)"
else
  args+=(--sink postgres --db-url "$obs_url" --app-db-url "$app_url")
  step "demo (sink: PostgreSQL, app tables in $APP_DB)"
fi
rm -f "$report"
set +e
"$bin" "${args[@]}"
demo_rc=$?
set -e
[ -f "$report" ] || { tail -n 20 "$service_log" >&2 2>/dev/null; die "the demo did not produce a report (service log: $service_log)"; }
[ $demo_rc = 0 ] || note "warning: the demo reported dropped records or failed deliveries (exit $demo_rc)"
note "job console output: $service_log"
note "report as JSON: $report"
if [ $no_db = 1 ]; then
  note "records: $records ($(wc -l <"$records") lines; e.g. jq -c 'select(.table==\"job_executions\" and .status==\"failed\")' $records)"
else
  counts=$(psql "$obs_url" -AtX -F' ' -c "SELECT (SELECT count(*) FROM event_detector_observability.invocations),
      (SELECT count(*) FROM event_detector_observability.job_executions),
      (SELECT count(*) FROM event_detector_observability.job_logs)" 2>/dev/null || echo "? ? ?")
  read -r n_inv n_jobs n_logs <<<"$counts"
  # The analytics read the dashboard_stats materialized view: bring it up to date with the run.
  psql "$obs_url" -qAtX -c "SELECT event_detector_observability.refresh_dashboard_stats()" >/dev/null 2>&1 \
    || note "warning: refresh_dashboard_stats() failed; the analytics charts will be empty"
  note "in the database: $n_inv invocations, $n_jobs job executions, $n_logs job log lines"
fi

# 5. The console (dashboard + GraphQL) over the demo database, until Ctrl-C.
[ $exit_after = 1 ] && exit $demo_rc
if [ $no_db = 1 ]; then note "dashboard: needs the database (run without --no-db)"; exit $demo_rc; fi
if [ ! -f "$root/dashboard/server/package.json" ]; then note "dashboard: dashboard/server is not in this checkout"; exit $demo_rc; fi
if ! command -v npm >/dev/null 2>&1; then note "dashboard: needs Node.js >= 20.19 and npm (apt-get install nodejs npm)"; exit $demo_rc; fi
step "console (dashboard + GraphQL)"
npm_log=$BUILD_DIR/demo-npm.log
: >"$npm_log"
for dir in "$root/dashboard" "$root/dashboard/server"; do
  [ -f "$dir/package.json" ] || continue
  if [ ! -d "$dir/node_modules" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund) >>"$npm_log" 2>&1 || { note "dashboard: npm ci failed in $dir (log: $npm_log)"; exit $demo_rc; }
  fi
  (cd "$dir" && npm run build) >>"$npm_log" 2>&1 || { note "dashboard: npm run build failed in $dir (log: $npm_log)"; exit $demo_rc; }
done
console_port=""
for p in $(shuf -i 40000-49999 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then console_port=$p; break; fi
done
[ -n "$console_port" ] || { note "dashboard: no free port"; exit $demo_rc; }
console_log=$BUILD_DIR/demo-console.log
# Run command from dashboard/server/README.md; the browser role lets the dashboard query without a secret.
(cd "$root/dashboard/server" && OBSERVABILITY_DB_URL=$obs_url HASURA_GRAPHQL_DATABASE_URL=$obs_url \
   EVENTSCOPE_CONSOLE_BROWSER_ROLE=observer exec node dist-server/src/main.js \
   --metadata-dir "$root/hasura-metadata" --database-url "$obs_url" --host 127.0.0.1 --port "$console_port") >"$console_log" 2>&1 &
console_pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$console_port") 2>/dev/null; then break; fi
  kill -0 "$console_pid" 2>/dev/null || { tail -n 15 "$console_log" >&2; note "dashboard: the console server stopped (log: $console_log)"; exit $demo_rc; }
  sleep 0.1
done
note "dashboard:  http://127.0.0.1:$console_port/"
note "GraphQL:    http://127.0.0.1:$console_port/v1/graphql"
note "Ctrl-C stops the console and removes the demo database"
wait "$console_pid" || true
