-- Reverts 001_initial: drops everything it created (the schema itself and schema_migrations stay).
DROP PROCEDURE purge_observability_data(integer, integer, text);
DROP FUNCTION delete_observability_data_older_than(integer, integer);
DROP FUNCTION correlation_coverage(interval);
DROP FUNCTION refresh_dashboard_stats();
DROP MATERIALIZED VIEW dashboard_stats;
DROP FUNCTION event_job_success_rate(event_executions);
DROP FUNCTION invocation_avg_job_duration(invocations);
DROP FUNCTION invocation_success_rate(invocations);
ALTER TABLE invocations DROP CONSTRAINT invocations_source_job_id_fkey;
DROP TABLE job_logs;
DROP TABLE job_executions;
DROP TABLE event_executions;
DROP TABLE invocations;
DROP FUNCTION set_updated_at();
