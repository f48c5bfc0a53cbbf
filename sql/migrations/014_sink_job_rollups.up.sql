-- 014_sink_job_rollups: the sink adds the job rows it COPYs into a partition to job_rollup itself, in the same
-- transaction, and those partitions no longer run the rollup trigger (GitHub issue 11; benchmarks/README.md
-- "The sink counts its job rows (migration 014)").
-- A statement trigger with a transition table makes PostgreSQL copy every inserted row into a tuplestore, and
-- the rollup then aggregates that tuplestore: measured through the sink, a fifth of the server's CPU for a COPY of
-- job rows. The sink already holds those rows, so its COPY into a partition fires no rollup trigger and it sends
-- their sums (one row per job name and hour) with add_job_rollups() in the same transaction. The range partitions
-- of job_executions get, under the rollup trigger's name, refuse_uncounted_insert() instead: a statement trigger
-- without a transition table (no copy of the rows), which refuses an INSERT or COPY naming the partition unless
-- the transaction called begin_counted_inserts() for it, the writer's declaration that it adds the counts. So no
-- writer adds rows that the rollups miss without saying so: everything inserted through the table job_executions
-- is counted by the table's trigger as before, and the default partition keeps 013's counting trigger. UPDATEs and
-- DELETEs are counted as before.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.

-- Refuses the rows of a statement naming this partition unless begin_counted_inserts() was called for it earlier in
-- the same transaction (SQLSTATE 55000: the sink then names the table).
CREATE FUNCTION refuse_uncounted_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF current_setting('eventscope.counted_partition', true) IS DISTINCT FROM TG_RELID::text THEN
    RAISE EXCEPTION 'rows inserted into partition % are not counted in the rollups', TG_TABLE_NAME
      USING ERRCODE = '55000',
            HINT = 'Insert through the partitioned table, or call begin_counted_inserts() first and add the rows'' counts '
                   'with add_job_rollups() before committing.';
  END IF;
  RETURN NULL;
END
$$;

-- Lets the rest of the transaction insert into partition `part` by name: the caller adds the sums of those rows
-- with add_job_rollups() before it commits (after its inserts, so that the rollup rows stay locked from then to
-- the commit only, as with the trigger: two writers of the same job name and hour then overlap their inserts).
-- SQLSTATE 55000 when `part` counts its own inserts (no refuse_uncounted_insert() on it): the caller then names
-- the table.
CREATE FUNCTION begin_counted_inserts(part regclass) RETURNS void
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger t
                 WHERE t.tgrelid = part AND t.tgfoid = 'refuse_uncounted_insert'::regproc) THEN
    RAISE EXCEPTION 'partition % counts the rows inserted into it', part USING ERRCODE = '55000';
  END IF;
  PERFORM set_config('eventscope.counted_partition', part::oid::text, true);  -- an oid: names depend on search_path
END
$$;

-- Adds sums of job rows to job_rollup. `deltas`: a JSON array with one object per (job_name, hour_bucket): jobs,
-- completed, failed, duration_count, duration_sum, duration_min, duration_max, and the duration histogram as
-- duration_buckets[] with their counts bucket_counts[] (hist_from()): exactly what 002's rollup trigger computes
-- for the same rows.
CREATE FUNCTION add_job_rollups(deltas jsonb) RETURNS void
LANGUAGE plpgsql  -- its INSERT is planned once per session, not at every call as in an SQL function
SET search_path FROM CURRENT
AS $$
BEGIN
  INSERT INTO job_rollup AS t (job_name, hour_bucket, jobs, completed, failed, duration_count, duration_sum,
    duration_min, duration_max, duration_hist)
  SELECT d.job_name, d.hour_bucket, d.jobs, d.completed, d.failed, d.duration_count, d.duration_sum, d.duration_min,
         d.duration_max, hist_from(d.duration_buckets, d.bucket_counts)
  FROM jsonb_to_recordset(deltas) AS d(job_name text, hour_bucket timestamptz, jobs bigint, completed bigint,
         failed bigint, duration_count bigint, duration_sum bigint, duration_min integer, duration_max integer,
         duration_buckets integer[], bucket_counts bigint[])
  ORDER BY d.job_name, d.hour_bucket
  ON CONFLICT (job_name, hour_bucket) DO UPDATE SET
    jobs = t.jobs + excluded.jobs, completed = t.completed + excluded.completed, failed = t.failed + excluded.failed,
    duration_count = t.duration_count + excluded.duration_count, duration_sum = t.duration_sum + excluded.duration_sum,
    duration_min = least(t.duration_min, excluded.duration_min), duration_max = greatest(t.duration_max, excluded.duration_max),
    duration_hist = hist_add(t.duration_hist, excluded.duration_hist);
