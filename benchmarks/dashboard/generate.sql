-- Dashboard benchmark data, generated in SQL straight from generate_series (no temporary tables, no per-row
-- function calls beyond expressions): :n invocations over the last 30 days, each with 2 event executions (one
-- detected with 5 jobs, one not detected), 5 job executions and 1 log line per job: 5 * :n job rows. Works on
-- the schema of 001 (plain tables, foreign keys: parents are inserted first) and of 002 (partitions; the rollup
-- triggers aggregate each statement once). The shape (names, statuses, durations, 2 % failures, correlation ids)
-- is the one the benchmarks of issue 6 used, so figures compare.
-- UUIDv7 ids: the row's millisecond, then a per-table tag and the row number (unique, time-ordered).
--   psql -v n=2000000 -f benchmarks/dashboard/generate.sql
SET search_path TO event_detector_observability;
SET client_min_messages = warning;
SET synchronous_commit = off;  -- data generation only: the benchmarks measure reads
\set span_ms 2592000000
SELECT (extract(epoch FROM now()) * 1000)::bigint - :span_ms AS t0 \gset
-- 002: a partition for every day of the data (rows go straight into them)
SELECT to_regproc('create_partitions') IS NOT NULL AS partitioned \gset
\if :partitioned
SELECT create_partitions(7, ((now() - interval '31 days') AT TIME ZONE 'UTC')::date);
\endif

-- 004: the invocation's child names, as the sink writes them (sorted, distinct): its two events and its 5 jobs
SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'invocations'
               AND column_name = 'child_names') AS named \gset
\if :named
\set names_col ', child_names'
\set names_val ', jsonb_build_object(''events'', jsonb_build_array(''orders.cancelled'', ''orders.shipped''), ''jobs'', (SELECT jsonb_agg(DISTINCT (''job-'' || ((g + k) % 20)) COLLATE "C" ORDER BY (''job-'' || ((g + k) % 20)) COLLATE "C") FROM generate_series(1, 5) k))'
\else
\set names_col ''
\set names_val ''
\endif
-- invocation g at t0 + g/n * 30 days; uuid of (ms, tag, row number)
INSERT INTO invocations (id, created_at, updated_at, correlation_id, correlation_source, source_function, source_table,
  source_operation, source_system, source_event_id, source_event_time, source_user_email, source_user_role, total_duration_ms,
  events_detected_count, total_jobs_run, total_jobs_succeeded, total_jobs_failed, auto_load_modules, event_modules_directory, status :names_col)
SELECT (lpad(to_hex(ms), 12, '0') || '7001' || lpad(to_hex(g), 16, '0'))::uuid, t, t + interval '80 ms',
  CASE WHEN g % 3 = 0 THEN 'user' || (g % 997) || '@example.com' ELSE 'orders-service.' || md5(g::text)::uuid END,
  CASE WHEN g % 3 = 0 THEN 'updated_by' ELSE 'generated' END, 'fn-' || (g % 7), 'orders',
  'UPDATE', 'hasura', md5('e' || g)::uuid, t - interval '5 ms', 'user' || (g % 997) || '@example.com', 'user', 20 + g % 200, 1, 5,
  5 - (g % 50 = 0)::int, (g % 50 = 0)::int, true, './events', CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'completed' END :names_val
FROM (SELECT g, ms, to_timestamp(ms / 1000.0) AS t
      FROM (SELECT g, :t0 + (g * (:span_ms / :n::float8))::bigint AS ms FROM generate_series(1, :n) g) a) s;

-- 002 keeps the invocation's source function on each event row (as the sink writes it)
\if :partitioned
INSERT INTO event_executions (id, created_at, updated_at, invocation_id, correlation_id, event_name, event_module_path, detected,
  detection_duration_ms, handler_duration_ms, jobs_count, jobs_succeeded, jobs_failed, status, source_function)
SELECT (lpad(to_hex(ms + e), 12, '0') || '700' || e || lpad(to_hex(g), 16, '0'))::uuid, t, t,
  (lpad(to_hex(ms), 12, '0') || '7001' || lpad(to_hex(g), 16, '0'))::uuid,
  CASE WHEN g % 3 = 0 THEN 'user' || (g % 997) || '@example.com' ELSE 'orders-service.' || md5(g::text)::uuid END,
  CASE WHEN e = 2 THEN 'orders.shipped' ELSE 'orders.cancelled' END, CASE WHEN e = 2 THEN './events/orders.shipped.js' ELSE './events/orders.cancelled.js' END,
  e = 2, 1, CASE WHEN e = 2 THEN 60 END, CASE WHEN e = 2 THEN 5 ELSE 0 END,
  CASE WHEN e = 2 THEN 5 - (g % 50 = 0)::int ELSE 0 END, CASE WHEN e = 2 THEN (g % 50 = 0)::int ELSE 0 END,
  CASE WHEN e = 3 THEN 'not_detected' WHEN g % 50 = 0 THEN 'failed' ELSE 'completed' END, 'fn-' || (g % 7)
FROM (SELECT g, ms, to_timestamp(ms / 1000.0) AS t
      FROM (SELECT g, :t0 + (g * (:span_ms / :n::float8))::bigint AS ms FROM generate_series(1, :n) g) a) s,
     generate_series(2, 3) e;

