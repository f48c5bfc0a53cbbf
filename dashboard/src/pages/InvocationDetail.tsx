import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { config } from '../config';
import { Empty, ErrorBox, JsonBlock, Loading, StatusBadge } from '../components/common';
import { EventDetail, InvocationSummary, JobDetail } from '../components/Details';
import { formatDuration } from '../lib/format';
import { useRangeQueryString } from '../lib/hooks';
import { UUID_RE } from '../lib/search';
import { useInvocationDetail, useInvocationPayload } from '../lib/useInvocation';

function Payload({ id }: { id: string }) {
  const [shown, setShown] = useState(config.showRawPayloads);
  const q = useInvocationPayload(id, shown);
  return (
    <section aria-label="Payload">
      <h2>
        Trigger payload{' '}
        <button type="button" className="link-button" onClick={() => setShown(!shown)} aria-expanded={shown}>
          {shown ? 'hide' : 'show'}
        </button>
      </h2>
      {!shown ? (
        <p className="muted small">Hidden{config.showRawPayloads ? '' : ' by default (REACT_APP_SHOW_RAW_PAYLOADS=false)'}.</p>
      ) : q.isPending ? (
        <Loading what="payload" />
      ) : q.isError ? (
        <ErrorBox error={q.error} what="the payload" />
      ) : q.data.state === 'denied' ? (
        <div className="state state-empty" data-testid="payload-denied">
          <strong>Payload not available to your role.</strong>
          <div className="hint">The read-only role may not read source_event_payload. Everything else on this page is unaffected.</div>
        </div>
      ) : q.data.state === 'missing' ? (
        <p className="muted">Invocation not found.</p>
      ) : q.data.payload && typeof q.data.payload === 'object' && Object.keys(q.data.payload as object).length === 0 ? (
        <p className="muted">Empty payload (payload capture was off).</p>
      ) : (
        <JsonBlock value={q.data.payload} label="payload" />
      )}
    </section>
  );
}

export function InvocationDetailPage() {
  const { id } = useParams();
  const qs = useRangeQueryString();
  const q = useInvocationDetail(id);
  if (!id || !UUID_RE.test(id)) return <Empty title="Not an invocation id.">Invocation ids are UUIDs, e.g. /invocations/0190c0de-….</Empty>;
  if (q.isPending) return <Loading what="invocation" />;
  if (q.isError) return <ErrorBox error={q.error} what="the invocation" onRetry={() => q.refetch()} />;
  const inv = q.data;
  if (!inv) return <Empty title={`No invocation ${id}.`}>It may have been deleted by retention, or the link is wrong.</Empty>;
  const detected = inv.event_executions.filter((e) => e.detected);
  const jobs = inv.event_executions.flatMap((e) => e.job_executions.map((j) => ({ ev: e, job: j })));
  return (
    <div className="page" data-testid="invocation-detail">
      <div className="page-head">
        <h1>
          Invocation <span className="mono">{inv.id.slice(0, 8)}</span> <StatusBadge status={inv.status} />
        </h1>
        <Link to={`/flows/${inv.id}${qs}`} className="button">
          Open flow diagram
        </Link>
        <Link to={`/invocations${qs}`} className="link-button">
          ← all invocations
        </Link>
      </div>
      <InvocationSummary inv={inv} />
      <Payload id={inv.id} />
      <section aria-label="Events checked">
        <h2>
          Events checked ({detected.length} detected of {inv.event_executions.length})
        </h2>
        {inv.event_executions.length === 0 ? (
          <p className="muted">No event module was checked.</p>
        ) : (
          <table className="table compact" data-testid="events-table">
            <thead>
              <tr>
                <th>Event</th>
                <th>Detected</th>
                <th>Status</th>
                <th className="num">Detection</th>
                <th className="num">Handler</th>
                <th className="num">Jobs</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {inv.event_executions.map((e) => (
                <tr key={e.id} className={e.detected ? '' : 'dim'}>
                  <td>{e.event_name}</td>
                  <td>{e.detected ? 'yes' : 'no'}</td>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td className="num">{formatDuration(e.detection_duration_ms)}</td>
                  <td className="num">{e.detected ? formatDuration(e.handler_duration_ms) : '—'}</td>
                  <td className="num">{e.job_executions.length}</td>
                  <td className="fail-text small wrap">{e.detection_error ?? e.handler_error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-label="Jobs">
        <h2>Jobs ({jobs.length})</h2>
        {jobs.length === 0 ? <p className="muted">No job ran.</p> : null}
        {jobs.map(({ ev, job }) => (
          <details key={job.id} className={`job-card tone-border-${job.status}`} open={job.status === 'failed'}>
            <summary>
              <strong>{job.job_name}</strong> <StatusBadge status={job.status} /> <span className="muted">{formatDuration(job.duration_ms)}</span>{' '}
              <span className="muted small">for {ev.event_name}</span>
              {job.logs.length ? <span className="muted small"> · {job.logs.length} log lines</span> : null}
              {job.error_message ? <span className="fail-text small"> · {job.error_message}</span> : null}
            </summary>
            <JobDetail job={job} />
          </details>
        ))}
      </section>
      {inv.event_executions.some((e) => e.detection_error || e.handler_error) ? (
        <section aria-label="Event errors">
          <h2>Event errors</h2>
          {inv.event_executions
            .filter((e) => e.detection_error || e.handler_error)
            .map((e) => (
              <EventDetail key={e.id} ev={e} />
            ))}
        </section>
      ) : null}
    </div>
  );
}
