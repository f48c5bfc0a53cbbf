// Conformance with Hasura v2, converted from the public graphql-engine test suite (server/tests-py): the cases in
// test/conformance/*.cases.yaml (queries, fixtures and expected responses written for this repository; `from` names
// the upstream test) and, below, the WebSocket tests of tests-py/test_subscriptions.py rewritten against the same
// protocols. The table in README.md ("Conformance") summarizes what passes and why some answers differ.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';
import { createDatabase, psqlFile, sql, startServer, type Running, SERVER_DIR } from './helpers.js';

const DIR = resolve(SERVER_DIR, 'test', 'conformance');

interface Case { from: string; headers?: Record<string, string>; request?: unknown; batch?: unknown[]; response: unknown; differs?: string }
interface Group { fixture: string; server_args?: string[]; cases: Case[] }

/** Deep equality as Hasura's validate.py compares (key order ignored), numbers equal to 12 significant digits. */
function same(a: unknown, b: unknown, path = '$'): string | null {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)) * 1e3 ? null : `${path}: ${a} != ${b}`;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return `${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`;
    for (let i = 0; i < a.length; i++) { const d = same(a[i], b[i], `${path}[${i}]`); if (d) return d; }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort(); const kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return `${path}: keys ${ka.join(',')} != ${kb.join(',')}`;
    for (const k of ka) { const d = same((a as any)[k], (b as any)[k], `${path}.${k}`); if (d) return d; }
    return null;
  }
  return a === b ? null : `${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`;
}

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.cases.yaml')).sort()) {
  const group = parseYaml(readFileSync(resolve(DIR, file), 'utf8')) as Group;
  describe(`conformance: ${file.replace('.cases.yaml', '')}`, () => {
    let db: Awaited<ReturnType<typeof createDatabase>>;
    let srv: Running;
    before(async () => {
      db = await createDatabase(`es_conf_${group.fixture}`);
      psqlFile(db.url, resolve(DIR, `${group.fixture}.sql`));
      srv = await startServer(resolve(DIR, group.fixture), db.url, group.server_args ?? []);
    });
    after(async () => { await srv?.stop(); await db?.drop(); });
    group.cases.forEach((c, i) => {
      test(`${i + 1}. ${c.from}${c.differs ? ' (differs: see README)' : ''}`, async () => {
        const r = await fetch(`${srv.url}/v1/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...c.headers }, body: JSON.stringify(c.batch ?? c.request) });
        assert.equal(r.status, 200);
        const body = await r.json();
        const d = same(body, c.response);
        assert.equal(d, null, `${d}\nactual: ${JSON.stringify(body)}`);
      });
    });
  });
}

/** A raw WebSocket client that queues every message, for protocol-level assertions. */
async function wsClient(url: string, protocol: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, protocol, { headers });
  const queue: any[] = [];
  let closed: { code: number } | null = null;
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => { queue.push(JSON.parse(String(d))); waiters.splice(0).forEach((w) => w()); });
  ws.on('close', (code) => { closed = { code }; waiters.splice(0).forEach((w) => w()); });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const next = async (pred: (m: any) => boolean = () => true, ms = 5000): Promise<any> => {
    const t0 = Date.now();
    for (;;) {
      const i = queue.findIndex(pred);
      if (i >= 0) return queue.splice(i, 1)[0];
      if (closed || Date.now() - t0 > ms) return undefined;
      await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 100); });
    }
  };
  return { ws, queue, next, send: (m: unknown) => ws.send(JSON.stringify(m)), closed: () => closed };
}

describe('conformance: subscriptions (tests-py/test_subscriptions.py)', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let srv: Running;
  before(async () => {
    db = await createDatabase('es_conf_live');
    psqlFile(db.url, resolve(DIR, 'live.sql'));
    srv = await startServer(resolve(DIR, 'live'), db.url, ['--refetch-interval-ms', '100', '--streaming-refetch-interval-ms', '100']);
  });
  after(async () => { await srv?.stop(); await db?.drop(); });
  const T1 = 'subscription { hge_tests_test_t1(order_by: {c1: desc}, limit: 1) { c1 c2 } }';

  test('graphql-ws (legacy): init without payload, start/data, stop is silent, query gets data then complete (TestSubscriptionBasic)', async () => {
    const c = await wsClient(srv.wsUrl, 'graphql-ws');
    c.send({ type: 'connection_init' });
    assert.equal((await c.next((m) => m.type === 'connection_ack'))?.type, 'connection_ack');
    c.send({ id: '1', type: 'start', payload: { query: T1 } });
    const d = await c.next((m) => m.id === '1');
    assert.deepEqual([d.type, d.payload], ['data', { data: { hge_tests_test_t1: [] } }]);
    c.send({ id: '1', type: 'stop' });
    await sql(db.url, "INSERT INTO hge_tests.test_t1 VALUES (1, 'table1')");
    assert.equal(await c.next((m) => m.id === '1', 600), undefined, 'no event after stop');
    c.send({ id: '2', type: 'start', payload: { query: T1.replace('subscription', 'query') } });
    const q = await c.next((m) => m.id === '2');
    assert.deepEqual([q.type, q.payload], ['data', { data: { hge_tests_test_t1: [{ c1: 1, c2: 'table1' }] } }]);
    assert.equal((await c.next((m) => m.id === '2'))?.type, 'complete');
    c.send({ type: 'stop' });
    assert.equal((await c.next((m) => m.type === 'connection_error'))?.type, 'connection_error');
    c.send({ type: 'test' });
    assert.equal((await c.next((m) => m.type === 'connection_error'))?.type, 'connection_error');
    c.ws.close();
  });

  test('graphql-transport-ws: subscribe/next, query next+complete; complete without id or an unknown type closes (TestSubscriptionBasicGraphQLWS)', async () => {
    const c = await wsClient(srv.wsUrl, 'graphql-transport-ws');
    c.send({ type: 'connection_init', payload: {} });
    assert.equal((await c.next((m) => m.type === 'connection_ack'))?.type, 'connection_ack');
    c.send({ id: '1', type: 'subscribe', payload: { query: T1 } });
    assert.equal((await c.next((m) => m.id === '1'))?.type, 'next');
    c.send({ id: '2', type: 'subscribe', payload: { query: T1.replace('subscription', 'query') } });
    assert.equal((await c.next((m) => m.id === '2'))?.type, 'next');
    assert.equal((await c.next((m) => m.id === '2'))?.type, 'complete');
    c.send({ type: 'complete' });
    await c.next(() => false, 1000);
    assert.ok(c.closed(), 'complete without an id closes the connection');
    const c2 = await wsClient(srv.wsUrl, 'graphql-transport-ws');
    c2.send({ type: 'connection_init', payload: {} });
    await c2.next((m) => m.type === 'connection_ack');
    c2.send({ type: 'test' });
    await c2.next(() => false, 1000);
    assert.ok(c2.closed(), 'an unknown message type closes the connection');
  });

  test('negative test: a missing session variable in the role filter (subscriptions/basic/negative_test.yaml), HTTP and WebSocket', async () => {
    const exp = { message: 'missing session variables: "x-hasura-custom"', extensions: { path: '$', code: 'not-found' } };
    const h = await (await fetch(`${srv.url}/v1/graphql`, { method: 'POST', headers: { 'x-hasura-role': 'user' }, body: JSON.stringify({ query: '{ hge_tests_test_t1 { c1 c2 } }' }) })).json();
    assert.deepEqual(h, { errors: [exp] });
    const c = await wsClient(srv.wsUrl, 'graphql-ws');
    c.send({ type: 'connection_init', payload: { headers: { 'X-Hasura-Role': 'user' } } });
    await c.next((m) => m.type === 'connection_ack');
    c.send({ id: 'n', type: 'start', payload: { query: 'subscription { hge_tests_test_t1 { c1 c2 } }' } });
    const e = await c.next((m) => m.id === 'n');
    assert.equal(e.type, 'error');
    assert.deepEqual(e.payload, { errors: [exp] });
    c.ws.close();
  });

  test('subscriptions must select one top level field (TestSubscriptionCustomizedSourceCommon.test_double_alias)', async () => {
    const c = await wsClient(srv.wsUrl, 'graphql-ws');
    c.send({ type: 'connection_init', payload: {} });
    await c.next((m) => m.type === 'connection_ack');
    c.send({ id: '2', type: 'start', payload: { query: 'subscription { a: hge_tests_test_t2 { c1 } b: hge_tests_test_t2 { c2 } }' } });
    const e = await c.next((m) => m.id === '2');
    assert.deepEqual([e.type, e.payload], ['error', { errors: [{ message: 'subscriptions must select one top level field', extensions: { path: '$', code: 'validation-failed' } }] }]);
    c.ws.close();
  });

  test('live queries: three subscribers with different limits follow inserts, updates and deletes (TestSubscriptionLiveQueries)', async () => {
    const c = await wsClient(srv.wsUrl, 'graphql-ws');
    c.send({ type: 'connection_init', payload: {} });
    await c.next((m) => m.type === 'connection_ack');
    const limits = [1, 2, 2];
    const q = (i: number) => `subscription ($result_limit: Int!) { hge_tests_live_query_${i}: hge_tests_test_t2(order_by: {c1: asc}, limit: $result_limit) { c1 c2 } }`;
    limits.forEach((l, i) => c.send({ id: `live_${i}`, type: 'start', payload: { query: q(i), variables: { result_limit: l } } }));
    for (let i = 0; i < 3; i++) assert.deepEqual((await c.next((m) => m.id === `live_${i}`)).payload.data, { [`hge_tests_live_query_${i}`]: [] });
    const steps: [string, { c1: number; c2: string }[]][] = [
      ["INSERT INTO hge_tests.test_t2 (c1, c2) VALUES (1, 'test1')", [{ c1: 1, c2: 'test1' }]],
      ["INSERT INTO hge_tests.test_t2 (c1, c2) VALUES (2, 'test2'), (3, 'test3')", [{ c1: 1, c2: 'test1' }, { c1: 2, c2: 'test2' }, { c1: 3, c2: 'test3' }]],
      ["UPDATE hge_tests.test_t2 SET c2 = 'test1_updated' WHERE c1 = 1", [{ c1: 1, c2: 'test1_updated' }, { c1: 2, c2: 'test2' }, { c1: 3, c2: 'test3' }]],
      ['DELETE FROM hge_tests.test_t2 WHERE c1 = 1', [{ c1: 2, c2: 'test2' }, { c1: 3, c2: 'test3' }]],
    ];
    const last = limits.map(() => JSON.stringify([]));
    for (const [stmt, rows] of steps) {
      await sql(db.url, stmt);
      for (let i = 0; i < 3; i++) {
        const expected = rows.slice(0, limits[i]);
        if (JSON.stringify(expected) === last[i]) continue; // unchanged results are not pushed (Hasura neither)
        const ev = await c.next((m) => m.id === `live_${i}`);
        assert.deepEqual(ev?.payload.data, { [`hge_tests_live_query_${i}`]: expected }, `${stmt}: live_${i}`);
        last[i] = JSON.stringify(expected);
      }
    }
    limits.forEach((_, i) => c.send({ id: `live_${i}`, type: 'stop' }));
    assert.equal(await c.next((m) => m.type !== 'ka', 600), undefined);
    c.ws.close();
  });

  test('streaming: batches in cursor order as rows arrive (subscriptions/streaming/steps.yaml)', async () => {
    await sql(db.url, 'TRUNCATE hge_tests.test_t2');
    const c = await wsClient(srv.wsUrl, 'graphql-transport-ws');
    c.send({ type: 'connection_init', payload: {} });
    await c.next((m) => m.type === 'connection_ack');
    c.send({ id: 's', type: 'subscribe', payload: { query: 'subscription { hge_tests_test_t2_stream(cursor: {initial_value: {c1: 0}}, batch_size: 10) { c1 c2 } }' } });
    await sql(db.url, "INSERT INTO hge_tests.test_t2 (c1, c2) VALUES (1, 'test1')");
    assert.deepEqual((await c.next((m) => m.id === 's')).payload.data.hge_tests_test_t2_stream, [{ c1: 1, c2: 'test1' }]);
    await sql(db.url, "INSERT INTO hge_tests.test_t2 (c1, c2) VALUES (2, 'test2'), (3, 'test3')");
    assert.deepEqual((await c.next((m) => m.id === 's')).payload.data.hge_tests_test_t2_stream, [{ c1: 2, c2: 'test2' }, { c1: 3, c2: 'test3' }]);
    c.ws.close();
  });
});
