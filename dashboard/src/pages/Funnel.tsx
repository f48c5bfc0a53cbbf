// Detection funnel per event type over the time range (/funnel?event=...): invocations checked -> each clause
// passed -> detected -> jobs succeeded, from the hourly rollups (event_rollup, detection_clause_rollup: cost
// grows with hours and clauses, not rows). The clause that rejects most is highlighted; clicking a step lists the
// invocations that stopped there (raw rows, newest first).
import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router-dom';
import { ClauseList } from '../components/Clauses';
import { Empty, ErrorBox, InvLink, Loading, StatusBadge } from '../components/common';
import { gqlRequest } from '../graphql/client';
import { DetectionFunnel, DetectionRates, FunnelStoppedAt } from '../graphql/queries';
import { buildFunnel, parseClauses, stoppedAtWhere, type FunnelStep } from '../lib/detection';
import { formatCount, formatPercent, formatTimestamp } from '../lib/format';
import { useRange } from '../lib/hooks';
import { hourWindow } from '../lib/rollups';
import { describeRange } from '../lib/time';

const n = (v: unknown) => Number(v ?? 0);
const LIST_LIMIT = 50;

function stepKey(s: FunnelStep): string {
  return s.kind === 'clause' ? `clause:${s.clauseIndex}:${s.clauseName}` : s.kind;
}

