-- Reverts 006_window_reads: no created_at checks or sort indexes on the partitions of invocations, the id
-- default of 002, create_partitions() of 002.
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM window_read_paths() LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', r.partition, r.partition::text || '_created_before_end');
  END LOOP;
  FOR r IN SELECT ic.relname FROM window_read_paths() p JOIN pg_index i ON i.indrelid = p.partition
           JOIN pg_class ic ON ic.oid = i.indexrelid WHERE starts_with(ic.relname::text, p.partition::text || '_by_') LOOP
    EXECUTE format('DROP INDEX %I', r.relname);
  END LOOP;
END
$$;
DROP FUNCTION create_partitions(integer, date);
ALTER FUNCTION create_partitions_002(integer, date) RENAME TO create_partitions;
DROP FUNCTION prepare_window_reads(boolean);
DROP FUNCTION window_read_paths();
DROP FUNCTION window_sort_indexes();
ALTER TABLE invocations ALTER COLUMN id SET DEFAULT gen_random_uuid();
DROP FUNCTION uuid7_now();
ALTER TABLE partition_settings DROP COLUMN sorted_days, DROP COLUMN bound_created_at;
