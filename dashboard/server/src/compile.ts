// Compiles one validated GraphQL operation into ONE parameterized SQL statement that returns the whole `data`
// object as JSON text. User input only ever becomes $n parameters; identifiers come from the metadata/catalog and
// are always quoted. Nested selections are correlated subqueries, so there is no N+1. Boolean expressions live in
// boolexp.ts, order_by in orderby.ts, the shared SQL pieces (scopes, parameters, JSON objects) in sql.ts.
import {
  getArgumentValues, getDirectiveValues, GraphQLIncludeDirective, GraphQLSkipDirective, Kind, getNamedType,
  type FieldNode, type FragmentDefinitionNode, type GraphQLObjectType, type OperationDefinitionNode, type SelectionSetNode,
  type GraphQLField,
} from 'graphql';
import { BoolExp, type CompileContext, type OutputOptions, type Session } from './boolexp.js';
import { HasuraError } from './errors.js';
import type { Column, ComputedField, Model, Permission, Relationship, Table } from './model.js';
import { DIRECTION, orderBy } from './orderby.js';
import { metaOf, type RoleSchema } from './schema.js';
import { columnValue, LooseValue } from './scalars.js';
import {
  quoteIdent, SqlBuilder, subquery, tableCtx, tableRef, tableSource, where, wholeRowCtx, type RowCtx, type Scope, type Source,
} from './sql.js';

export type { OutputOptions, Session } from './boolexp.js';
export { quoteIdent } from './sql.js';
export interface Limits { maxRows: number }

/** A `_stream` root field: the statement also returns the next cursor value, fed back as parameter `param`. */
export interface StreamCursor { param: number; column: string }

export interface CompiledOperation {
  sql: string | null;           // null when nothing needs the database
  params: unknown[];
  rootKeys: string[];           // response keys in order
  introspection: FieldNode[];   // root fields answered by graphql-js (__schema, __type)
  stream?: StreamCursor;        // streaming subscription: the statement returns (data, cursor)
}

const BIG_NUMS = new Set(['bigint', 'numeric', 'float8', 'money']);

export class Compiler implements CompileContext {
  readonly sql = new SqlBuilder();
  readonly missingSession = new Set<string>();
  private readonly bool: BoolExp;

  constructor(
    readonly model: Model,
    readonly rs: RoleSchema,
    private readonly fragments: Record<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
    readonly session: Session,
    private readonly limits: Limits,
    readonly output: OutputOptions = { stringifyNumeric: false, booleanNullCollapse: false },
  ) {
    this.bool = new BoolExp(this);
  }

  // ---------- context for boolexp.ts / orderby.ts ----------
  perm(t: Table): Permission {
    const p = this.rs.perms.get(t.key);
    if (!p) throw new HasuraError(`no permission on table ${t.name}`, 'access-denied');
    return p;
  }

  visibleColumn(t: Table, gqlName: string): Column | undefined {
    const p = this.perm(t);
    for (const c of t.columns.values()) if (c.gqlName === gqlName && p.columns.has(c.name)) return c;
    return undefined;
  }

  scope(src: Source, join?: (c: RowCtx) => string, perm = true): Scope {
    const alias = this.sql.alias('t');
    const ctx = tableCtx(alias);
    const conds: string[] = [];
    if (join) conds.push(join(ctx));
    if (perm) { const pf = this.bool.permFilter(src.table, ctx); if (pf) conds.push(pf); }
    return { source: src, alias, ctx, conds };
  }

  relationScope(rel: Relationship, parent: RowCtx, perm = true): Scope {
    return this.scope(tableSource(this.model.tables.get(rel.targetKey)!), (c) => joinCond(rel, parent, c), perm);
  }

  computedScalar(cf: ComputedField, row: RowCtx, args?: Record<string, unknown>): string {
    return this.functionCall(cf, row, args);
  }

  computedSource(cf: ComputedField, row: RowCtx, args?: Record<string, unknown>): Source {
    return { table: this.model.tables.get(cf.returnsTable!)!, from: this.functionCall(cf, row, args) };
  }

