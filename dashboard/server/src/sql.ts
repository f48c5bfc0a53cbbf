// SQL text building blocks shared by the compiler modules: quoting, parameters, aliases, JSON objects, and the one
// pattern every nested read uses — "rows of a table (or of a set-returning function) in scope, joined to the parent
// row, restricted by the role's filter" (Scope).
import type { Table } from './model.js';

export const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
export const tableRef = (t: Table) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;

/** A row in scope: `row` is an SQL expression of the table's composite type, `col` gives a column. */
export interface RowCtx { row: string; col: (c: string) => string }
export const tableCtx = (alias: string): RowCtx => ({ row: alias, col: (c) => `${alias}.${quoteIdent(c)}` });
export const wholeRowCtx = (expr: string): RowCtx => ({ row: expr, col: (c) => `(${expr}).${quoteIdent(c)}` });

/** Where a table's rows come from: the table itself, or a SETOF function returning its row type. */
export interface Source { table: Table; from: string }
export const tableSource = (t: Table): Source => ({ table: t, from: tableRef(t) });

/** Rows of a source under an alias, with the conditions gathered so far (join to the parent, role filter, ...). */
export interface Scope { source: Source; alias: string; ctx: RowCtx; conds: string[] }

export const where = (conds: string[]) => (conds.length ? ` WHERE ${conds.join(' AND ')}` : '');
export const and = (parts: string[]) => (parts.length ? (parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`) : 'TRUE');

/** A scalar subquery over a scope: `(SELECT <select> FROM <source> AS a WHERE ... <tail>)`. */
export const subquery = (s: Scope, select: string, tail = '') => `(SELECT ${select} FROM ${s.source.from} AS ${s.alias}${where(s.conds)}${tail})`;

export class SqlBuilder {
  readonly params: unknown[] = [];
  private keyIndex = new Map<string, number>();
  private aliasN = 0;

  alias(prefix: string) { return `_${prefix}${++this.aliasN}`; }

  /** Adds a parameter and returns its placeholder, cast so Postgres never has to guess the type. */
  param(v: unknown, sqlType: string): string {
    this.params.push(v);
    return `$${this.params.length}::${sqlType}`;
  }

  /** JSON object keys repeat a lot (every row of every list): one parameter per distinct key. */
  keyParam(k: string): string {
    let i = this.keyIndex.get(k);
    if (i === undefined) { this.params.push(k); i = this.params.length; this.keyIndex.set(k, i); }
    return `$${i}::text`;
  }

  /** json_build_object is limited to 100 arguments; wider objects are spliced textually (keeps key order). */
  jsonObject(pairs: [string, string][]): string {
    if (!pairs.length) return `'{}'::json`;
    const chunks: string[] = [];
    for (let i = 0; i < pairs.length; i += 50) {
      chunks.push(`json_build_object(${pairs.slice(i, i + 50).map(([k, v]) => `${this.keyParam(k)}, ${v}`).join(', ')})`);
    }
    if (chunks.length === 1) return chunks[0];
    return `(${chunks.map((c, i) => (i === 0 ? `left(${c}::text, -1)` : i === chunks.length - 1 ? `substr(${c}::text, 2)` : `substr(left(${c}::text, -1), 2)`)).join(` || ',' || `)})::json`;
  }
}
