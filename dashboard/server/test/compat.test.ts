// Issue 13: what clients written against Hasura v2 expect. Validation (only the named operation, unused variables
// and fragments, unexpected variable values), `_cast` to String on castable scalar types, numeric
// stringification, v1 boolean null collapse, set-returning and argument-taking computed fields, `_stream`
// subscriptions, multiplexed live queries (one SQL per poll per shape), and the configuration surface.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig, unsupportedHasuraSettings } from '../src/config.js';
import { multiplexedSql } from '../src/livequery.js';
import { createDatabase, FIXTURES, psqlFile, sql, startServer, type Running } from './helpers.js';

const MD = resolve(FIXTURES, 'compat', 'metadata');
let db: Awaited<ReturnType<typeof createDatabase>>;
let srv: Running;
before(async () => {
  db = await createDatabase('es_compat');
  psqlFile(db.url, resolve(FIXTURES, 'compat', 'schema.sql'));
  srv = await startServer(MD, db.url);
});
after(async () => { await srv?.stop(); await db?.drop(); });

const post = async (s: Running, body: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(`${s.url}/v1/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { text: await r.text(), status: r.status };
};
const body = async (s: Running, b: unknown, headers: Record<string, string> = {}) => JSON.parse((await post(s, b, headers)).text);
const err = (message: string, code = 'validation-failed', path = '$') => ({ errors: [{ message, extensions: { path, code } }] });

describe('validation as Hasura v2 (issue 13, point 1)', () => {
  test('a declared variable may go unused (with a default, or nullable without a value)', async () => {
    const r = await body(srv, { query: 'query Q($a: String, $unused: Boolean = false, $nothing: Int) { kinds(where: {label: {_eq: $a}}) { id } }', variables: { a: 'one' } });
    assert.deepEqual(r, { data: { kinds: [{ id: 1 }] } });
  });
  test('a value for a variable the operation does not use: "unexpected variables in variableValues"', async () => {
    assert.deepEqual(await body(srv, { query: '{ kinds { id } }', variables: { x: 1 } }), err('unexpected variables in variableValues: x'));
    assert.deepEqual(await body(srv, { query: 'query Q($a: String, $b: Int) { kinds(where: {label: {_eq: $a}}) { id } }', variables: { a: 'one', b: 2, c: 3 } }),
      err('unexpected variables in variableValues: b, c'));
  });
  test('unused fragments are accepted, even ones that would not validate', async () => {
    const r = await body(srv, { query: 'query { kinds(where: {id: {_eq: 2}}) { ...K } } fragment K on kinds { id } fragment Unused on kinds { id } fragment Broken on nope { x }' });
    assert.deepEqual(r, { data: { kinds: [{ id: 2 }] } });
  });
  test('only the operation named by operationName is validated', async () => {
    const doc = 'query Good { kinds(where: {id: {_eq: 1}}) { id } } query Bad { nope { x } } subscription S { also_nope }';
    assert.deepEqual(await body(srv, { query: doc, operationName: 'Good' }), { data: { kinds: [{ id: 1 }] } });
    assert.deepEqual(await body(srv, { query: doc, operationName: 'Bad' }), err("field 'nope' not found in type: 'query_root'", 'validation-failed', '$.selectionSet.nope'));
    assert.deepEqual(await body(srv, { query: doc }), err('exactly one operation has to be present in the document when operationName is not specified'));
    assert.deepEqual(await body(srv, { query: doc, operationName: 'Missing' }), err('no such operation found in the document: "Missing"'));
  });
  test("Hasura's messages for fragments and variables", async () => {
    assert.deepEqual(await body(srv, { query: '{ kinds { ...F } }' }), err('reference to undefined fragment "F"'));
    assert.deepEqual(await body(srv, { query: '{ kinds { ...A } } fragment A on kinds { ...B } fragment B on kinds { id ...A }' }), err('cannot spread fragment "A" within itself via B,A', 'validation-failed', '$.selectionSet.kinds.selectionSet.A.selectionSet.B.selectionSet'));
    assert.deepEqual(await body(srv, { query: '{ kinds { ...A } } fragment A on kinds { id } fragment A on kinds { label }' }), err('multiple definitions for fragment "A"', 'parse-failed'));
    assert.deepEqual(await body(srv, { query: 'query($a: Int, $a: Int) { kinds(limit: $a) { id } }' }), err('multiple definitions for variable "a"', 'parse-failed'));
    assert.deepEqual(await body(srv, { query: 'query($n: Int!) { kinds(limit: $n) { id } }' }), err('expecting a value for non-nullable variable: "n"'));
    assert.deepEqual(await body(srv, { query: 'query($n: Int!) { kinds(limit: $n) { id } }', variables: { n: null } }), err('null value found for non-nullable type: "Int!"'));
    assert.deepEqual(await body(srv, { query: '{ kinds(limit: $n) { id } }' }), err('unbound variable "n"'));
    assert.deepEqual(await body(srv, { query: '{ kinds @live { id } }' }), err("directive 'live' is not defined in the schema", 'validation-failed', '$.selectionSet.kinds'));
  });
  test('the Apollo/codegen case of issue 13: a search box with an unused flag', async () => {
    const q = 'query Search($a: String, $unused: Boolean = false) { kinds(where: {label: {_ilike: $a}}, order_by: {id: asc}) { id } }';
    for (const term of ['%o%', '%t%', '%']) {
      const exp = (await sql(db.url, 'SELECT id FROM kinds WHERE label ILIKE $1 ORDER BY id', [term])).map((r) => ({ id: r.id }));
      assert.deepEqual(await body(srv, { query: q, variables: { a: term } }), { data: { kinds: exp } });
    }
  });
});

describe('column values given as strings (Hasura lets Postgres cast them)', () => {
  test('Int and Float columns accept numeric strings in literals, variables, lists and by_pk; limit does not', async () => {
    assert.deepEqual((await body(srv, { query: '{ kinds(where: {int: {_eq: "10"}}) { id } }' })).data.kinds, [{ id: 1 }]);
    assert.deepEqual((await body(srv, { query: 'query($i: Int) { kinds(where: {int: {_eq: $i}}) { id } }', variables: { i: '20' } })).data.kinds, [{ id: 2 }]);
    assert.deepEqual((await body(srv, { query: '{ kinds(where: {int: {_in: ["10", "20"]}}, order_by: {id: asc}) { id } }' })).data.kinds, [{ id: 1 }, { id: 2 }]);
    assert.deepEqual((await body(srv, { query: '{ kinds(where: {real_n: {_gt: "1"}}) { id } }' })).data.kinds, [{ id: 1 }]);
    assert.deepEqual((await body(srv, { query: '{ kinds_by_pk(id: "2") { label } }' })).data.kinds_by_pk, { label: 'two' });
    const bad = await body(srv, { query: '{ kinds(where: {int: {_eq: "ten"}}) { id } }' });
    assert.equal(bad.errors[0].extensions.code, 'data-exception');
    assert.deepEqual(await body(srv, { query: '{ kinds(limit: "1") { id } }' }), err('expected a 32-bit integer for type "Int", but found a string', 'validation-failed', '$.selectionSet.kinds.args.limit'));
    assert.deepEqual(await body(srv, { query: '{ kinds(where: {int: {_eq: 1.5}}) { id } }' }), err('expected a 32-bit integer for type "Int", but found a float', 'validation-failed', '$.selectionSet.kinds.args.where.int._eq'));
  });
});

describe('_cast to String (issue 13, point 3)', () => {
  const castable = ['small', 'int', 'big', 'real_n', 'dbl', 'num', 'cash', 'flag', 'code', 'day', 'ts', 'tstz', 'ttz', 'js', 'jsb', 'uid'];
  test('every castable column compares on its Postgres text form (money, timetz, char padding included)', async () => {
    const rows = await sql(db.url, `SELECT id, ${castable.map((c) => `${c}::text AS ${c}`).join(', ')} FROM kinds ORDER BY id`);
    for (const c of castable) {
      for (const row of rows) {
        if (row[c] === null) continue;
        const r = await body(srv, { query: `query($t: String) { kinds(where: {${c}: {_cast: {String: {_eq: $t}}}}) { id } }`, variables: { t: row[c] } });
        assert.deepEqual(r, { data: { kinds: [{ id: row.id }] } }, `${c} = ${row[c]}`);
      }
    }
    // The text forms that differ from JSON's: money with currency formatting, timetz with its offset, char(n) unpadded.
    assert.deepEqual((await body(srv, { query: '{ kinds(where: {cash: {_cast: {String: {_like: "$1,234.5%"}}}}) { id } }' })).data.kinds, [{ id: 1 }]);
    assert.deepEqual((await body(srv, { query: '{ kinds(where: {ttz: {_cast: {String: {_eq: "10:00:00+02"}}}}) { id } }' })).data.kinds, [{ id: 1 }]);
    assert.deepEqual((await body(srv, { query: '{ kinds(where: {code: {_cast: {String: {_eq: "ab"}}}}) { id code } }' })).data.kinds, [{ id: 1, code: 'ab   ' }]);
    assert.deepEqual((await body(srv, { query: '{ kinds(where: {big: {_cast: {String: {_like: "9007%"}}}}) { id } }' })).data.kinds, [{ id: 1 }]);
  });
  test('the schema: <scalar>_cast_exp {String: String_comparison_exp} on castable types only', async () => {
    const r = await body(srv, { query: '{ __schema { types { name inputFields { name type { name } } } } }' });
    const types = new Map<string, { name: string; type: { name: string } }[]>(r.data.__schema.types.map((t: any) => [t.name, t.inputFields ?? []]));
    for (const sc of ['smallint', 'Int', 'bigint', 'Float', 'float8', 'numeric', 'money', 'Boolean', 'bpchar', 'date', 'timestamp', 'timestamptz', 'timetz', 'json', 'jsonb', 'uuid']) {
      assert.equal(types.get(`${sc}_comparison_exp`)?.find((f) => f.name === '_cast')?.type.name, `${sc}_cast_exp`, sc);
      assert.deepEqual(types.get(`${sc}_cast_exp`)?.map((f) => [f.name, f.type.name]), [['String', 'String_comparison_exp']], sc);
    }
    assert.equal(types.get('String_comparison_exp')?.find((f) => f.name === '_cast'), undefined);
  });
});

describe('numeric stringification (issue 13, point 4)', () => {
  test('HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES: bigint, numeric, float8, money as strings, by column type, aggregates too', async () => {
    const s = await startServer(MD, db.url, [], {});
    const on = await startServer(MD, db.url, ['--stringify-numeric-types', 'true']);
    try {
      const q = { query: `{ kinds(where: {id: {_eq: 1}}) { small int big real_n dbl num cash }
        kinds_aggregate(where: {id: {_lte: 2}}) { aggregate { count sum { int big num dbl real_n } avg { int big } max { num small } } } }` };
      const plain = (await post(s, q)).text;
      assert.match(plain, /"big" : 9007199254740993/); // digits as Postgres prints them, not rounded through a double
      assert.match(plain, /"num" : 12\.50/);
      const j = JSON.parse((await post(on, q)).text).data;
      assert.deepEqual(j.kinds[0], { small: 1, int: 10, big: '9007199254740993', real_n: 1.5, dbl: '2.25', num: '12.50', cash: '$1,234.50' });
      const [e] = await sql(db.url, `SELECT sum(int) AS si, sum(big)::text AS sb, sum(num)::text AS sn, sum(dbl)::text AS sd, sum(real_n) AS sr,
        avg(int)::text AS ai, avg(big)::text AS ab, max(num)::text AS mn, max(small) AS ms FROM kinds WHERE id <= 2`);
      assert.deepEqual(j.kinds_aggregate.aggregate, {
        count: 2, sum: { int: Number(e.si), big: e.sb, num: e.sn, dbl: e.sd, real_n: e.sr }, avg: { int: Number(e.ai), big: e.ab }, max: { num: e.mn, small: e.ms },
      });
    } finally { await s.stop(); await on.stop(); }
  });
  test('HASURA_GRAPHQL_V1_BOOLEAN_NULL_COLLAPSE: an operator given null is dropped', async () => {
    const q = { query: 'query($l: String) { kinds(where: {label: {_eq: $l}}, order_by: {id: asc}) { id } }', variables: { l: null } };
    assert.deepEqual(await body(srv, q), err('unexpected null value for type "String"', 'validation-failed', '$.selectionSet.kinds.args.where.label._eq'));
    const v1 = await startServer(MD, db.url, ['--v1-boolean-null-collapse', 'true']);
    try { assert.deepEqual(await body(v1, q), { data: { kinds: [{ id: 1 }, { id: 2 }, { id: 3 }] } }); } finally { await v1.stop(); }
  });
});

describe('computed fields with arguments and set-returning computed fields (issue 13, point 5)', () => {
  test('SETOF computed fields take args (defaults too), where, order_by, limit, offset, and have _aggregate', async () => {
    const d = (await body(srv, { query: `{ docs(order_by: {id: asc}) { id
      by2: comments_by(args: {author: 2}, order_by: {id: desc}) { id }
      all_comments(where: {body: {_nlike: "m%"}}, order_by: {id: asc}, limit: 1, offset: 1) { id body }
      all_comments_aggregate { aggregate { count max { id } } }
      comments_since { id }
      early: comments_since(args: {since: "2026-01-01T00:00:00Z"}, order_by: {created_at: asc}) { id }
      title_with(args: {prefix: "> "}) t2: title_with(args: {prefix: "[", suffix: "]"}) } }` })).data.docs;
    const exp = await sql(db.url, `SELECT d.id,
        (SELECT coalesce(json_agg(c.id ORDER BY c.id DESC), '[]') FROM doc_comments_by(d, 2) c) AS by2,
        (SELECT coalesce(json_agg(json_build_object('id', x.id, 'body', x.body)), '[]') FROM (SELECT * FROM doc_all_comments(d) c WHERE c.body NOT LIKE 'm%' ORDER BY c.id LIMIT 1 OFFSET 1) x) AS ac,
        (SELECT json_build_object('count', count(*), 'max', json_build_object('id', max(c.id))) FROM doc_all_comments(d) c) AS agg,
        (SELECT coalesce(json_agg(c.id), '[]') FROM doc_comments_since(d) c) AS since,
        (SELECT coalesce(json_agg(c.id ORDER BY c.created_at), '[]') FROM doc_comments_since(d, '2026-01-01T00:00:00Z') c) AS early,
        doc_title_with(d, '> ') AS tw, doc_title_with(d, '[', ']') AS t2 FROM docs d ORDER BY d.id`);
    assert.deepEqual(d.map((x: any) => [x.id, x.by2.map((c: any) => c.id), x.all_comments, x.all_comments_aggregate.aggregate, [...x.comments_since.map((c: any) => c.id)].sort(), x.early.map((c: any) => c.id), x.title_with, x.t2]),
      exp.map((x) => [x.id, x.by2, x.ac, x.agg, [...x.since].sort(), x.early, x.tw, x.t2]));
  });
  test("the target table's role filter applies to rows a SETOF computed field returns; usable in where", async () => {
    const h = { 'x-hasura-role': 'user', 'x-hasura-user-id': '3' };
    // user 3 sees published docs and their own; comments only on such docs.
    const d = (await body(srv, { query: '{ docs(order_by: {id: asc}) { id all_comments(order_by: {id: asc}) { id } } }' }, h)).data.docs;
    const exp = await sql(db.url, `SELECT d.id, (SELECT coalesce(json_agg(c.id ORDER BY c.id), '[]') FROM doc_all_comments(d) c) AS cs FROM docs d WHERE d.published OR d.owner_id = 3 ORDER BY d.id LIMIT 3`);
    assert.deepEqual(d.map((x: any) => [x.id, x.all_comments.map((c: any) => c.id)]), exp.map((x) => [x.id, x.cs]));
    const w = (await body(srv, { query: '{ docs(where: {all_comments: {body: {_eq: "wow"}}}) { id } }' })).data.docs;
    assert.deepEqual(w, [{ id: 5 }]);
    const sess = (await body(srv, { query: '{ orgs(order_by: {id: asc}) { id my_docs { id } } }' }, { 'x-hasura-role': 'user', 'x-hasura-user-id': '2' })).data.orgs;
    assert.deepEqual(sess, [{ id: 1, my_docs: [{ id: 2 }] }]);
    const missing = await body(srv, { query: '{ docs { comments_by { id } } }' });
    assert.equal(missing.errors[0].extensions.code, 'validation-failed');
  });
});

/** Collects a subscription's messages with the graphql-ws client. */
function subscribe(client: Client, query: string, variables?: Record<string, unknown>) {
  const seen: any[] = [];
  const waiters: (() => void)[] = [];
  const stop = client.subscribe({ query, variables }, {
    next: (v) => { seen.push(v); waiters.splice(0).forEach((w) => w()); },
    error: (e) => { seen.push({ error: e }); waiters.splice(0).forEach((w) => w()); }, complete: () => {},
  });
  const until = async (pred: (s: any[]) => boolean, ms = 5000) => {
    const t0 = Date.now();
    while (!pred(seen)) {
      if (Date.now() - t0 > ms) throw new Error(`timeout; seen ${JSON.stringify(seen)}`);
      await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 100); });
    }
  };
  return { seen, stop, until };
}

describe('subscriptions (issue 13, point 5)', () => {
  let live: Running;
  before(async () => { live = await startServer(MD, db.url, ['--refetch-interval-ms', '100', '--streaming-refetch-interval-ms', '100']); });
  after(async () => { await live?.stop(); });
  const client = (headers: Record<string, string> = {}) => createClient({ url: live.wsUrl, webSocketImpl: WebSocket, connectionParams: { headers }, retryAttempts: 0, lazy: false });

  test('_stream: batches after the cursor, in cursor order, under the role filter; new rows arrive; empty polls are silent', async () => {
    const c = client({ 'x-hasura-role': 'user' });
    try {
      const s = subscribe(c, 'subscription { events_stream(batch_size: 3, cursor: {initial_value: {id: 0}, ordering: ASC}) { id kind } }');
      const ids = (await sql(db.url, "SELECT id FROM events WHERE kind = 'a' ORDER BY id")).map((r) => Number(r.id));
      await s.until((x) => x.flatMap((m) => m.data?.events_stream ?? []).length >= ids.length);
      assert.deepEqual(s.seen.map((m) => m.data.events_stream.map((e: any) => e.id)), [ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)].filter((b) => b.length));
      const before = s.seen.length;
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(s.seen.length, before, 'no message for empty batches');
      const [row] = await sql(db.url, "INSERT INTO events (at, kind, n) VALUES (now(), 'a', 99), (now(), 'b', 98) RETURNING id");
      await s.until((x) => x.length > before);
      assert.deepEqual(s.seen[before].data.events_stream, [{ id: Number(row.id), kind: 'a' }]);
      const desc = subscribe(c, 'subscription { events_stream(batch_size: 2, cursor: {initial_value: {id: 4}, ordering: DESC}) { id } }');
      await desc.until((x) => x.length >= 1);
      assert.deepEqual(desc.seen[0].data.events_stream, [{ id: 2 }, { id: 1 }]);
      s.stop(); desc.stop();
    } finally { await c.dispose(); }
  });

  test('a subscription selects one root field, unless Hasura\'s @_multiple_top_level_fields testing directive lifts the rule', async () => {
    const c = client();
    try {
      const two = subscribe(c, 'subscription { a: events(limit: 1) { id } b: kinds(limit: 1) { id } }');
      await two.until((x) => x.length >= 1);
      assert.deepEqual(two.seen[0].error, [{ message: 'subscriptions must select one top level field', extensions: { path: '$', code: 'validation-failed' } }]);
      const lifted = subscribe(c, 'subscription @_multiple_top_level_fields { a: events(order_by: {id: asc}, limit: 1) { id } b: kinds(order_by: {id: asc}, limit: 1) { id } }');
      await lifted.until((x) => x.length >= 1);
      assert.deepEqual(lifted.seen[0].data, { a: [{ id: 1 }], b: [{ id: 1 }] });
      lifted.stop();
    } finally { await c.dispose(); }
  });

  test('live queries: one SQL statement per poll for many subscribers of one shape', async () => {
    const metric = async () => {
      const m = await (await fetch(`${live.url}/metrics`)).text();
      return Number(/eventscope_console_sql_statements_total\{kind="live_poll"\} (\d+)/.exec(m)?.[1] ?? 0);
    };
    const q = 'subscription S($since: timestamptz!, $kind: String!) @_multiple_top_level_fields { a: events_aggregate(where: {at: {_gte: $since}, kind: {_eq: $kind}}) { aggregate { count } } last: events(order_by: {id: desc}, limit: 1, where: {kind: {_eq: $kind}}) { n } }';
    const clients = Array.from({ length: 4 }, () => client());
    try {
      const subs = Array.from({ length: 40 }, (_, i) => subscribe(clients[i % 4], q, { since: '2026-01-01T00:00:00Z', kind: i % 2 ? 'a' : 'b' }));
      await Promise.all(subs.map((s) => s.until((x) => x.length >= 1)));
      const counts = await sql(db.url, "SELECT kind, count(*)::int AS c, (array_agg(n ORDER BY id DESC))[1] AS n FROM events WHERE at >= '2026-01-01' GROUP BY kind");
      const by = Object.fromEntries(counts.map((r) => [r.kind, r]));
      subs.forEach((s, i) => {
        const k = i % 2 ? 'a' : 'b';
        assert.deepEqual(s.seen[0].data, { a: { aggregate: { count: by[k].c } }, last: [{ n: by[k].n }] });
      });
      const m0 = await metric();
      await new Promise((r) => setTimeout(r, 1000));
      const polls = (await metric()) - m0;
      // 40 subscribers, 2 parameter sets, one shape: one statement per poll (~10 in a second), not 40 per poll.
      assert.ok(polls >= 3 && polls <= 15, `${polls} live-poll statements in 1 s`);
      await sql(db.url, "INSERT INTO events (at, kind, n) VALUES (now(), 'b', 777)");
      await Promise.all(subs.filter((_, i) => i % 2 === 0).map((s) => s.until((x) => x.some((m) => m.data?.last?.[0]?.n === 777))));
      subs.forEach((s) => s.stop());
    } finally { await Promise.all(clients.map((c) => c.dispose())); }
  });

  test('a cohort whose parameters fail is isolated: other subscribers of the same shape keep their results', async () => {
    const c = client();
    try {
      const q = 'subscription($u: uuid!) { kinds(where: {uid: {_eq: $u}}) { id } }';
      const good = subscribe(c, q, { u: '00000000-0000-0000-0000-00000000000a' });
      const bad = subscribe(c, q, { u: 'not-a-uuid' });
      await good.until((x) => x.length >= 1);
      await bad.until((x) => x.length >= 1);
      assert.deepEqual(good.seen[0].data, { kinds: [{ id: 1 }] });
      assert.equal(bad.seen[0].errors?.[0]?.extensions?.code ?? bad.seen[0].error?.[0]?.extensions?.code, 'data-exception');
      good.stop(); bad.stop();
    } finally { await c.dispose(); }
  });

  test('multiplexed cohorts carry list and JSON parameters intact (_in lists, jsonb _contains)', async () => {
    const c = client();
    try {
      const q = 'subscription($l: [String!]!, $j: jsonb!) { kinds(where: {_or: [{label: {_in: $l}}, {jsb: {_contains: $j}}]}, order_by: {id: asc}) { id } }';
      const a = subscribe(c, q, { l: ['one', 'three'], j: { a: 2 } });
      const b = subscribe(c, q, { l: ['it\'s "quoted", {braced}'], j: [2] });
      const d = subscribe(c, q, { l: [], j: { a: 1 } });
      await Promise.all([a, b, d].map((s) => s.until((x) => x.length >= 1)));
      assert.deepEqual(a.seen[0].data.kinds, [{ id: 1 }, { id: 3 }]);
      assert.deepEqual(b.seen[0].data.kinds, [{ id: 2 }]);
      assert.deepEqual(d.seen[0].data.kinds, [{ id: 1 }]);
      [a, b, d].forEach((s) => s.stop());
    } finally { await c.dispose(); }
  });

  test('multiplexed SQL: every $n parameter becomes the cohort\'s n-th value', () => {
    assert.equal(multiplexedSql('SELECT json_build_object($1::text, x) FROM t WHERE a = $2::int LIMIT $10::bigint'),
      'SELECT _v.i::int AS i, _r.* FROM json_array_elements($1::json) WITH ORDINALITY AS _v(p, i) CROSS JOIN LATERAL (SELECT json_build_object((_v.p->>0)::text, x) FROM t WHERE a = (_v.p->>1)::int LIMIT (_v.p->>9)::bigint) AS _r');
  });
});

describe('configuration (issue 13)', () => {
  test('every flag in the option table is accepted, including --pg-connections and --websocket-keepalive', () => {
    const c = loadConfig(['--metadata-dir', MD, '--pg-connections', '4', '--websocket-keepalive', '7', '--stringify-numeric-types=true'], {});
    assert.ok(c !== 'help');
    assert.equal(c.poolSize, 4);
    assert.equal(c.keepAliveSeconds, 7);
    assert.equal(c.stringifyNumericTypes, true);
    assert.throws(() => loadConfig(['--metadata-dir', MD, '--bogus', '1'], {}), /unknown flag --bogus/);
    assert.throws(() => loadConfig(['--metadata-dir', MD], { HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES: 'maybe' }), /HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES: expected true or false/);
  });
  test('Hasura settings this server does not apply are named, never ignored silently', () => {
    const w = unsupportedHasuraSettings({ HASURA_GRAPHQL_JWT_SECRET: '{}', HASURA_GRAPHQL_ENABLE_CONSOLE: 'true', HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES: 'true', HASURA_GRAPHQL_CORS_DOMAIN: '*' });
    assert.deepEqual(w, [
      'HASURA_GRAPHQL_ENABLE_CONSOLE has no effect here: no Hasura console here (the dashboard is served instead)',
      'HASURA_GRAPHQL_JWT_SECRET is not supported by this server and is ignored',
    ]);
  });
  test('metadata this server does not apply is named at start; api_limits batch_limit applies', async () => {
    const { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'es-md-unsupported-'));
    cpSync(MD, dir, { recursive: true });
    writeFileSync(join(dir, 'remote_schemas.yaml'), '- name: other\n  definition: {url: http://127.0.0.1:1/graphql}\n');
    writeFileSync(join(dir, 'inherited_roles.yaml'), '- role_name: both\n  role_set: [user, viewer]\n');
    writeFileSync(join(dir, 'api_limits.yaml'), 'batch_limit: {global: 2}\n');
    const kinds = join(dir, 'databases', 'default', 'tables', 'public_kinds.yaml');
    writeFileSync(kinds, `${readFileSync(kinds, 'utf8')}is_enum: true\nevent_triggers:\n  - name: on_kind\n    definition: {insert: {columns: "*"}}\n    webhook: http://127.0.0.1:1/\n`);
    const s = await startServer(dir, db.url);
    try {
      assert.deepEqual(s.engine.metadata.unsupported, [
        'inherited_roles.yaml: inherited roles are not supported by this server and are ignored',
        'remote_schemas.yaml: remote schemas are not supported by this server and are ignored',
        'table public.kinds: is_enum is not supported; the table is served as a plain table (no <t>_enum type)',
        'table public.kinds: event triggers are not run by this server (use Hasura for them)',
      ]);
      const three = await body(s, [{ query: '{ kinds { id } }' }, { query: '{ kinds { id } }' }, { query: '{ kinds { id } }' }]);
      assert.deepEqual(three, err('too many operations in one batch (3; the limit is 2)'));
      assert.equal((await body(s, [{ query: '{ kinds(limit: 1) { id } }' }, { query: '{ kinds(limit: 1) { id } }' }])).length, 2);
    } finally { await s.stop(); rmSync(dir, { recursive: true, force: true }); }
  });

  test('the source\'s pool_settings.max_connections sizes the pool unless a flag or variable does', async () => {
    assert.equal(srv.engine.scheduler.limits.size, 6);
  });
});
