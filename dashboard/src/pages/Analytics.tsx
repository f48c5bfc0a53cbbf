import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { gqlRequest } from '../graphql/client';
import { CorrelationCoverage, DetectionRates, FailingJobs, FunctionHourlyStats, HourlyStats, SlowestJobThreshold, SlowestJobs, SourceFunctions } from '../graphql/queries';
import { Empty, ErrorBox, InvLink, Loading, StatusBadge } from '../components/common';
import { formatCount, formatDuration, formatPercent, formatTimestamp } from '../lib/format';
import { useRange } from '../lib/hooks';
import { aggregateByHour, fillHours, sortNullsLast, type StatsRow } from '../lib/stats';
import { describeRange, type TimeWindow } from '../lib/time';
import { histQuantile, hourWindow, uuid7Lower } from '../lib/rollups';
import { isolatedPoints } from '../lib/chart';

const NAME_LIMIT = 40;

function hourLabel(iso: string): string {
  const d = new Date(iso);
  return `${d.getMonth() + 1}/${d.getDate()} ${String(d.getHours()).padStart(2, '0')}h`;
}

/** Aggregates read whole UTC hours (the rollups): the window's start rounded down to its hour. */
function windowVars(w: TimeWindow) {
  const hw = hourWindow(w);
  return { from: hw.from.toISOString(), to: hw.to.toISOString() };
}

const sum = (v: number | string | null | undefined) => Number(v ?? 0);

