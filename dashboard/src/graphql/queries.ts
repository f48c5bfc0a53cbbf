// EVERY GraphQL operation the dashboard sends lives in this module, as a plain string named
// after its operation. The console server's test suite validates each export against its
// schema, so never build a query elsewhere: pass everything that changes as variables.
// Each is declared `as Query<'Name'>`: gqlRequest takes its result and variable types from
// operations.generated.ts, which `npm run codegen` writes from schema.graphql (npm test fails when stale).
//
// Names follow Hasura v2 (root fields `<t>`, `<t>_by_pk`, `<t>_aggregate`; relationships
// and computed fields of docs/schema-contract.md). `source_event_payload` is queried only
// by InvocationPayload / SearchPayload*, because the read-only role may not be allowed to
// see it: a failure there must not break the other views.
//
// Everything that aggregates over a time window reads the hourly rollups (sql/migrations/002_scale.up.sql):
// its cost grows with the hours and names shown, not with the rows stored. Windows are whole UTC hours
// (lib/rollups.ts hourWindow); the pages say so. Per-name figures come in one query through the rollup name
// views (`rollup_*_names` with a `rollups_aggregate` per name); raw rows are read only for lists and details.

import type { Query } from './operations';

/** Health indicator: the API answers, the database behind it answers, newest record. */
export const HealthCheck = `query HealthCheck {
  invocations(order_by: [{ created_at: desc }], limit: 1) {
    id
    created_at
    updated_at
  }
}` as Query<'HealthCheck'>;

/**
 * Overview KPIs: per-hour totals and duration histograms (all source functions) of the window [from, to) and of
 * the previous period [prevFrom, from); the page sums them and reads p95 from the merged histograms.
 */
export const OverviewKpis = `query OverviewKpis($from: timestamptz!, $to: timestamptz!, $prevFrom: timestamptz!) {
  current: invocation_hourly(where: { hour_bucket: { _gte: $from, _lt: $to } }, order_by: [{ hour_bucket: asc }]) {
    hour_bucket
    invocations
    completed
    failed
    duration_hist
  }
  previous: invocation_hourly(where: { hour_bucket: { _gte: $prevFrom, _lt: $from } }, order_by: [{ hour_bucket: asc }]) {
    hour_bucket
    invocations
    completed
    failed
    duration_hist
  }
}` as Query<'OverviewKpis'>;

/** Per source function: totals of the window and of the previous period (one query, rollup aggregates). */
export const FunctionTotals = `query FunctionTotals($from: timestamptz!, $to: timestamptz!, $prevFrom: timestamptz!) {
  rollup_source_functions(
    where: { rollups: { hour_bucket: { _gte: $prevFrom, _lt: $to } } }
    order_by: [{ source_function: asc }]
  ) {
    source_function
    current: rollups_aggregate(where: { hour_bucket: { _gte: $from, _lt: $to } }) {
      aggregate { sum { invocations completed failed duration_sum duration_count } }
    }
    previous: rollups_aggregate(where: { hour_bucket: { _gte: $prevFrom, _lt: $from } }) {
      aggregate { sum { invocations completed failed } }
    }
  }
}` as Query<'FunctionTotals'>;

/** Recent activity (overview), newest first. */
export const RecentInvocations = `query RecentInvocations($from: timestamptz!, $to: timestamptz!, $limit: Int!) {
  invocations(
    where: { created_at: { _gte: $from, _lt: $to } }
    order_by: [{ created_at: desc }, { id: desc }]
    limit: $limit
  ) {
    id
    created_at
    source_function
    source_table
    source_operation
    status
    total_duration_ms
    correlation_id
    correlation_source
    events_detected_count
    total_jobs_run
    total_jobs_succeeded
    total_jobs_failed
    source_user_email
    error_message
  }
}` as Query<'RecentInvocations'>;

/**
 * The Overview's hourly sparklines per source function, from the seed's dashboard_stats (a view over the rollups,
 * always fresh): only the columns they draw. Without the durations and p95, PostgreSQL leaves the view's p95 cache
 * out of the plan and the answer is a third of the bytes (7 days at 10M job rows: p95 33-34 -> 17-24 ms).
 */
