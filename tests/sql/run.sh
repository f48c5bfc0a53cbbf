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
if [ $? -eq 0 ] && [ "$(q "$db" "SELECT count(*) FROM pg_tables WHERE schemaname = '$S'")" = 5 ]; then
  ok "schema.sql applies (4 tables + schema_migrations)"
else not_ok "schema.sql applies (4 tables + schema_migrations)" "$out"; fi

if diff <("$sql/migrate.sh" print-schema) "$sql/schema.sql" >"$work/d" 2>&1; then ok "schema.sql is what migrate.sh print-schema generates from the migrations"
else not_ok "schema.sql is what migrate.sh print-schema generates from the migrations" "$(head -20 "$work/d")"; fi

expect "columns, types, nullability and defaults of invocations" "$db" "
SELECT string_agg(column_name || ':' || data_type || ':' || is_nullable || ':' || coalesce(column_default, ''), ',' ORDER BY column_name)
FROM information_schema.columns WHERE table_schema = '$S' AND table_name = 'invocations'" \
"auto_load_modules:boolean:YES:,context_data:jsonb:YES:,correlation_id:text:YES:,correlation_source:text:NO:'generated'::text,created_at:timestamp with time zone:NO:,error_message:text:YES:,error_stack:text:YES:,error_type:text:YES:,event_modules_directory:text:YES:,events_detected_count:integer:YES:0,id:uuid:NO:gen_random_uuid(),source_event_id:uuid:YES:,source_event_payload:jsonb:NO:'{}'::jsonb,source_event_time:timestamp with time zone:YES:,source_function:text:NO:,source_job_id:uuid:YES:,source_operation:text:YES:,source_system:text:YES:,source_table:text:YES:,source_user_email:text:YES:,source_user_role:text:YES:,status:text:NO:,total_duration_ms:integer:YES:,total_jobs_failed:integer:YES:0,total_jobs_run:integer:YES:0,total_jobs_succeeded:integer:YES:0,updated_at:timestamp with time zone:NO:now()"

expect "column sets of event_executions, job_executions, job_logs" "$db" "
SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, column_name)
FROM information_schema.columns WHERE table_schema = '$S' AND table_name IN ('event_executions', 'job_executions', 'job_logs')" \
"event_executions.correlation_id,event_executions.created_at,event_executions.detected,event_executions.detection_duration_ms,event_executions.detection_error,event_executions.detection_error_stack,event_executions.event_module_path,event_executions.event_name,event_executions.handler_duration_ms,event_executions.handler_error,event_executions.handler_error_stack,event_executions.id,event_executions.invocation_id,event_executions.jobs_count,event_executions.jobs_failed,event_executions.jobs_succeeded,event_executions.status,event_executions.updated_at,job_executions.correlation_id,job_executions.created_at,job_executions.duration_ms,job_executions.error_message,job_executions.error_stack,job_executions.error_type,job_executions.event_execution_id,job_executions.id,job_executions.invocation_id,job_executions.job_function_name,job_executions.job_name,job_executions.job_options,job_executions.result,job_executions.status,job_executions.updated_at,job_logs.correlation_id,job_logs.created_at,job_logs.data,job_logs.id,job_logs.invocation_id,job_logs.job_execution_id,job_logs.level,job_logs.logged_at,job_logs.message,job_logs.updated_at"

expect "foreign keys and their delete actions" "$db" "
SELECT string_agg(conrelid::regclass::text || '(' || (SELECT attname FROM pg_attribute WHERE attrelid = conrelid AND attnum = conkey[1]) || ')->' || confrelid::regclass::text || ':' || confdeltype::text, ',' ORDER BY conname)
FROM pg_constraint WHERE contype = 'f' AND connamespace = '$S'::regnamespace" \
"$S.event_executions(invocation_id)->$S.invocations:c,$S.invocations(source_job_id)->$S.job_executions:n,$S.job_executions(event_execution_id)->$S.event_executions:c,$S.job_executions(invocation_id)->$S.invocations:c,$S.job_logs(job_execution_id)->$S.job_executions:c"

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
expect_fail "a child before its parent is rejected (FK)" "$db" \
  "INSERT INTO $S.job_logs (created_at, job_execution_id) VALUES (now(), gen_random_uuid())" "job_logs_job_execution_id_fkey"
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
SELECT date_trunc('hour', now()) - interval '3 hours' + g * interval '1 minute', 'fn-a', CASE WHEN g <= 15 THEN 'completed' ELSE 'failed' END, g, 1, 2, 1
FROM generate_series(1, 20) g;
INSERT INTO $S.invocations (created_at, source_function, status, total_duration_ms) VALUES
  (date_trunc('hour', now()) - interval '3 hours', 'fn-b', 'running', NULL),
  (date_trunc('hour', now()) - interval '5 hours' + interval '59 minutes', 'fn-a', 'completed', 7);"
