import { describe, expect, it } from 'vitest';
import type { ChainInvocation, InvocationDetailData } from '../../graphql/types';
import { buildChainGraph, buildInvocationFlow, chainTimeline, layoutGraph, statusTone } from '../flow';

function job(id: string, status: string, triggered: string[] = []) {
  return {
    id, created_at: '2026-11-26T00:00:00Z', updated_at: '2026-11-26T00:00:00Z', job_name: `job-${id}`, job_function_name: null, job_options: null,
    status, duration_ms: 10, result: null, error_message: null, error_type: null, error_stack: null, logs: [],
    triggered_invocations: triggered.map((t) => ({ id: t, source_function: 'next', status: 'completed', created_at: '2026-11-26T00:00:01Z' })),
  };
}
function ev(id: string, detected: boolean, status: string, jobs: ReturnType<typeof job>[] = []) {
  return {
    id, created_at: '2026-11-26T00:00:00Z', event_name: `event-${id}`, event_module_path: null, detected, status, detection_duration_ms: 1, handler_duration_ms: 2,
    detection_error: null, detection_error_stack: null, handler_error: null, handler_error_stack: null, jobs_count: jobs.length, jobs_succeeded: 0, jobs_failed: 0, job_executions: jobs,
  };
}
const inv = {
  id: 'i1', created_at: '2026-11-26T00:00:00Z', source_function: 'orders', source_table: 'orders', source_operation: 'UPDATE', status: 'failed',
  total_duration_ms: 50, correlation_id: 'c', correlation_source: 'explicit', events_detected_count: 1, total_jobs_run: 2, total_jobs_succeeded: 1, total_jobs_failed: 1,
  source_user_email: null, error_message: null, updated_at: '', source_system: null, source_event_id: null, source_event_time: null, source_user_role: null,
  source_job_id: 'up-job', auto_load_modules: null, event_modules_directory: null, error_type: null, error_stack: null,
  source_job_execution: { id: 'up-job', job_name: 'writer', status: 'completed', invocation_id: 'i0', invocation: { id: 'i0', source_function: 'upstream' } },
  event_executions: [ev('e1', true, 'failed', [job('j1', 'completed', ['i2']), job('j2', 'failed')]), ev('e2', false, 'not_detected'), ev('e3', false, 'not_detected'), ev('e4', false, 'detection_failed')],
} as unknown as InvocationDetailData;

describe('invocation flow graph', () => {
  it('invocation → events → jobs, undetected events collapsed into one node', () => {
    const g = buildInvocationFlow(inv, { expandUndetected: false });
    const kinds = g.nodes.map((n) => n.kind).sort();
    expect(kinds).toEqual(['downstream', 'event', 'event', 'invocation', 'job', 'job', 'undetected', 'upstream'].sort());
    expect(g.nodes.find((n) => n.kind === 'undetected')?.label).toBe('2 events not detected');
    // a failed detection is never hidden
    expect(g.nodes.some((n) => n.refId === 'e4')).toBe(true);
    expect(g.edges.map((e) => `${e.source}>${e.target}`)).toContain('ev:e1>job:j2');
    expect(g.edges.map((e) => `${e.source}>${e.target}`)).toContain('up:up-job>inv:i1');
    expect(g.edges.map((e) => `${e.source}>${e.target}`)).toContain('job:j1>down:i2');
  });
  it('expanding shows each undetected event', () => {
    const g = buildInvocationFlow(inv, { expandUndetected: true });
    expect(g.nodes.filter((n) => n.kind === 'event')).toHaveLength(4);
    expect(g.nodes.some((n) => n.kind === 'undetected')).toBe(false);
  });
  it('layout places every node left to right by depth', () => {
    const g = buildInvocationFlow(inv, { expandUndetected: false });
    const pos = layoutGraph(g);
    expect(pos.size).toBe(g.nodes.length);
    expect(pos.get('inv:i1')!.x).toBeLessThan(pos.get('ev:e1')!.x);
    expect(pos.get('ev:e1')!.x).toBeLessThan(pos.get('job:j1')!.x);
  });
  it('status colours', () => {
    expect(statusTone('completed')).toBe('ok');
    expect(statusTone('handler_failed')).toBe('fail');
    expect(statusTone('detecting')).toBe('running');
    expect(statusTone('not_detected')).toBe('muted');
  });
});

describe('correlation chain graph', () => {
  /** cause: the job that wrote the row and the invocation that job belongs to. */
  const chainInv = (id: string, at: string, cause: [job: string, owner: string] | null, dur = 100): ChainInvocation => ({
    id, created_at: at, source_function: `fn-${id}`, source_table: null, source_operation: null, status: 'completed', total_duration_ms: dur,
    correlation_id: 'c', correlation_source: 'explicit', source_job_id: cause?.[0] ?? null, events_detected_count: 1, total_jobs_run: 1, total_jobs_failed: 0,
    source_job_execution: cause ? { id: cause[0], job_name: `job-${cause[0]}`, status: 'completed', invocation_id: cause[1] } : null,
  });
  it('links the job that wrote the row to the invocation it caused', () => {
    const invs = [chainInv('a', '2026-11-26T00:00:00.000Z', null), chainInv('b', '2026-11-26T00:00:00.200Z', ['ja', 'a']), chainInv('c', '2026-11-26T00:00:00.400Z', ['jb', 'b'], 30)];
    const g = buildChainGraph(invs);
    expect(g.nodes).toHaveLength(3);
    expect(g.edges.map((e) => `${e.source}>${e.target}:${e.label}`)).toEqual(['inv:a>inv:b:job-ja', 'inv:b>inv:c:job-jb']);
    const tl = chainTimeline(invs);
    expect(tl.rows.map((r) => r.offset)).toEqual([0, 200, 400]);
    expect(tl.span).toBe(430);
  });
  it('a causing job outside the chain becomes an external node', () => {
    const g = buildChainGraph([chainInv('b', '2026-11-26T00:00:00Z', ['zz', 'elsewhere'])]);
    expect(g.nodes.map((n) => n.kind).sort()).toEqual(['external', 'invocation']);
    expect(g.nodes.find((n) => n.kind === 'external')?.refId).toBe('elsewhere');
    expect(g.edges).toHaveLength(1);
  });
  it('a causing job whose row is gone still links, to a node that says so', () => {
    const inv = { ...chainInv('b', '2026-11-26T00:00:00Z', null), source_job_id: 'gone' };
    const g = buildChainGraph([inv]);
    expect(g.nodes.find((n) => n.kind === 'external')?.sublabel).toBe('job record not available');
    expect(g.edges.map((e) => e.target)).toEqual(['inv:b']);
  });
});
