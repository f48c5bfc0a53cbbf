-- Reverts 008_hour_quantile_cache: create_partitions() of 006, dashboard_stats of 002, no cache.
DROP FUNCTION create_partitions(integer, date);
ALTER FUNCTION create_partitions_006(integer, date) RENAME TO create_partitions;
CREATE OR REPLACE VIEW dashboard_stats AS
SELECT hour_bucket,
       source_function,
       invocations                                             AS total_invocations,
       completed                                               AS successful_invocations,
       failed                                                  AS failed_invocations,
       events_detected                                         AS total_events_detected,
       jobs_run                                                AS total_jobs_run,
       jobs_succeeded                                          AS total_jobs_succeeded,
       round(duration_sum::numeric / NULLIF(duration_count, 0), 2) AS avg_duration_ms,
       duration_min                                            AS min_duration_ms,
       duration_max                                            AS max_duration_ms,
       hist_quantile(duration_hist, 0.95)                      AS p95_duration_ms
FROM invocation_rollup;
DROP FUNCTION cache_hour_quantiles();
DROP TABLE dashboard_stats_p95;
