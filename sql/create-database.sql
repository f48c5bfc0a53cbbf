-- Creates the observability database (a separate database in the same PostgreSQL instance, per the spec).
-- Usage:  psql -d postgres [-v dbname=NAME] -f sql/create-database.sql
-- then:   psql -d NAME -f sql/schema.sql          (or sql/migrate.sh --db-url URL up)
-- Does nothing when the database already exists, so it is safe to re-run.
\set ON_ERROR_STOP on
\if :{?dbname}
\else
\set dbname hasura_event_detector_observability
\endif
SELECT format('CREATE DATABASE %I', :'dbname')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'dbname') \gexec
