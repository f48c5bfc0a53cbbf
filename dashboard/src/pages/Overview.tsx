import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Line, LineChart, ResponsiveContainer } from 'recharts';
import { config } from '../config';
import { gqlRequest } from '../graphql/client';
import { DashboardStatsRange, DurationPercentiles, OverviewKpis, RecentInvocations } from '../graphql/queries';
import { countOf, type AggregateCount, type InvocationRow } from '../graphql/types';
import { CorrLink, Empty, ErrorBox, InvLink, Loading, StatusBadge, TrendBadge } from '../components/common';
import { formatAgo, formatCount, formatDuration, formatPercent, formatRate, formatTimestamp } from '../lib/format';
import { useNow, useRange } from '../lib/hooks';
import { aggregateByHour, fillHours, totalsByFunction, type StatsRow } from '../lib/stats';
import { describeRange, floorHour, previousWindow, windowHours, type TimeWindow } from '../lib/time';
import { percentileOffsetDesc, pointTrend, relativeTrend, successRate } from '../lib/trend';

export const POLL_CHOICES = [5_000, 10_000, 30_000, 60_000, 300_000];

interface KpiPeriod {
  total: number;
  completed: number;
  failed: number;
  successRate: number | null;
  p95: number | null;
  throughput: number;
}

export interface KpiResult {
  window: TimeWindow;
  current: KpiPeriod;
  previous: KpiPeriod;
}

type KpiData = Record<
  'current_total' | 'current_completed' | 'current_failed' | 'current_timed' | 'previous_total' | 'previous_completed' | 'previous_failed' | 'previous_timed',
  AggregateCount
>;

/** Two round trips: counts of both periods, then the exact p95 row of each (by offset). */
export async function fetchKpis(window: TimeWindow): Promise<KpiResult> {
  const prev = previousWindow(window);
  const vars = { from: window.from.toISOString(), to: window.to.toISOString(), prevFrom: prev.from.toISOString() };
  const k = await gqlRequest<KpiData>(OverviewKpis, vars);
  const curOff = percentileOffsetDesc(countOf(k.current_timed));
  const prevOff = percentileOffsetDesc(countOf(k.previous_timed));
  let p95cur: number | null = null;
  let p95prev: number | null = null;
  if (curOff !== null || prevOff !== null) {
    const p = await gqlRequest<{ current: { total_duration_ms: number }[]; previous: { total_duration_ms: number }[] }>(DurationPercentiles, {
      ...vars,
      currentOffset: curOff ?? 0,
      previousOffset: prevOff ?? 0,
    });
    p95cur = curOff !== null ? (p.current[0]?.total_duration_ms ?? null) : null;
    p95prev = prevOff !== null ? (p.previous[0]?.total_duration_ms ?? null) : null;
  }
  const hours = windowHours(window);
  const period = (t: AggregateCount, c: AggregateCount, f: AggregateCount, p95: number | null): KpiPeriod => ({
    total: countOf(t),
    completed: countOf(c),
    failed: countOf(f),
    successRate: successRate(countOf(c), countOf(f)),
    p95,
    throughput: hours > 0 ? countOf(t) / hours : 0,
  });
  return {
    window,
    current: period(k.current_total, k.current_completed, k.current_failed, p95cur),
    previous: period(k.previous_total, k.previous_completed, k.previous_failed, p95prev),
  };
}

function Kpi({ label, value, trend, sub, testId }: { label: string; value: string; trend: React.ReactNode; sub?: string; testId: string }) {
  return (
    <div className="kpi" data-testid={testId}>
      <div className="kpi-label">{label}</div>
      <div className="kpi-value">{value}</div>
      <div className="kpi-trend">{trend}</div>
      {sub ? <div className="kpi-sub muted small">{sub}</div> : null}
    </div>
  );
}

