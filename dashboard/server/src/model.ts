// Resolves Hasura metadata against the live catalog into one checked model. Every reference (table, column,
// relationship mapping, computed-field function, permission column) is checked here, so a metadata mistake stops
// the server at start with a message naming the file-level object, instead of surfacing as a SQL error later.
import type { Catalog, CatalogColumn, CatalogFunction, CatalogTable } from './catalog.js';
import { key } from './catalog.js';
import { MetadataError, qualified, type BoolExpJson, type SourceMeta, type TableMeta, type RelationshipMeta } from './metadata.js';

export const ADMIN = 'admin';

export interface Column {
  name: string;
  gqlName: string;
  scalar: string;        // GraphQL scalar name (Hasura naming)
  sqlType: string;       // for parameter casts
  notNull: boolean;
  numeric: boolean;      // sum/avg/stddev/... apply
  comparable: boolean;   // min/max apply
  stringLike: boolean;   // _like family applies
  jsonb: boolean;
  castable: boolean;     // _cast: {String: ...} applies
  description: string | null;
}

export interface Relationship {
  name: string;
  kind: 'object' | 'array';
  targetKey: string;
  mapping: [string, string][]; // [local column, remote column]
  nullable: boolean;
  description: string | null;
}

/** One argument of a computed field's function, in declaration order. */
export interface FunctionArg {
  kind: 'table' | 'session' | 'input';
  name: string;          // SQL name ('' when unnamed)
  sqlType: string;
  scalar: string;        // GraphQL scalar of an input argument
  hasDefault: boolean;
}

export interface ComputedField {
  name: string;
  fnSchema: string;
  fnName: string;
  /** GraphQL base name of the function, for its `<fn>_args` input type. */
  fnBase: string;
  args: FunctionArg[];
  /** Key of the tracked table a SETOF function returns; undefined for a scalar computed field. */
  returnsTable?: string;
  scalar: string;
  sqlType: string;
  numeric: boolean;
  comparable: boolean;
  castable: boolean;
  description: string | null;
}

export const inputArgs = (cf: ComputedField) => cf.args.filter((a) => a.kind === 'input');

export interface Permission {
  columns: Set<string>;
  computedFields: Set<string>;
  filter: BoolExpJson | null;
  limit: number | null;
  allowAggregations: boolean;
  queryRootFields: Set<string> | null;
  subscriptionRootFields: Set<string> | null;
}

export interface Table {
  key: string;
  schema: string;
  name: string;
  base: string; // GraphQL base name (custom_name or [schema_]name)
  rootFields: { select: string; selectByPk: string; selectAggregate: string; selectStream: string };
  rootComments: { select?: string; selectByPk?: string; selectAggregate?: string };
  columns: Map<string, Column>; // by SQL name, catalog order
  pk: string[];
  relationships: Map<string, Relationship>;
  computed: Map<string, ComputedField>;
  permissions: Map<string, Permission>;
  description: string | null;
}

export interface Model {
  source: string;
  tables: Map<string, Table>;
  roles: Set<string>;
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** Hasura v2 scalar naming (Backends/Postgres/SQL/Types.hs mkScalarTypeName). */
export function scalarName(typname: string): string {
  switch (typname) {
    case 'int4': case 'serial': return 'Int';
    case 'bool': return 'Boolean';
    case 'float4': return 'Float';
    case 'text': case 'varchar': return 'String';
    case 'int8': return 'bigint';
    case 'int2': return 'smallint';
    default: return typname.replace(/[^_0-9A-Za-z]/g, '_').replace(/^([0-9])/, '_$1');
  }
}

const NUMERIC = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'money']);
const NOT_COMPARABLE = new Set(['json', 'jsonb', 'geometry', 'geography', 'bool']);
const STRING_LIKE = new Set(['text', 'varchar', 'bpchar', 'citext', 'name']);
/** Types whose comparison expression offers `_cast: {String: ...}` (issue 13; Hasura's own source offers it on jsonb). */
const CASTABLE = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'money', 'bool', 'bpchar', 'date', 'timestamp',
  'timestamptz', 'timetz', 'json', 'jsonb', 'uuid']);

