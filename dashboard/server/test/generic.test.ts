// A small unrelated fixture (test/fixtures/shop): the server must work for any Hasura v2 metadata over any
// Postgres database. Covers naming (custom_name, custom_root_fields, column_config, schema prefix), scalar types and
// their JSON output, composite foreign keys, wide objects, session arguments, permissions, and start-up failures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config.js';
import { Engine } from '../src/engine.js';
import { createDatabase, FIXTURES, gql, psqlFile, startServer, type Running } from './helpers.js';

const MD = resolve(FIXTURES, 'shop', 'metadata');
let db: Awaited<ReturnType<typeof createDatabase>>;
let srv: Running;
before(async () => {
  db = await createDatabase('es_shop');
  psqlFile(db.url, resolve(FIXTURES, 'shop', 'schema.sql'));
  srv = await startServer(MD, db.url);
});
after(async () => { await srv?.stop(); await db?.drop(); });

const q = async (query: string, headers: Record<string, string> = {}, variables?: Record<string, unknown>) => {
  const r = await gql(srv, query, variables, headers);
  assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
  return r.body.data as Record<string, any>;
};

describe('generic metadata', () => {
  test('database URL from the source\'s database_url.from_env', async () => {
    const cfg = loadConfig(['--metadata-dir', MD, '--port', '0', '--static-dir', 'none'], {});
    if (cfg === 'help') throw new Error();
    const e = await Engine.create(cfg, { SHOP_DATABASE_URL: db.url });
    try { assert.equal(await e.handle({ query: '{ regions_aggregate { aggregate { count } } }' }, { headers: {} }), '{"data":{"regions_aggregate" : {"aggregate" : {"count" : 2}}}}'); } finally { await e.close(); }
  });

  test('custom names, schema prefix and root field comments', async () => {
    const d = await q(`{ writers(order_by: {id: asc}) { id name mail } writer(id: 2) { name } writers_stats { aggregate { count max { rating } } }
      other_wide_by_pk(id: 1) { id c60 } __type(name: "query_root") { fields { name description } } }`);
    assert.deepEqual(d.writers.map((w: any) => w.mail), ['ann@x.org', null, 'cy@x.org']);
    assert.equal(d.writer.name, 'Bob');
    assert.deepEqual(d.writers_stats.aggregate, { count: 3, max: { rating: 4.50 } });
    assert.deepEqual(d.other_wide_by_pk, { id: 1, c60: 60 });
    const f = Object.fromEntries(d.__type.fields.map((x: any) => [x.name, x.description]));
    assert.equal(f.writers_stats, 'stats about writers');
    assert.ok('articles_by_pk' in f && 'shops' in f && 'other_wide' in f);
  });

  test('scalar types and Postgres JSON output', async () => {
    const r = await gql(srv, '{ articles(order_by: {id: asc}) { id views score tags published_at author { rating born meta active } } }');
    assert.equal(r.body.errors, undefined);
    const raw = await (await fetch(`${srv.url}/v1/graphql`, { method: 'POST', body: JSON.stringify({ query: '{ writer(id: 1) { rating } }' }) })).text();
    assert.match(raw, /"rating" : 4\.50/); // numeric digits exactly as Postgres prints them
    const a = (r.body.data as any).articles;
    assert.equal(a[0].views, 9000000000);
    assert.deepEqual(a[0].tags, ['a', 'b']);
    assert.equal(a[0].published_at, '2026-01-01T10:00:00');
    assert.equal(a[2].published_at, '2026-02-01T00:00:00.5');
    assert.deepEqual(a[0].author, { rating: 4.5, born: '1980-01-02', meta: { langs: ['en', 'fr'] }, active: true });
    const t = await q('{ __type(name: "articles") { fields { name type { name kind ofType { name } } } } }');
    const types = Object.fromEntries(t.__type.fields.map((x: any) => [x.name, x.type.name ?? `${x.type.ofType.name}!`]));
    assert.deepEqual([types.id, types.views, types.score, types.title, types.published_at, types.author_id], ['bigint!', 'bigint', 'float8', 'String!', 'timestamp', 'Int!']);
  });

  test('varchar/bpchar text operators, numeric and date comparisons', async () => {
    assert.deepEqual((await q('{ writers(where: {name: {_ilike: "a%"}}) { id } }')).writers, [{ id: 1 }]);
    assert.deepEqual((await q('{ shops(where: {country: {_like: "D%"}}) { id } }')).shops, [{ id: 1 }]);
    assert.deepEqual((await q('{ writers(where: {rating: {_gt: "3.5"}}) { id } }')).writers, [{ id: 1 }]);
    assert.deepEqual((await q('{ writers(where: {born: {_lt: "1985-01-01"}}) { id } }')).writers, [{ id: 1 }]);
    assert.deepEqual((await q('{ articles(where: {views: {_gt: "8000000000"}}) { id } }')).articles, [{ id: 10 }]);
    assert.deepEqual((await q('{ writers(where: {meta: {_contains: {langs: ["fr"]}}}) { id } }')).writers, [{ id: 1 }]);
  });

  test('lists and aggregates select the columns they read, the row value only where a computed field takes it', async () => {
    const cfg = loadConfig(['--metadata-dir', MD, '--database-url', db.url, '--port', '0', '--static-dir', 'none'], {});
    if (cfg === 'help') throw new Error();
    const e = await Engine.create(cfg, {});
    const wholeRow = / AS r\b/; // how the compiler names a row value taken whole
    try {
      const sqlOf = (query: string) => e.prepare({ query }, { headers: {} }).compiled.sql!;
      assert.doesNotMatch(sqlOf('{ writers(order_by: {id: asc}, limit: 2) { name posts(order_by: {id: asc}) { id author { mail } } } }'), wholeRow);
      assert.doesNotMatch(sqlOf('{ writers { name } articles_aggregate(distinct_on: [author_id]) { aggregate { count max { score } } } }'), wholeRow);
      assert.match(sqlOf('{ writers { label } }'), wholeRow);
      assert.match(sqlOf('{ writers_stats { aggregate { count(distinct: true) } } }'), wholeRow);
    } finally { await e.close(); }
    const d = await q(`{ top: writers(order_by: {id: asc}, limit: 2) { name posts(order_by: {id: desc}) { id title author { mail } }
        posts_aggregate { aggregate { count max { score } } } }
      authors_with_posts: articles_aggregate(distinct_on: [author_id]) { aggregate { count } }
      rows: writers_stats { aggregate { count(distinct: true) c: count(columns: [mail]) } }
      labels: writers(order_by: {id: asc}) { label } }`);
    assert.deepEqual(d.top, [
      { name: 'Ann', posts: [{ id: 11, title: 'World', author: { mail: 'ann@x.org' } }, { id: 10, title: 'Hello', author: { mail: 'ann@x.org' } }],
        posts_aggregate: { aggregate: { count: 2, max: { score: 1.5 } } } },
      { name: 'Bob', posts: [{ id: 12, title: 'Bye', author: { mail: null } }], posts_aggregate: { aggregate: { count: 1, max: { score: 2.5 } } } },
    ]);
    assert.equal(d.authors_with_posts.aggregate.count, 2);
    assert.deepEqual(d.rows.aggregate, { count: 3, c: 2 });
    assert.deepEqual(d.labels.map((x: any) => x.label), ['Ann <ann@x.org>', 'Bob <?>', 'Cy <cy@x.org>']);
  });

  test('composite foreign key object relationship', async () => {
    const d = await q('{ shops(order_by: {id: asc}) { id region { label } } }');
    assert.deepEqual(d.shops, [{ id: 1, region: { label: 'Berlin' } }, { id: 2, region: { label: 'Ile-de-France' } }, { id: 3, region: null }]);
    const f = await q('{ shops(where: {region: {label: {_eq: "Berlin"}}}) { id } }');
    assert.deepEqual(f.shops, [{ id: 1 }]);
  });

  test('wide rows (more than 50 fields) keep every field in order', async () => {
    const cols = Array.from({ length: 60 }, (_, i) => `c${i + 1}`);
    const d = await q(`{ other_wide { id ${cols.join(' ')} } }`);
    assert.deepEqual(Object.keys(d.other_wide[0]), ['id', ...cols]);
    assert.equal(d.other_wide[0].c37, 37);
  });

  test('permissions: row filters through relationships, session argument, aggregation rights', async () => {
    const h = { 'x-hasura-role': 'reader' };
    const d = await q('{ writers(order_by: {id: asc}) { id label whoami posts_aggregate { aggregate { count } } } articles(order_by: {id: asc}) { id } }', h);
    assert.deepEqual(d.writers, [
      { id: 1, label: 'Ann <ann@x.org>', whoami: 'reader', posts_aggregate: { aggregate: { count: 2 } } },
      { id: 3, label: 'Cy <cy@x.org>', whoami: 'reader', posts_aggregate: { aggregate: { count: 0 } } },
    ]);
    assert.deepEqual(d.articles, [{ id: 10 }, { id: 11 }]);
    const no = await gql(srv, '{ writers_stats { aggregate { count } } }', undefined, h);
    assert.equal(no.body.errors?.[0].message, "field 'writers_stats' not found in type: 'query_root'");
    const hidden = await gql(srv, '{ writers { mail } }', undefined, h);
    assert.equal(hidden.body.errors?.[0].message, "field 'mail' not found in type: 'writer'");
    const by = await q('{ writer(id: 2) { id } }', h);
    assert.equal(by.writer, null); // filtered out by the permission
  });
});