  /** `fn(row, [session,] inputs...)` in declaration order; once an input is left to its default, named notation. */
  private functionCall(cf: ComputedField, row: RowCtx, args: Record<string, unknown> = {}): string {
    const parts: string[] = [];
    let named = false;
    for (const a of cf.args) {
      let expr: string;
      if (a.kind === 'table') expr = row.row;
      else if (a.kind === 'session') expr = this.sql.param(JSON.stringify(this.session), 'json');
      else if (args[a.name] !== undefined) {
        const v = columnValue(args[a.name]);
        expr = this.sql.param(v !== null && (a.sqlType === 'json' || a.sqlType === 'jsonb') ? JSON.stringify(v) : v, a.sqlType);
      } else if (a.hasDefault) { named = true; continue; }
      else throw new HasuraError(`missing required field '${a.name}'`, 'validation-failed', '$');
      if (named && !a.name) throw new HasuraError(`function ${cf.fnName}: an unnamed argument follows a defaulted one`, 'unexpected');
      parts.push(named ? `${quoteIdent(a.name)} => ${expr}` : expr);
    }
    return `${quoteIdent(cf.fnSchema)}.${quoteIdent(cf.fnName)}(${parts.join(', ')})`;
  }

  /** HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES: bigint, numeric, float8 and money leave as JSON strings (Translate/Column.hs). */
  private jsonable(expr: string, scalar: string): string {
    return this.output.stringifyNumeric && BIG_NUMS.has(scalar) ? `(${expr})::text` : expr;
  }

  // ---------- field collection (fragments, @skip/@include) ----------
  collect(type: GraphQLObjectType, sel: SelectionSetNode, out = new Map<string, FieldNode[]>()): Map<string, FieldNode[]> {
    for (const s of sel.selections) {
      if (!this.included(s)) continue;
      if (s.kind === Kind.FIELD) {
        const k = s.alias?.value ?? s.name.value;
        const l = out.get(k) ?? [];
        l.push(s);
        out.set(k, l);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        if (!s.typeCondition || s.typeCondition.name.value === type.name) this.collect(type, s.selectionSet, out);
      } else {
        const f = this.fragments[s.name.value];
        if (f && f.typeCondition.name.value === type.name) this.collect(type, f.selectionSet, out);
      }
    }
    return out;
  }
  private included(node: { directives?: readonly unknown[] }): boolean {
    if (!node.directives?.length) return true;
    const skip = getDirectiveValues(GraphQLSkipDirective, node as never, this.variables);
    if (skip?.if === true) return false;
    const inc = getDirectiveValues(GraphQLIncludeDirective, node as never, this.variables);
    return inc?.if !== false;
  }
  /** Sub-selections of all nodes sharing one response key, merged (validation guarantees they are compatible). */
  private subFields(type: GraphQLObjectType, nodes: FieldNode[]) {
    const out = new Map<string, FieldNode[]>();
    for (const n of nodes) if (n.selectionSet) this.collect(type, n.selectionSet, out);
    return out;
  }

  // ---------- entry ----------
  compileOperation(op: OperationDefinitionNode): CompiledOperation {
    const compiled = this.compileRoot(op);
    if (this.missingSession.size) {
      throw new HasuraError(`missing session variables: ${[...this.missingSession].map((v) => JSON.stringify(v)).join(', ')}`, 'not-found', '$');
    }
    return compiled;
  }

  private compileRoot(op: OperationDefinitionNode): CompiledOperation {
    const rootType = op.operation === 'subscription' ? this.rs.schema.getSubscriptionType() : this.rs.schema.getQueryType();
    if (op.operation === 'mutation' || !rootType) {
      throw new HasuraError(op.operation === 'mutation' ? 'no mutations exist' : 'no subscriptions exist', 'validation-failed', '$');
    }
    const fields = this.collect(rootType, op.selectionSet);
    const pairs: [string, string][] = [];
    const introspection: FieldNode[] = [];
    for (const [k, nodes] of fields) {
      const name = nodes[0].name.value;
      if (name === '__schema' || name === '__type') { introspection.push(...nodes); continue; }
      if (name === '__typename') { pairs.push([k, this.sql.param(rootType.name, 'text')]); continue; }
      if (name === 'no_queries_available') { pairs.push([k, `''::text`]); continue; }
      const def = rootType.getFields()[name];
      const path = `$.selectionSet.${k}`;
      if (metaOf(def)?.kind === 'stream') {
        if (fields.size !== 1) throw new HasuraError('a streaming subscription must select exactly one root field', 'validation-failed', '$');
        return this.streamField(def, nodes, k, path);
      }
      pairs.push([k, this.rootField(def, nodes, path)]);
    }
    const sql = pairs.length ? `SELECT ${this.sql.jsonObject(pairs)}::text AS data` : null;
    return { sql, params: this.sql.params, rootKeys: [...fields.keys()], introspection };
  }

