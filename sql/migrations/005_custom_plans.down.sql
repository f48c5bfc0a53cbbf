-- Reverts 005_custom_plans: prepared statements may use generic plans again.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I RESET plan_cache_mode', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'could not reset plan_cache_mode for database %', current_database();
END
$$;