function classify(typname: string, typtype: string) {
  const isArray = typname.startsWith('_');
  return {
    numeric: NUMERIC.has(typname),
    comparable: !isArray && !NOT_COMPARABLE.has(typname) && typtype !== 'c',
    stringLike: STRING_LIKE.has(typname) || typtype === 'e',
    jsonb: typname === 'jsonb',
    castable: CASTABLE.has(typname),
  };
}

function rootName(v: unknown, dflt: string): { name: string; comment?: string } {
  if (typeof v === 'string') return { name: v };
  if (v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string') {
    return { name: (v as { name: string }).name, comment: (v as { comment?: string }).comment ?? undefined };
  }
  return { name: dflt };
}

function checkName(n: string, what: string) {
  if (!GRAPHQL_NAME.test(n)) throw new MetadataError(`${what}: "${n}" is not a valid GraphQL name`);
}

export function buildModel(src: SourceMeta, cat: Catalog): Model {
  const tables = new Map<string, Table>();
  const roles = new Set<string>();
  const tmetaByKey = new Map<string, TableMeta>();
  // Pass 1: tables and columns.
  for (const tm of src.tables) {
    const k = key(tm.table.schema, tm.table.name);
    const where = `table ${k}`;
    const ct = cat.tables.get(k);
    if (!ct) throw new MetadataError(`${where}: no such table or view in the database (source "${src.name}")`);
    if (tables.has(k)) throw new MetadataError(`${where}: tracked twice`);
    const cfg = tm.configuration ?? {};
    const base = cfg.custom_name ?? (tm.table.schema === 'public' ? tm.table.name : `${tm.table.schema}_${tm.table.name}`);
    checkName(base, `${where}: custom_name`);
    const crf = cfg.custom_root_fields ?? {};
    const sel = rootName(crf.select, base);
    const pk = rootName(crf.select_by_pk, `${base}_by_pk`);
    const agg = rootName(crf.select_aggregate, `${base}_aggregate`);
    const stream = rootName(crf.select_stream, `${base}_stream`);
    for (const n of [sel.name, pk.name, agg.name, stream.name]) checkName(n, `${where}: custom_root_fields`);
    const colConfig: Record<string, { custom_name?: string; comment?: string }> = { ...(cfg.column_config ?? {}) };
    for (const [c, n] of Object.entries(cfg.custom_column_names ?? {})) colConfig[c] = { ...(colConfig[c] ?? {}), custom_name: n };
    for (const c of Object.keys(colConfig)) {
      if (!ct.columns.has(c)) throw new MetadataError(`${where}: column_config names unknown column "${c}"`);
    }
    const columns = new Map<string, Column>();
    for (const cc of ct.columns.values()) {
      const conf = colConfig[cc.name] ?? {};
      const gqlName = conf.custom_name ?? cc.name;
      checkName(gqlName, `${where}: column "${cc.name}"`);
      columns.set(cc.name, columnOf(cc, gqlName, conf.comment ?? cc.comment));
    }
    tables.set(k, {
      key: k, schema: tm.table.schema, name: tm.table.name, base,
      rootFields: { select: sel.name, selectByPk: pk.name, selectAggregate: agg.name, selectStream: stream.name },
      rootComments: { select: sel.comment, selectByPk: pk.comment, selectAggregate: agg.comment },
      columns, pk: ct.primaryKey, relationships: new Map(), computed: new Map(), permissions: new Map(),
      description: cfg.comment ?? ct.comment,
    });
    tmetaByKey.set(k, tm);
  }
  // Pass 2: relationships, computed fields, permissions (need every table).
  for (const [k, t] of tables) {
    const tm = tmetaByKey.get(k)!;
    const ct = cat.tables.get(k)!;
    const fieldNames = new Set([...t.columns.values()].map((c) => c.gqlName));
    const addField = (n: string, what: string) => {
      checkName(n, `table ${k}: ${what}`);
      if (fieldNames.has(n) || fieldNames.has(`${n}_aggregate`)) throw new MetadataError(`table ${k}: ${what} "${n}" conflicts with another field`);
      fieldNames.add(n);
    };
    for (const rm of tm.object_relationships ?? []) {
      const r = resolveRelationship(rm, 'object', t, ct, tables, cat);
      addField(r.name, 'object relationship');
      t.relationships.set(r.name, r);
    }
    for (const rm of tm.array_relationships ?? []) {
      const r = resolveRelationship(rm, 'array', t, ct, tables, cat);
      addField(r.name, 'array relationship');
      t.relationships.set(r.name, r);
    }
    for (const cf of tm.computed_fields ?? []) {
      const c = resolveComputedField(cf, t, cat, tables);
      addField(c.name, 'computed field');
      t.computed.set(c.name, c);
    }
    for (const sp of tm.select_permissions ?? []) {
      const where = `table ${k}: select permission for role "${sp.role}"`;
      if (sp.role === ADMIN) throw new MetadataError(`${where}: "admin" is reserved`);
      const p = sp.permission ?? ({} as never);
      const cols = p.columns === '*' ? new Set(t.columns.keys()) : new Set(p.columns ?? []);
      for (const c of cols) if (!t.columns.has(c)) throw new MetadataError(`${where}: unknown column "${c}"`);
      const cfs = new Set(p.computed_fields ?? []);
      for (const c of cfs) if (!t.computed.has(c)) throw new MetadataError(`${where}: unknown computed field "${c}"`);
      if (p.limit != null && (!Number.isInteger(p.limit) || p.limit < 0)) throw new MetadataError(`${where}: limit must be a non-negative integer`);
      t.permissions.set(sp.role, {
        columns: cols, computedFields: cfs, filter: p.filter ?? null, limit: p.limit ?? null,
        allowAggregations: !!p.allow_aggregations,
        queryRootFields: p.query_root_fields ? new Set(p.query_root_fields) : null,
        subscriptionRootFields: p.subscription_root_fields ? new Set(p.subscription_root_fields) : null,
      });
      roles.add(sp.role);
    }
  }
  // Pass 3: permission filters reference columns/relationships; check them now that all tables exist.
  for (const t of tables.values()) {
    for (const [role, p] of t.permissions) if (p.filter) checkBoolExp(p.filter, t, tables, `table ${t.key}: select permission for role "${role}": filter`);
  }
  // Root field names must be unique across tables.
  const roots = new Map<string, string>();
  for (const t of tables.values()) {
    for (const n of [t.rootFields.select, t.rootFields.selectByPk, t.rootFields.selectAggregate]) {
      if (roots.has(n)) throw new MetadataError(`root field "${n}" of table ${t.key} conflicts with table ${roots.get(n)}`);
      roots.set(n, t.key);
    }
  }
  return { source: src.name, tables, roles };
}

