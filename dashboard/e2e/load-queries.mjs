// Load src/graphql/queries.ts from plain node (no TS loader needed): transpile with TypeScript.
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));

/** Import a dependency-free TypeScript module of src/ (e.g. 'graphql/queries.ts', 'lib/format.ts'). */
export async function loadTsModule(relPath) {
  const src = await readFile(join(here, '..', 'src', relPath), 'utf8');
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  const dir = await mkdtemp(join(tmpdir(), 'eventscope-e2e-'));
  const file = join(dir, relPath.replace(/[\/]/g, '_').replace(/\.ts$/, '.mjs'));
  await writeFile(file, out.outputText);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function loadQueries() {
  return loadTsModule('graphql/queries.ts');
}

/** The smallest UUIDv7 of a millisecond (as lib/rollups.ts uuid7Lower). */
export function uuid7Lower(ms) {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** Representative variables for each operation (what the app sends). */
export function sampleVariables(now = Date.now()) {
  const to = new Date(now).toISOString();
  const from = new Date(now - 24 * 3600e3).toISOString();
  const prevFrom = new Date(now - 48 * 3600e3).toISOString();
  const id = '00000000-0000-0000-0000-000000000000';
  const range = { from, to };
  const hourFrom = new Date(Math.floor((now - 24 * 3600e3) / 3600e3) * 3600e3).toISOString();
  const hourRange = { from: hourFrom, to };
  return {
    HealthCheck: {},
    OverviewKpis: { ...hourRange, prevFrom: new Date(Date.parse(hourFrom) - 25 * 3600e3).toISOString() },
    FunctionTotals: { ...hourRange, prevFrom: new Date(Date.parse(hourFrom) - 25 * 3600e3).toISOString() },
    RecentInvocations: { ...range, limit: 15 },
    DashboardStatsRange: hourRange,
    HourlyStats: hourRange,
    FunctionHourlyStats: { ...hourRange, sourceFunction: 'x' },
    InvocationsList: {
      where: { _and: [{ created_at: { _gte: from, _lt: to } }, { event_executions: { event_name: { _eq: 'x' } } }, { job_executions: { job_name: { _eq: 'y' } } }, { status: { _eq: 'failed' } }] },
      orderBy: [{ total_duration_ms: 'desc_nulls_last' }, { created_at: 'desc' }, { id: 'desc' }],
      limit: 50,
      offset: 0,
    },
    InvocationsCount: {
      where: { _and: [{ created_at: { _gte: from, _lt: to } }, { event_executions: { event_name: { _eq: 'x' } } }, { job_executions: { job_name: { _eq: 'y' } } }, { status: { _eq: 'failed' } }] },
      countLimit: 1001,
    },
    SourceFunctions: hourRange,
    InvocationDetail: { id },
    InvocationPayload: { id },
    CorrelationChain: { correlationId: 'x', limit: 500 },
    ChainStepChildren: { id },
    SlowestJobThreshold: { ...hourRange, limit: 10 },
    SlowestJobs: { ...range, idFrom: uuid7Lower(now - 24 * 3600e3 - 60e3), idTo: uuid7Lower(now + 60e3), minDuration: 0, limit: 10 },
    FailingJobs: { ...hourRange, limit: 40 },
    DetectionRates: { ...hourRange, limit: 40 },
    CorrelationCoverage: hourRange,
    SearchInvocations: { where: { _or: [{ correlation_id: { _ilike: '%x%' } }, { source_function: { _ilike: '%x%' } }, { source_user_email: { _ilike: '%x%' } }] }, limit: 10 },
    SearchPayloadContains: { contains: { a: 1 }, limit: 10 },
    SearchPayloadKey: { key: 'event', limit: 10 },
    LookupEventExecution: { id },
    LookupJobExecution: { id },
    LookupJobLog: { id },
    InvocationValues: { id },
    DetectionFunnel: { ...hourRange, eventName: 'x' },
    FunnelStoppedAt: { where: { _and: [{ event_name: { _eq: 'x' } }, { created_at: { _gte: from, _lt: to } }, { detection_rejected_by: { _eq: 'y' } }] }, limit: 50 },
    ReplayRuns: { limit: 100 },
    ReplayReport: { id, limit: 500 },
  };
}

/** Operations that need the payload column, which the read-only role may not have. */
export const PAYLOAD_OPERATIONS = new Set(['InvocationPayload', 'InvocationValues', 'SearchPayloadContains', 'SearchPayloadKey']);
