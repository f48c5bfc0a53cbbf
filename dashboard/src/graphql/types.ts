// Shapes of the query results (see queries.ts).

export interface InvocationRow {
  id: string;
  created_at: string;
  source_function: string;
  source_table: string | null;
  source_operation: string | null;
  status: string;
  total_duration_ms: number | null;
  correlation_id: string | null;
  correlation_source: string | null;
  events_detected_count: number | null;
  total_jobs_run: number | null;
  total_jobs_succeeded: number | null;
  total_jobs_failed: number | null;
  source_user_email: string | null;
  error_message: string | null;
}

export interface JobLog {
  id: string;
  level: string | null;
  message: string | null;
  data: unknown;
  logged_at: string | null;
}

export interface TriggeredInvocation {
  id: string;
  source_function: string;
  status: string;
  created_at: string;
}

export interface JobExecution {
  id: string;
  created_at: string;
  updated_at: string;
  job_name: string;
  job_function_name: string | null;
  job_options: unknown;
  status: string;
  duration_ms: number | null;
  result: unknown;
  error_message: string | null;
  error_type: string | null;
  error_stack: string | null;
  logs: JobLog[];
  triggered_invocations: TriggeredInvocation[];
}

export interface EventExecution {
  id: string;
  created_at: string;
  event_name: string;
  event_module_path: string | null;
  detected: boolean;
  status: string;
  detection_duration_ms: number | null;
  handler_duration_ms: number | null;
  detection_error: string | null;
  detection_error_stack: string | null;
  handler_error: string | null;
  handler_error_stack: string | null;
  jobs_count: number | null;
  jobs_succeeded: number | null;
  jobs_failed: number | null;
  /** EVENTSCOPE_DETECT's clauses: [{name, outcome}] (null without clauses); the clause that stopped it. */
  detection_clauses?: unknown;
  detection_rejected_by?: string | null;
  job_executions: JobExecution[];
}

export interface InvocationDetailData extends InvocationRow {
  updated_at: string;
  source_system: string | null;
  source_event_id: string | null;
  source_event_time: string | null;
  source_user_role: string | null;
  source_job_id: string | null;
  auto_load_modules: boolean | null;
  event_modules_directory: string | null;
  error_type: string | null;
  error_stack: string | null;
  /** The columns an UPDATE changed (null: not an UPDATE, or no payload kept). */
  changed_columns?: string[] | null;
  source_job_execution: {
    id: string;
    job_name: string;
    status: string;
    invocation_id: string;
    invocation: { id: string; source_function: string } | null;
  } | null;
  event_executions: EventExecution[];
}

export interface ChainInvocation {
  id: string;
  created_at: string;
  source_function: string;
  source_table: string | null;
  source_operation: string | null;
  status: string;
  total_duration_ms: number | null;
  correlation_id: string | null;
  correlation_source: string | null;
  source_job_id: string | null;
  events_detected_count: number | null;
  total_jobs_run: number | null;
  total_jobs_failed: number | null;
  source_job_execution: { id: string; job_name: string; status: string; invocation_id: string } | null;
  event_executions: {
    id: string;
    event_name: string;
    status: string;
    job_executions: { id: string; job_name: string; status: string; duration_ms: number | null; created_at: string }[];
  }[];
}

export interface AggregateCount {
  aggregate: { count: number } | null;
}

export function countOf(a: AggregateCount | null | undefined): number {
  return a?.aggregate?.count ?? 0;
}

export interface InvocationValuesData {
  id: string;
  source_event_payload: unknown;
  event_executions: { id: string; detection_clause_values: unknown }[];
}

export interface ReplayRun {
  id: string;
  created_at: string;
  finished_at: string | null;
  status: string;
  build_label: string | null;
  selection: Record<string, unknown> | null;
  invocations_replayed: number;
  invocations_skipped: number;
  decisions_changed: number;
  error_message: string | null;
}

export interface ReplayReportRow {
  event_name: string;
  checked: number | string;
  detected_before: number | string;
  detected_after: number | string;
  changed: number | string;
  newly_detected: number | string;
  no_longer_detected: number | string;
}

export interface ReplayDecision {
  id: string;
  invocation_id: string;
  invocation_created_at: string;
  source_function: string;
  correlation_id: string | null;
  event_name: string;
  detected_before: boolean | null;
  detected_after: boolean | null;
  changed_clause: string | null;
  rejected_by_before: string | null;
  rejected_by_after: string | null;
  error_after: string | null;
  clauses_before: unknown;
  clauses_after: unknown;
}
