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
  configuration: { connection_info?: { database_url?: string | { from_env?: string; connection_parameters?: unknown } } };
  tables: TableMeta[];
  functions: FunctionMeta[];
}

export interface Metadata { version: number; sources: SourceMeta[]; dir: string }

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
  return { version, sources, dir: root };
}

/** The source's database URL: a literal string or `{from_env: VAR}` resolved from the environment. */
export function sourceDatabaseUrl(src: SourceMeta, env: NodeJS.ProcessEnv): string | undefined {
  const u = src.configuration?.connection_info?.database_url;
  if (typeof u === 'string') return u;
  if (u && typeof u === 'object' && u.from_env) return env[u.from_env];
  return undefined;
}
