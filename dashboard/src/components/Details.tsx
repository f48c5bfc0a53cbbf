// Detail panels shared by the invocation page and the flow diagram's side panel.
import type { EventExecution, InvocationDetailData, JobExecution } from '../graphql/types';
import { formatDuration, formatTimestamp } from '../lib/format';
import { Collapsible, CorrLink, InvLink, JsonBlock, StatusBadge } from './common';

export function StackTrace({ stack, title = 'stack trace' }: { stack: string | null | undefined; title?: string }) {
  if (!stack) return null;
  return (
    <Collapsible title={title}>
      <pre className="stack">{stack}</pre>
    </Collapsible>
  );
}

export function JobLogs({ job }: { job: JobExecution }) {
  if (job.logs.length === 0) return <div className="muted small">No log lines captured.</div>;
  return (
    <table className="table compact logs" data-testid="job-logs">
      <thead>
        <tr>
          <th>Time</th>
          <th>Level</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {job.logs.map((l) => (
          <tr key={l.id} className={`log-${l.level ?? 'info'}`}>
            <td className="mono small">{formatTimestamp(l.logged_at)}</td>
            <td>
              <span className={`level level-${l.level ?? 'info'}`}>{l.level ?? '—'}</span>
            </td>
            <td className="wrap">
              {l.message}
              {l.data !== null && l.data !== undefined ? <JsonBlock value={l.data} label="log data" /> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function JobDetail({ job }: { job: JobExecution }) {
  return (
    <div className="job-detail" data-testid="job-detail">
      <dl className="kv">
        <dt>Job</dt>
        <dd>
          <strong>{job.job_name}</strong> {job.job_function_name ? <span className="muted">({job.job_function_name})</span> : null}
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={job.status} />
        </dd>
        <dt>Duration</dt>
        <dd>{formatDuration(job.duration_ms)}</dd>
        <dt>Started</dt>
        <dd>{formatTimestamp(job.created_at)}</dd>
        <dt>Job id</dt>
        <dd className="mono small">{job.id}</dd>
      </dl>
      {job.error_message ? (
        <div className="error-block">
          <strong>{job.error_type ?? 'Error'}:</strong> {job.error_message}
          <StackTrace stack={job.error_stack} />
        </div>
      ) : null}
      <Collapsible title="Options">
        <JsonBlock value={job.job_options} label="job options" />
      </Collapsible>
      <Collapsible title="Result" defaultOpen={job.result !== null && job.result !== undefined}>
        <JsonBlock value={job.result} label="job result" />
      </Collapsible>
      <Collapsible title={`Logs (${job.logs.length})`} defaultOpen={job.logs.length > 0}>
        <JobLogs job={job} />
      </Collapsible>
      {job.triggered_invocations.length ? (
        <div>
          <strong>Triggered invocations:</strong>{' '}
          {job.triggered_invocations.map((t) => (
            <span key={t.id} className="chip">
              <InvLink id={t.id}>{t.source_function}</InvLink> <StatusBadge status={t.status} />
            </span>
          ))}
        </div>
      ) : null}
    </div>
  );
}

export function EventDetail({ ev }: { ev: EventExecution }) {
  return (
    <div className="event-detail">
      <dl className="kv">
        <dt>Event</dt>
        <dd>
          <strong>{ev.event_name}</strong>
        </dd>
        <dt>Module</dt>
        <dd className="mono small">{ev.event_module_path ?? '—'}</dd>
        <dt>Detected</dt>
        <dd>{ev.detected ? 'yes' : 'no'}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={ev.status} />
        </dd>
        <dt>Detection</dt>
        <dd>{formatDuration(ev.detection_duration_ms)}</dd>
        <dt>Handler</dt>
        <dd>{ev.detected ? formatDuration(ev.handler_duration_ms) : '—'}</dd>
        <dt>Jobs</dt>
        <dd>
          {ev.jobs_count ?? ev.job_executions.length} run, {ev.jobs_succeeded ?? 0} succeeded, {ev.jobs_failed ?? 0} failed
        </dd>
      </dl>
      {ev.detection_error ? (
        <div className="error-block">
          <strong>Detection error:</strong> {ev.detection_error}
          <StackTrace stack={ev.detection_error_stack} />
        </div>
      ) : null}
      {ev.handler_error ? (
        <div className="error-block">
          <strong>Handler error:</strong> {ev.handler_error}
          <StackTrace stack={ev.handler_error_stack} />
        </div>
      ) : null}
    </div>
  );
}

export function InvocationSummary({ inv }: { inv: InvocationDetailData }) {
  return (
    <>
      <dl className="kv kv-wide" data-testid="invocation-summary">
        <dt>Source function</dt>
        <dd>
          <strong>{inv.source_function}</strong>
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={inv.status} />
        </dd>
        <dt>Trigger</dt>
        <dd>
          {inv.source_system ?? '—'} · {inv.source_table ?? '—'} · {inv.source_operation ?? '—'}
        </dd>
        <dt>Started</dt>
        <dd>{formatTimestamp(inv.created_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(inv.total_duration_ms)}</dd>
        <dt>Correlation ID</dt>
        <dd>
          <CorrLink id={inv.correlation_id} /> <span className="muted small">({inv.correlation_source ?? 'unknown source'})</span>
        </dd>
        <dt>User</dt>
        <dd>
          {inv.source_user_email ?? '—'} {inv.source_user_role ? <span className="muted">({inv.source_user_role})</span> : null}
        </dd>
        <dt>Events</dt>
        <dd>
          {inv.events_detected_count ?? 0} detected of {inv.event_executions.length} checked
        </dd>
        <dt>Jobs</dt>
        <dd>
          {inv.total_jobs_run ?? 0} run, {inv.total_jobs_succeeded ?? 0} succeeded, {inv.total_jobs_failed ?? 0} failed
        </dd>
        {inv.source_job_execution ? (
          <>
            <dt>Caused by</dt>
            <dd>
              job <strong>{inv.source_job_execution.job_name}</strong> of{' '}
              <InvLink id={inv.source_job_execution.invocation_id}>
                {inv.source_job_execution.invocation?.source_function ?? inv.source_job_execution.invocation_id.slice(0, 8)}
              </InvLink>
            </dd>
          </>
        ) : inv.source_job_id ? (
          <>
            <dt>Caused by</dt>
            <dd className="mono small">job {inv.source_job_id} (record not visible)</dd>
          </>
        ) : null}
        <dt>Trigger event</dt>
        <dd className="mono small">
          {inv.source_event_id ?? '—'} {inv.source_event_time ? `at ${formatTimestamp(inv.source_event_time)}` : ''}
        </dd>
        <dt>Invocation id</dt>
        <dd className="mono small">{inv.id}</dd>
      </dl>
      {inv.error_message ? (
        <div className="error-block">
          <strong>{inv.error_type ?? 'Error'}:</strong> {inv.error_message}
          <StackTrace stack={inv.error_stack} />
        </div>
      ) : null}
    </>
  );
}
