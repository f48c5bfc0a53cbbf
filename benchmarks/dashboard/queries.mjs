// Times every GraphQL operation the dashboard sends (dashboard/src/graphql/queries.ts) and the seed's three
// example queries, through the console server (dashboard/server), as the browser would: HTTP POST /v1/graphql.
//   node benchmarks/dashboard/queries.mjs --endpoint http://127.0.0.1:PORT/v1/graphql [--reps 20] [--hours 24,168] [--only TEXT]
//     [--count-limit N]   (the pager's count cap, dashboard/src/lib/filters.ts COUNT_LIMIT; default that constant)
//   (--only: the operations whose name contains TEXT; --same-as URL: each operation's raw response must equal that of
//   another server, e.g. the build before a compiler change, or the line reports an error)
// Variables are real values drawn from the data (an invocation id, a shared correlation id, a job name).
// Prints one JSON line per (operation, range): p50/p95/max ms round trip, rows; exits 1 if any query errors.
import { performance } from 'node:perf_hooks';
import { loadQueries, loadTsModule, sampleVariables, uuid7Lower } from '../../dashboard/e2e/load-queries.mjs';

const usage = 'usage: node benchmarks/dashboard/queries.mjs --endpoint http://127.0.0.1:PORT/v1/graphql [--reps 20] [--hours 24,168] ' +
  '[--only TEXT] [--count-limit N] [--same-as URL]';
const known = new Set(['endpoint', 'reps', 'hours', 'only', 'count-limit', 'same-as']);
const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  const [flag, value] = [process.argv[i], process.argv[i + 1]];
  if (!flag.startsWith('--') || !known.has(flag.slice(2))) fail(`unknown argument ${flag}`);
  if (value === undefined || value.startsWith('--')) fail(`${flag} needs a value`);
  args[flag.slice(2)] = value;
}
function fail(message) {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}
if (!args.endpoint) fail('missing --endpoint');
const endpoint = args.endpoint;
const reps = Number(args.reps ?? 20);
if (!Number.isInteger(reps) || reps < 1) fail(`--reps must be a positive integer, not ${args.reps}`);
const hoursList = String(args.hours ?? '24').split(',').map(Number);
if (hoursList.some((h) => !(h > 0))) fail(`--hours must be positive numbers of hours separated by commas, not ${args.hours}`);

async function rawResponse(url, query, variables) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return res.text();
}

async function gql(query, variables) {
  const body = JSON.parse(await rawResponse(endpoint, query, variables));
  if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 400));
  return body.data;
}

const seed = {
  SeedTraceCorrelationId: `query SeedTraceCorrelationId($correlationId: String!) {
  invocations(where: { correlation_id: { _eq: $correlationId } }) {
    id source_function correlation_id created_at total_duration_ms
    event_executions { event_name detected correlation_id job_executions { job_name status duration_ms correlation_id } }
  }
}`,
  SeedRecentInvocations: `query SeedRecentInvocations {
  invocations(limit: 10, order_by: { created_at: desc }) {
    id source_function correlation_id created_at total_duration_ms events_detected_count
    event_executions { event_name detected correlation_id job_executions { job_name status duration_ms correlation_id } }
  }
}`,
  SeedPerformanceAnalytics: `query SeedPerformanceAnalytics($timeRange: timestamptz!) {
  dashboard_stats(where: { hour_bucket: { _gte: $timeRange } }, order_by: { hour_bucket: asc }) {
    hour_bucket source_function total_invocations avg_duration_ms successful_invocations failed_invocations
  }
}`,
};

function pct(sorted, p) { return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]; }

const queries = await loadQueries();
// The list's sort orders as the app builds them.
const { SORTABLE_COLUMNS, buildInvocationOrderBy, COUNT_LIMIT } = await loadTsModule('lib/filters.ts');
const countLimit = Number(args['count-limit'] ?? COUNT_LIMIT);
if (!Number.isInteger(countLimit) || countLimit < 1) fail(`--count-limit must be a positive integer, not ${args['count-limit']}`);
// Real values from the data.
const pick = await gql(`query { invocations(order_by: [{ created_at: desc }], limit: 1, where: { correlation_source: { _eq: "updated_by" } }) {
  id correlation_id job_executions(limit: 1) { id job_name } event_executions(limit: 1) { id } } }`, {});
