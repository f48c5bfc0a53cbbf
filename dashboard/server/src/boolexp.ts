// Boolean expressions: GraphQL `where` arguments and the metadata's permission filters (Hasura's bool_exp).
// Permission filters additionally accept what Hasura's metadata parser accepts: SQL column names, the `{col: value}`
// shorthand for `_eq`, `X-Hasura-*` session variables as the value of any operator (and inside `_in` lists),
// `_exists`, and the column operators `_ceq`... whose right side is a column of the same row or, as `["$", col]`,
// of the row the permission is defined on.
import { HasuraError } from './errors.js';
import type { Column, ComputedField, Model, Permission, Relationship, Table } from './model.js';
import { findColumnByGqlOrSql, inputArgs } from './model.js';
import type { RoleSchema } from './schema.js';
import { columnValue } from './scalars.js';
import { and, subquery, tableSource, type RowCtx, type Scope, type Source, type SqlBuilder } from './sql.js';

export type Session = Record<string, string>; // lower-cased x-hasura-* keys
export interface OutputOptions { stringifyNumeric: boolean; booleanNullCollapse: boolean }

/** What boolean expressions (and order_by) need from the compiler. */
export interface CompileContext {
  readonly model: Model;
  readonly rs: RoleSchema;
  readonly session: Session;
  readonly sql: SqlBuilder;
  readonly output: OutputOptions;
  /** Session variables a permission filter needs but the request lacks. */
  readonly missingSession: Set<string>;
  perm(t: Table): Permission;
  visibleColumn(t: Table, gqlName: string): Column | undefined;
  /** Rows of `src` under a fresh alias, joined to a parent, with the role's filter unless `perm: false`. */
  scope(src: Source, join?: (c: RowCtx) => string, perm?: boolean): Scope;
  relationScope(rel: Relationship, parent: RowCtx, perm?: boolean): Scope;
  computedScalar(cf: ComputedField, row: RowCtx, args?: Record<string, unknown>): string;
  computedSource(cf: ComputedField, row: RowCtx, args?: Record<string, unknown>): Source;
}

const CMP: Record<string, string> = { _eq: '=', _neq: '<>', _gt: '>', _lt: '<', _gte: '>=', _lte: '<=' };
const TEXT_OPS: Record<string, string> = {
  _like: 'LIKE', _nlike: 'NOT LIKE', _ilike: 'ILIKE', _nilike: 'NOT ILIKE', _similar: 'SIMILAR TO', _nsimilar: 'NOT SIMILAR TO',
  _regex: '~', _iregex: '~*', _nregex: '!~', _niregex: '!~*',
};
const COLUMN_CMP: Record<string, string> = { _ceq: '=', _cne: '<>', _cneq: '<>', _cgt: '>', _clt: '<', _cgte: '>=', _clte: '<=' };

/** The operand of a comparison: an SQL expression with its types. */
interface Operand { lhs: string; sqlType: string; scalar: string; castable: boolean }

/** Permission mode: the row the permission is defined on (for `["$", col]`). */
interface PermMode { root: RowCtx; rootTable: Table }

/** Hasura's metadata also accepts operators spelled with `$` (`$or`, `$eq`, `$has_key`, `$cgt`, ...). */
export const normalizeOperator = (k: string) => (k.startsWith('$') ? `_${k.slice(1)}` : k);

const isSessionVar = (v: unknown): v is string => typeof v === 'string' && /^x-hasura-/i.test(v);
const isJson = (sqlType: string) => sqlType === 'jsonb' || sqlType === 'json';

export class BoolExp {
  constructor(private readonly c: CompileContext) {}

  /** The role's row filter on `t` for the row `ctx`, or null when the role sees every row. */
  permFilter(t: Table, ctx: RowCtx): string | null {
    const p = this.c.perm(t);
    if (!p.filter || !Object.keys(p.filter).length) return null;
    return this.compile(t, p.filter, ctx, '$', { root: ctx, rootTable: t });
  }

