import { describe, expect, it } from 'vitest';
import { buildInvocationListVariables, buildInvocationOrderBy, buildInvocationWhere, filtersFromParams, orderDirection, pageCount, sortFromParams } from '../filters';
import { planSearch, escapeLike } from '../search';
import { aggregateByHour, fillHours, sortNullsLast, totalsByFunction, type StatsRow } from '../stats';

const w = { from: new Date('2026-11-26T00:00:00Z'), to: new Date('2026-11-27T00:00:00Z') };

describe('invocation list variables', () => {
  it('no filters: only the time range', () => {
    expect(buildInvocationWhere({}, w)).toEqual({ created_at: { _gte: '2026-11-26T00:00:00.000Z', _lt: '2026-11-27T00:00:00.000Z' } });
    expect(buildInvocationWhere({}, null)).toEqual({});
  });
  it("event and job names: the row's child_names, the relationships only where it has none", () => {
    const where = buildInvocationWhere({ sourceFunction: 'orders', status: 'failed', eventName: 'orders.shipped', jobName: 'sendEmail', correlationId: ' a@b.c ' }, w);
    expect(where).toEqual({
      _and: [
        { created_at: { _gte: '2026-11-26T00:00:00.000Z', _lt: '2026-11-27T00:00:00.000Z' } },
        { source_function: { _eq: 'orders' } },
        { status: { _eq: 'failed' } },
        {
          _or: [
            { child_names: { _contains: { events: ['orders.shipped'], jobs: ['sendEmail'] } } },
            { _and: [{ child_names: { _is_null: true } }, { event_executions: { event_name: { _eq: 'orders.shipped' } } }, { job_executions: { job_name: { _eq: 'sendEmail' } } }] },
          ],
        },
        { correlation_id: { _eq: 'a@b.c' } },
      ],
    });
    expect(buildInvocationWhere({ jobName: ' sendEmail ' }, null)).toEqual({
      _or: [{ child_names: { _contains: { jobs: ['sendEmail'] } } }, { _and: [{ child_names: { _is_null: true } }, { job_executions: { job_name: { _eq: 'sendEmail' } } }] }],
    });
  });
  it('blank filters are dropped (never _eq: null)', () => {
    expect(JSON.stringify(buildInvocationWhere({ sourceFunction: '  ', status: '' }, null))).toBe('{}');
  });
  it('sorting never puts NULLs first, flips exactly and pages are deterministic', () => {
    expect(orderDirection('total_duration_ms', 'desc')).toBe('desc_nulls_last');
    expect(orderDirection('total_jobs_run', 'asc')).toBe('asc_nulls_last');
    expect(orderDirection('correlation_id', 'desc')).toBe('desc_nulls_last');
    expect(orderDirection('status', 'desc')).toBe('desc');
    expect(orderDirection('source_function', 'asc')).toBe('asc');
    expect(buildInvocationOrderBy('total_duration_ms', 'desc')).toEqual([{ total_duration_ms: 'desc_nulls_last' }, { created_at: 'desc' }, { id: 'desc' }]);
    expect(buildInvocationOrderBy('total_duration_ms', 'asc')).toEqual([{ total_duration_ms: 'asc_nulls_last' }, { created_at: 'asc' }, { id: 'asc' }]);
    expect(buildInvocationOrderBy('created_at', 'asc')).toEqual([{ created_at: 'asc' }, { id: 'asc' }]);
    expect(buildInvocationOrderBy('created_at', 'desc')).toEqual([{ created_at: 'desc' }, { id: 'desc' }]);
  });
  it('pagination is limit/offset on the server', () => {
    const v = buildInvocationListVariables({}, w, { column: 'created_at', dir: 'desc' }, 3, 50);
    expect(v.limit).toBe(50);
    expect(v.offset).toBe(150);
    expect(pageCount(0, 50)).toBe(1);
    expect(pageCount(100_000, 50)).toBe(2000);
    expect(pageCount(101, 50)).toBe(3);
  });
  it('filters and sort come from the URL', () => {
    const p = new URLSearchParams('fn=orders&event=x&sort=total_duration_ms&dir=asc');
    expect(filtersFromParams(p)).toMatchObject({ sourceFunction: 'orders', eventName: 'x' });
    expect(sortFromParams(p)).toEqual({ column: 'total_duration_ms', dir: 'asc' });
    expect(sortFromParams(new URLSearchParams('sort=drop_table'))).toEqual({ column: 'created_at', dir: 'desc' });
  });
});

