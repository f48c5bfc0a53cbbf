// Live catalog reader: columns (type, nullability), primary keys, foreign keys and functions of the schemas the
// metadata mentions. One round trip per kind of object, at start-up only.
import type pg from 'pg';

export interface CatalogColumn {
  name: string;
  typname: string;      // pg_type.typname, e.g. int4, timestamptz, _text
  sqlType: string;      // format_type without typmod: safe to use in casts ($1::<sqlType>)
  typtype: string;      // b base, e enum, d domain, c composite...
  category: string;     // pg_type.typcategory: N numeric, S string, ...
  notNull: boolean;
  comment: string | null;
  position: number;
}

export interface CatalogTable {
  schema: string;
  name: string;
  kind: string; // r table, v view, m materialized view, p partitioned, f foreign
  columns: Map<string, CatalogColumn>;
  primaryKey: string[];
  comment: string | null;
  // Foreign keys of this table: local columns -> referenced table/columns (ordered pairs).
  foreignKeys: { name: string; columns: string[]; refSchema: string; refTable: string; refColumns: string[] }[];
}

export interface CatalogFunction {
  schema: string;
  name: string;
  argTypes: { schema: string; typname: string; sqlType: string }[];
  argNames: string[];
  returnType: { schema: string; typname: string; sqlType: string; typtype: string; category: string };
  returnsSet: boolean;
  volatility: string; // i s v
  nDefaults: number;  // the last nDefaults input arguments have defaults
  comment: string | null;
}

export interface Catalog {
  tables: Map<string, CatalogTable>; // key "schema.name"
  functions: Map<string, CatalogFunction[]>; // overloads by "schema.name"
}

export const key = (schema: string, name: string) => `${schema}.${name}`;

export async function readCatalog(client: pg.ClientBase, schemas: string[]): Promise<Catalog> {
  const tables = new Map<string, CatalogTable>();
  const rels = await client.query(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r','v','m','p','f')`, [schemas]);
  for (const r of rels.rows) {
    tables.set(key(r.schema, r.name), { schema: r.schema, name: r.name, kind: r.kind, columns: new Map(), primaryKey: [], comment: r.comment, foreignKeys: [] });
  }
  const cols = await client.query(
    `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, t.typname, format_type(a.atttypid, NULL) AS sqltype,
            t.typtype, t.typcategory AS category, a.attnotnull AS notnull, col_description(c.oid, a.attnum) AS comment, a.attnum AS pos,
            bt.typname AS basetypname
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r','v','m','p','f') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`, [schemas]);
  for (const r of cols.rows) {
    const t = tables.get(key(r.schema, r.table));
    if (!t) continue;
    // A domain behaves like its base type for GraphQL purposes.
    t.columns.set(r.name, { name: r.name, typname: r.basetypname ?? r.typname, sqlType: r.sqltype, typtype: r.typtype, category: r.category, notNull: r.notnull, comment: r.comment, position: r.pos });
  }
  const cons = await client.query(
    `SELECT n.nspname AS schema, c.relname AS table, k.conname AS name, k.contype AS type,
            ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)::text[] AS cols,
            rn.nspname AS refschema, rc.relname AS reftable,
            ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)::text[] AS refcols
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_class rc ON rc.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND k.contype IN ('p','f')`, [schemas]);
  for (const r of cons.rows) {
    const t = tables.get(key(r.schema, r.table));
    if (!t) continue;
    if (r.type === 'p') t.primaryKey = r.cols;
    else t.foreignKeys.push({ name: r.name, columns: r.cols, refSchema: r.refschema, refTable: r.reftable, refColumns: r.refcols });
  }
  const functions = new Map<string, CatalogFunction[]>();
  const fns = await client.query(
    `SELECT n.nspname AS schema, p.proname AS name, p.proretset AS retset, p.provolatile AS volatility, p.pronargdefaults AS ndefaults,
            ARRAY(SELECT tn.nspname || '.' || t.typname || '|' || format_type(t.oid, NULL) FROM unnest(p.proargtypes) WITH ORDINALITY u(o, i)
                   JOIN pg_type t ON t.oid = u.o JOIN pg_namespace tn ON tn.oid = t.typnamespace ORDER BY u.i)::text[] AS args,
            coalesce(p.proargnames, '{}')::text[] AS argnames, p.proargmodes::text[] AS argmodes,
            rtn.nspname AS rschema, rt.typname AS rtypname, format_type(rt.oid, NULL) AS rsqltype, rt.typtype AS rtyptype, rt.typcategory AS rcategory,
            obj_description(p.oid, 'pg_proc') AS comment
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_type rt ON rt.oid = p.prorettype
       JOIN pg_namespace rtn ON rtn.oid = rt.typnamespace
      WHERE n.nspname = ANY($1::text[]) AND p.prokind = 'f'`, [schemas]);
  for (const r of fns.rows) {
    const k = key(r.schema, r.name);
    const argTypes = (r.args as string[]).map((s) => {
      const [qual, sqlType] = s.split('|');
      const dot = qual.indexOf('.');
      return { schema: qual.slice(0, dot), typname: qual.slice(dot + 1), sqlType };
    });
    const list = functions.get(k) ?? [];
    // Output-only argument modes would shift names; only IN args are in proargtypes.
    const inNames = (r.argnames as string[]).filter((_, i) => !r.argmodes || ['i', 'b', 'v'].includes(r.argmodes[i]));
    list.push({ schema: r.schema, name: r.name, argTypes, argNames: inNames, returnsSet: r.retset, volatility: r.volatility, comment: r.comment, nDefaults: Number(r.ndefaults),
      returnType: { schema: r.rschema, typname: r.rtypname, sqlType: r.rsqltype, typtype: r.rtyptype, category: r.rcategory } });
    functions.set(k, list);
  }
  return { tables, functions };
}
