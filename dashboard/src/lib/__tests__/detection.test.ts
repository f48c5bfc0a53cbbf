import { describe, expect, it } from 'vitest';
import {
  buildFunnel,
  clauseValues,
  compareEvents,
  compareJobs,
  formatDelta,
  jsonDiff,
  parseClauses,
  payloadChanges,
  stoppedAtWhere,
  stoppingClause,
} from '../detection';
import { isolatedPoints } from '../chart';
import { buildInvocationWhere } from '../filters';

describe('detection clauses', () => {
  const outcomes = [
    { name: 'status changed', outcome: 'passed' },
    { name: 'now shipped', outcome: 'failed' },
    { name: 'carrier known', outcome: 'skipped' },
  ];
  const values = [
    { expression: 'before != now', lhs: '"pending"', op: '!=', rhs: '"cancelled"' },
    { expression: 'now == "shipped"', lhs: '"cancelled"', op: '==', rhs: '"shipped"' },
    { expression: 'known(carrier)' },
  ];
  it('zips outcomes with values; the stopping clause is the first failed or threw', () => {
    const c = parseClauses(outcomes, values);
    expect(c.map((x) => x.outcome)).toEqual(['passed', 'failed', 'skipped']);
    expect(stoppingClause(c)?.name).toBe('now shipped');
    expect(clauseValues(c[1])).toBe('"cancelled" == "shipped"');
    expect(clauseValues(c[2])).toBeNull();
  });
  it('without values (read-only role) keeps names and outcomes; garbage is tolerated', () => {
    const c = parseClauses(outcomes);
    expect(c[1]).toEqual({ name: 'now shipped', outcome: 'failed' });
    expect(parseClauses(null)).toEqual([]);
    expect(parseClauses([{ name: 'x', outcome: 'exploded' }])[0].outcome).toBe('skipped');
    expect(stoppingClause(parseClauses([{ name: 'a', outcome: 'threw' }]))?.name).toBe('a');
  });
});

describe('funnel', () => {
  const clauses = [
    { clause_index: 2, clause_name: 'now shipped', evaluated: 60, passed: 20, failed: 40, threw: 0 },
    { clause_index: 1, clause_name: 'on orders', evaluated: 90, passed: 60, failed: 25, threw: 5 },
  ];
  it('checked -> each clause in position order -> detected -> jobs succeeded; the top rejecting clause is marked', () => {
    const steps = buildFunnel({ checked: 100, detected: 20, completed: 18, detection_failed: 5 }, clauses);
    expect(steps.map((s) => [s.label, s.count, s.stopped])).toEqual([
      ['invocations checked', 100, 10],
      ['on orders', 60, 30],
      ['now shipped', 20, 40],
      ['detected', 20, 2],
      ['jobs succeeded', 18, 0],
    ]);
    expect(steps.filter((s) => s.topRejecting).map((s) => s.label)).toEqual(['now shipped']);
  });
  it('without clauses: checked -> detected -> jobs', () => {
    const steps = buildFunnel({ checked: 10, detected: 4, completed: 4, detection_failed: 0 }, []);
    expect(steps.map((s) => [s.kind, s.count, s.stopped])).toEqual([
      ['checked', 10, 6],
      ['detected', 4, 0],
      ['jobs', 4, 0],
    ]);
    expect(steps.some((s) => s.topRejecting)).toBe(false);
  });
  it('the drill-down filter of each step', () => {
    const steps = buildFunnel({ checked: 100, detected: 20, completed: 18, detection_failed: 5 }, clauses);
    const w = stoppedAtWhere(steps[2], 'orders.shipped', 'F', 'T') as { _and: unknown[] };
    expect(w._and).toContainEqual({ detection_rejected_by: { _eq: 'now shipped' } });
    expect(w._and).toContainEqual({ event_name: { _eq: 'orders.shipped' } });
    expect(w._and).toContainEqual({ created_at: { _gte: 'F', _lt: 'T' } });
    expect((stoppedAtWhere(steps[0], 'e', 'F', 'T') as { _and: unknown[] })._and).toContainEqual({ detection_rejected_by: { _is_null: true } });
    expect((stoppedAtWhere(steps[3], 'e', 'F', 'T') as { _and: unknown[] })._and).toContainEqual({ status: { _neq: 'completed' } });
  });
});

describe('old -> new and comparisons', () => {
  it('payloadChanges: changed, added and removed columns of an UPDATE, as SQL payload_changed_columns()', () => {
    const p = { event: { op: 'UPDATE', data: { old: { id: 1, status: 'pending', gone: 1, n: { a: 1 }, same: [1] }, new: { id: 1, status: 'shipped', added: null, n: { a: 2 }, same: [1] } } } };
    const c = payloadChanges(p)!;
    expect(c.map((x) => x.column)).toEqual(['added', 'gone', 'n', 'status']);
    expect(c.find((x) => x.column === 'status')).toEqual({ column: 'status', old: 'pending', new: 'shipped', kind: 'changed' });
    expect(c.find((x) => x.column === 'gone')?.kind).toBe('removed');
    expect(payloadChanges({ event: { data: { old: null, new: { id: 1 } } } })).toBeNull();
    expect(payloadChanges('not json')).toBeNull();
  });
  it('jsonDiff lists leaf differences by path', () => {
    expect(jsonDiff({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { b: 2, c: [1, 3] }, d: 'x', e: true })).toEqual([
      { path: 'a.b', a: 1, b: 2 },
      { path: 'a.c[1]', a: 2, b: 3 },
      { path: 'e', a: undefined, b: true },
    ]);
    expect(jsonDiff({ a: 1 }, { a: 1 })).toEqual([]);
  });
  it('compareEvents flags different decisions; compareJobs pairs runs by name with duration deltas', () => {
    const ev = compareEvents(
      [{ event_name: 'x', detected: true, status: 'completed' }, { event_name: 'y', detected: false, status: 'not_detected' }],
      [{ event_name: 'x', detected: false, status: 'not_detected' }, { event_name: 'y', detected: false, status: 'not_detected' }, { event_name: 'z', detected: false, status: 'not_detected' }],
    );
    expect(ev.map((e) => [e.eventName, e.differs])).toEqual([['x', true], ['y', false], ['z', true]]);
    const jobs = compareJobs(
      [{ job_name: 'mail', status: 'completed', duration_ms: 10 }, { job_name: 'sms', status: 'failed', duration_ms: null }],
      [{ job_name: 'mail', status: 'completed', duration_ms: 35 }],
    );
    expect(jobs.map((j) => [j.jobName, j.durationDelta, j.statusChanged, j.b?.status ?? null])).toEqual([
      ['mail', 25, false, 'completed'],
      ['sms', null, true, null],
    ]);
    expect(formatDelta(25)).toBe('+25 ms');
    expect(formatDelta(-1500)).toBe('−1.50 s');
    expect(formatDelta(null)).toBe('—');
  });
  it('"column X changed" filter is a jsonb containment on changed_columns', () => {
    expect(buildInvocationWhere({ changedColumn: ' status ' }, null)).toEqual({ changed_columns: { _contains: ['status'] } });
  });
});

describe('charts', () => {
  it('isolated points (no neighbour with a value) get a dot: a single hour of data is drawn', () => {
    expect([...isolatedPoints([{ v: null }, { v: 5 }, { v: null }], 'v')]).toEqual([1]);
    expect([...isolatedPoints([{ v: 3 }], 'v')]).toEqual([0]);
    expect([...isolatedPoints([{ v: 1 }, { v: 2 }, { v: null }, { v: 4 }], 'v')]).toEqual([3]);
  });
});
