// Compiles one validated GraphQL operation into ONE parameterized SQL statement that returns the whole `data`
// object as JSON text. User input only ever becomes $n parameters; identifiers come from the metadata/catalog and
// are always quoted. Nested selections are correlated subqueries (LATERAL-like), so there is no N+1.
import {
  getArgumentValues, getDirectiveValues, GraphQLIncludeDirective, GraphQLSkipDirective, Kind, getNamedType,
  type FieldNode, type FragmentDefinitionNode, type GraphQLObjectType, type OperationDefinitionNode, type SelectionSetNode,
  type GraphQLField,
} from 'graphql';
import { HasuraError } from './errors.js';
import type { Column, Model, Permission, Relationship, Table } from './model.js';
import { findColumnByGqlOrSql } from './model.js';
import { metaOf, type RoleSchema } from './schema.js';

export interface Limits { maxDepth: number; maxRows: number }
export interface OutputOptions { stringifyNumeric: boolean; booleanNullCollapse: boolean }
export type Session = Record<string, string>; // lower-cased x-hasura-* keys

export const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const tableRef = (t: Table) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;

const DIRECTION: Record<string, string> = {
  asc: 'ASC NULLS LAST', asc_nulls_first: 'ASC NULLS FIRST', asc_nulls_last: 'ASC NULLS LAST',
  desc: 'DESC NULLS FIRST', desc_nulls_first: 'DESC NULLS FIRST', desc_nulls_last: 'DESC NULLS LAST',
};
const CMP: Record<string, string> = { _eq: '=', _neq: '<>', _gt: '>', _lt: '<', _gte: '>=', _lte: '<=' };
const TEXT_OPS: Record<string, string> = {
  _like: 'LIKE', _nlike: 'NOT LIKE', _ilike: 'ILIKE', _nilike: 'NOT ILIKE', _similar: 'SIMILAR TO', _nsimilar: 'NOT SIMILAR TO',
  _regex: '~', _iregex: '~*', _nregex: '!~', _niregex: '!~*',
};
const BIG_NUMS = new Set(['bigint', 'numeric', 'float8', 'money']);
const COLUMN_CMP: Record<string, string> = { _ceq: '=', _cne: '<>', _cgt: '>', _clt: '<', _cgte: '>=', _clte: '<=' };

/** A row in scope: `row` is an SQL expression of the table's composite type, `col` gives a column. */
interface RowCtx { row: string; col: (c: string) => string }
const tableCtx = (alias: string): RowCtx => ({ row: alias, col: (c) => `${alias}.${quoteIdent(c)}` });
const wholeRowCtx = (expr: string): RowCtx => ({ row: expr, col: (c) => `(${expr}).${quoteIdent(c)}` });

interface OrderItem { expr: string; dir: string }

export interface CompiledOperation {
  sql: string | null;           // null when nothing needs the database
  params: unknown[];
  rootKeys: string[];           // response keys in order
  introspection: FieldNode[];   // root fields answered by graphql-js (__schema, __type)
}

export class Compiler {
  private params: unknown[] = [];
  private paramIndex = new Map<string, number>();
  private aliasN = 0;

  constructor(
    private readonly model: Model,
    private readonly rs: RoleSchema,
    private readonly fragments: Record<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
    private readonly session: Session,
    private readonly limits: Limits,
    private readonly output: OutputOptions = { stringifyNumeric: false, booleanNullCollapse: false },
  ) {}

  private alias(p: string) { return `_${p}${++this.aliasN}`; }

  /** Adds a parameter and returns its placeholder, cast so Postgres never has to guess the type. */
  param(v: unknown, sqlType: string): string {
    this.params.push(v);
    return `$${this.params.length}::${sqlType}`;
  }
  /** JSON object keys repeat a lot (every row of every list): share one parameter per distinct key. */
  private keyParam(k: string): string {
    let i = this.paramIndex.get(k);
    if (i === undefined) { this.params.push(k); i = this.params.length; this.paramIndex.set(k, i); }
    return `$${i}::text`;
  }

