#!/usr/bin/env bash
# Storage and retention measurements behind sql/README.md ("Scale (001)"), on the schema of migration 001.
#   sql/bench/measure-storage.sh [N_INVOCATIONS]   (default 200000 -> 1M job rows)
# Starts a throwaway cluster with PostgreSQL defaults (fsync on), applies sql/schema.sql, generates a
# month of data in SQL (per invocation: 2 event executions, one detected with 5 jobs, 1 log line per job),
# then prints bytes per row after VACUUM, the fillfactor / HOT experiment and the retention cost.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-200000}
dir=$(mktemp -d /tmp/eventscope-bench.XXXXXX)
trap '"$root/scripts/pg-cluster.sh" remove "$dir/pg" >/dev/null 2>&1; rm -rf "$dir"' EXIT
url=$(EVENTSCOPE_PG_OPTS="-c max_wal_size=4GB" "$root/scripts/pg-cluster.sh" start "$dir/pg")
export PGOPTIONS="-c client_min_messages=warning"
P() { psql "$url" -X -q -v ON_ERROR_STOP=1 "$@"; }
# The schema of 001 (plain tables, foreign keys): this script measures the decisions taken then (sql/README.md
# "Scale (001)"). 002's figures come from benchmarks/dashboard/compare.sh.
mkdir -p "$dir/m001" && cp "$root"/sql/migrations/001_* "$dir/m001/"
EVENTSCOPE_MIGRATIONS_DIR="$dir/m001" "$root/sql/migrate.sh" --db-url "$url" up >/dev/null
echo "== generating $N invocations, $((2 * N)) event executions, $((5 * N)) job executions, $((5 * N)) job logs"
start=$(date +%s)
P -v n="$N" <<'EOF'
SET search_path TO event_detector_observability;
-- UUIDv7 (what the library writes): 48-bit ms timestamp first, so ids arrive roughly in order.
CREATE FUNCTION pg_temp.uuid7(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
          || '8' || substr(md5(random()::text), 1, 15))::uuid $$;
CREATE TEMP TABLE inv AS
SELECT g, pg_temp.uuid7(t) AS id, t, pg_temp.uuid7(t + interval '1 ms') AS e1, pg_temp.uuid7(t + interval '2 ms') AS e2,
       CASE WHEN g % 3 = 0 THEN 'user' || (g % 997) || '@example.com' ELSE 'orders-service.' || gen_random_uuid() END AS corr
FROM (SELECT g, now() - interval '30 days' + (g::float8 / :n) * interval '30 days' AS t FROM generate_series(1, :n) g) s;
\timing on
INSERT INTO invocations (id, created_at, updated_at, correlation_id, correlation_source, source_function, source_table,
  source_operation, source_system, source_event_id, source_event_time, source_user_email, source_user_role, total_duration_ms,
  events_detected_count, total_jobs_run, total_jobs_succeeded, total_jobs_failed, auto_load_modules, event_modules_directory, status)
SELECT id, t, t + interval '80 ms', corr, CASE WHEN g % 3 = 0 THEN 'updated_by' ELSE 'generated' END, 'fn-' || (g % 7), 'orders',
  'UPDATE', 'hasura', gen_random_uuid(), t - interval '5 ms', 'user@example.com', 'user', 20 + g % 200, 1, 5, 5 - (g % 50 = 0)::int,
  (g % 50 = 0)::int, true, './events', CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'completed' END
FROM inv ORDER BY g;
INSERT INTO event_executions (id, created_at, updated_at, invocation_id, correlation_id, event_name, event_module_path, detected,
  detection_duration_ms, handler_duration_ms, jobs_count, jobs_succeeded, jobs_failed, status)
SELECT e, t, t, id, corr, name, './events/' || name || '.js', d, 1, CASE WHEN d THEN 60 END, CASE WHEN d THEN 5 ELSE 0 END,
  CASE WHEN d THEN 5 - (g % 50 = 0)::int ELSE 0 END, CASE WHEN d THEN (g % 50 = 0)::int ELSE 0 END,
  CASE WHEN NOT d THEN 'not_detected' WHEN g % 50 = 0 THEN 'failed' ELSE 'completed' END
FROM inv, LATERAL (VALUES (e1, 'orders.shipped', true), (e2, 'orders.cancelled', false)) v(e, name, d) ORDER BY g, e;
INSERT INTO job_executions (id, created_at, updated_at, invocation_id, event_execution_id, correlation_id, job_name,
  job_function_name, job_options, duration_ms, status, result, error_message, error_type)
