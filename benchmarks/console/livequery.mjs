// Live-query multiplexing benchmark (issue 13): N concurrent subscribers, each on its own WebSocket, run the
// dashboard's Overview query (OverviewKpis of dashboard/src/graphql/queries.ts, as a subscription) against the
// console server built from this checkout, twice in the same run:
//   before: --live-queries-multiplexing false  (every subscriber polls with its own SQL statement: the old server)
//   after:  the default                         (one statement per poll per query shape, cohorts share results)
// and each with two variable patterns: "shared" (every dashboard on the same minute-rounded window, as the app's
// polling does) and "distinct" (every subscriber its own window: no result sharing, only statement batching).
// Reported per run: SQL statements/s (the server's live_poll counter and PostgreSQL's committed transactions),
// CPU seconds per second of the server process and of the whole PostgreSQL cluster (/proc), and the delivery delay
// from an INSERT's commit to each subscriber receiving the changed counts (p50/p95/max over all subscribers).
//   node benchmarks/console/livequery.mjs [--subscribers 1000] [--invocations 20000] [--seconds 10] [--inserts 4]
//        [--batch-sizes 100,10] [--db-url postgresql://...]   (default: a throwaway cluster from scripts/pg-cluster.sh)
// Needs dashboard/server built (npm run build) and its node_modules. Prints one JSON line per run, then a table.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const serverDir = join(root, 'dashboard', 'server');
const require = createRequire(join(serverDir, 'package.json'));
const WebSocket = require('ws');
const pg = require('pg');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const SUBSCRIBERS = Number(args.subscribers ?? 1000);
const INVOCATIONS = Number(args.invocations ?? 20000);
const SECONDS = Number(args.seconds ?? 10);
const INSERTS = Number(args.inserts ?? 4);
// HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_BATCH_SIZE values for the "after" runs (cohorts per statement).
const BATCH_SIZES = String(args['batch-sizes'] ?? '100').split(',').map(Number);
const TICK = 100; // clock ticks per second for /proc/*/stat (getconf CLK_TCK on Linux)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN; };
const cpuOf = (pid) => { try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / TICK; } catch { return 0; } };

