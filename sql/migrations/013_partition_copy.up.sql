-- 013_partition_copy: the sink's COPYs name the partition their rows go to, and every partition counts what is
-- inserted into it by name (GitHub issue 11; benchmarks/README.md "COPY into the partition (migration 013)").
-- A COPY naming a partitioned table whose statement triggers have transition tables (the rollups) inserts its
-- rows one at a time (PostgreSQL's copyfrom.c: CIM_SINGLE, one heap insert and one WAL record per row). A COPY
-- naming a partition inserts them in batches, and fires that partition's own statement triggers instead of the
-- table's (a statement fires only the triggers of the table it names, never both). So each partition gets the
-- table's statement-level INSERT triggers, with the same functions: rows inserted by naming a partition are
-- counted exactly once, like rows inserted through the table. UPDATE and DELETE naming a partition are still
-- not counted (name the table: sql/README.md "Rollups").
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.

-- The statement-level INSERT triggers of `tbl` (the rollups) that `part` lacks, created on it under the same
-- names with the same functions and transition table names. Returns how many it created.
CREATE FUNCTION add_partition_insert_triggers(tbl text, part regclass) RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  g record;
  n integer := 0;
BEGIN
  FOR g IN SELECT t.tgname, t.tgfoid::regproc AS fn, t.tgnewtable
           FROM pg_trigger t
           WHERE t.tgrelid = tbl::regclass AND NOT t.tgisinternal
             AND t.tgtype & 1 = 0 AND t.tgtype & 4 <> 0     -- FOR EACH STATEMENT, INSERT
             AND NOT EXISTS (SELECT 1 FROM pg_trigger p WHERE p.tgrelid = part AND p.tgname = t.tgname)
           ORDER BY t.tgname LOOP
    IF g.tgnewtable IS NULL THEN
      EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()', g.tgname, part, g.fn);
    ELSE
      EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS %I FOR EACH STATEMENT EXECUTE FUNCTION %s()',
                     g.tgname, part, g.tgnewtable, g.fn);
    END IF;
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- Gives every partition (range and default) of the tables with rollups the INSERT triggers it lacks.
CREATE FUNCTION prepare_partition_triggers() RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  t text;
  p regclass;
  n integer := 0;
BEGIN
  FOREACH t IN ARRAY ARRAY['invocations', 'event_executions', 'job_executions'] LOOP
    FOR p IN SELECT h.inhrelid::regclass FROM pg_inherits h WHERE h.inhparent = t::regclass ORDER BY 1 LOOP
      n := n + add_partition_insert_triggers(t, p);
    END LOOP;
  END LOOP;
  RETURN n;
END
$$;

-- The range partition of `tbl` that holds every id from lo to hi and has each statement-level INSERT trigger of
-- `tbl` (so a COPY naming it is counted in the rollups), with its bounds [range_lo, range_hi): what the sink COPYs
-- into when it names a partition. No row when there is none (rows of days without a partition, a range spanning
-- two partitions, a partition attached by hand without the triggers): the sink then names the table.
CREATE FUNCTION copy_partition(tbl text, lo uuid, hi uuid)
RETURNS TABLE (partition name, range_lo uuid, range_hi uuid)
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
  SELECT c.relname, x.lo, x.hi
  FROM partition_ranges(tbl) x JOIN pg_class c ON c.oid = x.partition
  WHERE x.lo <= copy_partition.lo AND copy_partition.hi < x.hi
    AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                    WHERE t.tgrelid = tbl::regclass AND NOT t.tgisinternal AND t.tgtype & 1 = 0 AND t.tgtype & 4 <> 0
                      AND NOT EXISTS (SELECT 1 FROM pg_trigger p
                                      WHERE p.tgrelid = x.partition AND p.tgname = t.tgname AND p.tgfoid = t.tgfoid))
$$;

ALTER FUNCTION create_partitions(integer, date) RENAME TO create_partitions_011;
-- create_partitions() of 011, then the INSERT triggers of the partitions that lack them. New partitions get them
-- after 002's part has moved the rows of their range out of the default partition, which were counted already.
CREATE FUNCTION create_partitions(days_ahead integer DEFAULT 7, first_day date DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  created integer := create_partitions_011(days_ahead, first_day);
BEGIN
  PERFORM prepare_partition_triggers();
  RETURN created;
END
$$;

DO $$ BEGIN PERFORM prepare_partition_triggers(); END $$;