  private args(def: GraphQLField<unknown, unknown>, node: FieldNode, path: string): Record<string, unknown> {
    try {
      return getArgumentValues(def, node, this.variables);
    } catch (e) {
      throw new HasuraError((e as Error).message, 'validation-failed', `${path}.args`);
    }
  }

  private rootField(def: GraphQLField<unknown, unknown>, nodes: FieldNode[], path: string): string {
    const meta = metaOf(def);
    if (!meta || !('table' in meta)) throw new HasuraError(`field '${def.name}' not found in type: 'query_root'`, 'validation-failed', path);
    const t = meta.table;
    const args = this.args(def, nodes[0], path);
    const type = getNamedType(def.type) as GraphQLObjectType;
    if (meta.kind === 'select') return this.selectList(tableSource(t), args, type, nodes, path);
    if (meta.kind === 'aggregate') return this.selectAggregate(tableSource(t), args, type, nodes, path);
    // by_pk: permission limit does not apply (Hasura), the filter does.
    const s = this.scope(tableSource(t));
    for (const c of t.pk) s.conds.unshift(`${s.ctx.col(c)} = ${this.sql.param(columnValue(args[t.columns.get(c)!.gqlName]), t.columns.get(c)!.sqlType)}`);
    return subquery(s, this.objectJson(s.ctx, type, this.subFields(type, nodes), path), ' LIMIT 1');
  }

  /** `<t>_stream(batch_size, cursor, where)`: rows after the cursor, in cursor order, and the next cursor value. */
  private streamField(def: GraphQLField<unknown, unknown>, nodes: FieldNode[], key: string, path: string): CompiledOperation {
    const t = (metaOf(def) as { table: Table }).table;
    const args = this.args(def, nodes[0], path);
    const cursors = (Array.isArray(args.cursor) ? args.cursor : [args.cursor]) as { initial_value: Record<string, unknown>; ordering?: string | null }[];
    if (cursors.length !== 1) throw new HasuraError('exactly one cursor input is expected', 'validation-failed', `${path}.args.cursor`);
    const initial = Object.entries(cursors[0].initial_value ?? {}).filter(([, v]) => v !== undefined);
    if (initial.length !== 1) throw new HasuraError('exactly one column is expected in the cursor\'s initial_value', 'validation-failed', `${path}.args.cursor`);
    const col = this.visibleColumn(t, initial[0][0])!;
    const batch = Number(integerArg(args.batch_size, `${path}.args.batch_size`, 'a 32-bit integer'));
    if (!Number.isInteger(batch) || batch < 0) throw new HasuraError('unexpected negative value for "batch_size"', 'validation-failed', `${path}.args.batch_size`);
    const desc = cursors[0].ordering === 'DESC';
    const s = this.scope(tableSource(t));
    if (args.where != null) s.conds.push(this.bool.compile(t, args.where as Record<string, unknown>, s.ctx, `${path}.args.where`));
    const cursorValue = columnValue(initial[0][1]);
    const cursor = this.sql.param(cursorValue === null ? null : col.jsonb ? JSON.stringify(cursorValue) : cursorValue, col.sqlType);
    const cursorParam = this.sql.params.length - 1;
    s.conds.push(`${s.ctx.col(col.name)} ${desc ? '<' : '>'} ${cursor}`);
    const limit = this.limits.maxRows > 0 ? Math.min(batch, this.limits.maxRows) : batch;
    const inner = `SELECT ${s.alias} AS r, ${s.ctx.col(col.name)} AS o0 FROM ${s.source.from} AS ${s.alias}${where(s.conds)} ORDER BY ${s.ctx.col(col.name)} ${desc ? 'DESC' : 'ASC'} LIMIT ${this.sql.param(limit, 'bigint')}`;
    const a = this.sql.alias('s');
    const type = getNamedType(def.type) as GraphQLObjectType;
    const obj = this.objectJson(wholeRowCtx(`${a}.r`), type, this.subFields(type, nodes), path);
    const data = `json_build_object(${this.sql.keyParam(key)}, coalesce(json_agg(${obj} ORDER BY ${a}.o0 ${desc ? 'DESC' : 'ASC'}), '[]'::json))::text`;
    const next = `(array_agg(${a}.o0::text ORDER BY ${a}.o0 ${desc ? 'ASC' : 'DESC'}))[1]`;
    return {
      sql: `SELECT ${data} AS data, ${next} AS cursor FROM (${inner}) AS ${a}`,
      params: this.sql.params, rootKeys: [key], introspection: [], stream: { param: cursorParam, column: col.name },
    };
  }