export function OverviewPage() {
  const { spec, key, resolve } = useRange();
  const defaultPoll = config.overviewPollingMs;
  const [interval, setIntervalMs] = useState<number>(defaultPoll > 0 ? defaultPoll : 30_000);
  const [paused, setPaused] = useState<boolean>(defaultPoll <= 0);
  const refetchInterval = paused || spec.kind === 'absolute' ? false : interval;
  const now = useNow(5000);

  const kpis = useQuery({ queryKey: ['overview', 'kpis', key], queryFn: () => fetchKpis(resolve()), refetchInterval });
  const recent = useQuery({
    queryKey: ['overview', 'recent', key],
    queryFn: async () => {
      const w = resolve();
      const d = await gqlRequest<{ invocations: InvocationRow[] }>(RecentInvocations, { from: w.from.toISOString(), to: w.to.toISOString(), limit: 15 });
      return { window: w, rows: d.invocations };
    },
    refetchInterval,
  });
  const stats = useQuery({
    queryKey: ['overview', 'stats', key],
    queryFn: async () => {
      const w = resolve();
      const prev = previousWindow(w);
      const d = await gqlRequest<{ dashboard_stats: StatsRow[] }>(DashboardStatsRange, { from: floorHour(prev.from).toISOString(), to: w.to.toISOString() });
      return { window: w, rows: d.dashboard_stats };
    },
    refetchInterval,
  });

  const updatedAt = Math.max(kpis.dataUpdatedAt, recent.dataUpdatedAt);
  const c = kpis.data?.current;
  const p = kpis.data?.previous;

  return (
    <div className="page">
      <div className="page-head">
        <h1>Overview</h1>
        <span className="muted">{describeRange(spec)}</span>
        <div className="poll-controls">
          <label>
            Refresh every{' '}
            <select aria-label="Refresh interval" value={interval} onChange={(e) => setIntervalMs(Number(e.target.value))}>
              {[...new Set([...POLL_CHOICES, interval])].sort((a, b) => a - b).map((ms) => (
                <option key={ms} value={ms}>
                  {ms < 60_000 ? `${ms / 1000} s` : `${ms / 60_000} min`}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => setPaused(!paused)} aria-pressed={paused}>
            {paused ? '▶ Resume' : '❚❚ Pause'}
          </button>
          <span className="muted small" data-testid="updated-at">
            {spec.kind === 'absolute' ? 'fixed range: no polling' : paused ? 'paused' : 'live'}
            {updatedAt ? ` · updated ${formatAgo(new Date(updatedAt).toISOString(), now)}` : ''}
          </span>
        </div>
      </div>

      <section aria-label="System health">
        <h2>System health</h2>
        {kpis.isPending ? (
          <Loading what="health figures" />
        ) : kpis.isError ? (
          <ErrorBox error={kpis.error} what="health figures" onRetry={() => kpis.refetch()} />
        ) : c && p ? (
          <div className="kpis">
            <Kpi
              testId="kpi-success-rate"
              label="Success rate"
              value={formatPercent(c.successRate)}
              trend={<TrendBadge trend={pointTrend(c.successRate, p.successRate)} goodWhen="up" />}
              sub={`${formatCount(c.completed)} completed / ${formatCount(c.completed + c.failed)} finished`}
            />
            <Kpi
              testId="kpi-failures"
              label="Failures"
              value={formatCount(c.failed)}
              trend={<TrendBadge trend={relativeTrend(c.failed, p.failed)} goodWhen="down" />}
              sub={`previous period: ${formatCount(p.failed)}`}
            />
            <Kpi
              testId="kpi-p95"
              label="p95 duration"
              value={formatDuration(c.p95)}
              trend={<TrendBadge trend={relativeTrend(c.p95, p.p95)} goodWhen="down" />}
              sub={`previous period: ${formatDuration(p.p95)}`}
            />
            <Kpi
              testId="kpi-throughput"
              label="Throughput"
              value={formatRate(c.throughput)}
              trend={<TrendBadge trend={relativeTrend(c.throughput, p.throughput)} goodWhen="none" />}
              sub={`${formatCount(c.total)} invocations`}
            />
          </div>
        ) : null}
      </section>

      <div>
        <section aria-label="Recent activity">
          <h2>Recent activity</h2>
          {recent.isPending ? (
            <Loading what="recent invocations" />
          ) : recent.isError ? (
            <ErrorBox error={recent.error} what="recent invocations" onRetry={() => recent.refetch()} />
          ) : recent.data.rows.length === 0 ? (
            <Empty title="No invocations in this time range yet.">
              Run the detector (or widen the time range) — invocations appear here as soon as they are written.
            </Empty>
          ) : (
            <table className="table compact" data-testid="recent-table">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Function</th>
                  <th>Status</th>
                  <th>Duration</th>
                  <th>Jobs</th>
                  <th>Correlation ID</th>
                </tr>
              </thead>
              <tbody>
                {recent.data.rows.map((r) => (
                  <tr key={r.id}>
                    <td title={formatTimestamp(r.created_at)}>
                      <InvLink id={r.id}>{formatAgo(r.created_at, now)}</InvLink>
                    </td>
                    <td>{r.source_function}</td>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                    <td className="num">{formatDuration(r.total_duration_ms)}</td>
                    <td className="num">
                      {r.total_jobs_run ?? 0}
                      {r.total_jobs_failed ? <span className="fail-text"> ({r.total_jobs_failed} failed)</span> : null}
                    </td>
                    <td className="ellipsis">
                      <CorrLink id={r.correlation_id} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>

        <section aria-label="Trends per source function">
          <h2>Trends per source function</h2>
          {stats.isPending ? (
            <Loading what="hourly statistics" />
          ) : stats.isError ? (
            <ErrorBox error={stats.error} what="hourly statistics (dashboard_stats)" onRetry={() => stats.refetch()} />
          ) : (
            <FunctionTrends rows={stats.data.rows} window={stats.data.window} />
          )}
        </section>
      </div>
    </div>
  );
}

function FunctionTrends({ rows, window }: { rows: StatsRow[]; window: TimeWindow }) {
  const prev = previousWindow(window);
  // dashboard_stats has hourly buckets: both periods are aligned to whole hours
  const curFrom = floorHour(window.from);
  const prevFrom = floorHour(prev.from);
  const cur = totalsByFunction(rows, curFrom, new Date(window.to.getTime() + 1));
  const before = totalsByFunction(rows, prevFrom, curFrom);
  const names = [...new Set([...cur.keys(), ...before.keys()])].sort();
  if (names.length === 0) {
    return (
      <Empty title="No hourly statistics for this range.">
        dashboard_stats is a materialized view: it fills when <code>refresh_dashboard_stats()</code> runs.
      </Empty>
    );
  }
  return (
    <>
      <table className="table compact" data-testid="function-trends">
        <thead>
          <tr>
            <th>Source function</th>
            <th>Invocations</th>
            <th>vs previous</th>
            <th>Failed</th>
            <th>Avg duration</th>
            <th>Hourly</th>
          </tr>
        </thead>
        <tbody>
          {names.map((n) => {
            const a = cur.get(n);
            const b = before.get(n);
            const spark = fillHours(aggregateByHour(rows, n), curFrom, window.to);
            return (
              <tr key={n}>
                <td>{n}</td>
                <td className="num">{formatCount(a?.total ?? 0)}</td>
                <td>
                  <TrendBadge trend={relativeTrend(a?.total ?? 0, b?.total ?? null)} goodWhen="none" />
                </td>
                <td className="num">
                  {formatCount(a?.failed ?? 0)} <TrendBadge trend={relativeTrend(a?.failed ?? 0, b?.failed ?? null)} goodWhen="down" />
                </td>
                <td className="num">{formatDuration(a?.avgDuration)}</td>
                <td style={{ width: 120, height: 28 }}>
                  <ResponsiveContainer width="100%" height={28}>
                    <LineChart data={spark}>
                      <Line type="monotone" dataKey="total" stroke="#3b82f6" dot={false} strokeWidth={1.5} isAnimationActive={false} />
                      <Line type="monotone" dataKey="failed" stroke="#dc2626" dot={false} strokeWidth={1} isAnimationActive={false} />
                    </LineChart>
                  </ResponsiveContainer>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="muted small">From the hourly view dashboard_stats (whole hours; previous period = the same number of hours before).</p>
    </>
  );
}
