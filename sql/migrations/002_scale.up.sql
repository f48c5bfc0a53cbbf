-- 002_scale: analytics at production scale (GitHub issue 11; sql/README.md "Scale" says why each choice).
--   1. Hourly rollup tables, always fresh: statement-level AFTER triggers add each statement's newly final rows
--      (exact under concurrent writers: INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n). Counted once:
--      only rows whose status is final count, and a final row is counted when it first becomes final.
--      Log-scale duration histograms (bucket = ceil(4 * log2(ms)), 2^(1/4) steps, relative error <= 8.7 %)
--      give p50/p95/p99 and merge by adding buckets.
--   2. dashboard_stats: a view over invocation_rollup (same name and columns as the materialized view of 001).
--   3. Foreign keys replaced by delete triggers (cascades, SET NULL): FK checks cost more than half of the
--      insert time of a job row and block dropping partitions.
--   4. The four raw tables partitioned by range of id (UUIDv7: a range of ids is a range of time), one
--      partition per UTC day, a default partition, partitions created ahead, retention by dropping partitions.
--   5. Indexes by evidence (BRIN where only time ranges are read; no index the rollups made useless).
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.

-- ============================================================================================ helpers

-- Duration histogram bucket of a non-negative whole number of milliseconds: 0 for 0 ms, else
-- 1 + ceil(4 * log2(ms)), i.e. bucket b >= 1 holds (2^((b-2)/4), 2^((b-1)/4)]. The epsilon keeps exact
-- powers of two in their own bucket despite floating-point rounding. The C++ sink does not compute buckets;
-- only SQL does (the triggers, rebuild_rollups and check_rollups), so there is one definition.
CREATE FUNCTION duration_bucket(ms integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN ms IS NULL THEN NULL WHEN ms <= 0 THEN 0
            ELSE 1 + ceil(4 * ln(ms::float8) / ln(2::float8) - 1e-9)::integer END;

-- The value reported for a bucket: the integers a bucket can hold are [lo, hi]; 2*lo*hi/(lo+hi) has the
-- smallest worst-case relative error over them (<= (2^(1/4)-1)/(2^(1/4)+1) = 8.643 %; exact when lo = hi).
CREATE FUNCTION duration_bucket_value(bucket integer) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN bucket IS NULL THEN NULL WHEN bucket <= 0 THEN 0
  -- lo = floor(2^((b-2)/4)) + 1, hi = floor(2^((b-1)/4)) (at least 1): float8 is exact at the powers of two
  WHEN greatest(floor(power(2::float8, (bucket - 2) / 4.0)) + 1, 1) >= greatest(floor(power(2::float8, (bucket - 1) / 4.0)), 1)
    THEN greatest(floor(power(2::float8, (bucket - 1) / 4.0)), 1)
  ELSE 2 * greatest(floor(power(2::float8, (bucket - 2) / 4.0)) + 1, 1) * greatest(floor(power(2::float8, (bucket - 1) / 4.0)), 1)
         / (greatest(floor(power(2::float8, (bucket - 2) / 4.0)) + 1, 1) + greatest(floor(power(2::float8, (bucket - 1) / 4.0)), 1)) END;

-- A histogram is integer[] (1-based): element i counts bucket i - 1. Missing trailing elements are zeros.
CREATE FUNCTION hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN a IS NULL OR cardinality(a) = 0 THEN b WHEN b IS NULL OR cardinality(b) = 0 THEN a ELSE
  (SELECT array_agg(COALESCE(a[i], 0) + COALESCE(b[i], 0) ORDER BY i)
   FROM generate_series(1, greatest(cardinality(a), cardinality(b))) i) END;

-- Merges histograms (rebuilds and views; the write path adds one pair at a time with hist_add).
CREATE AGGREGATE hist_sum(integer[]) (SFUNC = hist_add, STYPE = integer[]);

-- A histogram from parallel arrays of buckets and counts (what GROUP BY bucket gives).
CREATE FUNCTION hist_from(buckets integer[], counts bigint[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN buckets IS NULL OR cardinality(buckets) = 0 THEN '{}'::integer[] ELSE
  (SELECT array_agg(COALESCE(c.n, 0)::integer ORDER BY i)
   FROM generate_series(1, (SELECT max(b) FROM unnest(buckets) b) + 1) i
   LEFT JOIN (SELECT b, sum(n) AS n FROM unnest(buckets, counts) u(b, n) GROUP BY b) c ON c.b + 1 = i) END;

-- Quantile q of a histogram with percentile_cont's definition (position q * (n - 1) between the sorted values,
-- linear interpolation), each of the two neighbouring values read as its bucket's value: the relative error
-- against percentile_cont on the same rows is at most the bucket error (8.65 %). NULL for an empty histogram.
CREATE FUNCTION hist_quantile(h integer[], q float8) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path FROM CURRENT
AS $$
DECLARE
  n bigint := 0;
  pos float8;
  lo_rank bigint;
  hi_rank bigint;
  cum bigint := 0;
  lo_val float8;
  hi_val float8;
  c integer;
BEGIN
  IF h IS NULL THEN RETURN NULL; END IF;
  FOREACH c IN ARRAY h LOOP n := n + COALESCE(c, 0); END LOOP;
  IF n = 0 THEN RETURN NULL; END IF;
  pos := q * (n - 1);
  lo_rank := floor(pos);
  hi_rank := ceil(pos);
  FOR i IN 1 .. cardinality(h) LOOP
    cum := cum + COALESCE(h[i], 0);
    IF lo_val IS NULL AND cum > lo_rank THEN lo_val := duration_bucket_value(i - 1); END IF;
    IF cum > hi_rank THEN hi_val := duration_bucket_value(i - 1); EXIT; END IF;
  END LOOP;
  RETURN round((lo_val + (pos - lo_rank) * (hi_val - lo_val))::numeric, 2);
END
$$;

-- How far a row is in its life, for every status of the three tables: 0 running/detecting, 1 handling,
-- 2 final. The sink's upsert guard and coalescing use the same ranks (its C++ table is checked against this
-- function by tests/postgres). Final rows are the ones rollups count.
CREATE FUNCTION status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE status WHEN 'running' THEN 0 WHEN 'detecting' THEN 0 WHEN 'handling' THEN 1 ELSE 2 END;

-- UUIDv7 <-> time: the first 48 bits of a UUIDv7 are Unix milliseconds. uuid7_lower(t) is the smallest
-- UUIDv7 of millisecond t, so [uuid7_lower(a), uuid7_lower(b)) holds every UUIDv7 made in [a, b).
CREATE FUNCTION uuid7_lower(ts timestamptz) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '00000000000000000000')::uuid;

