-- Reverts 002_scale: back to the plain tables of 001 with their foreign keys, indexes and the materialized
-- dashboard_stats; the data is kept (event_executions.source_function, only a copy of its invocation's, is
-- dropped). Rows 001's foreign keys cannot hold (children without a parent: possible without the keys) are
-- deleted with a notice; links to missing jobs become NULL, as ON DELETE SET NULL would have made them.

DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I RESET jit', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'could not reset jit for database %', current_database();
END
$$;
DROP FUNCTION drop_old_partitions(integer, integer);
DROP FUNCTION partition_health();
DROP FUNCTION correlation_coverage(interval);
DROP FUNCTION event_job_success_rate(event_executions);
DROP FUNCTION invocation_avg_job_duration(invocations);
DROP FUNCTION invocation_success_rate(invocations);
DROP VIEW rollup_source_functions, rollup_event_names, rollup_job_names, rollup_correlation_sources;
DROP FUNCTION refresh_dashboard_stats();
DROP VIEW dashboard_stats;

-- The partitioned tables become the source of the copy (triggers, indexes and functions go with them).
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['invocations', 'event_executions', 'job_executions', 'job_logs'] LOOP
    EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_v002');
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', t || '_v002', t || '_pkey', t || '_v002_pkey');
  END LOOP;
END
$$;
DROP INDEX invocations_created_at_idx, invocations_source_function_created_at_idx, invocations_correlation_id_created_at_idx,
  invocations_source_job_id_idx, invocations_failed_created_at_idx, invocations_source_event_payload_idx, event_executions_invocation_id_idx, event_executions_created_at_idx,
  job_executions_invocation_id_idx, job_executions_duration_ms_idx, job_executions_created_at_idx, job_logs_job_execution_id_idx;

-- The tables of 001 (its text).
CREATE TABLE invocations (
  id                      uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL DEFAULT now(),
  source_job_id           uuid,
  source_event_id         uuid,
  source_event_time       timestamptz,
  total_duration_ms       integer,
  events_detected_count   integer DEFAULT 0,
  total_jobs_run          integer DEFAULT 0,
  total_jobs_succeeded    integer DEFAULT 0,
  total_jobs_failed       integer DEFAULT 0,
  auto_load_modules       boolean,
  correlation_id          text,
  correlation_source      text        NOT NULL DEFAULT 'generated',
  source_function         text        NOT NULL,
  source_table            text,
  source_operation        text,
  source_system           text,
  source_user_email       text,
  source_user_role        text,
  event_modules_directory text,
  status                  text        NOT NULL,
  error_message           text,
  error_stack             text,
  error_type              text,
  source_event_payload    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  context_data            jsonb,
  CONSTRAINT invocations_pkey PRIMARY KEY (id),
  CONSTRAINT invocations_status_check CHECK (status IN ('running', 'completed', 'failed'))
) WITH (fillfactor = 90);

CREATE TABLE event_executions (
  id                    uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  invocation_id         uuid        NOT NULL,
  detection_duration_ms integer,
  handler_duration_ms   integer,
  jobs_count            integer DEFAULT 0,
  jobs_succeeded        integer DEFAULT 0,
  jobs_failed           integer DEFAULT 0,
  detected              boolean     NOT NULL DEFAULT false,
  correlation_id        text,
  event_name            text        NOT NULL,
  event_module_path     text,
  status                text        NOT NULL,
  detection_error       text,
  detection_error_stack text,
  handler_error         text,
  handler_error_stack   text,
  CONSTRAINT event_executions_pkey PRIMARY KEY (id),
  CONSTRAINT event_executions_status_check CHECK (status IN
    ('detecting', 'not_detected', 'handling', 'completed', 'failed', 'detection_failed', 'handler_failed'))
);

CREATE TABLE job_executions (
  id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  invocation_id      uuid        NOT NULL,
  event_execution_id uuid        NOT NULL,
  duration_ms        integer,
  correlation_id     text,
  job_name           text        NOT NULL,
  job_function_name  text,
  status             text        NOT NULL,
  error_message      text,
  error_stack        text,
  error_type         text,
  job_options        jsonb,
  result             jsonb,
  CONSTRAINT job_executions_pkey PRIMARY KEY (id),
  CONSTRAINT job_executions_status_check CHECK (status IN ('running', 'completed', 'failed'))
);

