import { describe, expect, it } from 'vitest';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import querySource from '../queries.ts?raw';
import * as Q from '../queries';

const entries = Object.entries(Q) as [string, unknown][];

describe('queries.ts: every operation of the app', () => {
  it('exports only plain strings', () => {
    expect(entries.length).toBeGreaterThan(15);
    for (const [name, v] of entries) expect(typeof v, name).toBe('string');
  });
  it.each(entries)('%s parses, is one query named like its export, without interpolation', (name, text) => {
    const doc = parse(text as string);
    expect(doc.definitions).toHaveLength(1);
    const op = doc.definitions[0] as OperationDefinitionNode;
    expect(op.kind).toBe(Kind.OPERATION_DEFINITION);
    expect(op.operation).toBe('query');
    expect(op.name?.value).toBe(name);
    expect(text as string).not.toContain('${');
  });
  it('the source file is literal template strings (no ${} anywhere)', () => {
    expect(querySource.length).toBeGreaterThan(1000);
    expect(querySource).not.toMatch(/\$\{/);
  });
  it('only the payload operations touch source_event_payload (the read-only role may lack it)', () => {
    const payloadOps = entries.filter(([, t]) => (t as string).includes('source_event_payload')).map(([n]) => n).sort();
    expect(payloadOps).toEqual(['InvocationPayload', 'InvocationValues', 'SearchPayloadContains', 'SearchPayloadKey']);
  });
  it('clause values (hidden from the read-only role like payloads) are read only with the payload, by InvocationValues', () => {
    const valueOps = entries.filter(([, t]) => /detection_clause_values|clause_values_(before|after)/.test(t as string)).map(([n]) => n);
    expect(valueOps).toEqual(['InvocationValues']);
  });
  it('slowest jobs sort NULL durations last', () => {
    expect(Q.SlowestJobs).toMatch(/duration_ms:\s*desc_nulls_last/);
    expect(Q.SlowestJobs).not.toMatch(/duration_ms:\s*desc\b(?!_)/);
  });
  it('every analytics/overview query is bounded in time', () => {
    for (const name of ['OverviewKpis', 'FunctionTotals', 'RecentInvocations', 'DashboardStatsRange', 'HourlyStats', 'FunctionHourlyStats', 'SourceFunctions', 'SlowestJobThreshold', 'SlowestJobs', 'FailingJobs', 'DetectionRates', 'CorrelationCoverage'] as const) {
      expect(Q[name], name).toMatch(/_gte: \$from/);
    }
  });
  it('aggregates over a time window read the rollups, never the raw tables', () => {
    for (const name of ['OverviewKpis', 'FunctionTotals', 'HourlyStats', 'FunctionHourlyStats', 'SourceFunctions', 'SlowestJobThreshold', 'FailingJobs', 'DetectionRates', 'CorrelationCoverage'] as const) {
      expect(Q[name], name).not.toMatch(/\b(invocations|event_executions|job_executions)(_aggregate)?\s*\(/);
    }
    // the one raw list that could be wide is bounded by a rollup threshold and by id (partition pruning)
    expect(Q.SlowestJobs).toMatch(/duration_ms: \{ _gte: \$minDuration \}/);
    expect(Q.SlowestJobs).toMatch(/id: \{ _gte: \$idFrom, _lt: \$idTo \}/);
    // the pager's count stops at a limit, in a request of its own (the rows do not wait for it)
    expect(Q.InvocationsCount).toMatch(/invocations_aggregate\(where: \$where, limit: \$countLimit\)/);
    expect(Q.InvocationsList).not.toMatch(/_aggregate/);
  });
  it('the component-side code never sends a query that is not in queries.ts', () => {
    // gqlRequest's first argument is always an imported constant: no inline query text elsewhere
    const files = import.meta.glob('../../**/*.{ts,tsx}', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
    expect(Object.keys(files).length).toBeGreaterThan(15);
    for (const [file, src] of Object.entries(files)) {
      if (file.includes('queries.ts') || file.includes('__tests__') || file.includes('/test/')) continue;
      expect(src, file).not.toMatch(/`\s*(query|mutation|subscription)\s+\w+/);
      expect(src, file).not.toMatch(/gqlRequest(<[^>]*>)?\(\s*[`'"]/);
    }
  });
});