function columnOf(cc: CatalogColumn, gqlName: string, description: string | null): Column {
  const cls = classify(cc.typname, cc.typtype);
  return { name: cc.name, gqlName, scalar: scalarName(cc.typname), sqlType: cc.sqlType, notNull: cc.notNull, ...cls, description };
}

function resolveRelationship(rm: RelationshipMeta, kind: 'object' | 'array', t: Table, ct: CatalogTable,
  tables: Map<string, Table>, cat: Catalog): Relationship {
  const where = `table ${t.key}: ${kind} relationship "${rm.name}"`;
  if (typeof rm.name !== 'string') throw new MetadataError(`table ${t.key}: ${kind} relationship without a name`);
  const u = rm.using ?? {};
  const needTable = (q: unknown): Table => {
    const qn = qualified(q as never, where);
    const tt = tables.get(key(qn.schema, qn.name));
    if (!tt) throw new MetadataError(`${where}: remote table ${key(qn.schema, qn.name)} is not tracked`);
    return tt;
  };
  const needCol = (tt: Table, c: string) => {
    if (!tt.columns.has(c)) throw new MetadataError(`${where}: table ${tt.key} has no column "${c}"`);
  };
  if (u.manual_configuration) {
    const mc = u.manual_configuration;
    const tt = needTable(mc.remote_table);
    const mapping = Object.entries(mc.column_mapping ?? {});
    if (!mapping.length) throw new MetadataError(`${where}: empty column_mapping`);
    for (const [l, r] of mapping) { needCol(t, l); needCol(tt, r); }
    return { name: rm.name, kind, targetKey: tt.key, mapping, nullable: true, description: rm.comment ?? null };
  }
  const fk = u.foreign_key_constraint_on;
  if (fk === undefined) throw new MetadataError(`${where}: needs foreign_key_constraint_on or manual_configuration`);
  if (typeof fk === 'string' || Array.isArray(fk)) {
    // Object relationship through a foreign key of this table.
    if (kind !== 'object') throw new MetadataError(`${where}: an array relationship needs foreign_key_constraint_on: {table, column}`);
    const cols = typeof fk === 'string' ? [fk] : fk;
    for (const c of cols) needCol(t, c);
    const f = ct.foreignKeys.find((x) => x.columns.length === cols.length && cols.every((c) => x.columns.includes(c)));
    if (!f) throw new MetadataError(`${where}: no foreign key constraint on column(s) ${cols.join(', ')} of ${t.key}`);
    const tt = tables.get(key(f.refSchema, f.refTable));
    if (!tt) throw new MetadataError(`${where}: referenced table ${key(f.refSchema, f.refTable)} is not tracked`);
    const mapping = f.columns.map((c, i) => [c, f.refColumns[i]] as [string, string]);
    const nullable = !mapping.every(([c]) => t.columns.get(c)!.notNull);
    return { name: rm.name, kind, targetKey: tt.key, mapping, nullable, description: rm.comment ?? null };
  }
  // {table, column(s)}: the remote table has a foreign key pointing at this table.
  const tt = needTable(fk.table);
  const cols = fk.columns ?? (fk.column ? [fk.column] : []);
  if (!cols.length) throw new MetadataError(`${where}: foreign_key_constraint_on needs column or columns`);
  for (const c of cols) needCol(tt, c);
  const rct = cat.tables.get(tt.key)!;
  const f = rct.foreignKeys.find((x) => x.refSchema === t.schema && x.refTable === t.name && x.columns.length === cols.length && cols.every((c) => x.columns.includes(c)));
  if (!f) throw new MetadataError(`${where}: no foreign key constraint on ${tt.key}(${cols.join(', ')}) referencing ${t.key}`);
  const mapping = f.columns.map((c, i) => [f.refColumns[i], c] as [string, string]);
  return { name: rm.name, kind, targetKey: tt.key, mapping, nullable: true, description: rm.comment ?? null };
}

