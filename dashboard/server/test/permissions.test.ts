// Issue 13, point 6: select permissions in every form Hasura's metadata allows, as a matrix of role x session x
// query. Each expected answer is either the equivalent hand-written SQL (run on the same data) or Hasura's error.
// Roles and filters: test/fixtures/compat/metadata (user, member, admin_user, viewer, alpha, limited).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { createDatabase, FIXTURES, gql, psqlFile, sql, startServer, type Running } from './helpers.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
let srv: Running;
before(async () => {
  db = await createDatabase('es_perm');
  psqlFile(db.url, resolve(FIXTURES, 'compat', 'schema.sql'));
  srv = await startServer(resolve(FIXTURES, 'compat', 'metadata'), db.url, ['--admin-secret', 'k']);
});
after(async () => { await srv?.stop(); await db?.drop(); });

type Case = {
  form: string;                         // the permission form exercised
  role: string; session?: Record<string, string>;
  query: string;
  sql?: string;                         // SELECT returning one json column: the expected `data`
  error?: { message: string | RegExp; code: string };
};

const ids = (from: string, where: string, extra = '') => `SELECT coalesce(json_agg(json_build_object('id', id) ORDER BY id), '[]') FROM (SELECT id FROM ${from} WHERE ${where} ORDER BY id ${extra}) x`;

