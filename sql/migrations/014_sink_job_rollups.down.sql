-- Reverts 014_sink_job_rollups: the range partitions of job_executions count their inserts again (013's trigger),
-- 013's add_partition_insert_triggers().
CREATE OR REPLACE FUNCTION add_partition_insert_triggers(tbl text, part regclass) RETURNS integer
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

DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT p.tgname, p.tgrelid::regclass AS part
           FROM pg_inherits h JOIN pg_trigger p ON p.tgrelid = h.inhrelid
           WHERE h.inhparent = 'job_executions'::regclass AND p.tgfoid = 'refuse_uncounted_insert'::regproc LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.part);
  END LOOP;
  PERFORM prepare_partition_triggers();
END
$$;
DROP FUNCTION sink_copy_partition(text, uuid, uuid);
DROP FUNCTION add_job_rollups(jsonb);
DROP FUNCTION begin_counted_inserts(regclass);
DROP FUNCTION refuse_uncounted_insert();