  /** json_build_object is limited to 100 arguments; wider objects are spliced textually (keeps key order). */
  private jsonObject(pairs: [string, string][]): string {
    if (!pairs.length) return `'{}'::json`;
    const chunks: string[] = [];
    for (let i = 0; i < pairs.length; i += 50) {
      chunks.push(`json_build_object(${pairs.slice(i, i + 50).map(([k, v]) => `${this.keyParam(k)}, ${v}`).join(', ')})`);
    }
    if (chunks.length === 1) return chunks[0];
    return `(${chunks.map((c, i) => (i === 0 ? `left(${c}::text, -1)` : i === chunks.length - 1 ? `substr(${c}::text, 2)` : `substr(left(${c}::text, -1), 2)`)).join(` || ',' || `)})::json`;
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
      if (name === '__typename') { pairs.push([k, this.param(rootType.name, 'text')]); continue; }
      if (name === 'no_queries_available') { pairs.push([k, `''::text`]); continue; }
      const def = rootType.getFields()[name];
      const path = `$.selectionSet.${k}`;
      pairs.push([k, this.rootField(def, nodes, path)]);
    }
    const hasDb = pairs.length > 0;
    return { sql: hasDb ? `SELECT ${this.jsonObject(pairs)}::text AS data` : null, params: this.params, rootKeys: [...fields.keys()], introspection };
  }

  private args(def: GraphQLField<unknown, unknown>, node: FieldNode, path: string): Record<string, unknown> {
    try {
      return getArgumentValues(def, node, this.variables);
    } catch (e) {
      throw new HasuraError((e as Error).message, 'validation-failed', `${path}.args`);
    }
  }

  private perm(t: Table): Permission {
    const p = this.rs.perms.get(t.key);
    if (!p) throw new HasuraError(`no permission on table ${t.name}`, 'access-denied');
    return p;
  }

  private rootField(def: GraphQLField<unknown, unknown>, nodes: FieldNode[], path: string): string {
    const meta = metaOf(def);
    if (!meta || !('table' in meta)) throw new HasuraError(`field '${def.name}' not found in type: 'query_root'`, 'validation-failed', path);
    const t = meta.table;
    const args = this.args(def, nodes[0], path);
    const type = getNamedType(def.type) as GraphQLObjectType;
    if (meta.kind === 'select') return this.selectList(t, args, type, nodes, path, null, 1);
    if (meta.kind === 'aggregate') return this.selectAggregate(t, args, type, nodes, path, null, 1);
    // by_pk: permission limit does not apply (Hasura), the filter does.
    const a = this.alias('t');
    const ctx = tableCtx(a);
    const conds = t.pk.map((c) => `${ctx.col(c)} = ${this.param(args[t.columns.get(c)!.gqlName], t.columns.get(c)!.sqlType)}`);
    const pf = this.permFilter(t, ctx);
    if (pf) conds.push(pf);
    return `(SELECT ${this.objectJson(t, ctx, type, this.subFields(type, nodes), path, 2)} FROM ${tableRef(t)} AS ${a} WHERE ${conds.join(' AND ')} LIMIT 1)`;
  }

  // ---------- selections ----------
  private checkDepth(depth: number, path: string) {
    if (depth > this.limits.maxDepth) throw new HasuraError(`the query exceeds the maximum depth of ${this.limits.maxDepth}`, 'validation-failed', path);
  }

  /** FROM/WHERE/ORDER BY/LIMIT of a table selection with the standard 5 arguments; returns the inner SELECT. */
  private innerSelect(t: Table, args: Record<string, unknown>, path: string, join: ((c: RowCtx) => string) | null, cap: boolean): { sql: string; orderCols: OrderItem[] } {
    const p = this.perm(t);
    const a = this.alias('t');
    const ctx = tableCtx(a);
    const conds: string[] = [];
    if (join) conds.push(join(ctx));
    const pf = this.permFilter(t, ctx);
    if (pf) conds.push(pf);
    if (args.where != null) conds.push(this.boolExp(t, args.where as Record<string, unknown>, ctx, `${path}.args.where`, false));
    const order = args.order_by == null ? [] : this.orderBy(t, args.order_by as Record<string, unknown>[], ctx, `${path}.args.order_by`);
    let distinct = '';
    const don = args.distinct_on as string[] | null | undefined;
    if (don != null && don.length) {
      // Hasura: the first N order_by items must be exactly the distinct_on columns (as a set).
      if (order.length) {
        const dset = new Set(don.map((c) => ctx.col(c)));
        const head = order.slice(0, don.length).map((o) => o.expr);
        if (head.length < dset.size || !head.every((e) => dset.has(e)) || new Set(head).size !== dset.size) {
          throw new HasuraError('"distinct_on" columns must match initial "order_by" columns', 'validation-failed', `${path}.args`);
        }
      }
      distinct = `DISTINCT ON (${don.map((c) => ctx.col(c)).join(', ')}) `;
    }
    let limit: number | null = args.limit == null ? null : Number(args.limit);
    if (limit != null && limit < 0) throw new HasuraError('unexpected negative value for "limit"', 'validation-failed', `${path}.args.limit`);
    const offset = args.offset == null ? null : Number(args.offset);
    if (offset != null && (!Number.isSafeInteger(offset) || offset < 0)) throw new HasuraError('unexpected negative value for "offset"', 'validation-failed', `${path}.args.offset`);
    if (p.limit != null) limit = limit == null ? p.limit : Math.min(limit, p.limit);
    if (cap && this.limits.maxRows > 0) limit = limit == null ? this.limits.maxRows : Math.min(limit, this.limits.maxRows);
    const orderCols = order.map((o, i) => ({ expr: `o${i}`, dir: o.dir }));
    const sql = `SELECT ${distinct}${a} AS r${order.map((o, i) => `, ${o.expr} AS o${i}`).join('')} FROM ${tableRef(t)} AS ${a}`
      + (conds.length ? ` WHERE ${conds.join(' AND ')}` : '')
      + (order.length ? ` ORDER BY ${order.map((o) => `${o.expr} ${o.dir}`).join(', ')}` : '')
      + (limit != null ? ` LIMIT ${this.param(limit, 'bigint')}` : '')
      + (offset != null ? ` OFFSET ${this.param(offset, 'bigint')}` : '');
    return { sql, orderCols };
  }

  private selectList(t: Table, args: Record<string, unknown>, type: GraphQLObjectType, nodes: FieldNode[], path: string,
    join: ((c: RowCtx) => string) | null, depth: number): string {
    this.checkDepth(depth, path);
    const { sql, orderCols } = this.innerSelect(t, args, path, join, true);
    const s = this.alias('s');
    const obj = this.objectJson(t, wholeRowCtx(`${s}.r`), type, this.subFields(type, nodes), path, depth + 1);
    const ord = orderCols.length ? ` ORDER BY ${orderCols.map((o) => `${s}.${o.expr} ${o.dir}`).join(', ')}` : '';
    return `(SELECT coalesce(json_agg(${obj}${ord}), '[]'::json) FROM (${sql}) AS ${s})`;
  }

  private selectAggregate(t: Table, args: Record<string, unknown>, type: GraphQLObjectType, nodes: FieldNode[], path: string,
    join: ((c: RowCtx) => string) | null, depth: number): string {
    this.checkDepth(depth, path);
    const fields = this.subFields(type, nodes);
    const pairs: [string, string][] = [];
    for (const [k, fns] of fields) {
      const name = fns[0].name.value;
      const fpath = `${path}.selectionSet.${k}`;
      if (name === '__typename') { pairs.push([k, this.param(type.name, 'text')]); continue; }
      const def = type.getFields()[name];
      const m = metaOf(def);
      if (m?.kind === 'agg_nodes') {
        pairs.push([k, this.selectList(t, args, getNamedType(def.type) as GraphQLObjectType, fns, fpath, join, depth + 1)]);
      } else if (m?.kind === 'agg_aggregate') {
        // Aggregates see the whole filtered/limited set: no max-rows cap here (it would falsify counts).
        const { sql } = this.innerSelect(t, args, fpath, join, false);
        const s = this.alias('s');
        const aggType = getNamedType(def.type) as GraphQLObjectType;
        const obj = this.aggregateFieldsJson(t, aggType, this.subFields(aggType, fns), wholeRowCtx(`${s}.r`), `${s}.r`, fpath);
        pairs.push([k, `(SELECT ${obj} FROM (${sql}) AS ${s})`]);
      }
    }
    return this.jsonObject(pairs);
  }

  private aggregateFieldsJson(t: Table, type: GraphQLObjectType, fields: Map<string, FieldNode[]>, ctx: RowCtx, rowExpr: string, path: string): string {
    const pairs: [string, string][] = [];
    for (const [k, fns] of fields) {
      const name = fns[0].name.value;
      if (name === '__typename') { pairs.push([k, this.param(type.name, 'text')]); continue; }
      const def = type.getFields()[name];
      const m = metaOf(def)!;
      if (m.kind === 'agg_count') {
        const a = this.args(def, fns[0], `${path}.selectionSet.${k}`);
        const cols = ((a.columns as string[] | null) ?? []).map((c) => ctx.col(c));
        const distinct = a.distinct === true;
        if (!cols.length) pairs.push([k, distinct ? `count(DISTINCT ${rowExpr})` : 'count(*)']);
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
          if (cname === '__typename') { inner.push([ck, this.param(opType.name, 'text')]); continue; }
          const cm = metaOf(opType.getFields()[cname]);
          // Hasura stringifies by the column's type, for every operator (avg over bigint too, not over integer).
          if (cm?.kind === 'agg_col') inner.push([ck, this.jsonable(`${m.op}(${ctx.col(cm.column.name)})`, cm.column.scalar)]);
        }
        pairs.push([k, this.jsonObject(inner)]);
      }
    }
    return this.jsonObject(pairs);
  }

  /** json_build_object of one row's selected fields. */
  private objectJson(t: Table, ctx: RowCtx, type: GraphQLObjectType, fields: Map<string, FieldNode[]>, path: string, depth: number): string {
    this.checkDepth(depth, path);
    const pairs: [string, string][] = [];
    for (const [k, nodes] of fields) {
      const name = nodes[0].name.value;
      const fpath = `${path}.selectionSet.${k}`;
      if (name === '__typename') { pairs.push([k, this.param(type.name, 'text')]); continue; }
      const def = type.getFields()[name];
      const m = metaOf(def);
      if (!m) throw new HasuraError(`field '${name}' not found in type: '${type.name}'`, 'validation-failed', fpath);
      switch (m.kind) {
        case 'column': pairs.push([k, this.jsonable(ctx.col(m.column.name), m.column.scalar)]); break;
        case 'computed': pairs.push([k, this.jsonable(this.computedExpr(m.cf, ctx), m.cf.scalar)]); break;
        case 'objrel': {
          const tt = this.model.tables.get(m.rel.targetKey)!;
          const a = this.alias('t');
          const c2 = tableCtx(a);
          const conds = [this.joinCond(m.rel, ctx, c2)];
          const pf = this.permFilter(tt, c2);
          if (pf) conds.push(pf);
          const ot = getNamedType(def.type) as GraphQLObjectType;
          pairs.push([k, `(SELECT ${this.objectJson(tt, c2, ot, this.subFields(ot, nodes), fpath, depth + 1)} FROM ${tableRef(tt)} AS ${a} WHERE ${conds.join(' AND ')} LIMIT 1)`]);
          break;
        }
        case 'arrrel': case 'arrrel_agg': {
          const tt = this.model.tables.get(m.rel.targetKey)!;
          const args = this.args(def, nodes[0], fpath);
          const ot = getNamedType(def.type) as GraphQLObjectType;
          const join = (c2: RowCtx) => this.joinCond(m.rel, ctx, c2);
          pairs.push([k, m.kind === 'arrrel' ? this.selectList(tt, args, ot, nodes, fpath, join, depth + 1) : this.selectAggregate(tt, args, ot, nodes, fpath, join, depth + 1)]);
          break;
        }
        default: throw new HasuraError(`unexpected field ${name}`, 'unexpected', fpath);
      }
    }
    return this.jsonObject(pairs);
  }

  /** HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES: bigint, numeric, float8 and money leave as JSON strings (Translate/Column.hs). */
  private jsonable(expr: string, scalar: string): string {
    return this.output.stringifyNumeric && BIG_NUMS.has(scalar) ? `(${expr})::text` : expr;
  }

  private computedExpr(cf: { fnSchema: string; fnName: string; sessionArgument: boolean }, ctx: RowCtx): string {
    const fn = `${quoteIdent(cf.fnSchema)}.${quoteIdent(cf.fnName)}`;
    return cf.sessionArgument ? `${fn}(${ctx.row}, ${this.param(JSON.stringify(this.session), 'json')})` : `${fn}(${ctx.row})`;
  }

  private joinCond(rel: Relationship, parent: RowCtx, child: RowCtx): string {
    return rel.mapping.map(([l, r]) => `${child.col(r)} = ${parent.col(l)}`).join(' AND ');
  }

  // ---------- order_by ----------
  private orderBy(t: Table, items: Record<string, unknown>[], ctx: RowCtx, path: string): OrderItem[] {
    const out: OrderItem[] = [];
    for (const item of items) out.push(...this.orderItem(t, item, ctx, path));
    return out;
  }
  private orderItem(t: Table, item: Record<string, unknown>, ctx: RowCtx, path: string): OrderItem[] {
    const out: OrderItem[] = [];
    for (const [k, v] of Object.entries(item)) {
      if (v == null) continue;
      const col = this.visibleColumn(t, k);
      if (col) { out.push({ expr: ctx.col(col.name), dir: DIRECTION[v as string] }); continue; }
      const cf = t.computed.get(k);
      if (cf && this.perm(t).computedFields.has(k)) { out.push({ expr: this.computedExpr(cf, ctx), dir: DIRECTION[v as string] }); continue; }
      const rel = t.relationships.get(k);
      if (rel && rel.kind === 'object') {
        const tt = this.model.tables.get(rel.targetKey)!;
        const a = this.alias('t');
        const c2 = tableCtx(a);
        const conds = [this.joinCond(rel, ctx, c2)];
        const pf = this.permFilter(tt, c2);
        if (pf) conds.push(pf);
        for (const o of this.orderItem(tt, v as Record<string, unknown>, c2, `${path}.${k}`)) {
          // LEFT JOIN semantics: a missing related row sorts as NULL.
          out.push({ expr: `(SELECT ${o.expr} FROM ${tableRef(tt)} AS ${a} WHERE ${conds.join(' AND ')} LIMIT 1)`, dir: o.dir });
        }
        continue;
      }
      if (k.endsWith('_aggregate')) {
        const arel = t.relationships.get(k.slice(0, -'_aggregate'.length));
        if (arel && arel.kind === 'array') {
          const tt = this.model.tables.get(arel.targetKey)!;
          for (const [op, spec] of Object.entries(v as Record<string, unknown>)) {
            if (spec == null) continue;
            const sub = (agg: string) => {
              const a = this.alias('t');
              const c2 = tableCtx(a);
              const conds = [this.joinCond(arel, ctx, c2)];
              const pf = this.permFilter(tt, c2);
              if (pf) conds.push(pf);
              return `(SELECT ${agg.replace('%ROW%', a)} FROM ${tableRef(tt)} AS ${a} WHERE ${conds.join(' AND ')})`;
            };
            if (op === 'count') out.push({ expr: sub('count(*)'), dir: DIRECTION[spec as string] });
            else {
              for (const [c, d] of Object.entries(spec as Record<string, unknown>)) {
                if (d == null) continue;
                const colm = this.visibleColumn(tt, c)!;
                const a = this.alias('t');
                const c2 = tableCtx(a);
                const conds = [this.joinCond(arel, ctx, c2)];
                const pf = this.permFilter(tt, c2);
                if (pf) conds.push(pf);
                out.push({ expr: `(SELECT ${op}(${c2.col(colm.name)}) FROM ${tableRef(tt)} AS ${a} WHERE ${conds.join(' AND ')})`, dir: DIRECTION[d as string] });
              }
            }
          }
          continue;
        }
      }
      throw new HasuraError(`field '${k}' not found in type: '${t.base}_order_by'`, 'validation-failed', path);
    }
    return out;
  }

  private visibleColumn(t: Table, gqlName: string): Column | undefined {
    const p = this.perm(t);
    for (const c of t.columns.values()) if (c.gqlName === gqlName && p.columns.has(c.name)) return c;
    return undefined;
  }

  // ---------- boolean expressions ----------
  /** Permission filters are Hasura metadata bool_exps over SQL column names, with X-Hasura-* session values. */
  permFilter(t: Table, ctx: RowCtx): string | null {
    const p = this.perm(t);
    if (!p.filter || !Object.keys(p.filter).length) return null;
    return this.boolExp(t, p.filter, ctx, '$', true);
  }

  boolExp(t: Table, e: Record<string, unknown>, ctx: RowCtx, path: string, isPerm: boolean): string {
    if (e == null || typeof e !== 'object') throw new HasuraError(`expected an object for type '${t.base}_bool_exp', but found null`, 'validation-failed', path);
    const parts: string[] = [];
    for (const [k, v] of Object.entries(e)) {
      const p = `${path}.${k}`;
      if (v === null) throw new HasuraError(`unexpected null value for field '${k}'`, 'validation-failed', p);
      if (k === '_and' || k === '_or') {
        const l = (Array.isArray(v) ? v : [v]) as Record<string, unknown>[];
        if (!l.length) { parts.push(k === '_and' ? 'TRUE' : 'FALSE'); continue; }
        parts.push(`(${l.map((x, i) => this.boolExp(t, x, ctx, `${p}[${i}]`, isPerm)).join(k === '_and' ? ' AND ' : ' OR ')})`);
        continue;
      }
      if (k === '_not') { parts.push(`NOT (${this.boolExp(t, v as Record<string, unknown>, ctx, p, isPerm)})`); continue; }
      if (k === '_exists' && isPerm) {
        const ex = v as { _table: { schema?: string; name: string } | string; _where?: Record<string, unknown> };
        const q = typeof ex._table === 'string' ? { schema: 'public', name: ex._table } : { schema: ex._table.schema ?? 'public', name: ex._table.name };
        const tt = this.model.tables.get(`${q.schema}.${q.name}`)!;
        const a = this.alias('t');
        parts.push(`EXISTS (SELECT 1 FROM ${tableRef(tt)} AS ${a} WHERE ${this.boolExp(tt, ex._where ?? {}, tableCtx(a), p, true)})`);
        continue;
      }
      const colName = isPerm ? findColumnByGqlOrSql(t, k) : this.visibleColumn(t, k)?.name;
      if (colName) {
        const col = t.columns.get(colName)!;
        parts.push(this.comparison(ctx.col(col.name), col.sqlType, col.scalar, v as Record<string, unknown>, p, isPerm, t, ctx));
        continue;
      }
      const cf = t.computed.get(k);
      if (cf && (isPerm || this.perm(t).computedFields.has(k))) {
        parts.push(this.comparison(this.computedExpr(cf, ctx), cf.sqlType, cf.scalar, v as Record<string, unknown>, p, isPerm, t, ctx));
        continue;
      }
      const rel = t.relationships.get(k);
      if (rel && (isPerm || this.rs.perms.has(rel.targetKey))) {
        const tt = this.model.tables.get(rel.targetKey)!;
        const a = this.alias('t');
        const c2 = tableCtx(a);
        const conds = [this.joinCond(rel, ctx, c2)];
        // Role filters of the target apply inside the EXISTS for user filters; a permission filter that walks a
        // relationship is evaluated as written (Hasura does the same: no recursion into the target's own filter).
        if (!isPerm) { const pf = this.permFilter(tt, c2); if (pf) conds.push(pf); }
        const inner = this.boolExp(tt, v as Record<string, unknown>, c2, p, isPerm);
        if (inner !== 'TRUE') conds.push(inner);
        parts.push(`EXISTS (SELECT 1 FROM ${tableRef(tt)} AS ${a} WHERE ${conds.join(' AND ')})`);
        continue;
      }
      if (k.endsWith('_aggregate') && !isPerm) {
        const arel = t.relationships.get(k.slice(0, -'_aggregate'.length));
        if (arel && arel.kind === 'array' && this.rs.perms.has(arel.targetKey)) {
          parts.push(this.aggregatePredicate(arel, v as Record<string, unknown>, ctx, p));
          continue;
        }
      }
      throw new HasuraError(`field '${k}' not found in type: '${t.base}_bool_exp'`, 'validation-failed', p);
    }
    return parts.length ? (parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`) : 'TRUE';
  }

  private aggregatePredicate(rel: Relationship, v: Record<string, unknown>, parent: RowCtx, path: string): string {
    const entries = Object.entries(v).filter(([, x]) => x != null);
    if (entries.length !== 1) throw new HasuraError('exactly one predicate should be specified', 'validation-failed', path);
    const [fn, spec] = entries[0] as [string, { arguments?: string[] | string | null; distinct?: boolean | null; filter?: Record<string, unknown> | null; predicate: Record<string, unknown> }];
    const tt = this.model.tables.get(rel.targetKey)!;
    const a = this.alias('t');
    const c2 = tableCtx(a);
    const conds = [this.joinCond(rel, parent, c2)];
    const pf = this.permFilter(tt, c2);
    if (pf) conds.push(pf);
    if (spec.filter != null) conds.push(this.boolExp(tt, spec.filter, c2, `${path}.${fn}.filter`, false));
    const argCols = (spec.arguments == null ? [] : Array.isArray(spec.arguments) ? spec.arguments : [spec.arguments]).map((c) => c2.col(c));
    const d = spec.distinct ? 'DISTINCT ' : '';
    let agg: string; let sqlType: string; let scalar: string;
    if (fn === 'count') {
      agg = !argCols.length ? (d ? `count(DISTINCT ${a})` : 'count(*)') : argCols.length === 1 ? `count(${d}${argCols[0]})`
        : `count(${d}ROW(${argCols.join(', ')})) FILTER (WHERE ${argCols.map((c) => `${c} IS NOT NULL`).join(' AND ')})`;
      sqlType = 'bigint'; scalar = 'Int';
    } else {
      agg = `${fn}(${d}${argCols[0]})`; sqlType = 'boolean'; scalar = 'Boolean';
    }
    const sub = `(SELECT ${agg} FROM ${tableRef(tt)} AS ${a} WHERE ${conds.join(' AND ')})`;
    return this.comparison(sub, sqlType, scalar, spec.predicate, `${path}.${fn}.predicate`, false, tt, c2);
  }

  private value(v: unknown, isPerm: boolean, path: string): unknown {
    if (isPerm && typeof v === 'string' && /^x-hasura-/i.test(v)) {
      const sv = this.session[v.toLowerCase()];
      if (sv === undefined) throw new HasuraError(`missing session variable: "${v}"`, 'access-denied', path);
      return sv;
    }
    return v;
  }

  private comparison(lhs: string, sqlType: string, scalar: string, ops: Record<string, unknown>, path: string, isPerm: boolean, t: Table, ctx: RowCtx): string {
    if (ops == null || typeof ops !== 'object') throw new HasuraError(`expected an object for type '${scalar}_comparison_exp'`, 'validation-failed', path);
    const parts: string[] = [];
    for (const [op, raw] of Object.entries(ops)) {
      const p = `${path}.${op}`;
      if (raw === null) {
        // HASURA_GRAPHQL_V1_BOOLEAN_NULL_COLLAPSE: an operator given null is dropped, as in Hasura v1.
        if (this.output.booleanNullCollapse && !isPerm) continue;
        throw new HasuraError(`unexpected null value for type "${op === '_has_key' || op in TEXT_OPS ? 'String' : scalar}"`, 'validation-failed', p);
      }
      const v = this.value(raw, isPerm, p);
      const jsonParam = (x: unknown) => this.param(sqlType === 'jsonb' || sqlType === 'json' ? JSON.stringify(x) : x, sqlType);
      if (op in CMP) parts.push(`${lhs} ${CMP[op]} ${jsonParam(v)}`);
      else if (op === '_in' || op === '_nin') {
        const l = (Array.isArray(v) ? v : [v]).map((x) => this.value(x, isPerm, p));
        const arr = sqlType === 'jsonb' || sqlType === 'json' ? l.map((x) => JSON.stringify(x)) : l;
        parts.push(op === '_in' ? `${lhs} = ANY(${this.param(arr, `${sqlType}[]`)})` : `NOT (${lhs} = ANY(${this.param(arr, `${sqlType}[]`)}))`);
      } else if (op === '_is_null') parts.push(v === true ? `${lhs} IS NULL` : `${lhs} IS NOT NULL`);
      else if (op in TEXT_OPS) parts.push(`${lhs} ${TEXT_OPS[op]} ${this.param(v, 'text')}`);
      else if (op === '_contains') parts.push(`${lhs} @> ${jsonParam(v)}`);
      else if (op === '_contained_in') parts.push(`${lhs} <@ ${jsonParam(v)}`);
      else if (op === '_has_key') parts.push(`${lhs} ? ${this.param(v, 'text')}`);
      else if (op === '_has_keys_any') parts.push(`${lhs} ?| ${this.param(Array.isArray(v) ? v : [v], 'text[]')}`);
      else if (op === '_has_keys_all') parts.push(`${lhs} ?& ${this.param(Array.isArray(v) ? v : [v], 'text[]')}`);
      else if (op === '_cast') {
        for (const [target, sub] of Object.entries(v as Record<string, unknown>)) {
          if (target !== 'String') throw new HasuraError(`unsupported cast target ${target}`, 'validation-failed', p);
          parts.push(this.comparison(`(${lhs})::text`, 'text', 'String', sub as Record<string, unknown>, `${p}.${target}`, isPerm, t, ctx));
        }
      } else if (isPerm && op in COLUMN_CMP) {
        const other = Array.isArray(v) ? String(v[v.length - 1]) : String(v);
        const oc = findColumnByGqlOrSql(t, other);
        if (!oc) throw new HasuraError(`unknown column ${other} in ${op}`, 'validation-failed', p);
        parts.push(`${lhs} ${COLUMN_CMP[op]} ${ctx.col(oc)}`);
      } else throw new HasuraError(`field '${op}' not found in type: '${scalar}_comparison_exp'`, 'validation-failed', p);
    }
    return parts.length ? (parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`) : 'TRUE';
  }
}
