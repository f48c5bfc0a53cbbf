-- Reverts 007_quantile_reads: hist_quantile() of 002.
CREATE OR REPLACE FUNCTION hist_quantile(h integer[], q float8) RETURNS numeric
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
