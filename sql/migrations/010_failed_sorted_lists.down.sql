-- Reverts 010_failed_sorted_lists: 006's prepare_window_reads(), no failed-only sort indexes.
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT ic.relname FROM window_read_paths() p JOIN pg_index i ON i.indrelid = p.partition
           JOIN pg_class ic ON ic.oid = i.indexrelid
           WHERE starts_with(ic.relname::text, p.partition::text || '_by_') AND i.indpred IS NOT NULL LOOP
    EXECUTE format('DROP INDEX %I', r.relname);
  END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION prepare_window_reads(revalidate boolean DEFAULT false) RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  s partition_settings;
  r record;
  si record;
  check_name text;
  index_name text;
  bad bigint;
  changes integer := 0;
  caller_lock_timeout text := current_setting('lock_timeout');
BEGIN
  SELECT * INTO s FROM partition_settings;
  FOR r IN SELECT p.partition, p.end_day, p.created_at_bound, (p.end_day::timestamp AT TIME ZONE 'UTC') AS ends
           FROM window_read_paths() p LOOP
    check_name := r.partition::text || '_created_before_end';
    IF s.bound_created_at AND r.created_at_bound = 'none' THEN
      EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (created_at < %L) NOT VALID', r.partition, check_name, r.ends);
      BEGIN
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.partition, check_name);
      EXCEPTION WHEN check_violation THEN
        EXECUTE format('SELECT count(*) FROM %s WHERE created_at >= %L', r.partition, r.ends) INTO bad;
        RAISE WARNING '% holds % rows whose created_at is at or after its end (%): its check stays NOT VALID, so windows cannot leave it out (sql/README.md "Sorted lists over a recent window")',
          r.partition, bad, r.ends;
      END;
      changes := changes + 1;
    ELSIF s.bound_created_at AND revalidate AND r.created_at_bound = 'not valid' THEN
      BEGIN
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.partition, check_name);
        changes := changes + 1;
      EXCEPTION WHEN check_violation THEN
        RAISE WARNING '% still holds rows whose created_at is at or after its end (%)', r.partition, r.ends;
      END;
    ELSIF NOT s.bound_created_at AND r.created_at_bound <> 'none' THEN
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.partition, check_name);
      changes := changes + 1;
    END IF;
    FOR si IN SELECT * FROM window_sort_indexes() LOOP
      index_name := format('%s_by_%s%s', r.partition::text, si.sort_column, CASE WHEN si.nulls_first THEN '_nulls_first' ELSE '' END);
      IF r.ends > now() - make_interval(days => s.sorted_days) THEN
        CONTINUE WHEN to_regclass(quote_ident(index_name)) IS NOT NULL;
        EXECUTE format('CREATE INDEX %I ON %s (%I NULLS %s, created_at)', index_name, r.partition, si.sort_column,
                       CASE WHEN si.nulls_first THEN 'FIRST' ELSE 'LAST' END);
        changes := changes + 1;
      ELSIF to_regclass(quote_ident(index_name)) IS NOT NULL THEN
        PERFORM set_config('lock_timeout', '200ms', true);
        BEGIN
          EXECUTE format('DROP INDEX %I', index_name);
          changes := changes + 1;
        EXCEPTION WHEN lock_not_available THEN
          RAISE NOTICE 'dropping % waited for readers; left for the next call', index_name;
        END;
        PERFORM set_config('lock_timeout', caller_lock_timeout, true);
      END IF;
    END LOOP;
  END LOOP;
  RETURN changes;
END
$$;
DROP FUNCTION window_failed_sort_indexes();