const inv = pick.invocations[0];
const log = await gql(`query { job_logs(limit: 1, order_by: [{ created_at: desc }]) { id } }`, {});
const missing = [!inv && 'an invocation with correlation_source "updated_by"', inv && !inv.job_executions.length && 'a job execution of it',
  inv && !inv.event_executions.length && 'an event execution of it', !log.job_logs.length && 'a job log line'].filter(Boolean);
if (missing.length) {
  fail(`the database behind ${endpoint} lacks what the operations take their variables from (${missing.join('; ')}): ` +
    'run it on the data benchmarks/dashboard/generate.sql makes');
}
let failed = 0;
for (const hours of hoursList) {
  const now = Date.now();
  const v = sampleVariables(now);
  const from = new Date(now - hours * 3600e3).toISOString(), to = new Date(now).toISOString();
  // Aggregates read whole hours, as the app sends them (lib/rollups.ts hourWindow); lists the exact window.
  const hourFromMs = Math.floor((now - hours * 3600e3) / 3600e3) * 3600e3;
  const hourFrom = new Date(hourFromMs).toISOString();
  const hourPrevFrom = new Date(hourFromMs - Math.ceil((now - hourFromMs) / 3600e3) * 3600e3).toISOString();
  const rollupOps = new Set(['OverviewKpis', 'FunctionTotals', 'DashboardStatsRange', 'HourlyStats', 'FunctionHourlyStats', 'SourceFunctions',
    'SlowestJobThreshold', 'FailingJobs', 'DetectionRates', 'CorrelationCoverage']);
  for (const k of Object.keys(v)) {
    if (!('from' in v[k])) continue;
    Object.assign(v[k], rollupOps.has(k) ? { from: hourFrom, to } : { from, to });
    if ('prevFrom' in v[k]) v[k].prevFrom = hourPrevFrom;
  }
  Object.assign(v.InvocationDetail, { id: inv.id });
  Object.assign(v.InvocationPayload, { id: inv.id });
  Object.assign(v.CorrelationChain, { correlationId: inv.correlation_id });
  Object.assign(v.ChainStepChildren, { id: inv.id });
  Object.assign(v.FunctionHourlyStats, { sourceFunction: 'fn-1' });
  Object.assign(v.LookupEventExecution, { id: inv.event_executions[0].id });
  Object.assign(v.LookupJobExecution, { id: inv.job_executions[0].id });
  Object.assign(v.LookupJobLog, { id: log.job_logs[0].id });
  v.InvocationsList.where = { _and: [{ created_at: { _gte: from, _lt: to } }, { status: { _eq: 'failed' } }] };
  v.InvocationsCount.where = v.InvocationsList.where;
  v.InvocationsCount.countLimit = countLimit;
  // SlowestJobs reads jobs at or above the threshold SlowestJobThreshold gives, as the app does.
  const th = await gql(queries.SlowestJobThreshold, v.SlowestJobThreshold);
  Object.assign(v.SlowestJobs, { idFrom: uuid7Lower(now - hours * 3600e3 - 60e3), idTo: uuid7Lower(now + 60e3),
    minDuration: th.job_rollup.length ? Math.min(...th.job_rollup.map((r) => Number(r.duration_max))) : 0 });
  v.InvocationsList.orderBy = [{ created_at: 'desc' }, { id: 'desc' }];
  const byDuration = buildInvocationOrderBy('total_duration_ms', 'desc');
  const childNames = (event, job) => ({ _or: [{ child_names: { _contains: { events: [event], jobs: [job] } } },
    { _and: [{ child_names: { _is_null: true } }, { event_executions: { event_name: { _eq: event } } }, { job_executions: { job_name: { _eq: job } } }] }] });
  // The list and its count are two requests in the app (dashboard/src/graphql/queries.ts); the combined form is
  // the one request it sent before, kept for comparison in the same run.
  const listWithCount = queries.InvocationsList
    .replace('$offset: Int!)', '$offset: Int!, $countLimit: Int!)')
    .replace(/\n}$/, '\n  invocations_aggregate(where: $where, limit: $countLimit) {\n    aggregate { count }\n  }\n}');
  if (!listWithCount.includes('$countLimit: Int!') || !listWithCount.includes('invocations_aggregate')) {
    throw new Error('InvocationsList no longer has the shape the one-request form is derived from (queries.mjs)');
  }
  const filtered = (label, where, orderBy) => ({
    [`InvocationsList[${label}]`]: [queries.InvocationsList, { where, orderBy, limit: 50, offset: 0 }],
    [`InvocationsCount[${label}]`]: [queries.InvocationsCount, { where, countLimit }],
    [`InvocationsList+Count, one request[${label}]`]: [listWithCount, { where, orderBy, limit: 50, offset: 0, countLimit }],
  });
  const eventJob = childNames('orders.shipped', inv.job_executions[0].job_name);
  const extra = {
    // As the app sends it (dashboard/src/lib/filters.ts): the names on the invocation row, the child tables only
    // where they are NULL (migration 004).
    ...filtered('event+job filter, by duration', { _and: [{ created_at: { _gte: from, _lt: to } }, eventJob, { status: { _eq: 'failed' } }] }, byDuration),
    ...filtered('event+job filter, any status, by duration', { _and: [{ created_at: { _gte: from, _lt: to } }, eventJob] }, byDuration),
    ...filtered('whole window, newest first', { created_at: { _gte: from, _lt: to } }, [{ created_at: 'desc' }, { id: 'desc' }]),
    ...filtered('event+job filter, any status, newest first', { _and: [{ created_at: { _gte: from, _lt: to } }, eventJob] }, [{ created_at: 'desc' }, { id: 'asc' }]),
    // The same filter as relationship conditions only (what the app sent before migration 004), for comparison.
    'InvocationsList+Count, one request[event+job filter, by duration, relationship form]': [listWithCount, {
      where: { _and: [{ created_at: { _gte: from, _lt: to } }, { event_executions: { event_name: { _eq: 'orders.shipped' } } },
        { job_executions: { job_name: { _eq: inv.job_executions[0].job_name } } }, { status: { _eq: 'failed' } }] },
      orderBy: byDuration, limit: 50, offset: 0, countLimit }],
    // Every other sort the list offers, over the whole window, any status.
    ...Object.fromEntries(SORTABLE_COLUMNS.filter((column) => column !== 'created_at').flatMap((column) => ['asc', 'desc'].map((dir) =>
      [`InvocationsList[by ${column} ${dir}]`, [queries.InvocationsList, { where: { created_at: { _gte: from, _lt: to } },
        orderBy: buildInvocationOrderBy(column, dir), limit: 50, offset: 0 }]]))),
    SeedTraceCorrelationId: [seed.SeedTraceCorrelationId, { correlationId: inv.correlation_id }],
    SeedRecentInvocations: [seed.SeedRecentInvocations, {}],
    SeedPerformanceAnalytics: [seed.SeedPerformanceAnalytics, { timeRange: from }],
  };
  v.SearchInvocations.where = { _or: [{ correlation_id: { _ilike: '%user12%' } }, { source_function: { _ilike: '%user12%' } }, { source_user_email: { _ilike: '%user12%' } }] };
  const ops = [...Object.keys(v).filter((name) => queries[name]).map((name) => [name, queries[name], v[name]]),
    ...Object.entries(extra).map(([name, [q, vars]]) => [name, q, vars])].filter(([name]) => !args.only || name.includes(args.only));
  for (const [name, query, vars] of ops) {
    const times = [];
    let rows = 0, error = null;
    try {
      for (let i = 0; i < 2; ++i) await gql(query, vars);  // warm-up
      for (let i = 0; i < reps; ++i) {
        const t0 = performance.now();
        const data = await gql(query, vars);
        times.push(performance.now() - t0);
        rows = Object.values(data).reduce((n, x) => n + (Array.isArray(x) ? x.length : 1), 0);
      }
      if (args['same-as']) {
        const [mine, theirs] = await Promise.all([rawResponse(endpoint, query, vars), rawResponse(args['same-as'], query, vars)]);
        if (mine !== theirs) throw new Error(`the response (${mine.length} B) differs from ${args['same-as']}'s (${theirs.length} B)`);
      }
    } catch (e) { error = String(e.message ?? e); failed++; }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ op: name, hours, reps: times.length, p50_ms: times.length ? +pct(times, 0.5).toFixed(2) : null,
      p95_ms: times.length ? +pct(times, 0.95).toFixed(2) : null, max_ms: times.length ? +times[times.length - 1].toFixed(2) : null, rows, error }));
  }
}
process.exit(failed ? 1 : 0);
