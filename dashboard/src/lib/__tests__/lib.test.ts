import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config';
import { formatAgo, formatCount, formatDuration, formatPercent, formatRate, formatTimestamp, num } from '../format';
import { formatTrend, nearestRankPercentile, percentileOffsetDesc, pointTrend, relativeTrend, successRate } from '../trend';
import { floorHour, previousWindow, rangeFromParams, rangeToParams, resolveWindow, windowHours } from '../time';

describe('config', () => {
  it('defaults: same-origin endpoint, no secret, seed defaults', () => {
    const c = parseConfig({});
    expect(c).toEqual({
      graphqlEndpoint: '/v1/graphql',
      adminSecret: null,
      showCorrelationChains: true,
      showRawPayloads: false,
      defaultTimeRangeHours: 24,
      overviewPollingMs: 30000,
    });
  });
  it('reads the seed variables', () => {
    const c = parseConfig({
      REACT_APP_GRAPHQL_ENDPOINT: 'http://localhost:8080/v1/graphql',
      REACT_APP_HASURA_ADMIN_SECRET: 's3cret',
      REACT_APP_SHOW_CORRELATION_CHAINS: 'false',
      REACT_APP_SHOW_RAW_PAYLOADS: 'true',
      REACT_APP_DEFAULT_TIME_RANGE: '6',
      REACT_APP_OVERVIEW_POLLING: '0',
    });
    expect(c.graphqlEndpoint).toBe('http://localhost:8080/v1/graphql');
    expect(c.adminSecret).toBe('s3cret');
    expect(c.showCorrelationChains).toBe(false);
    expect(c.showRawPayloads).toBe(true);
    expect(c.defaultTimeRangeHours).toBe(6);
    expect(c.overviewPollingMs).toBe(0);
  });
  it('ignores garbage and blank secrets', () => {
    const c = parseConfig({ REACT_APP_DEFAULT_TIME_RANGE: 'abc', REACT_APP_OVERVIEW_POLLING: '-5', REACT_APP_HASURA_ADMIN_SECRET: '  ' });
    expect(c.defaultTimeRangeHours).toBe(24);
    expect(c.overviewPollingMs).toBe(30000);
    expect(c.adminSecret).toBeNull();
  });
});

describe('formatting', () => {
  it('durations', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(0)).toBe('<1 ms'); // stored in whole ms: 0 is under half a millisecond
    expect(formatDuration(0.4)).toBe('<1 ms');
    expect(formatDuration(1)).toBe('1 ms');
    expect(formatDuration(0.25)).toBe('<1 ms');
    expect(formatDuration(12.4)).toBe('12 ms');
    expect(formatDuration(999)).toBe('999 ms');
    expect(formatDuration(1500)).toBe('1.50 s');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe('2 h 5 min');
  });
  it('counts, percents, rates', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(null)).toBe('—');
    expect(formatPercent(84.123)).toBe('84.1%');
    expect(formatPercent(null)).toBe('—');
    expect(formatRate(42.46)).toBe('42.5/h');
    expect(formatRate(1234)).toBe('1,234/h');
    expect(formatRate(0.5)).toBe('0.50/h');
  });
  it('timestamps keep milliseconds; ago is relative', () => {
    const iso = '2026-11-26T08:00:00.123+00:00';
    expect(formatTimestamp(iso)).toMatch(/\.123$/);
    expect(formatTimestamp(null)).toBe('—');
    const now = Date.parse('2026-11-26T08:10:00Z');
    expect(formatAgo('2026-11-26T08:09:30Z', now)).toBe('30 s ago');
    expect(formatAgo('2026-11-26T08:00:00Z', now)).toBe('10 min ago');
    expect(formatAgo('2026-11-26T05:00:00Z', now)).toBe('3 h ago');
    expect(formatAgo('2026-11-26T08:10:01Z', now)).toBe('just now');
  });
  it('num accepts numeric strings (Hasura numeric/bigint)', () => {
    expect(num('12.50')).toBe(12.5);
    expect(num(null)).toBeNull();
    expect(num('NaN')).toBeNull();
    expect(num(7)).toBe(7);
  });
});

