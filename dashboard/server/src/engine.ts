// Request pipeline: authorize -> parse -> validate against the role's schema (Hasura's rules, validation.ts; both
// skipped for a document the role sent recently, documents.ts) ->
// coerce variables -> size limits (depth, nodes) -> compile to one SQL statement -> EXPLAIN cost limit -> run it in
// a READ ONLY transaction with the role's statement_timeout, on a connection from the fair scheduler -> Hasura-
// shaped response.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { execute, Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { readCatalog } from './catalog.js';
import { Compiler, type CompiledOperation } from './compile.js';
import type { Config } from './config.js';
import { fromPgError, HasuraError } from './errors.js';
import { loadMetadata, MetadataError, sourceDatabaseUrl, type ApiLimit, type Metadata, type SourceMeta } from './metadata.js';
import { Metrics } from './metrics.js';
import { buildModel, type Model } from './model.js';
import { buildRoleSchema, type RoleSchema } from './schema.js';
import { resolveRole, type Headers, type RequestOrigin, type Resolved } from './auth.js';
import { FairScheduler, type Lease } from './scheduler.js';
import { applyVariables, measure } from './validation.js';
import { DEFAULT_DOCUMENT_CACHE, DocumentCache } from './documents.js';

export interface GraphQLRequest { query?: unknown; variables?: unknown; operationName?: unknown }

/** What the transport knows about the caller. */
export interface RequestContext {
  headers: Headers;
  from?: RequestOrigin;
  /** Remote address (fair-queue key together with the role). */
  remote?: string;
}

/** Limits that apply to one request, after the role and api_limits are taken into account. */
export interface RoleLimits { maxDepth: number; maxNodes: number; maxCost: number; timeoutMs: number }

export interface Prepared {
  rs: RoleSchema;
  auth: Resolved;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  compiled: CompiledOperation;
  variables: Record<string, unknown>;
  rawVariables: Record<string, unknown>;
  limits: RoleLimits;
  clientKey: string;
}

export interface QueryOptions { clientKey: string; limits: RoleLimits; role: string; kind?: string; checkCost?: boolean; heavy?: boolean; internal?: boolean }

const ISOLATION: Record<string, string> = { 'read-committed': 'READ COMMITTED', 'repeatable-read': 'REPEATABLE READ', serializable: 'SERIALIZABLE' };

export class Engine {
  private schemas = new Map<string, RoleSchema>();
  private costMemo = new Map<string, { cost: number; at: number }>();
  readonly documents: DocumentCache;
  readonly metrics = new Metrics();
  readonly scheduler: FairScheduler;
  private readonly begin: string;
  private readonly prepared: boolean;

  private constructor(readonly config: Config, readonly model: Model, readonly pool: pg.Pool, readonly metadata: Metadata, src: SourceMeta, poolSize: number) {
    const ci = src.configuration?.connection_info ?? {};
    const iso = ISOLATION[ci.isolation_level ?? 'read-committed'];
    if (!iso) throw new MetadataError(`source ${src.name}: unknown isolation_level "${ci.isolation_level}"`);
    this.begin = `BEGIN ISOLATION LEVEL ${iso} READ ONLY`;
    this.prepared = ci.use_prepared_statements === true;
    this.documents = new DocumentCache(DEFAULT_DOCUMENT_CACHE, (hit) => this.metrics.documents.inc({ result: hit ? 'hit' : 'miss' }));
    // Defaults for a pool of 10: heavy requests together hold at most 5 connections, one client at most 8, so
    // another client always finds 2 and the same client's cheap requests find 3 beside its heavy ones.
    this.scheduler = new FairScheduler(pool, {
      size: poolSize,
      perClient: Math.max(1, Math.min(poolSize, config.clientConnections ?? Math.ceil(poolSize * 0.75))),
      heavy: Math.max(1, Math.min(poolSize, config.heavyConnections ?? Math.floor(poolSize / 2))),
      queueTimeoutMs: config.queueTimeoutMs,
      maxQueuedPerClient: 200,
    }, this.metrics);
    this.metrics.gauge('eventscope_console_pool_connections', 'connections in the pool, by state (busy, idle) and the configured size', () => [
      [{ state: 'busy' }, this.scheduler.stats.active], [{ state: 'idle' }, this.pool.idleCount], [{ state: 'size' }, poolSize]]);
    this.metrics.gauge('eventscope_console_pool_waiting', 'requests waiting for a connection', () => this.scheduler.stats.waiting);
  }

