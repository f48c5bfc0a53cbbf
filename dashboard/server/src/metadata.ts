// Hasura v2 metadata directory loader (format version 2/3): version.yaml, databases/databases.yaml and the
// `!include` tree beneath it. Only what a read-only GraphQL server needs is typed; everything else is kept raw.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve, join } from 'node:path';
import { parseDocument } from 'yaml';

export class MetadataError extends Error {
  constructor(message: string) {
    super(`metadata: ${message}`);
  }
}

export interface QualifiedName { schema: string; name: string }
export type BoolExpJson = Record<string, unknown>;

export interface SelectPermission {
  columns: string[] | '*';
  computed_fields?: string[];
  filter?: BoolExpJson;
  limit?: number;
  allow_aggregations?: boolean;
  query_root_fields?: string[];
  subscription_root_fields?: string[];
}

export interface RelationshipMeta {
  name: string;
  comment?: string;
  using: {
    foreign_key_constraint_on?: string | string[] | { table: QualifiedName | string; column?: string; columns?: string[] };
    manual_configuration?: { remote_table: QualifiedName | string; column_mapping: Record<string, string> };
  };
}

export interface ComputedFieldMeta {
  name: string;
  comment?: string;
  definition: { function: QualifiedName | string; table_argument?: string; session_argument?: string };
}

export interface RootFieldName { name?: string | null; comment?: string | null }
export interface TableMeta {
  table: QualifiedName;
  is_enum?: boolean;
  configuration?: {
    custom_name?: string;
    custom_root_fields?: Record<string, string | RootFieldName | null>;
    column_config?: Record<string, { custom_name?: string; comment?: string }>;
    custom_column_names?: Record<string, string>;
    comment?: string;
  };
  object_relationships?: RelationshipMeta[];
  array_relationships?: RelationshipMeta[];
  computed_fields?: ComputedFieldMeta[];
  select_permissions?: { role: string; permission: SelectPermission; comment?: string }[];
  // Present in real metadata; a read-only server ignores them.
  insert_permissions?: unknown[]; update_permissions?: unknown[]; delete_permissions?: unknown[];
  event_triggers?: unknown[]; remote_relationships?: unknown[];
}

export interface FunctionMeta {
  function: QualifiedName;
  configuration?: { custom_name?: string; exposed_as?: 'query' | 'mutation'; session_argument?: string };
  permissions?: { role: string }[];
}

export interface SourceMeta {
  name: string;
  kind: string;
  configuration: { connection_info?: {
    database_url?: string | { from_env?: string; connection_parameters?: unknown };
    isolation_level?: 'read-committed' | 'repeatable-read' | 'serializable';
    use_prepared_statements?: boolean;
    pool_settings?: { max_connections?: number; total_max_connections?: number; idle_timeout?: number; connection_lifetime?: number; retries?: number; pool_timeout?: number };
  } };
  tables: TableMeta[];
  functions: FunctionMeta[];
}

/** Hasura API limits (api_limits.yaml): a global value and per-role overrides. */
export interface ApiLimit { global?: number; per_role?: Record<string, number> }
export interface ApiLimits { disabled?: boolean; depth_limit?: ApiLimit; node_limit?: ApiLimit; time_limit?: ApiLimit; rate_limit?: unknown; batch_limit?: ApiLimit }

export interface Metadata {
  version: number;
  sources: SourceMeta[];
  dir: string;
  apiLimits: ApiLimits;
  introspectionDisabledFor: Set<string>;
  /** Top-level metadata this read-only server does not apply, one line each (printed at start-up). */
  unsupported: string[];
}