  // ---------- selections ----------
  /** FROM/WHERE/ORDER BY/LIMIT of a selection with the standard 5 arguments; returns the inner SELECT. */
  private innerSelect(src: Source, args: Record<string, unknown>, path: string, join: ((c: RowCtx) => string) | undefined, cap: boolean,
    read: ReadColumns) {
    const t = src.table;
    const p = this.perm(t);
    const s = this.scope(src, join);
    if (args.where != null) s.conds.push(this.bool.compile(t, args.where as Record<string, unknown>, s.ctx, `${path}.args.where`));
    const order = args.order_by == null ? [] : orderBy(this, t, args.order_by as Record<string, unknown>[], s.ctx, `${path}.args.order_by`);
    let distinct = '';
    const don = args.distinct_on as string[] | null | undefined;
    if (don != null && don.length) {
      // Hasura: the first N order_by items must be exactly the distinct_on columns (as a set).
      if (order.length) {
        const dset = new Set(don.map((c) => s.ctx.col(c)));
        const head = order.slice(0, don.length).map((o) => o.expr);
        if (head.length < dset.size || !head.every((e) => dset.has(e)) || new Set(head).size !== dset.size) {
          throw new HasuraError('"distinct_on" columns must match initial "order_by" columns', 'validation-failed', `${path}.args`);
        }
      }
      distinct = `DISTINCT ON (${don.map((c) => s.ctx.col(c)).join(', ')}) `;
    }
    let limit: number | null = args.limit == null ? null : Number(integerArg(args.limit, `${path}.args.limit`, 'a 32-bit integer'));
    if (limit != null && limit < 0) throw new HasuraError('expected a non-negative 32-bit integer for type "Int", but found an integer', 'validation-failed', `${path}.args.limit`);
    const offset = args.offset == null ? null : Number(integerArg(args.offset, `${path}.args.offset`, 'an integer'));
    if (offset != null && (!Number.isSafeInteger(offset) || offset < 0)) throw new HasuraError('unexpected negative value for "offset"', 'validation-failed', `${path}.args.offset`);
    if (p.limit != null) limit = limit == null ? p.limit : Math.min(limit, p.limit);
    if (cap && this.limits.maxRows > 0) limit = limit == null ? this.limits.maxRows : Math.min(limit, this.limits.maxRows);
    const orderCols = order.map((o, i) => ({ expr: `o${i}`, dir: o.dir }));
    const keys = order.map((o, i) => `${o.expr} AS o${i}`);
    const tail = (order.length ? ` ORDER BY ${order.map((o) => `${o.expr} ${o.dir}`).join(', ')}` : '')
      + (limit != null ? ` LIMIT ${this.sql.param(limit, 'bigint')}` : '')
      + (offset != null ? ` OFFSET ${this.sql.param(offset, 'bigint')}` : '');
    // A top-N asked for (limit argument or the role's limit) over a table: sort the primary key and the sort keys
    // only, and read what the selection needs of the N kept by key. Read before the sort, it was copied for every
    // row of the filter (a 7-day invocation list by duration: 260 -> 115 ms in psql, benchmarks/README.md).
    const topN = order.length > 0 && (args.limit != null || p.limit != null) && !distinct && t.pk.length > 0 && src.from === tableRef(t);
    if (!topN) {
      const items = [...read.items(s.ctx), ...keys];
      if (!items.length) items.push('TRUE AS _'); // a count(*) reads no column; DISTINCT ON still needs an item
      return { sql: `SELECT ${distinct}${items.join(', ')} FROM ${src.from} AS ${s.alias}${where(s.conds)}${tail}`, orderCols };
    }
    const kept = this.sql.alias('k');
    const pk = t.pk.map((c, i) => `${s.ctx.col(c)} AS k${i}`);
    const keptKeys = order.map((_, i) => `${kept}.o${i}`);
    const sorted = `(SELECT ${[...pk, ...keys].join(', ')} FROM ${src.from} AS ${s.alias}${where(s.conds)}${tail}) AS ${kept}`;
    if (read.nothing) return { sql: `SELECT ${keptKeys.join(', ')} FROM ${sorted}`, orderCols };
    const row = this.sql.alias('t');
    const looked = this.sql.alias('r');
    const byPk = t.pk.map((c, i) => `${row}.${quoteIdent(c)} = ${kept}.k${i}`).join(' AND ');
    // OFFSET 0 (twice): not pulled up, so each field reads the one looked-up row rather than repeating the look-up.
    const lookup = `(SELECT ${read.items(tableCtx(row)).join(', ')} FROM ${src.from} AS ${row} WHERE ${byPk} OFFSET 0) AS ${looked}`;
    return { sql: `SELECT ${[`${looked}.*`, ...keptKeys].join(', ')} FROM ${sorted} CROSS JOIN LATERAL ${lookup} OFFSET 0`, orderCols };
  }