  static async create(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
    const md = loadMetadata(config.metadataDir);
    const sources = md.sources.filter((s) => s.kind === 'postgres' || s.kind === 'citus');
    if (!sources.length) throw new MetadataError('no postgres source in databases/databases.yaml');
    if (sources.length > 1) throw new MetadataError(`this server serves one source; found ${sources.map((s) => s.name).join(', ')}`);
    const src = sources[0];
    const url = config.databaseUrl ?? sourceDatabaseUrl(src, env);
    if (!url) {
      const u = src.configuration?.connection_info?.database_url;
      const hint = u && typeof u === 'object' && u.from_env ? ` (the source reads ${u.from_env}, which is not set)` : '';
      throw new MetadataError(`no database URL for source "${src.name}": pass --database-url or set HASURA_GRAPHQL_DATABASE_URL${hint}`);
    }
    const ps = src.configuration?.connection_info?.pool_settings ?? {};
    const poolSize = Math.max(1, Math.floor(config.poolSize ?? ps.max_connections ?? ps.total_max_connections ?? 10));
    const pool = new pg.Pool({
      connectionString: url, max: poolSize, application_name: 'eventscope-console-server',
      idleTimeoutMillis: (ps.idle_timeout ?? 180) * 1000,
      maxLifetimeSeconds: ps.connection_lifetime ?? 600,
      connectionTimeoutMillis: (ps.pool_timeout ?? 0) * 1000 || undefined,
    });
    pool.on('error', () => { /* idle client lost (e.g. DB restart): the pool replaces it; requests report their own errors */ });
    try {
      const schemas = new Set<string>(['public']);
      for (const t of src.tables) schemas.add(t.table.schema);
      for (const t of src.tables) for (const cf of t.computed_fields ?? []) {
        const f = cf.definition?.function as { schema?: string } | string;
        if (f && typeof f === 'object' && f.schema) schemas.add(f.schema);
      }
      const client = await pool.connect();
      let model: Model;
      try { model = buildModel(src, await readCatalog(client, [...schemas])); } finally { client.release(); }
      const engine = new Engine(config, model, pool, md, src, poolSize);
      engine.roleSchema('admin'); // builds (and so checks) the full schema at start
      for (const r of model.roles) engine.roleSchema(r);
      return engine;
    } catch (e) {
      await pool.end();
      throw e;
    }
  }

  roleSchema(role: string): RoleSchema {
    let rs = this.schemas.get(role);
    if (!rs) {
      rs = buildRoleSchema(this.model, role);
      // Unknown roles get the empty schema; cache only known ones so arbitrary header values cannot grow the map.
      if (role === 'admin' || this.model.roles.has(role)) this.schemas.set(role, rs);
    }
    return rs;
  }

  /** The role's limits: our flags, tightened (never loosened) by the metadata's api_limits. */
  limitsFor(auth: Resolved): RoleLimits {
    const c = this.config;
    const al = this.metadata.apiLimits.disabled ? {} : this.metadata.apiLimits;
    const pick = (l: ApiLimit | undefined) => (l ? l.per_role?.[auth.role] ?? l.global : undefined);
    const tighter = (ours: number, theirs: number | undefined) => (theirs == null ? ours : ours > 0 ? Math.min(ours, theirs) : theirs);
    const timeLimit = pick(al.time_limit);
    return {
      maxDepth: tighter(c.maxDepth, pick(al.depth_limit)),
      maxNodes: tighter(c.maxNodes, pick(al.node_limit)),
      maxCost: auth.anonymous ? c.anonymousMaxCost : c.maxCost,
      timeoutMs: tighter(auth.anonymous ? c.anonymousStatementTimeoutMs : c.statementTimeoutMs, timeLimit == null ? undefined : timeLimit * 1000),
    };
  }

