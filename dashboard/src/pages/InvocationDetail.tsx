import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { config } from '../config';
import { Empty, ErrorBox, JsonBlock, Loading, StatusBadge } from '../components/common';
import { ChangesTable, ClauseList, StoppedBy } from '../components/Clauses';
import { EventDetail, InvocationSummary, JobDetail } from '../components/Details';
import type { InvocationDetailData } from '../graphql/types';
import { parseClauses, payloadChanges } from '../lib/detection';
import { formatDuration } from '../lib/format';
import { useRangeQueryString } from '../lib/hooks';
import { UUID_RE } from '../lib/search';
import { useInvocationDetail, useInvocationPayload, useInvocationValues, type ValuesState } from '../lib/useInvocation';

/** Old -> new of an UPDATE: the changed column names (any role), their values (roles that may read payloads). */
function Changes({ inv, values }: { inv: InvocationDetailData; values: ValuesState | undefined }) {
  const names = Array.isArray(inv.changed_columns) ? inv.changed_columns : null;
  const payload = values?.state === 'ok' ? values.values.source_event_payload : undefined;
  const changes = payload !== undefined ? payloadChanges(payload) : null;
  if (!names && !changes) return null;
  return (
    <section aria-label="Changes" data-testid="changes">
      <h2>Changes (old → new)</h2>
      {names ? (
        <p>
          {names.length === 0 ? 'No column changed.' : 'Columns changed: '}
          {names.map((c) => (
            <span key={c} className="chip mono" data-testid="changed-column">
              {c}
            </span>
          ))}
        </p>
      ) : null}
      {changes ? (
        <ChangesTable changes={changes} />
      ) : values?.state === 'denied' ? (
        <p className="muted small" data-testid="changes-denied">
          Old and new values are part of the payload, which your role may not read.
        </p>
      ) : null}
    </section>
  );
}

function CompareWith({ id }: { id: string }) {
  const navigate = useNavigate();
  const qs = useRangeQueryString();
  const [other, setOther] = useState('');
  const go = () => {
    const b = other.trim();
    if (UUID_RE.test(b)) navigate(`/compare?a=${id}&b=${b}${qs ? `&${qs.replace(/^\?/, '')}` : ''}`);
  };
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        go();
      }}
    >
      <input
        type="text"
        aria-label="Compare with invocation id"
        placeholder="compare with invocation id…"
        value={other}
        onChange={(e) => setOther(e.target.value)}
        size={38}
      />
      <button type="submit" disabled={!UUID_RE.test(other.trim())}>
        Compare
      </button>
    </form>
  );
}

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
  const values = useInvocationValues(id);
  if (!id || !UUID_RE.test(id)) return <Empty title="Not an invocation id.">Invocation ids are UUIDs, e.g. /invocations/0190c0de-….</Empty>;
  if (q.isPending) return <Loading what="invocation" />;
  if (q.isError) return <ErrorBox error={q.error} what="the invocation" onRetry={() => q.refetch()} />;
  const inv = q.data;
  if (!inv) return <Empty title={`No invocation ${id}.`}>It may have been deleted by retention, or the link is wrong.</Empty>;
  const detected = inv.event_executions.filter((e) => e.detected);
  const jobs = inv.event_executions.flatMap((e) => e.job_executions.map((j) => ({ ev: e, job: j })));
  const valuesHidden = values.data?.state === 'denied';
  const clauseValuesOf = (eventId: string) =>
    values.data?.state === 'ok' ? values.data.values.event_executions.find((x) => x.id === eventId)?.detection_clause_values : undefined;
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
        <CompareWith id={inv.id} />
      </div>
      <InvocationSummary inv={inv} />
      <Changes inv={inv} values={values.data} />
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
                <th>Why</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {inv.event_executions.map((e) => {
                const clauses = parseClauses(e.detection_clauses, clauseValuesOf(e.id));
                return (
                <tr key={e.id} className={e.detected ? '' : 'not-detected'} data-event={e.event_name}>
                  <td>{e.event_name}</td>
                  <td>{e.detected ? 'yes' : 'no'}</td>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td className="num">{formatDuration(e.detection_duration_ms)}</td>
                  <td className="num">{e.detected ? formatDuration(e.handler_duration_ms) : '—'}</td>
                  <td className="num">{e.job_executions.length}</td>
                  <td className="small wrap why">
                    {e.detected ? (clauses.length ? <span className="muted">all {clauses.length} clauses held</span> : null) : (
                      <StoppedBy clauses={clauses} rejectedBy={e.detection_rejected_by} valuesHidden={valuesHidden} />
                    )}
                    {clauses.length ? (
                      <details className="clause-details">
                        <summary>clauses ({clauses.length})</summary>
                        <ClauseList clauses={clauses} valuesHidden={valuesHidden} />
                      </details>
                    ) : null}
                  </td>
                  <td className="fail-text small wrap">{e.detection_error ?? e.handler_error ?? ''}</td>
                </tr>
                );
              })}
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