export const DashboardStatsRange = `query DashboardStatsRange($from: timestamptz!, $to: timestamptz!) {
  dashboard_stats(
    where: { hour_bucket: { _gte: $from, _lt: $to } }
    order_by: [{ hour_bucket: asc }, { source_function: asc }]
  ) {
    hour_bucket
    source_function
    total_invocations
    failed_invocations
  }
}` as Query<'DashboardStatsRange'>;

/** Hour by hour over all source functions (analytics charts): totals, durations; p95 from each hour's histogram. */
export const HourlyStats = `query HourlyStats($from: timestamptz!, $to: timestamptz!) {
  invocation_hourly(where: { hour_bucket: { _gte: $from, _lt: $to } }, order_by: [{ hour_bucket: asc }]) {
    hour_bucket
    invocations
    completed
    failed
    duration_sum
    duration_count
    duration_hist
  }
}` as Query<'HourlyStats'>;

/** Hour by hour for one source function (analytics charts, sparklines): the columns the charts draw. */
export const FunctionHourlyStats = `query FunctionHourlyStats($from: timestamptz!, $to: timestamptz!, $sourceFunction: String!) {
  dashboard_stats(
    where: { hour_bucket: { _gte: $from, _lt: $to }, source_function: { _eq: $sourceFunction } }
    order_by: [{ hour_bucket: asc }]
  ) {
    hour_bucket
    source_function
    total_invocations
    successful_invocations
    failed_invocations
    avg_duration_ms
    p95_duration_ms
  }
}` as Query<'FunctionHourlyStats'>;

/**
 * Invocations table: filters, sort and page all come in as variables. The pager's count is InvocationsCount, a
 * request of its own: Hasura runs the root fields of one request one after the other, so the rows would wait for
 * the count; apart, the rows show as soon as they are read, and a new page or sort does not count again.
 */
export const InvocationsList = `query InvocationsList($where: invocations_bool_exp!, $orderBy: [invocations_order_by!]!, $limit: Int!, $offset: Int!) {
  invocations(where: $where, order_by: $orderBy, limit: $limit, offset: $offset) {
    id
    created_at
    source_function
    source_table
    source_operation
    status
    total_duration_ms
    correlation_id
    correlation_source
    events_detected_count
    total_jobs_run
    total_jobs_succeeded
    total_jobs_failed
    source_user_email
    error_message
  }
}` as Query<'InvocationsList'>;

/** The invocations table's count for the pager; it stops at $countLimit (the page shows "more than"), so a wide
 * filter never counts millions of rows. */
export const InvocationsCount = `query InvocationsCount($where: invocations_bool_exp!, $countLimit: Int!) {
  invocations_aggregate(where: $where, limit: $countLimit) {
    aggregate { count }
  }
}` as Query<'InvocationsCount'>;

/** Source functions seen in a range (filter suggestions), from the rollups. */
export const SourceFunctions = `query SourceFunctions($from: timestamptz!, $to: timestamptz!) {
  rollup_source_functions(where: { rollups: { hour_bucket: { _gte: $from, _lt: $to } } }, order_by: [{ source_function: asc }]) {
    source_function
  }
}` as Query<'SourceFunctions'>;

