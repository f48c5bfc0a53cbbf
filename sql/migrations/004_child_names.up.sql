-- 004_child_names: the names of an invocation's event executions and jobs, on its own row (GitHub issue 11: the
-- invocation list filtered on a child event and a child job; sql/README.md "Child names" says why).
--   invocations.child_names jsonb: {"events": [...], "jobs": [...]}, each distinct and in byte order. The sink
--   writes it with the final row (the pipeline gathers the names from the children it saw); NULL means "not
--   known": a running row, a row from another writer, a row the back-fill has not reached. Readers that need an
--   exact answer test this column where it is set and the child tables where it is NULL (dashboard/src/lib/
--   filters.ts does), so rows from other writers stay exact without any rebuild.
--   invocation_child_names(id): the same value from the raw child rows; rebuild_child_names(from, to) sets it on
--   the finished invocations of a range; check_rollups() also reports every row whose names differ from it.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.

-- Nullable, no default: a catalog change whatever the table holds; the back-fill below is one pass.
ALTER TABLE invocations ADD COLUMN child_names jsonb;

CREATE FUNCTION invocation_child_names(invocation uuid) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
  'events', (SELECT COALESCE(jsonb_agg(DISTINCT e.event_name COLLATE "C" ORDER BY e.event_name COLLATE "C"), '[]'::jsonb)
             FROM event_executions e WHERE e.invocation_id = invocation),
  'jobs', (SELECT COALESCE(jsonb_agg(DISTINCT j.job_name COLLATE "C" ORDER BY j.job_name COLLATE "C"), '[]'::jsonb)
           FROM job_executions j WHERE j.invocation_id = invocation));

-- rebuild_child_names() changes nothing but a derived column: it marks its transaction so that the row trigger
-- keeps updated_at (the writer's time, not the back-fill's) and the rollup trigger skips the update (every
-- rollup column is unchanged; otherwise it would rebuild each touched hour, since the old rows are final).
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('eventscope.derived_update', true) = 'on' THEN
    RETURN NEW;
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
DO $$
DECLARE
  body text := (SELECT prosrc FROM pg_proc WHERE oid = 'rollup_invocations_update'::regproc);
BEGIN
  EXECUTE format('CREATE OR REPLACE FUNCTION rollup_invocations_update() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS %L',
                 regexp_replace(body, '^BEGIN\n', E'BEGIN\n  IF current_setting(''eventscope.derived_update'', true) = ''on'' THEN\n    RETURN NULL;\n  END IF;\n'));
END
$$;

-- Sets child_names on the finished invocations created in [from_ts, to_ts) (NULL: unbounded) from their child
-- rows, where it differs; returns how many rows changed. Running rows keep NULL: their names are not final.
CREATE FUNCTION rebuild_child_names(from_ts timestamptz DEFAULT NULL, to_ts timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  changed bigint;
BEGIN
  PERFORM set_config('eventscope.derived_update', 'on', true);
  WITH inv AS (
    SELECT id FROM invocations
    WHERE status <> 'running' AND (from_ts IS NULL OR created_at >= from_ts) AND (to_ts IS NULL OR created_at < to_ts)
  ), ev AS (
    SELECT e.invocation_id, jsonb_agg(DISTINCT e.event_name COLLATE "C" ORDER BY e.event_name COLLATE "C") AS names
    FROM event_executions e WHERE e.invocation_id IN (SELECT id FROM inv) GROUP BY e.invocation_id
  ), jb AS (
    SELECT j.invocation_id, jsonb_agg(DISTINCT j.job_name COLLATE "C" ORDER BY j.job_name COLLATE "C") AS names
    FROM job_executions j WHERE j.invocation_id IN (SELECT id FROM inv) GROUP BY j.invocation_id
  ), expected AS (
    SELECT inv.id, jsonb_build_object('events', COALESCE(ev.names, '[]'::jsonb), 'jobs', COALESCE(jb.names, '[]'::jsonb)) AS names
    FROM inv LEFT JOIN ev ON ev.invocation_id = inv.id LEFT JOIN jb ON jb.invocation_id = inv.id
  )
  UPDATE invocations i SET child_names = expected.names
  FROM expected WHERE i.id = expected.id AND i.child_names IS DISTINCT FROM expected.names;
  GET DIAGNOSTICS changed = ROW_COUNT;
  PERFORM set_config('eventscope.derived_update', 'off', true);
  RETURN changed;
END
$$;

DO $$ BEGIN PERFORM rebuild_child_names(); END $$;

-- check_rollups() gains the names: a row whose stored names are not, as sets, its children's names. NULL is
-- "not known" and not reported.
ALTER FUNCTION check_rollups(timestamptz, timestamptz) RENAME TO check_rollups_003;
CREATE FUNCTION check_rollups(from_ts timestamptz DEFAULT NULL, to_ts timestamptz DEFAULT NULL)
RETURNS TABLE (rollup text, key text, column_name text, stored text, from_raw text)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  RETURN QUERY SELECT * FROM check_rollups_003(from_ts, to_ts);
  RETURN QUERY
    SELECT 'invocations'::text, i.id::text, 'child_names'::text, i.child_names::text, x.names::text
    FROM invocations i CROSS JOIN LATERAL (SELECT invocation_child_names(i.id) AS names) x
    WHERE i.child_names IS NOT NULL AND (from_ts IS NULL OR i.created_at >= from_ts) AND (to_ts IS NULL OR i.created_at < to_ts)
      AND NOT (i.child_names @> x.names AND x.names @> i.child_names);
END
$$;
