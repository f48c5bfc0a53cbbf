-- Reverts 003_detection: the clause columns, the clause rollup and its triggers, changed_columns, the replay
-- tables (their rows are lost) and silent_event_types(); 002's rollup functions get their own names back.

DROP FUNCTION silent_event_types(integer, numeric, integer, numeric);
DROP VIEW replay_report;
DROP TABLE replay_decisions, replay_runs;

DROP INDEX invocations_changed_columns_idx;
ALTER TABLE invocations DROP COLUMN changed_columns;
DROP FUNCTION payload_changed_columns(jsonb);

DROP VIEW rollup_detection_clauses;
DROP TRIGGER event_executions_detection_rollup_insert ON event_executions;
DROP TRIGGER event_executions_detection_rollup_update ON event_executions;
DROP TRIGGER event_executions_detection_rollup_delete ON event_executions;
DROP FUNCTION detection_rollup_insert(), detection_rollup_update(), detection_rollup_delete();
DROP FUNCTION check_rollups(timestamptz, timestamptz);
ALTER FUNCTION check_rollups_002(timestamptz, timestamptz) RENAME TO check_rollups;
DROP FUNCTION rollup_tables(text);
ALTER FUNCTION rollup_tables_002(text) RENAME TO rollup_tables;
DROP FUNCTION rollup_sql(text, text, text);
ALTER FUNCTION rollup_sql_002(text, text, text) RENAME TO rollup_sql;
DROP FUNCTION detection_rollup_sql(text, text);
DROP TABLE detection_clause_rollup;

DROP INDEX event_executions_rejected_by_idx;
ALTER TABLE event_executions
  DROP COLUMN detection_clauses,
  DROP COLUMN detection_clause_values,
  DROP COLUMN detection_rejected_by;
