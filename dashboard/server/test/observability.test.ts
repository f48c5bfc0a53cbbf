// The observability schema (../../sql/schema.sql) with the fixture metadata (and the project's own
// hasura-metadata/ when it exists): seed examples, every operator and order direction against hand-written SQL,
// relationships, aggregates, distinct_on, computed fields.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { buildClientSchema, getIntrospectionQuery, printSchema, type IntrospectionQuery } from 'graphql';
import { resolve } from 'node:path';
import { createDatabase, FIXTURES, gql, psqlFile, REPO_DIR, sql, startServer, type Running } from './helpers.js';

const SCHEMA = 'event_detector_observability';
const S = `"${SCHEMA}"`;
const SCHEMA_SQL = resolve(REPO_DIR, 'sql', 'schema.sql');
const REAL_METADATA = resolve(REPO_DIR, 'hasura-metadata');

const metadataDirs: [string, string][] = [['fixture metadata', resolve(FIXTURES, 'obs-metadata')]];
if (existsSync(resolve(REAL_METADATA, 'databases', 'databases.yaml'))) metadataDirs.push(['hasura-metadata/', REAL_METADATA]);

let db: Awaited<ReturnType<typeof createDatabase>>;
before(async () => {
  db = await createDatabase('es_obs');
  psqlFile(db.url, SCHEMA_SQL, { schema: SCHEMA });
  psqlFile(db.url, resolve(FIXTURES, 'obs-seed.sql'), { schema: SCHEMA });
});
after(async () => { await db?.drop(); });

const norm = (v: unknown) => JSON.parse(JSON.stringify(v));

