// EVERY GraphQL operation the dashboard sends lives in this module, as a plain string named
// after its operation. The console server's test suite validates each export against its
// schema, so never build a query elsewhere: pass everything that changes as variables.
//
// Names follow Hasura v2 (root fields `<t>`, `<t>_by_pk`, `<t>_aggregate`; relationships
// and computed fields of shared/seed/data-model.md). `source_event_payload` is queried only
// by InvocationPayload / SearchPayload*, because the read-only role may not be allowed to
// see it: a failure there must not break the other views.

/** Health indicator: the API answers, the database behind it answers, newest record. */
export const HealthCheck = `query HealthCheck {
  invocations(order_by: [{ created_at: desc }], limit: 1) {
    id
    created_at
    updated_at
  }
}`;

/** Overview KPIs for [from, to) and the previous period of the same length [prevFrom, from). */
export const OverviewKpis = `query OverviewKpis($from: timestamptz!, $to: timestamptz!, $prevFrom: timestamptz!) {
  current_total: invocations_aggregate(where: { created_at: { _gte: $from, _lt: $to } }) {
    aggregate { count }
  }
  current_completed: invocations_aggregate(where: { created_at: { _gte: $from, _lt: $to }, status: { _eq: "completed" } }) {
    aggregate { count }
  }
  current_failed: invocations_aggregate(where: { created_at: { _gte: $from, _lt: $to }, status: { _eq: "failed" } }) {
    aggregate { count }
  }
  current_timed: invocations_aggregate(where: { created_at: { _gte: $from, _lt: $to }, total_duration_ms: { _is_null: false } }) {
    aggregate { count }
  }
  previous_total: invocations_aggregate(where: { created_at: { _gte: $prevFrom, _lt: $from } }) {
    aggregate { count }
  }
  previous_completed: invocations_aggregate(where: { created_at: { _gte: $prevFrom, _lt: $from }, status: { _eq: "completed" } }) {
    aggregate { count }
  }
  previous_failed: invocations_aggregate(where: { created_at: { _gte: $prevFrom, _lt: $from }, status: { _eq: "failed" } }) {
    aggregate { count }
  }
  previous_timed: invocations_aggregate(where: { created_at: { _gte: $prevFrom, _lt: $from }, total_duration_ms: { _is_null: false } }) {
    aggregate { count }
  }
}`;

/**
 * Exact nearest-rank p95 of total_duration_ms: the row at offset n - ceil(0.95 n) when sorted
 * descending (NULL durations excluded). Offsets come from OverviewKpis' *_timed counts.
 */
export const DurationPercentiles = `query DurationPercentiles($from: timestamptz!, $to: timestamptz!, $prevFrom: timestamptz!, $currentOffset: Int!, $previousOffset: Int!) {
  current: invocations(
    where: { created_at: { _gte: $from, _lt: $to }, total_duration_ms: { _is_null: false } }
    order_by: [{ total_duration_ms: desc_nulls_last }, { id: asc }]
    offset: $currentOffset
    limit: 1
  ) {
    total_duration_ms
  }
  previous: invocations(
    where: { created_at: { _gte: $prevFrom, _lt: $from }, total_duration_ms: { _is_null: false } }
    order_by: [{ total_duration_ms: desc_nulls_last }, { id: asc }]
    offset: $previousOffset
    limit: 1
  ) {
    total_duration_ms
  }
}`;

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
}`;

/** Hourly materialized statistics (overview trends per source function, analytics). */
export const DashboardStatsRange = `query DashboardStatsRange($from: timestamptz!, $to: timestamptz!) {
  dashboard_stats(
    where: { hour_bucket: { _gte: $from, _lt: $to } }
    order_by: [{ hour_bucket: asc }, { source_function: asc }]
  ) {
    hour_bucket
    source_function
    total_invocations
    successful_invocations
    failed_invocations
    total_events_detected
    total_jobs_run
    total_jobs_succeeded
    avg_duration_ms
    min_duration_ms
    max_duration_ms
    p95_duration_ms
  }
}`;

/** Invocations table: filters, sort and page all come in as variables; count for the pager. */
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
  invocations_aggregate(where: $where) {
    aggregate { count }
  }
}`;

/** Distinct source functions seen in a range (filter suggestions). */
export const SourceFunctions = `query SourceFunctions($from: timestamptz!, $to: timestamptz!) {
  invocations(
    where: { created_at: { _gte: $from, _lt: $to } }
    distinct_on: [source_function]
    order_by: [{ source_function: asc }]
  ) {
    source_function
  }
}`;

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
}`;

/** The payload alone: the read-only role may not be granted this column. */
export const InvocationPayload = `query InvocationPayload($id: uuid!) {
  invocations_by_pk(id: $id) {
    id
    source_event_payload
  }
}`;

/** Every invocation sharing a correlation ID, with the jobs that link them. */
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
    event_executions(where: { detected: { _eq: true } }, order_by: [{ created_at: asc }]) {
      id
      event_name
      status
      job_executions(order_by: [{ created_at: asc }]) {
        id
        job_name
        status
        duration_ms
        created_at
      }
    }
  }
  invocations_aggregate(where: { correlation_id: { _eq: $correlationId } }) {
    aggregate { count }
  }
}`;