export function AnalyticsPage() {
  const { spec } = useRange();
  return (
    <div className="page">
      <div className="page-head">
        <h1>Analytics</h1>
        <span className="muted">{describeRange(spec)}</span>
        <span className="muted small" data-testid="analytics-window">
          Figures from the hourly rollups (always fresh), whole UTC hours; lists (slowest jobs) from the rows themselves.
        </span>
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
    queryKey: ['analytics', 'stats', key, fn],
    queryFn: async () => {
      const w = resolve();
      const vars = windowVars(w);
      const [series, names] = await Promise.all([
        fn
          ? gqlRequest(FunctionHourlyStats, { ...vars, sourceFunction: fn }).then((d) => d.dashboard_stats)
          : gqlRequest(HourlyStats, vars).then((d) =>
              d.invocation_hourly.map(
                (r): StatsRow => ({
                  hour_bucket: r.hour_bucket,
                  source_function: '',
                  total_invocations: r.invocations,
                  successful_invocations: r.completed,
                  failed_invocations: r.failed,
                  avg_duration_ms: sum(r.duration_count) > 0 ? sum(r.duration_sum) / sum(r.duration_count) : null,
                  p95_duration_ms: histQuantile(r.duration_hist, 0.95),
                }),
              ),
            ),
        gqlRequest(SourceFunctions, vars),
      ]);
      return { window: { from: new Date(vars.from), to: w.to }, rows: series, functions: names.rollup_source_functions.flatMap((f) => (f.source_function ? [f.source_function] : [])) };
    },
  });
  if (q.isPending) return <Loading what="hourly statistics" />;
  if (q.isError) return <ErrorBox error={q.error} what="hourly statistics" onRetry={() => q.refetch()} />;
  const fns = [...new Set([...q.data.functions, ...(fn ? [fn] : [])])].sort();
  const points = fillHours(aggregateByHour(q.data.rows), q.data.window.from, q.data.window.to).map((p) => ({
    ...p,
    label: hourLabel(p.hour),
    avg: p.avgDuration === null ? null : Math.round(p.avgDuration),
  }));
  const total = points.reduce((a, p) => a + p.total, 0);
  // A line needs two neighbouring values: an hour alone (e.g. a range with one hour of data) is drawn as a dot.
  const lonely = { avg: isolatedPoints(points, 'avg'), p95Duration: isolatedPoints(points, 'p95Duration') };
  const dotFor = (key: 'avg' | 'p95Duration', color: string) =>
    function IsolatedDot(props: { cx?: number; cy?: number; index?: number }) {
      const show = props.index !== undefined && lonely[key].has(props.index) && props.cx !== undefined && props.cy !== undefined;
      return show ? (
        <circle key={`${key}-${props.index}`} cx={props.cx} cy={props.cy} r={4} fill={color} stroke={color} data-testid={`dot-${key}`} />
      ) : (
        <g key={`${key}-${props.index}`} />
      );
    };
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
        <Empty title="No invocations in this range.">The hourly rollups fill as the detectors write; widen the time range.</Empty>
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
                <Line type="monotone" dataKey="avg" name="average" stroke="#2563eb" dot={dotFor('avg', '#2563eb')} connectNulls={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="p95Duration" name="p95" stroke="#f59e0b" dot={dotFor('p95Duration', '#f59e0b')} connectNulls={false} isAnimationActive={false} />
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
    queryFn: async () => {
      const w = resolve();
      // The list is exact over [from, to); the rollups only say which durations are worth reading.
      const t = await gqlRequest(SlowestJobThreshold, { ...windowVars(w), limit: 10 });
      if (t.job_rollup.length === 0) return { job_executions: [] as JobRow[] };
      const minDuration = Math.min(...t.job_rollup.map((r) => Number(r.duration_max)));
      return gqlRequest(SlowestJobs, {
        from: w.from.toISOString(),
        to: w.to.toISOString(),
        idFrom: uuid7Lower(new Date(w.from.getTime() - 60_000)),
        idTo: uuid7Lower(new Date(w.to.getTime() + 60_000)),
        minDuration,
        limit: 10,
      });
    },
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
    queryKey: ['analytics', 'failing-jobs', key],
    queryFn: () => gqlRequest(FailingJobs, { ...windowVars(resolve()), limit: NAME_LIMIT }),
  });
  const rows = (names.data?.rollup_job_names ?? [])
    .map((r) => {
      const a = r.stats.aggregate?.sum;
      const total = sum(a?.jobs);
      const failed = sum(a?.failed);
      return { name: r.job_name ?? '', total, failed, rate: total ? (failed / total) * 100 : null, avg: sum(a?.duration_count) ? sum(a?.duration_sum) / sum(a?.duration_count) : null };
    })
    .sort((a, b) => b.failed - a.failed || (b.rate ?? -1) - (a.rate ?? -1));
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
                <td className="num fail-text">{formatCount(r.failed)}</td>
                <td className="num">{formatCount(r.total)}</td>
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
    queryKey: ['analytics', 'detection', key],
    queryFn: () => gqlRequest(DetectionRates, { ...windowVars(resolve()), limit: NAME_LIMIT }),
  });
  const rows = (names.data?.rollup_event_names ?? []).map((r) => {
    const a = r.stats.aggregate?.sum;
    const checked = sum(a?.checked);
    const detected = sum(a?.detected);
    return { name: r.event_name ?? '', checked, detected, failed: sum(a?.failed) + sum(a?.detection_failed) + sum(a?.handler_failed), rate: checked ? (detected / checked) * 100 : null };
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
                <td className="num">{formatCount(r.checked)}</td>
                <td className="num">{formatCount(r.detected)}</td>
                <td className="num">
                  <div className="meter" title={formatPercent(r.rate)}>
                    <div className="meter-fill" style={{ width: `${r.rate ?? 0}%` }} />
                    <span>{formatPercent(r.rate)}</span>
                  </div>
                </td>
                <td className={`num ${r.failed ? 'fail-text' : ''}`}>{formatCount(r.failed)}</td>
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
    queryFn: () => gqlRequest(CorrelationCoverage, windowVars(resolve())),
  });
  const sources = (q.data?.sources ?? []).map((s) => ({ source: s.correlation_source ?? '', n: sum(s.stats.aggregate?.sum?.invocations) }));
  const total = sum(q.data?.totals.aggregate?.sum?.invocations);
  const covered = total - sources.filter((s) => s.source === 'generated').reduce((a, s) => a + s.n, 0);
  const chained = sum(q.data?.totals.aggregate?.sum?.chained);
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
              {formatCount(covered)} of {formatCount(total)} invocations had a correlation ID found (source ≠ generated); {formatCount(chained)} were caused by a job
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
              {sources.map(({ source, n }) => (
                <tr key={source}>
                  <td>
                    {source}
                    {source === 'generated' ? <span className="muted small"> (not covered)</span> : null}
                  </td>
                  <td className="num">{formatCount(n)}</td>
                  <td className="num">{formatPercent((n / total) * 100)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