CREATE TABLE job_logs (
  id               uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  job_execution_id uuid        NOT NULL,
  invocation_id    uuid,
  logged_at        timestamptz,
  correlation_id   text,
  level            text,
  message          text,
  data             jsonb,
  CONSTRAINT job_logs_pkey PRIMARY KEY (id)
);


INSERT INTO invocations (id, created_at, updated_at, source_job_id, source_event_id, source_event_time, total_duration_ms,
  events_detected_count, total_jobs_run, total_jobs_succeeded, total_jobs_failed, auto_load_modules, correlation_id,
  correlation_source, source_function, source_table, source_operation, source_system, source_user_email, source_user_role,
  event_modules_directory, status, error_message, error_stack, error_type, source_event_payload, context_data)
SELECT id, created_at, updated_at, source_job_id, source_event_id, source_event_time, total_duration_ms,
  events_detected_count, total_jobs_run, total_jobs_succeeded, total_jobs_failed, auto_load_modules, correlation_id,
  correlation_source, source_function, source_table, source_operation, source_system, source_user_email, source_user_role,
  event_modules_directory, status, error_message, error_stack, error_type, source_event_payload, context_data
FROM invocations_v002;
INSERT INTO event_executions (id, created_at, updated_at, invocation_id, detection_duration_ms, handler_duration_ms,
  jobs_count, jobs_succeeded, jobs_failed, detected, correlation_id, event_name, event_module_path, status,
  detection_error, detection_error_stack, handler_error, handler_error_stack)
SELECT id, created_at, updated_at, invocation_id, detection_duration_ms, handler_duration_ms,
  jobs_count, jobs_succeeded, jobs_failed, detected, correlation_id, event_name, event_module_path, status,
  detection_error, detection_error_stack, handler_error, handler_error_stack
FROM event_executions_v002 e WHERE EXISTS (SELECT 1 FROM invocations_v002 i WHERE i.id = e.invocation_id);
INSERT INTO job_executions (id, created_at, updated_at, invocation_id, event_execution_id, duration_ms, correlation_id,
  job_name, job_function_name, status, error_message, error_stack, error_type, job_options, result)
SELECT id, created_at, updated_at, invocation_id, event_execution_id, duration_ms, correlation_id,
  job_name, job_function_name, status, error_message, error_stack, error_type, job_options, result
FROM job_executions_v002 j WHERE EXISTS (SELECT 1 FROM invocations_v002 i WHERE i.id = j.invocation_id)
  AND EXISTS (SELECT 1 FROM event_executions_v002 e WHERE e.id = j.event_execution_id);
INSERT INTO job_logs (id, created_at, updated_at, job_execution_id, invocation_id, logged_at, correlation_id, level,
  message, data)
SELECT id, created_at, updated_at, job_execution_id, invocation_id, logged_at, correlation_id, level, message, data
FROM job_logs_v002 l WHERE EXISTS (SELECT 1 FROM job_executions j WHERE j.id = l.job_execution_id);
UPDATE invocations i SET source_job_id = NULL
WHERE source_job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM job_executions j WHERE j.id = i.source_job_id);
DO $$
DECLARE lost text;
BEGIN
  SELECT string_agg(format('%s %s', n, t), ', ') INTO lost FROM (
    SELECT 'event_executions' t, (SELECT count(*) FROM event_executions_v002) - (SELECT count(*) FROM event_executions) n
    UNION ALL SELECT 'job_executions', (SELECT count(*) FROM job_executions_v002) - (SELECT count(*) FROM job_executions)
    UNION ALL SELECT 'job_logs', (SELECT count(*) FROM job_logs_v002) - (SELECT count(*) FROM job_logs)) s WHERE n > 0;
  IF lost IS NOT NULL THEN
    RAISE NOTICE '002_scale down: rows without a parent were not kept (001''s foreign keys forbid them): %', lost;
  END IF;
