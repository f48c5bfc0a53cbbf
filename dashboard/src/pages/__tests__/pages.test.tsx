import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { config } from '../../config';
import { mockFetch } from '../../test/mockApi';
import { renderAt } from '../../test/render';
import { InvocationsPage } from '../Invocations';
import { InvocationDetailPage } from '../InvocationDetail';
import { OverviewPage } from '../Overview';
import { ChainsPage } from '../Chains';

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
      InvocationsList: (v) => ({ data: { invocations: v.offset === 0 ? [row('00000000-0000-4000-8000-000000000001'), row('00000000-0000-4000-8000-000000000002', { total_duration_ms: null, status: 'failed' })] : [], invocations_aggregate: count(123) } }),
      SourceFunctions: () => ({ data: { invocations: [{ source_function: 'orders' }] } }),
    });
    vi.stubGlobal('fetch', m.fn);
  });

  it('sends the URL filters as variables (relationship filters for event/job) and shows the server count', async () => {
    renderAt('/invocations?range=6h&status=failed&event=orders.shipped&job=sendEmail&fn=orders&corr=abc', '/invocations', <InvocationsPage />);
    expect(await screen.findByTestId('invocations-total')).toHaveProperty('textContent', '123');
    const v = m.of('InvocationsList')[0].variables;
    const and = v.where._and as Record<string, unknown>[];
    expect(and).toContainEqual({ event_executions: { event_name: { _eq: 'orders.shipped' } } });
    expect(and).toContainEqual({ job_executions: { job_name: { _eq: 'sendEmail' } } });
    expect(and).toContainEqual({ status: { _eq: 'failed' } });
    expect(and).toContainEqual({ correlation_id: { _eq: 'abc' } });
    const range = and[0].created_at as { _gte: string; _lt: string };
    expect(Date.parse(range._lt) - Date.parse(range._gte)).toBe(6 * 3600_000);
    expect(v.limit).toBe(50);
    expect(v.offset).toBe(0);
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
  });

  it('empty and error states say what to do', async () => {
    vi.stubGlobal('fetch', mockFetch({ InvocationsList: () => ({ data: { invocations: [], invocations_aggregate: count(0) } }), SourceFunctions: () => ({ data: { invocations: [] } }) }).fn);
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
  it('KPIs and trends come from both periods; polling moves the window forward', async () => {
    const saved = config.overviewPollingMs;
    config.overviewPollingMs = 300;
    const m = mockFetch({
      OverviewKpis: () => ({
        data: {
          current_total: count(200), current_completed: count(180), current_failed: count(20), current_timed: count(100),
          previous_total: count(100), previous_completed: count(90), previous_failed: count(10), previous_timed: count(0),
        },
      }),
      DurationPercentiles: () => ({ data: { current: [{ total_duration_ms: 250 }], previous: [] } }),
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
      // p95 of the previous period has no data: no trend is invented
      expect(screen.getByTestId('kpi-p95').textContent).toContain('250 ms');
      expect(screen.getByTestId('kpi-p95').textContent).toContain('no previous data');
      expect(m.of('DurationPercentiles')[0].variables).toMatchObject({ currentOffset: 5, previousOffset: 0 });
      await waitFor(() => expect(m.of('OverviewKpis').length).toBeGreaterThanOrEqual(2), { timeout: 3000 });
      const [a, b] = m.of('OverviewKpis');
      expect(Date.parse(b.variables.to)).toBeGreaterThan(Date.parse(a.variables.to));
      expect(Date.parse(b.variables.from)).toBeGreaterThan(Date.parse(a.variables.from));
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

describe('Correlation chain', () => {
  it('shows every invocation of the correlation ID with the causal links', async () => {
    const mk = (id: string, at: string, src: string | null, jobs: string[]) => ({
      id, created_at: at, source_function: `fn-${id}`, source_table: 't', source_operation: 'UPDATE', status: 'completed', total_duration_ms: 10,
      correlation_id: 'a.b', correlation_source: 'explicit', source_job_id: src, events_detected_count: 1, total_jobs_run: jobs.length, total_jobs_failed: 0,
      source_job_execution: src ? { id: src, job_name: 'w', status: 'completed', invocation_id: 'x' } : null,
      event_executions: [{ id: `e${id}`, event_name: 'ev', status: 'completed', job_executions: jobs.map((j) => ({ id: j, job_name: `job-${j}`, status: 'completed', duration_ms: 1, created_at: at })) }],
    });
    const m = mockFetch({
      CorrelationChain: () => ({ data: { invocations: [mk('a', '2026-11-26T00:00:00Z', null, ['j1']), mk('b', '2026-11-26T00:00:01Z', 'j1', [])], invocations_aggregate: count(2) } }),
    });
    vi.stubGlobal('fetch', m.fn);
    renderAt('/chains/a.b', '/chains/:correlationId', <ChainsPage />);
    expect((await screen.findByTestId('chain-count')).textContent).toBe('2');
    expect(screen.getByText(/1 causal link/)).toBeTruthy();
    expect(m.of('CorrelationChain')[0].variables).toEqual({ correlationId: 'a.b', limit: 500 });
    expect(within(screen.getByTestId('chain-timeline')).getByText('fn-b')).toBeTruthy();
  });
});
