-- 009_rollup_hours: the rollup statements compute a row's UTC hour with date_bin() instead of date_trunc() with a
-- time zone name, which looks the zone up again for every row. Same hour for every timestamp (finite, infinite,
-- BC; tests/sql compares the two), at about a third of the CPU per row: the insert triggers run this for every
-- row the sink writes (benchmarks/README.md, "Binary COPY and cheaper rollup hours").
CREATE FUNCTION utc_hour(ts timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN date_bin('1 hour', ts, timestamptz '2000-01-01 00:00:00+00');

-- Every function of the schema that computes a row's hour the old way: rollup_sql(), detection_rollup_sql() and
-- the trigger functions generated from them (002, 003). Each is redefined from its own text with only that
-- expression replaced, so nothing else about them can change here.
DO $$
DECLARE
  f oid;
BEGIN
  FOR f IN SELECT p.oid FROM pg_proc p
           WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
             AND p.prosrc LIKE '%date_trunc(''hour'', r.created_at, ''UTC'')%' LOOP
    EXECUTE replace(pg_get_functiondef(f), 'date_trunc(''hour'', r.created_at, ''UTC'')', 'utc_hour(r.created_at)');
  END LOOP;
END
$$;
