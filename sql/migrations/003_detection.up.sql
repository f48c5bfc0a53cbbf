-- 003_detection: why was an event (not) detected (GitHub issue 14; sql/README.md "Detection clauses, replay,
-- silence" says why each choice).
--   1. event_executions: the detection's clauses (names and outcomes), the values they compared (capture::full;
--      hidden from the observer role like payloads) and the clause that stopped it. Nullable, no default: adding
--      them is a catalog change, whatever the table holds. Seed columns and names unchanged.
--   2. detection_clause_rollup: per hour, event name and clause, how many detections evaluated / passed / were
--      stopped by it, kept by the same statement-trigger mechanism as 002's rollups (rebuild_rollups() and
--      check_rollups() cover it), read through rollup_detection_clauses for the dashboard's funnel.
--   3. invocations.changed_columns: the columns an UPDATE changed (from the payload's old/new), written by the
--      sink, GIN-indexed for "column X changed" (`changed_columns @> '["status"]'`).
--   4. replay_runs / replay_decisions: dry-run replays, apart from the production rows, with their report.
--   5. silent_event_types(): event types whose detection rate fell while they kept being checked.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.

-- ============================================================================ 1. clauses on event executions

ALTER TABLE event_executions
  ADD COLUMN detection_clauses       jsonb,
  ADD COLUMN detection_clause_values jsonb,
  ADD COLUMN detection_rejected_by   text;

-- "Which invocations stopped at clause X of event Y in this range" (the funnel's drill-down): only rejected
-- rows are in it.
CREATE INDEX event_executions_rejected_by_idx ON event_executions (event_name, detection_rejected_by, created_at)
  WHERE detection_rejected_by IS NOT NULL;

-- ==================================================================================== 2. the clause rollup

-- Per UTC hour of the event's created_at, event name and clause (1-based position, name): final rows only,
-- counted once. evaluated = passed + failed + threw; a detection stopped at a clause counts `failed` (or
-- `threw`) there and nothing at the clauses after it (skipped).
CREATE TABLE detection_clause_rollup (
  hour_bucket  timestamptz NOT NULL,
  event_name   text        NOT NULL,
  clause_index integer     NOT NULL,
  clause_name  text        NOT NULL,
  evaluated    bigint      NOT NULL DEFAULT 0,
  passed       bigint      NOT NULL DEFAULT 0,
  failed       bigint      NOT NULL DEFAULT 0,
  threw        bigint      NOT NULL DEFAULT 0,
  CONSTRAINT detection_clause_rollup_pkey PRIMARY KEY (hour_bucket, event_name, clause_index, clause_name)
);
CREATE INDEX detection_clause_rollup_event_name_idx ON detection_clause_rollup (event_name, clause_index, clause_name, hour_bucket);

-- The statement over a row source `src` with a column `sign` (as 002's rollup_sql).
CREATE FUNCTION detection_rollup_sql(src text, dest_prefix text DEFAULT '') RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN
  RETURN ARRAY[format($q$
    INSERT INTO %2$sdetection_clause_rollup AS t (hour_bucket, event_name, clause_index, clause_name, evaluated, passed, failed, threw)
    SELECT date_trunc('hour', r.created_at, 'UTC'), r.event_name, c.ord::integer, COALESCE(c.clause->>'name', ''),
           COALESCE(sum(r.sign) FILTER (WHERE c.clause->>'outcome' IN ('passed', 'failed', 'threw')), 0),
           COALESCE(sum(r.sign) FILTER (WHERE c.clause->>'outcome' = 'passed'), 0),
           COALESCE(sum(r.sign) FILTER (WHERE c.clause->>'outcome' = 'failed'), 0),
           COALESCE(sum(r.sign) FILTER (WHERE c.clause->>'outcome' = 'threw'), 0)
    FROM %1$s r
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.detection_clauses) = 'array' THEN r.detection_clauses
                                                 ELSE '[]'::jsonb END) WITH ORDINALITY c(clause, ord)
    WHERE status_rank(r.status) = 2
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (hour_bucket, event_name, clause_index, clause_name) DO UPDATE SET
      evaluated = t.evaluated + excluded.evaluated, passed = t.passed + excluded.passed,
      failed = t.failed + excluded.failed, threw = t.threw + excluded.threw$q$, src, dest_prefix)];
END
$f$;

-- 002's rollup_sql / rollup_tables / check_rollups learn the new rollup by wrapping (their 002 bodies stay as
-- they are, under a suffixed name): rebuild_rollups(), the TRUNCATE trigger and drop_old_partitions() call them
-- by name, so they cover it from now on.
ALTER FUNCTION rollup_sql(text, text, text) RENAME TO rollup_sql_002;
CREATE FUNCTION rollup_sql(tbl text, src text, dest_prefix text DEFAULT '') RETURNS text[]
LANGUAGE sql IMMUTABLE
RETURN rollup_sql_002(tbl, src, dest_prefix)
       || CASE WHEN tbl = 'event_executions' THEN detection_rollup_sql(src, dest_prefix) ELSE '{}'::text[] END;