CREATE FUNCTION uuid7_time(id uuid) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_timestamp((('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint) / 1000.0);

-- ============================================================================================ rollups

-- Per UTC hour of created_at. Every row counts once, in its current status (rollup_sql() below). Durations:
-- count of final rows with a duration, their sum, min, max and histogram; quantiles are read from the histogram
-- when asked for (hist_quantile; dashboard_stats does), not kept: writers pay nothing for them.
CREATE TABLE invocation_rollup (
  hour_bucket     timestamptz NOT NULL,
  source_function text        NOT NULL,
  invocations     bigint      NOT NULL DEFAULT 0,
  completed       bigint      NOT NULL DEFAULT 0,
  failed          bigint      NOT NULL DEFAULT 0,
  events_detected bigint      NOT NULL DEFAULT 0,
  jobs_run        bigint      NOT NULL DEFAULT 0,
  jobs_succeeded  bigint      NOT NULL DEFAULT 0,
  jobs_failed     bigint      NOT NULL DEFAULT 0,
  duration_count  bigint      NOT NULL DEFAULT 0,
  duration_sum    bigint      NOT NULL DEFAULT 0,
  duration_min    integer,
  duration_max    integer,
  duration_hist   integer[]   NOT NULL DEFAULT '{}',
  CONSTRAINT invocation_rollup_pkey PRIMARY KEY (hour_bucket, source_function)
);

-- All source functions together, per hour: the KPIs' p95 over a window merges one histogram per hour.
CREATE TABLE invocation_hourly (
  hour_bucket    timestamptz NOT NULL,
  invocations    bigint      NOT NULL DEFAULT 0,
  completed      bigint      NOT NULL DEFAULT 0,
  failed         bigint      NOT NULL DEFAULT 0,
  duration_count bigint      NOT NULL DEFAULT 0,
  duration_sum   bigint      NOT NULL DEFAULT 0,
  duration_min   integer,
  duration_max   integer,
  duration_hist  integer[]   NOT NULL DEFAULT '{}',
  CONSTRAINT invocation_hourly_pkey PRIMARY KEY (hour_bucket)
);

-- Correlation coverage per hour and correlation_source: with_correlation_id = correlation_id not NULL,
-- chained = source_job_id not NULL (caused by a job).
CREATE TABLE correlation_rollup (
  hour_bucket         timestamptz NOT NULL,
  correlation_source  text        NOT NULL,
  invocations         bigint      NOT NULL DEFAULT 0,
  with_correlation_id bigint      NOT NULL DEFAULT 0,
  chained             bigint      NOT NULL DEFAULT 0,
  CONSTRAINT correlation_rollup_pkey PRIMARY KEY (hour_bucket, correlation_source)
);

-- Per hour, source function (of the event's invocation) and event name. checked = final rows.
CREATE TABLE event_rollup (
  hour_bucket      timestamptz NOT NULL,
  source_function  text        NOT NULL,
  event_name       text        NOT NULL,
  checked          bigint      NOT NULL DEFAULT 0,
  detected         bigint      NOT NULL DEFAULT 0,
  completed        bigint      NOT NULL DEFAULT 0,
  failed           bigint      NOT NULL DEFAULT 0,
  detection_failed bigint      NOT NULL DEFAULT 0,
  handler_failed   bigint      NOT NULL DEFAULT 0,
  jobs_run         bigint      NOT NULL DEFAULT 0,
  jobs_succeeded   bigint      NOT NULL DEFAULT 0,
  jobs_failed      bigint      NOT NULL DEFAULT 0,
  detection_count  bigint      NOT NULL DEFAULT 0,
  detection_sum    bigint      NOT NULL DEFAULT 0,
  detection_min    integer,
  detection_max    integer,
  detection_hist   integer[]   NOT NULL DEFAULT '{}',
  handler_count    bigint      NOT NULL DEFAULT 0,
  handler_sum      bigint      NOT NULL DEFAULT 0,
  handler_min      integer,
  handler_max      integer,
  handler_hist     integer[]   NOT NULL DEFAULT '{}',
  CONSTRAINT event_rollup_pkey PRIMARY KEY (hour_bucket, source_function, event_name)
);
-- Per event name over a time range (the detection-rate panel's relationship aggregate).
CREATE INDEX event_rollup_event_name_hour_bucket_idx ON event_rollup (event_name, hour_bucket);

-- Per hour and job name. Leading with job_name: one name's hours (the failing-jobs panel's relationship
-- aggregate); a time range over all names reads this small table whole.
CREATE TABLE job_rollup (
  job_name       text        NOT NULL,
  hour_bucket    timestamptz NOT NULL,
  jobs           bigint      NOT NULL DEFAULT 0,
  completed      bigint      NOT NULL DEFAULT 0,
  failed         bigint      NOT NULL DEFAULT 0,
  duration_count bigint      NOT NULL DEFAULT 0,
  duration_sum   bigint      NOT NULL DEFAULT 0,
  duration_min   integer,
  duration_max   integer,
  duration_hist  integer[]   NOT NULL DEFAULT '{}',
  CONSTRAINT job_rollup_pkey PRIMARY KEY (job_name, hour_bucket)
);
CREATE INDEX job_rollup_hour_bucket_idx ON job_rollup (hour_bucket);


-- The statements that apply rows to the rollups, as text over a row source `src` with a column `sign` (+1: the
-- row is added, -1: removed): a transition table in the triggers, a time range of a raw table in
-- rebuild_rollups() and check_rollups(); one definition for all. Every row counts once, in its current status
-- (totals include running rows, as 001's dashboard_stats did; a running row that completes moves from running to
-- completed); duration statistics come from final rows only (a running row has none), and only added rows feed
-- them: the triggers never remove a final row by delta (they rebuild its hours). Grouped by key and bucket with
-- plain aggregates (cheap per row), then per key; ORDER BY key, so that concurrent writers lock rollup rows in
-- the same order. `dest_prefix` redirects the INSERTs (check_rollups).
CREATE FUNCTION rollup_sql(tbl text, src text, dest_prefix text DEFAULT '') RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE
  -- final rows being added: the ones whose durations count
  fin constant text := 'r.sign = 1 AND status_rank(r.status) = 2';
BEGIN
  IF tbl = 'invocations' THEN
    RETURN ARRAY[format($q$
      WITH b AS (
        SELECT date_trunc('hour', r.created_at, 'UTC') AS h, r.source_function AS k,
               CASE WHEN %3$s THEN duration_bucket(r.total_duration_ms) END AS bk,
               sum(r.sign) AS n, COALESCE(sum(r.sign) FILTER (WHERE r.status = 'completed'), 0) AS ok,
               COALESCE(sum(r.sign) FILTER (WHERE r.status = 'failed'), 0) AS bad,
               COALESCE(sum(r.sign * r.events_detected_count), 0) AS ev, COALESCE(sum(r.sign * r.total_jobs_run), 0) AS jr,
               COALESCE(sum(r.sign * r.total_jobs_succeeded), 0) AS js, COALESCE(sum(r.sign * r.total_jobs_failed), 0) AS jf,
               count(r.total_duration_ms) FILTER (WHERE %3$s) AS dn, COALESCE(sum(r.total_duration_ms) FILTER (WHERE %3$s), 0) AS ds,
               min(r.total_duration_ms) FILTER (WHERE %3$s) AS dmin, max(r.total_duration_ms) FILTER (WHERE %3$s) AS dmax
        FROM %1$s r GROUP BY 1, 2, 3)
      INSERT INTO %2$sinvocation_rollup AS t (hour_bucket, source_function, invocations, completed, failed, events_detected,
        jobs_run, jobs_succeeded, jobs_failed, duration_count, duration_sum, duration_min, duration_max, duration_hist)
      SELECT h, k, sum(n), sum(ok), sum(bad), sum(ev), sum(jr), sum(js), sum(jf), sum(dn), sum(ds), min(dmin), max(dmax),
             hist_from(array_agg(bk) FILTER (WHERE bk IS NOT NULL), array_agg(dn) FILTER (WHERE bk IS NOT NULL))
      FROM b GROUP BY h, k ORDER BY h, k
      ON CONFLICT (hour_bucket, source_function) DO UPDATE SET
        invocations = t.invocations + excluded.invocations, completed = t.completed + excluded.completed,
        failed = t.failed + excluded.failed, events_detected = t.events_detected + excluded.events_detected,
        jobs_run = t.jobs_run + excluded.jobs_run, jobs_succeeded = t.jobs_succeeded + excluded.jobs_succeeded,
        jobs_failed = t.jobs_failed + excluded.jobs_failed, duration_count = t.duration_count + excluded.duration_count,
        duration_sum = t.duration_sum + excluded.duration_sum, duration_min = least(t.duration_min, excluded.duration_min),
        duration_max = greatest(t.duration_max, excluded.duration_max),
        duration_hist = hist_add(t.duration_hist, excluded.duration_hist)$q$, src, dest_prefix, fin),
    format($q$
      WITH b AS (
        SELECT date_trunc('hour', r.created_at, 'UTC') AS h, CASE WHEN %3$s THEN duration_bucket(r.total_duration_ms) END AS bk,
               sum(r.sign) AS n, COALESCE(sum(r.sign) FILTER (WHERE r.status = 'completed'), 0) AS ok,
               COALESCE(sum(r.sign) FILTER (WHERE r.status = 'failed'), 0) AS bad,
               count(r.total_duration_ms) FILTER (WHERE %3$s) AS dn, COALESCE(sum(r.total_duration_ms) FILTER (WHERE %3$s), 0) AS ds,
               min(r.total_duration_ms) FILTER (WHERE %3$s) AS dmin, max(r.total_duration_ms) FILTER (WHERE %3$s) AS dmax
        FROM %1$s r GROUP BY 1, 2)
      INSERT INTO %2$sinvocation_hourly AS t (hour_bucket, invocations, completed, failed, duration_count, duration_sum,
        duration_min, duration_max, duration_hist)
      SELECT h, sum(n), sum(ok), sum(bad), sum(dn), sum(ds), min(dmin), max(dmax),
             hist_from(array_agg(bk) FILTER (WHERE bk IS NOT NULL), array_agg(dn) FILTER (WHERE bk IS NOT NULL))
      FROM b GROUP BY h ORDER BY h
      ON CONFLICT (hour_bucket) DO UPDATE SET
        invocations = t.invocations + excluded.invocations, completed = t.completed + excluded.completed,
        failed = t.failed + excluded.failed, duration_count = t.duration_count + excluded.duration_count,
        duration_sum = t.duration_sum + excluded.duration_sum, duration_min = least(t.duration_min, excluded.duration_min),
        duration_max = greatest(t.duration_max, excluded.duration_max),
        duration_hist = hist_add(t.duration_hist, excluded.duration_hist)$q$, src, dest_prefix, fin),
    format($q$
      INSERT INTO %2$scorrelation_rollup AS t (hour_bucket, correlation_source, invocations, with_correlation_id, chained)
      SELECT date_trunc('hour', r.created_at, 'UTC'), r.correlation_source, sum(r.sign),
             COALESCE(sum(r.sign) FILTER (WHERE r.correlation_id IS NOT NULL), 0), COALESCE(sum(r.sign) FILTER (WHERE r.source_job_id IS NOT NULL), 0)
      FROM %1$s r GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (hour_bucket, correlation_source) DO UPDATE SET
        invocations = t.invocations + excluded.invocations, with_correlation_id = t.with_correlation_id + excluded.with_correlation_id,
        chained = t.chained + excluded.chained$q$, src, dest_prefix)];
  ELSIF tbl = 'event_executions' THEN
    -- source_function is the row's own (written by the sink); rows without it (other writers) take it from
    -- their invocation.
    RETURN ARRAY[format($q$
      WITH f AS (
        SELECT date_trunc('hour', r.created_at, 'UTC') AS h,
               COALESCE(r.source_function, (SELECT i.source_function FROM invocations i WHERE i.id = r.invocation_id), '') AS fn,
               r.event_name, r.status, r.sign, r.detected, r.jobs_count, r.jobs_succeeded, r.jobs_failed,
               CASE WHEN %3$s THEN r.detection_duration_ms END AS dd, CASE WHEN %3$s THEN r.handler_duration_ms END AS hd
        FROM %1$s r),
      b AS (
        SELECT h, fn, event_name, duration_bucket(dd) AS dbk, duration_bucket(hd) AS hbk, sum(sign) AS n,
               COALESCE(sum(sign) FILTER (WHERE detected), 0) AS det, COALESCE(sum(sign) FILTER (WHERE status = 'completed'), 0) AS ok,
               COALESCE(sum(sign) FILTER (WHERE status = 'failed'), 0) AS bad,
               COALESCE(sum(sign) FILTER (WHERE status = 'detection_failed'), 0) AS dfail,
               COALESCE(sum(sign) FILTER (WHERE status = 'handler_failed'), 0) AS hfail, COALESCE(sum(sign * jobs_count), 0) AS jr,
               COALESCE(sum(sign * jobs_succeeded), 0) AS js, COALESCE(sum(sign * jobs_failed), 0) AS jf,
               count(dd) AS dn, COALESCE(sum(dd), 0) AS ds, min(dd) AS dmin, max(dd) AS dmax,
               count(hd) AS hn, COALESCE(sum(hd), 0) AS hs, min(hd) AS hmin, max(hd) AS hmax
        FROM f GROUP BY 1, 2, 3, 4, 5)
      INSERT INTO %2$sevent_rollup AS t (hour_bucket, source_function, event_name, checked, detected, completed, failed,
        detection_failed, handler_failed, jobs_run, jobs_succeeded, jobs_failed, detection_count, detection_sum,
        detection_min, detection_max, detection_hist, handler_count, handler_sum, handler_min, handler_max, handler_hist)
      SELECT h, fn, event_name, sum(n), sum(det), sum(ok), sum(bad), sum(dfail), sum(hfail), sum(jr), sum(js), sum(jf),
             sum(dn), sum(ds), min(dmin), max(dmax),
             hist_from(array_agg(dbk) FILTER (WHERE dbk IS NOT NULL), array_agg(dn) FILTER (WHERE dbk IS NOT NULL)),
             sum(hn), sum(hs), min(hmin), max(hmax),
             hist_from(array_agg(hbk) FILTER (WHERE hbk IS NOT NULL), array_agg(hn) FILTER (WHERE hbk IS NOT NULL))
      FROM b GROUP BY h, fn, event_name ORDER BY h, fn, event_name
      ON CONFLICT (hour_bucket, source_function, event_name) DO UPDATE SET
        checked = t.checked + excluded.checked, detected = t.detected + excluded.detected,
        completed = t.completed + excluded.completed, failed = t.failed + excluded.failed,
        detection_failed = t.detection_failed + excluded.detection_failed, handler_failed = t.handler_failed + excluded.handler_failed,
        jobs_run = t.jobs_run + excluded.jobs_run, jobs_succeeded = t.jobs_succeeded + excluded.jobs_succeeded,
        jobs_failed = t.jobs_failed + excluded.jobs_failed,
        detection_count = t.detection_count + excluded.detection_count, detection_sum = t.detection_sum + excluded.detection_sum,
        detection_min = least(t.detection_min, excluded.detection_min), detection_max = greatest(t.detection_max, excluded.detection_max),
        detection_hist = hist_add(t.detection_hist, excluded.detection_hist),
        handler_count = t.handler_count + excluded.handler_count, handler_sum = t.handler_sum + excluded.handler_sum,
        handler_min = least(t.handler_min, excluded.handler_min), handler_max = greatest(t.handler_max, excluded.handler_max),
        handler_hist = hist_add(t.handler_hist, excluded.handler_hist)$q$, src, dest_prefix, fin)];
  ELSIF tbl = 'job_executions' THEN
    RETURN ARRAY[format($q$
      WITH b AS (
        SELECT date_trunc('hour', r.created_at, 'UTC') AS h, r.job_name AS k, CASE WHEN %3$s THEN duration_bucket(r.duration_ms) END AS bk,
               sum(r.sign) AS n, COALESCE(sum(r.sign) FILTER (WHERE r.status = 'completed'), 0) AS ok,
               COALESCE(sum(r.sign) FILTER (WHERE r.status = 'failed'), 0) AS bad,
               count(r.duration_ms) FILTER (WHERE %3$s) AS dn, COALESCE(sum(r.duration_ms) FILTER (WHERE %3$s), 0) AS ds,
               min(r.duration_ms) FILTER (WHERE %3$s) AS dmin, max(r.duration_ms) FILTER (WHERE %3$s) AS dmax
        FROM %1$s r GROUP BY 1, 2, 3)
      INSERT INTO %2$sjob_rollup AS t (job_name, hour_bucket, jobs, completed, failed, duration_count, duration_sum,
        duration_min, duration_max, duration_hist)
      SELECT k, h, sum(n), sum(ok), sum(bad), sum(dn), sum(ds), min(dmin), max(dmax),
             hist_from(array_agg(bk) FILTER (WHERE bk IS NOT NULL), array_agg(dn) FILTER (WHERE bk IS NOT NULL))
      FROM b GROUP BY k, h ORDER BY k, h
      ON CONFLICT (job_name, hour_bucket) DO UPDATE SET
        jobs = t.jobs + excluded.jobs, completed = t.completed + excluded.completed, failed = t.failed + excluded.failed,
        duration_count = t.duration_count + excluded.duration_count, duration_sum = t.duration_sum + excluded.duration_sum,
        duration_min = least(t.duration_min, excluded.duration_min), duration_max = greatest(t.duration_max, excluded.duration_max),
        duration_hist = hist_add(t.duration_hist, excluded.duration_hist)$q$, src, dest_prefix, fin)];
  END IF;
  RETURN '{}';
END
$f$;

-- The rollup tables a raw table feeds.
CREATE FUNCTION rollup_tables(tbl text) RETURNS text[]
LANGUAGE sql IMMUTABLE
RETURN CASE tbl WHEN 'invocations' THEN ARRAY['invocation_rollup', 'invocation_hourly', 'correlation_rollup']
                WHEN 'event_executions' THEN ARRAY['event_rollup']
                WHEN 'job_executions' THEN ARRAY['job_rollup'] ELSE '{}'::text[] END;

-- Rebuilds the rollups of whole UTC hours [from, to) (NULL: unbounded) from the raw rows: for rows written
-- by something else than the sink, after bulk edits, or to repair. Locks the rollup tables (EXCLUSIVE) first,
-- so that writers finishing meanwhile are either in its snapshot or add their rows after it; writers wait
-- for it (it is meant for ranges, not for all time on a busy system). Returns the rollup rows written.
CREATE FUNCTION rebuild_rollups(from_ts timestamptz DEFAULT NULL, to_ts timestamptz DEFAULT NULL,
                                tables text[] DEFAULT ARRAY['invocations', 'event_executions', 'job_executions'])
RETURNS bigint
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  lo timestamptz := date_trunc('hour', from_ts, 'UTC');
  hi timestamptz := CASE WHEN to_ts IS NULL THEN NULL
                         WHEN date_trunc('hour', to_ts, 'UTC') = to_ts THEN to_ts
                         ELSE date_trunc('hour', to_ts, 'UTC') + interval '1 hour' END;
  t text;
  r text;
  s text;
  n bigint;
  total bigint := 0;
  cond text;
BEGIN
  IF lo IS NOT NULL AND hi IS NOT NULL AND lo >= hi THEN RETURN 0; END IF;
  cond := concat_ws(' AND ', 'true', CASE WHEN lo IS NOT NULL THEN format('created_at >= %L', lo) END,
                                     CASE WHEN hi IS NOT NULL THEN format('created_at < %L', hi) END);
  FOREACH t IN ARRAY tables LOOP
    FOREACH r IN ARRAY rollup_tables(t) LOOP
      EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', r);
    END LOOP;
  END LOOP;
  FOREACH t IN ARRAY tables LOOP
    FOREACH r IN ARRAY rollup_tables(t) LOOP
      EXECUTE format('DELETE FROM %I WHERE %s', r, replace(cond, 'created_at', 'hour_bucket'));
    END LOOP;
    FOREACH s IN ARRAY rollup_sql(t, format('(SELECT x.*, 1 AS sign FROM %I x WHERE %s)', t, cond)) LOOP
      EXECUTE s;
      GET DIAGNOSTICS n = ROW_COUNT;
      total := total + n;
    END LOOP;
  END LOOP;
  RETURN total;
END
$$;

-- Compares the rollups of whole UTC hours [from, to) (NULL: unbounded) with the raw rows: one row per
-- (rollup table, key, column) that differs; empty when they agree (a rollup row whose count went back to 0
-- equals no row). It computes the expected rollups with the
-- same statements as the triggers into temporary copies, after taking SHARE locks on the rollup tables so
-- that writers in flight are in its snapshot (it waits for them; they wait for it).
CREATE FUNCTION check_rollups(from_ts timestamptz DEFAULT NULL, to_ts timestamptz DEFAULT NULL)
RETURNS TABLE (rollup text, key text, column_name text, stored text, from_raw text)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  rollups constant text[] := ARRAY['invocation_rollup', 'invocation_hourly', 'correlation_rollup', 'event_rollup', 'job_rollup'];
  r text;
  t text;
  s text;
  cols text;
  keys text;
  lo timestamptz := date_trunc('hour', from_ts, 'UTC');
  hi timestamptz := CASE WHEN to_ts IS NULL THEN NULL
                         WHEN date_trunc('hour', to_ts, 'UTC') = to_ts THEN to_ts
                         ELSE date_trunc('hour', to_ts, 'UTC') + interval '1 hour' END;
  cond text;
BEGIN
  cond := concat_ws(' AND ', 'true', CASE WHEN lo IS NOT NULL THEN format('hour_bucket >= %L', lo) END,
                                     CASE WHEN hi IS NOT NULL THEN format('hour_bucket < %L', hi) END);
  FOREACH r IN ARRAY rollups LOOP
    EXECUTE format('LOCK TABLE %I IN SHARE MODE', r);
    IF to_regclass('pg_temp.' || quote_ident('expected_' || r)) IS NOT NULL THEN
      EXECUTE format('DROP TABLE pg_temp.%I', 'expected_' || r);
    END IF;
    EXECUTE format('CREATE TEMP TABLE %I (LIKE %I INCLUDING ALL)', 'expected_' || r, r);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['invocations', 'event_executions', 'job_executions'] LOOP
    FOREACH s IN ARRAY rollup_sql(t, format('(SELECT x.*, 1 AS sign FROM %I x WHERE %s)', t, replace(cond, 'hour_bucket', 'created_at')),
                                  'pg_temp.expected_') LOOP
      EXECUTE s;
    END LOOP;
  END LOOP;
  FOREACH r IN ARRAY rollups LOOP
    -- Key columns (the primary key) and the compared ones (all others).
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attnum = ANY (i.indkey)),
           string_agg(format('(%1$L, s.%1$I::text, e.%1$I::text)', a.attname), ', ' ORDER BY a.attnum)
             FILTER (WHERE NOT a.attnum = ANY (i.indkey))
      INTO keys, cols
    FROM pg_attribute a JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
    WHERE a.attrelid = r::regclass AND a.attnum > 0 AND NOT a.attisdropped;
    RETURN QUERY EXECUTE format($q$
      SELECT %1$L::text, (%2$s)::text, c.col, c.stored, c.raw
      FROM (SELECT * FROM %1$I WHERE %4$s AND %7$I <> 0) s FULL JOIN (SELECT * FROM pg_temp.%5$I WHERE %7$I <> 0) e USING (%3$s)
      CROSS JOIN LATERAL (VALUES %6$s) c(col, stored, raw)
      WHERE c.stored IS DISTINCT FROM c.raw$q$,
      r, 'ROW(' || keys || ')', keys, cond, 'expected_' || r, cols,
      CASE r WHEN 'event_rollup' THEN 'checked' WHEN 'job_rollup' THEN 'jobs' ELSE 'invocations' END);
    EXECUTE format('DROP TABLE pg_temp.%I', 'expected_' || r);
  END LOOP;
END
$$;

-- ============================================================================================= JIT
-- GraphQL relationship queries over partitioned tables are nested look-ups (a few ms each) whose estimated cost
-- is the product of every partition's Append: far past jit_above_cost, so PostgreSQL spends seconds compiling
-- them (measured: an invocation's detail 1.6 s with JIT, 3 ms without). The observability database is separate
-- (the spec), so JIT is turned off for it; without the privilege to do so, the migration says what to run.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'could not turn JIT off for database %: run  ALTER DATABASE % SET jit = off  as its owner (sql/README.md "JIT")',
    current_database(), quote_ident(current_database());
END
$$;

-- ====================================================================== raw tables: partitioned by id

-- Objects of 001 bound to the tables' row types or replaced below.
DROP FUNCTION refresh_dashboard_stats();
DROP MATERIALIZED VIEW dashboard_stats;
DROP FUNCTION event_job_success_rate(event_executions);
DROP FUNCTION invocation_avg_job_duration(invocations);
DROP FUNCTION invocation_success_rate(invocations);
DROP FUNCTION correlation_coverage(interval);
ALTER TABLE invocations DROP CONSTRAINT invocations_source_job_id_fkey;
ALTER TABLE job_logs DROP CONSTRAINT job_logs_job_execution_id_fkey;
ALTER TABLE job_executions DROP CONSTRAINT job_executions_event_execution_id_fkey;
ALTER TABLE job_executions DROP CONSTRAINT job_executions_invocation_id_fkey;
ALTER TABLE event_executions DROP CONSTRAINT event_executions_invocation_id_fkey;
-- The 001 tables become the source of the copy below; their index and constraint names are freed.
DO $$
DECLARE t text; c record;
BEGIN
  FOREACH t IN ARRAY ARRAY['invocations', 'event_executions', 'job_executions', 'job_logs'] LOOP
    FOR c IN SELECT i.indexrelid::regclass::text AS name FROM pg_index i
             WHERE i.indrelid = t::regclass AND NOT i.indisprimary LOOP
      EXECUTE format('DROP INDEX %s', c.name);
    END LOOP;
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_pkey');
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT IF EXISTS %I', t, t || '_status_check');
    EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_v001');
  END LOOP;
END
$$;

-- Columns as in 001 (fixed-width first), plus event_executions.source_function (written by the sink: the
-- event rollup's key without a join). No fillfactor here: partitioned tables carry none; create_partitions()
-- gives invocations' partitions 90 (sql/README.md "fillfactor / HOT").
CREATE TABLE invocations (
  id                      uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL DEFAULT now(),
  source_job_id           uuid,
  source_event_id         uuid,
  source_event_time       timestamptz,
  total_duration_ms       integer,
  events_detected_count   integer DEFAULT 0,
  total_jobs_run          integer DEFAULT 0,
  total_jobs_succeeded    integer DEFAULT 0,
  total_jobs_failed       integer DEFAULT 0,
  auto_load_modules       boolean,
  correlation_id          text,
  correlation_source      text        NOT NULL DEFAULT 'generated',
  source_function         text        NOT NULL,
  source_table            text,
  source_operation        text,
  source_system           text,
  source_user_email       text,
  source_user_role        text,
  event_modules_directory text,
  status                  text        NOT NULL,
  error_message           text,
  error_stack             text,
  error_type              text,
  source_event_payload    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  context_data            jsonb,
  CONSTRAINT invocations_pkey PRIMARY KEY (id),
  CONSTRAINT invocations_status_check CHECK (status IN ('running', 'completed', 'failed'))
) PARTITION BY RANGE (id);

CREATE TABLE event_executions (
  id                    uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  invocation_id         uuid        NOT NULL,
  detection_duration_ms integer,
  handler_duration_ms   integer,
  jobs_count            integer DEFAULT 0,
  jobs_succeeded        integer DEFAULT 0,
  jobs_failed           integer DEFAULT 0,
  detected              boolean     NOT NULL DEFAULT false,
  correlation_id        text,
  event_name            text        NOT NULL,
  event_module_path     text,
  status                text        NOT NULL,
  detection_error       text,
  detection_error_stack text,
  handler_error         text,
  handler_error_stack   text,
  source_function       text,
  CONSTRAINT event_executions_pkey PRIMARY KEY (id),
  CONSTRAINT event_executions_status_check CHECK (status IN
    ('detecting', 'not_detected', 'handling', 'completed', 'failed', 'detection_failed', 'handler_failed'))
) PARTITION BY RANGE (id);

CREATE TABLE job_executions (
  id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  invocation_id      uuid        NOT NULL,
  event_execution_id uuid        NOT NULL,
  duration_ms        integer,
  correlation_id     text,
  job_name           text        NOT NULL,
  job_function_name  text,
  status             text        NOT NULL,
  error_message      text,
  error_stack        text,
  error_type         text,
  job_options        jsonb,
  result             jsonb,
  CONSTRAINT job_executions_pkey PRIMARY KEY (id),
  CONSTRAINT job_executions_status_check CHECK (status IN ('running', 'completed', 'failed'))
) PARTITION BY RANGE (id);

CREATE TABLE job_logs (
  id               uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  job_execution_id uuid        NOT NULL,
  invocation_id    uuid,
  logged_at        timestamptz,
  correlation_id   text,
  level            text,
  message          text,
  data             jsonb,
  CONSTRAINT job_logs_pkey PRIMARY KEY (id)
) PARTITION BY RANGE (id);

-- Rows no range partition covers (no partition yet for their day, ids that are not UUIDv7, rows kept by
-- status-aware retention after their day was dropped) land here: never lost; partition_health() reports them.
CREATE TABLE invocations_default PARTITION OF invocations DEFAULT;
CREATE TABLE event_executions_default PARTITION OF event_executions DEFAULT;
CREATE TABLE job_executions_default PARTITION OF job_executions DEFAULT;
CREATE TABLE job_logs_default PARTITION OF job_logs DEFAULT;

-- Indexes (partitioned: one per partition). Each serves a named query (sql/README.md, "Indexes").
CREATE INDEX invocations_created_at_idx ON invocations (created_at);
CREATE INDEX invocations_source_function_created_at_idx ON invocations (source_function, created_at);
CREATE INDEX invocations_correlation_id_created_at_idx ON invocations (correlation_id, created_at);
CREATE INDEX invocations_source_job_id_idx ON invocations (source_job_id) WHERE source_job_id IS NOT NULL;
-- Failed invocations of a time range, newest first (the invocations list's most used filter, and its count):
-- ~2 % of the rows. Its predicate makes a status change a non-HOT update; most invocations are written once.
CREATE INDEX invocations_failed_created_at_idx ON invocations (created_at) WHERE status = 'failed';
-- Payload search: containment (@>) and top-level key (?) without reading every payload.
CREATE INDEX invocations_source_event_payload_idx ON invocations USING gin (source_event_payload);
CREATE INDEX event_executions_invocation_id_idx ON event_executions (invocation_id);
CREATE INDEX event_executions_created_at_idx ON event_executions USING brin (created_at);
CREATE INDEX job_executions_invocation_id_idx ON job_executions (invocation_id);
CREATE INDEX job_executions_duration_ms_idx ON job_executions (duration_ms);
CREATE INDEX job_executions_created_at_idx ON job_executions USING brin (created_at);
CREATE INDEX job_logs_job_execution_id_idx ON job_logs (job_execution_id);

CREATE TRIGGER invocations_set_updated_at BEFORE UPDATE ON invocations
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_executions_set_updated_at BEFORE UPDATE ON event_executions
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER job_executions_set_updated_at BEFORE UPDATE ON job_executions
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER job_logs_set_updated_at BEFORE UPDATE ON job_logs
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- How many UTC days one partition holds (for ranges created from now on). 7 by default, measured: a GraphQL
-- relationship look-up by a parent's id (an invocation's events and jobs) cannot prune - children are partitioned
-- by their own ids - so it probes every partition; at 30 days of retention, daily partitions made the correlation
-- chain and the detail views several times slower than weekly ones (sql/README.md "Partitions and retention").
-- 1 gives retention to the day.
CREATE TABLE partition_settings (
  width_days integer NOT NULL DEFAULT 7 CHECK (width_days BETWEEN 1 AND 31),
  only_row   boolean NOT NULL DEFAULT true PRIMARY KEY CHECK (only_row)
);
INSERT INTO partition_settings DEFAULT VALUES;

-- The range partitions of a table with their bounds (from the catalog, whatever their width).
CREATE FUNCTION partition_ranges(tbl text)
RETURNS TABLE (partition regclass, lo uuid, hi uuid, first_day date, end_day date)
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
  SELECT c.oid::regclass, b[1]::uuid, b[2]::uuid,
         (uuid7_time(b[1]::uuid) AT TIME ZONE 'UTC')::date, (uuid7_time(b[2]::uuid) AT TIME ZONE 'UTC')::date
  FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid,
       regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([0-9a-f-]+)''\) TO \(''([0-9a-f-]+)''\)') b
  WHERE h.inhparent = tbl::regclass AND b IS NOT NULL
  ORDER BY 2
$$;

-- The partition holding ids of day `day` starts on this day (ranges are aligned to multiples of the width since
-- 1970-01-05, a Monday, so weekly partitions run Monday to Sunday).
CREATE FUNCTION partition_start(day date, width integer) RETURNS date
LANGUAGE sql IMMUTABLE
RETURN date '1970-01-05' + ((day - date '1970-01-05') / width) * width;

CREATE FUNCTION partition_name(tbl text, first_day date) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN tbl || '_p' || to_char(first_day, 'YYYYMMDD');

-- Creates the missing partitions of the four tables so that every UTC day from first_day (default: yesterday)
-- to today + days_ahead has one; a range that would overlap an existing partition is skipped. Rows of a new
-- range that wait in a default partition are moved into it. Idempotent and cheap when nothing is missing (catalog
-- look-ups); the sink calls it when it connects and then hourly, and it can be scheduled (cron / pg_cron).
-- Returns the partitions created.
CREATE FUNCTION create_partitions(days_ahead integer DEFAULT 7, first_day date DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  w integer := (SELECT width_days FROM partition_settings);
  d date;
  t text;
  p text;
  range_lo uuid;
  range_hi uuid;
  created integer := 0;
BEGIN
  IF days_ahead IS NULL OR days_ahead < 0 OR days_ahead > 366 THEN
    RAISE EXCEPTION 'days_ahead must be between 0 and 366, got %', days_ahead;
  END IF;
  first_day := COALESCE(first_day, today - 1);
  IF first_day < today - 3660 THEN RAISE EXCEPTION 'first_day % is more than ten years back', first_day; END IF;
  FOR d IN SELECT generate_series(partition_start(first_day, w), today + days_ahead, make_interval(days => w))::date LOOP
    range_lo := uuid7_lower(d::timestamp AT TIME ZONE 'UTC');
    range_hi := uuid7_lower((d + w)::timestamp AT TIME ZONE 'UTC');
    FOREACH t IN ARRAY ARRAY['invocations', 'event_executions', 'job_executions', 'job_logs'] LOOP
      p := partition_name(t, d);
      CONTINUE WHEN to_regclass(quote_ident(p)) IS NOT NULL;
      -- Serialize creators (the sink of every process calls this).
      PERFORM pg_advisory_xact_lock(7314725002);
      CONTINUE WHEN to_regclass(quote_ident(p)) IS NOT NULL
                 OR EXISTS (SELECT 1 FROM partition_ranges(t) x WHERE x.lo < range_hi AND x.hi > range_lo);
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)%s', p, t,
                     CASE WHEN t = 'invocations' THEN ' WITH (fillfactor = 90)' ELSE '' END);
      -- A default partition must not hold rows of a range being attached: move them first.
      EXECUTE format('WITH moved AS (DELETE FROM %I WHERE id >= %L AND id < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                     t || '_default', range_lo, range_hi, p);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', t, p, range_lo, range_hi);
      -- Statistics of an empty table: the planner then knows it is empty (not its 10-page guess).
      EXECUTE format('ANALYZE %I', p);
      created := created + 1;
    END LOOP;
  END LOOP;
  RETURN created;
END
$$;

-- The copy of the 001 data: partitions for every day that has UUIDv7 rows (bounded to ten years back).
DO $$
DECLARE first_day date;
BEGIN
  SELECT min(d) INTO first_day FROM (
    SELECT (uuid7_time(id) AT TIME ZONE 'UTC')::date AS d FROM invocations_v001 WHERE substr(id::text, 15, 1) = '7'
    UNION ALL SELECT (uuid7_time(id) AT TIME ZONE 'UTC')::date FROM event_executions_v001 WHERE substr(id::text, 15, 1) = '7'
    UNION ALL SELECT (uuid7_time(id) AT TIME ZONE 'UTC')::date FROM job_executions_v001 WHERE substr(id::text, 15, 1) = '7'
    UNION ALL SELECT (uuid7_time(id) AT TIME ZONE 'UTC')::date FROM job_logs_v001 WHERE substr(id::text, 15, 1) = '7') s
  WHERE d BETWEEN (now() AT TIME ZONE 'UTC')::date - 3650 AND (now() AT TIME ZONE 'UTC')::date;
  PERFORM create_partitions(7, first_day);
END
$$;
INSERT INTO invocations (id, created_at, updated_at, source_job_id, source_event_id, source_event_time, total_duration_ms,
  events_detected_count, total_jobs_run, total_jobs_succeeded, total_jobs_failed, auto_load_modules, correlation_id,
  correlation_source, source_function, source_table, source_operation, source_system, source_user_email, source_user_role,
  event_modules_directory, status, error_message, error_stack, error_type, source_event_payload, context_data)
SELECT id, created_at, updated_at, source_job_id, source_event_id, source_event_time, total_duration_ms,
  events_detected_count, total_jobs_run, total_jobs_succeeded, total_jobs_failed, auto_load_modules, correlation_id,
  correlation_source, source_function, source_table, source_operation, source_system, source_user_email, source_user_role,
  event_modules_directory, status, error_message, error_stack, error_type, source_event_payload, context_data
FROM invocations_v001;
INSERT INTO event_executions (id, created_at, updated_at, invocation_id, detection_duration_ms, handler_duration_ms,
  jobs_count, jobs_succeeded, jobs_failed, detected, correlation_id, event_name, event_module_path, status,
  detection_error, detection_error_stack, handler_error, handler_error_stack, source_function)
SELECT e.id, e.created_at, e.updated_at, e.invocation_id, e.detection_duration_ms, e.handler_duration_ms,
  e.jobs_count, e.jobs_succeeded, e.jobs_failed, e.detected, e.correlation_id, e.event_name, e.event_module_path, e.status,
  e.detection_error, e.detection_error_stack, e.handler_error, e.handler_error_stack, i.source_function
FROM event_executions_v001 e LEFT JOIN invocations_v001 i ON i.id = e.invocation_id;
INSERT INTO job_executions (id, created_at, updated_at, invocation_id, event_execution_id, duration_ms, correlation_id,
  job_name, job_function_name, status, error_message, error_stack, error_type, job_options, result)
SELECT id, created_at, updated_at, invocation_id, event_execution_id, duration_ms, correlation_id,
  job_name, job_function_name, status, error_message, error_stack, error_type, job_options, result
FROM job_executions_v001;
INSERT INTO job_logs (id, created_at, updated_at, job_execution_id, invocation_id, logged_at, correlation_id, level,
  message, data)
SELECT id, created_at, updated_at, job_execution_id, invocation_id, logged_at, correlation_id, level, message, data
FROM job_logs_v001;
DROP TABLE job_logs_v001, job_executions_v001, event_executions_v001, invocations_v001;

-- ================================================================= rollup and cascade triggers

-- After each INSERT / COPY statement its rows are added to the rollups. After each UPDATE statement the old
-- versions are subtracted and the new ones added (a running row that completes moves to completed and brings its
-- duration). After each DELETE statement the rows are subtracted, and the delete cascades as 001's foreign keys
-- did (events and jobs with their invocation, jobs with their event, logs with their job; invocations caused
-- by a deleted job keep existing with source_job_id NULL). When the old versions hold a final row (only other
-- writers change or delete final rows: the sink's upsert never does), its duration cannot be taken out of a
-- min/max, so the hours of the statement's rows are rebuilt from the raw rows instead. Statement-level with
-- transition tables: one aggregate per statement, nothing per row. The functions are generated from rollup_sql()
-- (the statements rebuild_rollups() and check_rollups() run) as static SQL, so their plans are prepared once
-- per session. Dropping a partition fires nothing: drop_old_partitions() does the same work for whole days.
DO $$
DECLARE
  t text;
  ins text;
  upd text;
  del text;
  cascade text;
  rebuild constant text := E'    PERFORM rebuild_rollups(min(c), max(c) + interval ''1 microsecond'', ARRAY[TG_TABLE_NAME])\n    FROM (%s) s(c);\n';
BEGIN
  FOREACH t IN ARRAY ARRAY['invocations', 'event_executions', 'job_executions'] LOOP
    ins := array_to_string(rollup_sql(t, '(SELECT n.*, 1 AS sign FROM new_rows n)'), E';\n');
    upd := array_to_string(rollup_sql(t, '(SELECT n.*, 1 AS sign FROM new_rows n UNION ALL SELECT o.*, -1 FROM old_rows o)'), E';\n');
    del := array_to_string(rollup_sql(t, '(SELECT o.*, -1 AS sign FROM old_rows o)'), E';\n');
    cascade := CASE t
      WHEN 'invocations' THEN E'  DELETE FROM event_executions e USING old_rows o WHERE e.invocation_id = o.id;\n'
                           || E'  DELETE FROM job_executions j USING old_rows o WHERE j.invocation_id = o.id;\n'
      WHEN 'event_executions' THEN E'  DELETE FROM job_executions j USING old_rows o WHERE j.invocation_id = o.invocation_id AND j.event_execution_id = o.id;\n'
      ELSE E'  DELETE FROM job_logs l USING old_rows o WHERE l.job_execution_id = o.id;\n'
        || E'  UPDATE invocations i SET source_job_id = NULL FROM old_rows o WHERE i.source_job_id = o.id;\n' END;
    EXECUTE format('CREATE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS %L',
                   'rollup_' || t || '_insert', E'BEGIN\n' || ins || E';\n  RETURN NULL;\nEND');
    EXECUTE format('CREATE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS %L',
                   'rollup_' || t || '_update',
                   E'BEGIN\n  IF EXISTS (SELECT 1 FROM old_rows WHERE status_rank(status) = 2) THEN\n'
                   || format(rebuild, 'SELECT created_at FROM old_rows UNION ALL SELECT created_at FROM new_rows')
                   || E'  ELSE\n' || upd || E';\n  END IF;\n  RETURN NULL;\nEND');
    EXECUTE format('CREATE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS %L',
                   'cascade_' || t || '_delete',
                   E'BEGIN\n' || cascade || E'  IF EXISTS (SELECT 1 FROM old_rows WHERE status_rank(status) = 2) THEN\n'
                   || format(rebuild, 'SELECT created_at FROM old_rows')
                   || E'  ELSE\n' || del || E';\n  END IF;\n  RETURN NULL;\nEND');
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                   t || '_rollup_insert', t, 'rollup_' || t || '_insert');
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_rollup_update', t, 'rollup_' || t || '_update');
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                   t || '_cascade_delete', t, 'cascade_' || t || '_delete');
  END LOOP;
END
$$;

-- TRUNCATE empties the rollups the table feeds (it fires no DELETE trigger).
CREATE FUNCTION rollup_after_truncate() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY rollup_tables(TG_TABLE_NAME) LOOP
    EXECUTE format('DELETE FROM %I', r);
  END LOOP;
  RETURN NULL;
END
$$;
CREATE TRIGGER invocations_rollup_truncate AFTER TRUNCATE ON invocations FOR EACH STATEMENT EXECUTE FUNCTION rollup_after_truncate();
CREATE TRIGGER event_executions_rollup_truncate AFTER TRUNCATE ON event_executions FOR EACH STATEMENT EXECUTE FUNCTION rollup_after_truncate();
CREATE TRIGGER job_executions_rollup_truncate AFTER TRUNCATE ON job_executions FOR EACH STATEMENT EXECUTE FUNCTION rollup_after_truncate();

-- The 001 data is in: its rollups, in one pass.
SELECT rebuild_rollups();

-- ================================================================================== read side

-- The seed's hourly statistics, same name, columns and meaning as 001's materialized view (total_invocations
-- counts running invocations too; successful/failed by status), now always fresh; p95 from the histogram
-- (within 8.65 % of 001's percentile_cont).
CREATE VIEW dashboard_stats AS
SELECT hour_bucket,
       source_function,
       invocations                                             AS total_invocations,
       completed                                               AS successful_invocations,
       failed                                                  AS failed_invocations,
       events_detected                                         AS total_events_detected,
       jobs_run                                                AS total_jobs_run,
       jobs_succeeded                                          AS total_jobs_succeeded,
       round(duration_sum::numeric / NULLIF(duration_count, 0), 2) AS avg_duration_ms,
       duration_min                                            AS min_duration_ms,
       duration_max                                            AS max_duration_ms,
       hist_quantile(duration_hist, 0.95)                      AS p95_duration_ms
FROM invocation_rollup;

-- Kept for callers of 001: the rollups need no refresh; this rebuilds them all from the raw rows (for rows
-- written by other writers before 002, or after bulk edits). Costs a full scan: not a periodic job.
CREATE FUNCTION refresh_dashboard_stats() RETURNS void
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  PERFORM rebuild_rollups();
END
$$;

-- The names the rollups know, for "group by name" through GraphQL: each view has an array relationship to
-- its rollup (hasura-metadata), whose `_aggregate` with a time-range `where` is one name's totals.
CREATE VIEW rollup_source_functions AS SELECT DISTINCT source_function FROM invocation_rollup;
CREATE VIEW rollup_event_names AS SELECT DISTINCT event_name FROM event_rollup;
CREATE VIEW rollup_job_names AS SELECT DISTINCT job_name FROM job_rollup;
CREATE VIEW rollup_correlation_sources AS SELECT DISTINCT correlation_source FROM correlation_rollup;

-- Computed fields, as in 001 (bound to the new tables).
CREATE FUNCTION invocation_success_rate(inv invocations) RETURNS numeric
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT CASE WHEN COALESCE(inv.total_jobs_run, 0) = 0 THEN 100::numeric
              ELSE round(COALESCE(inv.total_jobs_succeeded, 0) * 100.0 / inv.total_jobs_run, 2) END;
END;

CREATE FUNCTION invocation_avg_job_duration(inv invocations) RETURNS numeric
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT round(avg(j.duration_ms), 2) FROM job_executions j WHERE j.invocation_id = inv.id;
END;

CREATE FUNCTION event_job_success_rate(ev event_executions) RETURNS numeric
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT CASE WHEN COALESCE(ev.jobs_count, 0) = 0 THEN 100::numeric
              ELSE round(COALESCE(ev.jobs_succeeded, 0) * 100.0 / ev.jobs_count, 2) END;
END;

CREATE FUNCTION correlation_coverage(time_window interval DEFAULT interval '24 hours')
RETURNS TABLE (total_invocations bigint, with_correlation_id bigint, covered_invocations bigint,
               coverage_percent numeric)
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT count(*),
         count(i.correlation_id),
         count(*) FILTER (WHERE i.correlation_id IS NOT NULL AND i.correlation_source <> 'generated'),
         round(count(*) FILTER (WHERE i.correlation_id IS NOT NULL AND i.correlation_source <> 'generated')
               * 100.0 / NULLIF(count(*), 0), 2)
  FROM invocations i
  WHERE i.created_at > now() - time_window;
END;

-- ============================================================================ partitions: health, retention

-- Per table: range partitions, the days they cover, how many days ahead exist, and the rows of the default
-- partition: `misplaced` are UUIDv7 rows at or after the oldest partition's start (a day whose partition was
-- missing when they were written; create_partitions() moves them), the rest are older rows kept by
-- drop_old_partitions(keep_failed_days => ...) or rows whose ids are not UUIDv7.
CREATE FUNCTION partition_health()
RETURNS TABLE (table_name text, partitions integer, oldest_day date, newest_day date, days_ahead integer,
               default_rows bigint, misplaced_rows bigint)
LANGUAGE plpgsql STABLE
SET search_path FROM CURRENT
AS $$
DECLARE
  t text;
  oldest uuid;
BEGIN
  FOREACH t IN ARRAY ARRAY['invocations', 'event_executions', 'job_executions', 'job_logs'] LOOP
    table_name := t;
    SELECT count(*), min(r.first_day), max(r.end_day) - 1, min(r.lo::text)::uuid INTO partitions, oldest_day, newest_day, oldest
    FROM partition_ranges(t) r;
    days_ahead := newest_day - (now() AT TIME ZONE 'UTC')::date;
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE substr(id::text, 15, 1) = ''7'' AND id >= %L) FROM %I',
                   COALESCE(oldest, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid), t || '_default')
      INTO default_rows, misplaced_rows;
    RETURN NEXT;
  END LOOP;
