#!/usr/bin/env bash
# SQL schema, migrations and Hasura metadata tests.
#   EVENTSCOPE_TEST_DB_URL=postgresql://postgres@127.0.0.1:5432/postgres tests/sql/run.sh
# Creates (and drops) its own uniquely named database in that server, so it can run beside other suites.
# Without EVENTSCOPE_TEST_DB_URL it starts a throwaway cluster with scripts/pg-cluster.sh and removes it.
# Prints "ok - name" / "not ok - name" per check and ends with "N passed, M failed"; exits 1 on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
sql=$root/sql
work=$(mktemp -d /tmp/eventscope-sqltest.XXXXXX)
export PGOPTIONS="-c client_min_messages=warning"
cluster_dir=""
base=${EVENTSCOPE_TEST_DB_URL:-}
db_name="eventscope_sqltest_$$_$RANDOM"
db=""

cleanup() {
  if [ -n "$db" ] && [ -n "$base" ]; then
    psql "$base" -X -q -c "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  [ -n "$cluster_dir" ] && "$root/scripts/pg-cluster.sh" remove "$cluster_dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$base" ]; then
  cluster_dir=$work/cluster
  base=$("$root/scripts/pg-cluster.sh" start "$cluster_dir") || { echo "not ok - start a test cluster"; echo "0 passed, 1 failed"; exit 1; }
fi

# URL of another database on the same server: replace the path of the base URL, keep its query string.
url_for() {
  local noq=${base%%\?*} q=${base#"${base%%\?*}"}
  if [[ $noq =~ ^[a-z]+://[^/]*$ ]]; then echo "$noq/$1$q"; else echo "${noq%/*}/$1$q"; fi
}

passed=0; failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'; failed=$((failed + 1)); }

# q DB SQL: run SQL (ON_ERROR_STOP), unaligned tuples-only output.
q() { psql "$1" -X -q -At -v ON_ERROR_STOP=1 -c "$2" 2>&1; }
# expect NAME DB SQL EXPECTED: the query's output must equal EXPECTED exactly.
expect() {
  local out; out=$(q "$2" "$3"); local rc=$?
  if [ $rc -eq 0 ] && [ "$out" = "$4" ]; then ok "$1"; else not_ok "$1" "query: $3" "expected: $4" "got: $out"; fi
}
# expect_fail NAME DB SQL PATTERN: the statement must fail with an error matching PATTERN.
expect_fail() {
  local out; out=$(q "$2" "$3"); local rc=$?
  if [ $rc -ne 0 ] && grep -qE "$4" <<<"$out"; then ok "$1"; else not_ok "$1" "query: $3" "expected an error matching: $4" "got (rc $rc): $out"; fi
}
# Schema dump without the per-run \restrict keys pg_dump 15.14+ writes.
dump() { pg_dump -s "$1" ${2:+-n "$2"} | grep -vE '^\\(un)?restrict '; }

psql "$base" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db_name\"" >/dev/null || { echo "not ok - create test database"; echo "0 passed, 1 failed"; exit 1; }
db=$(url_for "$db_name")
S=event_detector_observability

# ---------------------------------------------------------------------------------------------- schema
out=$(psql "$db" -X -q -f "$sql/schema.sql" 2>&1)
tables=$(q "$db" "SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = '$S'::regnamespace AND relkind IN ('r', 'p', 'v') AND NOT relispartition")
if [ $? -eq 0 ] && [ "$tables" = "correlation_rollup:r,dashboard_stats:v,dashboard_stats_p95:r,detection_clause_rollup:r,event_executions:p,event_rollup:r,invocation_hourly:r,invocation_rollup:r,invocations:p,job_executions:p,job_logs:p,job_rollup:r,partition_settings:r,replay_decisions:r,replay_report:v,replay_runs:r,rollup_correlation_sources:v,rollup_detection_clauses:v,rollup_event_names:v,rollup_job_names:v,rollup_source_functions:v,schema_migrations:r" ]; then
  ok "schema.sql applies (4 partitioned tables, 6 rollups, dashboard_stats and its p95 cache, 5 name views, replay tables and report, schema_migrations)"
else not_ok "schema.sql applies (4 partitioned tables, 6 rollups, dashboard_stats and its p95 cache, 5 name views, replay tables and report, schema_migrations)" "$out" "$tables"; fi

if diff <("$sql/migrate.sh" print-schema) "$sql/schema.sql" >"$work/d" 2>&1; then ok "schema.sql is what migrate.sh print-schema generates from the migrations"
else not_ok "schema.sql is what migrate.sh print-schema generates from the migrations" "$(head -20 "$work/d")"; fi

expect "the database's own settings: JIT off (002), prepared statements planned for their values and no parallel workers (005)" "$db" \
  "SELECT current_setting('jit') || ' ' || current_setting('plan_cache_mode') || ' ' || current_setting('max_parallel_workers_per_gather')" "off force_custom_plan 0"

expect "columns, types, nullability and defaults of invocations" "$db" "
SELECT string_agg(column_name || ':' || data_type || ':' || is_nullable || ':' || coalesce(column_default, ''), ',' ORDER BY column_name)
FROM information_schema.columns WHERE table_schema = '$S' AND table_name = 'invocations'" \
"auto_load_modules:boolean:YES:,changed_columns:jsonb:YES:,child_names:jsonb:YES:,context_data:jsonb:YES:,correlation_id:text:YES:,correlation_source:text:NO:'generated'::text,created_at:timestamp with time zone:NO:,error_message:text:YES:,error_stack:text:YES:,error_type:text:YES:,event_modules_directory:text:YES:,events_detected_count:integer:YES:0,id:uuid:NO:$S.uuid7_now(),source_event_id:uuid:YES:,source_event_payload:jsonb:NO:'{}'::jsonb,source_event_time:timestamp with time zone:YES:,source_function:text:NO:,source_job_id:uuid:YES:,source_operation:text:YES:,source_system:text:YES:,source_table:text:YES:,source_user_email:text:YES:,source_user_role:text:YES:,status:text:NO:,total_duration_ms:integer:YES:,total_jobs_failed:integer:YES:0,total_jobs_run:integer:YES:0,total_jobs_succeeded:integer:YES:0,updated_at:timestamp with time zone:NO:now()"

expect "column sets of event_executions, job_executions, job_logs" "$db" "
SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, column_name)
FROM information_schema.columns WHERE table_schema = '$S' AND table_name IN ('event_executions', 'job_executions', 'job_logs')" \
"event_executions.correlation_id,event_executions.created_at,event_executions.detected,event_executions.detection_clause_values,event_executions.detection_clauses,event_executions.detection_duration_ms,event_executions.detection_error,event_executions.detection_error_stack,event_executions.detection_rejected_by,event_executions.event_module_path,event_executions.event_name,event_executions.handler_duration_ms,event_executions.handler_error,event_executions.handler_error_stack,event_executions.id,event_executions.invocation_id,event_executions.jobs_count,event_executions.jobs_failed,event_executions.jobs_succeeded,event_executions.source_function,event_executions.status,event_executions.updated_at,job_executions.correlation_id,job_executions.created_at,job_executions.duration_ms,job_executions.error_message,job_executions.error_stack,job_executions.error_type,job_executions.event_execution_id,job_executions.id,job_executions.invocation_id,job_executions.job_function_name,job_executions.job_name,job_executions.job_options,job_executions.result,job_executions.status,job_executions.updated_at,job_logs.correlation_id,job_logs.created_at,job_logs.data,job_logs.id,job_logs.invocation_id,job_logs.job_execution_id,job_logs.level,job_logs.logged_at,job_logs.message,job_logs.updated_at"

# 002 replaced the foreign keys by delete triggers (cascades and SET NULL as before; nothing paid on insert).
expect "no foreign keys; statement-level delete triggers instead" "$db" "
SELECT (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = '$S'::regnamespace AND conrelid <> '$S.replay_decisions'::regclass) || ':' ||
       (SELECT string_agg(tgrelid::regclass::text || '.' || tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE tgname LIKE '%_cascade_delete')" \
"0:$S.event_executions.event_executions_cascade_delete,$S.invocations.invocations_cascade_delete,$S.job_executions.job_executions_cascade_delete"

# ------------------------------------------------------------------------------------- fixtures
# Two invocations one hour apart sharing a correlation id; the second was caused by a job of the first.
fixture="
SET search_path TO $S;
INSERT INTO invocations (id, created_at, correlation_id, correlation_source, source_function, status, total_duration_ms,
                         events_detected_count, total_jobs_run, total_jobs_succeeded, total_jobs_failed)
VALUES ('00000000-0000-0000-0000-00000000000a', now() - interval '2 hours', 'user@example.com', 'updated_by', 'orders-fn', 'completed', 120, 1, 4, 3, 1);
INSERT INTO event_executions (id, created_at, invocation_id, correlation_id, event_name, detected, status, jobs_count, jobs_succeeded, jobs_failed)
VALUES ('00000000-0000-0000-0000-0000000000e1', now() - interval '2 hours', '00000000-0000-0000-0000-00000000000a', 'user@example.com', 'orders.shipped', true, 'failed', 3, 1, 2),
       ('00000000-0000-0000-0000-0000000000e2', now() - interval '2 hours', '00000000-0000-0000-0000-00000000000a', 'user@example.com', 'orders.cancelled', false, 'not_detected', 0, 0, 0);
INSERT INTO job_executions (id, created_at, invocation_id, event_execution_id, correlation_id, job_name, status, duration_ms)
VALUES ('00000000-0000-0000-0000-000000000011', now() - interval '2 hours', '00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000e1', 'user@example.com', 'send-email', 'completed', 10),
       ('00000000-0000-0000-0000-000000000012', now() - interval '2 hours', '00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000e1', 'user@example.com', 'update-stock', 'failed', 20),
       ('00000000-0000-0000-0000-000000000013', now() - interval '2 hours', '00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000e1', 'user@example.com', 'notify', 'failed', NULL);
INSERT INTO job_logs (id, created_at, job_execution_id, invocation_id, correlation_id, level, message, logged_at)
VALUES ('00000000-0000-0000-0000-0000000000f1', now() - interval '2 hours', '00000000-0000-0000-0000-000000000011', '00000000-0000-0000-0000-00000000000a', 'user@example.com', 'info', 'sent', now());
INSERT INTO invocations (id, created_at, correlation_id, correlation_source, source_function, source_job_id, status, total_duration_ms)
VALUES ('00000000-0000-0000-0000-00000000000b', now() - interval '1 hour', 'user@example.com', 'tracking_token', 'stock-fn', '00000000-0000-0000-0000-000000000012', 'completed', 30);
"
A=00000000-0000-0000-0000-00000000000a; B=00000000-0000-0000-0000-00000000000b
E1=00000000-0000-0000-0000-0000000000e1; J1=00000000-0000-0000-0000-000000000011; J2=00000000-0000-0000-0000-000000000012
out=$(psql "$db" -X -q -v ON_ERROR_STOP=1 -c "$fixture" 2>&1)
if [ $? -eq 0 ]; then ok "fixture rows insert (parents first)"; else not_ok "fixture rows insert (parents first)" "$out"; fi

# Child names on the invocation row (migration 004): the fixture's rows come from "another writer", so they carry
# none (NULL: not known) until rebuild_child_names(); a child added afterwards is reported by check_rollups(), and
# the dashboard's filter form (names where set, the child tables where NULL) finds the same rows either way.
names_filter="SELECT string_agg(id::text, ',' ORDER BY id) FROM $S.invocations i WHERE (i.child_names @> '{\"events\": [\"orders.shipped\"], \"jobs\": [\"notify\"]}'
  OR (i.child_names IS NULL AND EXISTS (SELECT 1 FROM $S.event_executions e WHERE e.invocation_id = i.id AND e.event_name = 'orders.shipped')
      AND EXISTS (SELECT 1 FROM $S.job_executions j WHERE j.invocation_id = i.id AND j.job_name = 'notify')))"
expect "child_names: NULL for other writers' rows, set by rebuild_child_names() (sorted, distinct), checked by check_rollups(), same filter result" "$db" "
BEGIN;
SET search_path TO $S;
SELECT count(*) FILTER (WHERE child_names IS NULL) FROM invocations;
$names_filter;
SELECT rebuild_child_names(), rebuild_child_names();
SELECT child_names FROM invocations WHERE id = '$A';
SELECT child_names FROM invocations WHERE id = '$B';
$names_filter;
SELECT count(*) FROM check_rollups() WHERE rollup = 'invocations';
INSERT INTO job_executions (created_at, invocation_id, event_execution_id, job_name, status) VALUES (now() - interval '2 hours', '$A', '$E1', 'added-later', 'completed');
SELECT key || ' ' || column_name FROM check_rollups() WHERE rollup = 'invocations';
SELECT rebuild_child_names(now() - interval '3 hours', now() - interval '90 minutes');
SELECT count(*) FROM check_rollups() WHERE rollup = 'invocations';
ROLLBACK;" "2
$A
2|0
{\"jobs\": [\"notify\", \"send-email\", \"update-stock\"], \"events\": [\"orders.cancelled\", \"orders.shipped\"]}
{\"jobs\": [], \"events\": []}
$A
0
$A child_names
1
0"

# ---------------------------------------------------------------------------------- constraints
expect_fail "invocations.status CHECK rejects 'done'" "$db" \
  "INSERT INTO $S.invocations (created_at, source_function, status) VALUES (now(), 'f', 'done')" "invocations_status_check"
expect_fail "event_executions.status CHECK rejects 'running'" "$db" \
  "INSERT INTO $S.event_executions (created_at, invocation_id, event_name, status) VALUES (now(), '$A', 'e', 'running')" "event_executions_status_check"
expect_fail "job_executions.status CHECK rejects 'succeeded'" "$db" \
  "INSERT INTO $S.job_executions (created_at, invocation_id, event_execution_id, job_name, status) VALUES (now(), '$A', '$E1', 'j', 'succeeded')" "job_executions_status_check"
expect "every contract status value is accepted" "$db" "
BEGIN;
INSERT INTO $S.invocations (created_at, source_function, status) SELECT now(), 'f', s FROM unnest(array['running','completed','failed']) s;
INSERT INTO $S.event_executions (created_at, invocation_id, event_name, status)
  SELECT now(), '$A', 'e', s FROM unnest(array['detecting','not_detected','handling','completed','failed','detection_failed','handler_failed']) s;
INSERT INTO $S.job_executions (created_at, invocation_id, event_execution_id, job_name, status)
  SELECT now(), '$A', '$E1', 'j', s FROM unnest(array['running','completed','failed']) s;
SELECT (SELECT count(*) FROM $S.event_executions WHERE event_name = 'e') || '/' || (SELECT count(*) FROM $S.job_executions WHERE job_name = 'j');
ROLLBACK;" "7/3"
expect "deletes cascade as 001's foreign keys did (events, jobs, logs; source_job_id set NULL)" "$db" "
BEGIN;
DELETE FROM $S.job_executions WHERE id = '$J2';
SELECT coalesce(source_job_id::text, 'NULL') FROM $S.invocations WHERE id = '$B';
DELETE FROM $S.event_executions WHERE id = '$E1';
SELECT (SELECT count(*) FROM $S.job_executions WHERE invocation_id = '$A') || '/' || (SELECT count(*) FROM $S.job_logs WHERE invocation_id = '$A');
DELETE FROM $S.invocations WHERE id = '$A';
SELECT (SELECT count(*) FROM $S.event_executions WHERE invocation_id = '$A') || '/' || (SELECT count(*) FROM $S.invocations WHERE id IN ('$A', '$B'));
ROLLBACK;" $'NULL\n0/0\n0/1'
expect_fail "created_at has no database default (the writer sets it)" "$db" \
  "INSERT INTO $S.invocations (source_function, status) VALUES ('f', 'running')" "created_at.*not-null|null value in column \"created_at\""

# ------------------------------------------------------------------------------ computed fields
expect "invocation_success_rate: 3 of 4 jobs -> 75.00; no jobs -> 100" "$db" "
SELECT $S.invocation_success_rate(i) FROM $S.invocations i WHERE id IN ('$A', '$B') ORDER BY id" $'75.00\n100'
expect "invocation_avg_job_duration: jobs of 10, 20 and NULL ms -> 15.00; no jobs -> NULL" "$db" "
SELECT coalesce($S.invocation_avg_job_duration(i)::text, 'NULL') FROM $S.invocations i WHERE id IN ('$A', '$B') ORDER BY id" $'15.00\nNULL'
expect "event_job_success_rate: 1 of 3 -> 33.33; no jobs -> 100" "$db" "
SELECT $S.event_job_success_rate(e) FROM $S.event_executions e ORDER BY id" $'33.33\n100'
expect "computed-field functions are STABLE and take the row type" "$db" "
SELECT string_agg(proname || ':' || provolatile::text || ':' || pg_get_function_identity_arguments(oid), ',' ORDER BY proname)
FROM pg_proc WHERE pronamespace = '$S'::regnamespace AND proname IN ('invocation_success_rate', 'invocation_avg_job_duration', 'event_job_success_rate')" \
"event_job_success_rate:s:ev $S.event_executions,invocation_avg_job_duration:s:inv $S.invocations,invocation_success_rate:s:inv $S.invocations"
expect "computed fields work with Hasura's search_path (public only)" "$db" "
SET search_path TO public; SELECT $S.invocation_avg_job_duration(i) FROM $S.invocations i WHERE id = '$A'" "15.00"

# ---------------------------------------------------------------------------------- updated_at
expect "updated_at trigger sets now() on UPDATE" "$db" "
BEGIN;
UPDATE $S.invocations SET updated_at = '2000-01-01' WHERE id = '$B';
SELECT updated_at = now() FROM $S.invocations WHERE id = '$B';
UPDATE $S.job_logs SET message = 'x';
SELECT (SELECT bool_and(updated_at = now()) FROM $S.job_logs) AND (SELECT updated_at < now() FROM $S.job_executions WHERE id = '$J1');
ROLLBACK;" $'t\nt'

# ------------------------------------------------------------------------------------- upsert
# The statement sql/README.md recommends to the sink: COPY into a temp staging table, then upsert.
upsert="
CREATE TEMP TABLE IF NOT EXISTS stage_jobs (LIKE $S.job_executions INCLUDING DEFAULTS);
TRUNCATE stage_jobs;
INSERT INTO stage_jobs (id, created_at, invocation_id, event_execution_id, job_name, status, duration_ms, result) VALUES %ROWS%;
INSERT INTO $S.job_executions AS t (id, created_at, invocation_id, event_execution_id, correlation_id, job_name,
  job_function_name, job_options, duration_ms, status, result, error_message, error_stack, error_type)
SELECT id, created_at, invocation_id, event_execution_id, correlation_id, job_name,
  job_function_name, job_options, duration_ms, status, result, error_message, error_stack, error_type FROM stage_jobs
ON CONFLICT (id) DO UPDATE SET duration_ms = EXCLUDED.duration_ms, status = EXCLUDED.status, result = EXCLUDED.result,
  error_message = EXCLUDED.error_message, error_stack = EXCLUDED.error_stack, error_type = EXCLUDED.error_type
WHERE t.status = 'running';"
U=00000000-0000-0000-0000-0000000000c1
run_upsert() { psql "$db" -X -q -v ON_ERROR_STOP=1 -c "${upsert//%ROWS%/$1}" 2>&1; }
out=$(run_upsert "('$U', now(), '$A', '$E1', 'upsert-job', 'running', NULL, NULL)") || not_ok "upsert writes a running row" "$out"
x1=$(q "$db" "SELECT status || ':' || xmin FROM $S.job_executions WHERE id = '$U'")
out=$(run_upsert "('$U', now(), '$A', '$E1', 'upsert-job', 'completed', 42, '{\"n\": 1}')") || not_ok "upsert completes it" "$out"
x2=$(q "$db" "SELECT status || ':' || duration_ms || ':' || result::text || ':' || (updated_at >= created_at) FROM $S.job_executions WHERE id = '$U'")
xmin2=$(q "$db" "SELECT xmin FROM $S.job_executions WHERE id = '$U'")
# a late duplicate of the running row (a retried old batch) must not undo the completion, nor write a new version
out=$(run_upsert "('$U', now(), '$A', '$E1', 'upsert-job', 'running', NULL, NULL)")
x3=$(q "$db" "SELECT status || ':' || duration_ms || ':' || xmin FROM $S.job_executions WHERE id = '$U'")
if [[ $x1 == running:* ]] && [ "$x2" = 'completed:42:{"n": 1}:true' ] && [ "$x3" = "completed:42:$xmin2" ]; then
  ok "upsert running -> completed by id; a stale running duplicate changes nothing"
else not_ok "upsert running -> completed by id; a stale running duplicate changes nothing" "$x1" "$x2" "$x3 (want completed:42:$xmin2)"; fi

# ---------------------------------------------------------------------------- seed GraphQL queries
# SQL equivalents of the seed's three example queries (what Hasura would run, minus the JSON building).
expect "seed query TraceCorrelationId: invocations -> event_executions -> job_executions" "$db" "
SELECT i.source_function, e.event_name, e.detected, coalesce(j.job_name, '-'), coalesce(j.status, '-'), coalesce(j.duration_ms::text, '-')
FROM $S.invocations i
LEFT JOIN $S.event_executions e ON e.invocation_id = i.id
LEFT JOIN $S.job_executions j ON j.event_execution_id = e.id AND j.job_name <> 'upsert-job'
WHERE i.correlation_id = 'user@example.com' AND e.event_name NOT IN ('e')
ORDER BY i.created_at, e.event_name, j.job_name" \
$'orders-fn|orders.cancelled|f|-|-|-\norders-fn|orders.shipped|t|notify|failed|-\norders-fn|orders.shipped|t|send-email|completed|10\norders-fn|orders.shipped|t|update-stock|failed|20'
expect "seed query RecentInvocations: newest first with nested events and jobs" "$db" "
SELECT i.source_function || ':' || i.events_detected_count || ':' ||
       coalesce((SELECT string_agg(e.event_name || '[' || coalesce((SELECT string_agg(j.job_name, ' ' ORDER BY j.job_name)
                 FROM $S.job_executions j WHERE j.event_execution_id = e.id AND j.job_name <> 'upsert-job'), '') || ']', ' ' ORDER BY e.event_name)
                 FROM $S.event_executions e WHERE e.invocation_id = i.id), '')
FROM (SELECT * FROM $S.invocations ORDER BY created_at DESC LIMIT 10) i ORDER BY i.created_at DESC" \
$'stock-fn:0:\norders-fn:1:orders.cancelled[] orders.shipped[notify send-email update-stock]'
expect "chains: triggered_invocations / source_job_execution / correlated_invocations joins" "$db" "
SELECT (SELECT string_agg(t.source_function, ',') FROM $S.invocations t WHERE t.source_job_id = '$J2') || ';' ||
       (SELECT j.job_name FROM $S.invocations i JOIN $S.job_executions j ON j.id = i.source_job_id WHERE i.id = '$B') || ';' ||
       (SELECT count(*) FROM $S.invocations c WHERE c.correlation_id = (SELECT correlation_id FROM $S.invocations WHERE id = '$A'))" \
"stock-fn;update-stock;2"

# ---------------------------------------------------------------------------------- dashboard_stats
# hour H-3: fn-a with durations 1..20 (p95 = 19.05), 15 completed 5 failed; fn-b one running row. hour H-5: fn-a 1 row.
stats_rows="
INSERT INTO $S.invocations (created_at, source_function, status, total_duration_ms, events_detected_count, total_jobs_run, total_jobs_succeeded)
SELECT date_trunc('hour', now(), 'UTC') - interval '3 hours' + g * interval '1 minute', 'fn-a', CASE WHEN g <= 15 THEN 'completed' ELSE 'failed' END, g, 1, 2, 1
FROM generate_series(1, 20) g;
INSERT INTO $S.invocations (created_at, source_function, status, total_duration_ms) VALUES
  (date_trunc('hour', now(), 'UTC') - interval '3 hours', 'fn-b', 'running', NULL),
  (date_trunc('hour', now(), 'UTC') - interval '5 hours' + interval '59 minutes', 'fn-a', 'completed', 7);"
out=$(q "$db" "$stats_rows")
stats_q="SELECT hour_bucket = date_trunc('hour', now(), 'UTC') - interval '3 hours', source_function, total_invocations, successful_invocations,
  failed_invocations, total_events_detected, total_jobs_run, total_jobs_succeeded, avg_duration_ms, min_duration_ms, max_duration_ms, p95_duration_ms
FROM $S.dashboard_stats WHERE source_function IN ('fn-a', 'fn-b') ORDER BY hour_bucket, source_function"
# No refresh: hand-inserted rows are in at once. fn-b's running row counts in total_invocations only (as in
# 001). p95 comes from the histogram: 18.09 where percentile_cont says 19.05, 7.47 for a single 7 (both within 8.65 %).
expect "dashboard_stats is fresh without a refresh; per-hour aggregates as 001 (running rows in the total only); p95 from the histogram" "$db" "$stats_q" \
$'f|fn-a|1|1|0|0|0|0|7.00|7|7|7.47\nt|fn-a|20|15|5|20|40|20|10.50|1|20|18.09\nt|fn-b|1|0|0|0|0|0||||'
expect "dashboard_stats p95 is within 8.65 % of percentile_cont on the same rows" "$db" "
SELECT bool_and(abs(d.p95_duration_ms - r.p) <= 0.0865 * r.p) FROM $S.dashboard_stats d
JOIN (SELECT date_trunc('hour', created_at, 'UTC') h, source_function, percentile_cont(0.95) WITHIN GROUP (ORDER BY total_duration_ms)::numeric p
      FROM $S.invocations WHERE status <> 'running' GROUP BY 1, 2) r ON r.h = d.hour_bucket AND r.source_function = d.source_function
WHERE d.source_function LIKE 'fn-%'" "t"
q "$db" "UPDATE $S.invocations SET status = 'completed', total_duration_ms = 100 WHERE source_function = 'fn-b' AND status = 'running'" >/dev/null
expect "a running row that completes (UPDATE) moves from running to completed: counted once" "$db" "
SELECT total_invocations || ':' || successful_invocations || ':' || max_duration_ms FROM $S.dashboard_stats WHERE source_function = 'fn-b'" "1:1:100"

# ------------------------------------------------------------------------------------- rollups
expect "rollups equal the raw rows (check_rollups() is empty) after inserts, completions and the fixture" "$db" "
SELECT count(*) FROM $S.check_rollups()" "0"
expect "rollups stay equal to the raw rows after other writers change and delete final rows" "$db" "
BEGIN;
UPDATE $S.invocations SET total_duration_ms = total_duration_ms * 3, status = 'failed' WHERE source_function = 'fn-a' AND total_duration_ms % 3 = 0;
UPDATE $S.job_executions SET duration_ms = 999, job_name = 'renamed' WHERE job_name = 'send-email';
DELETE FROM $S.invocations WHERE source_function = 'fn-a' AND total_duration_ms % 4 = 0;
SELECT count(*) FROM $S.check_rollups();
SELECT sum(failed_invocations) FROM $S.dashboard_stats WHERE source_function = 'fn-a';
ROLLBACK;" $'0\n7'
expect "check_rollups() reports a difference; rebuild_rollups() for the range repairs it" "$db" "
BEGIN;
UPDATE $S.invocation_rollup SET completed = completed + 5 WHERE source_function = 'fn-a';
DELETE FROM $S.job_rollup WHERE job_name = 'update-stock';
SELECT string_agg(DISTINCT rollup || '.' || column_name, ',') FROM $S.check_rollups();
SELECT $S.rebuild_rollups(now() - interval '6 hours', now()) > 0;
SELECT count(*) FROM $S.check_rollups();
ROLLBACK;" $'invocation_rollup.completed,job_rollup.completed,job_rollup.duration_count,job_rollup.duration_hist,job_rollup.duration_max,job_rollup.duration_min,job_rollup.duration_sum,job_rollup.failed,job_rollup.jobs\nt\n0'
expect "refresh_dashboard_stats() (kept for 001's callers) rebuilds every rollup from the raw rows" "$db" "
BEGIN;
DELETE FROM $S.invocation_rollup;
SELECT $S.refresh_dashboard_stats();
SELECT count(*) FROM $S.check_rollups();
ROLLBACK;" $'\n0'
expect "duration_bucket(ms) = 1 + ceil(4 log2 ms) exactly for 1..200000 (the smallest b with ms <= 2^((b-1)/4))" "$db" "
SELECT count(*) FROM generate_series(1, 200000) ms
WHERE NOT (ms <= 2::numeric ^ (($S.duration_bucket(ms) - 1) / 4.0) AND ms > 2::numeric ^ (($S.duration_bucket(ms) - 2) / 4.0))" "0"
expect "a bucket's value is within 8.65 % of every duration in it (1..200000 ms; exact below 5 ms)" "$db" "
SELECT max(abs($S.duration_bucket_value($S.duration_bucket(ms)) - ms) / ms) <= 0.0865,
       bool_and($S.duration_bucket_value($S.duration_bucket(ms)) = ms) FILTER (WHERE ms < 5)
FROM generate_series(1, 200000) ms" "t|t"
expect "hist_quantile(p50/p95/p99) is within 8.65 % of percentile_cont on 300 random samples" "$db" "
WITH s AS (SELECT g, (exp(random() * 12))::int AS ms FROM generate_series(1, 300) g, generate_series(1, 50 + (g % 7) * 40)),
h AS (SELECT g, $S.hist_from(array_agg(b), array_agg(n)) AS hist FROM (SELECT g, $S.duration_bucket(ms) b, count(*) n FROM s GROUP BY 1, 2) x GROUP BY g),
e AS (SELECT s.g, q, percentile_cont(q) WITHIN GROUP (ORDER BY ms) AS exact FROM s, unnest(ARRAY[0.5, 0.95, 0.99]) q GROUP BY s.g, q)
SELECT max(abs($S.hist_quantile(h.hist, e.q) - e.exact::numeric) / e.exact::numeric) <= 0.0865 FROM e JOIN h USING (g)" "t"
expect "007: hist_quantile (no SET clause; walks from the nearer end) equals percentile_cont's rule over bucket values on 300 random histograms, q from -0.5 to 1.5 and NULL" "$db" "
WITH hs AS (SELECT g, h FROM (SELECT g, array_agg(CASE WHEN random() < 0.3 THEN 0 ELSE (random() * 20)::int END ORDER BY k) AS h
                              FROM generate_series(1, 300) g, generate_series(1, 5 + g % 40) k GROUP BY g) x
            WHERE (SELECT sum(c) FROM unnest(h) c) > 0),
qs AS (SELECT unnest(ARRAY[-0.5, 0, 0.01, 0.25, 0.49, 0.5, 0.75, 0.95, 0.99, 1, 1.5, NULL]::float8[]) AS q),
cum AS (SELECT g, i, sum(c) OVER (PARTITION BY g ORDER BY i) AS cum, sum(c) OVER (PARTITION BY g) AS n FROM hs, unnest(h) WITH ORDINALITY u(c, i)),
pos AS (SELECT g, q, q * (max(n) - 1) AS pos FROM cum, qs GROUP BY g, q),
expected AS (SELECT g, q, round((lo + (pos - floor(pos)) * (hi - lo))::numeric, 2) AS v
             FROM pos, LATERAL (SELECT $S.duration_bucket_value(min(i) FILTER (WHERE cum > floor(pos))::int - 1) AS lo,
                                       $S.duration_bucket_value(min(i) FILTER (WHERE cum > ceil(pos))::int - 1) AS hi
                                FROM cum WHERE cum.g = pos.g) b)
SELECT count(*) FILTER (WHERE $S.hist_quantile(h, q) IS DISTINCT FROM v), count(*) FILTER (WHERE v IS NULL) > 0,
       (SELECT proconfig IS NULL FROM pg_proc WHERE oid = '$S.hist_quantile(integer[], float8)'::regprocedure)
FROM expected JOIN hs USING (g)" "0|t|t"

# 012: hist_add() and hist_from() in PL/pgSQL give exactly what 002's SQL definitions gave (written out here as the
# reference), on random histograms of different lengths and on every edge: NULL and empty inputs, NULL elements and
# counts, NULL and negative buckets, repeated buckets, counts longer or shorter than the buckets.
expect "012: hist_add()/hist_from() (PL/pgSQL) equal 002's SQL definitions on 2,000 random pairs and every edge case" "$db" "
CREATE FUNCTION pg_temp.ref_add(a integer[], b integer[]) RETURNS integer[] LANGUAGE sql IMMUTABLE
RETURN CASE WHEN a IS NULL OR cardinality(a) = 0 THEN b WHEN b IS NULL OR cardinality(b) = 0 THEN a ELSE
  (SELECT array_agg(COALESCE(a[i], 0) + COALESCE(b[i], 0) ORDER BY i)
   FROM generate_series(1, greatest(cardinality(a), cardinality(b))) i) END;
CREATE FUNCTION pg_temp.ref_from(buckets integer[], counts bigint[]) RETURNS integer[] LANGUAGE sql IMMUTABLE
RETURN CASE WHEN buckets IS NULL OR cardinality(buckets) = 0 THEN '{}'::integer[] ELSE
  (SELECT array_agg(COALESCE(c.n, 0)::integer ORDER BY i)
   FROM generate_series(1, (SELECT max(b) FROM unnest(buckets) b) + 1) i
   LEFT JOIN (SELECT b, sum(n) AS n FROM unnest(buckets, counts) u(b, n) GROUP BY b) c ON c.b + 1 = i) END;
WITH r AS (SELECT g, array_agg((random() * 60)::int - CASE WHEN g % 10 = 0 THEN 3 ELSE 0 END) AS b,
                  array_agg(CASE WHEN g % 13 = 0 AND k = 2 THEN NULL ELSE (random() * 1000)::bigint END) AS c,
                  array_agg(CASE WHEN g % 17 = 0 AND k = 1 THEN NULL ELSE (random() * 500)::int END) AS h
           FROM generate_series(1, 2000) g, generate_series(1, 1 + g % 25) k GROUP BY g),
pairs AS (SELECT r1.b AS b, r1.c AS c, r1.h AS a, r2.h AS h FROM r r1 JOIN r r2 ON r2.g = r1.g % 2000 + 1),
edges(b, c, a, h) AS (VALUES (NULL::int[], NULL::bigint[], NULL::int[], NULL::int[]), ('{}', '{}', '{}', '{}'),
  ('{NULL,NULL}', '{1,2}', '{}', NULL), ('{-1,-5}', '{1,2}', NULL, '{}'), ('{3,NULL,3,0}', '{1,2,3,4}', '{1,NULL,3}', '{1}'),
  ('{2,2,2}', '{1,NULL,5}', '{1}', '{1,NULL,3,NULL}'), ('{0,4}', '{7}', '{0}', '{0,0}'), ('{1}', '{1,2,3}', '{5,6}', '{}'))
SELECT count(*) FILTER (WHERE $S.hist_from(b, c) IS DISTINCT FROM pg_temp.ref_from(b, c)),
       count(*) FILTER (WHERE $S.hist_add(a, h) IS DISTINCT FROM pg_temp.ref_add(a, h)),
       count(*) FILTER (WHERE $S.hist_add(h, a) IS DISTINCT FROM pg_temp.ref_add(h, a)),
       count(*)
FROM (SELECT * FROM pairs UNION ALL SELECT * FROM edges) x" "0|0|0|2008"
expect "008: an ended hour's p95 comes from the cache while its histogram is unchanged (create_partitions() fills it), is computed again after a late row, never cached for the current hour" "$db" "
BEGIN;
INSERT INTO $S.invocations (created_at, source_function, status, total_duration_ms)
SELECT date_trunc('hour', now(), 'UTC') - interval '2 hours' + g * interval '1 second', 'fn-008', 'completed', g * 10 FROM generate_series(1, 40) g;
INSERT INTO $S.invocations (created_at, source_function, status, total_duration_ms) VALUES (now(), 'fn-008', 'completed', 7);
SELECT $S.create_partitions() >= 0;
SELECT count(*) FROM $S.dashboard_stats_p95 WHERE source_function = 'fn-008';
UPDATE $S.dashboard_stats_p95 SET p95_duration_ms = -1 WHERE source_function = 'fn-008';
SELECT p95_duration_ms FROM $S.dashboard_stats WHERE source_function = 'fn-008' ORDER BY hour_bucket;
INSERT INTO $S.invocations (created_at, source_function, status, total_duration_ms)
VALUES (date_trunc('hour', now(), 'UTC') - interval '90 minutes', 'fn-008', 'completed', 5000);
SELECT bool_and(d.p95_duration_ms = $S.hist_quantile(r.duration_hist, 0.95)) FROM $S.dashboard_stats d
JOIN $S.invocation_rollup r USING (hour_bucket, source_function) WHERE source_function = 'fn-008';
SELECT $S.cache_hour_quantiles() > 0;
SELECT count(*) FROM $S.dashboard_stats d JOIN $S.invocation_rollup r USING (hour_bucket, source_function)
WHERE d.p95_duration_ms IS DISTINCT FROM $S.hist_quantile(r.duration_hist, 0.95);
SELECT count(*) FROM $S.dashboard_stats_p95 WHERE hour_bucket >= date_trunc('hour', now(), 'UTC');
ROLLBACK;" $'t\n1\n-1\n'"$(q "$db" "SELECT round($S.duration_bucket_value($S.duration_bucket(7))::numeric, 2)")"$'\nt\nt\n0\n0'

expect "009: utc_hour() is date_trunc('hour', ts, 'UTC') for every timestamp (1900-2100 every 7 min 13.123457 s, BC, +-infinity); no rollup statement computes a row's hour with date_trunc any more; rows inserted at hour edges land in their hours exactly" "$db" "
SELECT count(*) FILTER (WHERE $S.utc_hour(g) IS DISTINCT FROM date_trunc('hour', g, 'UTC'))
FROM (SELECT generate_series(timestamptz '1900-01-01', timestamptz '2100-01-01', interval '7 min 13.123457 s') g
      UNION ALL VALUES (timestamptz 'infinity'), (timestamptz '-infinity'), (timestamptz '0044-03-15 12:34:56.789 BC')) x;
SELECT count(*) FROM pg_proc WHERE pronamespace = '$S'::regnamespace AND prosrc LIKE '%date_trunc(''hour'', r.created_at%';
SELECT count(*) FROM pg_proc WHERE pronamespace = '$S'::regnamespace AND prosrc LIKE '%utc_hour(r.created_at)%' AND proname LIKE 'rollup\_%\_insert';
BEGIN;
INSERT INTO $S.job_executions (created_at, invocation_id, event_execution_id, job_name, status, duration_ms)
SELECT date_trunc('hour', now(), 'UTC') - interval '3 hours' + e, gen_random_uuid(), gen_random_uuid(), 'job-009', 'completed', 10
FROM unnest(ARRAY[interval '0', interval '59 min 59.999999 s', interval '1 hour', interval '-1 microsecond']) e;
SELECT string_agg(jobs::text, ',' ORDER BY hour_bucket) FROM $S.job_rollup WHERE job_name = 'job-009';
SELECT count(*) FROM $S.check_rollups();
ROLLBACK;" $'0\n0\n3\n1,2,1\n0'

expect "seed query PerformanceAnalytics: dashboard_stats over a time range, hour ascending" "$db" "
SELECT source_function || ':' || total_invocations || ':' || avg_duration_ms || ':' || successful_invocations || ':' || failed_invocations
FROM $S.dashboard_stats WHERE hour_bucket >= now() - interval '4 hours' AND source_function LIKE 'fn-%' ORDER BY hour_bucket, source_function" \
$'fn-a:20:10.50:15:5\nfn-b:1:100.00:1:0'

# ------------------------------------------------------------------------------------- coverage
cov="INSERT INTO $S.invocations (created_at, source_function, status, correlation_id, correlation_source) VALUES
 (now() - interval '1 hour', 'cov', 'completed', 'a@x', 'explicit'),
 (now() - interval '1 hour', 'cov', 'completed', 'b@x', 'updated_by'),
 (now() - interval '1 hour', 'cov', 'completed', 'svc.123', 'generated'),
 (now() - interval '1 hour', 'cov', 'completed', NULL, 'generated'),
 (now() - interval '2 days', 'cov', 'completed', 'c@x', 'explicit');"
expect "correlation_coverage() counts generated ids as not covered" "$db" "
BEGIN; DELETE FROM $S.invocations; $cov
SELECT total_invocations || ':' || with_correlation_id || ':' || covered_invocations || ':' || coverage_percent FROM $S.correlation_coverage();
SELECT covered_invocations FROM $S.correlation_coverage(interval '3 days');
SELECT coalesce(coverage_percent::text, 'NULL') FROM $S.correlation_coverage(interval '1 minute');
ROLLBACK;" $'4:3:2:50.00\n3\nNULL'

# ------------------------------------------------------------------------------------- retention
# Old tree (40 days) with a job that caused a recent invocation; a recent tree (1 day).
ret="
SET search_path TO $S;
DELETE FROM invocations;
INSERT INTO invocations (id, created_at, source_function, status)
  SELECT ('00000000-0000-0000-0000-0000000001' || lpad(g::text, 2, '0'))::uuid, now() - interval '40 days' + g * interval '1 minute', 'old', 'completed' FROM generate_series(1, 3) g;
INSERT INTO event_executions (id, created_at, invocation_id, event_name, status)
  SELECT ('00000000-0000-0000-0000-0000000002' || lpad(g::text, 2, '0'))::uuid, now() - interval '40 days', ('00000000-0000-0000-0000-0000000001' || lpad(g::text, 2, '0'))::uuid, 'ev', 'completed' FROM generate_series(1, 3) g;
INSERT INTO job_executions (id, created_at, invocation_id, event_execution_id, job_name, status)
  SELECT ('00000000-0000-0000-0000-0000000003' || lpad(g::text, 2, '0'))::uuid, now() - interval '40 days', ('00000000-0000-0000-0000-0000000001' || lpad((1 + g % 3)::text, 2, '0'))::uuid,
         ('00000000-0000-0000-0000-0000000002' || lpad((1 + g % 3)::text, 2, '0'))::uuid, 'job', 'completed' FROM generate_series(1, 6) g;
INSERT INTO job_logs (created_at, job_execution_id, message)
  SELECT now() - interval '40 days', ('00000000-0000-0000-0000-0000000003' || lpad(g::text, 2, '0'))::uuid, 'line' FROM generate_series(1, 6) g, generate_series(1, 2);
INSERT INTO invocations (id, created_at, source_function, status, source_job_id)
  VALUES ('00000000-0000-0000-0000-000000000401', now() - interval '1 day', 'new', 'completed', '00000000-0000-0000-0000-000000000301');
INSERT INTO event_executions (id, created_at, invocation_id, event_name, status)
  VALUES ('00000000-0000-0000-0000-000000000402', now() - interval '1 day', '00000000-0000-0000-0000-000000000401', 'ev', 'completed');
INSERT INTO job_executions (id, created_at, invocation_id, event_execution_id, job_name, status)
  VALUES ('00000000-0000-0000-0000-000000000403', now() - interval '1 day', '00000000-0000-0000-0000-000000000401', '00000000-0000-0000-0000-000000000402', 'job', 'completed');
INSERT INTO job_logs (created_at, job_execution_id, message) VALUES (now() - interval '1 day', '00000000-0000-0000-0000-000000000403', 'line');"
counts="SELECT (SELECT count(*) FROM $S.invocations) || '/' || (SELECT count(*) FROM $S.event_executions) || '/' || (SELECT count(*) FROM $S.job_executions) || '/' || (SELECT count(*) FROM $S.job_logs)"
expect "retention: delete_observability_data_older_than(30, 2) deletes old trees in batches, returns counts" "$db" "
$ret
SELECT concat_ws(',', invocations_deleted, event_executions_deleted, job_executions_deleted, job_logs_deleted) FROM delete_observability_data_older_than(30, 2);
SELECT concat_ws(',', invocations_deleted, event_executions_deleted, job_executions_deleted, job_logs_deleted) FROM delete_observability_data_older_than(30, 2);
SELECT concat_ws(',', invocations_deleted, event_executions_deleted, job_executions_deleted, job_logs_deleted) FROM delete_observability_data_older_than(30, 2);
$counts;
SELECT coalesce(source_job_id::text, 'NULL') FROM invocations WHERE id = '00000000-0000-0000-0000-000000000401';" \
$'2,2,4,8\n1,1,2,4\n0,0,0,0\n1/1/1/1\nNULL'
expect "retention: the seed's plain DELETE cascades through all child tables" "$db" "
$ret
DELETE FROM invocations WHERE created_at < now() - interval '30 days';
$counts" "1/1/1/1"
out=$(psql "$db" -X -q -v ON_ERROR_STOP=1 -c "$ret" -c "SET client_min_messages = notice" -c "CALL $S.purge_observability_data(30, 1)" -c "$counts" -At 2>&1)
if [ "$(tail -1 <<<"$out")" = "1/1/1/1" ] && grep -q "3 invocations deleted so far" <<<"$out"; then
  ok "retention: CALL purge_observability_data(30, 1) commits batch by batch until done"
else not_ok "retention: CALL purge_observability_data(30, 1) commits batch by batch until done" "$out"; fi

# ------------------------------------------------------------------------------------- migrations
mdb_name="${db_name}_m"
psql "$base" -X -q -c "CREATE DATABASE \"$mdb_name\"" >/dev/null
mdb=$(url_for "$mdb_name")
st0=$("$sql/migrate.sh" --db-url "$mdb" status 2>&1)
up1=$("$sql/migrate.sh" --db-url "$mdb" up 2>&1); up1_rc=$?
st1=$("$sql/migrate.sh" --db-url "$mdb" status 2>&1)
if grep -q '^  pending  001_initial$' <<<"$st0" && grep -q '^  pending  002_scale$' <<<"$st0" \
   && grep -q '^  pending  003_detection$' <<<"$st0" && grep -q '^  pending  014_sink_job_rollups$' <<<"$st0" && grep -q 'current version: none (0 applied, 14 pending)' <<<"$st0" \
   && grep -qE '^  applied  001_initial  [0-9]{4}-' <<<"$st1" && grep -qE '^  applied  002_scale  [0-9]{4}-' <<<"$st1" \
   && grep -qE '^  applied  014_sink_job_rollups  [0-9]{4}-' <<<"$st1" && grep -q 'current version: 014 (14 applied, 0 pending)' <<<"$st1" \
   && [ $up1_rc -eq 0 ] && grep -q 'migrate: up 001_initial done' <<<"$up1" && grep -q 'migrate: up 002_scale done' <<<"$up1"; then
  ok "migrate.sh up and status output (pending -> applied, current version)"
else not_ok "migrate.sh up and status output (pending -> applied, current version)" "$st0" "$up1" "$st1"; fi

dump "$mdb" > "$work/up1.sql"; dump "$db" "$S" > "$work/schema.sql.dump"
# The test db got data and extra rows only; its schema objects are exactly schema.sql's.
if diff "$work/up1.sql" "$work/schema.sql.dump" >"$work/d"; then ok "pg_dump -s: schema.sql == all up migrations"
else not_ok "pg_dump -s: schema.sql == all up migrations" "$(head -30 "$work/d")"; fi

down=$("$sql/migrate.sh" --db-url "$mdb" down 14 2>&1)
left=$(q "$mdb" "SELECT count(*) FROM pg_class WHERE relnamespace = '$S'::regnamespace AND relname <> 'schema_migrations' AND relname <> 'schema_migrations_pkey'")
"$sql/migrate.sh" --db-url "$mdb" up >/dev/null 2>&1
dump "$mdb" > "$work/up2.sql"
if [ "$left" = 0 ] && grep -q 'migrate: down 014_sink_job_rollups done' <<<"$down" && grep -q 'migrate: down 013_partition_copy done' <<<"$down" && grep -q 'migrate: down 012_histogram_functions done' <<<"$down" && grep -q 'migrate: down 011_slow_job_index done' <<<"$down" && grep -q 'migrate: down 010_failed_sorted_lists done' <<<"$down" && grep -q 'migrate: down 009_rollup_hours done' <<<"$down" && grep -q 'migrate: down 008_hour_quantile_cache done' <<<"$down" && grep -q 'migrate: down 007_quantile_reads done' <<<"$down" && grep -q 'migrate: down 006_window_reads done' <<<"$down" && grep -q 'migrate: down 005_read_plans done' <<<"$down" && grep -q 'migrate: down 004_child_names done' <<<"$down" && grep -q 'migrate: down 003_detection done' <<<"$down" && grep -q 'migrate: down 002_scale done' <<<"$down" \
   && grep -q 'migrate: down 001_initial done' <<<"$down" \
   && diff -q "$work/up1.sql" "$work/up2.sql" >/dev/null; then
  ok "migrate.sh up, down, up: down removes everything, the schema dumps before and after are identical"
else not_ok "migrate.sh up, down, up: down removes everything, the schema dumps before and after are identical" "$down" "objects left: $left" "$(diff "$work/up1.sql" "$work/up2.sql" | head)"; fi

again=$("$sql/migrate.sh" --db-url "$mdb" up 2>&1)
bad=$("$sql/migrate.sh" --db-url "$mdb" --schema 'Bad-Name' status 2>&1); bad_rc=$?
nourl=$("$sql/migrate.sh" up 2>&1); nourl_rc=$?
if grep -q '(0 applied now)' <<<"$again" && [ $bad_rc -ne 0 ] && grep -q 'must match' <<<"$bad" && [ $nourl_rc -ne 0 ] && grep -q -- '--db-url URL is required' <<<"$nourl"; then
  ok "migrate.sh: up is idempotent; bad schema name and missing URL are clear errors"
else not_ok "migrate.sh: up is idempotent; bad schema name and missing URL are clear errors" "$again" "$bad" "$nourl"; fi

# a failing migration rolls back completely and is not recorded
mig=$work/migs; mkdir -p "$mig"; cp "$sql"/migrations/* "$mig/"
printf 'CREATE TABLE half_done (x int);\nSELECT 1/0;\n' > "$mig/999_broken.up.sql"; echo 'DROP TABLE half_done;' > "$mig/999_broken.down.sql"
brk=$(EVENTSCOPE_MIGRATIONS_DIR=$mig "$sql/migrate.sh" --db-url "$mdb" up 2>&1); brk_rc=$?
brk_st=$(EVENTSCOPE_MIGRATIONS_DIR=$mig "$sql/migrate.sh" --db-url "$mdb" status 2>&1)
if [ $brk_rc -ne 0 ] && grep -q 'division by zero' <<<"$brk" && grep -q '999_broken.up.sql failed' <<<"$brk" \
   && [ "$(q "$mdb" "SELECT to_regclass('$S.half_done') IS NULL")" = t ] && grep -q '^  pending  999_broken$' <<<"$brk_st"; then
  ok "migrate.sh: a failing migration is rolled back, reported and stays pending"
else not_ok "migrate.sh: a failing migration is rolled back, reported and stays pending" "$brk" "$brk_st"; fi

# ------------------------------------------------------------------------------ non-default schema
alt_out=$( { psql "$mdb" -X -q -v ON_ERROR_STOP=1 -v schema=obs_alt -f "$sql/schema.sql" \
  && "$sql/migrate.sh" --db-url "$mdb" --schema obs_alt2 up; } 2>&1)
alt=$(q "$mdb" "
INSERT INTO obs_alt.invocations (id, created_at, source_function, status, total_jobs_run, total_jobs_succeeded)
  VALUES ('00000000-0000-0000-0000-000000000999', now() - interval '50 days', 'alt', 'completed', 2, 1);
INSERT INTO obs_alt2.invocations (created_at, source_function, status) VALUES (now(), 'alt2', 'completed');
SET search_path TO public;
SELECT obs_alt.refresh_dashboard_stats(); SELECT obs_alt2.refresh_dashboard_stats();
SELECT (SELECT obs_alt.invocation_success_rate(i) FROM obs_alt.invocations i) || ':' ||
       (SELECT count(*) FROM obs_alt.dashboard_stats) || ':' || (SELECT count(*) FROM obs_alt2.dashboard_stats) || ':' ||
       (SELECT count(*) FROM $S.invocations) || ':' || (SELECT invocations_deleted FROM obs_alt.delete_observability_data_older_than(30));")
purge=$(psql "$mdb" -X -q -At -v ON_ERROR_STOP=1 -c "INSERT INTO obs_alt2.invocations (created_at, source_function, status) VALUES (now() - interval '60 days', 'x', 'completed')" \
  -c "SET search_path TO public" -c "CALL obs_alt2.purge_observability_data(30)" -c "SELECT count(*) FROM obs_alt2.invocations" 2>&1)
alt_st=$("$sql/migrate.sh" --db-url "$mdb" --schema obs_alt status 2>&1)
if [ "$alt" = $'\n\n50.00:1:1:0:1' ] && [ "$(tail -1 <<<"$purge")" = 1 ] && grep -q 'current version: 014' <<<"$alt_st"; then
  ok "a non-default schema name works (schema.sql -v schema=, migrate.sh --schema; functions bound to their own schema)"
else not_ok "a non-default schema name works (schema.sql -v schema=, migrate.sh --schema; functions bound to their own schema)" "$alt_out" "$alt" "$purge" "$alt_st"; fi
expect "011: without jobs in the last 7 days no range partition of job_executions has a slow-jobs index yet (the default partition has one, of every duration, and the index over every job is gone); the first create_partitions() after jobs arrive gives every range partition one" "$mdb" "
SET search_path TO $S;
SELECT count(*) FROM partition_ranges('job_executions') r WHERE to_regclass(r.partition::text || '_slow') IS NOT NULL;
SELECT (SELECT indpred IS NULL FROM pg_index WHERE indexrelid = 'job_executions_default_slow'::regclass) || ':' || (to_regclass('job_executions_duration_ms_idx') IS NULL);
INSERT INTO invocations (id, created_at, source_function, status) VALUES ('00000000-0000-0000-0000-000000011001', now(), 'fn-011', 'completed');
INSERT INTO event_executions (id, created_at, invocation_id, event_name, status) VALUES ('00000000-0000-0000-0000-000000011002', now(), '00000000-0000-0000-0000-000000011001', 'ev', 'completed');
INSERT INTO job_executions (created_at, invocation_id, event_execution_id, job_name, status, duration_ms)
SELECT now(), '00000000-0000-0000-0000-000000011001', '00000000-0000-0000-0000-000000011002', 'job', 'completed', g FROM generate_series(1, 100) g;
SELECT create_partitions() >= 0;
SELECT count(*) = (SELECT count(*) FROM partition_ranges('job_executions'))
       AND bool_and(pg_get_expr(i.indpred, i.indrelid) ~ '^\(duration_ms >= [1-9][0-9]*\)$')
FROM partition_ranges('job_executions') r JOIN pg_index i ON i.indexrelid = to_regclass(r.partition::text || '_slow')" $'0\ntrue:true\nt\nt'
psql "$base" -X -q -c "DROP DATABASE IF EXISTS \"$mdb_name\" WITH (FORCE)" >/dev/null 2>&1

# ------------------------------------------------------------------------- migration of a filled database
# A database at 001 (the previous schema.sql) with 10 days of data written as 001 allowed (UUIDv7 ids, some
# running rows, a few hand-inserted rows with random ids): up keeps every row, back-fills the rollups exactly and
# gives dashboard_stats the figures 001's materialized view had; down restores 001 (foreign keys included) with
# every row; up again.
fdb_name="${db_name}_f"
psql "$base" -X -q -c "CREATE DATABASE \"$fdb_name\"" >/dev/null
fdb=$(url_for "$fdb_name")
only001=$work/only001; mkdir -p "$only001"; cp "$sql"/migrations/001_* "$only001/"
EVENTSCOPE_MIGRATIONS_DIR=$only001 "$sql/migrate.sh" --db-url "$fdb" up >/dev/null 2>&1
fill="
SET search_path TO $S;
CREATE FUNCTION pg_temp.u7(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS \$\$
  SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
          || '8' || substr(md5(random()::text), 1, 15))::uuid \$\$;
CREATE TEMP TABLE g AS SELECT g, now() - (g % 240) * interval '1 hour' - (g % 53) * interval '1 minute' AS t FROM generate_series(1, 600) g;
ALTER TABLE g ADD COLUMN id uuid, ADD COLUMN e uuid;
UPDATE g SET id = pg_temp.u7(t), e = pg_temp.u7(t);
INSERT INTO invocations (id, created_at, source_function, status, total_duration_ms, correlation_id, correlation_source, total_jobs_run, total_jobs_succeeded, events_detected_count)
SELECT id, t, 'fn-' || g % 4, CASE WHEN g % 29 = 0 THEN 'running' WHEN g % 9 = 0 THEN 'failed' ELSE 'completed' END,
       CASE WHEN g % 29 = 0 THEN NULL ELSE (g * 37) % 900 + 1 END, 'c' || g % 31, CASE WHEN g % 3 = 0 THEN 'generated' ELSE 'explicit' END, 4, 3, 1 FROM g;
INSERT INTO event_executions (id, created_at, invocation_id, event_name, detected, status, detection_duration_ms)
SELECT e, t, id, 'ev-' || g % 3, g % 2 = 0, CASE WHEN g % 29 = 0 THEN 'handling' ELSE 'completed' END, g % 40 FROM g;
INSERT INTO job_executions (id, created_at, invocation_id, event_execution_id, job_name, status, duration_ms, result)
SELECT pg_temp.u7(t + k * interval '1 ms'), t, id, e, 'job-' || k, CASE WHEN (g + k) % 13 = 0 THEN 'failed' ELSE 'completed' END, (g * k) % 500, '{\"ok\": true}'
FROM g, generate_series(1, 4) k;
INSERT INTO job_logs (id, created_at, job_execution_id, message) SELECT pg_temp.u7(created_at), created_at, id, 'line' FROM job_executions;
INSERT INTO invocations (created_at, source_function, status, total_duration_ms) VALUES (now() - interval '3 hours', 'hand', 'completed', 12), (now(), 'hand', 'failed', 30);
SELECT refresh_dashboard_stats();"
psql "$fdb" -X -q -v ON_ERROR_STOP=1 -c "$fill" >/dev/null 2>&1
fingerprint="SET search_path TO $S;
SELECT (SELECT count(*) || ':' || md5(string_agg((to_jsonb(i) - 'changed_columns' - 'child_names')::text, '' ORDER BY id)) FROM invocations i) || ' ' ||
       (SELECT count(*) || ':' || md5(string_agg((e.id, e.created_at, e.invocation_id, e.event_name, e.status, e.detection_duration_ms)::text, '' ORDER BY id)) FROM event_executions e) || ' ' ||
       (SELECT count(*) || ':' || md5(string_agg(j::text, '' ORDER BY id)) FROM job_executions j) || ' ' ||
       (SELECT count(*) || ':' || md5(string_agg(l::text, '' ORDER BY id)) FROM job_logs l)"
stats001="SELECT string_agg(concat_ws(':', to_char(hour_bucket AT TIME ZONE 'UTC', 'MMDDHH24'), source_function, total_invocations, successful_invocations,
  failed_invocations, total_events_detected, total_jobs_run, total_jobs_succeeded, avg_duration_ms, min_duration_ms, max_duration_ms), ',' ORDER BY hour_bucket, source_function)
FROM $S.dashboard_stats"
before=$(q "$fdb" "$fingerprint"); stats_before=$(q "$fdb" "SET TIME ZONE 'UTC'; $stats001")
t0=$(date +%s%N); fup=$("$sql/migrate.sh" --db-url "$fdb" up 2>&1); fup_rc=$?; fup_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
after_up=$(q "$fdb" "$fingerprint"); stats_after=$(q "$fdb" "SET TIME ZONE 'UTC'; $stats001")
checks_up=$(q "$fdb" "SELECT (SELECT count(*) FROM $S.check_rollups()) || ' ' || (SELECT sum(invocations) FROM $S.invocation_rollup) || ' ' ||
  (SELECT default_rows || '/' || misplaced_rows FROM $S.partition_health() WHERE table_name = 'invocations') || ' ' ||
  (SELECT count(*) FROM $S.event_executions WHERE source_function IS NULL) || ' ' ||
  (SELECT count(*) FROM $S.invocations WHERE status <> 'running' AND child_names IS NULL)")
fdown=$("$sql/migrate.sh" --db-url "$fdb" down 13 2>&1); fdown_rc=$?
after_down=$(q "$fdb" "$fingerprint"); fks=$(q "$fdb" "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = '$S'::regnamespace")
"$sql/migrate.sh" --db-url "$fdb" up >/dev/null 2>&1
after_up2=$(q "$fdb" "$fingerprint"); checks_up2=$(q "$fdb" "SELECT count(*) FROM $S.check_rollups()")
if [ $fup_rc -eq 0 ] && [ $fdown_rc -eq 0 ] && [[ $before == 602:* ]] && [ "$before" = "$after_up" ] && [ "$before" = "$after_down" ] \
   && [ "$before" = "$after_up2" ] && [ "$stats_before" = "$stats_after" ] && [ -n "$stats_before" ] \
   && [ "$checks_up" = "0 602 2/0 0 0" ] && [ "$fks" = 5 ] && [ "$checks_up2" = 0 ]; then
  ok "migrate.sh on a filled database: up keeps every row, back-fills exact rollups (dashboard_stats = 001's figures) and child names, down and up again keep every row (up: $fup_ms ms for 8,402 rows)"
else not_ok "migrate.sh on a filled database: up keeps every row, back-fills exact rollups, down and up again keep every row" \
  "$fup" "$fdown" "before:   $before" "up:       $after_up" "down:     $after_down" "up again: $after_up2" \
  "stats 001/002: $(diff <(tr , '\n' <<<"$stats_before") <(tr , '\n' <<<"$stats_after") | head -5)" "checks (want '0 602 2/0 0 0'): $checks_up" "fks: $fks" "checks up again: $checks_up2"; fi
psql "$base" -X -q -c "DROP DATABASE IF EXISTS \"$fdb_name\" WITH (FORCE)" >/dev/null 2>&1

# ------------------------------------------------------------------------------ partitions, retention
pdb_name="${db_name}_p"
psql "$base" -X -q -c "CREATE DATABASE \"$pdb_name\"" >/dev/null
pdb=$(url_for "$pdb_name")
psql "$pdb" -X -q -v ON_ERROR_STOP=1 -f "$sql/schema.sql" >/dev/null 2>&1
# Daily partitions here (partition_settings.width_days = 1): retention to the day. The default width (7) is
# checked on the main test database below.
psql "$pdb" -X -q -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<EOF
SET search_path TO $S;
SELECT format('DROP TABLE %s', partition) FROM partition_ranges('invocations') UNION ALL SELECT format('DROP TABLE %s', partition) FROM partition_ranges('event_executions')
UNION ALL SELECT format('DROP TABLE %s', partition) FROM partition_ranges('job_executions') UNION ALL SELECT format('DROP TABLE %s', partition) FROM partition_ranges('job_logs') \gexec
UPDATE partition_settings SET width_days = 1;
EOF
# 40 days: one invocation tree per 2 hours (1 event, 2 jobs, 1 log each); every 5th failed; chains: each
# invocation caused by a job of the previous one.
gen="
SET search_path TO $S;
SELECT create_partitions(3, ((now() AT TIME ZONE 'UTC')::date - 40));
CREATE FUNCTION pg_temp.u7(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS \$\$
  SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
          || '8' || substr(md5(random()::text), 1, 15))::uuid \$\$;
CREATE TEMP TABLE g AS SELECT g, now() - g * interval '2 hours' AS t FROM generate_series(1, 480) g;
ALTER TABLE g ADD COLUMN id uuid, ADD COLUMN e uuid, ADD COLUMN j1 uuid, ADD COLUMN j2 uuid;
UPDATE g SET id = pg_temp.u7(t), e = pg_temp.u7(t), j1 = pg_temp.u7(t), j2 = pg_temp.u7(t);
INSERT INTO invocations (id, created_at, source_function, status, total_duration_ms, source_job_id)
SELECT g.id, g.t, 'fn', CASE WHEN g.g % 5 = 0 THEN 'failed' ELSE 'completed' END, g.g, p.j1 FROM g LEFT JOIN g p ON p.g = g.g + 1;
INSERT INTO event_executions (id, created_at, invocation_id, event_name, status) SELECT e, t, id, 'ev', 'completed' FROM g;
INSERT INTO job_executions (id, created_at, invocation_id, event_execution_id, job_name, status, duration_ms)
SELECT j, t, id, e, 'job', CASE WHEN g % 5 = 0 THEN 'failed' ELSE 'completed' END, g FROM g, LATERAL (VALUES (j1), (j2)) v(j);
INSERT INTO job_logs (id, created_at, job_execution_id, invocation_id, message) SELECT j1, t, j1, id, 'line' FROM g;"
pg_out=$(psql "$pdb" -X -q -v ON_ERROR_STOP=1 -c "$gen" 2>&1) || not_ok "partition test data" "$pg_out"
expect "rows land in their day's partition (none in the default partitions); rollups exact" "$pdb" "
SELECT sum(default_rows) || ':' || sum(misplaced_rows) || ':' || min(partitions) || ':' || (SELECT count(*) FROM $S.check_rollups()) FROM $S.partition_health()" "0:0:44:0"
ret_out=$(q "$pdb" "SELECT count(*) || ':' || sum(invocations_dropped) || ':' || sum(job_executions_dropped) || ':' || sum(invocations_kept) FROM $S.drop_old_partitions(30)")
expect "drop_old_partitions(30): whole days dropped in every table, nothing older left, links to dropped jobs NULL, rollups exact" "$pdb" "
SET search_path TO $S;
SELECT (SELECT count(*) FROM invocations WHERE created_at < date_trunc('day', now(), 'UTC') - interval '30 days') || ':' ||
       (SELECT count(*) FROM job_executions WHERE created_at < date_trunc('day', now(), 'UTC') - interval '30 days') || ':' ||
       (SELECT min(oldest_day) = (now() AT TIME ZONE 'UTC')::date - 30 FROM partition_health()) || ':' ||
       (SELECT count(*) FROM invocations i WHERE source_job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM job_executions j WHERE j.id = i.source_job_id)) || ':' ||
       (SELECT count(*) FROM check_rollups()) || ':' || (SELECT sum(invocations) = (SELECT count(*) FROM invocations) FROM invocation_rollup)" "0:0:true:0:0:true"
if [[ $ret_out =~ ^(10|11):[0-9]+:[0-9]+:0$ ]]; then ok "drop_old_partitions(30) reports one row per dropped day ($ret_out: days:invocations:jobs:kept)"
else not_ok "drop_old_partitions(30) reports one row per dropped day" "$ret_out"; fi
expect "status-aware retention: drop_old_partitions(20, keep_failed_days => 25) keeps failed trees 20-25 days old (default partitions), then they go" "$pdb" "
SET search_path TO $S;
SELECT sum(invocations_kept) FROM drop_old_partitions(20, 25);
SELECT (SELECT count(*) FROM invocations WHERE created_at < date_trunc('day', now(), 'UTC') - interval '20 days' AND status = 'failed') || ':' ||
       (SELECT count(*) FROM invocations WHERE created_at < date_trunc('day', now(), 'UTC') - interval '20 days' AND status <> 'failed') || ':' ||
       (SELECT count(*) FROM job_executions j JOIN invocations i ON i.id = j.invocation_id WHERE i.created_at < date_trunc('day', now(), 'UTC') - interval '20 days') || ':' ||
       (SELECT count(*) FROM check_rollups()) || ':' || (SELECT default_rows FROM partition_health() WHERE table_name = 'invocations');
SELECT coalesce(sum(invocations_kept), 0) FROM drop_old_partitions(20, 20);
SELECT (SELECT count(*) FROM invocations WHERE created_at < date_trunc('day', now(), 'UTC') - interval '20 days') || ':' || (SELECT count(*) FROM check_rollups())" \
$'12\n12:0:24:0:12\n0\n0:0'
expect "a row no partition covers lands in the default partition, is reported, and moves when its partition is created" "$pdb" "
SET search_path TO $S;
INSERT INTO invocations (id, created_at, source_function, status) VALUES (overlay(uuid7_lower(now() + interval '10 days')::text placing '7abc' from 15 for 4)::uuid, now() + interval '10 days', 'future', 'completed');
SELECT misplaced_rows FROM partition_health() WHERE table_name = 'invocations';
SELECT create_partitions(11) >= 4;
SELECT misplaced_rows || ':' || (SELECT count(*) FROM invocations WHERE source_function = 'future') || ':' ||
       (SELECT tableoid::regclass::text FROM invocations WHERE source_function = 'future') FROM partition_health() WHERE table_name = 'invocations'" \
$'1\nt\n0:1:invocations_p'"$(date -u -d '+10 days' +%Y%m%d)"
# 013: a COPY naming a partition inserts in batches and fires the partition's own statement triggers, so every
# partition carries the table's INSERT triggers (the ones just created above too) and such rows count once.
# 014: the range partitions of job_executions have refuse_uncounted_insert() under the rollup trigger's name (the sink
# adds their counts itself); the default partition counts like the others.
expect "013, 014: every partition of the tables with rollups has their statement-level INSERT triggers (partitions create_partitions() made since too); the range partitions of job_executions have refuse_uncounted_insert() in place of the rollup trigger, without a transition table" "$pdb" "
SET search_path TO $S;
SELECT count(*) || ':' || (SELECT count(*) > 10 FROM pg_trigger WHERE tgname = 'job_executions_rollup_insert')
FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
JOIN pg_trigger t ON t.tgrelid = h.inhparent AND NOT t.tgisinternal AND t.tgtype & 1 = 0 AND t.tgtype & 4 <> 0
WHERE NOT EXISTS (SELECT 1 FROM pg_trigger p WHERE p.tgrelid = h.inhrelid AND p.tgname = t.tgname
                    AND CASE WHEN h.inhparent = 'job_executions'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
                             THEN p.tgfoid = 'refuse_uncounted_insert'::regproc AND p.tgnewtable IS NULL
                             ELSE p.tgfoid = t.tgfoid END)" "0:true"
expect "013, 014: rows inserted by naming their partition are counted once (jobs by begin_counted_inserts() and add_job_rollups(), events, detections), like rows through the table and their UPDATEs" "$pdb" "
SET search_path TO $S;
DO \$\$
DECLARE
  ids constant text := 'SELECT (substr(uuid7_lower(now())::text, 1, 24) || lpad(to_hex(%s + g), 12, ''0''))::uuid AS id, g FROM generate_series(1, %s) g';
BEGIN
  -- 014: a job partition takes rows named to it after begin_counted_inserts(); add_job_rollups() adds their sums
  PERFORM begin_counted_inserts(partition::text::regclass)
  FROM sink_copy_partition('job_executions', uuid7_lower(now()), uuid7_lower(now())) WHERE writer_counts;
  EXECUTE format('INSERT INTO %I (id, created_at, invocation_id, event_execution_id, job_name, status, duration_ms)
    SELECT id, now(), gen_random_uuid(), gen_random_uuid(), ''job-013'', CASE WHEN g %% 4 = 0 THEN ''failed'' ELSE ''completed'' END, g
    FROM (' || format(ids, 0, 40) || ') x', (SELECT partition FROM sink_copy_partition('job_executions', uuid7_lower(now()), uuid7_lower(now()))));
  PERFORM add_job_rollups((
    SELECT jsonb_agg(jsonb_build_object('job_name', 'job-013', 'hour_bucket', date_trunc('hour', now(), 'UTC'), 'jobs', n, 'completed', n - f,
             'failed', f, 'duration_count', n, 'duration_sum', s, 'duration_min', lo, 'duration_max', hi, 'duration_buckets', b, 'bucket_counts', k))
    FROM (SELECT sum(k) AS n, sum(f) AS f, sum(s) AS s, min(lo) AS lo, max(hi) AS hi, jsonb_agg(b) AS b, jsonb_agg(k) AS k
          FROM (SELECT duration_bucket(g) AS b, count(*) AS k, count(*) FILTER (WHERE g % 4 = 0) AS f, sum(g) AS s, min(g) AS lo, max(g) AS hi
                FROM generate_series(1, 40) g GROUP BY 1) per_bucket) sums));
  EXECUTE format('INSERT INTO %I (id, created_at, invocation_id, event_name, status, detected, detection_duration_ms, source_function)
    SELECT id, now(), gen_random_uuid(), ''ev-013'', ''completed'', g %% 2 = 0, g, ''fn-013'' FROM (' || format(ids, 0, 6) || ') x',
    (SELECT partition FROM copy_partition('event_executions', uuid7_lower(now()), uuid7_lower(now()))));
END
\$\$;
INSERT INTO job_executions (id, created_at, invocation_id, event_execution_id, job_name, status)
SELECT (substr(uuid7_lower(now())::text, 1, 24) || lpad(to_hex(1000 + g), 12, '0'))::uuid, now(), gen_random_uuid(), gen_random_uuid(), 'job-013', 'running'
FROM generate_series(1, 10) g;
UPDATE job_executions SET status = 'completed', duration_ms = 5 WHERE job_name = 'job-013' AND status = 'running';
SELECT sum(jobs) || ':' || sum(completed) || ':' || sum(failed) || ':' ||
       (SELECT sum(checked) || '/' || sum(detected) FROM event_rollup WHERE source_function = 'fn-013') || ':' || (SELECT count(*) FROM check_rollups())
FROM job_rollup WHERE job_name = 'job-013'" "50:40:10:6/3:0"
today=$(date -u +%Y%m%d); in2days=$(date -u -d '+2 days' +%Y%m%d)
expect "013, 014: sink_copy_partition() names the range partition holding both ids and having the triggers (for jobs refuse_uncounted_insert(): writer_counts); none across two partitions, past every partition, or when a trigger is missing (until create_partitions() adds it back); copy_partition() (a sink before 014) names no job partition" "$pdb" "
SET search_path TO $S;
DROP TRIGGER job_executions_rollup_insert ON job_executions_p$in2days;
SELECT concat_ws(':',
  (SELECT partition || '/' || writer_counts FROM sink_copy_partition('job_executions', uuid7_lower(now()), uuid7_lower(now()))),
  (SELECT partition || '/' || writer_counts FROM sink_copy_partition('event_executions', uuid7_lower(now()), uuid7_lower(now()))),
  (SELECT partition FROM copy_partition('job_logs', uuid7_lower(now()), uuid7_lower(now()))),
  (SELECT count(*) FROM copy_partition('job_executions', uuid7_lower(now()), uuid7_lower(now()))),
  (SELECT count(*) FROM sink_copy_partition('job_executions', uuid7_lower(now() - interval '1 day'), uuid7_lower(now()))),
  (SELECT count(*) FROM sink_copy_partition('job_executions', uuid7_lower(now() + interval '300 days'), uuid7_lower(now() + interval '300 days'))),
  (SELECT count(*) FROM sink_copy_partition('job_executions', uuid7_lower(now() + interval '2 days'), uuid7_lower(now() + interval '2 days'))));
SELECT create_partitions() >= 0;
SELECT count(*) FROM sink_copy_partition('job_executions', uuid7_lower(now() + interval '2 days'), uuid7_lower(now() + interval '2 days')) WHERE writer_counts" \
$'job_executions_p'"$today"$'/true:event_executions_p'"$today"$'/false:job_logs_p'"$today"$':0:0:0:0\nt\n1'
expect_fail "014: an INSERT naming a range partition of job_executions without begin_counted_inserts() is refused (55000), so no rows miss the rollups unannounced" "$pdb" "
SET search_path TO $S;
INSERT INTO job_executions_p$today (id, created_at, invocation_id, event_execution_id, job_name, status)
VALUES (uuid7_lower(now()), now(), gen_random_uuid(), gen_random_uuid(), 'job-014', 'completed')" "are not counted in the rollups"
expect_fail "014: begin_counted_inserts() refuses a partition that counts its own rows (the default partition)" "$pdb" "
SELECT $S.begin_counted_inserts('$S.job_executions_default')" "counts the rows inserted into it"
expect "create_partitions() is idempotent and refuses nonsense" "$pdb" "SELECT $S.create_partitions(3)" "0"
expect "default partitions are 7 UTC days, Monday to Sunday, a week and more ahead" "$db" "
SELECT bool_and(extract(isodow FROM first_day) = 1 AND end_day - first_day = 7) || ':' || (SELECT min(days_ahead) >= 7 FROM $S.partition_health())
FROM $S.partition_ranges('job_executions')" "true:true"
expect_fail "create_partitions(-1) is an error" "$pdb" "SELECT $S.create_partitions(-1)" "days_ahead must be between 0 and 366"
expect "by-id look-ups prune to one partition (the UUIDv7 range)" "$pdb" "
EXPLAIN (COSTS OFF) SELECT * FROM $S.job_executions WHERE id = (SELECT id FROM $S.job_executions ORDER BY id DESC LIMIT 1)" \
"$(q "$pdb" "EXPLAIN (COSTS OFF) SELECT * FROM $S.job_executions WHERE id = (SELECT id FROM $S.job_executions ORDER BY id DESC LIMIT 1)")"
# Sorted lists over a recent window (006, 010). The daily partitions above: those ending within sorted_days (7)
# carry the 10 sort indexes and the 11 failed-only ones, every range partition of invocations a validated created_at check.
expect "006: every range partition of invocations has a validated created_at check; the sort indexes sit on those ending within 7 days only" "$pdb" "
SELECT bool_and(created_at_bound = 'validated') || ':' ||
       bool_and(sort_indexes = CASE WHEN (end_day::timestamp AT TIME ZONE 'UTC') > now() - interval '7 days' THEN 21 ELSE 0 END) || ':' || count(*)
FROM $S.window_read_paths()" "true:true:$(q "$pdb" "SELECT count(*) FROM $S.partition_ranges('invocations')")"
w_from=$(q "$pdb" "SELECT now() - interval '7 days'"); w_to=$(q "$pdb" "SELECT now()")
sorted_ids="SELECT id FROM $S.invocations WHERE created_at >= '$w_from' AND created_at < '$w_to' ORDER BY total_duration_ms DESC NULLS LAST, created_at DESC, id DESC LIMIT 20"
sorted_page="SELECT string_agg(id::text, ',') FROM ($sorted_ids) s"
# A few rows per partition here, so PostgreSQL would rather sort them: without that choice, the order comes
# from the sort indexes.
plan=$(q "$pdb" "SET enable_seqscan = off; SET enable_sort = off; EXPLAIN (COSTS OFF) $sorted_ids")
oldest_in_plan=$(grep -oE 'invocations_p[0-9]{8}' <<<"$plan" | sort | head -1)
window_first=$(date -u -d '-7 days' +%Y%m%d)
page_indexed=$(q "$pdb" "$sorted_page")
page_sorted=$(q "$pdb" "SET enable_indexscan = off; SET enable_bitmapscan = off; SET constraint_exclusion = off; $sorted_page")
if [ -n "$oldest_in_plan" ] && [[ ${oldest_in_plan#invocations_p} -ge $window_first ]] && grep -q 'Backward using invocations_p[0-9]*_by_total_duration_ms_nulls_first' <<<"$plan" \
   && [ -n "$page_indexed" ] && [ "$page_indexed" = "$page_sorted" ] && [ "$(tr ',' '\n' <<<"$page_indexed" | wc -l)" = 20 ]; then
  ok "006: a 7-day page sorted by duration reads only partitions that can hold the window, through the sort index, and equals a full sort of every partition"
else not_ok "006: a 7-day page sorted by duration reads only partitions that can hold the window, through the sort index, and equals a full sort of every partition" \
  "oldest partition in the plan: $oldest_in_plan (window starts $window_first)" "$plan" "indexed: $page_indexed" "sorted:  $page_sorted"; fi
failed_ids="SELECT id FROM $S.invocations WHERE created_at >= '$w_from' AND created_at < '$w_to' AND status = 'failed' ORDER BY total_jobs_run DESC NULLS LAST, created_at DESC, id DESC LIMIT 20"
failed_plan=$(q "$pdb" "SET enable_seqscan = off; SET enable_sort = off; EXPLAIN (COSTS OFF) $failed_ids")
failed_indexed=$(q "$pdb" "SELECT string_agg(id::text, ',') FROM ($failed_ids) s")
failed_sorted=$(q "$pdb" "SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT string_agg(id::text, ',') FROM ($failed_ids) s")
failed_names=$(q "$pdb" "SELECT max(length(c.relname)) || ':' || count(*) FILTER (WHERE pg_get_expr(i.indpred, i.indrelid) = '(status = ''failed''::text)')
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = '$S'::regnamespace AND c.relname LIKE 'invocations\_p%\_fail'")
if grep -q 'Backward using invocations_p[0-9]*_by_total_jobs_run_nulls_first_fail' <<<"$failed_plan" && [ "$failed_indexed" = "$failed_sorted" ] \
   && [ "$(tr ',' '\n' <<<"$failed_indexed" | grep -c .)" -ge 1 ] && [[ $failed_names == *:* ]] && [ "${failed_names%%:*}" -le 63 ]; then
  ok "010: a page of failed invocations sorted by a column reads that column's failed-only index (partial, status = 'failed', names of at most 63 characters) and equals a full sort ($failed_names)"
else not_ok "010: a page of failed invocations sorted by a column reads that column's failed-only index and equals a full sort" \
  "$failed_plan" "indexed: $failed_indexed" "sorted:  $failed_sorted" "names: $failed_names"; fi
late_row="INSERT INTO $S.invocations (id, created_at, source_function, status)
  VALUES (overlay($S.uuid7_lower(now() - interval '3 days')::text placing '7abc' from 15 for 4)::uuid, now(), 'late', 'completed')"
expect_fail "006: a row whose created_at is after its id's partition is refused, naming the check" "$pdb" "$late_row" \
  'violates check constraint "invocations_p[0-9]{8}_created_before_end"'
expect "006: a row without an id gets a UUIDv7 of the insert (its partition is today's) and is accepted" "$pdb" "
INSERT INTO $S.invocations (created_at, source_function, status) VALUES (now(), 'hand-006', 'completed');
SELECT substr(id::text, 15, 1) || ':' || tableoid::regclass::text FROM $S.invocations WHERE source_function = 'hand-006'" \
"7:$S.invocations_p$(date -u +%Y%m%d)"
expect "006: bound_created_at = false drops the checks and accepts such a row; back on, its partition keeps a NOT VALID check (and still reads correctly), the others validate; once the row is gone, revalidate => true validates it" "$pdb" "
SET search_path TO $S;
UPDATE partition_settings SET bound_created_at = false;
SELECT prepare_window_reads() > 0;
SELECT count(*) FROM window_read_paths() WHERE created_at_bound <> 'none';
$late_row;
UPDATE partition_settings SET bound_created_at = true;
SET client_min_messages = error;
SELECT prepare_window_reads() > 0;
SELECT string_agg(created_at_bound, ',' ORDER BY created_at_bound) FROM (SELECT DISTINCT created_at_bound FROM window_read_paths()) s;
SELECT created_at_bound FROM window_read_paths() WHERE partition = (SELECT tableoid FROM invocations WHERE source_function = 'late');
SELECT count(*) FROM invocations WHERE source_function = 'late' AND created_at >= now() - interval '1 hour';
DELETE FROM invocations WHERE source_function IN ('late', 'hand-006');
SELECT prepare_window_reads();
SELECT prepare_window_reads(revalidate => true);
SELECT string_agg(DISTINCT created_at_bound, ',') FROM window_read_paths();
SELECT count(*) FROM check_rollups()" $'t\n0\nt\nnot valid,validated\nnot valid\n1\n0\n1\nvalidated\n0'
expect "006: sort indexes leave partitions that end more than sorted_days ago, and come back" "$pdb" "
SET search_path TO $S;
UPDATE partition_settings SET sorted_days = 2;
SELECT prepare_window_reads() > 0;
SELECT bool_and(sort_indexes = CASE WHEN (end_day::timestamp AT TIME ZONE 'UTC') > now() - interval '2 days' THEN 21 ELSE 0 END) FROM window_read_paths();
UPDATE partition_settings SET sorted_days = 7;
SELECT prepare_window_reads() > 0;
SELECT bool_and(sort_indexes = CASE WHEN (end_day::timestamp AT TIME ZONE 'UTC') > now() - interval '7 days' THEN 21 ELSE 0 END) FROM window_read_paths()" $'t\nt\nt\nt'
# The slow-jobs index (011). Job durations here are the tree's number (1..480, one tree per 2 hours, newest
# smallest): the last 7 days hold durations 1..84.
expect "011: duration_bucket_lower() is the smallest duration of its bucket (1..200,000 ms)" "$db" "
SELECT count(*) FROM generate_series(1, 200000) ms
WHERE $S.duration_bucket_lower($S.duration_bucket(ms)) > ms
   OR $S.duration_bucket($S.duration_bucket_lower($S.duration_bucket(ms))) <> $S.duration_bucket(ms)
   OR ($S.duration_bucket_lower($S.duration_bucket(ms)) > 1 AND $S.duration_bucket($S.duration_bucket_lower($S.duration_bucket(ms)) - 1) = $S.duration_bucket(ms))" "0"
expect "011: today's threshold keeps at least the slowest 10 % of the last 7 days' jobs and leaves out most; every range partition's slow-jobs index is partial on such a threshold" "$pdb" "
SET search_path TO $S;
SELECT (SELECT count(*) FILTER (WHERE duration_ms >= t) * 10 >= count(*) AND count(*) FILTER (WHERE duration_ms >= t) * 2 < count(*)
        FROM job_executions WHERE created_at >= date_trunc('day', now(), 'UTC') - interval '7 days' AND created_at < now()) || ':' || (t > 1)
FROM slow_job_threshold(date_trunc('day', now(), 'UTC'), date_trunc('day', now(), 'UTC') + interval '1 day') t;
SELECT count(*) = (SELECT count(*) FROM partition_ranges('job_executions')) AND bool_and(pg_get_expr(i.indpred, i.indrelid) ~ '^\(duration_ms >= [0-9]+\)$')
FROM partition_ranges('job_executions') r JOIN pg_index i ON i.indexrelid = to_regclass(r.partition::text || '_slow')" $'true:true\nt'
slow_t=$(q "$pdb" "SELECT min(duration_max) FROM (SELECT duration_max FROM $S.job_rollup WHERE hour_bucket >= '$w_from' AND hour_bucket < '$w_to' AND duration_max IS NOT NULL ORDER BY duration_max DESC LIMIT 10) s")
slowest="SELECT id FROM $S.job_executions WHERE created_at >= '$w_from' AND created_at < '$w_to' AND duration_ms >= $slow_t ORDER BY duration_ms DESC NULLS LAST, id LIMIT 10"
slow_plan=$(q "$pdb" "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $slowest")
slow_indexed=$(q "$pdb" "SELECT string_agg(id::text, ',') FROM ($slowest) s")
slow_sorted=$(q "$pdb" "SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT string_agg(id::text, ',') FROM ($slowest) s")
if grep -qE 'job_executions_p[0-9]{8}_slow' <<<"$slow_plan" && [ -n "$slow_indexed" ] && [ "$slow_indexed" = "$slow_sorted" ] && [ "$(tr ',' '\n' <<<"$slow_indexed" | wc -l)" = 10 ]; then
  ok "011: the slowest jobs at or above the rollups' threshold ($slow_t ms) come through the partitions' slow-jobs indexes and equal a full sort"
else not_ok "011: the slowest jobs at or above the rollups' threshold come through the slow-jobs indexes and equal a full sort" "threshold: $slow_t" "$slow_plan" "indexed: $slow_indexed" "sorted:  $slow_sorted"; fi
psql "$base" -X -q -c "DROP DATABASE IF EXISTS \"$pdb_name\" WITH (FORCE)" >/dev/null 2>&1

# ------------------------------------------------------------- detection clauses, replays, silence (003)
# 120 event executions of det.ev over 3 hours with clauses a, b, c: a quarter detected (all passed), a quarter
# stopped at a, a quarter at b, a quarter threw at b; every 7th still detecting (not final: counted by no funnel
# step), then completed by an UPDATE; then other writers delete some final rows (the rollup hours are rebuilt).
det="
SET search_path TO $S;
INSERT INTO invocations (id, created_at, source_function, status) VALUES ('00000000-0000-0000-0000-0000000d0001', now() - interval '3 hours', 'det-fn', 'completed');
INSERT INTO event_executions (id, created_at, invocation_id, event_name, detected, status, detection_clauses, detection_rejected_by)
SELECT ('00000000-0000-0000-0000-0000000d' || lpad(g::text, 4, '0'))::uuid, now() - (g % 3) * interval '1 hour', '00000000-0000-0000-0000-0000000d0001', 'det.ev', g % 4 = 0,
       CASE WHEN g % 7 = 0 THEN 'detecting' WHEN g % 4 = 0 THEN 'completed' WHEN g % 4 = 3 THEN 'detection_failed' ELSE 'not_detected' END,
       jsonb_build_array(jsonb_build_object('name', 'a', 'outcome', CASE WHEN g % 4 = 1 THEN 'failed' ELSE 'passed' END),
                         jsonb_build_object('name', 'b', 'outcome', CASE g % 4 WHEN 1 THEN 'skipped' WHEN 2 THEN 'failed' WHEN 3 THEN 'threw' ELSE 'passed' END),
                         jsonb_build_object('name', 'c', 'outcome', CASE WHEN g % 4 = 0 THEN 'passed' ELSE 'skipped' END)),
       CASE g % 4 WHEN 1 THEN 'a' WHEN 2 THEN 'b' WHEN 3 THEN 'b' END
FROM generate_series(1, 120) g;
UPDATE event_executions SET status = CASE WHEN detected THEN 'completed' ELSE 'not_detected' END WHERE event_name = 'det.ev' AND status = 'detecting';
DELETE FROM event_executions WHERE event_name = 'det.ev' AND id IN (SELECT id FROM event_executions WHERE event_name = 'det.ev' ORDER BY id LIMIT 9);"
out=$(psql "$db" -X -q -v ON_ERROR_STOP=1 -c "$det" 2>&1) || not_ok "003 fixture: event executions with clauses" "$out"
# The funnel as the dashboard reads it (rollup_detection_clauses -> rollups over a time range) equals SQL over the raw rows.
funnel_rollup=$(q "$db" "SELECT string_agg(clause_index || ':' || clause_name || ':' || e || '/' || p || '/' || f || '/' || t, ',' ORDER BY clause_index)
  FROM (SELECT v.clause_index, v.clause_name, sum(r.evaluated) e, sum(r.passed) p, sum(r.failed) f, sum(r.threw) t
        FROM $S.rollup_detection_clauses v JOIN $S.detection_clause_rollup r USING (event_name, clause_index, clause_name)
        WHERE v.event_name = 'det.ev' AND r.hour_bucket >= date_trunc('hour', now()) - interval '5 hours' GROUP BY 1, 2) s")
funnel_raw=$(q "$db" "SELECT string_agg(ord || ':' || n || ':' || e || '/' || p || '/' || f || '/' || t, ',' ORDER BY ord)
  FROM (SELECT c.ord, c.x->>'name' n, count(*) FILTER (WHERE c.x->>'outcome' <> 'skipped') e, count(*) FILTER (WHERE c.x->>'outcome' = 'passed') p,
               count(*) FILTER (WHERE c.x->>'outcome' = 'failed') f, count(*) FILTER (WHERE c.x->>'outcome' = 'threw') t
        FROM $S.event_executions x, jsonb_array_elements(x.detection_clauses) WITH ORDINALITY c(x, ord)
        WHERE x.event_name = 'det.ev' AND x.status NOT IN ('detecting', 'handling') GROUP BY 1, 2) s")
stopped=$(q "$db" "SELECT count(*) FROM $S.event_executions WHERE event_name = 'det.ev' AND detection_rejected_by = 'b'")
if [ -n "$funnel_raw" ] && [ "$funnel_rollup" = "$funnel_raw" ] && [ "$funnel_raw" = "1:a:111/84/27/0,2:b:84/28/28/28,3:c:28/28/0/0" ] \
   && [ "$(q "$db" "SELECT count(*) FROM $S.check_rollups()")" = 0 ] && [ "$stopped" = 56 ]; then
  ok "funnel counts from the clause rollup equal SQL over the raw rows (inserts, completions, deletes; check_rollups() empty)"
else not_ok "funnel counts from the clause rollup equal SQL over the raw rows (inserts, completions, deletes; check_rollups() empty)" \
  "rollup: $funnel_rollup" "raw:    $funnel_raw" "stopped at b: $stopped" "$(q "$db" "SELECT * FROM $S.check_rollups()")"; fi
expect "rebuild_rollups() and TRUNCATE cover the clause rollup (wrapped 002 functions)" "$db" "
SET search_path TO $S;
DELETE FROM detection_clause_rollup;
SELECT (SELECT count(*) FROM check_rollups() WHERE rollup = 'detection_clause_rollup') > 0;
SELECT rebuild_rollups(now() - interval '1 day', now() + interval '1 hour') > 0;
SELECT count(*) FROM check_rollups();
SELECT 'detection_clause_rollup' = ANY (rollup_tables('event_executions'))" $'t\nt\n0\nt'
plan=$(q "$db" "SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT invocation_id FROM $S.event_executions
  WHERE event_name = 'det.ev' AND detection_rejected_by = 'b' AND created_at >= now() - interval '1 day' ORDER BY created_at DESC LIMIT 50")
if grep -qE "Index Scan.* using .*rejected_by_idx" <<<"$plan"; then ok "the funnel's drill-down (stopped at clause X) reads the partial rejected_by index"
else not_ok "the funnel's drill-down (stopped at clause X) reads the partial rejected_by index" "$plan"; fi

expect "payload_changed_columns(): the keys whose values differ between old and new (UPDATE only)" "$db" "
SET search_path TO $S;
SELECT payload_changed_columns('{\"event\":{\"data\":{\"old\":{\"id\":1,\"status\":\"pending\",\"gone\":1,\"n\":{\"a\":1},\"same\":[1]},\"new\":{\"id\":1,\"status\":\"shipped\",\"added\":null,\"n\":{\"a\":2},\"same\":[1]}}}}')::text
  || ' ' || COALESCE(payload_changed_columns('{\"event\":{\"data\":{\"old\":null,\"new\":{\"id\":1}}}}')::text, 'NULL')
  || ' ' || COALESCE(payload_changed_columns('{}')::text, 'NULL')
  || ' ' || payload_changed_columns('{\"event\":{\"data\":{\"old\":{\"a\":1.0},\"new\":{\"a\":1}}}}')::text" \
'["added", "gone", "n", "status"] NULL NULL []'
plan=$(q "$db" "INSERT INTO $S.invocations (created_at, source_function, status, changed_columns) SELECT now() - interval '1 hour', 'cc', 'completed', jsonb_build_array('c' || g % 50) FROM generate_series(1, 500) g;
  ANALYZE $S.invocations; SET enable_seqscan = off;
  EXPLAIN (COSTS OFF) SELECT id FROM $S.invocations WHERE changed_columns @> '[\"c7\"]' AND created_at >= now() - interval '1 day' ORDER BY created_at DESC LIMIT 50")
n7=$(q "$db" "SELECT count(*) FROM $S.invocations WHERE changed_columns @> '[\"c7\"]'")
if grep -qE "Bitmap Index Scan on .*changed_columns_idx" <<<"$plan" && [ "$n7" = 10 ]; then ok "\"column X changed\" (changed_columns @> '[\"X\"]') reads the GIN index"
else not_ok "\"column X changed\" (changed_columns @> '[\"X\"]') reads the GIN index" "$plan" "rows: $n7"; fi

expect "replays: the report view counts per event type; deleting a run deletes its decisions; production tables untouched" "$db" "
SET search_path TO $S;
CREATE TEMP TABLE counts_before AS SELECT (SELECT count(*) FROM invocations) i, (SELECT count(*) FROM event_executions) e, (SELECT count(*) FROM job_executions) j;
INSERT INTO replay_runs (id, build_label) VALUES ('00000000-0000-0000-0000-00000000aaaa', 'test');
INSERT INTO replay_decisions (replay_run_id, invocation_id, invocation_created_at, detected_before, detected_after, changed, source_function, event_name, changed_clause)
VALUES ('00000000-0000-0000-0000-00000000aaaa', gen_random_uuid(), now(), true, false, true, 'f', 'x', 'b'),
       ('00000000-0000-0000-0000-00000000aaaa', gen_random_uuid(), now(), false, true, true, 'f', 'x', 'a'),
       ('00000000-0000-0000-0000-00000000aaaa', gen_random_uuid(), now(), true, true, false, 'f', 'x', NULL),
       ('00000000-0000-0000-0000-00000000aaaa', gen_random_uuid(), now(), NULL, false, false, 'f', 'y', NULL);
SELECT string_agg(concat_ws(':', event_name, checked, detected_before, detected_after, changed, newly_detected, no_longer_detected), ',' ORDER BY event_name)
FROM replay_report WHERE replay_run_id = '00000000-0000-0000-0000-00000000aaaa';
DELETE FROM replay_runs WHERE id = '00000000-0000-0000-0000-00000000aaaa';
SELECT count(*) FROM replay_decisions;
SELECT (SELECT count(*) FROM invocations) = i AND (SELECT count(*) FROM event_executions) = e AND (SELECT count(*) FROM job_executions) = j FROM counts_before" \
$'x:3:2:2:2:1:1,y:1:0:0:0:0:0\n0\nt'

# Silence: event_rollup hours as the triggers would write them. quiet.ev: 50 % over the 7 baseline days, 0 of 60
# checks in the last 6 hours -> listed. steady.ev: the same rate now -> not listed. stopped.ev: no checks now
# (invocations did not continue) -> not listed. rare.ev: one detection a day -> too few expected -> not listed.
expect "silent_event_types(): types whose detection rate fell while checks continued, with enough expected detections" "$db" "
BEGIN;
SET search_path TO $S;
INSERT INTO event_rollup (hour_bucket, source_function, event_name, checked, detected)
SELECT h, 'silence-fn', ev, 10, CASE WHEN ev = 'rare.ev' THEN (extract(hour FROM h AT TIME ZONE 'UTC') = 3)::int
                                  WHEN h >= date_trunc('hour', now(), 'UTC') - interval '5 hours' AND ev = 'quiet.ev' THEN 0 ELSE 5 END
FROM generate_series(date_trunc('hour', now(), 'UTC') - interval '7 days' - interval '5 hours', date_trunc('hour', now(), 'UTC'), interval '1 hour') h,
     unnest(ARRAY['quiet.ev', 'steady.ev', 'stopped.ev', 'rare.ev']) ev
WHERE NOT (ev = 'stopped.ev' AND h >= date_trunc('hour', now(), 'UTC') - interval '5 hours');
SELECT string_agg(concat_ws(':', event_name, recent_checked, recent_detected, baseline_rate, expected_detected), ',') FROM silent_event_types(6, 0.5, 7);
SELECT count(*) FROM silent_event_types(6, 0.5, 7, 1000);
ROLLBACK;" 'quiet.ev:60:0:0.5000:30.00
0'
expect_fail "silent_event_types() refuses nonsense parameters" "$db" "SELECT * FROM $S.silent_event_types(0)" "recent_hours must be >= 1"

# ------------------------------------------------------------------------------------- indexes
# The FK columns every cascade and relationship walks are the leading column of some index.
expect "every relationship's look-up column leads an index (relationships and cascades stay indexed)" "$db" "
SELECT string_agg(t || '.' || c, ',') FROM (VALUES ('event_executions', 'invocation_id'), ('job_executions', 'invocation_id'),
  ('job_logs', 'job_execution_id'), ('invocations', 'source_job_id'), ('invocations', 'correlation_id')) v(t, c)
WHERE NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                  WHERE i.indrelid = ('$S.' || t)::regclass AND a.attname = c)" ""
plan=$(q "$db" "SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT * FROM $S.invocations WHERE correlation_id = 'x' ORDER BY created_at")
if grep -q "Merge Append" <<<"$plan" && ! grep -qv "correlation_id_created_at_idx\|_by_correlation_id_nulls_first\|Index Cond\|Merge Append\|Sort Key" <<<"$plan"; then
  ok "the trace query reads each partition's correlation_id index, merged in created_at order (no sort)"
else not_ok "the trace query reads each partition's correlation_id index, merged in created_at order (no sort)" "$plan"; fi

# ------------------------------------------------------------------------------------- metadata
meta_out=$(python3 "$root/tests/sql/check_metadata.py" "$root/hasura-metadata" "$db" 2>&1); meta_rc=$?
if [ $meta_rc -eq 0 ] && [[ $meta_out == SKIP* ]]; then
  ok "hasura-metadata checked against the catalog # SKIP $meta_out"
elif [ $meta_rc -eq 0 ]; then ok "hasura-metadata names only tables, columns, functions that exist; relationships, permissions and root fields complete"
else not_ok "hasura-metadata names only tables, columns, functions that exist; relationships, permissions and root fields complete" "$meta_out"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
