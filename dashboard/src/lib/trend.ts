// Trend figures are computed from the previous period of the same length; when there is no
// previous value to compare with, there is no trend (null), never an invented number.

export interface Trend {
  /** relative change in percent (for counts/durations) or absolute change in points (for rates) */
  delta: number;
  unit: '%' | 'pt';
  direction: 'up' | 'down' | 'flat';
}

export function relativeTrend(current: number | null | undefined, previous: number | null | undefined): Trend | null {
  if (current === null || current === undefined || previous === null || previous === undefined) return null;
  if (!Number.isFinite(current) || !Number.isFinite(previous) || previous === 0) return null;
  const delta = ((current - previous) / Math.abs(previous)) * 100;
  return { delta, unit: '%', direction: Math.abs(delta) < 0.05 ? 'flat' : delta > 0 ? 'up' : 'down' };
}

/** For percentages (success rate): the difference in percentage points. */
export function pointTrend(current: number | null | undefined, previous: number | null | undefined): Trend | null {
  if (current === null || current === undefined || previous === null || previous === undefined) return null;
  if (!Number.isFinite(current) || !Number.isFinite(previous)) return null;
  const delta = current - previous;
  return { delta, unit: 'pt', direction: Math.abs(delta) < 0.05 ? 'flat' : delta > 0 ? 'up' : 'down' };
}

export function formatTrend(t: Trend | null): string {
  if (!t) return 'no previous data';
  const sign = t.delta > 0 ? '+' : t.delta < 0 ? '−' : '±';
  const v = Math.abs(t.delta);
  return `${sign}${v >= 100 ? Math.round(v) : v.toFixed(1)}${t.unit === '%' ? '%' : ' pt'}`;
}

/** Success rate of finished invocations; null when nothing finished. */
export function successRate(completed: number, failed: number): number | null {
  const finished = completed + failed;
  if (finished <= 0) return null;
  return (completed / finished) * 100;
}

/**
 * Offset (0-based, rows sorted by duration DESC) of the nearest-rank percentile p of n values:
 * rank ceil(p·n) in ascending order is index n - ceil(p·n) in descending order.
 */
export function percentileOffsetDesc(n: number, p = 0.95): number | null {
  if (!(n > 0)) return null;
  const rank = Math.max(1, Math.ceil(p * n));
  return n - rank;
}

/** Nearest-rank percentile of an in-memory list (used for small sets, and to test the offset). */
export function nearestRankPercentile(values: number[], p = 0.95): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1];
}