  /** `perm` set: a metadata permission filter (trusted shape, session variables); unset: a user's `where`. */
  compile(t: Table, e: Record<string, unknown>, ctx: RowCtx, path: string, perm?: PermMode): string {
    if (e == null || typeof e !== 'object' || Array.isArray(e)) throw new HasuraError(`expected an object for type '${t.base}_bool_exp', but found ${e === null ? 'null' : typeof e}`, 'validation-failed', path);
    const parts: string[] = [];
    for (const [rawKey, v] of Object.entries(e)) {
      const k = perm ? normalizeOperator(rawKey) : rawKey;
      const p = `${path}.${k}`;
      if (v === null) throw new HasuraError(`unexpected null value for field '${k}'`, 'validation-failed', p);
      if (k === '_and' || k === '_or') {
        const l = (Array.isArray(v) ? v : [v]) as Record<string, unknown>[];
        if (!l.length) { parts.push(k === '_and' ? 'TRUE' : 'FALSE'); continue; }
        parts.push(`(${l.map((x, i) => this.compile(t, x, ctx, `${p}[${i}]`, perm)).join(k === '_and' ? ' AND ' : ' OR ')})`);
        continue;
      }
      if (k === '_not') { parts.push(`NOT (${this.compile(t, v as Record<string, unknown>, ctx, p, perm)})`); continue; }
      if (k === '_exists' && perm) {
        const ex = v as { _table: { schema?: string; name: string } | string; _where?: Record<string, unknown> };
        const q = typeof ex._table === 'string' ? { schema: 'public', name: ex._table } : { schema: ex._table.schema ?? 'public', name: ex._table.name };
        const tt = this.c.model.tables.get(`${q.schema}.${q.name}`)!;
        const s = this.c.scope(tableSource(tt), undefined, false);
        s.conds.push(this.compile(tt, ex._where ?? {}, s.ctx, p, perm));
        parts.push(`EXISTS ${subquery(s, '1')}`);
        continue;
      }
      const colName = perm ? findColumnByGqlOrSql(t, k) : this.c.visibleColumn(t, k)?.name;
      if (colName) {
        const col = t.columns.get(colName)!;
        parts.push(this.comparison({ lhs: ctx.col(col.name), sqlType: col.sqlType, scalar: col.scalar, castable: col.castable }, v, p, t, ctx, perm));
        continue;
      }
      const cf = t.computed.get(k);
      if (cf && !inputArgs(cf).length && (perm || this.c.perm(t).computedFields.has(k))) {
        if (cf.returnsTable) {
          const tt = this.c.model.tables.get(cf.returnsTable)!;
          if (perm || this.c.rs.perms.has(tt.key)) {
            parts.push(this.exists(this.c.scope(this.c.computedSource(cf, ctx), undefined, !perm), tt, v, p, perm));
            continue;
          }
        } else {
          parts.push(this.comparison({ lhs: this.c.computedScalar(cf, ctx), sqlType: cf.sqlType, scalar: cf.scalar, castable: cf.castable }, v, p, t, ctx, perm));
          continue;
        }
      }
      const rel = t.relationships.get(k);
      if (rel && (perm || this.c.rs.perms.has(rel.targetKey))) {
        // The target's role filter applies inside the EXISTS for user filters; a permission filter that walks a
        // relationship is evaluated as written (Hasura does the same: no recursion into the target's own filter).
        parts.push(this.exists(this.c.relationScope(rel, ctx, !perm), this.c.model.tables.get(rel.targetKey)!, v, p, perm));
        continue;
      }
      if (k.endsWith('_aggregate') && !perm) {
        const arel = t.relationships.get(k.slice(0, -'_aggregate'.length));
        if (arel && arel.kind === 'array' && this.c.rs.perms.has(arel.targetKey)) {
          parts.push(this.aggregatePredicate(arel, v as Record<string, unknown>, ctx, p));
          continue;
        }
      }
      throw new HasuraError(`field '${k}' not found in type: '${t.base}_bool_exp'`, 'validation-failed', p);
    }
    return and(parts);
  }

  /** `{rel: exp}`: a related row (visible to the role, for user filters) exists and satisfies `exp`. */
  private exists(s: Scope, target: Table, v: unknown, path: string, perm?: PermMode): string {
    const inner = this.compile(target, v as Record<string, unknown>, s.ctx, path, perm);
    if (inner !== 'TRUE') s.conds.push(inner);
    return `EXISTS ${subquery(s, '1')}`;
  }

