// Two invocations side by side (/compare?a=<id>&b=<id>, deep-linkable): payload differences, each event's
// decision with its clauses, and jobs matched by name with status and duration deltas.
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { ClauseList, StoppedBy } from '../components/Clauses';
import { Empty, ErrorBox, InvLink, Loading, StatusBadge } from '../components/common';
import type { InvocationDetailData } from '../graphql/types';
import { compareEvents, compareJobs, formatDelta, jsonDiff, parseClauses, shortJson } from '../lib/detection';
import { formatDuration, formatTimestamp } from '../lib/format';
import { UUID_RE } from '../lib/search';
import { useInvocationDetail, useInvocationValues, type ValuesState } from '../lib/useInvocation';

function PickIds({ a, b }: { a: string; b: string }) {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [va, setA] = useState(a);
  const [vb, setB] = useState(b);
  const ok = UUID_RE.test(va.trim()) && UUID_RE.test(vb.trim());
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!ok) return;
        const p = new URLSearchParams(params);
        p.set('a', va.trim());
        p.set('b', vb.trim());
        navigate(`/compare?${p.toString()}`);
      }}
    >
      <input aria-label="Invocation A" placeholder="invocation A id" value={va} onChange={(e) => setA(e.target.value)} size={38} />
      <input aria-label="Invocation B" placeholder="invocation B id" value={vb} onChange={(e) => setB(e.target.value)} size={38} />
      <button type="submit" disabled={!ok}>
        Compare
      </button>
    </form>
  );
}

function clauseValuesOf(values: ValuesState | undefined, eventId: string | undefined) {
  if (!eventId || values?.state !== 'ok') return undefined;
  return values.values.event_executions.find((x) => x.id === eventId)?.detection_clause_values;
}

