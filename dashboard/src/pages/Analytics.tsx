import { useState } from 'react';
import { useQueries, useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { gqlRequest } from '../graphql/client';
import { CorrelationCoverage, CountInvocations, DashboardStatsRange, EventNameStats, EventNames, FailingJobNames, JobNameStats, SlowestJobs } from '../graphql/queries';
import { countOf, type AggregateCount } from '../graphql/types';
import { Empty, ErrorBox, InvLink, Loading, StatusBadge } from '../components/common';
import { formatCount, formatDuration, formatPercent, formatTimestamp, num } from '../lib/format';
import { useRange } from '../lib/hooks';
import { aggregateByHour, fillHours, sortNullsLast, type StatsRow } from '../lib/stats';
import { describeRange, floorHour, type TimeWindow } from '../lib/time';

const NAME_LIMIT = 40;

function hourLabel(iso: string): string {
  const d = new Date(iso);
  return `${d.getMonth() + 1}/${d.getDate()} ${String(d.getHours()).padStart(2, '0')}h`;
}

function windowVars(w: TimeWindow) {
  return { from: w.from.toISOString(), to: w.to.toISOString() };
}

export function AnalyticsPage() {
  const { spec } = useRange();
  return (
    <div className="page">
      <div className="page-head">
        <h1>Analytics</h1>
        <span className="muted">{describeRange(spec)}</span>
      </div>
      <TimeSeries />
      <div className="two-col">
        <SlowestJobsPanel />
        <FailingJobsPanel />
      </div>
      <div className="two-col">
        <DetectionRatePanel />
        <CoveragePanel />
      </div>
    </div>
  );
}

function TimeSeries() {
  const { key, resolve } = useRange();
  const [fn, setFn] = useState('');
  const q = useQuery({
    queryKey: ['analytics', 'stats', key],
    queryFn: async () => {
      const w = resolve();
      const d = await gqlRequest<{ dashboard_stats: StatsRow[] }>(DashboardStatsRange, { from: floorHour(w.from).toISOString(), to: w.to.toISOString() });
      return { window: w, rows: d.dashboard_stats };
    },
  });
  if (q.isPending) return <Loading what="hourly statistics" />;
  if (q.isError) return <ErrorBox error={q.error} what="hourly statistics (dashboard_stats)" onRetry={() => q.refetch()} />;
  const fns = [...new Set(q.data.rows.map((r) => r.source_function))].sort();
  const points = fillHours(aggregateByHour(q.data.rows, fn || undefined), q.data.window.from, q.data.window.to).map((p) => ({
    ...p,
    label: hourLabel(p.hour),
    avg: p.avgDuration === null ? null : Math.round(p.avgDuration),
  }));
  const total = points.reduce((a, p) => a + p.total, 0);
  return (
    <section aria-label="Time series">
      <h2>
        Hourly trends{' '}
        <select aria-label="Source function" value={fn} onChange={(e) => setFn(e.target.value)}>
          <option value="">all source functions</option>
          {fns.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>{' '}
        <span className="muted small" data-testid="series-total">
          {formatCount(total)} invocations
        </span>
      </h2>
      {q.data.rows.length === 0 ? (
        <Empty title="No hourly statistics for this range.">
          dashboard_stats is a materialized view: it fills when <code>refresh_dashboard_stats()</code> runs, or widen the time range.
        </Empty>
      ) : (
        <div className="charts">
          <div className="chart" data-testid="chart-invocations">
            <h3>Invocations per hour: success vs failure</h3>
            <ResponsiveContainer width="100%" height={220}>
              <BarChart data={points}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="label" fontSize={11} minTickGap={20} />
                <YAxis allowDecimals={false} fontSize={11} />
                <Tooltip />
                <Legend />
                <Bar dataKey="successful" name="successful" stackId="a" fill="#16a34a" isAnimationActive={false} />
                <Bar dataKey="failed" name="failed" stackId="a" fill="#dc2626" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
          <div className="chart" data-testid="chart-duration">
            <h3>Duration per hour (ms)</h3>
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={points}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="label" fontSize={11} minTickGap={20} />
                <YAxis fontSize={11} />
                <Tooltip />
                <Legend />
                <Line type="monotone" dataKey="avg" name="average" stroke="#2563eb" dot={false} connectNulls={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="p95Duration" name={fn ? 'p95' : 'p95 (highest function)'} stroke="#f59e0b" dot={false} connectNulls={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </div>
      )}
    </section>
  );
}

interface JobRow {
  id: string;
  created_at: string;
  job_name: string;
  status: string;
  duration_ms: number | null;
  invocation_id: string;
}

function SlowestJobsPanel() {
  const { key, resolve } = useRange();
  const q = useQuery({
    queryKey: ['analytics', 'slowest', key],
    queryFn: () => gqlRequest<{ job_executions: JobRow[] }>(SlowestJobs, { ...windowVars(resolve()), limit: 10 }),
  });
  return (
    <section aria-label="Slowest jobs">
      <h2>Slowest jobs</h2>
      {q.isPending ? (
        <Loading what="slowest jobs" />
      ) : q.isError ? (
        <ErrorBox error={q.error} what="slowest jobs" onRetry={() => q.refetch()} />
      ) : q.data.job_executions.length === 0 ? (
        <Empty title="No finished job in this range." />
      ) : (
        <table className="table compact" data-testid="slowest-jobs">
          <thead>
            <tr>
              <th>Job</th>
              <th className="num">Duration</th>
              <th>Status</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {sortNullsLast(q.data.job_executions, (j) => j.duration_ms, 'desc').map((j) => (
              <tr key={j.id}>
                <td>{j.job_name}</td>
                <td className="num">{formatDuration(j.duration_ms)}</td>
                <td>
                  <StatusBadge status={j.status} />
                </td>
                <td>
                  <InvLink id={j.invocation_id}>{formatTimestamp(j.created_at)}</InvLink>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function FailingJobsPanel() {
  const { key, resolve } = useRange();
  const names = useQuery({
    queryKey: ['analytics', 'failing-names', key],
    queryFn: async () => {
      const w = resolve();
      const d = await gqlRequest<{ job_executions: { job_name: string }[] }>(FailingJobNames, { ...windowVars(w), limit: NAME_LIMIT });
      return { window: w, names: d.job_executions.map((j) => j.job_name) };
    },
  });
  const stats = useQueries({
    queries: (names.data?.names ?? []).map((name) => ({
      queryKey: ['analytics', 'job-stats', key, name, names.data!.window.to.toISOString()],
      queryFn: () =>
        gqlRequest<{ total: { aggregate: { count: number; avg: { duration_ms: unknown } | null } }; failed: AggregateCount }>(JobNameStats, {
          name,
          ...windowVars(names.data!.window),
        }),
    })),
  });
  const rows = (names.data?.names ?? [])
    .map((name, i) => {
      const d = stats[i]?.data;
      const total = d?.total.aggregate.count ?? null;
      const failed = d ? countOf(d.failed) : null;
      return { name, total, failed, rate: total && failed !== null ? (failed / total) * 100 : null, avg: num(d?.total.aggregate.avg?.duration_ms) };
    })
    .sort((a, b) => (b.failed ?? -1) - (a.failed ?? -1) || (b.rate ?? -1) - (a.rate ?? -1));
  return (
    <section aria-label="Most failing jobs">
      <h2>Most failing jobs</h2>
      {names.isPending ? (
        <Loading what="failing jobs" />
      ) : names.isError ? (
        <ErrorBox error={names.error} what="failing jobs" onRetry={() => names.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="No job failed in this range." />
      ) : (
        <table className="table compact" data-testid="failing-jobs">
          <thead>
            <tr>
              <th>Job</th>
              <th className="num">Failed</th>
              <th className="num">Runs</th>
              <th className="num">Failure rate</th>
              <th className="num">Avg duration</th>
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, 10).map((r) => (
              <tr key={r.name}>
                <td>{r.name}</td>
                <td className="num fail-text">{r.failed === null ? '…' : formatCount(r.failed)}</td>
                <td className="num">{r.total === null ? '…' : formatCount(r.total)}</td>
                <td className="num">{formatPercent(r.rate)}</td>
                <td className="num">{formatDuration(r.avg)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DetectionRatePanel() {
  const { key, resolve } = useRange();
  const names = useQuery({
    queryKey: ['analytics', 'event-names', key],
    queryFn: async () => {
      const w = resolve();
      const d = await gqlRequest<{ event_executions: { event_name: string }[] }>(EventNames, { ...windowVars(w), limit: NAME_LIMIT });
      return { window: w, names: d.event_executions.map((e) => e.event_name) };
    },
  });
  const stats = useQueries({
    queries: (names.data?.names ?? []).map((name) => ({
      queryKey: ['analytics', 'event-stats', key, name, names.data!.window.to.toISOString()],
      queryFn: () => gqlRequest<{ checked: AggregateCount; detected: AggregateCount; failed: AggregateCount }>(EventNameStats, { name, ...windowVars(names.data!.window) }),
    })),
  });
  const rows = (names.data?.names ?? []).map((name, i) => {
    const d = stats[i]?.data;
    const checked = d ? countOf(d.checked) : null;
    const detected = d ? countOf(d.detected) : null;
    return { name, checked, detected, failed: d ? countOf(d.failed) : null, rate: checked && detected !== null ? (detected / checked) * 100 : null };
  });
  return (
    <section aria-label="Detection rate per event">
      <h2>Detection rate per event</h2>
      {names.isPending ? (
        <Loading what="events" />
      ) : names.isError ? (
        <ErrorBox error={names.error} what="events" onRetry={() => names.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="No event module was checked in this range." />
      ) : (
        <table className="table compact" data-testid="detection-rate">
          <thead>
            <tr>
              <th>Event</th>
              <th className="num">Checked</th>
              <th className="num">Detected</th>
              <th className="num">Rate</th>
              <th className="num">Failed</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.name}>
                <td>{r.name}</td>
                <td className="num">{r.checked === null ? '…' : formatCount(r.checked)}</td>
                <td className="num">{r.detected === null ? '…' : formatCount(r.detected)}</td>
                <td className="num">
                  <div className="meter" title={formatPercent(r.rate)}>
                    <div className="meter-fill" style={{ width: `${r.rate ?? 0}%` }} />
                    <span>{formatPercent(r.rate)}</span>
                  </div>
                </td>
                <td className={`num ${r.failed ? 'fail-text' : ''}`}>{r.failed === null ? '…' : formatCount(r.failed)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CoveragePanel() {
  const { key, resolve } = useRange();
  const q = useQuery({
    queryKey: ['analytics', 'coverage', key],
    queryFn: async () => {
      const w = resolve();
      const d = await gqlRequest<{ total: AggregateCount; covered: AggregateCount; chained: AggregateCount; sources: { correlation_source: string | null }[] }>(
        CorrelationCoverage,
        windowVars(w),
      );
      return { window: w, ...d };
    },
  });
  const sources = (q.data?.sources ?? []).map((s) => s.correlation_source).filter((s): s is string => !!s);
  const perSource = useQueries({
    queries: sources.map((s) => ({
      queryKey: ['analytics', 'coverage-source', key, s, q.data!.window.to.toISOString()],
      queryFn: () =>
        gqlRequest<{ invocations_aggregate: AggregateCount }>(CountInvocations, {
          where: { _and: [{ created_at: { _gte: q.data!.window.from.toISOString(), _lt: q.data!.window.to.toISOString() } }, { correlation_source: { _eq: s } }] },
        }),
    })),
  });
  const total = q.data ? countOf(q.data.total) : 0;
  const covered = q.data ? countOf(q.data.covered) : 0;
  const pct = total > 0 ? (covered / total) * 100 : null;
  return (
    <section aria-label="Correlation coverage">
      <h2>Correlation coverage</h2>
      {q.isPending ? (
        <Loading what="coverage" />
      ) : q.isError ? (
        <ErrorBox error={q.error} what="coverage" onRetry={() => q.refetch()} />
      ) : total === 0 ? (
        <Empty title="No invocations in this range." />
      ) : (
        <div data-testid="coverage">
          <div className="kpi inline">
            <div className="kpi-value" data-testid="coverage-percent">
              {formatPercent(pct)}
            </div>
            <div className="muted small">
              {formatCount(covered)} of {formatCount(total)} invocations had a correlation ID found (source ≠ generated); {formatCount(countOf(q.data.chained))} were caused by a job
              (source_job_id set).
            </div>
          </div>
          <table className="table compact">
            <thead>
              <tr>
                <th>Correlation source</th>
                <th className="num">Invocations</th>
                <th className="num">Share</th>
              </tr>
            </thead>
            <tbody>
              {sources.map((s, i) => {
                const n = perSource[i]?.data ? countOf(perSource[i].data!.invocations_aggregate) : null;
                return (
                  <tr key={s}>
                    <td>
                      {s}
                      {s === 'generated' ? <span className="muted small"> (not covered)</span> : null}
                    </td>
                    <td className="num">{n === null ? '…' : formatCount(n)}</td>
                    <td className="num">{n === null ? '' : formatPercent((n / total) * 100)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