SELECT pg_temp.uuid7(t + k * interval '10 ms'), t + k * interval '10 ms', t + k * interval '10 ms' + interval '9 ms', id, e1, corr,
  'job-' || ((g + k) % 20), 'runJob' || ((g + k) % 20), '{"retries": 3, "timeout": 5000}', 5 + (g * k) % 90,
  CASE WHEN g % 50 = 0 AND k = 5 THEN 'failed' ELSE 'completed' END,
  CASE WHEN g % 50 = 0 AND k = 5 THEN NULL ELSE jsonb_build_object('ok', true, 'rows', k) END,
  CASE WHEN g % 50 = 0 AND k = 5 THEN 'timeout after 5000 ms' END, CASE WHEN g % 50 = 0 AND k = 5 THEN 'TimeoutError' END
FROM inv, generate_series(1, 5) k ORDER BY g, k;
INSERT INTO job_logs (id, created_at, updated_at, job_execution_id, invocation_id, correlation_id, level, message, logged_at)
SELECT pg_temp.uuid7(j.created_at), j.created_at, j.created_at, j.id, j.invocation_id, j.correlation_id, 'info',
  'processed order batch', j.created_at + interval '1 ms'
FROM job_executions j ORDER BY j.created_at;
\timing off
EOF
echo "generated in $(( $(date +%s) - start )) s"
P -c "VACUUM (ANALYZE)" 
sizes() {
  P -c "
SELECT c.relname AS table, c.reltuples::bigint AS rows,
       pg_relation_size(c.oid) / 1048576 AS heap_mb, (pg_total_relation_size(c.oid) - pg_relation_size(c.oid)) / 1048576 AS idx_toast_mb,
       round(pg_relation_size(c.oid)::numeric / greatest(c.reltuples, 1)) AS heap_b_per_row,
       round((pg_total_relation_size(c.oid) - pg_relation_size(c.oid))::numeric / greatest(c.reltuples, 1)) AS idx_b_per_row,
       round(pg_total_relation_size(c.oid)::numeric / greatest(c.reltuples, 1)) AS total_b_per_row
FROM pg_class c WHERE c.relnamespace = '$1'::regnamespace AND c.relkind = 'r' AND c.relname $2 ORDER BY 1"
}
echo "== sizes after VACUUM (schema.sql as is: fillfactor 90 on invocations only; rows written once, final)"
sizes event_detector_observability "<> 'schema_migrations'"
P -c "SELECT i.relname AS index, round(pg_relation_size(i.oid)::numeric / greatest(t.reltuples, 1)::numeric, 1) AS b_per_row
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
      WHERE t.relname = 'job_executions' AND t.relnamespace = 'event_detector_observability'::regnamespace ORDER BY 1"
P -c "SELECT round(sum(pg_total_relation_size(c.oid))::numeric / $N) AS bytes_per_invocation_with_5_jobs_2_events_5_logs,
             round(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname <> 'job_logs')::numeric / $N) AS without_logs
      FROM pg_class c WHERE c.relnamespace = 'event_detector_observability'::regnamespace AND c.relkind = 'r' AND c.relname <> 'schema_migrations'"