const CASES: Case[] = [
  // Row filters
  { form: 'filter: _or with the _eq shorthand and a session variable', role: 'user', session: { 'x-hasura-user-id': '2' },
    query: '{ docs(order_by: {id: asc}) { id } }', sql: `SELECT json_build_object('docs', (${ids('docs', 'published OR owner_id = 2', 'LIMIT 3')}))` },
  { form: 'limit: caps the root list (3), user limit below it wins', role: 'user', session: { 'x-hasura-user-id': '4' },
    query: '{ docs(order_by: {id: asc}, limit: 2) { id } }', sql: `SELECT json_build_object('docs', (${ids('docs', 'published OR owner_id = 4', 'LIMIT 2')}))` },
  { form: 'limit does not apply to by_pk; the filter does', role: 'user', session: { 'x-hasura-user-id': '2' },
    query: '{ a: docs_by_pk(id: 2) { id } b: docs_by_pk(id: 4) { id } c: docs_by_pk(id: 5) { id } }', sql: `SELECT json_build_object('a', json_build_object('id', 2), 'b', NULL, 'c', json_build_object('id', 5))` },
  { form: 'missing session variable: not-found', role: 'user', query: '{ docs { id } }', error: { message: 'missing session variables: "x-hasura-user-id"', code: 'not-found' } },
  { form: 'several missing session variables are named together', role: 'user', query: '{ docs { id } users { id } }', error: { message: 'missing session variables: "x-hasura-user-id", "x-hasura-org-id"', code: 'not-found' } },
  { form: '_exists with a column comparison against the permission\'s own row (["$", col])', role: 'member', session: { 'x-hasura-user-id': '3' },
    query: '{ docs(order_by: {id: asc}) { id } }', sql: `SELECT json_build_object('docs', (${ids('docs d', 'EXISTS (SELECT 1 FROM users u WHERE u.id = 3 AND u.org_id = d.org_id)')}))` },
  { form: '_exists with the _eq shorthand (issue 13\'s example): an admin user sees everything', role: 'admin_user', session: { 'x-hasura-user-id': '1' },
    query: '{ docs(order_by: {id: asc}) { id } }', sql: `SELECT json_build_object('docs', (${ids('docs', 'true')}))` },
  { form: '_exists with the _eq shorthand: a non-admin user sees nothing', role: 'admin_user', session: { 'x-hasura-user-id': '2' },
    query: '{ docs { id } docs_aggregate { aggregate { count } } }', sql: `SELECT json_build_object('docs', '[]'::json, 'docs_aggregate', json_build_object('aggregate', json_build_object('count', 0)))` },
  { form: 'relationship filter with a list-valued session variable (Postgres array literal)', role: 'viewer', session: { 'x-hasura-allowed-plans': '{pro,enterprise}' },
    query: '{ docs(order_by: {id: asc}) { id } }', sql: `SELECT json_build_object('docs', (${ids('docs d', "EXISTS (SELECT 1 FROM orgs o WHERE o.id = d.org_id AND o.plan IN ('pro', 'enterprise'))")}))` },
  { form: 'list-valued session variable as a JSON array', role: 'viewer', session: { 'x-hasura-allowed-plans': '["free"]' },
    query: '{ docs(order_by: {id: asc}) { id } }', sql: `SELECT json_build_object('docs', (${ids('docs d', "EXISTS (SELECT 1 FROM orgs o WHERE o.id = d.org_id AND o.plan = 'free')")}))` },
  { form: 'two-hop relationship filter (comments -> author -> org)', role: 'viewer', session: { 'x-hasura-allowed-plans': '{free}' },
    query: '{ comments(order_by: {id: asc}) { id } }', sql: `SELECT json_build_object('comments', (${ids('comments c', "EXISTS (SELECT 1 FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = c.author_id AND o.plan = 'free')")}))` },
  { form: 'relationship filter with _eq shorthand on the related table', role: 'user', session: { 'x-hasura-user-id': '3' },
    query: '{ orgs(order_by: {id: asc}) { id } }', sql: `SELECT json_build_object('orgs', (${ids('orgs o', 'EXISTS (SELECT 1 FROM users u WHERE u.org_id = o.id AND u.id = 3)')}))` },
  { form: 'computed field and _cast inside the filter', role: 'alpha', query: '{ docs(order_by: {id: asc}) { id title_upper } }',
    sql: `SELECT json_build_object('docs', (SELECT coalesce(json_agg(json_build_object('id', id, 'title_upper', doc_title_upper(d)) ORDER BY id), '[]') FROM docs d WHERE doc_title_upper(d) LIKE '%A%' AND views::text LIKE '1%'))` },
  // Columns and computed fields
  { form: 'columns: a column outside the list is not in the type', role: 'user', session: { 'x-hasura-user-id': '2' },
    query: '{ docs { secret } }', error: { message: "field 'secret' not found in type: 'docs'", code: 'validation-failed' } },
  { form: 'columns: nor in where', role: 'user', session: { 'x-hasura-user-id': '2' },
    query: '{ docs(where: {secret: {_eq: "s1"}}) { id } }', error: { message: "field 'secret' not found in type: 'docs_bool_exp'", code: 'validation-failed' } },
  { form: 'columns: nor in order_by', role: 'member', session: { 'x-hasura-user-id': '3' },
    query: '{ docs(order_by: {views: asc}) { id } }', error: { message: "field 'views' not found in type: 'docs_order_by'", code: 'validation-failed' } },
  { form: 'computed_fields: listed ones are selectable', role: 'viewer', session: { 'x-hasura-allowed-plans': '{free}' },
    query: '{ docs(order_by: {id: asc}) { id title_upper } }', sql: `SELECT json_build_object('docs', (SELECT coalesce(json_agg(json_build_object('id', id, 'title_upper', upper(title)) ORDER BY id), '[]') FROM docs WHERE org_id = 2))` },
  { form: 'computed_fields: unlisted ones are not', role: 'viewer', session: { 'x-hasura-allowed-plans': '{free}' },
    query: '{ docs { title_with(args: {prefix: "x"}) } }', error: { message: "field 'title_with' not found in type: 'docs'", code: 'validation-failed' } },
  { form: 'SETOF computed field with a session argument', role: 'user', session: { 'x-hasura-user-id': '1' },
    query: '{ orgs { id my_docs { id } } }', sql: `SELECT json_build_object('orgs', json_build_array(json_build_object('id', 1, 'my_docs', json_build_array(json_build_object('id', 1)))))` },
  // Aggregations
  { form: 'allow_aggregations false: no <t>_aggregate root field', role: 'user', session: { 'x-hasura-user-id': '2' },
    query: '{ docs_aggregate { aggregate { count } } }', error: { message: "field 'docs_aggregate' not found in type: 'query_root'", code: 'validation-failed' } },
  { form: 'allow_aggregations false on the target: no <rel>_aggregate field', role: 'user', session: { 'x-hasura-user-id': '2', 'x-hasura-org-id': '1' },
    query: '{ orgs { docs_aggregate { aggregate { count } } } }', error: { message: "field 'docs_aggregate' not found in type: 'orgs'", code: 'validation-failed' } },
  { form: 'allow_aggregations true: root aggregate under the row filter', role: 'viewer', session: { 'x-hasura-allowed-plans': '{pro,enterprise}' },
    query: '{ docs_aggregate { aggregate { count sum { views } max { score } } } }',
    sql: `SELECT json_build_object('docs_aggregate', json_build_object('aggregate', json_build_object('count', count(*), 'sum', json_build_object('views', sum(views)), 'max', json_build_object('score', max(score))))) FROM docs d JOIN orgs o ON o.id = d.org_id WHERE o.plan IN ('pro', 'enterprise')` },
  { form: 'relationship aggregate with the target\'s filter inside', role: 'viewer', session: { 'x-hasura-allowed-plans': '{pro}' },
    query: '{ orgs(order_by: {id: asc}) { id docs_aggregate { aggregate { count } } } }',
    sql: `SELECT json_build_object('orgs', json_agg(json_build_object('id', o.id, 'docs_aggregate', json_build_object('aggregate', json_build_object('count', (SELECT count(*) FROM docs d WHERE d.org_id = o.id)))) ORDER BY o.id)) FROM orgs o WHERE o.plan = 'pro'` },
  // Relationships carry the target's permission
  { form: 'array relationship rows filtered by the target role filter', role: 'member', session: { 'x-hasura-user-id': '1', 'x-hasura-org-id': '2' },
    query: '{ docs(order_by: {id: asc}) { id comments(order_by: {id: asc}) { id } } }',
    sql: `SELECT json_build_object('docs', json_agg(json_build_object('id', d.id, 'comments', (SELECT coalesce(json_agg(json_build_object('id', c.id) ORDER BY c.id), '[]') FROM comments c WHERE c.doc_id = d.id AND d.org_id = 2)) ORDER BY d.id)) FROM docs d WHERE d.org_id = 1` },
  { form: 'object relationship to a table the role cannot see is absent', role: 'member', session: { 'x-hasura-user-id': '1' },
    query: '{ docs { owner { id } } }', error: { message: "field 'owner' not found in type: 'docs'", code: 'validation-failed' } },
  { form: 'a nested relationship whose filter needs a missing session variable', role: 'user', session: { 'x-hasura-user-id': '1' },
    query: '{ docs { owner { name } } }', error: { message: 'missing session variables: "x-hasura-org-id"', code: 'not-found' } },
  { form: 'object relationship: the target filter hides the row (null)', role: 'user', session: { 'x-hasura-user-id': '1', 'x-hasura-org-id': '2' },
    query: '{ docs(order_by: {id: asc}, where: {id: {_in: [1, 3]}}) { id owner { name } } }', sql: `SELECT json_build_object('docs', json_build_array(json_build_object('id', 1, 'owner', NULL), json_build_object('id', 3, 'owner', json_build_object('name', 'cyd'))))` },
  // Root fields
  { form: 'query_root_fields: only the listed root fields', role: 'limited', query: '{ orgs_by_pk(id: 1) { id } }', error: { message: "field 'orgs_by_pk' not found in type: 'query_root'", code: 'validation-failed' } },
  { form: 'query_root_fields: the listed one works', role: 'limited', query: '{ docs(order_by: {id: asc}) { id } orgs(order_by: {id: asc}) { id } }',
    sql: `SELECT json_build_object('docs', (${ids('docs', 'published')}), 'orgs', (${ids('orgs', 'true')}))` },
  { form: 'unknown role: only no_queries_available', role: 'nobody', query: '{ docs { id } }', error: { message: "field 'docs' not found in type: 'query_root'", code: 'validation-failed' } },
];