  private selectList(src: Source, args: Record<string, unknown>, type: GraphQLObjectType, nodes: FieldNode[], path: string,
    join?: (c: RowCtx) => string): string {
    const s = this.sql.alias('s');
    const read = new ReadColumns(s);
    const obj = this.objectJson(read, type, this.subFields(type, nodes), path);
    const { sql, orderCols } = this.innerSelect(src, args, path, join, true, read);
    const ord = orderCols.length ? ` ORDER BY ${orderCols.map((o) => `${s}.${o.expr} ${o.dir}`).join(', ')}` : '';
    return `(SELECT coalesce(json_agg(${obj}${ord}), '[]'::json) FROM (${sql}) AS ${s})`;
  }

  private selectAggregate(src: Source, args: Record<string, unknown>, type: GraphQLObjectType, nodes: FieldNode[], path: string,
    join?: (c: RowCtx) => string): string {
    const pairs: [string, string][] = [];
    for (const [k, fns] of this.subFields(type, nodes)) {
      const name = fns[0].name.value;
      const fpath = `${path}.selectionSet.${k}`;
      if (name === '__typename') { pairs.push([k, this.sql.param(type.name, 'text')]); continue; }
      const def = type.getFields()[name];
      const m = metaOf(def);
      if (m?.kind === 'agg_nodes') {
        pairs.push([k, this.selectList(src, args, getNamedType(def.type) as GraphQLObjectType, fns, fpath, join)]);
      } else if (m?.kind === 'agg_aggregate') {
        // Aggregates see the whole filtered/limited set: no max-rows cap here (it would falsify counts).
        const aggType = getNamedType(def.type) as GraphQLObjectType;
        const s = this.sql.alias('s');
        const read = new ReadColumns(s);
        const json = this.aggregateFieldsJson(aggType, this.subFields(aggType, fns), read, fpath);
        const { sql } = this.innerSelect(src, args, fpath, join, false, read);
        pairs.push([k, `(SELECT ${json} FROM (${sql}) AS ${s})`]);
      }
    }
    return this.sql.jsonObject(pairs);
  }