out=$(q "$db" "$stats_rows")
expect "refresh_dashboard_stats() fills a view that was never populated (plain refresh)" "$db" "
REFRESH MATERIALIZED VIEW $S.dashboard_stats WITH NO DATA;
SELECT $S.refresh_dashboard_stats();
SELECT relispopulated FROM pg_class WHERE oid = '$S.dashboard_stats'::regclass" $'\nt'
stats_q="SELECT hour_bucket = date_trunc('hour', now()) - interval '3 hours', source_function, total_invocations, successful_invocations,
  failed_invocations, total_events_detected, total_jobs_run, total_jobs_succeeded, avg_duration_ms, min_duration_ms, max_duration_ms, p95_duration_ms
FROM $S.dashboard_stats WHERE source_function IN ('fn-a', 'fn-b') ORDER BY hour_bucket, source_function"
# fn-b's running row counts in total_invocations only.
expect "dashboard_stats per-hour aggregates incl. p95 (percentile_cont)" "$db" "$stats_q" \
$'f|fn-a|1|1|0|0|0|0|7.00|7|7|7.00\nt|fn-a|20|15|5|20|40|20|10.50|1|20|19.05\nt|fn-b|1|0|0|0|0|0||||'

# CONCURRENTLY after the first fill: it must succeed while another session reads the view (a plain
# REFRESH needs ACCESS EXCLUSIVE and would wait for the reader, here: hit lock_timeout).
q "$db" "INSERT INTO $S.invocations (created_at, source_function, status, total_duration_ms)
         VALUES (date_trunc('hour', now()) - interval '3 hours' + interval '30 minutes', 'fn-b', 'completed', 100)" >/dev/null
psql "$db" -X -q -c "BEGIN; SELECT count(*) FROM $S.dashboard_stats; SELECT pg_sleep(8); COMMIT;" >/dev/null 2>&1 &
reader=$!
for _ in $(seq 50); do
  [ "$(q "$db" "SELECT count(*) FROM pg_locks WHERE relation = '$S.dashboard_stats'::regclass AND mode = 'AccessShareLock' AND granted AND pid <> pg_backend_pid()")" = 1 ] && break
  sleep 0.1
done
expect "refresh_dashboard_stats() refreshes CONCURRENTLY once populated (not blocked by a reader)" "$db" "
SET lock_timeout = '2s'; SELECT $S.refresh_dashboard_stats();
SELECT total_invocations || ':' || successful_invocations || ':' || max_duration_ms FROM $S.dashboard_stats WHERE source_function = 'fn-b'" $'\n2:1:100'
expect_fail "a plain REFRESH would have been blocked by that reader (the check above can fail)" "$db" \
  "SET lock_timeout = '500ms'; REFRESH MATERIALIZED VIEW $S.dashboard_stats" "lock timeout"
kill "$reader" 2>/dev/null; wait "$reader" 2>/dev/null

expect "seed query PerformanceAnalytics: dashboard_stats over a time range, hour ascending" "$db" "
SELECT source_function || ':' || total_invocations || ':' || avg_duration_ms || ':' || successful_invocations || ':' || failed_invocations
FROM $S.dashboard_stats WHERE hour_bucket >= now() - interval '4 hours' AND source_function LIKE 'fn-%' ORDER BY hour_bucket, source_function" \
$'fn-a:20:10.50:15:5\nfn-b:2:100.00:1:0'

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
if grep -q '^  pending  001_initial$' <<<"$st0" && grep -q 'current version: none (0 applied, 1 pending)' <<<"$st0" \
   && grep -qE '^  applied  001_initial  [0-9]{4}-' <<<"$st1" && grep -q 'current version: 001 (1 applied, 0 pending)' <<<"$st1" \
   && [ $up1_rc -eq 0 ] && grep -q 'migrate: up 001_initial done' <<<"$up1"; then
  ok "migrate.sh up and status output (pending -> applied, current version)"
