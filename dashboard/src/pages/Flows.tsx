import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { gqlRequest } from '../graphql/client';
import { RecentInvocations } from '../graphql/queries';
import { Empty, ErrorBox, InvLink, Loading, StatusBadge } from '../components/common';
import { EventDetail, InvocationSummary, JobDetail } from '../components/Details';
import { GraphView } from '../components/GraphView';
import { buildInvocationFlow, type FlowNodeModel } from '../lib/flow';
import { formatDuration, formatTimestamp } from '../lib/format';
import { useRange, useRangeQueryString } from '../lib/hooks';
import { UUID_RE } from '../lib/search';
import { useInvocationDetail } from '../lib/useInvocation';

function FlowPicker() {
  const { key, resolve } = useRange();
  const navigate = useNavigate();
  const qs = useRangeQueryString();
  const [id, setId] = useState('');
  const recent = useQuery({
    queryKey: ['flows', 'recent', key],
    queryFn: async () => {
      const w = resolve();
      return gqlRequest(RecentInvocations, { from: w.from.toISOString(), to: w.to.toISOString(), limit: 25 });
    },
  });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Event flows</h1>
      </div>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (UUID_RE.test(id.trim())) navigate(`/flows/${id.trim()}${qs}`);
        }}
      >
        <input type="text" value={id} onChange={(e) => setId(e.target.value)} placeholder="invocation id (UUID)" aria-label="Invocation id" size={40} />
        <button type="submit" disabled={!UUID_RE.test(id.trim())}>
          Show flow
        </button>
      </form>
      <h2>Recent invocations</h2>
      {recent.isPending ? (
        <Loading what="recent invocations" />
      ) : recent.isError ? (
        <ErrorBox error={recent.error} what="recent invocations" onRetry={() => recent.refetch()} />
      ) : recent.data.invocations.length === 0 ? (
        <Empty title="No invocations in this time range.">Widen the time range or paste an invocation id above.</Empty>
      ) : (
        <table className="table compact" data-testid="flow-picker">
          <thead>
            <tr>
              <th>Started</th>
              <th>Function</th>
              <th>Status</th>
              <th className="num">Duration</th>
              <th className="num">Events</th>
              <th className="num">Jobs</th>
            </tr>
          </thead>
          <tbody>
            {recent.data.invocations.map((r) => (
              <tr key={r.id}>
                <td>
                  <InvLink id={r.id} to="flows">
                    {formatTimestamp(r.created_at)}
                  </InvLink>
                </td>
                <td>{r.source_function}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td className="num">{formatDuration(r.total_duration_ms)}</td>
                <td className="num">{r.events_detected_count ?? 0}</td>
                <td className="num">{r.total_jobs_run ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function FlowsPage() {
  const { id } = useParams();
  if (!id) return <FlowPicker />;
  return <FlowDiagram id={id} />;
}

function FlowDiagram({ id }: { id: string }) {
  const q = useInvocationDetail(id);
  const qs = useRangeQueryString();
  const [expand, setExpand] = useState(false);
  const [selected, setSelected] = useState<FlowNodeModel | null>(null);
  const model = useMemo(() => (q.data ? buildInvocationFlow(q.data, { expandUndetected: expand }) : null), [q.data, expand]);
  if (!UUID_RE.test(id)) return <Empty title="Not an invocation id.">Flow links look like /flows/&lt;invocation uuid&gt;.</Empty>;
  if (q.isPending) return <Loading what="the flow" />;
  if (q.isError) return <ErrorBox error={q.error} what="the flow" onRetry={() => q.refetch()} />;
  const inv = q.data;
  if (!inv || !model) return <Empty title={`No invocation ${id}.`}>It may have been deleted by retention, or the link is wrong.</Empty>;
  const undetectedCount = inv.event_executions.filter((e) => !e.detected).length;

  const onSelect = (n: FlowNodeModel) => {
    if (n.kind === 'undetected') {
      setExpand(true);
      return;
    }
    setSelected(n);
  };
  const ev = selected?.kind === 'event' ? inv.event_executions.find((e) => e.id === selected.refId) : undefined;
  const job = selected?.kind === 'job' ? inv.event_executions.flatMap((e) => e.job_executions).find((j) => j.id === selected.refId) : undefined;

  return (
    <div className="page" data-testid="flow-page">
      <div className="page-head">
        <h1>
          Flow of <span className="mono">{inv.id.slice(0, 8)}</span> · {inv.source_function} <StatusBadge status={inv.status} />
        </h1>
        <span className="muted">
          {formatTimestamp(inv.created_at)} · {formatDuration(inv.total_duration_ms)}
        </span>
        {undetectedCount > 0 ? (
          <label className="toggle">
            <input type="checkbox" checked={expand} onChange={(e) => setExpand(e.target.checked)} /> show {undetectedCount} undetected event
            {undetectedCount > 1 ? 's' : ''}
          </label>
        ) : null}
        <Link to={`/invocations/${inv.id}${qs}`}>invocation details</Link>
      </div>
      <div className="legend small">
        <span className="badge tone-ok">completed</span> <span className="badge tone-fail">failed</span> <span className="badge tone-running">running</span>{' '}
        <span className="badge tone-muted">not detected</span> · click a node for its details
      </div>
      <div className="flow-layout">
        <GraphView model={model} selectedId={selected?.id ?? null} onSelect={onSelect} />
        <aside className="side-panel" data-testid="flow-side-panel">
          {!selected ? (
            <p className="muted">Select a node to see its details.</p>
          ) : selected.kind === 'invocation' ? (
            <InvocationSummary inv={inv} />
          ) : ev ? (
            <EventDetail ev={ev} />
          ) : job ? (
            <JobDetail job={job} />
          ) : selected.refId ? (
            <div>
              <p>
                <strong>{selected.label}</strong> <StatusBadge status={selected.status} />
              </p>
              <p>{selected.sublabel}</p>
              <p>
                <Link to={`/flows/${selected.refId}${qs}`} onClick={() => setSelected(null)}>
                  open its flow
                </Link>{' '}
                · <InvLink id={selected.refId}>details</InvLink>
              </p>
            </div>
          ) : null}
        </aside>
      </div>
    </div>
  );
}