  private aggregateFieldsJson(type: GraphQLObjectType, fields: Map<string, FieldNode[]>, ctx: RowCtx, path: string): string {
    const pairs: [string, string][] = [];
    for (const [k, fns] of fields) {
      const name = fns[0].name.value;
      if (name === '__typename') { pairs.push([k, this.sql.param(type.name, 'text')]); continue; }
      const def = type.getFields()[name];
      const m = metaOf(def)!;
      if (m.kind === 'agg_count') {
        const a = this.args(def, fns[0], `${path}.selectionSet.${k}`);
        const cols = ((a.columns as string[] | null) ?? []).map((c) => ctx.col(c));
        const distinct = a.distinct === true;
        if (!cols.length) pairs.push([k, distinct ? `count(DISTINCT ${ctx.row})` : 'count(*)']);
        else if (cols.length === 1) pairs.push([k, `count(${distinct ? 'DISTINCT ' : ''}${cols[0]})`]);
        else {
          const nonNull = cols.map((c) => `${c} IS NOT NULL`).join(' AND ');
          pairs.push([k, distinct ? `count(DISTINCT ROW(${cols.join(', ')})) FILTER (WHERE ${nonNull})` : `count(*) FILTER (WHERE ${nonNull})`]);
        }
      } else if (m.kind === 'agg_op') {
        const opType = getNamedType(def.type) as GraphQLObjectType;
        const inner: [string, string][] = [];
        for (const [ck, cns] of this.subFields(opType, fns)) {
          const cname = cns[0].name.value;
          if (cname === '__typename') { inner.push([ck, this.sql.param(opType.name, 'text')]); continue; }
          const cm = metaOf(opType.getFields()[cname]);
          // Hasura stringifies by the column's type, for every operator (avg over bigint too, not over integer).
          if (cm?.kind === 'agg_col') inner.push([ck, this.jsonable(`${m.op}(${ctx.col(cm.column.name)})`, cm.column.scalar)]);
        }
        pairs.push([k, this.sql.jsonObject(inner)]);
      }
    }
    return this.sql.jsonObject(pairs);
  }

  /** json_build_object of one row's selected fields. */
  private objectJson(ctx: RowCtx, type: GraphQLObjectType, fields: Map<string, FieldNode[]>, path: string): string {
    const pairs: [string, string][] = [];
    for (const [k, nodes] of fields) {
      const name = nodes[0].name.value;
      const fpath = `${path}.selectionSet.${k}`;
      if (name === '__typename') { pairs.push([k, this.sql.param(type.name, 'text')]); continue; }
      const def = type.getFields()[name];
      const m = metaOf(def);
      if (!m) throw new HasuraError(`field '${name}' not found in type: '${type.name}'`, 'validation-failed', fpath);
      const ot = getNamedType(def.type) as GraphQLObjectType;
      switch (m.kind) {
        case 'column': {
          let expr = ctx.col(m.column.name);
          if (def.args.length) {
            const path = this.args(def, nodes[0], fpath).path as string | null | undefined;
            const steps = path == null ? [] : parseJsonPath(path, `${fpath}.args.path`);
            if (steps.length) expr = `(${expr} #> ${this.sql.param(steps, 'text[]')})`;
          }
          pairs.push([k, this.jsonable(expr, m.column.scalar)]);
          break;
        }
        case 'computed': {
          const a = this.args(def, nodes[0], fpath);
          pairs.push([k, this.jsonable(this.computedScalar(m.cf, ctx, a.args as Record<string, unknown> | undefined), m.cf.scalar)]);
          break;
        }
        case 'computed_set': case 'computed_set_agg': {
          const a = this.args(def, nodes[0], fpath);
          const src = this.computedSource(m.cf, ctx, a.args as Record<string, unknown> | undefined);
          pairs.push([k, m.kind === 'computed_set' ? this.selectList(src, a, ot, nodes, fpath) : this.selectAggregate(src, a, ot, nodes, fpath)]);
          break;
        }
        case 'objrel': {
          const s = this.relationScope(m.rel, ctx);
          pairs.push([k, subquery(s, this.objectJson(s.ctx, ot, this.subFields(ot, nodes), fpath), ' LIMIT 1')]);
          break;
        }
        case 'arrrel': case 'arrrel_agg': {
          const args = this.args(def, nodes[0], fpath);
          const src = tableSource(this.model.tables.get(m.rel.targetKey)!);
          const join = (c2: RowCtx) => joinCond(m.rel, ctx, c2);
          pairs.push([k, m.kind === 'arrrel' ? this.selectList(src, args, ot, nodes, fpath, join) : this.selectAggregate(src, args, ot, nodes, fpath, join)]);
          break;
        }
        default: throw new HasuraError(`unexpected field ${name}`, 'unexpected', fpath);
      }
    }
    return this.sql.jsonObject(pairs);
  }
}