// ---------- database ----------
let clusterDir = null;
let baseUrl = args['db-url'];
if (!baseUrl) {
  clusterDir = join(root, 'build', 'bench-console-pg');
  try { execFileSync('bash', [join(root, 'scripts', 'pg-cluster.sh'), 'remove', clusterDir], { stdio: 'ignore' }); } catch { /* none */ }
  baseUrl = execFileSync('bash', [join(root, 'scripts', 'pg-cluster.sh'), 'start', clusterDir], { encoding: 'utf8' }).trim();
}
const dbName = `bench_console_${process.pid}`;
const dbUrl = (() => { const u = new URL(baseUrl); u.pathname = `/${dbName}`; return u.toString(); })();
const psql = (url, ...a) => execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...a], { stdio: ['ignore', 'ignore', 'inherit'] });
psql(baseUrl, '-c', `CREATE DATABASE ${dbName}`);
const cleanup = () => {
  try { psql(baseUrl, '-c', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`); } catch { /* best effort */ }
  if (clusterDir) try { execFileSync('bash', [join(root, 'scripts', 'pg-cluster.sh'), 'remove', clusterDir], { stdio: 'ignore' }); } catch { /* best effort */ }
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

psql(dbUrl, '-v', 'schema=event_detector_observability', '-f', join(root, 'sql', 'schema.sql'));
const t0 = Date.now();
psql(dbUrl, '-v', `n=${INVOCATIONS}`, '-f', join(root, 'benchmarks', 'dashboard', 'generate.sql'));
psql(dbUrl, '-c', 'VACUUM (ANALYZE)');
console.error(`data: ${INVOCATIONS} invocations, ${5 * INVOCATIONS} job rows, generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const db = new pg.Client({ connectionString: dbUrl });
await db.connect();
const postmasterPid = (() => {
  if (clusterDir) return Number(readFileSync(join(readFileSync(join(clusterDir, 'pgdata'), 'utf8').trim(), 'postmaster.pid'), 'utf8').split('\n')[0]);
  return null;
})();
const clusterPids = () => {
  if (!postmasterPid) return [];
  const out = [postmasterPid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === postmasterPid) out.push(Number(d)); } catch { /* gone */ }
  }
  return out;
};
// Exited backends' CPU is lost from /proc; the pool keeps its connections for the whole run, so this is close.
const clusterCpu = () => clusterPids().reduce((a, p) => a + cpuOf(p), 0);
const commits = async () => Number((await db.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()')).rows[0].xact_commit);

// ---------- the Overview query as a subscription ----------
const { loadQueries } = await import(join(root, 'dashboard', 'e2e', 'load-queries.mjs'));
const queries = await loadQueries();
// Eight root fields in one live query: Hasura allows that only under its @_multiple_top_level_fields testing
// directive (as does this server); against Hasura without it the dashboard would need eight subscriptions.
const OVERVIEW = queries.OverviewKpis.replace(/^\s*query(\s+\w+)?(\s*\([^)]*\))?\s*\{/, 'subscription$1$2 @_multiple_top_level_fields {');
if (!OVERVIEW.includes('@_multiple_top_level_fields')) throw new Error('could not turn OverviewKpis into a subscription');

async function startServer(extra) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [join(serverDir, 'dist-server', 'src', 'main.js'), '--metadata-dir', join(root, 'hasura-metadata'),
    '--database-url', dbUrl, '--port', String(port), '--static-dir', 'none', ...extra], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OBSERVABILITY_DB_URL: dbUrl } });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return { child, port }; } catch { /* not yet */ }
    await sleep(100);
  }
  child.kill();
  throw new Error(`console server did not start: ${err}`);
}
const liveStatements = async (port) => Number(/eventscope_console_sql_statements_total\{kind="live_poll"\} (\d+)/.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1] ?? 0);

