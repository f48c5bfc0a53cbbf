-- Dashboard benchmark data, generated in SQL (no COPY): :n invocations over the last 30 days, each with 2 event
-- executions (one detected with 5 jobs, one not detected), 5 job executions and 1 log line per job: 5 * :n job rows.
-- The shape is sql/bench/measure-storage.sh's (sql/README.md "Scale"), so bytes/row figures there apply.
SET search_path TO event_detector_observability;
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.uuid7(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
          || '8' || substr(md5(random()::text), 1, 15))::uuid $$;
CREATE TEMP TABLE inv AS
SELECT g, pg_temp.uuid7(t) AS id, t, pg_temp.uuid7(t + interval '1 ms') AS e1, pg_temp.uuid7(t + interval '2 ms') AS e2,
       CASE WHEN g % 3 = 0 THEN 'user' || (g % 997) || '@example.com' ELSE 'orders-service.' || gen_random_uuid() END AS corr
FROM (SELECT g, now() - interval '30 days' + (g::float8 / :n) * interval '30 days' AS t FROM generate_series(1, :n) g) s;
INSERT INTO invocations (id, created_at, updated_at, correlation_id, correlation_source, source_function, source_table,
  source_operation, source_system, source_event_id, source_event_time, source_user_email, source_user_role, total_duration_ms,
  events_detected_count, total_jobs_run, total_jobs_succeeded, total_jobs_failed, auto_load_modules, event_modules_directory, status)
SELECT id, t, t + interval '80 ms', corr, CASE WHEN g % 3 = 0 THEN 'updated_by' ELSE 'generated' END, 'fn-' || (g % 7), 'orders',
  'UPDATE', 'hasura', gen_random_uuid(), t - interval '5 ms', 'user' || (g % 997) || '@example.com', 'user', 20 + g % 200, 1, 5,
  5 - (g % 50 = 0)::int, (g % 50 = 0)::int, true, './events', CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'completed' END
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
SELECT refresh_dashboard_stats();
