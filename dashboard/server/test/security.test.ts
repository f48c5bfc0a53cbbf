// Issue 15 (console server): hostile browsers (CORS, origin rule for secret-less roles, DNS rebinding), resource
// exhaustion (node/depth/EXPLAIN-cost limits, fair connection scheduling, shorter anonymous timeouts), internal
// error details only for admin, constant-time secret comparison, and the Prometheus /metrics endpoint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { resolve } from 'node:path';
import WebSocket from 'ws';
import { secretMatches } from '../src/auth.js';
import { hostAllowed } from '../src/http.js';
import { createDatabase, FIXTURES, gql, psqlFile, REPO_DIR, sql, startServer, type Running } from './helpers.js';

const SCHEMA = 'event_detector_observability';
const MD = resolve(FIXTURES, 'obs-metadata');

interface Raw { status: number; headers: Record<string, string | string[] | undefined>; body: string; ms: number }
/** POST/GET with full control over Host, Origin and the local address (fetch forbids the first and lacks the last). */
function raw(srv: Running, opts: { path?: string; method?: string; body?: unknown; headers?: Record<string, string>; localAddress?: string }): Promise<Raw> {
  const u = new URL(srv.url);
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const r = request({ agent: false, host: u.hostname, port: u.port, path: opts.path ?? '/v1/graphql', method: opts.method ?? (data ? 'POST' : 'GET'), localAddress: opts.localAddress,
      headers: { 'content-type': 'application/json', ...(data ? { 'content-length': Buffer.byteLength(data) } : {}), ...opts.headers } }, (resp) => {
      const chunks: Buffer[] = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => res({ status: resp.statusCode ?? 0, headers: resp.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
    });
    r.on('error', rej);
    if (data) r.write(data);
    r.end();
  });
}
const json = (r: Raw) => JSON.parse(r.body) as { data?: any; errors?: { message: string; extensions: { code: string; path: string; internal?: unknown } }[] };

let db: Awaited<ReturnType<typeof createDatabase>>;
before(async () => {
  db = await createDatabase('es_sec');
  psqlFile(db.url, resolve(REPO_DIR, 'sql', 'schema.sql'), { schema: SCHEMA });
  psqlFile(db.url, resolve(FIXTURES, 'obs-seed.sql'), { schema: SCHEMA });
  // 40,000 invocations in 40 correlation groups of 1,000: correlated_invocations nested five deep is ~10^19 rows.
  await sql(db.url, `INSERT INTO ${SCHEMA}.invocations (created_at, correlation_id, source_function, status, total_duration_ms)
    SELECT timestamptz '2026-11-20' + g * interval '1 second', 'group' || (g % 40) || '@example.com', 'attack', 'completed', g % 500
      FROM generate_series(1, 40000) g`);
  await sql(db.url, `ANALYZE`);
});
after(async () => { await db?.drop(); });