/**
 * Hasura's JSON path for json/jsonb columns: optional `$`, then `.key` / `key` (first step), `[n]`, `['key']`,
 * `["key"]`, also after a dot (`.[0]`). Returns the steps for Postgres' `#>` operator.
 */
export function parseJsonPath(path: string, errPath: string): string[] {
  const fail = (why: string): never => { throw new HasuraError(`parse json path error: ${why}`, 'validation-failed', errPath); };
  const steps: string[] = [];
  let i = path.startsWith('$') ? 1 : 0;
  const key = () => {
    const start = i;
    while (i < path.length && path[i] !== '.' && path[i] !== '[') i++;
    if (i === start) fail(`empty key at position ${start}`);
    steps.push(path.slice(start, i));
  };
  if (i < path.length && path[i] !== '.' && path[i] !== '[') key();
  while (i < path.length) {
    if (path[i] === '.') {
      i++;
      if (path[i] === '[') continue;
      key();
    } else if (path[i] === '[') {
      i++;
      const quote = path[i];
      if (quote === '\'' || quote === '"') {
        const end = path.indexOf(quote, i + 1);
        if (end < 0) fail('unterminated quoted key');
        steps.push(path.slice(i + 1, end));
        i = end + 1;
      } else {
        const start = i;
        while (i < path.length && /[0-9]/.test(path[i])) i++;
        if (i === start) fail(`expected an index or a quoted key at position ${start}`);
        steps.push(path.slice(start, i));
      }
      if (path[i] !== ']') fail(`expected ']' at position ${i}`);
      i++;
    } else fail(`unexpected '${path[i]}' at position ${i}`);
  }
  return steps;
}

/** limit, offset, batch_size: an integer, not a string (Hasura's Int parser, unlike its column parsers). */
function integerArg(v: unknown, path: string, expected: string): unknown {
  if (v instanceof LooseValue) throw new HasuraError(`expected ${expected} for type "Int", but found a string`, 'validation-failed', path);
  return v;
}

/** Output name of a selected column in an inner SELECT: prefixed, so no column can take a sort key's name (o0...). */
const projectedName = (c: string) => quoteIdent(`c_${c}`);

/**
 * A row of an inner SELECT as the level above reads it. It notes the columns asked for (fields, the columns
 * relationships join on) and whether the row value itself is (a computed field's argument, count(distinct) over
 * rows); the inner SELECT is then built to select just those. Whole-row values built for every row computed a
 * view's unselected columns and fetched unselected TOASTed values (benchmarks/README.md, "Selections read their
 * columns").
 */
class ReadColumns implements RowCtx {
  private readonly cols = new Set<string>();
  private whole = false;
  constructor(private readonly alias: string) {}
  get row(): string { this.whole = true; return `${this.alias}.r`; }
  readonly col = (c: string): string => { this.cols.add(c); return `${this.alias}.${projectedName(c)}`; };
  /** True when the level above reads no column (a count(*), a list of __typename). */
  get nothing(): boolean { return !this.whole && !this.cols.size; }
  /** The select-list items of the inner SELECT, reading the row `from`. */
  items(from: RowCtx): string[] {
    return [...(this.whole ? [`${from.row} AS r`] : []), ...[...this.cols].map((c) => `${from.col(c)} AS ${projectedName(c)}`)];
  }
}

function joinCond(rel: Relationship, parent: RowCtx, child: RowCtx): string {
  return rel.mapping.map(([l, r]) => `${child.col(r)} = ${parent.col(l)}`).join(' AND ');
}

export { DIRECTION };