/** Top-level metadata files a read-only GraphQL server over one source cannot apply; reported when non-empty. */
const UNSUPPORTED_FILES: Record<string, string> = {
  'actions.yaml': 'actions', 'allow_list.yaml': 'allow list', 'cron_triggers.yaml': 'cron triggers',
  'inherited_roles.yaml': 'inherited roles', 'query_collections.yaml': 'query collections', 'remote_schemas.yaml': 'remote schemas',
  'rest_endpoints.yaml': 'REST endpoints', 'network.yaml': 'network settings', 'backend_configs.yaml': 'backend configs',
  'opentelemetry.yaml': 'OpenTelemetry export', 'metrics_config.yaml': 'metrics config',
};
const isEmpty = (v: unknown): boolean => v == null || (Array.isArray(v) ? v.every(isEmpty) : typeof v === 'object' ? Object.values(v as object).every(isEmpty) : false);

/** Reads a YAML file, replacing every `!include path` scalar by the parsed content of that file (recursively). */
function readYaml(file: string, stack: string[] = []): unknown {
  if (!existsSync(file)) throw new MetadataError(`file not found: ${file}${stack.length ? ` (included from ${stack[stack.length - 1]})` : ''}`);
  if (stack.includes(file)) throw new MetadataError(`!include cycle: ${[...stack, file].join(' -> ')}`);
  const text = readFileSync(file, 'utf8');
  const includeTag = {
    tag: '!include',
    resolve: (value: string) => ({ __include: value }),
  };
  const doc = parseDocument(text, { customTags: [includeTag as never] });
  if (doc.errors.length) throw new MetadataError(`${file}: ${doc.errors[0].message}`);
  const base = dirname(file);
  const expand = (v: unknown): unknown => {
    // The Hasura CLI writes includes as quoted strings ("!include file.yaml"); a bare !include tag works too.
    if (typeof v === 'string') {
      const m = /^!include\s+(.+?)\s*$/.exec(v);
      return m ? readYaml(resolve(base, m[1]), [...stack, file]) : v;
    }
    if (Array.isArray(v)) return v.map(expand);
    if (v && typeof v === 'object') {
      const inc = (v as { __include?: unknown }).__include;
      if (typeof inc === 'string' && Object.keys(v).length === 1) return readYaml(resolve(base, inc), [...stack, file]);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = expand(x);
      return out;
    }
    return v;
  };
  return expand(doc.toJS({ maxAliasCount: 1000 }));
}

export function qualified(v: QualifiedName | string | undefined, where: string): QualifiedName {
  if (typeof v === 'string') return { schema: 'public', name: v };
  if (!v || typeof v !== 'object' || typeof v.name !== 'string') throw new MetadataError(`${where}: expected a table/function name`);
  return { schema: v.schema ?? 'public', name: v.name };
}