  /** Operations allowed in one batched HTTP request: 50, or api_limits.yaml's batch_limit when lower. */
  batchLimit(ctx: RequestContext): number {
    const l = this.metadata.apiLimits.disabled ? undefined : this.metadata.apiLimits.batch_limit;
    if (!l) return 50;
    let role: string | undefined;
    try { role = resolveRole(this.config, ctx.headers, ctx.from).role; } catch { role = undefined; }
    const v = (role !== undefined ? l.per_role?.[role] : undefined) ?? l.global;
    return v == null ? 50 : Math.min(50, v);
  }

  /** Parse, authorize, validate and compile. Throws HasuraError for every client mistake. */
  prepare(req: GraphQLRequest, ctx: RequestContext, opts: { subscription?: boolean } = {}): Prepared {
    const auth = resolveRole(this.config, ctx.headers, ctx.from);
    if (typeof req !== 'object' || req === null || typeof req.query !== 'string') {
      throw new HasuraError('the key \'query\' was not present', 'parse-failed', '$');
    }
    if (req.variables != null && (typeof req.variables !== 'object' || Array.isArray(req.variables))) {
      throw new HasuraError('expecting an object for variables', 'parse-failed', '$.variables');
    }
    if (req.operationName != null && typeof req.operationName !== 'string') throw new HasuraError('expecting a string for operationName', 'parse-failed', '$.operationName');
    const rs = this.roleSchema(auth.role);
    const { document, checked } = this.documents.get(rs.schema, req.query, (req.operationName as string | undefined) ?? undefined, auth.role === 'admin');
    const rawVariables = (req.variables ?? {}) as Record<string, unknown>;
    const { operation, variables } = applyVariables(rs.schema, checked, rawVariables);
    if (operation.operation === 'mutation') throw new HasuraError('no mutations exist', 'validation-failed', '$');
    if (opts.subscription === false && operation.operation === 'subscription') throw new HasuraError('subscriptions are supported over WebSocket only', 'validation-failed', '$');
    const { fragments } = checked;
    const limits = this.limitsFor(auth);
    const size = measure(operation, fragments, limits.maxNodes);
    if (limits.maxDepth > 0 && size.depth > limits.maxDepth) {
      this.metrics.rejected.inc({ limit: 'depth' });
      throw new HasuraError(`the query exceeds the maximum depth of ${limits.maxDepth}`, 'validation-failed', '$');
    }
    if (limits.maxNodes > 0 && size.nodes > limits.maxNodes) {
      this.metrics.rejected.inc({ limit: 'nodes' });
      throw new HasuraError(`the query has more than ${limits.maxNodes} nodes (fields); the limit is ${limits.maxNodes}`, 'validation-failed', '$');
    }
    if (this.metadata.introspectionDisabledFor.has(auth.role) && size.introspection) {
      throw new HasuraError('introspection is disabled for this role', 'validation-failed', '$');
    }
    const compiler = new Compiler(this.model, rs, fragments, variables, auth.session,
      { maxRows: this.config.maxRows }, { stringifyNumeric: this.config.stringifyNumericTypes, booleanNullCollapse: this.config.v1BooleanNullCollapse });
    const compiled = compiler.compileOperation(operation);
    return { rs, auth, document, operation, compiled, variables, rawVariables, limits, clientKey: `${ctx.remote ?? 'local'}|${auth.role}` };
  }

  /** Runs a prepared operation; returns the response body as JSON text (Postgres' JSON relayed verbatim). */
  async run(p: Prepared, opts: { checkCost?: boolean; kind?: string } = {}): Promise<string> {
    let dbText: string | null = null;
    if (p.compiled.sql) {
      dbText = await this.query(p.compiled.sql, p.compiled.params, { clientKey: p.clientKey, limits: p.limits, role: p.auth.role, checkCost: opts.checkCost ?? true, kind: opts.kind });
    }
    return this.finish(p, dbText);
  }

