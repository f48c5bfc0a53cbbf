-- Reverts 009_rollup_hours: the rollup statements compute the hour with date_trunc() again, utc_hour() goes.
DO $$
DECLARE
  f oid;
BEGIN
  FOR f IN SELECT p.oid FROM pg_proc p
           WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
             AND p.prosrc LIKE '%utc_hour(r.created_at)%' LOOP
    EXECUTE replace(pg_get_functiondef(f), 'utc_hour(r.created_at)', 'date_trunc(''hour'', r.created_at, ''UTC'')');
  END LOOP;
END
$$;
DROP FUNCTION utc_hour(timestamptz);
