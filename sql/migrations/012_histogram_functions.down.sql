-- Reverts 012_histogram_functions: hist_add() and hist_from() as SQL functions again (002's definitions).
CREATE OR REPLACE FUNCTION hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN a IS NULL OR cardinality(a) = 0 THEN b WHEN b IS NULL OR cardinality(b) = 0 THEN a ELSE
  (SELECT array_agg(COALESCE(a[i], 0) + COALESCE(b[i], 0) ORDER BY i)
   FROM generate_series(1, greatest(cardinality(a), cardinality(b))) i) END;

CREATE OR REPLACE FUNCTION hist_from(buckets integer[], counts bigint[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN buckets IS NULL OR cardinality(buckets) = 0 THEN '{}'::integer[] ELSE
  (SELECT array_agg(COALESCE(c.n, 0)::integer ORDER BY i)
   FROM generate_series(1, (SELECT max(b) FROM unnest(buckets) b) + 1) i
   LEFT JOIN (SELECT b, sum(n) AS n FROM unnest(buckets, counts) u(b, n) GROUP BY b) c ON c.b + 1 = i) END;