\else
INSERT INTO event_executions (id, created_at, updated_at, invocation_id, correlation_id, event_name, event_module_path, detected,
  detection_duration_ms, handler_duration_ms, jobs_count, jobs_succeeded, jobs_failed, status)
SELECT (lpad(to_hex(ms + e), 12, '0') || '700' || e || lpad(to_hex(g), 16, '0'))::uuid, t, t,
  (lpad(to_hex(ms), 12, '0') || '7001' || lpad(to_hex(g), 16, '0'))::uuid,
  CASE WHEN g % 3 = 0 THEN 'user' || (g % 997) || '@example.com' ELSE 'orders-service.' || md5(g::text)::uuid END,
  CASE WHEN e = 2 THEN 'orders.shipped' ELSE 'orders.cancelled' END, CASE WHEN e = 2 THEN './events/orders.shipped.js' ELSE './events/orders.cancelled.js' END,
  e = 2, 1, CASE WHEN e = 2 THEN 60 END, CASE WHEN e = 2 THEN 5 ELSE 0 END,
  CASE WHEN e = 2 THEN 5 - (g % 50 = 0)::int ELSE 0 END, CASE WHEN e = 2 THEN (g % 50 = 0)::int ELSE 0 END,
  CASE WHEN e = 3 THEN 'not_detected' WHEN g % 50 = 0 THEN 'failed' ELSE 'completed' END
FROM (SELECT g, ms, to_timestamp(ms / 1000.0) AS t
      FROM (SELECT g, :t0 + (g * (:span_ms / :n::float8))::bigint AS ms FROM generate_series(1, :n) g) a) s,
     generate_series(2, 3) e;

\endif
INSERT INTO job_executions (id, created_at, updated_at, invocation_id, event_execution_id, correlation_id, job_name,
  job_function_name, job_options, duration_ms, status, result, error_message, error_type)
SELECT (lpad(to_hex(ms + k * 10), 12, '0') || '710' || k || lpad(to_hex(g), 16, '0'))::uuid,
  t + k * interval '10 ms', t + k * interval '10 ms' + interval '9 ms',
  (lpad(to_hex(ms), 12, '0') || '7001' || lpad(to_hex(g), 16, '0'))::uuid,
  (lpad(to_hex(ms + 2), 12, '0') || '7002' || lpad(to_hex(g), 16, '0'))::uuid,
  CASE WHEN g % 3 = 0 THEN 'user' || (g % 997) || '@example.com' ELSE 'orders-service.' || md5(g::text)::uuid END,
  'job-' || ((g + k) % 20), 'runJob' || ((g + k) % 20), '{"retries": 3, "timeout": 5000}', 5 + (g * k) % 90,
  CASE WHEN g % 50 = 0 AND k = 5 THEN 'failed' ELSE 'completed' END,
  CASE WHEN g % 50 = 0 AND k = 5 THEN NULL ELSE jsonb_build_object('ok', true, 'rows', k) END,
  CASE WHEN g % 50 = 0 AND k = 5 THEN 'timeout after 5000 ms' END, CASE WHEN g % 50 = 0 AND k = 5 THEN 'TimeoutError' END
FROM (SELECT g, ms, to_timestamp(ms / 1000.0) AS t
      FROM (SELECT g, :t0 + (g * (:span_ms / :n::float8))::bigint AS ms FROM generate_series(1, :n) g) a) s,
     generate_series(1, 5) k;

INSERT INTO job_logs (id, created_at, updated_at, job_execution_id, invocation_id, correlation_id, level, message, logged_at)
SELECT (lpad(to_hex(ms + k * 10), 12, '0') || '720' || k || lpad(to_hex(g), 16, '0'))::uuid,
  t + k * interval '10 ms', t + k * interval '10 ms',
  (lpad(to_hex(ms + k * 10), 12, '0') || '710' || k || lpad(to_hex(g), 16, '0'))::uuid,
  (lpad(to_hex(ms), 12, '0') || '7001' || lpad(to_hex(g), 16, '0'))::uuid,
  CASE WHEN g % 3 = 0 THEN 'user' || (g % 997) || '@example.com' ELSE 'orders-service.' || md5(g::text)::uuid END,
  'info', 'processed order batch', t + k * interval '10 ms' + interval '1 ms'
FROM (SELECT g, ms, to_timestamp(ms / 1000.0) AS t
      FROM (SELECT g, :t0 + (g * (:span_ms / :n::float8))::bigint AS ms FROM generate_series(1, :n) g) a) s,
     generate_series(1, 5) k;

-- 001's materialized dashboard_stats needs its refresh; 002's rollups are current already (this rebuilds them).
SELECT refresh_dashboard_stats() WHERE to_regclass('invocation_rollup') IS NULL;

-- What a running sink does within the hour (create_partitions() at connect and hourly): the partitions' indexes
-- that follow the data, e.g. 011's slow-jobs index, whose threshold comes from the last 7 days of jobs (none
-- existed when the partitions were made above).
\if :partitioned
SELECT create_partitions();
\endif