/** One subscriber: its own WebSocket (graphql-transport-ws), the Overview subscription, every message timestamped. */
function subscriber(port, variables, i) {
  return new Promise((resolveSub, reject) => {
    // Spread over 20 loopback addresses: 1,000 dashboards are many clients, not one (the server's fair queue
    // caps what a single client may have waiting).
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/graphql`, 'graphql-transport-ws', { localAddress: `127.0.0.${2 + (i % 20)}` });
    const s = { ws, messages: [], first: null, onMessage: null };
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw));
      if (m.type === 'connection_ack') { ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: OVERVIEW, variables } })); resolveSub(s); return; }
      if (m.type === 'next') {
        const at = performance.now();
        if (m.payload.errors) { console.error(JSON.stringify(m.payload.errors)); return; }
        const total = m.payload.data.current_total.aggregate.count;
        s.messages.push({ at, total });
        if (s.first === null) s.first = at;
      }
      if (m.type === 'error') { console.error(`subscription error: ${JSON.stringify(m.payload)}`); s.failed = true; }
    });
  });
}

async function run(mode, variant, batchSize) {
  const { child, port } = await startServer(mode === 'before' ? ['--live-queries-multiplexing', 'false'] : ['--live-queries-batch-size', String(batchSize)]);
  try {
    const now = Date.now();
    const minute = Math.floor(now / 60000) * 60000;
    const varsFor = (i) => {
      // The window reaches into the future so that inserted rows count; "distinct" shifts each subscriber's start.
      const from = new Date(minute - 24 * 3600e3 - (variant === 'distinct' ? i * 1000 : 0)).toISOString();
      return { from, to: new Date(minute + 3600e3).toISOString(), prevFrom: new Date(minute - 48 * 3600e3).toISOString() };
    };
    const t0 = performance.now();
    const subs = [];
    for (let i = 0; i < SUBSCRIBERS; i += 100) subs.push(...await Promise.all(Array.from({ length: Math.min(100, SUBSCRIBERS - i) }, (_, j) => subscriber(port, varsFor(i + j), i + j))));
    while (subs.some((s) => s.first === null && !s.failed)) {
      if (performance.now() - t0 > 120000) throw new Error('subscribers did not all get a first result in 120 s');
      await sleep(50);
    }
    if (subs.some((s) => s.failed)) throw new Error(`${subs.filter((s) => s.failed).length} subscriptions failed`);
    const firstAll = Math.max(...subs.map((s) => s.first)) - t0;
    await sleep(1500); // settle
    const st0 = await liveStatements(port); const c0 = await commits();
    const cpuS0 = cpuOf(child.pid); const cpuP0 = clusterCpu(); const w0 = performance.now();
    const delays = [];
    const gap = (SECONDS * 1000) / INSERTS;
    for (let k = 0; k < INSERTS; k++) {
      await sleep(gap / 2);
      const before = subs.map((s) => s.messages.length);
      const lastTotal = subs.map((s) => s.messages[s.messages.length - 1].total);
      await db.query(`INSERT INTO event_detector_observability.invocations (created_at, source_function, status, total_duration_ms) VALUES (now(), 'bench', 'completed', 5)`);
      const committed = performance.now();
      const deadline = committed + 30000;
      while (subs.some((s, i) => !s.messages.slice(before[i]).some((m) => m.total > lastTotal[i])) && performance.now() < deadline) await sleep(10);
      subs.forEach((s, i) => { const m = s.messages.slice(before[i]).find((x) => x.total > lastTotal[i]); delays.push(m ? m.at - committed : Infinity); });
      const rest = gap / 2 - (performance.now() - committed);
      if (rest > 0) await sleep(rest);
    }
    const secs = (performance.now() - w0) / 1000;
    const result = {
      mode, variant, batch_size: mode === 'before' ? 1 : batchSize, subscribers: SUBSCRIBERS, invocations: INVOCATIONS, window_s: Number(secs.toFixed(1)),
      live_statements_per_s: Number((((await liveStatements(port)) - st0) / secs).toFixed(1)),
      pg_commits_per_s: Number((((await commits()) - c0 - INSERTS) / secs).toFixed(1)),
      server_cpu_s_per_s: Number(((cpuOf(child.pid) - cpuS0) / secs).toFixed(3)),
      postgres_cpu_s_per_s: postmasterPid ? Number(((clusterCpu() - cpuP0) / secs).toFixed(3)) : null,
      delivery_p50_ms: Math.round(pct(delays, 50)), delivery_p95_ms: Math.round(pct(delays, 95)), delivery_max_ms: Math.round(Math.max(...delays)),
      missed: delays.filter((d) => !Number.isFinite(d)).length,
      all_first_results_ms: Math.round(firstAll),
    };
    for (const s of subs) s.ws.terminate();
    return result;
  } finally {
    child.kill();
    await new Promise((r) => child.once('exit', r));
  }
}

const results = [];
for (const variant of ['shared', 'distinct']) {
  for (const [mode, batch] of [['before', 1], ...BATCH_SIZES.map((b) => ['after', b])]) {
    const r = await run(mode, variant, batch);
    console.log(JSON.stringify(r));
    results.push(r);
  }
}
await db.end();
console.log('\n| variables | server (cohorts per statement) | SQL statements/s (server) | transactions/s (PostgreSQL) | server CPU s/s | PostgreSQL CPU s/s | delivery p50 / p95 / max ms | first result to all |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.variant} | ${r.mode}${r.mode === 'after' ? ` (${r.batch_size})` : ''} | ${r.live_statements_per_s} | ${r.pg_commits_per_s} | ${r.server_cpu_s_per_s} | ${r.postgres_cpu_s_per_s ?? 'n/a'} | ${r.delivery_p50_ms} / ${r.delivery_p95_ms} / ${r.delivery_max_ms}${r.missed ? ` (${r.missed} missed)` : ''} | ${r.all_first_results_ms} ms |`);
}
