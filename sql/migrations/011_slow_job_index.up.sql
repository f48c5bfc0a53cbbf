-- 011_slow_job_index: the slowest-jobs list keeps its index, ingest stops paying for most of it (GitHub issue 11;
-- benchmarks/README.md "The slow-jobs index holds the slow jobs only (migration 011)").
-- The list reads only jobs at or above a threshold the rollups give (dashboard SlowestJobThreshold: the tenth
-- largest hourly maximum of the window), so an index over every job's duration_ms was paid on every insert for
-- entries no read reaches. Each range partition of job_executions now gets <partition>_slow, (duration_ms) over the
-- partition's slower jobs only: WHERE duration_ms >= the partition_settings.slow_job_quantile (default 0.9) of the
-- job durations of the 7 days before it, from the rollups' histograms. A partition is given its index when those
-- days have jobs: at creation (create_partitions() makes them a week ahead), or, on a database without recent
-- jobs, at the first hourly create_partitions() after jobs arrive (built over the rows of that hour). The default
-- partition's index holds every duration.
-- Results never depend on the index: a partition without one, or whose threshold is above the list's, is read by
-- id over the window (slower, same rows); at 10M job rows the list's threshold is far above the 0.9 quantile.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.

ALTER TABLE partition_settings
  ADD COLUMN slow_job_quantile float8 NOT NULL DEFAULT 0.9 CHECK (slow_job_quantile >= 0 AND slow_job_quantile < 1);

-- The smallest integer bucket `bucket` of a duration histogram can hold (duration_bucket() is its inverse).
CREATE FUNCTION duration_bucket_lower(bucket integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN bucket IS NULL THEN NULL WHEN bucket <= 1 THEN bucket
            ELSE greatest(floor(power(2::float8, (bucket - 2) / 4.0))::integer + 1, 1) END;

-- The duration at or above which a partition covering [starts, ends) indexes its jobs: the lower bound of the
-- histogram bucket that holds the slow_job_quantile of the job durations in [least(starts, now()) - 7 days,
-- least(ends, now())), so at least the rest of those jobs is at or above it. NULL when those days have no jobs.
CREATE FUNCTION slow_job_threshold(starts timestamptz, ends timestamptz) RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path FROM CURRENT
AS $$
DECLARE
  h integer[];
  n bigint := 0;
  rank bigint;
  cum bigint := 0;
  c integer;
BEGIN
  SELECT hist_sum(duration_hist) INTO h FROM job_rollup
  WHERE hour_bucket >= least(starts, now()) - interval '7 days' AND hour_bucket < least(ends, now());
  IF h IS NULL THEN RETURN NULL; END IF;
  FOREACH c IN ARRAY h LOOP n := n + COALESCE(c, 0); END LOOP;
  IF n = 0 THEN RETURN NULL; END IF;
  rank := floor((SELECT slow_job_quantile FROM partition_settings) * (n - 1));
  FOR i IN 1 .. cardinality(h) LOOP
    cum := cum + COALESCE(h[i], 0);
    IF cum > rank THEN RETURN duration_bucket_lower(i - 1); END IF;
  END LOOP;
  RETURN 0;
END
$$;

-- Gives every partition of job_executions that lacks one its slow-jobs index: a range partition once its
-- threshold is known (slow_job_threshold() of its range), the default partition at once (every duration).
-- Returns the number of indexes created.
CREATE FUNCTION prepare_slow_job_indexes() RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  r record;
  index_name text;
  threshold integer;
  created integer := 0;
BEGIN
  FOR r IN SELECT p.partition, p.lo, p.hi FROM partition_ranges('job_executions') p LOOP
    index_name := r.partition::text || '_slow';
    CONTINUE WHEN to_regclass(quote_ident(index_name)) IS NOT NULL;
    threshold := slow_job_threshold(uuid7_time(r.lo), uuid7_time(r.hi));
    CONTINUE WHEN threshold IS NULL;
    -- Serialize creators (the sink of every process calls this), as create_partitions() does.
    PERFORM pg_advisory_xact_lock(7314725002);
    CONTINUE WHEN to_regclass(quote_ident(index_name)) IS NOT NULL;
    EXECUTE format('CREATE INDEX %I ON %s (duration_ms) WHERE duration_ms >= %s', index_name, r.partition, threshold);
    created := created + 1;
  END LOOP;
  IF to_regclass('job_executions_default') IS NOT NULL AND to_regclass('job_executions_default_slow') IS NULL THEN
    PERFORM pg_advisory_xact_lock(7314725002);
    CREATE INDEX IF NOT EXISTS job_executions_default_slow ON job_executions_default (duration_ms);
    created := created + 1;
  END IF;
  RETURN created;
END
$$;

DROP INDEX job_executions_duration_ms_idx;

ALTER FUNCTION create_partitions(integer, date) RENAME TO create_partitions_008;
-- create_partitions() of 008, then the slow-jobs indexes of the partitions that lack one.
CREATE FUNCTION create_partitions(days_ahead integer DEFAULT 7, first_day date DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  created integer := create_partitions_008(days_ahead, first_day);
BEGIN
  PERFORM prepare_slow_job_indexes();
  RETURN created;
END
$$;

DO $$ BEGIN PERFORM prepare_slow_job_indexes(); END $$;
