// order_by: columns, scalar computed fields, object relationships (a missing related row sorts as NULL) and
// array-relationship aggregates, each related lookup restricted by the role's filter on the target.
import type { CompileContext } from './boolexp.js';
import { HasuraError } from './errors.js';
import { inputArgs, type Table } from './model.js';
import { subquery, type RowCtx } from './sql.js';

export const DIRECTION: Record<string, string> = {
  asc: 'ASC NULLS LAST', asc_nulls_first: 'ASC NULLS FIRST', asc_nulls_last: 'ASC NULLS LAST',
  desc: 'DESC NULLS FIRST', desc_nulls_first: 'DESC NULLS FIRST', desc_nulls_last: 'DESC NULLS LAST',
};

export interface OrderItem { expr: string; dir: string }

export function orderBy(c: CompileContext, t: Table, items: Record<string, unknown>[], ctx: RowCtx, path: string): OrderItem[] {
  return items.flatMap((item) => orderItem(c, t, item, ctx, path));
}

function orderItem(c: CompileContext, t: Table, item: Record<string, unknown>, ctx: RowCtx, path: string): OrderItem[] {
  const out: OrderItem[] = [];
  for (const [k, v] of Object.entries(item)) {
    if (v == null) continue;
    const col = c.visibleColumn(t, k);
    if (col) { out.push({ expr: ctx.col(col.name), dir: DIRECTION[v as string] }); continue; }
    const cf = t.computed.get(k);
    if (cf && !cf.returnsTable && !inputArgs(cf).length && c.perm(t).computedFields.has(k)) {
      out.push({ expr: c.computedScalar(cf, ctx), dir: DIRECTION[v as string] });
      continue;
    }
    const rel = t.relationships.get(k);
    if (rel && rel.kind === 'object' && c.rs.perms.has(rel.targetKey)) {
      const tt = c.model.tables.get(rel.targetKey)!;
      const s = c.relationScope(rel, ctx);
      for (const o of orderItem(c, tt, v as Record<string, unknown>, s.ctx, `${path}.${k}`)) {
        out.push({ expr: subquery(s, o.expr, ' LIMIT 1'), dir: o.dir });
      }
      continue;
    }
    const arel = k.endsWith('_aggregate') ? t.relationships.get(k.slice(0, -'_aggregate'.length)) : undefined;
    if (arel && arel.kind === 'array' && c.rs.perms.get(arel.targetKey)?.allowAggregations) {
      const tt = c.model.tables.get(arel.targetKey)!;
      for (const [op, spec] of Object.entries(v as Record<string, unknown>)) {
        if (spec == null) continue;
        if (op === 'count') { out.push({ expr: subquery(c.relationScope(arel, ctx), 'count(*)'), dir: DIRECTION[spec as string] }); continue; }
        for (const [cn, d] of Object.entries(spec as Record<string, unknown>)) {
          if (d == null) continue;
          const s = c.relationScope(arel, ctx);
          out.push({ expr: subquery(s, `${op}(${s.ctx.col(c.visibleColumn(tt, cn)!.name)})`), dir: DIRECTION[d as string] });
        }
      }
      continue;
    }
    throw new HasuraError(`field '${k}' not found in type: '${t.base}_order_by'`, 'validation-failed', path);
  }
  return out;
}