describe('hostile browser (issue 15, item 7)', () => {
  let srv: Running;
  let listed: Running;
  let dev: Running;
  before(async () => {
    srv = await startServer(MD, db.url, ['--admin-secret', 's3cret', '--browser-role', 'observer']);
    listed = await startServer(MD, db.url, ['--admin-secret', 's3cret', '--browser-role', 'observer', '--cors-domain', 'http://dash.example:8080, https://*.corp.example']);
    dev = await startServer(MD, db.url, []); // no secret: dev mode, admin for credential-less requests
  });
  after(async () => { await srv?.stop(); await listed?.stop(); await dev?.stop(); });
  const Q = { query: '{ invocations(limit: 1) { id error_stack } }' };

  test('a foreign page gets no data from the secret-less browser role, and no credentialed CORS', async () => {
    const r = await raw(srv, { body: Q, headers: { origin: 'https://evil.example' } });
    const b = json(r);
    assert.equal(b.data, undefined);
    assert.equal(b.errors?.[0].extensions.code, 'access-denied');
    assert.match(b.errors![0].message, /granted without a secret only to this server's own pages/);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
  });
  test("the server's own pages (same origin) and non-browser clients (no Origin) get the browser role", async () => {
    const same = json(await raw(srv, { body: Q, headers: { origin: srv.url } }));
    assert.equal(same.data?.invocations.length, 1);
    const cli = json(await raw(srv, { body: Q }));
    assert.equal(cli.data?.invocations.length, 1);
  });
  test('a foreign page that holds the admin secret is served (Hasura: CORS "*" lets any origin use its credentials)', async () => {
    const r = json(await raw(srv, { body: Q, headers: { origin: 'https://evil.example', 'x-hasura-admin-secret': 's3cret' } }));
    assert.equal(r.data?.invocations.length, 1);
  });
  test('HASURA_GRAPHQL_CORS_DOMAIN origins: reflected with credentials and trusted for the browser role', async () => {
    const r = await raw(listed, { body: Q, headers: { origin: 'https://app.corp.example' } });
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.corp.example');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(json(r).data?.invocations.length, 1);
    const other = await raw(listed, { body: Q, headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    assert.equal(json(other).errors?.[0].extensions.code, 'access-denied');
  });
  test('dev mode (no secret): a foreign page cannot act as admin, nor pick a role', async () => {
    const a = json(await raw(dev, { body: Q, headers: { origin: 'https://evil.example' } }));
    assert.equal(a.errors?.[0].extensions.code, 'access-denied');
    const b = json(await raw(dev, { body: Q, headers: { origin: 'https://evil.example', 'x-hasura-role': 'observer' } }));
    assert.equal(b.errors?.[0].extensions.code, 'access-denied');
    const own = json(await raw(dev, { body: { query: '{ invocations(limit: 1) { source_event_payload } }' }, headers: { origin: dev.url } }));
    assert.equal(own.data?.invocations.length, 1);
  });
  test('DNS rebinding: a Host other than the bind address or the allow-list is refused (HTTP and WebSocket)', async () => {
    const port = new URL(srv.url).port;
    const r = await raw(srv, { body: Q, headers: { host: `evil.example:${port}`, origin: `http://evil.example:${port}` } });
    assert.equal(r.status, 403);
    assert.match(r.body, /Host "evil\.example:\d+" is not allowed/);
    for (const h of [`127.0.0.1:${port}`, `localhost:${port}`]) assert.equal((await raw(srv, { path: '/healthz', headers: { host: h } })).status, 200, h);
    const ws = new WebSocket(srv.wsUrl, 'graphql-transport-ws', { headers: { host: `evil.example:${port}` } });
    const status = await new Promise<number>((res) => { ws.on('unexpected-response', (_q, resp) => res(resp.statusCode ?? 0)); ws.on('open', () => res(101)); ws.on('error', () => res(-1)); });
    assert.equal(status, 403);
    const allowed = await startServer(MD, db.url, ['--allowed-hosts', 'console.internal']);
    try {
      const ok = await raw(allowed, { path: '/healthz', headers: { host: `console.internal:${new URL(allowed.url).port}` } });
      assert.equal(ok.status, 200);
    } finally { await allowed.stop(); }
  });
  test('host rule: bind address, loopback names, IP literals on a wildcard bind, allow-list', () => {
    assert.equal(hostAllowed('127.0.0.1:3000', '127.0.0.1', []), true);
    assert.equal(hostAllowed('localhost:3000', '127.0.0.1', []), true);
    assert.equal(hostAllowed('[::1]:3000', '127.0.0.1', []), true);
    assert.equal(hostAllowed('evil.example', '127.0.0.1', []), false);
    assert.equal(hostAllowed('10.1.2.3:3000', '0.0.0.0', []), true);
    assert.equal(hostAllowed('evil.example:3000', '0.0.0.0', []), false);
    assert.equal(hostAllowed('Console.Internal:80', '0.0.0.0', ['console.internal']), true);
    assert.equal(hostAllowed('anything', '10.0.0.5', ['*']), true);
    assert.equal(hostAllowed('10.0.0.6', '10.0.0.5', []), false);
  });
  test('a WebSocket from a foreign page is not granted the browser role', async () => {
    const ws = new WebSocket(srv.wsUrl, 'graphql-ws', { headers: { origin: 'https://evil.example' } });
    await new Promise((r) => ws.once('open', r));
    const m = new Promise<any>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
    ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    const msg = await m;
    assert.equal(msg.type, 'connection_error');
    assert.match(msg.payload.message, /granted without a secret/);
    ws.close();
  });
});

describe('resource exhaustion (issue 15, item 8)', () => {
  const nested = (levels: number) => `{ invocations { ${'correlated_invocations { '.repeat(levels)}id${' }'.repeat(levels)} } }`;
  const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: invocations_aggregate { aggregate { count } }`).join(' ')} }`;
  const trivial = { query: '{ invocations_aggregate(where: {status: {_eq: "failed"}}) { aggregate { count } } }' };

  test('12 nested correlated_invocations queries and a 4,000-alias query are refused up front; a trivial query is not starved', async () => {
    const srv = await startServer(MD, db.url, ['--browser-role', 'observer', '--admin-secret', 'k']);
    try {
      const attacks = [...Array.from({ length: 12 }, () => raw(srv, { body: { query: nested(5) } })), raw(srv, { body: { query: aliases(4000) } })];
      await new Promise((r) => setTimeout(r, 100));
      const t = await raw(srv, { body: trivial });
      assert.equal(json(t).data?.invocations_aggregate.aggregate.count, 1);
      assert.ok(t.ms < 2000, `trivial query took ${Math.round(t.ms)} ms behind the attack`);
      const done = await Promise.all(attacks);
      for (const a of done.slice(0, 12)) {
        assert.equal(json(a).errors?.[0].extensions.code, 'validation-failed');
        assert.match(json(a).errors![0].message, /too expensive: PostgreSQL estimates its cost at \d+, above the limit of 100000000 for role "observer"/);
        assert.ok(a.ms < 3000, `refused after ${Math.round(a.ms)} ms`);
      }
      assert.match(json(done[12]).errors?.[0].message ?? '', /more than 2000 nodes/);
    } finally { await srv.stop(); }
  });

  test('fair scheduling: heavy queries that pass the cost limit hold at most half the pool; cheap ones still get through', async () => {
    const srv = await startServer(MD, db.url, ['--browser-role', 'observer', '--anonymous-max-cost', '0', '--anonymous-statement-timeout-ms', '1500']);
    try {
      const attacks = Array.from({ length: 12 }, () => raw(srv, { body: { query: nested(5) } }));
      await new Promise((r) => setTimeout(r, 300));
      const t = await raw(srv, { body: trivial });
      assert.equal(json(t).data?.invocations_aggregate.aggregate.count, 1);
      assert.ok(t.ms < 1200, `trivial query took ${Math.round(t.ms)} ms behind 12 heavy ones`);
      const done = await Promise.all(attacks);
      for (const a of done) assert.match(json(a).errors?.[0].message ?? '', /statement timeout/);
      const m = srv.engine.metrics.render();
      assert.match(m, /eventscope_console_pool_wait_seconds_count\{lane="heavy"\} 12/);
    } finally { await srv.stop(); }
  });

  describe('with a slow (pg_sleep) computed field', () => {
    let slowDb: Awaited<ReturnType<typeof createDatabase>>;
    before(async () => {
      slowDb = await createDatabase('es_sec_slow');
      psqlFile(slowDb.url, resolve(REPO_DIR, 'sql', 'schema.sql'), { schema: SCHEMA });
      psqlFile(slowDb.url, resolve(FIXTURES, 'obs-seed.sql'), { schema: SCHEMA });
      await sql(slowDb.url, `DROP FUNCTION ${SCHEMA}.invocation_avg_job_duration(${SCHEMA}.invocations);
        CREATE FUNCTION ${SCHEMA}.invocation_avg_job_duration(inv ${SCHEMA}.invocations) RETURNS numeric LANGUAGE plpgsql STABLE AS $$ BEGIN PERFORM pg_sleep(1.5); RETURN 1; END $$`);
    });
    after(async () => { await slowDb?.drop(); });
    const slow = { query: '{ invocations_by_pk(id: "00000000-0000-0000-0000-0000000000a1") { avg_job_duration } }' };

    test('one client flooding slow cheap queries cannot take the whole pool: another client is served at once', async () => {
      const srv = await startServer(MD, slowDb.url, ['--browser-role', 'observer']);
      try {
        const flood = Array.from({ length: 20 }, () => raw(srv, { body: slow, localAddress: '127.0.0.1' }));
        await new Promise((r) => setTimeout(r, 300));
        const other = await raw(srv, { body: trivial, localAddress: '127.0.0.2' });
        assert.equal(json(other).data?.invocations_aggregate.aggregate.count, 1);
        assert.ok(other.ms < 1000, `the other client waited ${Math.round(other.ms)} ms`);
        for (const f of await Promise.all(flood)) assert.equal(json(f).data?.invocations_by_pk.avg_job_duration, 1);
      } finally { await srv.stop(); }
    });

    test('the anonymous browser role has a shorter statement timeout than credentialed roles', async () => {
      const srv = await startServer(MD, slowDb.url, ['--browser-role', 'observer', '--admin-secret', 'k', '--anonymous-statement-timeout-ms', '500']);
      try {
        const anon = json(await raw(srv, { body: slow }));
        assert.match(anon.errors?.[0].message ?? '', /statement timeout/);
        const admin = json(await raw(srv, { body: slow, headers: { 'x-hasura-admin-secret': 'k', 'x-hasura-role': 'observer' } }));
        assert.equal(admin.data?.invocations_by_pk.avg_job_duration, 1);
      } finally { await srv.stop(); }
    });
  });

  test('api_limits from the metadata tighten depth and node limits per role', async () => {
    const { cpSync, mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'es-md-limits-'));
    cpSync(MD, dir, { recursive: true });
    writeFileSync(join(dir, 'api_limits.yaml'), 'depth_limit: {global: 10, per_role: {observer: 3}}\nnode_limit: {global: 50, per_role: {observer: 4}}\nrate_limit: {global: {max_reqs_per_min: 10, unique_params: IP}}\n');
    const srv = await startServer(dir, db.url, ['--admin-secret', 'k', '--browser-role', 'observer']);
    try {
      assert.ok(srv.engine.metadata.unsupported.some((u) => /rate_limit is not supported/.test(u)));
      const deep = json(await raw(srv, { body: { query: '{ invocations(limit: 1) { event_executions { invocation { id } } } }' } }));
      assert.equal(deep.errors?.[0].message, 'the query exceeds the maximum depth of 3');
      const wide = json(await raw(srv, { body: { query: '{ invocations(limit: 1) { id status created_at source_function } }' } }));
      assert.match(wide.errors?.[0].message ?? '', /more than 4 nodes/);
      const admin = json(await raw(srv, { body: { query: '{ invocations(limit: 1) { event_executions { invocation { id } } } }' }, headers: { 'x-hasura-admin-secret': 'k' } }));
      assert.ok(admin.data);
    } finally { await srv.stop(); rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('error details and the admin secret (issue 15, item 9)', () => {
  test('Postgres error text (extensions.internal) only for admin', async () => {
    const srv = await startServer(MD, db.url, ['--admin-secret', 'k', '--browser-role', 'observer']);
    try {
      const bad = '{ invocations(where: {id: {_eq: "not-a-uuid"}}) { id } }';
      const anon = await gql(srv, bad);
      assert.equal(anon.body.errors?.[0].extensions.code, 'data-exception');
      assert.equal((anon.body.errors?.[0].extensions as any).internal, undefined);
      const asObserver = await gql(srv, bad, undefined, { 'x-hasura-admin-secret': 'k', 'x-hasura-role': 'observer' });
      assert.equal((asObserver.body.errors?.[0].extensions as any).internal, undefined);
      const admin = await gql(srv, bad, undefined, { 'x-hasura-admin-secret': 'k' });
      assert.match(JSON.stringify((admin.body.errors?.[0].extensions as any).internal), /invalid input syntax for type uuid/);
    } finally { await srv.stop(); }
  });
  test('admin secret comparison: equal strings only, any length, constant-time primitive', () => {
    assert.equal(secretMatches('s3cret', 's3cret'), true);
    assert.equal(secretMatches('s3cre', 's3cret'), false);
    assert.equal(secretMatches('s3cretX', 's3cret'), false);
    assert.equal(secretMatches('', 's3cret'), false);
    assert.equal(secretMatches('ü', 'ü'), true);
  });
});

/** Strict parser for the Prometheus text format 0.0.4: every sample belongs to a declared family. */
function parsePrometheus(text: string) {
  const families = new Map<string, { type: string; help: string }>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      const f = families.get(m[2]) ?? { type: '', help: '' };
      if (m[1] === 'TYPE') { assert.match(m[3], /^(counter|gauge|histogram|summary|untyped)$/); f.type = m[3]; } else f.help = m[3];
      families.set(m[2], f);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `malformed line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/g)) labels[l[1]] = l[2];
    const value = m[4] === '+Inf' ? Infinity : Number(m[4]);
    assert.ok(!Number.isNaN(value), `value of ${line}`);
    const base = m[1].replace(/_(bucket|sum|count)$/, '');
    const fam = families.get(m[1]) ?? families.get(base);
    assert.ok(fam && fam.type && fam.help, `sample ${m[1]} has a declared family with HELP and TYPE`);
    if (fam!.type === 'counter') assert.ok(value >= 0);
    samples.push({ name: m[1], labels, value });
  }
  // Histograms: cumulative buckets, +Inf bucket equals _count.
  for (const [name, f] of families) {
    if (f.type !== 'histogram') continue;
    const series = new Map<string, number[]>();
    for (const s of samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le, ...rest } = s.labels;
      const k = JSON.stringify(rest);
      series.set(k, [...(series.get(k) ?? []), s.value]);
      if (le === '+Inf') {
        const count = samples.find((x) => x.name === `${name}_count` && JSON.stringify(x.labels) === k);
        assert.equal(count?.value, s.value, `${name} +Inf bucket = _count`);
      }
    }
    for (const v of series.values()) for (let i = 1; i < v.length; i++) assert.ok(v[i] >= v[i - 1], `${name} buckets are cumulative`);
  }
  const get = (name: string, labels: Record<string, string> = {}) => samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
  return { families, samples, get };
}

describe('self-metrics at /metrics (issue 15)', () => {
  test('Prometheus text: requests, errors, SQL time, pool wait, rejections', async () => {
    const srv = await startServer(MD, db.url, ['--max-nodes', '5']);
    try {
      for (let i = 0; i < 3; i++) assert.ok((await gql(srv, '{ invocations(limit: 1) { id } }')).body.data);
      await gql(srv, '{ nope }');
      await gql(srv, '{ invocations { id status created_at source_function correlation_id } }');
      const r = await fetch(`${srv.url}/metrics`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const p = parsePrometheus(await r.text());
      assert.equal(p.get('eventscope_console_requests_total', { transport: 'http', outcome: 'ok' }), 3);
      assert.equal(p.get('eventscope_console_requests_total', { transport: 'http', outcome: 'error' }), 2);
      assert.equal(p.get('eventscope_console_errors_total', { code: 'validation-failed' }), 2);
      assert.equal(p.get('eventscope_console_rejected_total', { limit: 'nodes' }), 1);
      assert.equal(p.get('eventscope_console_sql_seconds_count', { kind: 'query' }), 3);
      assert.ok(p.get('eventscope_console_sql_seconds_sum', { kind: 'query' }) > 0);
      assert.equal(p.get('eventscope_console_sql_statements_total', { kind: 'explain' }), 3);
      assert.equal(p.get('eventscope_console_pool_wait_seconds_count', { lane: 'light' }), 3);
      assert.equal(p.get('eventscope_console_request_seconds_count'), 5);
      assert.equal(p.get('eventscope_console_pool_connections', { state: 'size' }), 10);
      assert.equal(p.get('eventscope_console_pool_waiting'), 0);
    } finally { await srv.stop(); }
  });
});