END
$$;

-- 013's add_partition_insert_triggers(), except that a range partition of job_executions gets the rollup trigger's
-- name with refuse_uncounted_insert() and no transition table. The default partition keeps the counting trigger:
-- rows of days without a partition wait there, and create_partitions() moves them out without counting them again.
CREATE OR REPLACE FUNCTION add_partition_insert_triggers(tbl text, part regclass) RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  g record;
  n integer := 0;
  writer_counts constant boolean := tbl = 'job_executions'
    AND (SELECT pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT' FROM pg_class c WHERE c.oid = part);
BEGIN
  FOR g IN SELECT t.tgname, t.tgfoid::regproc AS fn, t.tgnewtable
           FROM pg_trigger t
           WHERE t.tgrelid = tbl::regclass AND NOT t.tgisinternal
             AND t.tgtype & 1 = 0 AND t.tgtype & 4 <> 0     -- FOR EACH STATEMENT, INSERT
             AND NOT EXISTS (SELECT 1 FROM pg_trigger p WHERE p.tgrelid = part AND p.tgname = t.tgname)
           ORDER BY t.tgname LOOP
    IF g.tgnewtable IS NULL THEN
      EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()', g.tgname, part, g.fn);
    ELSIF writer_counts THEN
      EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION refuse_uncounted_insert()',
                     g.tgname, part);
    ELSE
      EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS %I FOR EACH STATEMENT EXECUTE FUNCTION %s()',
                     g.tgname, part, g.tgnewtable, g.fn);
    END IF;
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- What the sink COPYs into: 013's copy_partition(), where a partition may also have refuse_uncounted_insert() in
-- place of a counting trigger; then `writer_counts` is true: the COPY follows begin_counted_inserts() and is
-- followed by add_job_rollups() for its rows.
-- copy_partition() itself keeps 013's meaning (a partition whose triggers count what it names), so a sink built
-- before 014 names the table for job rows, and its rows are counted there.
CREATE FUNCTION sink_copy_partition(tbl text, lo uuid, hi uuid)
RETURNS TABLE (partition name, range_lo uuid, range_hi uuid, writer_counts boolean)
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
  SELECT c.relname, x.lo, x.hi,
         EXISTS (SELECT 1 FROM pg_trigger p WHERE p.tgrelid = x.partition AND p.tgfoid = 'refuse_uncounted_insert'::regproc)
  FROM partition_ranges(tbl) x JOIN pg_class c ON c.oid = x.partition
  WHERE x.lo <= sink_copy_partition.lo AND sink_copy_partition.hi < x.hi
    AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                    WHERE t.tgrelid = tbl::regclass AND NOT t.tgisinternal AND t.tgtype & 1 = 0 AND t.tgtype & 4 <> 0
                      AND NOT EXISTS (SELECT 1 FROM pg_trigger p
                                      WHERE p.tgrelid = x.partition AND p.tgname = t.tgname
                                        AND (p.tgfoid = t.tgfoid OR p.tgfoid = 'refuse_uncounted_insert'::regproc)))
$$;

-- The range partitions of job_executions trade 013's counting trigger for refuse_uncounted_insert().
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT p.tgname, p.tgrelid::regclass AS part
           FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
           JOIN pg_trigger p ON p.tgrelid = h.inhrelid
           JOIN pg_trigger t ON t.tgrelid = h.inhparent AND t.tgname = p.tgname AND t.tgfoid = p.tgfoid
           WHERE h.inhparent = 'job_executions'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
             AND NOT t.tgisinternal AND t.tgtype & 1 = 0 AND t.tgtype & 4 <> 0 AND t.tgnewtable IS NOT NULL LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.part);
  END LOOP;
  PERFORM prepare_partition_triggers();
END
$$;