echo "== fillfactor / HOT: a share of the job rows written 'running', then completed by the staging upsert"
for pair in 100:0 90:0 100:10 90:10 100:100 90:100; do
    ff=${pair%:*}; share=${pair#*:}
    P <<EOF
SET search_path TO event_detector_observability;
DROP SCHEMA IF EXISTS ff CASCADE; CREATE SCHEMA ff;
CREATE TABLE ff.j (LIKE job_executions INCLUDING ALL) WITH (fillfactor = $ff);
CREATE TRIGGER j_upd BEFORE UPDATE ON ff.j FOR EACH ROW EXECUTE FUNCTION set_updated_at();
-- first flush: $share% of the jobs still running (no duration/result yet), the rest already final
INSERT INTO ff.j SELECT id, created_at, updated_at, invocation_id, event_execution_id,
  CASE WHEN abs(hashtext(id::text)) % 100 < $share THEN NULL ELSE duration_ms END, correlation_id, job_name, job_function_name,
  CASE WHEN abs(hashtext(id::text)) % 100 < $share THEN 'running' ELSE status END, error_message, error_stack, error_type, job_options,
  CASE WHEN abs(hashtext(id::text)) % 100 < $share THEN NULL ELSE result END
FROM job_executions ORDER BY created_at;
VACUUM ANALYZE ff.j;
-- next flushes complete them, 1% of the rows per batch, one transaction per batch as the sink would
-- (committing matters: page pruning can reuse the space of versions a committed batch left dead)
CREATE TEMP TABLE stage (LIKE job_executions);
CREATE PROCEDURE ff.complete() LANGUAGE plpgsql AS \$\$
DECLARE lo timestamptz; hi timestamptz; step interval;
BEGIN
  SELECT min(created_at), max(created_at) INTO lo, hi FROM ff.j;
  step := (hi - lo) / 100;
  FOR b IN 0..100 LOOP
    TRUNCATE stage;
    INSERT INTO stage SELECT * FROM job_executions WHERE created_at >= lo + b * step AND created_at < lo + (b + 1) * step
      AND abs(hashtext(id::text)) % 100 < $share;
    INSERT INTO ff.j AS t SELECT * FROM stage
    ON CONFLICT (id) DO UPDATE SET duration_ms = EXCLUDED.duration_ms, status = EXCLUDED.status, result = EXCLUDED.result,
      error_message = EXCLUDED.error_message, error_stack = EXCLUDED.error_stack, error_type = EXCLUDED.error_type
    WHERE t.status = 'running';
    COMMIT;
  END LOOP;
END \$\$;
\\timing on
CALL ff.complete();
\\timing off
\\o /dev/null
SELECT pg_stat_force_next_flush();
EOF
    P -At -c "SELECT format('fillfactor %s, %s%% updated: %s updates, %s%% HOT', $ff, $share, n_tup_upd, round(100.0 * n_tup_hot_upd / greatest(n_tup_upd, 1), 1)) FROM pg_stat_user_tables WHERE schemaname = 'ff' AND relname = 'j'"
    P -c "VACUUM ANALYZE ff.j"
    sizes ff "= 'j'"
done
P -c "DROP SCHEMA ff CASCADE"

echo "== retention: delete the oldest 3 of 30 days (10%) with delete_observability_data_older_than(27, 5000), one batch per transaction"
start=$(date +%s%N); batches=0
while :; do
  r=$(P -At -c "SELECT invocations_deleted || ' ' || job_executions_deleted FROM event_detector_observability.delete_observability_data_older_than(27, 5000)")
  [ "${r%% *}" = 0 ] && break; batches=$((batches + 1))
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "batched delete: $batches batches in $ms ms, $(( N / 10 * 1000 / (ms + 1) )) invocations/s (each with 2 events, 5 jobs, 5 logs)"
start=$(date +%s%N)
P -c "DELETE FROM event_detector_observability.invocations WHERE created_at < now() - interval '24 days'"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "the seed's single cascading DELETE of the next 10%: $ms ms"
start=$(date +%s%N); P -c "VACUUM event_detector_observability.job_executions, event_detector_observability.job_logs, event_detector_observability.event_executions, event_detector_observability.invocations"
echo "VACUUM after deleting 20%: $(( ($(date +%s%N) - start) / 1000000 )) ms"

echo "== dashboard queries on this data (EXPLAIN ANALYZE execution times)"
for qry in \
  "SELECT * FROM invocations ORDER BY created_at DESC LIMIT 50" \
  "SELECT * FROM invocations WHERE source_function = 'fn-3' ORDER BY created_at DESC LIMIT 50" \
  "SELECT * FROM invocations WHERE status = 'failed' ORDER BY created_at DESC LIMIT 50" \
  "SELECT * FROM invocations WHERE correlation_id = 'user5@example.com' ORDER BY created_at" \
  "SELECT job_name, count(*), avg(duration_ms), count(*) FILTER (WHERE status = 'failed') FROM job_executions WHERE created_at > now() - interval '24 hours' GROUP BY job_name" \
  "SELECT * FROM job_executions WHERE job_name = 'job-3' AND created_at > now() - interval '24 hours' ORDER BY duration_ms DESC NULLS LAST LIMIT 20" \
  "SELECT event_detector_observability.refresh_dashboard_stats()"; do
  t=$(P -At -c "SET search_path TO event_detector_observability; EXPLAIN (ANALYZE, FORMAT JSON) $qry" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])')
  printf '%8.1f ms  %s\n' "$t" "$qry"
done
