// Request pipeline: parse -> validate against the role's schema -> coerce variables -> compile to one SQL
// statement -> run it in a READ ONLY transaction with a per-request statement_timeout -> Hasura-shaped response.
import pg from 'pg';
import {
  execute, getOperationAST, getVariableValues, Kind, parse, validate, visit,
  type ASTNode, type DocumentNode, type FragmentDefinitionNode, type GraphQLError, type OperationDefinitionNode,
} from 'graphql';
import { readCatalog } from './catalog.js';
import { Compiler, type CompiledOperation } from './compile.js';
import type { Config } from './config.js';
import { fromPgError, HasuraError } from './errors.js';
import { loadMetadata, MetadataError, sourceDatabaseUrl } from './metadata.js';
import { buildModel, type Model } from './model.js';
import { buildRoleSchema, type RoleSchema } from './schema.js';
import { resolveRole, type Headers } from './auth.js';

export interface GraphQLRequest { query?: unknown; variables?: unknown; operationName?: unknown }

export interface Prepared {
  rs: RoleSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  compiled: CompiledOperation;
  variables: Record<string, unknown>;
  rawVariables: Record<string, unknown>;
}

export class Engine {
  private schemas = new Map<string, RoleSchema>();
  private constructor(readonly config: Config, readonly model: Model, readonly pool: pg.Pool) {}

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
    const pool = new pg.Pool({ connectionString: url, max: config.poolSize, application_name: 'eventscope-console-server' });
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
      const engine = new Engine(config, model, pool);
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

  /** Parse, authorize, validate and compile. Throws HasuraError for every client mistake. */
  prepare(req: GraphQLRequest, headers: Headers, opts: { subscription?: boolean } = {}): Prepared {
    const { role, session } = resolveRole(this.config, headers);
    if (typeof req !== 'object' || req === null || typeof req.query !== 'string') {
      throw new HasuraError('the key \'query\' was not present', 'parse-failed', '$');
    }
    if (req.variables != null && (typeof req.variables !== 'object' || Array.isArray(req.variables))) {
      throw new HasuraError('expecting an object for variables', 'parse-failed', '$.variables');
    }
    if (req.operationName != null && typeof req.operationName !== 'string') throw new HasuraError('expecting a string for operationName', 'parse-failed', '$.operationName');
    let document: DocumentNode;
    try { document = parse(req.query, { maxTokens: 50000 }); } catch (e) {
      throw new HasuraError('not a valid graphql query', 'validation-failed', '$.query', { error: (e as Error).message });
    }
    const rs = this.roleSchema(role);
    const errors = validate(rs.schema, document, undefined, { maxErrors: 10 });
    if (errors.length) throw toHasura(errors[0], document);
    const operation = getOperationAST(document, (req.operationName as string | undefined) ?? undefined);
    if (!operation) {
      throw new HasuraError(req.operationName ? `no such operation found in the document: "${req.operationName}"` : 'exactly one operation has to be present in the document when operationName is not specified', 'validation-failed', '$');
    }
    if (operation.operation === 'mutation') throw new HasuraError('no mutations exist', 'validation-failed', '$');
    if (opts.subscription === false && operation.operation === 'subscription') throw new HasuraError('subscriptions are supported over WebSocket only', 'validation-failed', '$');
    const rawVariables = (req.variables ?? {}) as Record<string, unknown>;
    const coerced = getVariableValues(rs.schema, operation.variableDefinitions ?? [], rawVariables, { maxErrors: 1 });
    if (coerced.errors) {
      const e = coerced.errors[0];
      const m = /^Variable "\$([^"]+)"/.exec(e.message);
      throw new HasuraError(e.message, 'validation-failed', m ? `$.variableValues.${m[1]}` : '$');
    }
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
    const compiler = new Compiler(this.model, rs, fragments, coerced.coerced, session, { maxDepth: this.config.maxDepth, maxRows: this.config.maxRows });
    const compiled = compiler.compileOperation(operation);
    return { rs, document, operation, compiled, variables: coerced.coerced, rawVariables };
  }

  /** Runs a prepared operation; returns the response body as JSON text (Postgres' JSON relayed verbatim). */
  async run(p: Prepared): Promise<string> {
    let dbText: string | null = null;
    if (p.compiled.sql) dbText = await this.query(p.compiled.sql, p.compiled.params);
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

  async query(sql: string, params: unknown[]): Promise<string> {
    let client: pg.PoolClient;
    try { client = await this.pool.connect(); } catch (e) {
      throw new HasuraError(`database connection error: ${(e as Error).message}`, 'postgres-error', '$');
    }
    let broken = false;
    try {
      // One simple-protocol round trip for both: the timeout value is ours (a number), never user text.
      await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.floor(this.config.statementTimeoutMs)}`);
      const r = await client.query({ text: sql, values: params, rowMode: 'array' });
      await client.query('COMMIT');
      return r.rows[0][0] as string;
    } catch (e) {
      try { await client.query('ROLLBACK'); } catch { broken = true; }
      const pe = e as { code?: string; message: string };
      if (e instanceof HasuraError) throw e;
      throw fromPgError(pe, this.config.exposeInternalErrors);
    } finally {
      client.release(broken);
    }
  }

  /** Full HTTP-style handling: always returns a body; errors in Hasura's shape. */
  async handle(req: GraphQLRequest, headers: Headers): Promise<string> {
    try {
      return await this.run(this.prepare(req, headers, { subscription: false }));
    } catch (e) {
      return JSON.stringify({ errors: [asHasura(e).toJSON()] });
    }
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

/** graphql-js validation errors in Hasura's wording where clients depend on it, with a JSON path. */
function toHasura(err: GraphQLError, doc: DocumentNode): HasuraError {
  const node = err.nodes?.[0];
  const path = node ? pathOf(doc, node) : '$';
  let m = /^Cannot query field "([^"]+)" on type "([^"]+)"/.exec(err.message);
  if (m) return new HasuraError(`field '${m[1]}' not found in type: '${m[2]}'`, 'validation-failed', path);
  m = /^Unknown argument "([^"]+)" on field "[^".]+\.([^"]+)"/.exec(err.message);
  if (m) return new HasuraError(`'${m[2]}' has no argument named '${m[1]}'`, 'validation-failed', path);
  m = /^Field "([^"]+)" argument "([^"]+)" of type "([^"]+)" is required/.exec(err.message);
  if (m) return new HasuraError(`missing required field '${m[2]}'`, 'validation-failed', path);
  return new HasuraError(err.message, 'validation-failed', path);
}

function pathOf(doc: DocumentNode, target: ASTNode): string {
  let found = '$';
  visit(doc, {
    enter(node, _key, _parent, _path, ancestors) {
      if (node !== target) return undefined;
      const parts: string[] = ['$'];
      for (const a of [...(ancestors as ASTNode[]), node]) {
        if (!a || typeof a !== 'object' || !('kind' in a)) continue;
        if (a.kind === Kind.FIELD) parts.push(`selectionSet.${a.alias?.value ?? a.name.value}`);
        else if (a.kind === Kind.ARGUMENT) parts.push(`args.${a.name.value}`);
        else if (a.kind === Kind.OBJECT_FIELD) parts.push(a.name.value);
      }
      found = parts.join('.');
      return false;
    },
  });
  return found;
}
