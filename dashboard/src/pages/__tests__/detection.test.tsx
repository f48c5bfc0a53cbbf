import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { mockFetch } from '../../test/mockApi';
import { renderAt } from '../../test/render';
import { InvocationDetailPage } from '../InvocationDetail';
import { FunnelPage } from '../Funnel';
import { ComparePage } from '../Compare';
import { ReplaysPage } from '../Replays';

afterEach(() => vi.unstubAllGlobals());

const A = '00000000-0000-4000-8000-0000000000a1';
const B = '00000000-0000-4000-8000-0000000000b2';
const event = (id: string, name: string, detected: boolean, clauses: unknown, rejected: string | null, jobs: unknown[] = []) => ({
  id, created_at: '', event_name: name, event_module_path: null, detected, status: detected ? 'completed' : 'not_detected', detection_duration_ms: 0,
  handler_duration_ms: null, detection_error: null, detection_error_stack: null, handler_error: null, handler_error_stack: null,
  jobs_count: jobs.length, jobs_succeeded: jobs.length, jobs_failed: 0, detection_clauses: clauses, detection_rejected_by: rejected, job_executions: jobs,
});
const job = (id: string, name: string, status: string, duration: number) => ({
  id, created_at: '', updated_at: '', job_name: name, job_function_name: null, job_options: null, status, duration_ms: duration, result: null,
  error_message: null, error_type: null, error_stack: null, logs: [], triggered_invocations: [],
});
const inv = (id: string, events: unknown[], changed: string[] | null) => ({
  id, created_at: '2026-11-26T08:00:00Z', source_function: 'db-orders', source_table: 'orders', source_operation: 'UPDATE', status: 'completed',
  total_duration_ms: 0, correlation_id: 'c', correlation_source: 'explicit', events_detected_count: 0, total_jobs_run: 0, total_jobs_succeeded: 0,
  total_jobs_failed: 0, source_user_email: null, error_message: null, updated_at: '', source_system: 'hasura', source_event_id: null, source_event_time: null,
  source_user_role: null, source_job_id: null, auto_load_modules: null, event_modules_directory: null, error_type: null, error_stack: null,
  source_job_execution: null, changed_columns: changed, event_executions: events,
});
const shippedClauses = [{ name: 'status changed', outcome: 'passed' }, { name: 'now shipped', outcome: 'failed' }];
const payload = (status: string) => ({ event: { op: 'UPDATE', data: { old: { id: 1, status: 'pending' }, new: { id: 1, status } } } });
const denied = () => ({ errors: [{ message: "field 'source_event_payload' not found in type: 'invocations'", extensions: { code: 'validation-failed' } }] });

describe('invocation page: why not detected, old -> new', () => {
  const detail = inv(A, [event('e1', 'orders.shipped', false, shippedClauses, 'now shipped')], ['status']);
  it('shows the stopping clause with the values it compared and the changed columns with old/new values', async () => {
    vi.stubGlobal('fetch', mockFetch({
      InvocationDetail: () => ({ data: { invocations_by_pk: detail } }),
      InvocationValues: () => ({ data: { invocations_by_pk: { id: A, source_event_payload: payload('cancelled'), event_executions: [{ id: 'e1', detection_clause_values: [{ expression: 'before != now', lhs: '"pending"', op: '!=', rhs: '"cancelled"' }, { expression: 'now == "shipped"', lhs: '"cancelled"', op: '==', rhs: '"shipped"' }] }] } } }),
    }).fn);
    renderAt(`/invocations/${A}`, '/invocations/:id', <InvocationDetailPage />);
    const stopped = await screen.findByTestId('stopped-by');
    expect(stopped.textContent).toContain('now shipped');
    await waitFor(() => expect(screen.getByTestId('stopped-by').textContent).toContain('"cancelled" == "shipped"'));
    expect(screen.getByTestId('changed-column').textContent).toBe('status');
    const row = within(screen.getByTestId('changes-table')).getAllByRole('row')[1];
    expect(row.textContent).toBe('status pendingcancelled');
  });
  it('a role without payload access sees clause names and changed column names, and is told values are hidden', async () => {
    vi.stubGlobal('fetch', mockFetch({ InvocationDetail: () => ({ data: { invocations_by_pk: detail } }), InvocationValues: denied }).fn);
    renderAt(`/invocations/${A}`, '/invocations/:id', <InvocationDetailPage />);
    await screen.findByTestId('changes-denied');
    expect(screen.getByTestId('stopped-by').textContent).toMatch(/now shipped.*values hidden from your role/);
    expect(screen.getByTestId('changed-column').textContent).toBe('status');
  });
});