/** Slowest jobs: NULL durations (still running / unknown) never sort first. */
export const SlowestJobs = `query SlowestJobs($from: timestamptz!, $to: timestamptz!, $limit: Int!) {
  job_executions(
    where: { created_at: { _gte: $from, _lt: $to }, duration_ms: { _is_null: false } }
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
}`;

/** Job names with at least one failure in range (candidates for "most failing jobs"). */
export const FailingJobNames = `query FailingJobNames($from: timestamptz!, $to: timestamptz!, $limit: Int!) {
  job_executions(
    where: { created_at: { _gte: $from, _lt: $to }, status: { _eq: "failed" } }
    distinct_on: [job_name]
    order_by: [{ job_name: asc }]
    limit: $limit
  ) {
    job_name
  }
}`;

/** Run / failure counts and average duration of one job name in range. */
export const JobNameStats = `query JobNameStats($name: String!, $from: timestamptz!, $to: timestamptz!) {
  total: job_executions_aggregate(where: { job_name: { _eq: $name }, created_at: { _gte: $from, _lt: $to } }) {
    aggregate {
      count
      avg { duration_ms }
      max { duration_ms }
    }
  }
  failed: job_executions_aggregate(where: { job_name: { _eq: $name }, created_at: { _gte: $from, _lt: $to }, status: { _eq: "failed" } }) {
    aggregate { count }
  }
}`;

/** Event names checked in range. */
export const EventNames = `query EventNames($from: timestamptz!, $to: timestamptz!, $limit: Int!) {
  event_executions(
    where: { created_at: { _gte: $from, _lt: $to } }
    distinct_on: [event_name]
    order_by: [{ event_name: asc }]
    limit: $limit
  ) {
    event_name
  }
}`;

/** Checks and detections of one event name in range (detection rate). */
export const EventNameStats = `query EventNameStats($name: String!, $from: timestamptz!, $to: timestamptz!) {
  checked: event_executions_aggregate(where: { event_name: { _eq: $name }, created_at: { _gte: $from, _lt: $to } }) {
    aggregate { count }
  }
  detected: event_executions_aggregate(where: { event_name: { _eq: $name }, created_at: { _gte: $from, _lt: $to }, detected: { _eq: true } }) {
    aggregate { count }
  }
  failed: event_executions_aggregate(where: { event_name: { _eq: $name }, created_at: { _gte: $from, _lt: $to }, status: { _in: ["failed", "detection_failed", "handler_failed"] } }) {
    aggregate { count }
  }
}`;

/** Correlation coverage: invocations whose correlation ID was found (correlation_source != 'generated'). */
export const CorrelationCoverage = `query CorrelationCoverage($from: timestamptz!, $to: timestamptz!) {
  total: invocations_aggregate(where: { created_at: { _gte: $from, _lt: $to } }) {
    aggregate { count }
  }
  covered: invocations_aggregate(where: { created_at: { _gte: $from, _lt: $to }, correlation_source: { _neq: "generated" } }) {
    aggregate { count }
  }
  chained: invocations_aggregate(where: { created_at: { _gte: $from, _lt: $to }, source_job_id: { _is_null: false } }) {
    aggregate { count }
  }
  sources: invocations(
    where: { created_at: { _gte: $from, _lt: $to } }
    distinct_on: [correlation_source]
    order_by: [{ correlation_source: asc }]
  ) {
    correlation_source
  }
}`;

/** Count of invocations matching any filter (correlation source breakdown, etc.). */
export const CountInvocations = `query CountInvocations($where: invocations_bool_exp!) {
  invocations_aggregate(where: $where) {
    aggregate { count }
  }
}`;

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
}`;

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
}`;

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
}`;

/** `table:id` look-ups: map any record to its invocation. */
export const LookupEventExecution = `query LookupEventExecution($id: uuid!) {
  event_executions_by_pk(id: $id) {
    id
    invocation_id
    event_name
  }
}`;

export const LookupJobExecution = `query LookupJobExecution($id: uuid!) {
  job_executions_by_pk(id: $id) {
    id
    invocation_id
    job_name
  }
}`;

export const LookupJobLog = `query LookupJobLog($id: uuid!) {
  job_logs_by_pk(id: $id) {
    id
    invocation_id
    job_execution_id
    message
  }
}`;