describe('header search plan', () => {
  it('table:id looks up a record', () => {
    expect(planSearch('job_executions:0190C0DE-0000-4000-8000-000000000001')).toEqual({ kind: 'lookup', table: 'job_executions', id: '0190c0de-0000-4000-8000-000000000001' });
    expect(planSearch('invocations:not-a-uuid').kind).toBe('invalid');
  });
  it('text searches correlation ID, function and email with escaped LIKE', () => {
    const p = planSearch('50%_off');
    expect(p.kind).toBe('text');
    if (p.kind !== 'text') return;
    expect(p.where).toEqual({
      _or: [{ correlation_id: { _ilike: '%50\\%\\_off%' } }, { source_function: { _ilike: '%50\\%\\_off%' } }, { source_user_email: { _ilike: '%50\\%\\_off%' } }],
    });
    expect(p.payload).toBeNull();
    const k = planSearch('event');
    expect(k.kind === 'text' && k.payload).toEqual({ key: 'event' });
  });
  it('a uuid also matches ids', () => {
    const p = planSearch('0190c0de-0000-4000-8000-000000000001');
    if (p.kind !== 'text' || !p.where) throw new Error('expected text');
    expect((p.where._or as unknown[]).slice(0, 1)).toEqual([{ id: { _eq: '0190c0de-0000-4000-8000-000000000001' } }]);
  });
  it('JSON searches payloads by containment only', () => {
    expect(planSearch('{"table":{"name":"orders"}}')).toEqual({ kind: 'text', where: null, payload: { contains: { table: { name: 'orders' } } } });
  });
  it('free text with spaces is not a payload key; empty is empty', () => {
    const p = planSearch('user one');
    expect(p.kind === 'text' && p.payload).toBeNull();
    expect(planSearch('   ')).toEqual({ kind: 'empty' });
    expect(escapeLike('a\\b')).toBe('a\\\\b');
  });
});

describe('statistics', () => {
  const rows: StatsRow[] = [
    { hour_bucket: '2026-11-26T00:00:00+00:00', source_function: 'a', total_invocations: 10, successful_invocations: 9, failed_invocations: 1, avg_duration_ms: '100.0', p95_duration_ms: 200 },
    { hour_bucket: '2026-11-26T00:00:00+00:00', source_function: 'b', total_invocations: 30, successful_invocations: 30, failed_invocations: 0, avg_duration_ms: 20, p95_duration_ms: 50 },
    { hour_bucket: '2026-11-26T02:00:00+00:00', source_function: 'a', total_invocations: 5, successful_invocations: 5, failed_invocations: 0, avg_duration_ms: null, p95_duration_ms: null },
  ];
  it('hourly aggregation weights averages by invocations', () => {
    const h = aggregateByHour(rows);
    expect(h).toHaveLength(2);
    expect(h[0]).toMatchObject({ total: 40, successful: 39, failed: 1, avgDuration: 40, p95Duration: 200 });
    expect(h[1]).toMatchObject({ total: 5, avgDuration: null, p95Duration: null });
    expect(aggregateByHour(rows, 'b')).toHaveLength(1);
  });
  it('missing hours are filled with zero traffic', () => {
    const f = fillHours(aggregateByHour(rows), new Date('2026-11-26T00:30:00Z'), new Date('2026-11-26T03:10:00Z'));
    expect(f.map((p) => p.total)).toEqual([40, 0, 5, 0]);
  });
  it('totals per function within a period', () => {
    const t = totalsByFunction(rows, new Date('2026-11-26T00:00:00Z'), new Date('2026-11-26T01:00:00Z'));
    expect(t.get('a')).toMatchObject({ total: 10, failed: 1, avgDuration: 100 });
    expect(t.has('b')).toBe(true);
    expect(totalsByFunction(rows, new Date('2026-11-26T01:00:00Z'), new Date('2026-11-26T03:00:00Z')).get('a')?.total).toBe(5);
  });
  it('sort with NULL last in both directions', () => {
    const r = [{ d: null }, { d: 5 }, { d: 50 }, { d: undefined }, { d: 1 }];
    expect(sortNullsLast(r, (x) => x.d, 'desc').map((x) => x.d)).toEqual([50, 5, 1, null, undefined]);
    expect(sortNullsLast(r, (x) => x.d, 'asc').map((x) => x.d)).toEqual([1, 5, 50, null, undefined]);
  });
});