describe('select permission matrix (issue 13, point 6)', () => {
  for (const c of CASES) {
    test(`${c.role}: ${c.form}`, async () => {
      const r = await gql(srv, c.query, undefined, { 'x-hasura-admin-secret': 'k', 'x-hasura-role': c.role, ...c.session });
      if (c.error) {
        assert.equal(r.body.data, undefined);
        if (typeof c.error.message === 'string') assert.equal(r.body.errors?.[0].message, c.error.message);
        else assert.match(r.body.errors?.[0].message ?? '', c.error.message);
        assert.equal(r.body.errors?.[0].extensions.code, c.error.code);
        return;
      }
      assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
      const [row] = await sql(db.url, c.sql!);
      assert.deepEqual(r.body.data, JSON.parse(JSON.stringify(Object.values(row)[0])));
    });
  }

  test('subscription_root_fields: only the listed subscription root fields', async () => {
    const schema = srv.engine.roleSchema('limited').schema;
    // orgs: query_root_fields [select], subscription_root_fields [select_stream]; docs: no restriction.
    assert.deepEqual(Object.keys(schema.getSubscriptionType()!.getFields()).sort(), ['docs', 'docs_by_pk', 'docs_stream', 'orgs_stream']);
    assert.deepEqual(Object.keys(schema.getQueryType()!.getFields()).sort(), ['docs', 'docs_by_pk', 'orgs']);
  });
});
