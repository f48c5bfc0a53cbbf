// The parsed-document cache (src/documents.ts): a document sent again is not parsed or validated again, yet every
// request gets its own variables, its role's schema and Hasura's errors in Hasura's order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { buildSchema } from 'graphql';
import { DocumentCache } from '../src/documents.js';
import { HasuraError } from '../src/errors.js';
import { createDatabase, FIXTURES, psqlFile, startServer, type Running } from './helpers.js';

const MD = resolve(FIXTURES, 'compat', 'metadata');
let db: Awaited<ReturnType<typeof createDatabase>>;
let srv: Running;
before(async () => {
  db = await createDatabase('es_documents');
  psqlFile(db.url, resolve(FIXTURES, 'compat', 'schema.sql'));
  srv = await startServer(MD, db.url);
});
after(async () => { await srv?.stop(); await db?.drop(); });

const body = async (b: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(`${srv.url}/v1/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(b) });
  return JSON.parse(await r.text());
};
const err = (message: string, path = '$') => ({ errors: [{ message, extensions: { path, code: 'validation-failed' } }] });
const lookups = (result: 'hit' | 'miss') => srv.engine.metrics.documents.get({ result });

describe('a document sent again (console server)', () => {
  test('is checked once, and each request still gets the answer for its own variables', async () => {
    const query = 'query ByLabel($label: String!) { kinds(where: {label: {_eq: $label}}) { id label } }';
    const [hits, misses] = [lookups('hit'), lookups('miss')];
    for (const [label, id] of [['one', 1], ['two', 2], ['three', 3], ['one', 1]] as const) {
      assert.deepEqual(await body({ query, variables: { label } }), { data: { kinds: [{ id, label }] } });
    }
    assert.equal(lookups('miss') - misses, 1);
    assert.equal(lookups('hit') - hits, 3);
    assert.match(srv.engine.metrics.render(), /eventscope_console_documents_total\{result="hit"\} \d+/);
  });

  test("reports the variables' errors before the document's own, as Hasura does, every time", async () => {
    const query = 'query Broken($n: Int!) { kinds(limit: $n) { id nope } }';
    for (let round = 0; round < 2; ++round) {
      assert.deepEqual(await body({ query, variables: { n: 1, extra: true } }), err('unexpected variables in variableValues: extra'));
      assert.deepEqual(await body({ query, variables: {} }), err('expecting a value for non-nullable variable: "n"'));
      assert.deepEqual(await body({ query, variables: { n: 1 } }), err("field 'nope' not found in type: 'kinds'", '$.selectionSet.kinds.selectionSet.nope'));
      assert.deepEqual(await body({ query, variables: { n: 'x' } }), err("field 'nope' not found in type: 'kinds'", '$.selectionSet.kinds.selectionSet.nope'));
    }
    // A value of the wrong type: the same error when the document is new and when it is kept.
    const good = 'query Good($n: Int!) { kinds(limit: $n, order_by: {id: asc}) { id } }';
    const [first, again] = [await body({ query: good, variables: { n: 'x' } }), await body({ query: good, variables: { n: 'x' } })];
    assert.equal(first.errors[0].extensions.code, 'validation-failed');
    assert.deepEqual(again, first);
    assert.deepEqual(await body({ query: good, variables: { n: 1 } }), { data: { kinds: [{ id: 1 }] } });
  });

  test('is kept per operation name and per role', async () => {
    const doc = 'query A { kinds(where: {id: {_eq: 1}}) { id } } query B { kinds(where: {id: {_eq: 2}}) { id } }';
    assert.deepEqual(await body({ query: doc, operationName: 'A' }), { data: { kinds: [{ id: 1 }] } });
    assert.deepEqual(await body({ query: doc, operationName: 'B' }), { data: { kinds: [{ id: 2 }] } });
    assert.deepEqual(await body({ query: doc, operationName: 'A' }), { data: { kinds: [{ id: 1 }] } });
    // The same text, valid for the admin a moment ago, is checked against the member's schema (no kinds there).
    assert.deepEqual(await body({ query: doc, operationName: 'A' }, { 'x-hasura-role': 'member', 'x-hasura-org-id': '1' }),
      err("field 'kinds' not found in type: 'query_root'", '$.selectionSet.kinds'));
  });
});

describe('DocumentCache', () => {
  const schema = buildSchema('type Query { a: Int, b(x: Int): Int }');
  const counting = (limits = { entriesPerSchema: 2, maxQueryLength: 100 }) => {
    const seen = { hit: 0, miss: 0 };
    return { seen, cache: new DocumentCache(limits, (hit) => { seen[hit ? 'hit' : 'miss']++; }) };
  };

  test('forgets the least recently used document first', () => {
    const { seen, cache } = counting();
    cache.get(schema, '{ a }', undefined, false);
    cache.get(schema, '{ b }', undefined, false);
    cache.get(schema, '{ a }', undefined, false); // a is now the most recent
    cache.get(schema, '{ a b }', undefined, false); // evicts b
    assert.deepEqual(seen, { hit: 1, miss: 3 });
    cache.get(schema, '{ a }', undefined, false);
    cache.get(schema, '{ b }', undefined, false);
    assert.deepEqual(seen, { hit: 2, miss: 4 });
  });

  test('keeps neither long texts nor documents that fail, and separates schemas', () => {
    const { seen, cache } = counting();
    const long = `{ a ${' '.repeat(200)}}`;
    cache.get(schema, long, undefined, false);
    cache.get(schema, long, undefined, false);
    assert.deepEqual(seen, { hit: 0, miss: 2 });
    for (let i = 0; i < 2; ++i) assert.throws(() => cache.get(schema, '{ a', undefined, true), (e: HasuraError) => e.message === 'not a valid graphql query' && e.internal !== undefined);
    for (let i = 0; i < 2; ++i) assert.throws(() => cache.get(schema, 'query Q { a } query Q { b }', 'Q', false), /multiple definitions for operation "Q"/);
    assert.deepEqual(seen, { hit: 0, miss: 6 });
    const other = buildSchema('type Query { a: String }');
    cache.get(schema, '{ a }', undefined, false);
    cache.get(other, '{ a }', undefined, false);
    cache.get(schema, '{ a }', undefined, false);
    assert.deepEqual(seen, { hit: 1, miss: 8 });
  });

  test('with no room, checks every time', () => {
    const { seen, cache } = counting({ entriesPerSchema: 0, maxQueryLength: 100 });
    cache.get(schema, '{ a }', undefined, false);
    cache.get(schema, '{ a }', undefined, false);
    assert.deepEqual(seen, { hit: 0, miss: 2 });
  });
});