  private aggregatePredicate(rel: Relationship, v: Record<string, unknown>, parent: RowCtx, path: string): string {
    const entries = Object.entries(v).filter(([, x]) => x != null);
    if (entries.length !== 1) throw new HasuraError('exactly one predicate should be specified', 'validation-failed', path);
    const [fn, spec] = entries[0] as [string, { arguments?: string[] | string | null; distinct?: boolean | null; filter?: Record<string, unknown> | null; predicate: Record<string, unknown> }];
    const tt = this.c.model.tables.get(rel.targetKey)!;
    const s = this.c.relationScope(rel, parent);
    if (spec.filter != null) s.conds.push(this.compile(tt, spec.filter, s.ctx, `${path}.${fn}.filter`));
    const argCols = (spec.arguments == null ? [] : Array.isArray(spec.arguments) ? spec.arguments : [spec.arguments]).map((col) => s.ctx.col(col));
    const d = spec.distinct ? 'DISTINCT ' : '';
    let agg: string; let sqlType: string; let scalar: string;
    if (fn === 'count') {
      agg = !argCols.length ? (d ? `count(DISTINCT ${s.alias})` : 'count(*)') : argCols.length === 1 ? `count(${d}${argCols[0]})`
        : `count(${d}ROW(${argCols.join(', ')})) FILTER (WHERE ${argCols.map((col) => `${col} IS NOT NULL`).join(' AND ')})`;
      sqlType = 'bigint'; scalar = 'Int';
    } else {
      agg = `${fn}(${d}${argCols[0]})`; sqlType = 'boolean'; scalar = 'Boolean';
    }
    return this.comparison({ lhs: subquery(s, agg), sqlType, scalar, castable: false }, spec.predicate, `${path}.${fn}.predicate`, tt, s.ctx);
  }

  /** A session variable's value, or the literal itself (a string given for an Int/Float column as its text). */
  private value(v: unknown, perm: PermMode | undefined): unknown {
    v = columnValue(v);
    if (perm && isSessionVar(v)) {
      const sv = this.c.session[v.toLowerCase()];
      // Collected and reported together once the operation is compiled (Hasura: validateSessionVariables).
      if (sv === undefined) { this.c.missingSession.add(v.toLowerCase()); return null; }
      return sv;
    }
    return v;
  }

  /** A list operand: a JSON list (elements may be session variables), or one session variable holding a list. */
  private listValue(v: unknown, perm: PermMode | undefined, path: string): { values?: unknown[]; literal?: string } {
    if (perm && isSessionVar(v)) {
      const sv = String(this.value(v, perm) ?? '{}');
      // Hasura's format for list-valued session variables is a Postgres array literal ({1,2,3}); JSON lists too.
      if (sv.trim().startsWith('[')) {
        try { return { values: JSON.parse(sv) as unknown[] }; } catch { throw new HasuraError(`session variable "${v}" is not a list`, 'data-exception', path); }
      }
      return { literal: sv };
    }
    return { values: (Array.isArray(v) ? v : [v]).map((x) => this.value(x, perm)) };
  }

