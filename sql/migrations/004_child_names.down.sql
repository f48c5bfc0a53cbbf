-- Reverts 004_child_names: the column (its values are derived, nothing else is lost) and its functions;
-- 003's check_rollups() gets its own name back.
DROP FUNCTION check_rollups(timestamptz, timestamptz);
ALTER FUNCTION check_rollups_003(timestamptz, timestamptz) RENAME TO check_rollups;
DROP FUNCTION rebuild_child_names(timestamptz, timestamptz);
DROP FUNCTION invocation_child_names(uuid);
ALTER TABLE invocations DROP COLUMN child_names;
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
DO $$
DECLARE
  body text := (SELECT prosrc FROM pg_proc WHERE oid = 'rollup_invocations_update'::regproc);
BEGIN
  EXECUTE format('CREATE OR REPLACE FUNCTION rollup_invocations_update() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS %L',
                 replace(body, E'  IF current_setting(''eventscope.derived_update'', true) = ''on'' THEN\n    RETURN NULL;\n  END IF;\n', ''));
END
$$;