/** One invocation with everything the detail and flow views show (payload excluded). */
export const InvocationDetail = `query InvocationDetail($id: uuid!) {
  invocations_by_pk(id: $id) {
    id
    created_at
    source_function
    source_table
    source_operation
    status
    total_duration_ms
    correlation_id
    correlation_source
    events_detected_count
    total_jobs_run
    total_jobs_succeeded
    total_jobs_failed
    source_user_email
    error_message
    updated_at
    source_system
    source_event_id
    source_event_time
    source_user_role
    source_job_id
    auto_load_modules
    event_modules_directory
    error_type
    error_stack
    changed_columns
    source_job_execution {
      id
      job_name
      status
      invocation_id
      invocation {
        id
        source_function
      }
    }
    event_executions(order_by: [{ created_at: asc }, { id: asc }]) {
      id
      created_at
      event_name
      event_module_path
      detected
      status
      detection_duration_ms
      handler_duration_ms
      detection_error
      detection_error_stack
      handler_error
      handler_error_stack
      jobs_count
      jobs_succeeded
      jobs_failed
      detection_clauses
      detection_rejected_by
      job_executions(order_by: [{ created_at: asc }, { id: asc }]) {
        id
        created_at
        updated_at
        job_name
        job_function_name
        job_options
        status
        duration_ms
        result
        error_message
        error_type
        error_stack
        logs(order_by: [{ logged_at: asc }, { id: asc }]) {
          id
          level
          message
          data
          logged_at
        }
        triggered_invocations(order_by: [{ created_at: asc }]) {
          id
          source_function
          status
          created_at
        }
      }
    }
  }
}` as Query<'InvocationDetail'>;

/** The payload alone: the read-only role may not be granted this column. */
export const InvocationPayload = `query InvocationPayload($id: uuid!) {
  invocations_by_pk(id: $id) {
    id
    source_event_payload
  }
}` as Query<'InvocationPayload'>;

/**
 * The values of an invocation: its payload (old -> new of an UPDATE, payload diffs) and the values its detection
 * clauses compared. Both are hidden from the read-only role (hasura-metadata): a denial here leaves the clause
 * names, outcomes and changed column names (InvocationDetail) on the page.
 */
export const InvocationValues = `query InvocationValues($id: uuid!) {
  invocations_by_pk(id: $id) {
    id
    source_event_payload
    event_executions(order_by: [{ created_at: asc }, { id: asc }]) {
      id
      detection_clause_values
    }
  }
}` as Query<'InvocationValues'>;

/**
 * Every invocation sharing a correlation ID, with the job that caused each one (the chain's links). Their events
 * and jobs are not read here: only the selected invocation's are shown (ChainStepChildren), and reading them for
 * every invocation was most of this query's time (one index probe per partition per child list).
 */
export const CorrelationChain = `query CorrelationChain($correlationId: String!, $limit: Int!) {
  invocations(
    where: { correlation_id: { _eq: $correlationId } }
    order_by: [{ created_at: asc }, { id: asc }]
    limit: $limit
  ) {
    id
    created_at
    source_function
    source_table
    source_operation
    status
    total_duration_ms
    correlation_id
    correlation_source
    source_job_id
    events_detected_count
    total_jobs_run
    total_jobs_failed
    source_job_execution {
      id
      job_name
      status
      invocation_id
    }
  }
  invocations_aggregate(where: { correlation_id: { _eq: $correlationId } }) {
    aggregate { count }
  }
}` as Query<'CorrelationChain'>;

/** The detected events of the invocation selected in a chain, with their jobs. */
export const ChainStepChildren = `query ChainStepChildren($id: uuid!) {
  invocations_by_pk(id: $id) {
    id
    event_executions(where: { detected: { _eq: true } }, order_by: [{ created_at: asc }, { id: asc }]) {
      id
      event_name
      status
      job_executions(order_by: [{ created_at: asc }, { id: asc }]) {
        id
        job_name
        status
      }
    }
  }
}` as Query<'ChainStepChildren'>;

/**
 * The ten largest hourly maxima of job durations in the window: the smallest of them is a duration at least ten
 * jobs of the window reach, so SlowestJobs only reads jobs at or above it.
 */
export const SlowestJobThreshold = `query SlowestJobThreshold($from: timestamptz!, $to: timestamptz!, $limit: Int!) {
  job_rollup(
    where: { hour_bucket: { _gte: $from, _lt: $to }, duration_max: { _is_null: false } }
    order_by: [{ duration_max: desc }]
    limit: $limit
  ) {
    duration_max
  }
}` as Query<'SlowestJobThreshold'>;

