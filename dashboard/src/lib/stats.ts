// Aggregation of dashboard_stats rows (hour_bucket × source_function) on the client.
import { num } from './format';

// dashboard_stats is a view: the schema calls every column nullable, though the rollups never leave an hour or a
// function empty; rows without them are skipped.
export interface StatsRow {
  hour_bucket: string | null;
  source_function: string | null;
  total_invocations: number | string | null;
  successful_invocations?: number | string | null;
  failed_invocations: number | string | null;
  total_events_detected?: number | string | null;
  total_jobs_run?: number | string | null;
  total_jobs_succeeded?: number | string | null;
  avg_duration_ms?: number | string | null;
  min_duration_ms?: number | string | null;
  max_duration_ms?: number | string | null;
  p95_duration_ms?: number | string | null;
}

export interface HourPoint {
  hour: string; // ISO of the bucket start
  total: number;
  successful: number;
  failed: number;
  /** invocation-weighted average of the per-function averages */
  avgDuration: number | null;
  /** highest per-function p95 of the hour (exact per function; an upper bound across functions) */
  p95Duration: number | null;
}

export function aggregateByHour(rows: StatsRow[], sourceFunction?: string): HourPoint[] {
  const byHour = new Map<string, { total: number; successful: number; failed: number; durSum: number; durN: number; p95: number | null }>();
  for (const r of rows) {
    if (sourceFunction && r.source_function !== sourceFunction) continue;
    if (!r.hour_bucket) continue;
    const key = new Date(r.hour_bucket).toISOString();
    const acc = byHour.get(key) ?? { total: 0, successful: 0, failed: 0, durSum: 0, durN: 0, p95: null };
    const total = num(r.total_invocations) ?? 0;
    acc.total += total;
    acc.successful += num(r.successful_invocations) ?? 0;
    acc.failed += num(r.failed_invocations) ?? 0;
    const avg = num(r.avg_duration_ms);
    if (avg !== null && total > 0) {
      acc.durSum += avg * total;
      acc.durN += total;
    }
    const p95 = num(r.p95_duration_ms);
    if (p95 !== null) acc.p95 = acc.p95 === null ? p95 : Math.max(acc.p95, p95);
    byHour.set(key, acc);
  }
  return [...byHour.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([hour, a]) => ({
      hour,
      total: a.total,
      successful: a.successful,
      failed: a.failed,
      avgDuration: a.durN > 0 ? a.durSum / a.durN : null,
      p95Duration: a.p95,
    }));
}

/** Insert zero points for hours without rows so charts show gaps as zero traffic. */
export function fillHours(points: HourPoint[], from: Date, to: Date): HourPoint[] {
  const H = 3600_000;
  const byHour = new Map(points.map((p) => [p.hour, p]));
  const out: HourPoint[] = [];
  const start = Math.floor(from.getTime() / H) * H;
  for (let t = start; t < to.getTime(); t += H) {
    const key = new Date(t).toISOString();
    out.push(byHour.get(key) ?? { hour: key, total: 0, successful: 0, failed: 0, avgDuration: null, p95Duration: null });
  }
  return out;
}

export interface FunctionTotals {
  sourceFunction: string;
  total: number;
  successful: number;
  failed: number;
  avgDuration: number | null;
}

export function totalsByFunction(rows: StatsRow[], from: Date, to: Date): Map<string, FunctionTotals> {
  const out = new Map<string, FunctionTotals & { durSum: number; durN: number }>();
  for (const r of rows) {
    if (!r.hour_bucket || r.source_function === null) continue;
    const t = new Date(r.hour_bucket).getTime();
    if (t < from.getTime() || t >= to.getTime()) continue;
    const acc = out.get(r.source_function) ?? { sourceFunction: r.source_function, total: 0, successful: 0, failed: 0, avgDuration: null, durSum: 0, durN: 0 };
    const total = num(r.total_invocations) ?? 0;
    acc.total += total;
    acc.successful += num(r.successful_invocations) ?? 0;
    acc.failed += num(r.failed_invocations) ?? 0;
    const avg = num(r.avg_duration_ms);
    if (avg !== null && total > 0) {
      acc.durSum += avg * total;
      acc.durN += total;
    }
    acc.avgDuration = acc.durN > 0 ? acc.durSum / acc.durN : null;
    out.set(r.source_function, acc);
  }
  return new Map([...out.entries()].map(([k, v]) => [k, { sourceFunction: v.sourceFunction, total: v.total, successful: v.successful, failed: v.failed, avgDuration: v.avgDuration }]));
}

/** Sort rows by a numeric key, NULLs last in both directions. */
export function sortNullsLast<T>(rows: T[], key: (r: T) => number | null | undefined, dir: 'asc' | 'desc' = 'desc'): T[] {
  return [...rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    const xn = x === null || x === undefined || Number.isNaN(x);
    const yn = y === null || y === undefined || Number.isNaN(y);
    if (xn && yn) return 0;
    if (xn) return 1;
    if (yn) return -1;
    return dir === 'asc' ? (x as number) - (y as number) : (y as number) - (x as number);
  });
}
