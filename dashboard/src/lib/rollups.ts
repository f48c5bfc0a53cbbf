// Reading the hourly rollups (sql/migrations/002_scale.up.sql): duration histograms and time windows.
//
// A histogram is an integer array whose element i counts bucket i: bucket 0 holds 0 ms, bucket b >= 1 holds the
// durations in (2^((b-2)/4), 2^((b-1)/4)] ms. Histograms of several hours or names merge by adding elements.
// Quantiles follow percentile_cont (interpolated between the two neighbouring ranks), each rank read as its
// bucket's value: within 8.65 % of percentile_cont on the same rows. Same definitions as the SQL functions
// duration_bucket_value() and hist_quantile().

const HOUR = 3600_000;

/** The value reported for bucket b: exact when the bucket holds one integer, else 2·lo·hi/(lo+hi). */
export function bucketValue(b: number): number {
  if (b <= 0) return 0;
  const lo = Math.max(Math.floor(2 ** ((b - 2) / 4)) + 1, 1);
  const hi = Math.max(Math.floor(2 ** ((b - 1) / 4)), 1);
  return lo >= hi ? hi : (2 * lo * hi) / (lo + hi);
}

type Hist = readonly (number | string | null)[] | null | undefined;

/** Element-wise sum (missing elements are zeros). */
export function mergeHistograms(hists: Hist[]): number[] {
  const out: number[] = [];
  for (const h of hists) {
    if (!h) continue;
    for (let i = 0; i < h.length; i++) out[i] = (out[i] ?? 0) + Number(h[i] ?? 0);
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i] ?? 0;
  return out;
}

/** Quantile q (0..1) of a histogram, 2 decimals; null when it is empty. */
export function histQuantile(h: Hist, q: number): number | null {
  if (!h) return null;
  const counts = h.map((c) => Number(c ?? 0));
  const n = counts.reduce((a, c) => a + c, 0);
  if (n === 0) return null;
  const pos = q * (n - 1);
  const loRank = Math.floor(pos);
  const hiRank = Math.ceil(pos);
  let cum = 0;
  let loVal: number | null = null;
  let hiVal = 0;
  for (let i = 0; i < counts.length; i++) {
    cum += counts[i];
    if (loVal === null && cum > loRank) loVal = bucketValue(i);
    if (cum > hiRank) {
      hiVal = bucketValue(i);
      break;
    }
  }
  const v = (loVal ?? hiVal) + (pos - loRank) * (hiVal - (loVal ?? hiVal));
  return Math.round(v * 100) / 100;
}

export function floorToHour(d: Date): Date {
  return new Date(Math.floor(d.getTime() / HOUR) * HOUR);
}

/**
 * The whole UTC hours that aggregates over [from, to) read: from rounded down to its hour; `to` stays (the
 * current hour's rollup is fresh up to the last commit). The previous period ends where this one starts and has
 * the same number of hours.
 */
export function hourWindow(w: { from: Date; to: Date }): { from: Date; to: Date; prevFrom: Date; hours: number } {
  const from = floorToHour(w.from);
  const hours = Math.max(1, Math.ceil((w.to.getTime() - from.getTime()) / HOUR));
  return { from, to: w.to, prevFrom: new Date(from.getTime() - hours * HOUR), hours };
}

/** The smallest UUIDv7 of a millisecond: ids of rows made from `d` on are >= it (partition pruning). */
export function uuid7Lower(d: Date): string {
  const hex = Math.max(0, Math.floor(d.getTime())).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