for (const [label, mdDir] of metadataDirs) {
  describe(`observability (${label})`, () => {
    let srv: Running;
    before(async () => { srv = await startServer(mdDir, db.url); });
    after(async () => { await srv?.stop(); });

    const q = async (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => {
      const r = await gql(srv, query, variables, headers);
      assert.equal(r.status, 200);
      assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
      return r.body.data as Record<string, any>;
    };

    test('seed example: trace by correlation ID returns exactly the inserted rows', async () => {
      const d = await q(`query TraceCorrelationId($correlationId: String!) {
        invocations(where: { correlation_id: { _eq: $correlationId } }) {
          id source_function correlation_id created_at total_duration_ms
          event_executions { event_name detected correlation_id job_executions { job_name status duration_ms correlation_id } }
        } }`, { correlationId: 'alice@example.com' });
      const expected = await sql(db.url, `SELECT json_agg(json_build_object('id', i.id, 'source_function', i.source_function, 'correlation_id', i.correlation_id,
          'created_at', i.created_at, 'total_duration_ms', i.total_duration_ms, 'event_executions',
          (SELECT coalesce(json_agg(json_build_object('event_name', e.event_name, 'detected', e.detected, 'correlation_id', e.correlation_id, 'job_executions',
             (SELECT coalesce(json_agg(json_build_object('job_name', j.job_name, 'status', j.status, 'duration_ms', j.duration_ms, 'correlation_id', j.correlation_id) ORDER BY j.id), '[]') FROM ${S}.job_executions j WHERE j.event_execution_id = e.id)) ORDER BY e.id), '[]')
           FROM ${S}.event_executions e WHERE e.invocation_id = i.id)) ORDER BY i.id) AS j FROM ${S}.invocations i WHERE i.correlation_id = 'alice@example.com'`);
      const sortDeep = (l: any[]) => l.map((i) => ({ ...i, event_executions: i.event_executions.map((e: any) => ({ ...e, job_executions: [...e.job_executions].sort((a: any, b: any) => a.job_name.localeCompare(b.job_name)) })).sort((a: any, b: any) => a.event_name.localeCompare(b.event_name)) })).sort((a, b) => a.id.localeCompare(b.id));
      const exp = (expected[0].j as any[]).map((i) => ({ ...i, event_executions: i.event_executions.map((e: any) => ({ ...e })) }));
      assert.equal(d.invocations.length, 2);
      assert.deepEqual(sortDeep(d.invocations), sortDeep(norm(exp)));
      assert.equal(d.invocations.find((i: any) => i.id.endsWith('a1')).created_at, '2026-11-26T08:00:00.123456+00:00');
    });

    test('seed example: recent invocations with flow (limit + order desc)', async () => {
      const d = await q(`query RecentInvocations { invocations(limit: 10, order_by: { created_at: desc }) {
        id source_function correlation_id created_at total_duration_ms events_detected_count
        event_executions { event_name detected correlation_id job_executions { job_name status duration_ms correlation_id } } } }`);
      const ids = (await sql(db.url, `SELECT id FROM ${S}.invocations ORDER BY created_at DESC LIMIT 10`)).map((r) => r.id);
      assert.deepEqual(d.invocations.map((i: any) => i.id), ids);
      const a1 = d.invocations.find((i: any) => i.id.endsWith('a1'));
      assert.equal(a1.events_detected_count, 1);
      assert.deepEqual(a1.event_executions.map((e: any) => e.event_name).sort(), ['orders.cancelled', 'orders.shipped']);
      assert.equal(a1.event_executions.find((e: any) => e.event_name === 'orders.shipped').job_executions.length, 3);
    });

    test('top-N lists (order_by + limit: the row is built after the sort) equal SQL: rows, offset, nested lists, computed field, aggregate', async () => {
      for (const [dir, sqlDir] of [['desc_nulls_last', 'DESC NULLS LAST'], ['asc_nulls_first', 'ASC NULLS FIRST']]) {
        for (const offset of [0, 1, 3]) {
          const d = await q(`query TopN($offset: Int!) {
            invocations(order_by: [{ total_duration_ms: ${dir} }, { id: asc }], limit: 3, offset: $offset) {
              id source_function total_duration_ms success_rate
              event_executions(order_by: [{ id: asc }], limit: 1) { id event_name job_executions(order_by: [{ duration_ms: desc_nulls_last }, { id: asc }], limit: 2) { id duration_ms } }
            }
            invocations_aggregate(order_by: [{ total_duration_ms: ${dir} }, { id: asc }], limit: 3, offset: $offset) { aggregate { count sum { total_duration_ms } } }
          }`, { offset });
          const rows = await sql(db.url, `SELECT json_build_object('id', i.id, 'source_function', i.source_function, 'total_duration_ms', i.total_duration_ms,
              'success_rate', ${S}.invocation_success_rate(i),
              'event_executions', (SELECT coalesce(json_agg(json_build_object('id', e.id, 'event_name', e.event_name, 'job_executions',
                  (SELECT coalesce(json_agg(json_build_object('id', j.id, 'duration_ms', j.duration_ms) ORDER BY j.duration_ms DESC NULLS LAST, j.id), '[]')
                     FROM (SELECT * FROM ${S}.job_executions j WHERE j.event_execution_id = e.id AND j.invocation_id = e.invocation_id ORDER BY j.duration_ms DESC NULLS LAST, j.id LIMIT 2) j)) ORDER BY e.id), '[]')
                FROM (SELECT * FROM ${S}.event_executions e WHERE e.invocation_id = i.id ORDER BY e.id LIMIT 1) e)) AS j
              FROM ${S}.invocations i ORDER BY i.total_duration_ms ${sqlDir}, i.id LIMIT 3 OFFSET ${offset}`);
          const expected = norm(rows.map((r) => r.j)).map((r: any) => ({ ...r, success_rate: r.success_rate === null ? null : Number(r.success_rate) }));
          const got = d.invocations.map((r: any) => ({ ...r, success_rate: r.success_rate === null ? null : Number(r.success_rate) }));
          assert.deepEqual(got, expected, `${dir}, offset ${offset}`);
          assert.ok(got.length > 0, `${dir}, offset ${offset}: the fixture has rows there`);
          assert.equal(d.invocations_aggregate.aggregate.count, got.length);
          const sum = got.reduce((n: number, r: any) => n + (r.total_duration_ms ?? 0), 0);
          assert.equal(d.invocations_aggregate.aggregate.sum.total_duration_ms, got.every((r: any) => r.total_duration_ms === null) ? null : sum);
        }
      }
    });

    test('seed example: performance analytics over dashboard_stats', async () => {
      const d = await q(`query PerformanceAnalytics($timeRange: timestamptz!) {
        dashboard_stats(where: { hour_bucket: { _gte: $timeRange } }, order_by: { hour_bucket: asc }) {
          hour_bucket source_function total_invocations avg_duration_ms successful_invocations failed_invocations } }`, { timeRange: '2026-11-26T08:00:00Z' });
      const rows = await sql(db.url, `SELECT json_agg(json_build_object('hour_bucket', hour_bucket, 'source_function', source_function, 'total_invocations', total_invocations,
          'avg_duration_ms', avg_duration_ms, 'successful_invocations', successful_invocations, 'failed_invocations', failed_invocations) ORDER BY hour_bucket, source_function) AS j
          FROM ${S}.dashboard_stats WHERE hour_bucket >= '2026-11-26T08:00:00Z'`);
      const sortF = (l: any[]) => [...l].sort((a, b) => (a.hour_bucket + a.source_function).localeCompare(b.hour_bucket + b.source_function));
      assert.deepEqual(sortF(d.dashboard_stats), sortF(rows[0].j));
      assert.equal(d.dashboard_stats.length, 3);
      assert.deepEqual(d.dashboard_stats.map((r: any) => r.hour_bucket), [...d.dashboard_stats.map((r: any) => r.hour_bucket)].sort());
    });

    // [GraphQL where, equivalent SQL predicate] over invocations; results compared as id sets.
    const operatorCases: [string, string][] = [
      ['{status: {_eq: "completed"}}', `status = 'completed'`],
      ['{status: {_neq: "completed"}}', `status <> 'completed'`],
      ['{total_duration_ms: {_gt: 100}}', 'total_duration_ms > 100'],
      ['{total_duration_ms: {_gte: 120}}', 'total_duration_ms >= 120'],
      ['{total_duration_ms: {_lt: 120}}', 'total_duration_ms < 120'],
      ['{total_duration_ms: {_lte: 120}}', 'total_duration_ms <= 120'],
      ['{source_function: {_in: ["orders", "billing"]}}', `source_function IN ('orders', 'billing')`],
      ['{source_function: {_nin: ["orders", "billing"]}}', `source_function NOT IN ('orders', 'billing')`],
      ['{source_function: {_in: []}}', 'false'],
      ['{total_duration_ms: {_is_null: true}}', 'total_duration_ms IS NULL'],
      ['{total_duration_ms: {_is_null: false}}', 'total_duration_ms IS NOT NULL'],
      ['{correlation_id: {_like: "alice%"}}', `correlation_id LIKE 'alice%'`],
      ['{correlation_id: {_nlike: "alice%"}}', `correlation_id NOT LIKE 'alice%'`],
      ['{correlation_id: {_ilike: "ALICE%"}}', `correlation_id ILIKE 'ALICE%'`],
      ['{correlation_id: {_nilike: "ALICE%"}}', `correlation_id NOT ILIKE 'ALICE%'`],
      ['{source_function: {_similar: "(orders|billing)"}}', `source_function SIMILAR TO '(orders|billing)'`],
      ['{source_function: {_nsimilar: "(orders|billing)"}}', `source_function NOT SIMILAR TO '(orders|billing)'`],
      ['{correlation_id: {_regex: "^sys.*abc$"}}', `correlation_id ~ '^sys.*abc$'`],
      ['{correlation_id: {_iregex: "^SYS"}}', `correlation_id ~* '^SYS'`],
      ['{correlation_id: {_nregex: "^sys"}}', `correlation_id !~ '^sys'`],
      ['{correlation_id: {_niregex: "^SYS"}}', `correlation_id !~* '^SYS'`],
      ['{source_event_payload: {_contains: {kind: "insert"}}}', `source_event_payload @> '{"kind": "insert"}'`],
      ['{source_event_payload: {_contained_in: {kind: "update", other: 1}}}', `source_event_payload <@ '{"kind": "update", "other": 1}'`],
      ['{source_event_payload: {_has_key: "order"}}', `source_event_payload ? 'order'`],
      ['{source_event_payload: {_has_keys_any: ["order", "x"]}}', `source_event_payload ?| array['order', 'x']`],
      ['{source_event_payload: {_has_keys_all: ["kind", "x"]}}', `source_event_payload ?& array['kind', 'x']`],
      ['{source_event_payload: {_cast: {String: {_ilike: "%ORDER%"}}}}', `source_event_payload::text ILIKE '%ORDER%'`],
      ['{created_at: {_gte: "2026-11-26T08:00:00Z", _lt: "2026-11-26T09:00:00Z"}}', `created_at >= '2026-11-26T08:00:00Z' AND created_at < '2026-11-26T09:00:00Z'`],
      ['{id: {_eq: "00000000-0000-0000-0000-0000000000c3"}}', `id = '00000000-0000-0000-0000-0000000000c3'`],
      ['{auto_load_modules: {_eq: true}}', 'auto_load_modules = true'],
      ['{_and: [{source_function: {_eq: "orders"}}, {status: {_eq: "running"}}]}', `source_function = 'orders' AND status = 'running'`],
      ['{_or: [{source_function: {_eq: "billing"}}, {status: {_eq: "failed"}}]}', `source_function = 'billing' OR status = 'failed'`],
      ['{_not: {source_function: {_eq: "orders"}}}', `NOT (source_function = 'orders')`],
      ['{_and: []}', 'true'],
      ['{_or: []}', 'false'],
      ['{}', 'true'],
      ['{event_executions: {event_name: {_eq: "orders.shipped"}}}', `EXISTS (SELECT 1 FROM ${S}.event_executions e WHERE e.invocation_id = i.id AND e.event_name = 'orders.shipped')`],
      ['{event_executions: {}}', `EXISTS (SELECT 1 FROM ${S}.event_executions e WHERE e.invocation_id = i.id)`],
      ['{_not: {event_executions: {}}}', `NOT EXISTS (SELECT 1 FROM ${S}.event_executions e WHERE e.invocation_id = i.id)`],
      ['{source_job_execution: {job_name: {_eq: "sendEmail"}}}', `EXISTS (SELECT 1 FROM ${S}.job_executions j WHERE j.id = i.source_job_id AND j.job_name = 'sendEmail')`],
      ['{job_executions: {status: {_eq: "failed"}}, status: {_eq: "completed"}}', `status = 'completed' AND EXISTS (SELECT 1 FROM ${S}.job_executions j WHERE j.invocation_id = i.id AND j.status = 'failed')`],
      ['{event_executions: {job_executions: {logs: {level: {_eq: "error"}}}}}', `EXISTS (SELECT 1 FROM ${S}.job_logs l JOIN ${S}.job_executions j ON j.id = l.job_execution_id WHERE j.invocation_id = i.id AND l.level = 'error')`],
      ['{job_executions_aggregate: {count: {predicate: {_gte: 2}}}}', `(SELECT count(*) FROM ${S}.job_executions j WHERE j.invocation_id = i.id) >= 2`],
      ['{job_executions_aggregate: {count: {predicate: {_eq: 1}, filter: {status: {_eq: "failed"}}}}}', `(SELECT count(*) FROM ${S}.job_executions j WHERE j.invocation_id = i.id AND j.status = 'failed') = 1`],
      ['{job_executions_aggregate: {count: {arguments: [duration_ms], predicate: {_eq: 2}}}}', `(SELECT count(duration_ms) FROM ${S}.job_executions j WHERE j.invocation_id = i.id) = 2`],
      ['{success_rate: {_lt: 100}}', `${S}.invocation_success_rate(i) < 100`],
      ['{correlated_invocations: {status: {_eq: "failed"}}}', `EXISTS (SELECT 1 FROM ${S}.invocations c WHERE c.correlation_id = i.correlation_id AND c.status = 'failed')`],
    ];
    for (const [where, pred] of operatorCases) {
      test(`where ${where}`, async () => {
        const d = await q(`{ invocations(where: ${where}, order_by: {id: asc}) { id } }`);
        const exp = (await sql(db.url, `SELECT i.id FROM ${S}.invocations i WHERE ${pred} ORDER BY i.id`)).map((r) => r.id);
        assert.deepEqual(d.invocations.map((r: any) => r.id), exp);
      });
    }

    test('operators through variables (typed values become parameters)', async () => {
      const d = await q(`query($w: invocations_bool_exp!, $n: Int = 1) { invocations(where: $w, limit: $n, order_by: [{id: desc}]) { id } }`,
        { w: { source_event_payload: { _contains: { kind: 'insert' } }, correlation_id: { _nin: ["x'; DROP TABLE x; --"] } } });
      assert.deepEqual(d.invocations.map((r: any) => r.id), ['00000000-0000-0000-0000-0000000000a1']);
    });

    const dirs: [string, string][] = [
      ['asc', 'ASC NULLS LAST'], ['asc_nulls_first', 'ASC NULLS FIRST'], ['asc_nulls_last', 'ASC NULLS LAST'],
      ['desc', 'DESC NULLS FIRST'], ['desc_nulls_first', 'DESC NULLS FIRST'], ['desc_nulls_last', 'DESC NULLS LAST'],
    ];
    for (const [gdir, sdir] of dirs) {
      test(`order_by ${gdir}`, async () => {
        const d = await q(`{ invocations(order_by: [{total_duration_ms: ${gdir}}, {id: asc}]) { id } }`);
        const exp = (await sql(db.url, `SELECT id FROM ${S}.invocations ORDER BY total_duration_ms ${sdir}, id`)).map((r) => r.id);
        assert.deepEqual(d.invocations.map((r: any) => r.id), exp);
        const j = await q(`{ job_executions(order_by: {duration_ms: ${gdir}}, limit: 3) { id duration_ms } }`);
        const jexp = (await sql(db.url, `SELECT duration_ms FROM ${S}.job_executions ORDER BY duration_ms ${sdir} LIMIT 3`)).map((r) => r.duration_ms);
        assert.deepEqual(j.job_executions.map((r: any) => r.duration_ms), jexp);
      });
    }

    test('order_by through an object relationship and by array-relationship aggregates', async () => {
      const d = await q(`{ job_executions(order_by: [{invocation: {source_function: desc}}, {id: asc}]) { id } }`);
      const exp = (await sql(db.url, `SELECT j.id FROM ${S}.job_executions j JOIN ${S}.invocations i ON i.id = j.invocation_id ORDER BY i.source_function DESC, j.id`)).map((r) => r.id);
      assert.deepEqual(d.job_executions.map((r: any) => r.id), exp);
      const c = await q(`{ invocations(order_by: [{job_executions_aggregate: {count: desc}}, {id: asc}]) { id } }`);
      const cexp = (await sql(db.url, `SELECT i.id FROM ${S}.invocations i ORDER BY (SELECT count(*) FROM ${S}.job_executions j WHERE j.invocation_id = i.id) DESC, i.id`)).map((r) => r.id);
      assert.deepEqual(c.invocations.map((r: any) => r.id), cexp);
      const m = await q(`{ invocations(order_by: [{job_executions_aggregate: {max: {duration_ms: desc_nulls_last}}}, {id: asc}]) { id } }`);
      const mexp = (await sql(db.url, `SELECT i.id FROM ${S}.invocations i ORDER BY (SELECT max(duration_ms) FROM ${S}.job_executions j WHERE j.invocation_id = i.id) DESC NULLS LAST, i.id`)).map((r) => r.id);
      assert.deepEqual(m.invocations.map((r: any) => r.id), mexp);
      const s = await q(`{ invocations(order_by: [{success_rate: asc}, {id: desc}]) { id success_rate } }`);
      const sexp = (await sql(db.url, `SELECT i.id FROM ${S}.invocations i ORDER BY ${S}.invocation_success_rate(i), i.id DESC`)).map((r) => r.id);
      assert.deepEqual(s.invocations.map((r: any) => r.id), sexp);
    });

    test('limit, offset and distinct_on (with Hasura validation)', async () => {
      const d = await q(`{ invocations(order_by: {created_at: asc}, limit: 2, offset: 1) { id } }`);
      const exp = (await sql(db.url, `SELECT id FROM ${S}.invocations ORDER BY created_at LIMIT 2 OFFSET 1`)).map((r) => r.id);
      assert.deepEqual(d.invocations.map((r: any) => r.id), exp);
      const dd = await q(`{ invocations(distinct_on: [source_function], order_by: [{source_function: asc}, {created_at: desc}]) { source_function id } }`);
      const dexp = await sql(db.url, `SELECT DISTINCT ON (source_function) source_function, id FROM ${S}.invocations ORDER BY source_function, created_at DESC`);
      assert.deepEqual(dd.invocations, dexp);
      const bad = await gql(srv, `{ invocations(distinct_on: [source_function], order_by: {created_at: desc}) { id } }`);
      assert.equal(bad.body.errors?.[0].message, '"distinct_on" columns must match initial "order_by" columns');
      assert.equal(bad.body.errors?.[0].extensions.code, 'validation-failed');
    });

    test('relationships: object, array with arguments, manual, chains', async () => {
      const d = await q(`{ invocations_by_pk(id: "00000000-0000-0000-0000-0000000000b2") {
        id source_job_execution { job_name invocation { id } triggered_invocations { id } logs(order_by: {logged_at: asc}) { message } }
        job_executions(where: {status: {_eq: "failed"}}) { job_name event_execution { event_name } }
        correlated_invocations(order_by: {created_at: asc}) { id }
        event_executions(limit: 1) { invocation { id } }
      } }`);
      const b = d.invocations_by_pk;
      assert.equal(b.source_job_execution.job_name, 'sendEmail');
      assert.equal(b.source_job_execution.invocation.id, '00000000-0000-0000-0000-0000000000a1');
      assert.deepEqual(b.source_job_execution.triggered_invocations, [{ id: '00000000-0000-0000-0000-0000000000b2' }]);
      assert.deepEqual(b.source_job_execution.logs, [{ message: 'sending' }, { message: 'slow smtp' }]);
      assert.deepEqual(b.job_executions, [{ job_name: 'notify', event_execution: { event_name: 'shipping.started' } }]);
      assert.deepEqual(b.correlated_invocations.map((x: any) => x.id), ['00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b2']);
      assert.deepEqual(b.event_executions, [{ invocation: { id: '00000000-0000-0000-0000-0000000000b2' } }]);
      const none = await q(`{ invocations_by_pk(id: "00000000-0000-0000-0000-000000000000") { id } i2: invocations_by_pk(id: "00000000-0000-0000-0000-0000000000d4") { correlated_invocations { id } source_job_execution { id } } }`);
      assert.equal(none.invocations_by_pk, null);
      assert.deepEqual(none.i2, { correlated_invocations: [], source_job_execution: null });
    });

    test('aggregates: root and relationship, every function, nodes', async () => {
      const d = await q(`{ job_executions_aggregate(where: {status: {_neq: "running"}}) {
          aggregate { count c2: count(columns: [duration_ms]) cd: count(columns: [status], distinct: true)
            sum { duration_ms } avg { duration_ms } min { duration_ms job_name created_at } max { duration_ms job_name }
            stddev { duration_ms } stddev_pop { duration_ms } stddev_samp { duration_ms } var_pop { duration_ms } var_samp { duration_ms } variance { duration_ms } }
          nodes { id } } }`);
      const [e] = await sql(db.url, `SELECT json_build_object('count', count(*), 'c2', count(duration_ms), 'cd', count(DISTINCT status),
          'sum', sum(duration_ms), 'avg', avg(duration_ms), 'min', min(duration_ms), 'minname', min(job_name), 'mincreated', min(created_at), 'max', max(duration_ms), 'maxname', max(job_name),
          'stddev', stddev(duration_ms), 'stddev_pop', stddev_pop(duration_ms), 'stddev_samp', stddev_samp(duration_ms), 'var_pop', var_pop(duration_ms),
          'var_samp', var_samp(duration_ms), 'variance', variance(duration_ms)) AS j FROM ${S}.job_executions WHERE status <> 'running'`);
      const a = d.job_executions_aggregate.aggregate;
      const x = e.j;
      assert.equal(a.count, x.count); assert.equal(a.c2, x.c2); assert.equal(a.cd, x.cd);
      assert.equal(a.sum.duration_ms, x.sum); assert.equal(a.avg.duration_ms, x.avg);
      assert.deepEqual(a.min, { duration_ms: x.min, job_name: x.minname, created_at: x.mincreated });
      assert.deepEqual(a.max, { duration_ms: x.max, job_name: x.maxname });
      for (const f of ['stddev', 'stddev_pop', 'stddev_samp', 'var_pop', 'var_samp', 'variance']) assert.equal(a[f].duration_ms, x[f], f);
      assert.equal(d.job_executions_aggregate.nodes.length, x.count);
      const r = await q(`{ invocations(order_by: {id: asc}) { id job_executions_aggregate(where: {status: {_eq: "completed"}}) { aggregate { count } } event_executions_aggregate { aggregate { sum { jobs_count } } } } }`);
      const rexp = await sql(db.url, `SELECT i.id, (SELECT count(*) FROM ${S}.job_executions j WHERE j.invocation_id = i.id AND j.status = 'completed')::int AS c,
          (SELECT sum(jobs_count) FROM ${S}.event_executions e WHERE e.invocation_id = i.id)::int AS s FROM ${S}.invocations i ORDER BY i.id`);
      assert.deepEqual(r.invocations.map((i: any) => [i.id, i.job_executions_aggregate.aggregate.count, i.event_executions_aggregate.aggregate.sum.jobs_count]),
        rexp.map((x) => [x.id, x.c, x.s]));
      const empty = await q(`{ invocations_aggregate(where: {status: {_eq: "nope"}}) { aggregate { count sum { total_duration_ms } max { created_at } } nodes { id } } }`);
      assert.deepEqual(empty.invocations_aggregate, { aggregate: { count: 0, sum: { total_duration_ms: null }, max: { created_at: null } }, nodes: [] });
    });

    test('computed fields, jsonb output, __typename, aliases, fragments, @include/@skip', async () => {
      const d = await q(`query Q($skip: Boolean!) { __typename
        inv: invocations(where: {id: {_eq: "00000000-0000-0000-0000-0000000000a1"}}) { __typename ...F rate: success_rate avg_job_duration context_data source_event_payload @skip(if: $skip)
          event_executions(where: {detected: {_eq: true}}) { ... on event_executions { job_success_rate } } } }
        fragment F on invocations { id status }`, { skip: true });
      assert.equal(d.__typename, 'query_root');
      const [row] = await sql(db.url, `SELECT ${S}.invocation_success_rate(i)::text AS r, ${S}.invocation_avg_job_duration(i)::text AS a FROM ${S}.invocations i WHERE id = '00000000-0000-0000-0000-0000000000a1'`);
      assert.deepEqual(Object.keys(d.inv[0]), ['__typename', 'id', 'status', 'rate', 'avg_job_duration', 'context_data', 'event_executions']);
      assert.equal(d.inv[0].__typename, 'invocations');
      assert.equal(String(d.inv[0].rate), String(Number(row.r)));
      assert.equal(String(d.inv[0].avg_job_duration), String(Number(row.a)));
      assert.deepEqual(d.inv[0].context_data, { a: 1 });
      assert.deepEqual(d.inv[0].event_executions, [{ job_success_rate: 66.67 }]);
    });
  });
}

// The dashboard's types are generated from a snapshot of this schema (dashboard/scripts/codegen.mjs): the
// snapshot must be what the server serves from the project's own metadata, or the types describe another API.
const DASHBOARD_SCHEMA = resolve(REPO_DIR, 'dashboard', 'src', 'graphql', 'schema.graphql');
describe('dashboard schema snapshot', { skip: existsSync(DASHBOARD_SCHEMA) && metadataDirs.length > 1 ? false : 'no snapshot or no hasura-metadata/' }, () => {
  test('dashboard/src/graphql/schema.graphql is the admin schema served from hasura-metadata/ (else run dashboard/scripts/update-graphql-types.sh)', async () => {
    const srv = await startServer(REAL_METADATA, db.url);
    try {
      const r = await gql(srv, getIntrospectionQuery(), {}, { 'x-hasura-role': 'admin' });
      assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
      const served = `${printSchema(buildClientSchema(r.body.data as unknown as IntrospectionQuery))}\n`;
      assert.ok(served === readFileSync(DASHBOARD_SCHEMA, 'utf8'), 'schema.graphql is stale: run dashboard/scripts/update-graphql-types.sh');
    } finally {
      await srv.stop();
    }
  });
});