describe('trends are computed from the previous period, never invented', () => {
  it('relative change', () => {
    expect(relativeTrend(120, 100)).toMatchObject({ delta: 20, unit: '%', direction: 'up' });
    expect(relativeTrend(50, 100)).toMatchObject({ delta: -50, direction: 'down' });
    expect(relativeTrend(100, 100)).toMatchObject({ delta: 0, direction: 'flat' });
  });
  it('no trend without a previous value', () => {
    expect(relativeTrend(10, 0)).toBeNull();
    expect(relativeTrend(10, null)).toBeNull();
    expect(relativeTrend(null, 10)).toBeNull();
    expect(formatTrend(null)).toBe('no previous data');
  });
  it('rates compare in points', () => {
    expect(pointTrend(84.1, 82.6)?.delta).toBeCloseTo(1.5);
    expect(formatTrend(pointTrend(84.1, 82.6))).toBe('+1.5 pt');
    expect(formatTrend(relativeTrend(90, 100))).toBe('−10.0%');
    expect(pointTrend(null, 50)).toBeNull();
  });
  it('success rate counts finished invocations only', () => {
    expect(successRate(845, 160)).toBeCloseTo(84.08, 1);
    expect(successRate(0, 0)).toBeNull();
    expect(successRate(0, 3)).toBe(0);
  });
  it('p95 offset (server query) equals the nearest-rank p95 of the same values', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 1; n < 300; n += 7) {
      const values = Array.from({ length: n }, () => Math.floor(rnd() * 1000));
      const desc = [...values].sort((a, b) => b - a);
      expect(desc[percentileOffsetDesc(n)!]).toBe(nearestRankPercentile(values));
    }
    expect(percentileOffsetDesc(0)).toBeNull();
    expect(percentileOffsetDesc(1)).toBe(0);
    expect(percentileOffsetDesc(100)).toBe(5);
  });
});

describe('time window', () => {
  it('relative ranges move with now (polling never freezes the window)', () => {
    const spec = rangeFromParams(new URLSearchParams('range=24h'), 6);
    const a = resolveWindow(spec, Date.parse('2026-11-26T08:00:00Z'));
    const b = resolveWindow(spec, Date.parse('2026-11-26T08:00:30Z'));
    expect(b.to.getTime() - a.to.getTime()).toBe(30_000);
    expect(b.from.getTime() - a.from.getTime()).toBe(30_000);
    expect(windowHours(a)).toBe(24);
  });
  it('default range comes from the configuration; tokens in m/h/d', () => {
    expect(rangeFromParams(new URLSearchParams(''), 6)).toEqual({ kind: 'relative', hours: 6 });
    expect(rangeFromParams(new URLSearchParams('range=7d'), 6)).toEqual({ kind: 'relative', hours: 168 });
    expect(rangeFromParams(new URLSearchParams('range=30m'), 6)).toEqual({ kind: 'relative', hours: 0.5 });
    expect(rangeFromParams(new URLSearchParams('range=bogus'), 6)).toEqual({ kind: 'relative', hours: 6 });
  });
  it('absolute ranges stay fixed and round-trip through the URL', () => {
    const p = rangeToParams({ kind: 'absolute', from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') }, new URLSearchParams('status=failed&range=24h'));
    expect(p.get('range')).toBeNull();
    expect(p.get('status')).toBe('failed');
    const spec = rangeFromParams(p, 24);
    const w1 = resolveWindow(spec, 0);
    const w2 = resolveWindow(spec, 1e12);
    expect(w1).toEqual(w2);
    expect(w1.from.toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });
  it('previous period has the same length and ends where the window starts', () => {
    const w = { from: new Date('2026-11-26T00:00:00Z'), to: new Date('2026-11-26T06:00:00Z') };
    const p = previousWindow(w);
    expect(p.to).toEqual(w.from);
    expect(p.from.toISOString()).toBe('2026-11-25T18:00:00.000Z');
    expect(floorHour(new Date('2026-11-26T06:59:59.999Z')).toISOString()).toBe('2026-11-26T06:00:00.000Z');
  });
});