describe('funnel page', () => {
  it('steps from the rollups, top rejecting clause highlighted, a click lists the invocations stopped there', async () => {
    const m = mockFetch({
      DetectionRates: () => ({ data: { rollup_event_names: [{ event_name: 'orders.shipped', stats: { aggregate: { sum: { checked: 100 } } } }] } }),
      DetectionFunnel: () => ({ data: {
        events: { aggregate: { sum: { checked: 100, detected: 20, completed: 18, failed: 2, detection_failed: 0, handler_failed: 0 } } },
        clauses: [
          { clause_index: 1, clause_name: 'status changed', stats: { aggregate: { sum: { evaluated: 100, passed: 70, failed: 30, threw: 0 } } } },
          { clause_index: 2, clause_name: 'now shipped', stats: { aggregate: { sum: { evaluated: 70, passed: 20, failed: 50, threw: 0 } } } },
        ],
      } }),
      FunnelStoppedAt: () => ({ data: { event_executions: [{ id: 'x', created_at: '2026-11-26T08:00:00Z', invocation_id: A, event_name: 'orders.shipped', status: 'not_detected', detected: false, detection_rejected_by: 'now shipped', detection_clauses: shippedClauses, detection_error: null, invocation: { id: A, source_function: 'db-orders', source_operation: 'UPDATE', correlation_id: 'c', changed_columns: ['status'] } }] } }),
    });
    vi.stubGlobal('fetch', m.fn);
    renderAt('/funnel?range=24h&event=orders.shipped', '/funnel', <FunnelPage />);
    await screen.findByTestId('funnel');
    const steps = screen.getAllByTestId('funnel-step');
    expect(steps.map((s) => s.getAttribute('data-count'))).toEqual(['100', '70', '20', '20', '18']);
    expect(steps.map((s) => s.getAttribute('data-stopped'))).toEqual(['0', '30', '50', '2', '0']);
    expect(steps[2].className).toContain('top-rejecting');
    fireEvent.click(within(steps[2]).getByRole('button'));
    const list = await screen.findByTestId('funnel-stopped-table');
    expect(list.textContent).toContain('db-orders');
    const where = m.of('FunnelStoppedAt')[0].variables.where._and;
    expect(where).toContainEqual({ detection_rejected_by: { _eq: 'now shipped' } });
    expect(m.of('DetectionFunnel')[0].variables.eventName).toBe('orders.shipped');
  });
});

describe('compare page', () => {
  it('payload diff, decisions with clauses, job status and duration deltas; ids from the URL', async () => {
    const a = inv(A, [event('ea', 'orders.shipped', true, [{ name: 'now shipped', outcome: 'passed' }], null, [job('j1', 'notify_carrier', 'completed', 40)])], ['status']);
    const b = inv(B, [event('eb', 'orders.shipped', false, shippedClauses, 'now shipped')], ['status']);
    vi.stubGlobal('fetch', mockFetch({
      InvocationDetail: (v) => ({ data: { invocations_by_pk: v.id === A ? a : b } }),
      InvocationValues: (v) => ({ data: { invocations_by_pk: { id: v.id, source_event_payload: payload(v.id === A ? 'shipped' : 'cancelled'), event_executions: [] } } }),
    }).fn);
    renderAt(`/compare?a=${A}&b=${B}`, '/compare', <ComparePage />);
    const diff = await screen.findByTestId('payload-diff');
    expect(within(diff).getAllByRole('row')[1].textContent).toBe('event.data.new.statusshippedcancelled');
    const ev = screen.getByTestId('compare-events');
    expect(ev.querySelector('tr.differs')?.textContent).toMatch(/detected.*not detected.*stopped by now shipped/);
    expect(screen.getByTestId('duration-delta').textContent).toBe('—');
    expect(screen.getByTestId('compare-jobs').textContent).toContain('did not run');
  });
});

describe('replays page', () => {
  it('report: per event type before/after and the changed decisions with their clause', async () => {
    vi.stubGlobal('fetch', mockFetch({
      ReplayReport: () => ({ data: { replay_runs_by_pk: {
        id: A, created_at: '2026-11-26T08:00:00Z', finished_at: '2026-11-26T08:00:01Z', status: 'completed', build_label: 'v2', selection: { limit: 10 },
        invocations_replayed: 3, invocations_skipped: 1, decisions_changed: 1, error_message: null,
        report: [{ event_name: 'orders.shipped', checked: 3, detected_before: 2, detected_after: 1, changed: 1, newly_detected: 0, no_longer_detected: 1 }],
        decisions: [{ id: 'd', invocation_id: B, invocation_created_at: '2026-11-26T07:00:00Z', source_function: 'db-orders', correlation_id: null, event_name: 'orders.shipped',
          detected_before: true, detected_after: false, changed_clause: 'carrier known', rejected_by_before: null, rejected_by_after: 'carrier known', error_after: null,
          clauses_before: null, clauses_after: [{ name: 'carrier known', outcome: 'failed' }] }],
      } } }),
    }).fn);
    renderAt(`/replays/${A}`, '/replays/:id', <ReplaysPage />);
    expect((await screen.findByTestId('replay-totals')).textContent).toContain('3 replayed, 1 skipped');
    expect(within(screen.getByTestId('replay-events')).getAllByRole('row')[1].textContent).toBe('orders.shipped32101');
    expect(screen.getByTestId('changed-clause').textContent).toBe('carrier known');
  });
});