END
$$;
DROP TABLE job_logs_v002, job_executions_v002, event_executions_v002, invocations_v002;
DROP FUNCTION rollup_invocations_insert(), rollup_invocations_update(), rollup_event_executions_insert(),
  rollup_event_executions_update(), rollup_job_executions_insert(), rollup_job_executions_update(),
  cascade_invocations_delete(), cascade_event_executions_delete(), cascade_job_executions_delete(), rollup_after_truncate();
DROP FUNCTION create_partitions(integer, date);
DROP FUNCTION partition_name(text, date);
DROP FUNCTION partition_start(date, integer);
DROP FUNCTION partition_ranges(text);
DROP TABLE partition_settings;

-- Foreign keys exactly as data-model.md. invocations.source_job_id is added after job_executions exists
-- (the two tables reference each other).
ALTER TABLE event_executions ADD CONSTRAINT event_executions_invocation_id_fkey
  FOREIGN KEY (invocation_id) REFERENCES invocations (id) ON DELETE CASCADE;
ALTER TABLE job_executions ADD CONSTRAINT job_executions_invocation_id_fkey
  FOREIGN KEY (invocation_id) REFERENCES invocations (id) ON DELETE CASCADE;
ALTER TABLE job_executions ADD CONSTRAINT job_executions_event_execution_id_fkey
  FOREIGN KEY (event_execution_id) REFERENCES event_executions (id) ON DELETE CASCADE;
ALTER TABLE job_logs ADD CONSTRAINT job_logs_job_execution_id_fkey
  FOREIGN KEY (job_execution_id) REFERENCES job_executions (id) ON DELETE CASCADE;
ALTER TABLE invocations ADD CONSTRAINT invocations_source_job_id_fkey
  FOREIGN KEY (source_job_id) REFERENCES job_executions (id) ON DELETE SET NULL;

CREATE TRIGGER invocations_set_updated_at BEFORE UPDATE ON invocations
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_executions_set_updated_at BEFORE UPDATE ON event_executions
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER job_executions_set_updated_at BEFORE UPDATE ON job_executions
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER job_logs_set_updated_at BEFORE UPDATE ON job_logs
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Indexes: each one serves a named query (sql/README.md, "Indexes"). No index contains a column that
-- changes when a row is completed (status, duration, result), so completing a row in place can be HOT.
CREATE INDEX invocations_created_at_idx ON invocations (created_at);
CREATE INDEX invocations_source_function_created_at_idx ON invocations (source_function, created_at);
CREATE INDEX invocations_correlation_id_created_at_idx ON invocations (correlation_id, created_at);
-- Partial: most invocations have no source job; the SET NULL cascade's lookup (source_job_id = $1) implies
-- IS NOT NULL, so it still uses this index.
CREATE INDEX invocations_source_job_id_idx ON invocations (source_job_id) WHERE source_job_id IS NOT NULL;

CREATE INDEX event_executions_invocation_id_idx ON event_executions (invocation_id);
CREATE INDEX event_executions_created_at_idx ON event_executions (created_at);

CREATE INDEX job_executions_invocation_id_idx ON job_executions (invocation_id);
CREATE INDEX job_executions_event_execution_id_idx ON job_executions (event_execution_id);
CREATE INDEX job_executions_created_at_idx ON job_executions (created_at);
CREATE INDEX job_executions_job_name_created_at_idx ON job_executions (job_name, created_at);

CREATE INDEX job_logs_job_execution_id_idx ON job_logs (job_execution_id);

