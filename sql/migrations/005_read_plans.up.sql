-- 005_read_plans: plans for the dashboard's reads, which are short look-ups and lists (GitHub issue 11).
-- 1. Every execution of a prepared statement is planned for its own parameter values. Hasura
--    (use_prepared_statements: true, hasura-metadata/databases/databases.yaml) and the console server run each
--    GraphQL operation as a prepared statement; after five executions PostgreSQL may keep a generic plan that
--    ignores the values, and over tables partitioned by id the window's partitions and a duration threshold then
--    stop narrowing the scan (measured at 10M job rows: the slowest jobs of 7 days 3.4-6 ms per custom plan,
--    423-499 ms once generic). A custom plan costs its planning, ~1-5 ms here.
-- 2. No parallel workers. For reads that take milliseconds, starting workers costs more than they save: the
--    correlation chain (500 invocations with their children) took 31-57 ms with a parallel plan, 25 ms without.
--    Maintenance over whole tables (rebuild_rollups(), check_rollups(), back-fills) runs on one core; on the
--    2-core machines measured here the workers would compete with the writers anyway.
-- Both are settings of the observability database (a separate database: the spec); without the privilege to
-- set them, the migration says what to run.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
  EXECUTE format('ALTER DATABASE %I SET max_parallel_workers_per_gather = 0', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'could not set the read plans of database %: run  ALTER DATABASE % SET plan_cache_mode = force_custom_plan;  ALTER DATABASE % SET max_parallel_workers_per_gather = 0;  as its owner (sql/README.md "Plans")',
    current_database(), quote_ident(current_database()), quote_ident(current_database());
END
$$;
