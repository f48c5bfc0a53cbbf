-- Reverts 013_partition_copy: partitions without their own INSERT triggers, 011's create_partitions().
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT p.tgname, p.tgrelid::regclass AS part
           FROM pg_inherits h JOIN pg_trigger p ON p.tgrelid = h.inhrelid
           JOIN pg_trigger t ON t.tgrelid = h.inhparent AND t.tgname = p.tgname AND t.tgfoid = p.tgfoid
           WHERE h.inhparent IN ('invocations'::regclass, 'event_executions'::regclass, 'job_executions'::regclass)
             AND NOT p.tgisinternal AND p.tgtype & 1 = 0 AND p.tgtype & 4 <> 0 LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.part);
  END LOOP;
END
$$;
DROP FUNCTION create_partitions(integer, date);
ALTER FUNCTION create_partitions_011(integer, date) RENAME TO create_partitions;
DROP FUNCTION copy_partition(text, uuid, uuid);
DROP FUNCTION prepare_partition_triggers();
DROP FUNCTION add_partition_insert_triggers(text, regclass);