function Side({ inv, label }: { inv: InvocationDetailData; label: string }) {
  return (
    <div className="compare-side" data-testid={`compare-side-${label}`}>
      <h2>
        {label}: <InvLink id={inv.id}>{inv.id.slice(0, 8)}</InvLink> <StatusBadge status={inv.status} />
      </h2>
      <dl className="kv">
        <dt>Source</dt>
        <dd>
          {inv.source_function} · {inv.source_table ?? '—'} · {inv.source_operation ?? '—'}
        </dd>
        <dt>Started</dt>
        <dd>{formatTimestamp(inv.created_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(inv.total_duration_ms)}</dd>
        <dt>Detected</dt>
        <dd>
          {inv.events_detected_count ?? 0} of {inv.event_executions.length} events
        </dd>
        <dt>Jobs</dt>
        <dd>
          {inv.total_jobs_run ?? 0} run, {inv.total_jobs_failed ?? 0} failed
        </dd>
      </dl>
    </div>
  );
}

export function ComparePage() {
  const [params] = useSearchParams();
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  const qa = useInvocationDetail(UUID_RE.test(a) ? a : undefined);
  const qb = useInvocationDetail(UUID_RE.test(b) ? b : undefined);
  const va = useInvocationValues(UUID_RE.test(a) ? a : undefined);
  const vb = useInvocationValues(UUID_RE.test(b) ? b : undefined);
  const head = (
    <div className="page-head">
      <h1>Compare invocations</h1>
      <PickIds a={a} b={b} />
    </div>
  );
  if (!UUID_RE.test(a) || !UUID_RE.test(b))
    return (
      <div className="page">
        {head}
        <Empty title="Give two invocation ids.">Pick two rows in the invocations list, or paste two ids above. The URL can be shared.</Empty>
      </div>
    );
  if (qa.isPending || qb.isPending) return <Loading what="the two invocations" />;
  if (qa.isError) return <ErrorBox error={qa.error} what="invocation A" />;
  if (qb.isError) return <ErrorBox error={qb.error} what="invocation B" />;
  if (!qa.data || !qb.data)
    return (
      <div className="page">
        {head}
        <Empty title={`No invocation ${!qa.data ? a : b}.`}>It may have been deleted by retention.</Empty>
      </div>
    );
  const ia = qa.data;
  const ib = qb.data;
  const events = compareEvents(ia.event_executions, ib.event_executions);
  const jobs = compareJobs(
    ia.event_executions.flatMap((e) => e.job_executions),
    ib.event_executions.flatMap((e) => e.job_executions),
  );
  const payloadDenied = va.data?.state === 'denied' || vb.data?.state === 'denied';
  const diff =
    va.data?.state === 'ok' && vb.data?.state === 'ok' ? jsonDiff(va.data.values.source_event_payload, vb.data.values.source_event_payload) : null;
  return (
    <div className="page" data-testid="compare">
      {head}
      <div className="two-col">
        <Side inv={ia} label="A" />
        <Side inv={ib} label="B" />
      </div>
      <section aria-label="Payload differences">
        <h2>Payload differences</h2>
        {payloadDenied ? (
          <p className="muted" data-testid="compare-payload-denied">
            Payloads are hidden from your role.
          </p>
        ) : !diff ? (
          <Loading what="payloads" />
        ) : diff.length === 0 ? (
          <p className="muted">The payloads are identical.</p>
        ) : (
          <table className="table compact" data-testid="payload-diff">
            <thead>
              <tr>
                <th>Path</th>
                <th>A</th>
                <th>B</th>
              </tr>
            </thead>
            <tbody>
              {diff.map((d) => (
                <tr key={d.path}>
                  <td className="mono small">{d.path}</td>
                  <td className="mono small wrap diff-old">{shortJson(d.a)}</td>
                  <td className="mono small wrap diff-new">{shortJson(d.b)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-label="Events">
        <h2>Events ({events.filter((e) => e.differs).length} decided differently)</h2>
        <table className="table compact" data-testid="compare-events">
          <thead>
            <tr>
              <th>Event</th>
              <th>A</th>
              <th>B</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.eventName} className={e.differs ? 'differs' : ''} data-event={e.eventName}>
                <td>
                  <strong>{e.eventName}</strong>
                </td>
                {([
                  [e.a, va.data, ia],
                  [e.b, vb.data, ib],
                ] as const).map(([ev, values], i) => {
                  if (!ev) return <td key={i} className="muted">not checked</td>;
                  const full = (i === 0 ? ia : ib).event_executions.find((x) => x.event_name === e.eventName);
                  const clauses = parseClauses(ev.detection_clauses, clauseValuesOf(values, full?.id));
                  return (
                    <td key={i} className="small wrap">
                      <span data-testid="compare-decision">{ev.detected ? 'detected' : 'not detected'}</span> <StatusBadge status={ev.status} />{' '}
                      {!ev.detected ? <StoppedBy clauses={clauses} rejectedBy={ev.detection_rejected_by} valuesHidden={values?.state === 'denied'} /> : null}
                      {clauses.length ? <ClauseList clauses={clauses} /> : null}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-label="Jobs">
        <h2>Jobs</h2>
        {jobs.length === 0 ? (
          <p className="muted">Neither invocation ran a job.</p>
        ) : (
          <table className="table compact" data-testid="compare-jobs">
            <thead>
              <tr>
                <th>Job</th>
                <th>A</th>
                <th>B</th>
                <th className="num">Duration B − A</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j, i) => (
                <tr key={`${j.jobName}-${i}`} className={j.statusChanged ? 'differs' : ''}>
                  <td>{j.jobName}</td>
                  <td>{j.a ? <><StatusBadge status={j.a.status} /> {formatDuration(j.a.duration_ms)}</> : <span className="muted">did not run</span>}</td>
                  <td>{j.b ? <><StatusBadge status={j.b.status} /> {formatDuration(j.b.duration_ms)}</> : <span className="muted">did not run</span>}</td>
                  <td className="num" data-testid="duration-delta">
                    {formatDelta(j.durationDelta)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