  comparison(o: Operand, ops: unknown, path: string, t: Table, ctx: RowCtx, perm?: PermMode): string {
    // Permission filters: a value that is not an operator object is Hasura's shorthand for {_eq: value}.
    if (perm && (ops === null || typeof ops !== 'object' || Array.isArray(ops))) ops = { _eq: ops };
    if (ops == null || typeof ops !== 'object') throw new HasuraError(`expected an object for type '${o.scalar}_comparison_exp'`, 'validation-failed', path);
    const sql = this.c.sql;
    const parts: string[] = [];
    const json = isJson(o.sqlType);
    // Session variables are text: for json columns they hold the JSON text itself.
    const operand = (x: unknown, raw: unknown) => sql.param(json && !(perm && isSessionVar(raw)) ? JSON.stringify(x) : x, o.sqlType);
    for (const [rawOp, raw] of Object.entries(ops as Record<string, unknown>)) {
      const op = perm ? normalizeOperator(rawOp) : rawOp;
      const p = `${path}.${op}`;
      if (raw === null) {
        // HASURA_GRAPHQL_V1_BOOLEAN_NULL_COLLAPSE: an operator given null is dropped, as in Hasura v1.
        if (this.c.output.booleanNullCollapse && !perm) continue;
        throw new HasuraError(`unexpected null value for type "${op === '_has_key' || op in TEXT_OPS ? 'String' : o.scalar}"`, 'validation-failed', p);
      }
      if (op in CMP) { parts.push(`${o.lhs} ${CMP[op]} ${operand(this.value(raw, perm), raw)}`); continue; }
      if (op === '_in' || op === '_nin') {
        const l = this.listValue(raw, perm, p);
        const arr = l.literal !== undefined ? sql.param(l.literal, `${o.sqlType}[]`) : sql.param(json ? l.values!.map((x) => JSON.stringify(x)) : l.values, `${o.sqlType}[]`);
        parts.push(op === '_in' ? `${o.lhs} = ANY(${arr})` : `NOT (${o.lhs} = ANY(${arr}))`);
        continue;
      }
      if (op === '_is_null') { parts.push(raw === true ? `${o.lhs} IS NULL` : `${o.lhs} IS NOT NULL`); continue; }
      if (op in TEXT_OPS) { parts.push(`${o.lhs} ${TEXT_OPS[op]} ${sql.param(this.value(raw, perm), 'text')}`); continue; }
      if (op === '_contains') { parts.push(`${o.lhs} @> ${operand(this.value(raw, perm), raw)}`); continue; }
      if (op === '_contained_in') { parts.push(`${o.lhs} <@ ${operand(this.value(raw, perm), raw)}`); continue; }
      if (op === '_has_key') { parts.push(`${o.lhs} ? ${sql.param(this.value(raw, perm), 'text')}`); continue; }
      // SQL/JSON path (jsonb @? / @@: structural errors make the row not match instead of failing the query).
      if (op === '_jsonb_path_exists') { parts.push(`${o.lhs} @? ${sql.param(this.value(raw, perm), 'jsonpath')}`); continue; }
      if (op === '_jsonb_path_match') { parts.push(`${o.lhs} @@ ${sql.param(this.value(raw, perm), 'jsonpath')}`); continue; }
      if (op === '_has_keys_any' || op === '_has_keys_all') {
        const l = this.listValue(raw, perm, p);
        parts.push(`${o.lhs} ${op === '_has_keys_any' ? '?|' : '?&'} ${sql.param(l.literal ?? l.values, 'text[]')}`);
        continue;
      }
      if (op === '_cast') {
        if (!o.castable) throw new HasuraError(`field '_cast' not found in type: '${o.scalar}_comparison_exp'`, 'validation-failed', p);
        for (const [target, sub] of Object.entries(raw as Record<string, unknown>)) {
          if (target !== 'String') throw new HasuraError(`field '${target}' not found in type: '${o.scalar}_cast_exp'`, 'validation-failed', `${p}.${target}`);
          if (sub == null) continue;
          // Postgres' own text form: money as lc_monetary prints it, timetz with its offset, char(n) without padding.
          parts.push(this.comparison({ lhs: `(${o.lhs})::text`, sqlType: 'text', scalar: 'String', castable: false }, sub, `${p}.${target}`, t, ctx, perm));
        }
        continue;
      }
      if (perm && op in COLUMN_CMP) {
        // Right side: a column of this row, or ["$", col] for the row the permission is defined on.
        const ref = Array.isArray(raw) ? raw.map(String) : [String(raw)];
        const onRoot = ref.length === 2 && ref[0] === '$';
        const tbl = onRoot ? perm.rootTable : t;
        const rowCtx = onRoot ? perm.root : ctx;
        const oc = findColumnByGqlOrSql(tbl, ref[ref.length - 1]);
        if (!oc) throw new HasuraError(`unknown column ${ref.join('.')} in ${op}`, 'validation-failed', p);
        parts.push(`${o.lhs} ${COLUMN_CMP[op]} ${rowCtx.col(oc)}`);
        continue;
      }
      throw new HasuraError(`field '${op}' not found in type: '${o.scalar}_comparison_exp'`, 'validation-failed', p);
    }
    return and(parts);
  }
}