export function loadMetadata(dir: string): Metadata {
  const root = resolve(dir);
  if (!existsSync(root)) throw new MetadataError(`metadata directory not found: ${root}`);
  const versionFile = join(root, 'version.yaml');
  const version = existsSync(versionFile) ? Number((readYaml(versionFile) as { version?: number })?.version ?? 3) : 3;
  if (version < 2) throw new MetadataError(`unsupported metadata version ${version} (need 2 or 3)`);
  const dbFile = join(root, 'databases', 'databases.yaml');
  const dbs = readYaml(dbFile);
  if (!Array.isArray(dbs)) throw new MetadataError(`${dbFile}: expected a list of sources`);
  const sources: SourceMeta[] = dbs.map((d: Record<string, unknown>, i: number) => {
    if (!d || typeof d.name !== 'string') throw new MetadataError(`${dbFile}: source #${i} has no name`);
    const kind = (d.kind as string) ?? 'postgres';
    const tables = (d.tables ?? []) as unknown;
    const functions = (d.functions ?? []) as unknown;
    if (!Array.isArray(tables)) throw new MetadataError(`source ${d.name}: tables must be a list`);
    if (!Array.isArray(functions)) throw new MetadataError(`source ${d.name}: functions must be a list`);
    for (const [j, t] of tables.entries()) {
      if (!t || typeof t !== 'object' || !(t as TableMeta).table) throw new MetadataError(`source ${d.name}: table entry #${j} has no "table" key`);
      (t as TableMeta).table = qualified((t as TableMeta).table, `source ${d.name} table #${j}`);
    }
    for (const [j, f] of functions.entries()) {
      (f as FunctionMeta).function = qualified((f as FunctionMeta).function, `source ${d.name} function #${j}`);
    }
    return { name: d.name, kind, configuration: (d.configuration ?? {}) as SourceMeta['configuration'], tables, functions };
  });
  const top = (f: string) => (existsSync(join(root, f)) ? readYaml(join(root, f)) : undefined);
  const unsupported: string[] = [];
  for (const [f, what] of Object.entries(UNSUPPORTED_FILES)) {
    if (!isEmpty(top(f))) unsupported.push(`${f}: ${what} are not supported by this server and are ignored`);
  }
  const apiLimits = (top('api_limits.yaml') ?? {}) as ApiLimits;
  if (typeof apiLimits !== 'object' || Array.isArray(apiLimits)) throw new MetadataError('api_limits.yaml: expected an object');
  if (!apiLimits.disabled) {
    if (!isEmpty(apiLimits.rate_limit)) unsupported.push('api_limits.yaml: rate_limit is not supported by this server and is ignored (depth, node and time limits apply)');
    for (const k of ['depth_limit', 'node_limit', 'time_limit', 'batch_limit'] as const) {
      const l = apiLimits[k];
      if (l == null) continue;
      const vals = [l.global, ...Object.values(l.per_role ?? {})].filter((x) => x != null);
      if (vals.some((x) => !Number.isInteger(x) || (x as number) < 0)) throw new MetadataError(`api_limits.yaml: ${k} values must be non-negative integers`);
    }
  }
  const intro = (top('graphql_schema_introspection.yaml') ?? {}) as { disabled_for_roles?: string[] };
  const introspectionDisabledFor = new Set(Array.isArray(intro.disabled_for_roles) ? intro.disabled_for_roles : []);
  for (const s of sources) {
    const ci = s.configuration?.connection_info as Record<string, unknown> | undefined;
    for (const k of ['read_replicas', 'ssl_configuration']) if (ci && !isEmpty(ci[k])) unsupported.push(`source ${s.name}: connection_info.${k} is not supported by this server and is ignored`);
    const dbu = ci?.database_url as Record<string, unknown> | undefined;
    if (dbu && typeof dbu === 'object' && dbu.connection_parameters) unsupported.push(`source ${s.name}: database_url.connection_parameters is not supported; use from_env or a URL`);
    if (s.functions.length) unsupported.push(`source ${s.name}: tracked SQL functions (root fields) are not supported by this server and are ignored`);
    if (!isEmpty((s as unknown as { customization?: unknown }).customization)) unsupported.push(`source ${s.name}: customization (root field / type name prefixes, naming convention) is not supported and is ignored`);
    for (const t of s.tables) {
      const q = `${t.table.schema}.${t.table.name}`;
      if (t.is_enum) unsupported.push(`table ${q}: is_enum is not supported; the table is served as a plain table (no <t>_enum type)`);
      if (!isEmpty(t.event_triggers)) unsupported.push(`table ${q}: event triggers are not run by this server (use Hasura for them)`);
      if (!isEmpty(t.remote_relationships)) unsupported.push(`table ${q}: remote relationships are not supported and are ignored`);
      for (const [k, what] of [['insert_permissions', 'insert'], ['update_permissions', 'update'], ['delete_permissions', 'delete']] as const) {
        if (!isEmpty(t[k])) unsupported.push(`table ${q}: ${what} permissions have no effect (this server is read-only)`);
      }
    }
  }
  return { version, sources, dir: root, apiLimits, introspectionDisabledFor, unsupported };
}

/** The source's database URL: a literal string or `{from_env: VAR}` resolved from the environment. */
export function sourceDatabaseUrl(src: SourceMeta, env: NodeJS.ProcessEnv): string | undefined {
  const u = src.configuration?.connection_info?.database_url;
  if (typeof u === 'string') return u;
  if (u && typeof u === 'object' && u.from_env) return env[u.from_env];
  return undefined;
}
