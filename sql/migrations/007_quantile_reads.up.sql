-- 007_quantile_reads: hist_quantile() at ~0.6 of its cost per call, with the same results (GitHub issue 11;
-- benchmarks/README.md "Percentiles from histograms, cheaper per call"). dashboard_stats calls it once per
-- (hour, source function): 1,176 calls for 7 days of 7 functions, which were ~2/3 of that view's time at 10M job rows.
-- 1. No SET clause: a function with one runs each call inside a GUC nest level and recomputes the search path.
--    The one function it calls is named with its schema instead, written in when the function is created.
-- 2. It counts the histogram once, then walks from the end nearer the quantile: a p95 reads the top few buckets,
--    not the ~30 below them.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.
DO $do$
BEGIN
  EXECUTE format($f$
CREATE OR REPLACE FUNCTION hist_quantile(h integer[], q float8) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $body$
DECLARE
  n bigint := 0;
  pos float8;
  lo_rank bigint;
  hi_rank bigint;
  cum bigint := 0;
  lo_val float8;
  hi_val float8;
  c integer;
  i integer;
BEGIN
  IF h IS NULL THEN RETURN NULL; END IF;
  FOREACH c IN ARRAY h LOOP n := n + COALESCE(c, 0); END LOOP;
  IF n = 0 THEN RETURN NULL; END IF;
  pos := q * (n - 1);
  lo_rank := floor(pos);
  hi_rank := ceil(pos);
  IF hi_rank >= n OR q IS NULL THEN RETURN NULL; END IF;  -- q > 1 or NULL: no such rank (as before 007)
  IF q < 0.5 THEN
    -- cum: the values in buckets 1..i; bucket i holds the ranks [cum - h[i], cum)
    FOR i IN 1 .. cardinality(h) LOOP
      cum := cum + COALESCE(h[i], 0);
      IF lo_val IS NULL AND cum > lo_rank THEN lo_val := %1$I.duration_bucket_value(i - 1); END IF;
      IF cum > hi_rank THEN hi_val := %1$I.duration_bucket_value(i - 1); EXIT; END IF;
    END LOOP;
  ELSE
    -- cum: the values in buckets i..end; bucket i holds the ranks [n - cum, n - cum + h[i])
    i := cardinality(h);
    WHILE i >= 1 LOOP
      cum := cum + COALESCE(h[i], 0);
      IF hi_val IS NULL AND n - cum <= hi_rank THEN hi_val := %1$I.duration_bucket_value(i - 1); END IF;
      IF n - cum <= lo_rank THEN lo_val := %1$I.duration_bucket_value(i - 1); EXIT; END IF;
      i := i - 1;
    END LOOP;
  END IF;
  RETURN round((lo_val + (pos - lo_rank) * (hi_val - lo_val))::numeric, 2);
END
$body$
$f$, current_schema());
END
$do$;
