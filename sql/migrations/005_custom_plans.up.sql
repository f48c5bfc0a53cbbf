-- 005_custom_plans: plan every execution of a prepared statement for its own parameter values (GitHub issue 11).
-- Hasura (use_prepared_statements: true, hasura-metadata/databases/databases.yaml) and the console server run each
-- GraphQL operation as a prepared statement. After five executions PostgreSQL may switch to a generic plan, one
-- that ignores the values; over tables partitioned by id, a time window's partitions and a duration threshold then
-- stop narrowing the scan (measured at 10M job rows: the slowest jobs of 7 days 3.4-6 ms per custom plan, 423-499
-- ms once generic). A custom plan costs its planning, ~1-5 ms here. The observability database is separate (the
-- spec), so the setting is the database's; without the privilege to set it, the migration says what to run.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'could not set plan_cache_mode for database %: run  ALTER DATABASE % SET plan_cache_mode = force_custom_plan  as its owner (sql/README.md "Plans")',
    current_database(), quote_ident(current_database());
END
$$;
