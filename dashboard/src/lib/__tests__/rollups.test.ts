import { describe, expect, it } from 'vitest';
import { bucketValue, histQuantile, hourWindow, mergeHistograms, uuid7Lower } from '../rollups';

// The bucket of ms, as the SQL duration_bucket(): 1 + ceil(4·log2 ms), 0 for 0 ms.
const bucketOf = (ms: number) => (ms <= 0 ? 0 : 1 + Math.ceil((4 * Math.log(ms)) / Math.log(2) - 1e-9));

function percentileCont(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo] + (pos - lo) * (s[Math.ceil(pos)] - s[lo]);
}

describe('rollup histograms', () => {
  it('a bucket value is within 8.65 % of every duration in its bucket, exact below 5 ms', () => {
    for (let ms = 1; ms < 100_000; ms++) {
      const v = bucketValue(bucketOf(ms));
      expect(Math.abs(v - ms) / ms).toBeLessThanOrEqual(0.0865);
      if (ms < 5) expect(v).toBe(ms);
    }
    expect(bucketValue(0)).toBe(0);
  });

  it('quantiles of merged histograms are within 8.65 % of percentile_cont', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 50; trial++) {
      const parts: number[][] = [[], [], []];
      for (let i = 0; i < 300; i++) parts[i % 3].push(Math.round(Math.exp(rnd() * 10)));
      const hists = parts.map((p) => {
        const h: number[] = [];
        for (const v of p) h[bucketOf(v)] = (h[bucketOf(v)] ?? 0) + 1;
        return Array.from(h, (c) => c ?? 0);
      });
      const merged = mergeHistograms(hists);
      for (const q of [0.5, 0.95, 0.99]) {
        const exact = percentileCont(parts.flat(), q);
        expect(Math.abs(histQuantile(merged, q)! - exact) / exact).toBeLessThanOrEqual(0.0865);
      }
    }
  });

  it('empty histograms have no quantile; strings (numeric JSON) are accepted', () => {
    expect(histQuantile([], 0.95)).toBeNull();
    expect(histQuantile(null, 0.95)).toBeNull();
    expect(histQuantile(['0', '2'], 0.5)).toBe(1);
    expect(mergeHistograms([[1, 2], null, [0, 0, 3]])).toEqual([1, 2, 3]);
  });

  it('windows are whole hours and the previous period has as many', () => {
    const w = hourWindow({ from: new Date('2026-11-26T08:20:00Z'), to: new Date('2026-11-27T08:20:00Z') });
    expect(w.from.toISOString()).toBe('2026-11-26T08:00:00.000Z');
    expect(w.hours).toBe(25);
    expect(w.prevFrom.toISOString()).toBe('2026-11-25T07:00:00.000Z');
  });

  it('uuid7Lower is the first UUIDv7 of its millisecond', () => {
    expect(uuid7Lower(new Date(0x0190_1234_5678))).toBe('01901234-5678-0000-0000-000000000000');
  });
});