ALTER FUNCTION rollup_tables(text) RENAME TO rollup_tables_002;
CREATE FUNCTION rollup_tables(tbl text) RETURNS text[]
LANGUAGE sql IMMUTABLE
RETURN rollup_tables_002(tbl) || CASE WHEN tbl = 'event_executions' THEN ARRAY['detection_clause_rollup'] ELSE '{}'::text[] END;

ALTER FUNCTION check_rollups(timestamptz, timestamptz) RENAME TO check_rollups_002;
CREATE FUNCTION check_rollups(from_ts timestamptz DEFAULT NULL, to_ts timestamptz DEFAULT NULL)
RETURNS TABLE (rollup text, key text, column_name text, stored text, from_raw text)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  lo timestamptz := date_trunc('hour', from_ts, 'UTC');
  hi timestamptz := CASE WHEN to_ts IS NULL THEN NULL
                         WHEN date_trunc('hour', to_ts, 'UTC') = to_ts THEN to_ts
                         ELSE date_trunc('hour', to_ts, 'UTC') + interval '1 hour' END;
BEGIN
  LOCK TABLE detection_clause_rollup IN SHARE MODE;
  -- check_rollups_002 runs rollup_sql() for event_executions, which now also fills this expected copy.
  IF to_regclass('pg_temp.expected_detection_clause_rollup') IS NOT NULL THEN
    DROP TABLE pg_temp.expected_detection_clause_rollup;
  END IF;
  CREATE TEMP TABLE expected_detection_clause_rollup (LIKE detection_clause_rollup INCLUDING ALL);
  RETURN QUERY SELECT * FROM check_rollups_002(from_ts, to_ts);
  RETURN QUERY
    SELECT 'detection_clause_rollup'::text, ROW(s.hour_bucket, s.event_name, s.clause_index, s.clause_name)::text, c.col, c.stored, c.raw
    FROM (SELECT * FROM detection_clause_rollup
          WHERE evaluated <> 0 AND (lo IS NULL OR hour_bucket >= lo) AND (hi IS NULL OR hour_bucket < hi)) s
    FULL JOIN (SELECT * FROM pg_temp.expected_detection_clause_rollup WHERE evaluated <> 0) e
      USING (hour_bucket, event_name, clause_index, clause_name)
    CROSS JOIN LATERAL (VALUES ('evaluated', s.evaluated::text, e.evaluated::text), ('passed', s.passed::text, e.passed::text),
                               ('failed', s.failed::text, e.failed::text), ('threw', s.threw::text, e.threw::text)) c(col, stored, raw)
    WHERE c.stored IS DISTINCT FROM c.raw;
  DROP TABLE pg_temp.expected_detection_clause_rollup;
END
$$;