/**
 * Slowest jobs (a list: raw rows). NULL durations never sort first. $minDuration comes from SlowestJobThreshold:
 * each partition's slow-jobs index holds the durations at or above the partition's own threshold, far below it
 * (sql/README.md, migration 011), so the list reads a few of its entries; $idFrom/$idTo bound the UUIDv7 ids to the
 * window (only the window's weekly partitions are read).
 */
export const SlowestJobs = `query SlowestJobs($from: timestamptz!, $to: timestamptz!, $idFrom: uuid!, $idTo: uuid!, $minDuration: Int!, $limit: Int!) {
  job_executions(
    where: { created_at: { _gte: $from, _lt: $to }, id: { _gte: $idFrom, _lt: $idTo }, duration_ms: { _gte: $minDuration } }
    order_by: [{ duration_ms: desc_nulls_last }, { id: asc }]
    limit: $limit
  ) {
    id
    created_at
    job_name
    status
    duration_ms
    invocation_id
    correlation_id
  }
}` as Query<'SlowestJobs'>;

/** Per job name with a failure in range: runs, failures, durations (one query over the rollups). */
export const FailingJobs = `query FailingJobs($from: timestamptz!, $to: timestamptz!, $limit: Int!) {
  rollup_job_names(
    where: { rollups: { hour_bucket: { _gte: $from, _lt: $to }, failed: { _gt: 0 } } }
    order_by: [{ job_name: asc }]
    limit: $limit
  ) {
    job_name
    stats: rollups_aggregate(where: { hour_bucket: { _gte: $from, _lt: $to } }) {
      aggregate {
        sum { jobs completed failed duration_sum duration_count }
        max { duration_max }
      }
    }
  }
}` as Query<'FailingJobs'>;

/** Per event name checked in range: checks, detections and failures (one query over the rollups). */
export const DetectionRates = `query DetectionRates($from: timestamptz!, $to: timestamptz!, $limit: Int!) {
  rollup_event_names(
    where: { rollups: { hour_bucket: { _gte: $from, _lt: $to } } }
    order_by: [{ event_name: asc }]
    limit: $limit
  ) {
    event_name
    stats: rollups_aggregate(where: { hour_bucket: { _gte: $from, _lt: $to } }) {
      aggregate { sum { checked detected failed detection_failed handler_failed } }
    }
  }
}` as Query<'DetectionRates'>;

/** Correlation coverage: totals and the share of each correlation source (one query over the rollups). */
export const CorrelationCoverage = `query CorrelationCoverage($from: timestamptz!, $to: timestamptz!) {
  totals: correlation_rollup_aggregate(where: { hour_bucket: { _gte: $from, _lt: $to } }) {
    aggregate { sum { invocations with_correlation_id chained } }
  }
  sources: rollup_correlation_sources(
    where: { rollups: { hour_bucket: { _gte: $from, _lt: $to } } }
    order_by: [{ correlation_source: asc }]
  ) {
    correlation_source
    stats: rollups_aggregate(where: { hour_bucket: { _gte: $from, _lt: $to } }) {
      aggregate { sum { invocations } }
    }
  }
}` as Query<'CorrelationCoverage'>;

/** Header search over correlation ID, source function, user email, ids (payload: see below). */
export const SearchInvocations = `query SearchInvocations($where: invocations_bool_exp!, $limit: Int!) {
  invocations(where: $where, order_by: [{ created_at: desc }, { id: desc }], limit: $limit) {
    id
    created_at
    source_function
    status
    correlation_id
    source_user_email
  }
}` as Query<'SearchInvocations'>;

/** Header search in payloads by JSON containment (jsonb @>). Needs the payload column. */
export const SearchPayloadContains = `query SearchPayloadContains($contains: jsonb!, $limit: Int!) {
  invocations(
    where: { source_event_payload: { _contains: $contains } }
    order_by: [{ created_at: desc }, { id: desc }]
    limit: $limit
  ) {
    id
    created_at
    source_function
    status
    correlation_id
    source_user_email
  }
}` as Query<'SearchPayloadContains'>;