function StoppedList({ step, eventName, from, to }: { step: FunnelStep; eventName: string; from: string; to: string }) {
  const where = stoppedAtWhere(step, eventName, from, to);
  const q = useQuery({
    queryKey: ['funnel-stopped', where],
    queryFn: () => gqlRequest(FunnelStoppedAt, { where, limit: LIST_LIMIT }),
  });
  const title =
    step.kind === 'clause' ? `Stopped by “${step.clauseName}”` : step.kind === 'checked' ? 'Not detected before any clause' : step.kind === 'detected' ? 'Detected, but jobs did not all succeed' : 'Jobs succeeded';
  return (
    <section aria-label="Invocations at this step" data-testid="funnel-stopped">
      <h2>
        {title} <span className="muted small">(newest {LIST_LIMIT}; rows in the range)</span>
      </h2>
      {q.isPending ? (
        <Loading what="invocations" />
      ) : q.isError ? (
        <ErrorBox error={q.error} what="invocations" onRetry={() => q.refetch()} />
      ) : q.data.event_executions.length === 0 ? (
        <Empty title="No invocation stopped here in this range." />
      ) : (
        <table className="table compact" data-testid="funnel-stopped-table">
          <thead>
            <tr>
              <th>Started</th>
              <th>Invocation</th>
              <th>Status</th>
              <th>Clauses</th>
              <th>Changed columns</th>
            </tr>
          </thead>
          <tbody>
            {q.data.event_executions.map((r) => (
              <tr key={r.id}>
                <td className="mono small">{formatTimestamp(r.created_at)}</td>
                <td>
                  <InvLink id={r.invocation_id}>{r.invocation?.source_function ?? r.invocation_id.slice(0, 8)}</InvLink>{' '}
                  <span className="muted small">{r.invocation?.source_operation ?? ''}</span>
                </td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td className="small">
                  <ClauseList clauses={parseClauses(r.detection_clauses)} />
                  {r.detection_error ? <div className="fail-text small">{r.detection_error}</div> : null}
                </td>
                <td className="mono small">{Array.isArray(r.invocation?.changed_columns) ? r.invocation.changed_columns.join(', ') : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function FunnelPage() {
  const [params, setParams] = useSearchParams();
  const { spec, key, resolve } = useRange();
  const hw = hourWindow(resolve());
  const vars = { from: hw.from.toISOString(), to: hw.to.toISOString() };
  const eventName = params.get('event') ?? '';
  const stepParam = params.get('step') ?? '';
  const names = useQuery({
    queryKey: ['funnel-names', key],
    queryFn: () =>
      gqlRequest(DetectionRates, {
        ...vars,
        limit: 200,
      }),
  });
  const funnel = useQuery({
    queryKey: ['funnel', key, eventName],
    enabled: !!eventName,
    queryFn: () => gqlRequest(DetectionFunnel, { ...vars, eventName }),
  });
  const set = (k: string, v: string | null) =>
    setParams((p) => {
      const next = new URLSearchParams(p);
      if (v) next.set(k, v);
      else next.delete(k);
      if (k === 'event') next.delete('step');
      return next;
    });
  const steps = funnel.data
    ? buildFunnel(
        {
          checked: n(funnel.data.events.aggregate?.sum?.checked),
          detected: n(funnel.data.events.aggregate?.sum?.detected),
          completed: n(funnel.data.events.aggregate?.sum?.completed),
          detection_failed: n(funnel.data.events.aggregate?.sum?.detection_failed),
        },
        funnel.data.clauses.map((c) => ({
          clause_index: c.clause_index ?? 0,
          clause_name: c.clause_name ?? '',
          evaluated: n(c.stats.aggregate?.sum?.evaluated),
          passed: n(c.stats.aggregate?.sum?.passed),
          failed: n(c.stats.aggregate?.sum?.failed),
          threw: n(c.stats.aggregate?.sum?.threw),
        })),
      )
    : [];
  const checked = steps[0]?.count ?? 0;
  const selected = steps.find((s) => stepKey(s) === stepParam) ?? null;
  return (
    <div className="page" data-testid="funnel-page">
      <div className="page-head">
        <h1>Detection funnel</h1>
        <span className="muted">{describeRange(spec)}</span>
        <span className="muted small">From the hourly rollups, whole UTC hours. Click a step for the invocations that stopped there.</span>
      </div>
      <label className="filter">
        <span>Event type</span>
        <select aria-label="Event type" value={eventName} onChange={(e) => set('event', e.target.value || null)}>
          <option value="">choose…</option>
          {(names.data?.rollup_event_names ?? []).map((r) => (
            <option key={r.event_name ?? ''} value={r.event_name ?? ''}>
              {r.event_name} ({formatCount(n(r.stats.aggregate?.sum?.checked))} checked)
            </option>
          ))}
        </select>
      </label>
      {!eventName ? (
        <Empty title="Choose an event type.">Each event type has its own clauses (EVENTSCOPE_DETECT).</Empty>
      ) : funnel.isPending ? (
        <Loading what="the funnel" />
      ) : funnel.isError ? (
        <ErrorBox error={funnel.error} what="the funnel" onRetry={() => funnel.refetch()} />
      ) : checked === 0 ? (
        <Empty title={`No ${eventName} checked in this range.`} />
      ) : (
        <>
          <ol className="funnel" data-testid="funnel">
            {steps.map((s) => {
              const k = stepKey(s);
              return (
                <li
                  key={k}
                  className={`funnel-step kind-${s.kind}${s.topRejecting ? ' top-rejecting' : ''}${k === stepParam ? ' selected' : ''}`}
                  data-testid="funnel-step"
                  data-step={k}
                  data-count={s.count}
                  data-stopped={s.stopped}
                >
                  <button type="button" className="funnel-button" onClick={() => set('step', k === stepParam ? null : k)} aria-pressed={k === stepParam}>
                    <span className="funnel-bar" style={{ width: `${Math.max(2, (s.count / checked) * 100)}%` }} />
                    <span className="funnel-label">
                      {s.kind === 'clause' ? (
                        <>
                          <span className="muted small">clause {s.clauseIndex}</span> {s.label} <span className="muted small">passed</span>
                        </>
                      ) : (
                        s.label
                      )}
                    </span>
                    <span className="funnel-count" data-testid="funnel-count">
                      {formatCount(s.count)}
                    </span>
                    <span className="funnel-pct muted small">{formatPercent((s.count / checked) * 100)}</span>
                    <span className={`funnel-stopped small${s.stopped ? ' fail-text' : ' muted'}`} data-testid="funnel-stopped-count">
                      {s.kind === 'jobs' ? '' : `${formatCount(s.stopped)} stopped here`}
                      {s.topRejecting ? <strong className="top-badge"> rejects most</strong> : null}
                    </span>
                  </button>
                </li>
              );
            })}
          </ol>
          {selected ? <StoppedList step={selected} eventName={eventName} from={vars.from} to={vars.to} /> : null}
        </>
      )}
    </div>
  );
}
