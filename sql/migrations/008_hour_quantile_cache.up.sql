-- 008_hour_quantile_cache: dashboard_stats reads the p95 of an hour that has ended from a cache instead of reading
-- the hour's histogram again at every query (GitHub issue 11; benchmarks/README.md "Hour quantiles from a cache").
-- Over 7 days the view has 1,176 rows, and its hist_quantile() calls were most of its time even after 007.
-- A cache row keeps the histogram its p95 was computed from, and the view uses it only while that histogram is
-- still the rollup's (an array comparison); otherwise it computes the p95 as before. So the figure is exact
-- whoever wrote the rollup and however late a row arrives; a stale cache row only costs the computation.
-- create_partitions() (the sink's hourly call) fills the cache for the hours that have ended and drops the rows of
-- hours that have no rollup any more (retention); cache_hour_quantiles() does the same on demand.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.

CREATE TABLE dashboard_stats_p95 (
  hour_bucket     timestamptz NOT NULL,
  source_function text        NOT NULL,
  duration_hist   integer[]   NOT NULL,  -- the rollup's histogram when p95_duration_ms was computed
  p95_duration_ms numeric,
  PRIMARY KEY (hour_bucket, source_function)
);

-- Caches the p95 of every ended UTC hour whose cache row is missing or stale; drops rows without a rollup.
-- Returns the rows written.
CREATE FUNCTION cache_hour_quantiles() RETURNS bigint
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  written bigint;
BEGIN
  -- One filler at a time (every sink calls this hourly): concurrent upserts in different orders could deadlock.
  PERFORM pg_advisory_xact_lock(7314725008);
  DELETE FROM dashboard_stats_p95 c
  WHERE NOT EXISTS (SELECT 1 FROM invocation_rollup r WHERE r.hour_bucket = c.hour_bucket AND r.source_function = c.source_function);
  INSERT INTO dashboard_stats_p95 AS c (hour_bucket, source_function, duration_hist, p95_duration_ms)
  SELECT r.hour_bucket, r.source_function, r.duration_hist, hist_quantile(r.duration_hist, 0.95)
  FROM invocation_rollup r
  WHERE r.hour_bucket < date_trunc('hour', now(), 'UTC')
    AND NOT EXISTS (SELECT 1 FROM dashboard_stats_p95 x WHERE x.hour_bucket = r.hour_bucket
                    AND x.source_function = r.source_function AND x.duration_hist = r.duration_hist)
  ORDER BY r.hour_bucket, r.source_function
  ON CONFLICT (hour_bucket, source_function)
  DO UPDATE SET duration_hist = excluded.duration_hist, p95_duration_ms = excluded.p95_duration_ms;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END
$$;

-- Same name, columns and meaning as 002's view; only where p95_duration_ms comes from changes.
CREATE OR REPLACE VIEW dashboard_stats AS
SELECT r.hour_bucket,
       r.source_function,
       r.invocations                                               AS total_invocations,
       r.completed                                                 AS successful_invocations,
       r.failed                                                    AS failed_invocations,
       r.events_detected                                           AS total_events_detected,
       r.jobs_run                                                  AS total_jobs_run,
       r.jobs_succeeded                                            AS total_jobs_succeeded,
       round(r.duration_sum::numeric / NULLIF(r.duration_count, 0), 2) AS avg_duration_ms,
       r.duration_min                                              AS min_duration_ms,
       r.duration_max                                              AS max_duration_ms,
       CASE WHEN c.duration_hist = r.duration_hist THEN c.p95_duration_ms
            ELSE hist_quantile(r.duration_hist, 0.95) END          AS p95_duration_ms
FROM invocation_rollup r
LEFT JOIN dashboard_stats_p95 c ON c.hour_bucket = r.hour_bucket AND c.source_function = r.source_function;

ALTER FUNCTION create_partitions(integer, date) RENAME TO create_partitions_006;
-- create_partitions() of 006, then the quantiles of the hours that ended since the last call.
CREATE FUNCTION create_partitions(days_ahead integer DEFAULT 7, first_day date DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  created integer := create_partitions_006(days_ahead, first_day);
BEGIN
  PERFORM cache_hour_quantiles();
  RETURN created;
END
$$;

SELECT cache_hour_quantiles();
