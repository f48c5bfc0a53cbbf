import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { config } from '../../config';
import { mockFetch } from '../../test/mockApi';
import { renderAt } from '../../test/render';
import { InvocationsPage } from '../Invocations';
import { InvocationDetailPage } from '../InvocationDetail';
import { OverviewPage } from '../Overview';
import { ChainsPage, ChainStep } from '../Chains';
import { histQuantile, mergeHistograms } from '../../lib/rollups';
import { formatDuration } from '../../lib/format';

const count = (n: number) => ({ aggregate: { count: n } });
const row = (id: string, extra: Record<string, unknown> = {}) => ({
  id, created_at: '2026-11-26T08:00:00Z', source_function: 'orders', source_table: 'orders', source_operation: 'UPDATE', status: 'completed',
  total_duration_ms: 12, correlation_id: 'user@example.com', correlation_source: 'updated_by', events_detected_count: 1, total_jobs_run: 2,
  total_jobs_succeeded: 2, total_jobs_failed: 0, source_user_email: 'user@example.com', error_message: null, ...extra,
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('Invocations page', () => {
  let m: ReturnType<typeof mockFetch>;
  beforeEach(() => {
    m = mockFetch({
      InvocationsList: (v) => ({ data: { invocations: v.offset === 0 ? [row('00000000-0000-4000-8000-000000000001'), row('00000000-0000-4000-8000-000000000002', { total_duration_ms: null, status: 'failed' })] : [] } }),
      InvocationsCount: () => ({ data: { invocations_aggregate: count(123) } }),
      SourceFunctions: () => ({ data: { rollup_source_functions: [{ source_function: 'orders' }] } }),
    });
    vi.stubGlobal('fetch', m.fn);
  });

  it('sends the URL filters as variables (event/job: child_names, relationships where it is NULL) and shows the server count', async () => {
    renderAt('/invocations?range=6h&status=failed&event=orders.shipped&job=sendEmail&fn=orders&corr=abc', '/invocations', <InvocationsPage />);
    expect(await screen.findByTestId('invocations-total')).toHaveProperty('textContent', '123');
    const v = m.of('InvocationsList')[0].variables;
    const and = v.where._and as Record<string, unknown>[];
    expect(and).toContainEqual({
      _or: [
        { child_names: { _contains: { events: ['orders.shipped'], jobs: ['sendEmail'] } } },
        { _and: [{ child_names: { _is_null: true } }, { event_executions: { event_name: { _eq: 'orders.shipped' } } }, { job_executions: { job_name: { _eq: 'sendEmail' } } }] },
      ],
    });
    expect(and).toContainEqual({ status: { _eq: 'failed' } });
    expect(and).toContainEqual({ correlation_id: { _eq: 'abc' } });
    const range = and[0].created_at as { _gte: string; _lt: string };
    expect(Date.parse(range._lt) - Date.parse(range._gte)).toBe(6 * 3600_000);
    expect(v.limit).toBe(50);
    expect(v.offset).toBe(0);
    expect(v.countLimit).toBeUndefined();
    const c = m.of('InvocationsCount')[0].variables;
    expect(c.countLimit).toBe(1_001);
    expect(c.where._and.slice(1)).toEqual(and.slice(1)); // the same filters; the window is resolved when each is sent
    expect(screen.getByTestId('page-info').textContent).toBe('Page 1 of 3');
    // NULL duration renders as a dash, not 0
    const rows = within(screen.getByTestId('invocations-table')).getAllByRole('row');
    expect(rows[2].textContent).toContain('—');
  });

  it('sorting and paging re-query the server (nulls last)', async () => {
    renderAt('/invocations', '/invocations', <InvocationsPage />);
    await screen.findByTestId('invocations-table');
    fireEvent.click(screen.getByRole('button', { name: /Duration/ }));
    await waitFor(() => expect(m.of('InvocationsList').some((c) => c.variables.orderBy[0].total_duration_ms === 'desc_nulls_last')).toBe(true));
    fireEvent.click(screen.getByRole('button', { name: /Duration/ }));
    await waitFor(() => expect(m.of('InvocationsList').some((c) => c.variables.orderBy[0].total_duration_ms === 'asc_nulls_last')).toBe(true));
    fireEvent.click(screen.getByRole('button', { name: /Next/ }));
    await waitFor(() => expect(m.of('InvocationsList').some((c) => c.variables.offset === 50)).toBe(true));
    // the count does not depend on the sort or the page: it was asked once
    expect(m.of('InvocationsCount')).toHaveLength(1);
  });

  it('a count that reaches the cap says "1,000+": Next follows full pages, Last is off', async () => {
    const rows50 = Array.from({ length: 50 }, (_, i) => row(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));
    vi.stubGlobal('fetch', mockFetch({
      InvocationsList: () => ({ data: { invocations: rows50 } }),
      InvocationsCount: (v) => ({ data: { invocations_aggregate: count(v.countLimit as number) } }),
      SourceFunctions: () => ({ data: { rollup_source_functions: [] } }),
    }).fn);
    renderAt('/invocations?page=20', '/invocations', <InvocationsPage />);
    expect(await screen.findByTestId('invocations-total')).toHaveProperty('textContent', '1,000+');
    expect(screen.getByTestId('page-info').textContent).toBe('Page 21 of 20+');
    expect(screen.getByRole('button', { name: /Next/ })).toHaveProperty('disabled', false);
    expect(screen.getByRole('button', { name: /Last/ })).toHaveProperty('disabled', true);
  });

  it('shows the rows before the count arrives, and a count that fails without hiding them', async () => {
    let answer: (() => void) | undefined;
    const slow = mockFetch({
      InvocationsList: () => ({ data: { invocations: [row('00000000-0000-4000-8000-000000000001')] } }),
      InvocationsCount: () => ({ errors: [{ message: 'statement timeout', extensions: { code: 'postgres-error' } }] }),
    });
    const gate = new Promise<void>((r) => (answer = r));
    vi.stubGlobal('fetch', (async (url: RequestInfo | URL, init?: RequestInit) => {
      if (String(init?.body).includes('InvocationsCount')) await gate;
      return slow.fn(url, init);
    }) as typeof fetch);
    renderAt('/invocations', '/invocations', <InvocationsPage />);
    await screen.findByTestId('invocations-table');
    expect(screen.getByTestId('invocations-counting')).toBeTruthy();
    expect(screen.getByTestId('page-info').textContent).toBe('Page 1');
    expect(screen.getByRole('button', { name: /Last/ })).toHaveProperty('disabled', true);
    answer!();
    expect((await screen.findByTestId('invocations-count-error')).textContent).toContain('statement timeout');
    expect(within(screen.getByTestId('invocations-table')).getAllByRole('row')).toHaveLength(2);
  });

  it('empty and error states say what to do', async () => {
    vi.stubGlobal('fetch', mockFetch({ InvocationsList: () => ({ data: { invocations: [] } }), InvocationsCount: () => ({ data: { invocations_aggregate: count(0) } }), SourceFunctions: () => ({ data: { rollup_source_functions: [] } }) }).fn);
    renderAt('/invocations?status=failed', '/invocations', <InvocationsPage />);
    expect(await screen.findByText(/No invocation matches these filters/)).toBeTruthy();
  });

  it('unreachable API', async () => {
    vi.stubGlobal('fetch', (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch);
    renderAt('/invocations', '/invocations', <InvocationsPage />);
    expect(await screen.findByText(/GraphQL API is unreachable/)).toBeTruthy();
    expect(screen.getByText(/REACT_APP_GRAPHQL_ENDPOINT/)).toBeTruthy();
  });
});

describe('Invocation detail', () => {
  const id = '00000000-0000-4000-8000-0000000000aa';
  const detail = {
    ...row(id, { status: 'failed', total_jobs_failed: 1 }), updated_at: '', source_system: 'hasura', source_event_id: null, source_event_time: null, source_user_role: 'user',
    source_job_id: null, auto_load_modules: true, event_modules_directory: null, error_type: null, error_stack: null, source_job_execution: null,
    event_executions: [
      {
        id: 'e1', created_at: '', event_name: 'orders.shipped', event_module_path: null, detected: true, status: 'failed', detection_duration_ms: 1, handler_duration_ms: 3,
        detection_error: null, detection_error_stack: null, handler_error: null, handler_error_stack: null, jobs_count: 1, jobs_succeeded: 0, jobs_failed: 1,
        job_executions: [
          {
            id: 'j1', created_at: '', updated_at: '', job_name: 'sendEmail', job_function_name: null, job_options: { retries: 3 }, status: 'failed', duration_ms: 7,
            result: null, error_message: 'SMTP down', error_type: 'MailError', error_stack: 'MailError: SMTP down\n  at send (mail.js:1)',
            logs: [{ id: 'l1', level: 'error', message: 'could not connect', data: null, logged_at: '2026-11-26T08:00:00Z' }], triggered_invocations: [],
          },
        ],
      },
      { id: 'e2', created_at: '', event_name: 'orders.created', event_module_path: null, detected: false, status: 'not_detected', detection_duration_ms: 1, handler_duration_ms: null, detection_error: null, detection_error_stack: null, handler_error: null, handler_error_stack: null, jobs_count: 0, jobs_succeeded: 0, jobs_failed: 0, job_executions: [] },
    ],
  };
  it('shows events, jobs with error, stack and logs; payload denied is handled', async () => {
    const m = mockFetch({
      InvocationDetail: () => ({ data: { invocations_by_pk: detail } }),
      InvocationPayload: () => ({ errors: [{ message: "field 'source_event_payload' not found in type: 'invocations'", extensions: { code: 'validation-failed' } }] }),
    });
    vi.stubGlobal('fetch', m.fn);
    renderAt(`/invocations/${id}`, '/invocations/:id', <InvocationDetailPage />);
    expect(await screen.findByText(/Events checked \(1 detected of 2\)/)).toBeTruthy();
    expect(screen.getAllByText(/SMTP down/).length).toBeGreaterThan(0);
    expect(screen.getByText('could not connect')).toBeTruthy();
    expect(m.of('InvocationPayload')).toHaveLength(0); // hidden by default
    fireEvent.click(screen.getByRole('button', { name: 'show' }));
    expect(await screen.findByTestId('payload-denied')).toBeTruthy();
    expect(screen.getByText(/Events checked/)).toBeTruthy();
  });
  it('not found', async () => {
    vi.stubGlobal('fetch', mockFetch({ InvocationDetail: () => ({ data: { invocations_by_pk: null } }) }).fn);
    renderAt(`/invocations/${id}`, '/invocations/:id', <InvocationDetailPage />);
    expect(await screen.findByText(`No invocation ${id}.`)).toBeTruthy();
  });
});

describe('Overview', () => {
  it('KPIs from the hourly rollups of both periods (p95 from the merged histograms); polling moves the window forward', async () => {
    const saved = config.overviewPollingMs;
    config.overviewPollingMs = 300;
    // current: 200 invocations, 180 completed, 20 failed; durations: 95 in bucket 1 (1 ms), 5 in bucket 33 (256 ms)
    const hour = (h: string, n: number, ok: number, bad: number, hist: number[]) => ({ hour_bucket: h, invocations: n, completed: ok, failed: bad, duration_hist: hist });
    const hist = (entries: [number, number][]) => {
      const h = new Array(40).fill(0);
      for (const [b, c] of entries) h[b] = c;
      return h;
    };
    const m = mockFetch({
      OverviewKpis: () => ({
        data: {
          current: [hour('2026-11-26T08:00:00Z', 120, 110, 10, hist([[1, 60], [33, 2]])), hour('2026-11-26T09:00:00Z', 80, 70, 10, hist([[1, 35], [33, 3]]))],
          previous: [hour('2026-11-25T08:00:00Z', 100, 90, 10, [])],
        },
      }),
      FunctionTotals: () => ({
        data: {
          rollup_source_functions: [
            {
              source_function: 'orders',
              current: { aggregate: { sum: { invocations: 200, completed: 180, failed: 20, duration_sum: 2000, duration_count: 100 } } },
              previous: { aggregate: { sum: { invocations: 100, completed: 90, failed: 10 } } },
            },
          ],
        },
      }),
      RecentInvocations: () => ({ data: { invocations: [row('00000000-0000-4000-8000-000000000003')] } }),
      DashboardStatsRange: () => ({ data: { dashboard_stats: [] } }),
    });
    vi.stubGlobal('fetch', m.fn);
    try {
      renderAt('/overview?range=24h', '/overview', <OverviewPage />);
      const rate = await screen.findByTestId('kpi-success-rate');
      expect(rate.textContent).toContain('90.0%');
      expect(rate.textContent).toContain('±0.0 pt');
      expect(screen.getByTestId('kpi-failures').textContent).toContain('+100%');
      // p95 of 95 × 1 ms and 5 × 256 ms: position 94.05 between ranks 94 (1 ms) and 95 (256 ms)
      // = 1 + 0.05 × (value of bucket 33 − 1) = 12.67 ms
      const p95 = histQuantile(mergeHistograms([hist([[1, 60], [33, 2]]), hist([[1, 35], [33, 3]])]), 0.95);
      expect(p95).toBe(12.67);
      expect(screen.getByTestId('kpi-p95').querySelector('.kpi-value')!.textContent).toBe(formatDuration(p95));
      // the previous period has no durations: no trend is invented
      expect(screen.getByTestId('kpi-p95').textContent).toContain('no previous data');
      expect(screen.getByTestId('kpi-window').textContent).toMatch(/Whole UTC hours from/);
      // one round trip for the KPIs; the window starts on a whole hour
      const first = m.of('OverviewKpis')[0].variables;
      expect(new Date(first.from).getUTCMinutes()).toBe(0);
      expect(Date.parse(first.from) - Date.parse(first.prevFrom)).toBe(Math.ceil((Date.parse(first.to) - Date.parse(first.from)) / 3600_000) * 3600_000);
      expect(await screen.findByTestId('function-trends')).toBeTruthy();
      expect(screen.getByTestId('function-trends').textContent).toContain('orders');
      expect(screen.getByTestId('function-trends').textContent).toContain('20 ms');
      await waitFor(() => expect(m.of('OverviewKpis').length).toBeGreaterThanOrEqual(2), { timeout: 3000 });
      const [a, b] = m.of('OverviewKpis');
      expect(Date.parse(b.variables.to)).toBeGreaterThan(Date.parse(a.variables.to));
      // pause stops polling
      fireEvent.click(screen.getByRole('button', { name: /Pause/ }));
      const n = m.of('OverviewKpis').length;
      await new Promise((r) => setTimeout(r, 800));
      expect(m.of('OverviewKpis').length).toBe(n);
    } finally {
      config.overviewPollingMs = saved;
    }
  });
});

describe('Analytics', () => {
  it('one query per panel (no query per name), figures from the rollups', async () => {
    const m = mockFetch({
      HourlyStats: () => ({
        data: { invocation_hourly: [{ hour_bucket: new Date(Math.floor(Date.now() / 3600_000) * 3600_000 - 3600_000).toISOString(), invocations: 7, completed: 5, failed: 2, duration_sum: 70, duration_count: 7, duration_hist: [0, 7] }] },
      }),
      SourceFunctions: () => ({ data: { rollup_source_functions: [{ source_function: 'orders' }] } }),
      SlowestJobThreshold: () => ({ data: { job_rollup: [{ duration_max: 900 }, { duration_max: 400 }] } }),
      SlowestJobs: () => ({ data: { job_executions: [{ id: 'j1', created_at: '2026-11-26T08:00:00Z', job_name: 'sendEmail', status: 'completed', duration_ms: 900, invocation_id: 'i1' }] } }),
      FailingJobs: () => ({
        data: {
          rollup_job_names: [
            { job_name: 'a', stats: { aggregate: { sum: { jobs: 10, completed: 9, failed: 1, duration_sum: 50, duration_count: 10 }, max: { duration_max: 9 } } } },
            { job_name: 'b', stats: { aggregate: { sum: { jobs: 4, completed: 1, failed: 3, duration_sum: 40, duration_count: 4 }, max: { duration_max: 20 } } } },
          ],
        },
      }),
      DetectionRates: () => ({
        data: { rollup_event_names: [{ event_name: 'orders.shipped', stats: { aggregate: { sum: { checked: 8, detected: 2, failed: 1, detection_failed: 1, handler_failed: 0 } } } }] },
      }),
      CorrelationCoverage: () => ({
        data: {
          totals: { aggregate: { sum: { invocations: 10, with_correlation_id: 10, chained: 3 } } },
          sources: [
            { correlation_source: 'generated', stats: { aggregate: { sum: { invocations: 4 } } } },
            { correlation_source: 'updated_by', stats: { aggregate: { sum: { invocations: 6 } } } },
          ],
        },
      }),
    });
    vi.stubGlobal('fetch', m.fn);
    const { AnalyticsPage } = await import('../Analytics');
    renderAt('/analytics?range=24h', '/analytics', <AnalyticsPage />);
    expect((await screen.findByTestId('series-total')).textContent).toContain('7');
    const failing = await screen.findByTestId('failing-jobs');
    expect(within(failing).getAllByRole('row')[1].textContent).toMatch(/^b3475\.0%10 ms/);
    expect((await screen.findByTestId('detection-rate')).textContent).toContain('25.0%');
    expect((await screen.findByTestId('coverage-percent')).textContent).toBe('60.0%');
    expect((await screen.findByTestId('slowest-jobs')).textContent).toContain('sendEmail');
    expect(m.of('SlowestJobs')[0].variables.minDuration).toBe(400);
    expect(m.of('SlowestJobs')[0].variables.idFrom).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-0000-0000-000000000000$/);
    for (const op of ['FailingJobs', 'DetectionRates', 'CorrelationCoverage', 'SlowestJobThreshold']) expect(m.of(op), op).toHaveLength(1);
    expect(new Date(m.of('FailingJobs')[0].variables.from).getUTCMinutes()).toBe(0);
  });
});

describe('Correlation chain', () => {
  const mk = (id: string, at: string, src: [job: string, owner: string] | null) => ({
    id, created_at: at, source_function: `fn-${id}`, source_table: 't', source_operation: 'UPDATE', status: 'completed', total_duration_ms: 10,
    correlation_id: 'a.b', correlation_source: 'explicit', source_job_id: src?.[0] ?? null, events_detected_count: 1, total_jobs_run: 1, total_jobs_failed: 0,
    source_job_execution: src ? { id: src[0], job_name: 'w', status: 'completed', invocation_id: src[1] } : null,
  });
  it('shows every invocation of the correlation ID with the causal links', async () => {
    const m = mockFetch({
      CorrelationChain: () => ({ data: { invocations: [mk('a', '2026-11-26T00:00:00Z', null), mk('b', '2026-11-26T00:00:01Z', ['j1', 'a'])], invocations_aggregate: count(2) } }),
    });
    vi.stubGlobal('fetch', m.fn);
    renderAt('/chains/a.b', '/chains/:correlationId', <ChainsPage />);
    expect((await screen.findByTestId('chain-count')).textContent).toBe('2');
    expect(screen.getByText(/1 causal link/)).toBeTruthy();
    expect(m.of('CorrelationChain')[0].variables).toEqual({ correlationId: 'a.b', limit: 500 });
    expect(within(screen.getByTestId('chain-timeline')).getByText('fn-b')).toBeTruthy();
    // events and jobs are read for the selected invocation only
    expect(m.of('ChainStepChildren')).toHaveLength(0);
  });
  it('the selected invocation shows its detected events and their jobs, read by id', async () => {
    const sel = mk('b', '2026-11-26T00:00:01Z', ['j1', 'a']);
    const m = mockFetch({
      ChainStepChildren: (v) => ({ data: { invocations_by_pk: { id: v.id, event_executions: [
        { id: 'e1', event_name: 'orders.shipped', status: 'completed', job_executions: [{ id: 'j2', job_name: 'notify', status: 'completed' }, { id: 'j3', job_name: 'bill', status: 'failed' }] },
        { id: 'e2', event_name: 'orders.paid', status: 'completed', job_executions: [] }] } } }),
    });
    vi.stubGlobal('fetch', m.fn);
    renderAt('/chains/a.b', '/chains/:correlationId', <ChainStep inv={sel} qs="" />);
    const list = await screen.findByRole('list');
    expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['orders.shipped: notify (completed), bill (failed)', 'orders.paid: no jobs']);
    expect(m.of('ChainStepChildren')[0].variables).toEqual({ id: 'b' });
    expect(screen.getByText('caused by job w')).toBeTruthy();
  });
  it('a selected invocation deleted since the chain was read says so', async () => {
    vi.stubGlobal('fetch', mockFetch({ ChainStepChildren: () => ({ data: { invocations_by_pk: null } }) }).fn);
    renderAt('/chains/a.b', '/chains/:correlationId', <ChainStep inv={mk('b', '2026-11-26T00:00:01Z', null)} qs="" />);
    expect((await screen.findByTestId('chain-step-events')).textContent).toMatch(/no longer stored/);
  });
});
