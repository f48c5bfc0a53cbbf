-- Reverts 005_read_plans: generic plans and parallel workers are PostgreSQL's to choose again.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I RESET plan_cache_mode', current_database());
  EXECUTE format('ALTER DATABASE %I RESET max_parallel_workers_per_gather', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'could not reset the read plans of database %', current_database();
END
$$;
