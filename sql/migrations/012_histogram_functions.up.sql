-- 012_histogram_functions: the rollup triggers stop planning a query for every histogram they build or add
-- (GitHub issue 11; benchmarks/README.md "Histogram functions that do not plan a query per call (migration 012)").
-- hist_add() and hist_from() were SQL functions whose bodies hold a sub-select, which PostgreSQL never inlines: each
-- call site ran the body through fmgr_sql, which parses and plans it again in every statement that calls it. The
-- rollup triggers call them once per (hour, name) group of every COPY: measured through the sink, 0.29 ms per
-- hist_from() call and ~10 % of the server's CPU during ingest. The same arithmetic in PL/pgSQL, whose compiled
-- function and expressions live for the session, gives the same arrays (tests/sql compares them with the SQL
-- definitions on every edge case) at a fraction of the cost; hist_sum() (its transition function is hist_add)
-- gets faster with it.
-- Runs with search_path set to the target schema (migrate.sh / schema.sql); nothing here names the schema.

-- A histogram is integer[] (1-based): element i counts bucket i - 1. Missing trailing elements are zeros.
CREATE OR REPLACE FUNCTION hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  len integer;
  total integer[];
BEGIN
  IF a IS NULL OR cardinality(a) = 0 THEN RETURN b; END IF;
  IF b IS NULL OR cardinality(b) = 0 THEN RETURN a; END IF;
  len := greatest(cardinality(a), cardinality(b));
  total := array_fill(0, ARRAY[len]);
  FOR i IN 1 .. len LOOP
    total[i] := COALESCE(a[i], 0) + COALESCE(b[i], 0);
  END LOOP;
  RETURN total;
END
$$;

-- A histogram from parallel arrays of buckets and counts (what GROUP BY bucket gives). Buckets that are NULL or
-- negative count nowhere; NULL when no bucket is 0 or more.
CREATE OR REPLACE FUNCTION hist_from(buckets integer[], counts bigint[]) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  top integer;
  hist integer[];
BEGIN
  IF buckets IS NULL OR cardinality(buckets) = 0 THEN RETURN '{}'::integer[]; END IF;
  FOR i IN 1 .. cardinality(buckets) LOOP
    top := greatest(top, buckets[i]);
  END LOOP;
  IF top IS NULL OR top < 0 THEN RETURN NULL; END IF;
  hist := array_fill(0, ARRAY[top + 1]);
  FOR i IN 1 .. cardinality(buckets) LOOP
    IF buckets[i] >= 0 AND counts[i] IS NOT NULL THEN
      hist[buckets[i] + 1] := hist[buckets[i] + 1] + counts[i];
    END IF;
  END LOOP;
  RETURN hist;
END
$$;
