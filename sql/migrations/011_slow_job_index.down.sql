-- Reverts 011_slow_job_index: one index over every job's duration_ms again, 008's create_partitions().
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT ic.relname FROM pg_inherits h JOIN pg_index i ON i.indrelid = h.inhrelid
           JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = h.inhrelid
           WHERE h.inhparent = 'job_executions'::regclass AND ic.relname::text = c.relname::text || '_slow' LOOP
    EXECUTE format('DROP INDEX %I', r.relname);
  END LOOP;
END
$$;
CREATE INDEX job_executions_duration_ms_idx ON job_executions (duration_ms);
DROP FUNCTION create_partitions(integer, date);
ALTER FUNCTION create_partitions_008(integer, date) RENAME TO create_partitions;
DROP FUNCTION prepare_slow_job_indexes();
DROP FUNCTION slow_job_threshold(timestamptz, timestamptz);
DROP FUNCTION duration_bucket_lower(integer);
ALTER TABLE partition_settings DROP COLUMN slow_job_quantile;
