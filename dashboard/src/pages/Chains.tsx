import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { config } from '../config';
import { gqlRequest } from '../graphql/client';
import { ChainStepChildren, CorrelationChain } from '../graphql/queries';
import { countOf, type ChainInvocation } from '../graphql/types';
import { Empty, ErrorBox, InvLink, Loading, StatusBadge } from '../components/common';
import { GraphView } from '../components/GraphView';
import { buildChainGraph, chainTimeline, statusTone, type FlowNodeModel } from '../lib/flow';
import { formatDuration, formatTimestamp } from '../lib/format';
import { useRangeQueryString } from '../lib/hooks';

const CHAIN_LIMIT = 500;

function ChainForm({ initial }: { initial: string }) {
  const [value, setValue] = useState(initial);
  const navigate = useNavigate();
  const qs = useRangeQueryString();
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) navigate(`/chains/${encodeURIComponent(value.trim())}${qs}`);
      }}
    >
      <input
        type="text"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        placeholder="correlation ID, e.g. user@example.com or system.uuid"
        aria-label="Correlation ID"
        size={50}
      />
      <button type="submit" disabled={!value.trim()}>
        Trace
      </button>
    </form>
  );
}

export function ChainsPage() {
  const { correlationId } = useParams();
  if (!config.showCorrelationChains) {
    return <Empty title="Correlation chains are disabled.">Set REACT_APP_SHOW_CORRELATION_CHAINS=true in dashboard/.env and rebuild.</Empty>;
  }
  return (
    <div className="page">
      <div className="page-head">
        <h1>Correlation chains</h1>
        <ChainForm key={correlationId ?? ''} initial={correlationId ?? ''} />
      </div>
      {correlationId ? (
        <Chain correlationId={correlationId} />
      ) : (
        <Empty title="Enter a correlation ID.">Or click one anywhere in the dashboard: every invocation that carries it, across source functions, is shown as a graph and a timeline.</Empty>
      )}
    </div>
  );
}

/** The selected invocation of a chain: its row, and its detected events and their jobs, read when selected. */
export function ChainStep({ inv, qs }: { inv: ChainInvocation; qs: string }) {
  const q = useQuery({
    queryKey: ['chain-step', inv.id],
    queryFn: () => gqlRequest(ChainStepChildren, { id: inv.id }),
  });
  const row = q.data?.invocations_by_pk;
  return (
    <div data-testid="chain-step">
      <p>
        <strong>{inv.source_function}</strong> <StatusBadge status={inv.status} />
      </p>
      <p className="small">
        {formatTimestamp(inv.created_at)} · {formatDuration(inv.total_duration_ms)} · {inv.source_table ?? '—'} {inv.source_operation ?? ''}
      </p>
      {inv.source_job_execution ? <p className="small">caused by job {inv.source_job_execution.job_name}</p> : null}
      {q.isPending ? (
        <Loading what="its events" />
      ) : q.isError ? (
        <ErrorBox error={q.error} what="its events" onRetry={() => q.refetch()} />
      ) : !row ? (
        <p className="muted small" data-testid="chain-step-events">Its row is no longer stored (deleted by retention since the chain was read).</p>
      ) : (
        <ul className="small" data-testid="chain-step-events">
          {row.event_executions.map((e) => (
            <li key={e.id}>
              {e.event_name}: {e.job_executions.map((j) => `${j.job_name} (${j.status})`).join(', ') || 'no jobs'}
            </li>
          ))}
          {row.event_executions.length === 0 ? <li className="muted">no event detected</li> : null}
        </ul>
      )}
      <p>
        <Link to={`/flows/${inv.id}${qs}`}>open flow</Link> · <InvLink id={inv.id}>details</InvLink>
      </p>
    </div>
  );
}

function Chain({ correlationId }: { correlationId: string }) {
  const qs = useRangeQueryString();
  const q = useQuery({
    queryKey: ['chain', correlationId],
    queryFn: () =>
      gqlRequest(CorrelationChain, { correlationId, limit: CHAIN_LIMIT }),
  });
  const [selected, setSelected] = useState<FlowNodeModel | null>(null);
  const model = useMemo(() => (q.data ? buildChainGraph(q.data.invocations) : null), [q.data]);
  if (q.isPending) return <Loading what="the chain" />;
  if (q.isError) return <ErrorBox error={q.error} what="the chain" onRetry={() => q.refetch()} />;
  const invs = q.data.invocations;
  const total = countOf(q.data.invocations_aggregate);
  if (invs.length === 0 || !model) return <Empty title={`No invocation carries the correlation ID “${correlationId}”.`}>Check the ID (it is matched exactly), or the data may have been deleted by retention.</Empty>;
  const fns = new Set(invs.map((i) => i.source_function));
  const links = model.edges.length;
  const tl = chainTimeline(invs);
  const sel = selected ? invs.find((i) => i.id === selected.refId) : undefined;
  return (
    <div data-testid="chain">
      <p>
        <strong data-testid="chain-count">{total}</strong> invocation{total === 1 ? '' : 's'} across {fns.size} source function{fns.size === 1 ? '' : 's'},{' '}
        {links} causal link{links === 1 ? '' : 's'}, spanning {formatDuration(tl.span)}.
        {total > invs.length ? <span className="fail-text"> Showing the first {invs.length}.</span> : null}
      </p>
      <h2>Graph</h2>
      <div className="flow-layout">
        <GraphView model={model} selectedId={selected?.id ?? null} onSelect={setSelected} height={420} />
        <aside className="side-panel">
          {sel ? (
            <ChainStep inv={sel} qs={qs} />
          ) : selected?.kind === 'external' && selected.refId ? (
            <p>
              {selected.label}: {selected.sublabel}. <InvLink id={selected.refId}>open that invocation</InvLink>
            </p>
          ) : (
            <p className="muted">Select an invocation.</p>
          )}
        </aside>
      </div>
      <h2>Timeline</h2>
      <div className="timeline" data-testid="chain-timeline">
        {tl.rows.map(({ inv, offset, duration }) => (
          <div className="timeline-row" key={inv.id}>
            <div className="timeline-label">
              <InvLink id={inv.id} to="flows">
                {inv.source_function}
              </InvLink>{' '}
              <span className="muted small">+{formatDuration(offset)}</span>
            </div>
            <div className="timeline-track">
              <div
                className={`timeline-bar tone-${statusTone(inv.status)}`}
                style={{ left: `${(offset / tl.span) * 100}%`, width: `max(3px, ${(duration / tl.span) * 100}%)` }}
                title={`${inv.source_function}: ${formatTimestamp(inv.created_at)}, ${formatDuration(inv.total_duration_ms)}`}
              />
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}