DROP FUNCTION check_rollups(timestamptz, timestamptz);
DROP FUNCTION rebuild_rollups(timestamptz, timestamptz, text[]);
DROP FUNCTION rollup_tables(text);
DROP FUNCTION rollup_sql(text, text, text);
DROP TABLE invocation_rollup, invocation_hourly, correlation_rollup, event_rollup, job_rollup;
DROP FUNCTION uuid7_time(uuid);
DROP FUNCTION uuid7_lower(timestamptz);
DROP FUNCTION status_rank(text);
DROP FUNCTION hist_quantile(integer[], float8);
DROP FUNCTION hist_from(integer[], bigint[]);
DROP AGGREGATE hist_sum(integer[]);
DROP FUNCTION hist_add(integer[], integer[]);
DROP FUNCTION duration_bucket_value(integer);
DROP FUNCTION duration_bucket(integer);

-- The computed fields, coverage and dashboard_stats of 001.
CREATE FUNCTION invocation_success_rate(inv invocations) RETURNS numeric
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT CASE WHEN COALESCE(inv.total_jobs_run, 0) = 0 THEN 100::numeric
              ELSE round(COALESCE(inv.total_jobs_succeeded, 0) * 100.0 / inv.total_jobs_run, 2) END;
END;

CREATE FUNCTION invocation_avg_job_duration(inv invocations) RETURNS numeric
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT round(avg(j.duration_ms), 2) FROM job_executions j WHERE j.invocation_id = inv.id;
END;

CREATE FUNCTION event_job_success_rate(ev event_executions) RETURNS numeric
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT CASE WHEN COALESCE(ev.jobs_count, 0) = 0 THEN 100::numeric
              ELSE round(COALESCE(ev.jobs_succeeded, 0) * 100.0 / ev.jobs_count, 2) END;
END;

CREATE FUNCTION correlation_coverage(time_window interval DEFAULT interval '24 hours')
RETURNS TABLE (total_invocations bigint, with_correlation_id bigint, covered_invocations bigint,
               coverage_percent numeric)
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT count(*),
         count(i.correlation_id),
         count(*) FILTER (WHERE i.correlation_id IS NOT NULL AND i.correlation_source <> 'generated'),
         round(count(*) FILTER (WHERE i.correlation_id IS NOT NULL AND i.correlation_source <> 'generated')
               * 100.0 / NULLIF(count(*), 0), 2)
  FROM invocations i
  WHERE i.created_at > now() - time_window;
END;


-- Hourly statistics per source function for the analytics page. successful = status 'completed',
-- failed = status 'failed' (running invocations count only in total_invocations).
CREATE MATERIALIZED VIEW dashboard_stats AS
SELECT date_trunc('hour', i.created_at)                                        AS hour_bucket,
       i.source_function,
       count(*)                                                                AS total_invocations,
       count(*) FILTER (WHERE i.status = 'completed')                          AS successful_invocations,
       count(*) FILTER (WHERE i.status = 'failed')                             AS failed_invocations,
       COALESCE(sum(i.events_detected_count), 0)                               AS total_events_detected,
       COALESCE(sum(i.total_jobs_run), 0)                                      AS total_jobs_run,
       COALESCE(sum(i.total_jobs_succeeded), 0)                                AS total_jobs_succeeded,
       round(avg(i.total_duration_ms), 2)                                      AS avg_duration_ms,
       min(i.total_duration_ms)                                                AS min_duration_ms,
       max(i.total_duration_ms)                                                AS max_duration_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY i.total_duration_ms)::numeric, 2)
                                                                               AS p95_duration_ms
FROM invocations i
GROUP BY 1, 2;

-- Required by REFRESH ... CONCURRENTLY; also serves dashboard_stats filtered/ordered by hour_bucket.
CREATE UNIQUE INDEX dashboard_stats_hour_bucket_source_function_idx
  ON dashboard_stats (hour_bucket, source_function);

-- CONCURRENTLY keeps the view readable during the refresh; it needs a populated view, so the first
-- refresh of a view created or reset WITH NO DATA is a plain one.
CREATE FUNCTION refresh_dashboard_stats() RETURNS void
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  IF (SELECT c.relispopulated FROM pg_class c WHERE c.oid = 'dashboard_stats'::regclass) THEN
    REFRESH MATERIALIZED VIEW CONCURRENTLY dashboard_stats;
  ELSE
    REFRESH MATERIALIZED VIEW dashboard_stats;
  END IF;
END
$$;