function resolveComputedField(cf: { name: string; comment?: string; definition: { function: unknown; table_argument?: string; session_argument?: string } },
  t: Table, cat: Catalog, tables: Map<string, Table>): ComputedField {
  const where = `table ${t.key}: computed field "${cf.name}"`;
  const fq = qualified(cf.definition?.function as never, where);
  const overloads = cat.functions.get(key(fq.schema, fq.name));
  if (!overloads?.length) throw new MetadataError(`${where}: function ${key(fq.schema, fq.name)} does not exist`);
  if (overloads.length > 1) throw new MetadataError(`${where}: function ${key(fq.schema, fq.name)} is overloaded (Hasura requires a unique function)`);
  const fn: CatalogFunction = overloads[0];
  if (fn.volatility === 'v') throw new MetadataError(`${where}: function ${fn.schema}.${fn.name} is VOLATILE; computed fields need STABLE or IMMUTABLE`);
  const tableArgIdx = cf.definition.table_argument ? fn.argNames.indexOf(cf.definition.table_argument) : 0;
  if (tableArgIdx < 0) throw new MetadataError(`${where}: table_argument "${cf.definition.table_argument}" is not an argument of ${fn.name}`);
  const ta = fn.argTypes[tableArgIdx];
  if (!ta || ta.schema !== t.schema || ta.typname !== t.name) {
    throw new MetadataError(`${where}: the table argument of ${fn.schema}.${fn.name} must be of type ${t.key}`);
  }
  let sessionIdx = -1;
  if (cf.definition.session_argument) {
    sessionIdx = fn.argNames.indexOf(cf.definition.session_argument);
    if (sessionIdx < 0 || fn.argTypes[sessionIdx].typname !== 'json') throw new MetadataError(`${where}: session_argument must name a json argument`);
  }
  const firstDefault = fn.argTypes.length - fn.nDefaults;
  const args: FunctionArg[] = fn.argTypes.map((a, i) => {
    const name = fn.argNames[i] ?? '';
    if (i === tableArgIdx) return { kind: 'table', name, sqlType: a.sqlType, scalar: '', hasDefault: false };
    if (i === sessionIdx) return { kind: 'session', name, sqlType: a.sqlType, scalar: '', hasDefault: false };
    if (!name || !GRAPHQL_NAME.test(name)) throw new MetadataError(`${where}: argument ${i + 1} of ${fn.name} needs a name that is a valid GraphQL name`);
    return { kind: 'input', name, sqlType: a.sqlType, scalar: scalarName(a.typname), hasDefault: i >= firstDefault };
  });
  const fnBase = fn.schema === 'public' ? fn.name : `${fn.schema}_${fn.name}`;
  const base = { name: cf.name, fnSchema: fn.schema, fnName: fn.name, fnBase, args, description: cf.comment ?? fn.comment };
  if (fn.returnsSet) {
    const tt = tables.get(key(fn.returnType.schema, fn.returnType.typname));
    if (!tt) throw new MetadataError(`${where}: a SETOF function must return a tracked table (${fn.returnType.schema}.${fn.returnType.typname} is not tracked)`);
    return { ...base, returnsTable: tt.key, scalar: tt.base, sqlType: `${fn.returnType.schema}.${fn.returnType.typname}`, numeric: false, comparable: false, castable: false };
  }
  if (fn.returnType.typtype === 'c' || fn.returnType.typtype === 'p') throw new MetadataError(`${where}: function must return a scalar type or SETOF a tracked table`);
  const cls = classify(fn.returnType.typname, fn.returnType.typtype);
  return { ...base, scalar: scalarName(fn.returnType.typname), sqlType: fn.returnType.sqlType, numeric: cls.numeric, comparable: cls.comparable, castable: cls.castable };
}

