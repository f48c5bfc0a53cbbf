-- 006_window_reads: the invocation list sorted on any column over a recent window, without reading the window's
-- rows (GitHub issue 11; sql/README.md "Sorted lists over a recent window" has the measurements).
-- 1. Each range partition of invocations gets CHECK (created_at < <its end>). Partitions are ranges of id, and a
--    UUIDv7 id carries its row's time, but PostgreSQL cannot know that; with the check, a plan for a window
--    leaves out every partition that ended before the window began. The sink's rows satisfy it by construction
--    (an id's millisecond is its row's created_at). A row from another writer whose created_at is later than
--    its id's partition allows is refused (check_violation): a UUIDv7 made long before the row was written, or
--    a random UUIDv4 that falls into a past week's id range (~2 in a million rows per week kept). The default
--    id of invocations becomes a UUIDv7 of the insert's moment, so hand inserts without an id always satisfy it.
--    partition_settings.bound_created_at = false removes the checks (and the exclusion) for such writers.
-- 2. Partitions that can hold rows of a window of sorted_days (default 7) get the indexes that give each sort of
--    the invocation list its order, ties by created_at (dashboard/src/lib/filters.ts): a sorted page then reads ~50
--    index entries instead of sorting every row of the window. Older partitions lose them (the check already keeps
--    them out of such windows), so their cost stays bounded by ~2 weeks of invocations.
-- create_partitions() (the sink's hourly call) keeps both true for new and ageing partitions.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.

ALTER TABLE partition_settings
  ADD COLUMN bound_created_at boolean NOT NULL DEFAULT true,
  ADD COLUMN sorted_days integer NOT NULL DEFAULT 7 CHECK (sorted_days BETWEEN 0 AND 31);

-- A UUIDv7 of this moment (RFC 9562: 48 bits of Unix milliseconds, version 7, the rest random).
CREATE FUNCTION uuid7_now() RETURNS uuid
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
AS $$
DECLARE
  b bytea := uuid_send(gen_random_uuid());
BEGIN
  b := overlay(b PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6);
  RETURN encode(set_byte(b, 6, (get_byte(b, 6) & 15) | 112), 'hex')::uuid;
END
$$;
ALTER TABLE invocations ALTER COLUMN id SET DEFAULT uuid7_now();

-- The sort indexes of a recent partition, one per order of the invocation list (dashboard/src/lib/filters.ts
-- buildInvocationOrderBy): <column>, then created_at, then id, all ascending or all descending, NULLs last either
-- way. One index read forwards gives the ascending order and read backwards the descending one, except where
-- NULLs may occur: (c NULLS LAST, created_at) forwards is ascending with NULLs last, (c NULLS FIRST, created_at)
-- backwards is descending with NULLs last. created_at ascending in every key: rows arrive in time order, so each
-- insert goes to the right end of its key's run and the leaves stay full (55 B per row with created_at DESC
-- against 33 B, measured on 20k rows of a small-integer column). Not here: created_at (every partition has an
-- index on it), source_function (NOT NULL; the partitioned index (source_function, created_at) serves it), and
-- correlation_id ascending (the partitioned index (correlation_id, created_at)).
CREATE FUNCTION window_sort_indexes() RETURNS TABLE (sort_column text, nulls_first boolean)
LANGUAGE sql IMMUTABLE
AS $$
  VALUES ('status', false),
         ('total_duration_ms', false), ('total_duration_ms', true),
         ('events_detected_count', false), ('events_detected_count', true),
         ('total_jobs_run', false), ('total_jobs_run', true),
         ('total_jobs_failed', false), ('total_jobs_failed', true),
         ('correlation_id', true)
$$;

-- Per range partition of invocations: its created_at check ('validated', 'not valid' when rows already in it
-- break it, or 'none') and how many sort indexes it has.
CREATE FUNCTION window_read_paths()
RETURNS TABLE (partition regclass, first_day date, end_day date, created_at_bound text, sort_indexes integer)
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
  SELECT r.partition, r.first_day, r.end_day,
         COALESCE((SELECT CASE WHEN c.convalidated THEN 'validated' ELSE 'not valid' END FROM pg_constraint c
                   WHERE c.conrelid = r.partition AND c.conname = r.partition::text || '_created_before_end'), 'none'),
         (SELECT count(*)::integer FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
          WHERE i.indrelid = r.partition AND starts_with(ic.relname::text, r.partition::text || '_by_'))
  FROM partition_ranges('invocations') r
$$;

-- Makes window_read_paths() match partition_settings: adds the created_at check to every range partition of
-- invocations that lacks it (validated against its rows; when rows break it the check stays NOT VALID, so it is
-- not tried again each hour, and a WARNING says how many rows), or removes them all when bound_created_at is
-- false. With revalidate, NOT VALID checks are validated again (after the rows that broke them are gone). It
-- creates the sort indexes on partitions that end less than sorted_days ago and drops them from older
-- ones. A drop waits at most 200 ms for readers of the partition, else it is left for the next call. Returns the
-- number of changes.
CREATE FUNCTION prepare_window_reads(revalidate boolean DEFAULT false) RETURNS integer
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

ALTER FUNCTION create_partitions(integer, date) RENAME TO create_partitions_002;
-- create_partitions() of 002, then prepare_window_reads(): new partitions get their check and sort indexes in
-- the transaction that creates them (empty, so at once), and ageing ones lose their sort indexes.
CREATE FUNCTION create_partitions(days_ahead integer DEFAULT 7, first_day date DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  created integer := create_partitions_002(days_ahead, first_day);
BEGIN
  PERFORM prepare_window_reads();
  RETURN created;
END
$$;

DO $$ BEGIN PERFORM prepare_window_reads(); END $$;