  /** Merges introspection answers (graphql-js) with the database's JSON. */
  async finish(p: Prepared, dbText: string | null): Promise<string> {
    if (!p.compiled.introspection.length) return `{"data":${dbText}}`;
    const introDoc: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: [
        { ...p.operation, selectionSet: { kind: Kind.SELECTION_SET, selections: p.compiled.introspection } },
        ...p.document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION),
      ],
    };
    const r = await execute({ schema: p.rs.schema, document: introDoc, variableValues: p.rawVariables });
    if (r.errors?.length) throw new HasuraError(r.errors[0].message, 'unexpected', '$');
    const db = dbText ? JSON.parse(dbText) : {};
    const intro = (r.data ?? {}) as Record<string, unknown>;
    const data: Record<string, unknown> = {};
    for (const k of p.compiled.rootKeys) data[k] = k in intro ? intro[k] : db[k];
    return JSON.stringify({ data });
  }

  /**
   * One statement in its own READ ONLY transaction. With checkCost, the statement is first EXPLAINed (same
   * parameters, same transaction): over the role's cost limit it is refused; over the heavy threshold it is re-run
   * on a heavy slot of the fair scheduler, so cheap requests keep finding connections.
   */
  async query(sql: string, params: unknown[], o: QueryOptions): Promise<string> {
    const r = await this.exec(sql, params, o);
    return r.rows[0][0] as string;
  }

  /** All rows of a statement as objects (column name -> value). */
  async queryRows<T = Record<string, unknown>>(sql: string, params: unknown[], o: QueryOptions): Promise<T[]> {
    const r = await this.exec(sql, params, o);
    return r.rows.map((row: unknown[]) => Object.fromEntries(r.fields.map((f, i) => [f.name, row[i]])) as T);
  }

  /**
   * EXPLAIN only (a subscription is checked once, not at every poll): throws over the limit; true when heavy.
   * Identical subscriptions (same role, SQL and parameters) arriving together are explained once (10 s memo).
   */
  async checkCost(p: Prepared): Promise<boolean> {
    if (!p.compiled.sql) return false;
    const memoKey = `${p.auth.role}\n${p.compiled.sql}\n${JSON.stringify(p.compiled.params)}`;
    const memo = this.costMemo.get(memoKey);
    if (memo && performance.now() - memo.at < 10000) {
      this.refuseCost(memo.cost, p.limits, p.auth.role);
      return this.config.heavyCost > 0 && memo.cost > this.config.heavyCost;
    }
    const lease = await this.scheduler.acquire(p.clientKey, false);
    let broken = false;
    try {
      await this.timed(lease, `${this.begin}; SET LOCAL statement_timeout = ${Math.floor(p.limits.timeoutMs)}`, [], 'begin');
      const cost = await this.explainCost(lease, p.compiled.sql, p.compiled.params);
      await lease.client.query('ROLLBACK');
      if (this.costMemo.size >= 1000) this.costMemo.clear();
      this.costMemo.set(memoKey, { cost, at: performance.now() });
      this.refuseCost(cost, p.limits, p.auth.role);
      return this.config.heavyCost > 0 && cost > this.config.heavyCost;
    } catch (e) {
      try { await lease.client.query('ROLLBACK'); } catch { broken = true; }
      if (e instanceof HasuraError) throw e;
      throw fromPgError(e as { code?: string; message: string }, this.config.exposeInternalErrors && p.auth.role === 'admin');
    } finally {
      lease.release(broken);
    }
  }

  private refuseCost(cost: number, limits: RoleLimits, role: string) {
    if (limits.maxCost > 0 && cost > limits.maxCost) {
      this.metrics.rejected.inc({ limit: 'cost' });
      throw new HasuraError(`the query is too expensive: PostgreSQL estimates its cost at ${Math.round(cost)}, above the limit of ${limits.maxCost} for role "${role}"`, 'validation-failed', '$');
    }
  }

  /**
   * One statement in its own READ ONLY transaction. With checkCost, the statement is first EXPLAINed (same
   * parameters, same transaction): over the role's cost limit it is refused; over the heavy threshold it is re-run
   * on a heavy slot of the fair scheduler, so cheap requests keep finding connections.
   */
  private async exec(sql: string, params: unknown[], o: QueryOptions): Promise<pg.QueryResult> {
    let heavy = o.heavy ?? false;
    for (;;) {
      const lease = await this.scheduler.acquire(o.clientKey, heavy, o.internal);
      let broken = false;
      try {
        await this.timed(lease, `${this.begin}; SET LOCAL statement_timeout = ${Math.floor(o.limits.timeoutMs)}`, [], 'begin');
        if (o.checkCost !== false && (o.limits.maxCost > 0 || this.config.heavyCost > 0) && !heavy) {
          const cost = await this.explainCost(lease, sql, params);
          this.refuseCost(cost, o.limits, o.role);
          if (this.config.heavyCost > 0 && cost > this.config.heavyCost) {
            heavy = true;
            await lease.client.query('ROLLBACK');
            continue; // finally releases the light slot; the loop takes a heavy one
          }
        }
        const r = await this.timed(lease, sql, params, o.kind ?? 'query');
        await lease.client.query('COMMIT');
        return r;
      } catch (e) {
        try { await lease.client.query('ROLLBACK'); } catch { broken = true; }
        if (e instanceof HasuraError) throw e;
        throw fromPgError(e as { code?: string; message: string }, this.config.exposeInternalErrors && o.role === 'admin');
      } finally {
        lease.release(broken);
      }
    }
  }

  private async explainCost(lease: Lease, sql: string, params: unknown[]): Promise<number> {
    const r = await this.timed(lease, `EXPLAIN (FORMAT JSON) ${sql}`, params, 'explain', false);
    const plan = r.rows[0][0] as [{ Plan: { 'Total Cost': number } }] | string;
    const j = typeof plan === 'string' ? JSON.parse(plan) : plan;
    return Number(j[0].Plan['Total Cost']);
  }

  private async timed(lease: Lease, text: string, values: unknown[], kind: string, named = this.prepared): Promise<pg.QueryResult> {
    const t0 = performance.now();
    try {
      if (kind === 'begin') return await lease.client.query(text);
      const name = named ? `es_${createHash('sha1').update(text).digest('hex').slice(0, 24)}` : undefined;
      return await lease.client.query({ text, values, rowMode: 'array', name });
    } finally {
      if (kind !== 'begin') {
        this.metrics.sqlSeconds.observe((performance.now() - t0) / 1000, { kind });
        this.metrics.sqlStatements.inc({ kind });
      }
    }
  }

  /** Full HTTP-style handling: always returns a body; errors in Hasura's shape. */
  async handle(req: GraphQLRequest, ctx: RequestContext, transport = 'http'): Promise<string> {
    const t0 = performance.now();
    try {
      const body = await this.run(this.prepare(req, ctx, { subscription: false }));
      this.metrics.requests.inc({ transport, outcome: 'ok' });
      return body;
    } catch (e) {
      const he = asHasura(e);
      this.countError(he, transport);
      return JSON.stringify({ errors: [he.toJSON()] });
    } finally {
      if (transport === 'http') this.metrics.requestSeconds.observe((performance.now() - t0) / 1000);
    }
  }

  countError(e: HasuraError, transport: string) {
    this.metrics.requests.inc({ transport, outcome: 'error' });
    this.metrics.errors.inc({ code: e.code });
  }

  async healthy(): Promise<boolean> {
    try {
      const c = await this.pool.connect();
      try { await c.query('SELECT 1'); return true; } finally { c.release(); }
    } catch { return false; }
  }

  async close() { await this.pool.end(); }
}

export function asHasura(e: unknown): HasuraError {
  if (e instanceof HasuraError) return e;
  return new HasuraError(`unexpected: ${(e as Error)?.message ?? String(e)}`, 'unexpected', '$');
}
