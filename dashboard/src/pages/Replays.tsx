// Dry-run replays (/replays, /replays/:id): stored payloads run through a detector build without running jobs
// (detector_service --replay, or a user's own detector: README "Dry-run replay"). The report: per event type
// detected before / after, and the invocations whose decision changed with the clause that changed.
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { ClauseList } from '../components/Clauses';
import { Empty, ErrorBox, InvLink, Loading, StatusBadge } from '../components/common';
import { gqlRequest } from '../graphql/client';
import { ReplayReport, ReplayRuns } from '../graphql/queries';
import { parseClauses } from '../lib/detection';
import { formatCount, formatTimestamp } from '../lib/format';
import { UUID_RE } from '../lib/search';

const CHANGED_LIMIT = 500;

function said(v: boolean | null): string {
  return v === null ? 'not checked' : v ? 'detected' : 'not detected';
}

function selectionText(s: unknown): string {
  if (!s || typeof s !== 'object') return '';
  return Object.entries(s)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' · ');
}

function RunList() {
  const q = useQuery({ queryKey: ['replays'], queryFn: () => gqlRequest(ReplayRuns, { limit: 100 }) });
  if (q.isPending) return <Loading what="replays" />;
  if (q.isError) return <ErrorBox error={q.error} what="replays" onRetry={() => q.refetch()} />;
  if (q.data.replay_runs.length === 0)
    return (
      <Empty title="No replay yet.">
        Run <code>detector_service --replay --db-url URL [--from T --to T] [--source-function F] [--correlation-id C]</code>, or
        the same from your own detector (README, “Dry-run replay”).
      </Empty>
    );
  return (
    <table className="table compact" data-testid="replay-runs">
      <thead>
        <tr>
          <th>Started</th>
          <th>Build</th>
          <th>Selection</th>
          <th>Status</th>
          <th className="num">Replayed</th>
          <th className="num">Skipped</th>
          <th className="num">Changed</th>
        </tr>
      </thead>
      <tbody>
        {q.data.replay_runs.map((r) => (
          <tr key={r.id}>
            <td>
              <Link to={`/replays/${r.id}`}>{formatTimestamp(r.created_at)}</Link>
            </td>
            <td>{r.build_label ?? '—'}</td>
            <td className="small">{selectionText(r.selection)}</td>
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td className="num">{formatCount(r.invocations_replayed)}</td>
            <td className="num">{formatCount(r.invocations_skipped)}</td>
            <td className={`num${r.decisions_changed ? ' fail-text' : ''}`}>{formatCount(r.decisions_changed)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RunReport({ id }: { id: string }) {
  const q = useQuery({
    queryKey: ['replay', id],
    queryFn: () => gqlRequest(ReplayReport, { id, limit: CHANGED_LIMIT }),
  });
  if (q.isPending) return <Loading what="the replay report" />;
  if (q.isError) return <ErrorBox error={q.error} what="the replay report" onRetry={() => q.refetch()} />;
  const r = q.data.replay_runs_by_pk;
  if (!r) return <Empty title={`No replay ${id}.`} />;
  return (
    <div data-testid="replay-report">
      <dl className="kv kv-wide">
        <dt>Build</dt>
        <dd>{r.build_label ?? '—'}</dd>
        <dt>Selection</dt>
        <dd>{selectionText(r.selection) || 'everything'}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={r.status} /> {r.error_message ? <span className="fail-text">{r.error_message}</span> : null}
        </dd>
        <dt>Started / finished</dt>
        <dd>
          {formatTimestamp(r.created_at)} / {formatTimestamp(r.finished_at)}
        </dd>
        <dt>Invocations</dt>
        <dd data-testid="replay-totals">
          {formatCount(r.invocations_replayed)} replayed, {formatCount(r.invocations_skipped)} skipped (no stored payload),{' '}
          {formatCount(r.decisions_changed)} decisions changed
        </dd>
      </dl>
      <section aria-label="Per event type">
        <h2>Per event type</h2>
        <table className="table compact" data-testid="replay-events">
          <thead>
            <tr>
              <th>Event</th>
              <th className="num">Checked</th>
              <th className="num">Detected before</th>
              <th className="num">Detected after</th>
              <th className="num">Newly detected</th>
              <th className="num">No longer detected</th>
            </tr>
          </thead>
          <tbody>
            {r.report.map((e) => (
              <tr key={e.event_name} className={Number(e.changed) ? 'differs' : ''}>
                <td>{e.event_name}</td>
                <td className="num">{formatCount(Number(e.checked))}</td>
                <td className="num">{formatCount(Number(e.detected_before))}</td>
                <td className="num">{formatCount(Number(e.detected_after))}</td>
                <td className="num">{formatCount(Number(e.newly_detected))}</td>
                <td className="num">{formatCount(Number(e.no_longer_detected))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-label="Changed decisions">
        <h2>
          Changed decisions {r.decisions.length >= CHANGED_LIMIT ? <span className="muted small">(first {CHANGED_LIMIT})</span> : null}
        </h2>
        {r.decisions.length === 0 ? (
          <p className="muted">No decision changed: this build decides as production did.</p>
        ) : (
          <table className="table compact" data-testid="replay-changed">
            <thead>
              <tr>
                <th>Invocation</th>
                <th>Event</th>
                <th>Before → after</th>
                <th>Clause that changed</th>
                <th>Clauses before</th>
                <th>Clauses after</th>
              </tr>
            </thead>
            <tbody>
              {r.decisions.map((d) => (
                <tr key={d.id}>
                  <td>
                    <InvLink id={d.invocation_id}>{d.source_function}</InvLink>
                    <div className="mono small muted">{formatTimestamp(d.invocation_created_at)}</div>
                  </td>
                  <td>{d.event_name}</td>
                  <td>
                    {said(d.detected_before)} → <strong>{said(d.detected_after)}</strong>
                    {d.error_after ? <div className="fail-text small">{d.error_after}</div> : null}
                  </td>
                  <td data-testid="changed-clause">
                    <strong>{d.changed_clause ?? '—'}</strong>
                  </td>
                  <td className="small">
                    <ClauseList clauses={parseClauses(d.clauses_before)} />
                  </td>
                  <td className="small">
                    <ClauseList clauses={parseClauses(d.clauses_after)} />
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

export function ReplaysPage() {
  const { id } = useParams();
  return (
    <div className="page" data-testid="replays-page">
      <div className="page-head">
        <h1>{id ? 'Replay report' : 'Dry-run replays'}</h1>
        {id ? (
          <Link to="/replays" className="link-button">
            ← all replays
          </Link>
        ) : (
          <span className="muted small">Stored payloads run through another detector build, without running jobs; production rows untouched.</span>
        )}
      </div>
      {id ? UUID_RE.test(id) ? <RunReport id={id} /> : <Empty title="Not a replay id." /> : <RunList />}
    </div>
  );
}