END
$$;

-- Retention by dropping whole partitions: every partition whose last day ended more than `days` days ago is
-- dropped in all four tables (milliseconds each, no dead rows, nothing for VACUUM). With keep_failed_days, failed
-- invocations of those partitions, with their event executions, jobs and logs, are kept (in the default
-- partitions) until they are keep_failed_days old. Invocations whose source job is dropped keep existing with
-- source_job_id NULL; the rollup hours of each dropped range are rebuilt from what remains. Returns one row per
-- dropped partition (day = its first day).
CREATE FUNCTION drop_old_partitions(days integer, keep_failed_days integer DEFAULT NULL)
RETURNS TABLE (day date, invocations_dropped bigint, event_executions_dropped bigint, job_executions_dropped bigint,
               job_logs_dropped bigint, invocations_kept bigint)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  r record;
  p regclass;
  t text;
  n bigint;
  kept_before timestamptz;
BEGIN
  IF days IS NULL OR days < 0 THEN RAISE EXCEPTION 'days must be >= 0, got %', days; END IF;
  IF keep_failed_days IS NOT NULL AND keep_failed_days < days THEN
    RAISE EXCEPTION 'keep_failed_days (%) must be >= days (%)', keep_failed_days, days;
  END IF;
  FOR r IN SELECT * FROM partition_ranges('invocations') WHERE end_day <= today - days ORDER BY lo LOOP
    day := r.first_day;
    invocations_kept := 0;
    IF keep_failed_days IS NOT NULL AND r.end_day > today - keep_failed_days THEN
      -- The failed trees of the range, wherever their children are (a child started just after the range's end
      -- lives in the next partition and is not dropped now: ON CONFLICT skips it when restoring).
      CREATE TEMP TABLE keep_inv ON COMMIT DROP AS SELECT * FROM invocations WHERE id >= r.lo AND id < r.hi AND status = 'failed';
      CREATE TEMP TABLE keep_ev ON COMMIT DROP AS SELECT e.* FROM event_executions e JOIN keep_inv i ON e.invocation_id = i.id;
      CREATE TEMP TABLE keep_job ON COMMIT DROP AS SELECT j.* FROM job_executions j JOIN keep_inv i ON j.invocation_id = i.id;
      CREATE TEMP TABLE keep_log ON COMMIT DROP AS SELECT l.* FROM job_logs l JOIN keep_job j ON l.job_execution_id = j.id;
      SELECT count(*) INTO invocations_kept FROM keep_inv;
    END IF;
    invocations_dropped := 0; event_executions_dropped := 0; job_executions_dropped := 0; job_logs_dropped := 0;
    FOREACH t IN ARRAY ARRAY['job_logs', 'job_executions', 'event_executions', 'invocations'] LOOP
      FOR p IN SELECT x.partition FROM partition_ranges(t) x WHERE x.lo = r.lo AND x.hi = r.hi LOOP
        EXECUTE format('SELECT count(*) FROM %s', p) INTO n;
        CASE t WHEN 'job_logs' THEN job_logs_dropped := n; WHEN 'job_executions' THEN job_executions_dropped := n;
               WHEN 'event_executions' THEN event_executions_dropped := n; ELSE invocations_dropped := n; END CASE;
        EXECUTE format('DROP TABLE %s', p);
      END LOOP;
    END LOOP;
    IF invocations_kept > 0 THEN
      INSERT INTO invocations SELECT * FROM keep_inv ON CONFLICT (id) DO NOTHING;
      INSERT INTO event_executions SELECT * FROM keep_ev ON CONFLICT (id) DO NOTHING;
      INSERT INTO job_executions SELECT * FROM keep_job ON CONFLICT (id) DO NOTHING;
      INSERT INTO job_logs SELECT * FROM keep_log ON CONFLICT (id) DO NOTHING;
    END IF;
    IF to_regclass('pg_temp.keep_inv') IS NOT NULL THEN
      DROP TABLE keep_inv, keep_ev, keep_job, keep_log;
    END IF;
    -- Links to jobs that are gone (the SET NULL of 001's foreign key).
    UPDATE invocations i SET source_job_id = NULL
    WHERE i.source_job_id >= r.lo AND i.source_job_id < r.hi
      AND NOT EXISTS (SELECT 1 FROM job_executions j WHERE j.id = i.source_job_id);
    -- Rows near the range's edges may be filed under the neighbouring partition by id and counted in this
    -- range's hours by created_at: rebuild an hour more on each side.
    PERFORM rebuild_rollups(r.first_day::timestamp AT TIME ZONE 'UTC' - interval '1 hour',
                            r.end_day::timestamp AT TIME ZONE 'UTC' + interval '1 hour');
    RETURN NEXT;
  END LOOP;
  -- Kept failed trees past their own limit: a DELETE on the default partitions (small: failures only).
  IF keep_failed_days IS NOT NULL THEN
    kept_before := ((today - keep_failed_days)::timestamp AT TIME ZONE 'UTC');
    DELETE FROM invocations WHERE id < uuid7_lower(kept_before) AND id < COALESCE((SELECT min(x.lo::text)::uuid FROM partition_ranges('invocations') x), uuid7_lower(kept_before))
      AND substr(id::text, 15, 1) = '7';
  END IF;
END
$$;