-- The triggers. 002's statement triggers on event_executions are static SQL generated from its rollup_sql; this
-- rollup gets its own, in the same shape: rows added after INSERT, old versions subtracted and new ones added
-- after UPDATE, subtracted after DELETE. When old versions hold a final row, 002's trigger rebuilds the
-- statement's hours through rebuild_rollups(), which now includes this rollup: these triggers then do nothing.
-- (Their names sort before 002's, so they run first; a rebuild after them recomputes the hours anyway.)
DO $$
DECLARE
  ins text := array_to_string(detection_rollup_sql('(SELECT n.*, 1 AS sign FROM new_rows n)'), E';\n');
  upd text := array_to_string(detection_rollup_sql('(SELECT n.*, 1 AS sign FROM new_rows n UNION ALL SELECT o.*, -1 FROM old_rows o)'), E';\n');
  del text := array_to_string(detection_rollup_sql('(SELECT o.*, -1 AS sign FROM old_rows o)'), E';\n');
  final_old constant text := E'  IF EXISTS (SELECT 1 FROM old_rows WHERE status_rank(status) = 2) THEN\n    RETURN NULL;\n  END IF;\n';
BEGIN
  EXECUTE format('CREATE FUNCTION detection_rollup_insert() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS %L',
                 E'BEGIN\n' || ins || E';\n  RETURN NULL;\nEND');
  EXECUTE format('CREATE FUNCTION detection_rollup_update() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS %L',
                 E'BEGIN\n' || final_old || upd || E';\n  RETURN NULL;\nEND');
  EXECUTE format('CREATE FUNCTION detection_rollup_delete() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS %L',
                 E'BEGIN\n' || final_old || del || E';\n  RETURN NULL;\nEND');
END
$$;
CREATE TRIGGER event_executions_detection_rollup_insert AFTER INSERT ON event_executions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION detection_rollup_insert();
CREATE TRIGGER event_executions_detection_rollup_update AFTER UPDATE ON event_executions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION detection_rollup_update();
CREATE TRIGGER event_executions_detection_rollup_delete AFTER DELETE ON event_executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION detection_rollup_delete();

-- The clauses the rollup knows, for the funnel through GraphQL (as 002's rollup_* views): the array
-- relationship `rollups` (hasura-metadata) with a time-range `where` gives one clause's totals in one query.
CREATE VIEW rollup_detection_clauses AS
SELECT DISTINCT event_name, clause_index, clause_name FROM detection_clause_rollup;

-- ============================================================================ 3. changed columns of UPDATEs

-- The keys whose values differ between the payload's event.data.old and event.data.new (both objects: an
-- UPDATE), sorted; NULL otherwise. The sink computes the same list in C++ (row_columns.hpp) when it writes an
-- invocation; this function serves other writers and the backfill below.
CREATE FUNCTION payload_changed_columns(payload jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(payload #> '{event,data,old}') = 'object' AND jsonb_typeof(payload #> '{event,data,new}') = 'object' THEN
  (SELECT COALESCE(jsonb_agg(key ORDER BY key), '[]'::jsonb)
   FROM jsonb_each(payload #> '{event,data,new}') n FULL JOIN jsonb_each(payload #> '{event,data,old}') o USING (key)
   WHERE n.value IS DISTINCT FROM o.value) END;

ALTER TABLE invocations ADD COLUMN changed_columns jsonb;
UPDATE invocations SET changed_columns = payload_changed_columns(source_event_payload)
WHERE source_event_payload #> '{event,data,old}' IS NOT NULL;
-- "Invocations whose UPDATE changed column X": `changed_columns @> '["X"]'` (Hasura `_contains`); only UPDATE
-- rows are in the index.
CREATE INDEX invocations_changed_columns_idx ON invocations USING gin (changed_columns jsonb_path_ops)
  WHERE changed_columns IS NOT NULL;

-- ================================================================================= 4. dry-run replays

-- One replay: stored payloads (selected by time range, source function, correlation ID) run through a detector
-- build in replay mode (config.replay: no job runs). Nothing of it is written to the production tables.
CREATE TABLE replay_runs (
  id                   uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at           timestamptz NOT NULL DEFAULT now(),
  finished_at          timestamptz,
  status               text        NOT NULL DEFAULT 'running',
  build_label          text,
  selection            jsonb       NOT NULL DEFAULT '{}'::jsonb,
  invocations_replayed integer     NOT NULL DEFAULT 0,
  invocations_skipped  integer     NOT NULL DEFAULT 0,
  decisions_changed    integer     NOT NULL DEFAULT 0,
  error_message        text,
  CONSTRAINT replay_runs_pkey PRIMARY KEY (id),
  CONSTRAINT replay_runs_status_check CHECK (status IN ('running', 'completed', 'failed'))
);
CREATE INDEX replay_runs_created_at_idx ON replay_runs (created_at);

-- One event type of one replayed invocation: the production decision (before) and the replayed one (after).
-- detected_before NULL: production did not check that event; detected_after NULL: the replayed build did not.
-- changed_clause: the first clause whose outcome differs (by position), else the clause that stops it now.
CREATE TABLE replay_decisions (
  id                     uuid        NOT NULL DEFAULT gen_random_uuid(),
  replay_run_id          uuid        NOT NULL,
  invocation_id          uuid        NOT NULL,
  invocation_created_at  timestamptz NOT NULL,
  detected_before        boolean,
  detected_after         boolean,
  changed                boolean     NOT NULL,
  source_function        text        NOT NULL,
  correlation_id         text,
  event_name             text        NOT NULL,
  changed_clause         text,
  rejected_by_before     text,
  rejected_by_after      text,
  error_after            text,
  clauses_before         jsonb,
  clauses_after          jsonb,
  clause_values_before   jsonb,
  clause_values_after    jsonb,
  CONSTRAINT replay_decisions_pkey PRIMARY KEY (id),
  CONSTRAINT replay_decisions_replay_run_id_fkey FOREIGN KEY (replay_run_id) REFERENCES replay_runs (id) ON DELETE CASCADE
);
CREATE INDEX replay_decisions_run_event_idx ON replay_decisions (replay_run_id, event_name, changed);

-- The report: per run and event type, detected before / after and how many decisions changed.
CREATE VIEW replay_report AS
SELECT replay_run_id,
       event_name,
       count(*)                                        AS checked,
       count(*) FILTER (WHERE detected_before)         AS detected_before,
       count(*) FILTER (WHERE detected_after)          AS detected_after,
       count(*) FILTER (WHERE changed)                 AS changed,
       count(*) FILTER (WHERE changed AND detected_after AND NOT COALESCE(detected_before, false)) AS newly_detected,
       count(*) FILTER (WHERE changed AND detected_before AND NOT COALESCE(detected_after, false)) AS no_longer_detected
FROM replay_decisions
GROUP BY replay_run_id, event_name;

-- ==================================================================================== 5. alert on silence

-- Event types whose detection rate over the last `recent_hours` hours fell below `fraction` of their rate over
-- the `baseline_days` days before that, while they kept being checked (invocations continued). From the
-- event rollup: whole UTC hours, the current (partial) hour included in the recent window. A type is listed only
-- when the baseline is worth comparing with: at least `min_expected` detections expected in the recent window
-- at the baseline rate (a type detected once a day cannot be "silent" after an hour).
CREATE FUNCTION silent_event_types(recent_hours integer DEFAULT 6, fraction numeric DEFAULT 0.5,
                                   baseline_days integer DEFAULT 7, min_expected numeric DEFAULT 5)
RETURNS TABLE (event_name text, recent_checked bigint, recent_detected bigint, recent_rate numeric,
               baseline_checked bigint, baseline_detected bigint, baseline_rate numeric, expected_detected numeric)
LANGUAGE plpgsql STABLE
SET search_path FROM CURRENT
AS $$
DECLARE
  split timestamptz := date_trunc('hour', now(), 'UTC') - make_interval(hours => recent_hours - 1);
BEGIN
  IF recent_hours IS NULL OR recent_hours < 1 THEN RAISE EXCEPTION 'recent_hours must be >= 1, got %', recent_hours; END IF;
  IF baseline_days IS NULL OR baseline_days < 1 THEN RAISE EXCEPTION 'baseline_days must be >= 1, got %', baseline_days; END IF;
  IF fraction IS NULL OR fraction <= 0 OR fraction > 1 THEN RAISE EXCEPTION 'fraction must be in (0, 1], got %', fraction; END IF;
  RETURN QUERY
  WITH w AS (
    SELECT r.event_name,
           COALESCE(sum(r.checked) FILTER (WHERE r.hour_bucket >= split), 0)::bigint AS rc,
           COALESCE(sum(r.detected) FILTER (WHERE r.hour_bucket >= split), 0)::bigint AS rd,
           COALESCE(sum(r.checked) FILTER (WHERE r.hour_bucket < split), 0)::bigint AS bc,
           COALESCE(sum(r.detected) FILTER (WHERE r.hour_bucket < split), 0)::bigint AS bd
    FROM event_rollup r
    WHERE r.hour_bucket >= split - make_interval(days => baseline_days)
    GROUP BY r.event_name)
  SELECT w.event_name, w.rc, w.rd, round(w.rd::numeric / NULLIF(w.rc, 0), 4), w.bc, w.bd,
         round(w.bd::numeric / NULLIF(w.bc, 0), 4), round(w.rc * w.bd::numeric / NULLIF(w.bc, 0), 2)
  FROM w
  WHERE w.rc > 0 AND w.bc > 0 AND w.bd > 0
    AND w.rc * w.bd::numeric / w.bc >= min_expected
    AND w.rd::numeric / w.rc < fraction * w.bd::numeric / w.bc
  ORDER BY w.rd::numeric / w.rc / (w.bd::numeric / w.bc), w.event_name;
END
$$;