/** Header search in payloads by top-level key (jsonb ?). Needs the payload column. */
export const SearchPayloadKey = `query SearchPayloadKey($key: String!, $limit: Int!) {
  invocations(
    where: { source_event_payload: { _has_key: $key } }
    order_by: [{ created_at: desc }, { id: desc }]
    limit: $limit
  ) {
    id
    created_at
    source_function
    status
    correlation_id
    source_user_email
  }
}` as Query<'SearchPayloadKey'>;

/** `table:id` look-ups: map any record to its invocation. */
export const LookupEventExecution = `query LookupEventExecution($id: uuid!) {
  event_executions_by_pk(id: $id) {
    id
    invocation_id
    event_name
  }
}` as Query<'LookupEventExecution'>;

export const LookupJobExecution = `query LookupJobExecution($id: uuid!) {
  job_executions_by_pk(id: $id) {
    id
    invocation_id
    job_name
  }
}` as Query<'LookupJobExecution'>;

export const LookupJobLog = `query LookupJobLog($id: uuid!) {
  job_logs_by_pk(id: $id) {
    id
    invocation_id
    job_execution_id
    message
  }
}` as Query<'LookupJobLog'>;

/** Detection funnel of one event type over whole UTC hours: the event rollup's totals and each clause's. */
export const DetectionFunnel = `query DetectionFunnel($from: timestamptz!, $to: timestamptz!, $eventName: String!) {
  events: event_rollup_aggregate(where: { hour_bucket: { _gte: $from, _lt: $to }, event_name: { _eq: $eventName } }) {
    aggregate { sum { checked detected completed failed detection_failed handler_failed } }
  }
  clauses: rollup_detection_clauses(
    where: { event_name: { _eq: $eventName }, rollups: { hour_bucket: { _gte: $from, _lt: $to } } }
    order_by: [{ clause_index: asc }, { clause_name: asc }]
  ) {
    clause_index
    clause_name
    stats: rollups_aggregate(where: { hour_bucket: { _gte: $from, _lt: $to } }) {
      aggregate { sum { evaluated passed failed threw } }
    }
  }
}` as Query<'DetectionFunnel'>;

/** The event executions that stopped at one funnel step ($where from lib/detection.ts stoppedAtWhere), newest first. */
export const FunnelStoppedAt = `query FunnelStoppedAt($where: event_executions_bool_exp!, $limit: Int!) {
  event_executions(where: $where, order_by: [{ created_at: desc }, { id: desc }], limit: $limit) {
    id
    created_at
    invocation_id
    event_name
    status
    detected
    detection_rejected_by
    detection_clauses
    detection_error
    invocation {
      id
      source_function
      source_operation
      correlation_id
      changed_columns
    }
  }
}` as Query<'FunnelStoppedAt'>;

/** Dry-run replays (replay_runs), newest first. */
export const ReplayRuns = `query ReplayRuns($limit: Int!) {
  replay_runs(order_by: [{ created_at: desc }], limit: $limit) {
    id
    created_at
    finished_at
    status
    build_label
    selection
    invocations_replayed
    invocations_skipped
    decisions_changed
    error_message
  }
}` as Query<'ReplayRuns'>;

/** One replay's report: per event type detected before / after, and the changed decisions with their clause. */
export const ReplayReport = `query ReplayReport($id: uuid!, $limit: Int!) {
  replay_runs_by_pk(id: $id) {
    id
    created_at
    finished_at
    status
    build_label
    selection
    invocations_replayed
    invocations_skipped
    decisions_changed
    error_message
    report(order_by: [{ event_name: asc }]) {
      event_name
      checked
      detected_before
      detected_after
      changed
      newly_detected
      no_longer_detected
    }
    decisions(where: { changed: { _eq: true } }, order_by: [{ invocation_created_at: asc }, { event_name: asc }], limit: $limit) {
      id
      invocation_id
      invocation_created_at
      source_function
      correlation_id
      event_name
      detected_before
      detected_after
      changed_clause
      rejected_by_before
      rejected_by_after
      error_after
      clauses_before
      clauses_after
    }
  }
}` as Query<'ReplayReport'>;
