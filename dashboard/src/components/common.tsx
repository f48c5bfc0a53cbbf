import { useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { ApiError } from '../graphql/client';
import { config } from '../config';
import { statusTone } from '../lib/flow';
import { prettyJson } from '../lib/format';
import { useRangeQueryString } from '../lib/hooks';
import type { Trend } from '../lib/trend';
import { formatTrend } from '../lib/trend';

export function StatusBadge({ status }: { status: string | null | undefined }) {
  return <span className={`badge tone-${statusTone(status)}`} data-status={status ?? ''}>{status ?? 'unknown'}</span>;
}

export function Loading({ what = 'data' }: { what?: string }) {
  return (
    <div className="state state-loading" role="status">
      <span className="spinner" aria-hidden /> Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children ? <div className="hint">{children}</div> : null}
    </div>
  );
}

/** An error that says what to do about it. */
export function ErrorBox({ error, what = 'data', onRetry }: { error: unknown; what?: string; onRetry?: () => void }) {
  const e = error instanceof ApiError ? error : null;
  let title = `Could not load ${what}`;
  let advice: ReactNode = 'Retry; if it persists, check the console server log.';
  if (e?.kind === 'unreachable') {
    title = 'The GraphQL API is unreachable';
    advice = (
      <>
        Check that the console server (or Hasura) is running and that <code>REACT_APP_GRAPHQL_ENDPOINT</code> points to
        it (now <code>{config.graphqlEndpoint}</code>).
      </>
    );
  } else if (e?.kind === 'permission') {
    title = 'Permission denied';
    advice = (
      <>
        The API role used by this page may not read this. Served by the console server, the browser is the read-only
        role <code>observer</code>: grant it in the Hasura metadata, or ask an administrator.
      </>
    );
  } else if (e && /statement timeout|canceling statement/i.test(e.message)) {
    title = 'The query took too long';
    advice = 'The database cancelled it at the server\'s statement timeout: narrow the time range or add filters.';
  } else if (e?.kind === 'database') {
    title = 'The database behind the API is not answering';
    advice = 'The API is up but PostgreSQL is not reachable or returned an error: check the database and the server log.';
  }
  return (
    <div className="state state-error" role="alert">
      <strong>{title}</strong>
      <div className="hint">{advice}</div>
      <details>
        <summary>Details</summary>
        <pre>{error instanceof Error ? error.message : String(error)}</pre>
      </details>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function TrendBadge({ trend, goodWhen }: { trend: Trend | null; goodWhen: 'up' | 'down' | 'none' }) {
  let cls = 'trend';
  if (trend && trend.direction !== 'flat' && goodWhen !== 'none') cls += trend.direction === goodWhen ? ' trend-good' : ' trend-bad';
  return (
    <span className={cls} title="compared with the previous period of the same length">
      {trend ? (trend.direction === 'up' ? '▲ ' : trend.direction === 'down' ? '▼ ' : '') : ''}
      {formatTrend(trend)}
    </span>
  );
}

export function JsonBlock({ value, label }: { value: unknown; label?: string }) {
  if (value === null || value === undefined) return <span className="muted">none</span>;
  return (
    <pre className="json" aria-label={label}>
      {prettyJson(value)}
    </pre>
  );
}

export function Collapsible({ title, children, defaultOpen = false }: { title: ReactNode; children: ReactNode; defaultOpen?: boolean }) {
  const [open, setOpen] = useState(defaultOpen);
  return (
    <div className="collapsible">
      <button type="button" className="link-button" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? '▾' : '▸'} {title}
      </button>
      {open ? <div className="collapsible-body">{children}</div> : null}
    </div>
  );
}

export function InvLink({ id, children, to = 'invocations' }: { id: string; children?: ReactNode; to?: 'invocations' | 'flows' }) {
  const qs = useRangeQueryString();
  return (
    <Link to={`/${to}/${id}${qs}`} className="mono">
      {children ?? id.slice(0, 8)}
    </Link>
  );
}

export function CorrLink({ id }: { id: string | null | undefined }) {
  const qs = useRangeQueryString();
  if (!id) return <span className="muted">—</span>;
  if (!config.showCorrelationChains) return <span className="mono">{id}</span>;
  return (
    <Link to={`/chains/${encodeURIComponent(id)}${qs}`} className="mono" title="show the correlation chain">
      {id}
    </Link>
  );
}