/** Checks a permission filter's shape: columns, relationships and operators must exist. */
function checkBoolExp(e: unknown, t: Table, tables: Map<string, Table>, where: string): void {
  if (!e || typeof e !== 'object' || Array.isArray(e)) throw new MetadataError(`${where}: expected an object`);
  for (const [rawKey, v] of Object.entries(e as Record<string, unknown>)) {
    const k = rawKey.startsWith('$') ? `_${rawKey.slice(1)}` : rawKey; // Hasura's `$or` spelling
    if (k === '_and' || k === '_or') {
      if (!Array.isArray(v)) throw new MetadataError(`${where}: ${k} expects a list`);
      v.forEach((x) => checkBoolExp(x, t, tables, where));
    } else if (k === '_not') checkBoolExp(v, t, tables, where);
    else if (k === '_exists') {
      const ex = v as { _table?: unknown; _where?: unknown };
      const q = qualified(ex?._table as never, `${where}: _exists`);
      const tt = tables.get(key(q.schema, q.name));
      if (!tt) throw new MetadataError(`${where}: _exists table ${key(q.schema, q.name)} is not tracked`);
      checkBoolExp(ex._where ?? {}, tt, tables, where);
    } else if (t.columns.has(findColumnByGqlOrSql(t, k) ?? '')) {
      // An object holds operators; any other value is Hasura's shorthand for {_eq: value}.
      if (v === null) throw new MetadataError(`${where}: column "${k}" given null (use {_is_null: true})`);
    } else if (t.relationships.has(k)) {
      checkBoolExp(v, tables.get(t.relationships.get(k)!.targetKey)!, tables, where);
    } else if (t.computed.has(k)) {
      const cf = t.computed.get(k)!;
      if (inputArgs(cf).length) throw new MetadataError(`${where}: computed field "${k}" takes arguments and cannot be used in a filter`);
      if (cf.returnsTable) checkBoolExp(v, tables.get(cf.returnsTable)!, tables, where);
    } else throw new MetadataError(`${where}: "${k}" is not a column, relationship or computed field of ${t.key}`);
  }
}

export function findColumnByGqlOrSql(t: Table, n: string): string | undefined {
  if (t.columns.has(n)) return n;
  for (const c of t.columns.values()) if (c.gqlName === n) return c.name;
  return undefined;
}

/** The permission a role has on a table: admin sees everything; null = no access. */
export function permissionFor(t: Table, role: string): Permission | null {
  if (role === ADMIN) {
    return { columns: new Set(t.columns.keys()), computedFields: new Set(t.computed.keys()), filter: null, limit: null,
      allowAggregations: true, queryRootFields: null, subscriptionRootFields: null };
  }
  return t.permissions.get(role) ?? null;
}
