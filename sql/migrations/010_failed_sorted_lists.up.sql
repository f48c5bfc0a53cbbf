-- 010_failed_sorted_lists: the invocation list filtered to failed invocations and sorted on a column, over a
-- recent window, without walking the window (GitHub issue 11; benchmarks/README.md "The pager's count cap, failed
-- invocations in sorted lists (migration 010)"). 006's sort indexes hold every row: a page of failed rows sorted
-- by duration reads them in duration order and skips the 98 % that did not fail. When the rest of the filter
-- matches few failed rows (at 10M job rows: failed, "orders.shipped" and a job that never failed in 7 days) that
-- is every row of the window, 0.5-0.8 s.
-- PostgreSQL's estimates of the two plans (walk the sort index, or read the failed rows and sort them) were within
-- 1 % of each other there, so either could be chosen. Partial copies of the sort indexes over failed rows only
-- (~2 % of invocations) give it a plan that reads at most the window's failed rows, in order. source_function and
-- correlation_id get theirs too (their partitioned (x, created_at) indexes have the same walk); created_at has
-- one already (invocations_failed_created_at_idx), status needs none.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.
CREATE FUNCTION window_failed_sort_indexes() RETURNS TABLE (sort_column text, nulls_first boolean)
LANGUAGE sql IMMUTABLE
AS $$
  VALUES ('total_duration_ms', false), ('total_duration_ms', true),
         ('events_detected_count', false), ('events_detected_count', true),
         ('total_jobs_run', false), ('total_jobs_run', true),
         ('total_jobs_failed', false), ('total_jobs_failed', true),
         ('correlation_id', false), ('correlation_id', true),
         ('source_function', false)
$$;

-- 006's prepare_window_reads() with both sets: a failed-only index is named <partition>_by_<column>[_nulls_first]_fail
-- (63 characters at most) and lives and goes with the partition's other sort indexes.
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
    FOR si IN SELECT w.sort_column, w.nulls_first, false AS failed_only FROM window_sort_indexes() w
              UNION ALL SELECT f.sort_column, f.nulls_first, true FROM window_failed_sort_indexes() f LOOP
      index_name := format('%s_by_%s%s%s', r.partition::text, si.sort_column, CASE WHEN si.nulls_first THEN '_nulls_first' ELSE '' END,
                           CASE WHEN si.failed_only THEN '_fail' ELSE '' END);
      IF r.ends > now() - make_interval(days => s.sorted_days) THEN
        CONTINUE WHEN to_regclass(quote_ident(index_name)) IS NOT NULL;
        EXECUTE format('CREATE INDEX %I ON %s (%I NULLS %s, created_at)%s', index_name, r.partition, si.sort_column,
                       CASE WHEN si.nulls_first THEN 'FIRST' ELSE 'LAST' END,
                       CASE WHEN si.failed_only THEN ' WHERE status = ''failed''' ELSE '' END);
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

DO $$ BEGIN PERFORM prepare_window_reads(); END $$;
