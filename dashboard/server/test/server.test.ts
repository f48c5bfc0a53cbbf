// Auth, permissions, error shapes, HTTP (health, CORS, body limit, static files), introspection and live
// queries over both WebSocket protocols, on the observability schema with the fixture metadata.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildClientSchema, getIntrospectionQuery, parse, print, validate, Kind, type GraphQLSchema } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createDatabase, FIXTURES, gql, psqlFile, REPO_DIR, sql, startServer, type Running } from './helpers.js';

const SCHEMA = 'event_detector_observability';
const MD = resolve(FIXTURES, 'obs-metadata');
let db: Awaited<ReturnType<typeof createDatabase>>;
before(async () => {
  db = await createDatabase('es_srv');
  psqlFile(db.url, resolve(REPO_DIR, 'sql', 'schema.sql'), { schema: SCHEMA });
  psqlFile(db.url, resolve(FIXTURES, 'obs-seed.sql'), { schema: SCHEMA });
});
after(async () => { await db?.drop(); });

describe('auth and permissions (admin secret set)', () => {
  let srv: Running;
  let open: Running;
  before(async () => {
    srv = await startServer(MD, db.url, ['--admin-secret', 's3cret']);
    open = await startServer(MD, db.url, ['--admin-secret', 's3cret', '--browser-role', 'observer']);
  });
  after(async () => { await srv?.stop(); await open?.stop(); });

  test('wrong secret is refused with access-denied', async () => {
    const r = await gql(srv, '{ invocations { id } }', undefined, { 'x-hasura-admin-secret': 'nope' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { errors: [{ message: 'invalid x-hasura-admin-secret/x-hasura-access-key', extensions: { path: '$', code: 'access-denied' } }] });
  });
  test('no credentials and no unauthorized role: access-denied', async () => {
    const r = await gql(srv, '{ invocations { id } }');
    assert.equal(r.body.errors?.[0].extensions.code, 'access-denied');
    assert.equal(r.body.errors?.[0].message, 'x-hasura-admin-secret/x-hasura-access-key required, but not found');
  });
  test('admin sees source_event_payload; observer does not', async () => {
    const a = await gql(srv, '{ invocations(limit: 1) { source_event_payload } }', undefined, { 'x-hasura-admin-secret': 's3cret' });
    assert.ok(a.body.data);
    const o = await gql(srv, '{ invocations(limit: 1) { source_event_payload } }', undefined, { 'x-hasura-admin-secret': 's3cret', 'x-hasura-role': 'observer' });
    assert.deepEqual(o.body.errors, [{ message: "field 'source_event_payload' not found in type: 'invocations'", extensions: { path: '$.selectionSet.invocations.selectionSet.source_event_payload', code: 'validation-failed' } }]);
    const w = await gql(srv, '{ invocations(where: {source_event_payload: {_has_key: "order"}}) { id } }', undefined, { 'x-hasura-admin-secret': 's3cret', 'x-hasura-role': 'observer' });
    assert.equal(w.body.errors?.[0].extensions.code, 'validation-failed');
  });
  test('observer cannot mutate (no mutation root)', async () => {
    const r = await gql(open, 'mutation { delete_invocations(where: {}) { affected_rows } }');
    assert.equal(r.body.errors?.[0].extensions.code, 'validation-failed');
    assert.equal(r.body.data, undefined);
  });
  test('browser role: requests without credentials are the read-only role, header role is ignored', async () => {
    const r = await gql(open, '{ invocations_aggregate { aggregate { count } } }');
    assert.equal((r.body.data as any).invocations_aggregate.aggregate.count, 4);
    const esc = await gql(open, '{ invocations(limit: 1) { source_event_payload } }', undefined, { 'x-hasura-role': 'admin' });
    assert.equal(esc.body.errors?.[0].extensions.code, 'validation-failed');
    const adm = await gql(open, '{ invocations(limit: 1) { source_event_payload } }', undefined, { 'x-hasura-admin-secret': 's3cret' });
    assert.ok(adm.body.data);
  });
  test('role filter with session variable and role limit; no aggregations for that role', async () => {
    const h = { 'x-hasura-admin-secret': 's3cret', 'x-hasura-role': 'tenant', 'x-hasura-user-email': 'alice@example.com' };
    const r = await gql(srv, '{ invocations(order_by: {created_at: asc}) { id } }', undefined, h);
    assert.deepEqual((r.body.data as any).invocations.map((i: any) => i.id), ['00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b2']);
    const lim = await gql(srv, '{ invocations(order_by: {created_at: asc}) { id } }', undefined, { ...h, 'x-hasura-user-email': 'bob@example.com' });
    assert.equal((lim.body.data as any).invocations.length, 1);
    const agg = await gql(srv, '{ invocations_aggregate { aggregate { count } } }', undefined, h);
    assert.equal(agg.body.errors?.[0].message, "field 'invocations_aggregate' not found in type: 'query_root'");
    const missing = await gql(srv, '{ invocations { id } }', undefined, { 'x-hasura-admin-secret': 's3cret', 'x-hasura-role': 'tenant' });
    assert.deepEqual(missing.body.errors?.[0], { message: 'missing session variables: "x-hasura-user-email"', extensions: { path: '$', code: 'not-found' } }); // Hasura: validateSessionVariables, NotFound
    const unknownRole = await gql(srv, '{ invocations { id } }', undefined, { 'x-hasura-admin-secret': 's3cret', 'x-hasura-role': 'nobody' });
    assert.equal(unknownRole.body.errors?.[0].message, "field 'invocations' not found in type: 'query_root'");
  });
});

describe('errors, guards, HTTP', () => {
  let srv: Running;
  before(async () => { srv = await startServer(MD, db.url, ['--max-depth', '6', '--max-rows', '3', '--body-limit', '20000', '--cors-domain', 'http://localhost:5173, https://*.example.com']); });
  after(async () => { await srv?.stop(); });

  test('unknown field', async () => {
    const r = await gql(srv, '{ nope { id } }');
    assert.deepEqual(r.body, { errors: [{ message: "field 'nope' not found in type: 'query_root'", extensions: { path: '$.selectionSet.nope', code: 'validation-failed' } }] });
  });
  test('bad variables and type errors', async () => {
    const v = await gql(srv, 'query($n: Int!) { invocations(limit: $n) { id } }', { n: 'ten' });
    // A string is a valid Int variable value for a column (Hasura), not for limit.
    assert.deepEqual(v.body.errors?.[0], { message: 'expected a 32-bit integer for type "Int", but found a string', extensions: { code: 'validation-failed', path: '$.selectionSet.invocations.args.limit' } });
    const f = await gql(srv, 'query($n: Int!) { invocations(limit: $n) { id } }', { n: 1.5 });
    assert.equal(f.body.errors?.[0].extensions.path, '$.variableValues.n');
    const missing = await gql(srv, 'query($n: Int!) { invocations(limit: $n) { id } }');
    assert.equal(missing.body.errors?.[0].extensions.code, 'validation-failed');
    const t = await gql(srv, '{ invocations(limit: "x") { id } }');
    assert.equal(t.body.errors?.[0].extensions.code, 'validation-failed');
    const n = await gql(srv, '{ invocations(where: {status: {_eq: null}}) { id } }');
    assert.equal(n.body.errors?.[0].message, 'unexpected null value for type "String"');
    const uuid = await gql(srv, '{ invocations(where: {id: {_eq: "not-a-uuid"}}) { id } }');
    assert.equal(uuid.body.errors?.[0].extensions.code, 'data-exception');
    const syntax = await gql(srv, '{ invocations { id ');
    assert.equal(syntax.body.errors?.[0].message, 'not a valid graphql query');
    assert.equal(syntax.body.errors?.[0].extensions.path, '$.query');
    assert.equal(syntax.body.errors?.[0].extensions.code, 'validation-failed');
    const raw = await fetch(`${srv.url}/v1/graphql`, { method: 'POST', body: '{not json' });
    assert.equal(raw.status, 200);
    assert.equal(((await raw.json()) as any).errors[0].extensions.code, 'parse-failed');
  });
  test('guards: depth, row cap, body size', async () => {
    const deep = await gql(srv, '{ invocations { event_executions { invocation { event_executions { invocation { event_executions { invocation { id } } } } } } } }');
    assert.match(deep.body.errors?.[0].message ?? '', /maximum depth/);
    const capped = await gql(srv, '{ invocations { id } invocations_aggregate { aggregate { count } } }');
    assert.equal((capped.body.data as any).invocations.length, 3);
    assert.equal((capped.body.data as any).invocations_aggregate.aggregate.count, 4);
    const big = await fetch(`${srv.url}/v1/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ invocations { id } } #${'x'.repeat(30000)}` }) });
    assert.equal(big.status, 413);
  });
  test('healthz', async () => {
    const r = await fetch(`${srv.url}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'OK');
  });
  test('CORS: allowed origins reflected, wildcard subdomains, preflight', async () => {
    const a = await fetch(`${srv.url}/healthz`, { headers: { origin: 'http://localhost:5173' } });
    assert.equal(a.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    assert.equal(a.headers.get('access-control-allow-credentials'), 'true');
    const w = await fetch(`${srv.url}/healthz`, { headers: { origin: 'https://app.example.com' } });
    assert.equal(w.headers.get('access-control-allow-origin'), 'https://app.example.com');
    const no = await fetch(`${srv.url}/healthz`, { headers: { origin: 'https://evil.com' } });
    assert.equal(no.headers.get('access-control-allow-origin'), null);
    const pre = await fetch(`${srv.url}/v1/graphql`, { method: 'OPTIONS', headers: { origin: 'https://x.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-hasura-role' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-max-age'), '1728000');
    assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type,x-hasura-role');
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://x.example.com');
  });
  test('introspection (graphql getIntrospectionQuery) builds a client schema', async () => {
    const r = await gql(srv, getIntrospectionQuery());
    assert.equal(r.body.errors, undefined);
    const schema = buildClientSchema(r.body.data as never);
    assert.equal(schema.getQueryType()?.name, 'query_root');
    assert.equal(schema.getSubscriptionType()?.name, 'subscription_root');
    assert.ok(schema.getType('invocations_bool_exp'));
    assert.ok(schema.getType('order_by'));
    const mixed = await gql(srv, '{ __type(name: "invocations") { name } invocations(limit: 1) { id } }');
    assert.deepEqual(Object.keys(mixed.body.data!), ['__type', 'invocations']);
    assert.equal((mixed.body.data as any).__type.name, 'invocations');
  });
});

describe('statement timeout and unreachable database', () => {
  test('a slow query is cut by statement_timeout with an error, and the server keeps serving', async () => {
    const d2 = await createDatabase('es_slow');
    try {
      psqlFile(d2.url, resolve(REPO_DIR, 'sql', 'schema.sql'), { schema: SCHEMA });
      psqlFile(d2.url, resolve(FIXTURES, 'obs-seed.sql'), { schema: SCHEMA });
      // Replace a computed-field function by a slow one (same signature): the cut must come from statement_timeout.
      await sql(d2.url, `CREATE OR REPLACE FUNCTION ${SCHEMA}.invocation_avg_job_duration(inv ${SCHEMA}.invocations) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT pg_sleep(5)::text::numeric * 0 + 1 $$`).catch(async () => {
        await sql(d2.url, `DROP FUNCTION ${SCHEMA}.invocation_avg_job_duration(${SCHEMA}.invocations); CREATE FUNCTION ${SCHEMA}.invocation_avg_job_duration(inv ${SCHEMA}.invocations) RETURNS numeric LANGUAGE plpgsql STABLE AS $$ BEGIN PERFORM pg_sleep(5); RETURN 1; END $$`);
      });
      const srv = await startServer(MD, d2.url, ['--statement-timeout-ms', '300']);
      try {
        const t0 = Date.now();
        const r = await gql(srv, '{ invocations { avg_job_duration } }');
        assert.ok(Date.now() - t0 < 3000, 'cut early');
        assert.equal(r.body.errors?.[0].extensions.code, 'postgres-error');
        assert.match(r.body.errors![0].message, /statement timeout/);
        const ok = await gql(srv, '{ invocations_aggregate { aggregate { count } } }');
        assert.equal((ok.body.data as any).invocations_aggregate.aggregate.count, 4);
        await d2.drop();
        const h = await fetch(`${srv.url}/healthz`);
        assert.equal(h.status, 500);
        assert.equal(await h.text(), 'ERROR');
        const e = await gql(srv, '{ invocations { id } }');
        assert.equal(e.body.errors?.[0].extensions.code, 'postgres-error');
      } finally { await srv.stop(); }
    } finally { await d2.drop(); }
  });
});

describe('static dashboard files with SPA fallback', () => {
  test('serves files, falls back to index.html, 404 for missing assets, no path escape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-dist-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<html>app</html>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
    const srv = await startServer(MD, db.url, ['--static-dir', dir]);
    try {
      const i = await fetch(`${srv.url}/`); assert.equal(await i.text(), '<html>app</html>');
      const a = await fetch(`${srv.url}/assets/app.js`); assert.equal(a.headers.get('content-type'), 'text/javascript; charset=utf-8');
      const spa = await fetch(`${srv.url}/invocations/123`); assert.equal(spa.status, 200); assert.equal(await spa.text(), '<html>app</html>');
      const miss = await fetch(`${srv.url}/assets/missing.js`); assert.equal(miss.status, 404);
      // Deep links whose last segment looks like a file name (emails, system.uuid correlation IDs) are routes.
      const chain = await fetch(`${srv.url}/chains/ann@example.com`, { headers: { accept: 'text/html,application/xhtml+xml' } });
      assert.equal(chain.status, 200); assert.equal(await chain.text(), '<html>app</html>');
      const favicon = await fetch(`${srv.url}/favicon.ico`, { headers: { accept: 'image/*' } }); assert.equal(favicon.status, 404);
      const esc = await fetch(`${srv.url}/..%2f..%2fetc%2fpasswd`); assert.equal(await esc.text(), '<html>app</html>');
    } finally { await srv.stop(); rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('live queries over WebSocket', () => {
  let srv: Running;
  before(async () => { srv = await startServer(MD, db.url, ['--refetch-interval-ms', '100', '--admin-secret', 'k']); });
  after(async () => { await srv?.stop(); });
  const SUB = 'subscription { job_logs_aggregate { aggregate { count } } }';
  const insertLog = (id: string) => sql(db.url, `INSERT INTO ${SCHEMA}.job_logs (id, created_at, job_execution_id, level, message) VALUES ($1, now(), '00000000-0000-0000-0000-0000000001f5', 'info', 'live')`, [id]);

  test('graphql-transport-ws (graphql-ws client): initial result, then the changed result after an insert', async () => {
    const client = createClient({ url: srv.wsUrl, webSocketImpl: WebSocket, connectionParams: { headers: { 'x-hasura-admin-secret': 'k' } }, retryAttempts: 0 });
    const seen: number[] = [];
    await new Promise<void>((res, rej) => {
      const stop = client.subscribe({ query: SUB }, {
        next: (v) => {
          const c = (v.data as any).job_logs_aggregate.aggregate.count as number;
          seen.push(c);
          if (seen.length === 1) void insertLog('00000000-0000-0000-0000-000000000201');
          if (seen.length === 2) { stop(); res(); }
        },
        error: rej, complete: () => {},
      });
    });
    await client.dispose();
    assert.equal(seen[1], seen[0] + 1);
  });

  test('legacy graphql-ws (subscriptions-transport-ws): ack, ka, data, stop (silent, as Hasura), errors', async () => {
    const ws = new WebSocket(srv.wsUrl, 'graphql-ws');
    const msgs: any[] = [];
    const waitFor = (pred: (m: any) => boolean) => new Promise<any>((res) => {
      const hit = msgs.find(pred); if (hit) return res(hit);
      const on = () => { const h = msgs.find(pred); if (h) { ws.off('message', on); res(h); } };
      ws.on('message', on);
    });
    ws.on('message', (d) => msgs.push(JSON.parse(String(d))));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { headers: { 'x-hasura-admin-secret': 'k' } } }));
    await waitFor((m) => m.type === 'connection_ack');
    await waitFor((m) => m.type === 'ka');
    ws.send(JSON.stringify({ id: '1', type: 'start', payload: { query: SUB } }));
    const first = await waitFor((m) => m.type === 'data' && m.id === '1');
    const c0 = first.payload.data.job_logs_aggregate.aggregate.count;
    await insertLog('00000000-0000-0000-0000-000000000202');
    const second = await waitFor((m) => m.type === 'data' && m.payload.data.job_logs_aggregate.aggregate.count === c0 + 1);
    assert.ok(second);
    assert.equal(msgs.filter((m) => m.type === 'data').length, 2, 'unchanged results are not pushed');
    ws.send(JSON.stringify({ id: '1', type: 'stop' }));
    const afterStop = msgs.length;
    await insertLog('00000000-0000-0000-0000-000000000203');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(msgs.slice(afterStop).filter((m) => m.id === '1').length, 0, 'nothing for a stopped operation, not even complete');
    ws.send(JSON.stringify({ id: '2', type: 'start', payload: { query: '{ nope }' } }));
    const err = await waitFor((m) => m.type === 'error' && m.id === '2');
    assert.equal(err.payload.errors[0].extensions.code, 'validation-failed');
    ws.send(JSON.stringify({ type: 'stop' }));
    assert.equal((await waitFor((m) => m.type === 'connection_error')).type, 'connection_error');
    ws.close();
  });

  test('legacy protocol: a wrong secret gets connection_error', async () => {
    const ws = new WebSocket(srv.wsUrl, 'graphql-ws');
    await new Promise((r) => ws.once('open', r));
    const m = new Promise<any>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { headers: { 'x-hasura-admin-secret': 'bad' } } }));
    const msg = await m;
    assert.equal(msg.type, 'connection_error');
    assert.match(msg.payload.message, /invalid x-hasura-admin-secret/);
  });
});

// Hook for the dashboard: every operation in dashboard/src/graphql/queries.ts (exported template strings, or
// gql/graphql tagged templates) or in a .graphql directory must validate against the schema this server builds
// from the project's metadata (hasura-metadata/ when present, else the fixture): all of them for admin, and all
// but those reading source_event_payload for the browser's read-only role "observer".
describe('dashboard operations validate against the schema', () => {
  const dashSrc = resolve(REPO_DIR, 'dashboard', 'src');
  const candidates = [join(dashSrc, 'graphql', 'queries.ts'), join(dashSrc, 'queries.ts'), join(dashSrc, 'graphql'), join(dashSrc, 'queries')];
  const docs: { name: string; text: string }[] = [];
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    if (c.endsWith('.ts')) {
      const src = readFileSync(c, 'utf8');
      for (const m of src.matchAll(/(?:export\s+const\s+(\w+)\s*(?::[^=]+)?=\s*|(?:gql|graphql|\/\*\s*GraphQL\s*\*\/)\s*)`([\s\S]*?)`/g)) {
        const text = m[2].replace(/\$\{[^}]*\}/g, '');
        if (/^\s*(query|subscription|mutation|fragment|\{)/.test(text)) docs.push({ name: m[1] ?? 'tagged template', text });
      }
    } else if (!c.endsWith('.ts')) {
      // schema.graphql is the dashboard's schema snapshot (for its type generation), not an operation.
      for (const f of readdirSync(c)) if ((f.endsWith('.graphql') || f.endsWith('.gql')) && f !== 'schema.graphql') docs.push({ name: f, text: readFileSync(join(c, f), 'utf8') });
    }
  }
  const realMd = resolve(REPO_DIR, 'hasura-metadata');
  const md = existsSync(join(realMd, 'databases', 'databases.yaml')) ? realMd : MD;
  test(`${docs.length} dashboard operation(s) validate (admin; observer unless they read source_event_payload)`, { skip: docs.length ? false : 'dashboard/src/graphql/queries.ts not present yet' }, async () => {
    const srv = await startServer(md, db.url);
    try {
      const fragments = docs.flatMap((d) => parse(d.text).definitions.filter((x) => x.kind === Kind.FRAGMENT_DEFINITION));
      const problems: string[] = [];
      for (const role of ['admin', 'observer']) {
        const schema: GraphQLSchema = srv.engine.roleSchema(role).schema;
        for (const d of docs) {
          const doc = parse(d.text);
          if (!doc.definitions.some((x) => x.kind !== Kind.FRAGMENT_DEFINITION)) continue;
          if (role === 'observer' && /\bsource_event_payload\b/.test(d.text)) continue;
          const own = new Set(doc.definitions.filter((x) => x.kind === Kind.FRAGMENT_DEFINITION).map((x: any) => x.name.value));
          const full = { ...doc, definitions: [...doc.definitions, ...fragments.filter((f: any) => !own.has(f.name.value))] };
          for (const e of validate(schema, full as never)) if (!/Fragment ".*" is never used/.test(e.message)) problems.push(`${role} ${d.name}: ${e.message}`);
        }
      }
      assert.deepEqual(problems, []);
      // And each runs (as admin, with synthesized variables) without a database or compile error.
      const sample = (t: string): unknown => {
        const base = t.replace(/[!\[\]]/g, '');
        const v = base === 'timestamptz' ? '2026-11-26T00:00:00Z' : base === 'Int' ? 1 : base === 'uuid' ? '00000000-0000-0000-0000-0000000000a1'
          : base === 'String' ? 'alice@example.com' : base === 'Boolean' ? true : base === 'jsonb' ? {} : base.endsWith('_order_by') ? { id: 'asc' } : base.endsWith('_bool_exp') ? {} : null;
        return t.startsWith('[') ? [v] : v;
      };
      const runProblems: string[] = [];
      for (const d of docs) {
        const doc = parse(d.text);
        for (const op of doc.definitions) {
          if (op.kind !== Kind.OPERATION_DEFINITION || op.operation !== 'query') continue;
          const vars: Record<string, unknown> = {};
          for (const vd of op.variableDefinitions ?? []) vars[vd.variable.name.value] = sample(print(vd.type));
          const r = await gql(srv, print({ ...doc, definitions: [op, ...fragments] } as never), vars);
          if (r.body.errors) runProblems.push(`run ${d.name}: ${JSON.stringify(r.body.errors)}`);
        }
      }
      assert.deepEqual(runProblems, []);
    } finally { await srv.stop(); }
  });
});
