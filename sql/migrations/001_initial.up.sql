-- 001_initial: the four tables, their constraints and indexes, the computed-field functions,
-- dashboard_stats, retention and correlation coverage.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql do that), so no name here is
-- schema-qualified and the same file serves any schema name. sql/README.md says which query each index serves.

-- Keeps updated_at current on every UPDATE (also the DO UPDATE arm of INSERT ... ON CONFLICT).
-- Inserts take the column default; a writer may also pass updated_at explicitly.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- Column order: fixed-width columns first (uuid, timestamptz, integer, boolean), variable-width last, so
-- rows carry no alignment padding. created_at has no default on purpose: it is the moment the scope started
-- and the writer sets it (docs/schema-contract.md).
-- fillfactor 90 on invocations only: an invocation stays open while all its jobs run, so it is the row most
-- often written 'running' and completed in place; the free space lets that update be HOT (no new index
-- entries). job_executions keeps the default 100: most job rows are written once, and measured on 1M job
-- rows the 10 % reserve cost more space than it saved (sql/README.md, "Scale").
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

-- Foreign keys exactly as the seed's (docs/schema-contract.md). invocations.source_job_id is added after job_executions exists
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

-- Computed fields (Hasura: STABLE, the row type as the only argument). SQL-standard bodies are bound to
-- the tables at creation, so they work whatever search_path the caller (Hasura) has.
-- Percentages are numeric rounded to 2 decimals; 100 when nothing ran (nothing failed).
CREATE FUNCTION invocation_success_rate(inv invocations) RETURNS numeric
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT CASE WHEN COALESCE(inv.total_jobs_run, 0) = 0 THEN 100::numeric
              ELSE round(COALESCE(inv.total_jobs_succeeded, 0) * 100.0 / inv.total_jobs_run, 2) END;
END;

-- Average duration_ms of the invocation's jobs that have a duration; NULL when there are none.
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

-- The seed's "correlation ID coverage" maintenance query, except that an invocation whose correlation ID
-- was generated (correlation_source = 'generated', nothing found to trace it by) does not count as covered.
-- with_correlation_id is the seed's count (any non-NULL correlation_id); coverage_percent is
-- covered_invocations / total_invocations * 100, NULL when there are no invocations in the window.
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

-- Retention, one batch per call: deletes up to batch_size of the oldest invocations created before
-- now() - days, with all their event executions, job executions and job logs (children explicitly,
-- bottom-up, so each count is known; whole invocation trees go together). Returns the rows deleted per
-- table; call it repeatedly (each call in its own transaction, so locks and WAL stay small) until
-- invocations_deleted = 0, or use purge_observability_data(), which does exactly that.
-- Invocations caused by a deleted job keep existing; their source_job_id becomes NULL (the FK).
CREATE FUNCTION delete_observability_data_older_than(days integer, batch_size integer DEFAULT 5000)
RETURNS TABLE (invocations_deleted bigint, event_executions_deleted bigint,
               job_executions_deleted bigint, job_logs_deleted bigint)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  ids uuid[];
BEGIN
  IF days IS NULL OR days < 0 THEN
    RAISE EXCEPTION 'days must be >= 0, got %', days;
  END IF;
  IF batch_size IS NULL OR batch_size < 1 THEN
    RAISE EXCEPTION 'batch_size must be >= 1, got %', batch_size;
  END IF;
  -- Oldest first via invocations_created_at_idx.
  SELECT array_agg(id) INTO ids FROM (
    SELECT i.id FROM invocations i
    WHERE i.created_at < now() - make_interval(days => days)
    ORDER BY i.created_at
    LIMIT batch_size
  ) old;
  IF ids IS NULL THEN
    RETURN QUERY SELECT 0::bigint, 0::bigint, 0::bigint, 0::bigint;
    RETURN;
  END IF;
  DELETE FROM job_logs l USING job_executions j
   WHERE l.job_execution_id = j.id AND j.invocation_id = ANY (ids);
  GET DIAGNOSTICS job_logs_deleted = ROW_COUNT;
  DELETE FROM job_executions j WHERE j.invocation_id = ANY (ids);
  GET DIAGNOSTICS job_executions_deleted = ROW_COUNT;
  DELETE FROM event_executions e WHERE e.invocation_id = ANY (ids);
  GET DIAGNOSTICS event_executions_deleted = ROW_COUNT;
  DELETE FROM invocations i WHERE i.id = ANY (ids);
  GET DIAGNOSTICS invocations_deleted = ROW_COUNT;
  RETURN NEXT;
END
$$;

-- The whole retention run: one delete_observability_data_older_than() batch per transaction.
-- CALL it outside an explicit transaction block (it commits between batches). A procedure that commits
-- cannot carry a SET search_path clause, so the schema it works on is a parameter whose default is the
-- schema it was created in.
CREATE PROCEDURE purge_observability_data(days integer, batch_size integer DEFAULT 5000,
                                          in_schema text DEFAULT :'schema')
LANGUAGE plpgsql
AS $$
DECLARE
  r record;
  total bigint := 0;
BEGIN
  LOOP
    EXECUTE format('SELECT * FROM %I.delete_observability_data_older_than($1, $2)', in_schema)
      INTO r USING days, batch_size;
    EXIT WHEN r.invocations_deleted = 0;
    total := total + r.invocations_deleted;
    COMMIT;
    RAISE NOTICE 'purge_observability_data: % invocations deleted so far', total;
  END LOOP;
END
$$;