describe('metadata mistakes fail loudly at start', () => {
  const broken = (edit: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'es-md-'));
    cpSync(MD, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const tablesFile = (d: string) => join(d, 'databases', 'default', 'tables', 'tables.yaml');
  const authorsFile = (d: string) => join(d, 'databases', 'default', 'tables', 'public_authors.yaml');
  const replace = (f: string, a: string, b: string) => writeFileSync(f, readFileSync(f, 'utf8').replace(a, b));
  const cases: [string, (d: string) => void, RegExp][] = [
    ['unknown table', (d) => writeFileSync(tablesFile(d), readFileSync(tablesFile(d), 'utf8') + '- table: {name: nope, schema: public}\n'), /table public\.nope: no such table/],
    ['unknown column in a permission', (d) => replace(authorsFile(d), 'columns: [id, name, active]', 'columns: [id, nam]'), /unknown column "nam"/],
    ['unknown column in column_config', (d) => replace(authorsFile(d), '    email:\n', '    emale:\n'), /column_config names unknown column "emale"/],
    ['relationship without a foreign key', (d) => replace(authorsFile(d), 'column: author_id', 'column: title'), /no foreign key constraint on public\.articles\(title\)/],
    ['relationship to an untracked table', (d) => replace(authorsFile(d), 'table: {name: articles, schema: public}', 'table: {name: ghosts, schema: public}'), /remote table public\.ghosts is not tracked/],
    ['unknown computed-field function', (d) => replace(authorsFile(d), 'name: author_label', 'name: author_labelz'), /function public\.author_labelz does not exist/],
    ['missing include file', (d) => replace(tablesFile(d), 'public_articles.yaml', 'public_article.yaml'), /file not found: .*public_article\.yaml/],
    ['bad permission filter', (d) => replace(authorsFile(d), 'filter: {active: {_eq: true}}', 'filter: {activ: {_eq: true}}'), /"activ" is not a column, relationship or computed field/],
  ];
  for (const [name, edit, re] of cases) {
    test(name, async () => {
      const dir = broken(edit);
      try {
        const cfg = loadConfig(['--metadata-dir', dir, '--database-url', db.url, '--static-dir', 'none'], {});
        if (cfg === 'help') throw new Error();
        await assert.rejects(Engine.create(cfg, {}), re);
      } finally { rmSync(dir, { recursive: true, force: true }); }
    });
  }
});