else not_ok "migrate.sh up and status output (pending -> applied, current version)" "$st0" "$up1" "$st1"; fi

dump "$mdb" > "$work/up1.sql"; dump "$db" "$S" > "$work/schema.sql.dump"
# The test db got data and extra rows only; its schema objects are exactly schema.sql's.
if diff "$work/up1.sql" "$work/schema.sql.dump" >"$work/d"; then ok "pg_dump -s: schema.sql == all up migrations"
else not_ok "pg_dump -s: schema.sql == all up migrations" "$(head -30 "$work/d")"; fi

down=$("$sql/migrate.sh" --db-url "$mdb" down 1 2>&1)
left=$(q "$mdb" "SELECT count(*) FROM pg_class WHERE relnamespace = '$S'::regnamespace AND relname <> 'schema_migrations' AND relname <> 'schema_migrations_pkey'")
"$sql/migrate.sh" --db-url "$mdb" up >/dev/null 2>&1
dump "$mdb" > "$work/up2.sql"
if [ "$left" = 0 ] && grep -q 'migrate: down 001_initial done' <<<"$down" && diff -q "$work/up1.sql" "$work/up2.sql" >/dev/null; then
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
printf 'CREATE TABLE half_done (x int);\nSELECT 1/0;\n' > "$mig/002_broken.up.sql"; echo 'DROP TABLE half_done;' > "$mig/002_broken.down.sql"
brk=$(EVENTSCOPE_MIGRATIONS_DIR=$mig "$sql/migrate.sh" --db-url "$mdb" up 2>&1); brk_rc=$?
brk_st=$(EVENTSCOPE_MIGRATIONS_DIR=$mig "$sql/migrate.sh" --db-url "$mdb" status 2>&1)
if [ $brk_rc -ne 0 ] && grep -q 'division by zero' <<<"$brk" && grep -q '002_broken.up.sql failed' <<<"$brk" \
   && [ "$(q "$mdb" "SELECT to_regclass('$S.half_done') IS NULL")" = t ] && grep -q '^  pending  002_broken$' <<<"$brk_st"; then
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
if [ "$alt" = $'\n\n50.00:1:1:0:1' ] && [ "$(tail -1 <<<"$purge")" = 1 ] && grep -q 'current version: 001' <<<"$alt_st"; then
  ok "a non-default schema name works (schema.sql -v schema=, migrate.sh --schema; functions bound to their own schema)"
else not_ok "a non-default schema name works (schema.sql -v schema=, migrate.sh --schema; functions bound to their own schema)" "$alt_out" "$alt" "$purge" "$alt_st"; fi
psql "$base" -X -q -c "DROP DATABASE IF EXISTS \"$mdb_name\" WITH (FORCE)" >/dev/null 2>&1

# ------------------------------------------------------------------------------------- indexes
# The FK columns every cascade and relationship walks are the leading column of some index.
expect "every foreign-key column leads an index (cascades and relationships stay indexed)" "$db" "
SELECT count(*) FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = '$S'::regnamespace
AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])" "0"
expect "the trace query uses the correlation_id index" "$db" "
SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT * FROM $S.invocations WHERE correlation_id = 'x' ORDER BY created_at" \
"Index Scan using invocations_correlation_id_created_at_idx on invocations
  Index Cond: (correlation_id = 'x'::text)"

# ------------------------------------------------------------------------------------- metadata
meta_out=$(python3 "$root/tests/sql/check_metadata.py" "$root/hasura-metadata" "$db" 2>&1); meta_rc=$?
if [ $meta_rc -eq 0 ] && [[ $meta_out == SKIP* ]]; then
  ok "hasura-metadata checked against the catalog # SKIP $meta_out"
elif [ $meta_rc -eq 0 ]; then ok "hasura-metadata names only tables, columns, functions that exist; relationships, permissions and root fields complete"
else not_ok "hasura-metadata names only tables, columns, functions that exist; relationships, permissions and root fields complete" "$meta_out"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
