// Builds the Hasura v2 GraphQL schema a role sees (type names, field names, arguments and descriptions as Hasura
// generates them). Each output field carries `extensions.es` telling the SQL compiler what it maps to, so the
// compiler never has to re-derive the model from names.
import {
  GraphQLBoolean, GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull,
  GraphQLObjectType, GraphQLScalarType, GraphQLSchema, GraphQLString, valueFromASTUntyped,
  type GraphQLFieldConfig, type GraphQLFieldConfigArgumentMap, type GraphQLInputFieldConfig, type GraphQLInputType,
  type GraphQLOutputType, type ThunkObjMap,
} from 'graphql';
import { FLOAT, INT } from './scalars.js';
import { inputArgs, permissionFor, type Column, type ComputedField, type Model, type Permission, type Relationship, type Table } from './model.js';

export type FieldMeta =
  | { kind: 'select' | 'by_pk' | 'aggregate' | 'stream'; table: Table }
  | { kind: 'column'; column: Column }
  | { kind: 'computed' | 'computed_set' | 'computed_set_agg'; cf: ComputedField }
  | { kind: 'objrel' | 'arrrel' | 'arrrel_agg'; rel: Relationship }
  | { kind: 'agg_aggregate' | 'agg_nodes' | 'agg_count' }
  | { kind: 'agg_op'; op: string }
  | { kind: 'agg_col'; column: Column };

export const metaOf = (f: { extensions?: unknown }): FieldMeta | undefined =>
  (f.extensions as { es?: FieldMeta } | undefined)?.es;

export const NUMERIC_OPS = ['sum', 'avg', 'stddev', 'stddev_pop', 'stddev_samp', 'var_pop', 'var_samp', 'variance'];
export const AGG_OPS = ['sum', 'avg', 'max', 'min', 'stddev', 'stddev_pop', 'stddev_samp', 'var_pop', 'var_samp', 'variance'];

export interface RoleSchema {
  role: string;
  schema: GraphQLSchema;
  /** Tables visible to the role, by key, with the role's permission. */
  perms: Map<string, Permission>;
}

const ORDER_BY = new GraphQLEnumType({
  name: 'order_by',
  description: 'column ordering options',
  values: {
    asc: { value: 'asc', description: 'in ascending order, nulls last' },
    asc_nulls_first: { value: 'asc_nulls_first', description: 'in ascending order, nulls first' },
    asc_nulls_last: { value: 'asc_nulls_last', description: 'in ascending order, nulls last' },
    desc: { value: 'desc', description: 'in descending order, nulls first' },
    desc_nulls_first: { value: 'desc_nulls_first', description: 'in descending order, nulls first' },
    desc_nulls_last: { value: 'desc_nulls_last', description: 'in descending order, nulls last' },
  },
});

const CURSOR_ORDERING = new GraphQLEnumType({
  name: 'cursor_ordering',
  description: 'ordering argument of a cursor',
  values: { ASC: { value: 'ASC', description: 'ascending ordering of the cursor' }, DESC: { value: 'DESC', description: 'descending ordering of the cursor' } },
});

const nn = <T extends GraphQLOutputType | GraphQLInputType>(t: T) => new GraphQLNonNull(t as never) as unknown as T;
const list = <T extends GraphQLOutputType | GraphQLInputType>(t: T) => new GraphQLList(t as never) as unknown as T;

export function buildRoleSchema(model: Model, role: string): RoleSchema {
  const perms = new Map<string, Permission>();
  for (const t of model.tables.values()) {
    const p = permissionFor(t, role);
    if (p) perms.set(t.key, p);
  }
  const scalars = new Map<string, GraphQLScalarType>([['Int', INT], ['Float', FLOAT], ['String', GraphQLString], ['Boolean', GraphQLBoolean]]);
  const scalar = (name: string): GraphQLScalarType => {
    let s = scalars.get(name);
    if (!s) {
      // Hasura's non-builtin scalars travel as JSON: accept any literal/variable value and let Postgres cast it.
      s = new GraphQLScalarType({ name, serialize: (v) => v, parseValue: (v) => v, parseLiteral: (ast, vars) => valueFromASTUntyped(ast, vars) });
      scalars.set(name, s);
    }
    return s;
  };
  const cache = new Map<string, unknown>();
  const once = <T>(name: string, make: () => T): T => {
    if (!cache.has(name)) cache.set(name, make());
    return cache.get(name) as T;
  };

  const comparisonExp = (sc: string, stringLike: boolean, jsonb: boolean, castable = false): GraphQLInputObjectType => once(`${sc}_comparison_exp`, () => {
    const S = scalar(sc);
    return new GraphQLInputObjectType({
      name: `${sc}_comparison_exp`,
      description: `Boolean expression to compare columns of type "${sc}". All fields are combined with logical 'AND'.`,
      fields: () => {
        const f: ThunkObjMap<GraphQLInputFieldConfig> = {} as never;
        const m = f as Record<string, GraphQLInputFieldConfig>;
        if (castable || jsonb) {
          m._cast = { type: once(`${sc}_cast_exp`, () => new GraphQLInputObjectType({ name: `${sc}_cast_exp`, fields: () => ({ String: { type: comparisonExp('String', true, false) } }) })) };
        }
        if (jsonb) {
          m._contained_in = { type: S, description: 'is the column contained in the given json value' };
          m._contains = { type: S, description: 'does the column contain the given json value at the top level' };
        }
        m._eq = { type: S };
        m._gt = { type: S };
        m._gte = { type: S };
        if (jsonb) {
          m._has_key = { type: GraphQLString, description: 'does the string exist as a top-level key in the column' };
          m._has_keys_all = { type: list(nn(GraphQLString)), description: 'do all of these strings exist as top-level keys in the column' };
          m._has_keys_any = { type: list(nn(GraphQLString)), description: 'do any of these strings exist as top-level keys in the column' };
          m._jsonb_path_exists = { type: GraphQLString, description: 'does the column have an item matching the given JSON path' };
          m._jsonb_path_match = { type: GraphQLString, description: 'is the given JSON path predicate true for the column' };
        }
        if (stringLike) {
          m._ilike = { type: S, description: 'does the column match the given case-insensitive pattern' };
        }
        m._in = { type: list(nn(S)) };
        if (stringLike) {
          m._iregex = { type: S, description: 'does the column match the given POSIX regular expression, case insensitive' };
        }
        m._is_null = { type: GraphQLBoolean };
        if (stringLike) m._like = { type: S, description: 'does the column match the given pattern' };
        m._lt = { type: S };
        m._lte = { type: S };
        m._neq = { type: S };
        if (stringLike) {
          m._nilike = { type: S, description: 'does the column NOT match the given case-insensitive pattern' };
        }
        m._nin = { type: list(nn(S)) };
        if (stringLike) {
          m._niregex = { type: S, description: 'does the column NOT match the given POSIX regular expression, case insensitive' };
          m._nlike = { type: S, description: 'does the column NOT match the given pattern' };
          m._nregex = { type: S, description: 'does the column NOT match the given POSIX regular expression, case sensitive' };
          m._nsimilar = { type: S, description: 'does the column NOT match the given SQL regular expression' };
          m._regex = { type: S, description: 'does the column match the given POSIX regular expression, case sensitive' };
          m._similar = { type: S, description: 'does the column match the given SQL regular expression' };
        }
        return f;
      },
    });
  });

  const tableOf = (k: string) => model.tables.get(k)!;
  const visibleCols = (t: Table) => [...t.columns.values()].filter((c) => perms.get(t.key)!.columns.has(c.name));
  // Computed fields the role may select: listed in its permission, and for SETOF ones the role must see the target.
  const visibleCfs = (t: Table) => [...t.computed.values()].filter((c) => perms.get(t.key)!.computedFields.has(c.name) && (!c.returnsTable || perms.has(c.returnsTable)));
  // Usable in where / order_by: no arguments besides the row and the session (Hasura).
  const filterableCfs = (t: Table) => visibleCfs(t).filter((c) => !inputArgs(c).length);
  // A role granted no column (Hasura allows columns: [] with allow_aggregations, to expose count only) has no
  // object type for the table: no select root field, no relationship to it, an aggregate without nodes.
  const selectable = (t: Table) => visibleCols(t).length > 0;
  const visibleRels = (t: Table) => [...t.relationships.values()].filter((r) => perms.has(r.targetKey) && selectable(tableOf(r.targetKey)));
  const aggAllowed = (k: string) => !!perms.get(k)?.allowAggregations;

  const selectColumn = (t: Table) => once(`${t.base}_select_column`, () => new GraphQLEnumType({
    name: `${t.base}_select_column`,
    description: `select columns of table "${t.name}"`,
    values: Object.fromEntries(visibleCols(t).map((c) => [c.gqlName, { value: c.name, description: 'column name' }])),
  }));

  const boolExp = (t: Table): GraphQLInputObjectType => once(`${t.base}_bool_exp`, () => new GraphQLInputObjectType({
    name: `${t.base}_bool_exp`,
    description: `Boolean expression to filter rows from the table "${t.name}". All fields are combined with a logical 'AND'.`,
    fields: () => {
      const f: Record<string, GraphQLInputFieldConfig> = {
        _and: { type: list(nn(boolExp(t))) },
        _not: { type: boolExp(t) },
        _or: { type: list(nn(boolExp(t))) },
      };
      for (const c of visibleCols(t)) f[c.gqlName] = { type: comparisonExp(c.scalar, c.stringLike, c.jsonb, c.castable) };
      for (const c of filterableCfs(t)) {
        f[c.name] = { type: c.returnsTable ? boolExp(tableOf(c.returnsTable)) : comparisonExp(c.scalar, c.scalar === 'String', c.scalar === 'jsonb', c.castable) };
      }
      for (const r of visibleRels(t)) {
        const tt = tableOf(r.targetKey);
        f[r.name] = { type: boolExp(tt) };
        if (r.kind === 'array' && aggAllowed(tt.key)) f[`${r.name}_aggregate`] = { type: aggBoolExp(tt) };
      }
      return sortKeys(f);
    },
  }));

  const aggBoolExp = (t: Table): GraphQLInputObjectType => once(`${t.base}_aggregate_bool_exp`, () => new GraphQLInputObjectType({
    name: `${t.base}_aggregate_bool_exp`,
    fields: () => {
      const f: Record<string, GraphQLInputFieldConfig> = {};
      const boolCols = visibleCols(t).filter((c) => c.scalar === 'Boolean');
      for (const fn of ['bool_and', 'bool_or']) {
        if (!boolCols.length) continue;
        const argEnum = once(`${t.base}_select_column_${t.base}_aggregate_bool_exp_${fn}_arguments_columns`, () => new GraphQLEnumType({
          name: `${t.base}_select_column_${t.base}_aggregate_bool_exp_${fn}_arguments_columns`,
          description: `select "${t.base}_aggregate_bool_exp_${fn}_arguments_columns" columns of table "${t.name}"`,
          values: Object.fromEntries(boolCols.map((c) => [c.gqlName, { value: c.name, description: 'column name' }])),
        }));
        f[fn] = { type: once(`${t.base}_aggregate_bool_exp_${fn}`, () => new GraphQLInputObjectType({
          name: `${t.base}_aggregate_bool_exp_${fn}`,
          fields: () => ({ arguments: { type: nn(argEnum) }, distinct: { type: GraphQLBoolean }, filter: { type: boolExp(t) }, predicate: { type: nn(comparisonExp('Boolean', false, false)) } }),
        })) };
      }
      f.count = { type: once(`${t.base}_aggregate_bool_exp_count`, () => new GraphQLInputObjectType({
        name: `${t.base}_aggregate_bool_exp_count`,
        fields: () => ({ arguments: { type: list(nn(selectColumn(t))) }, distinct: { type: GraphQLBoolean }, filter: { type: boolExp(t) }, predicate: { type: nn(comparisonExp('Int', false, false)) } }),
      })) };
      return f;
    },
  }));

  const orderBy = (t: Table): GraphQLInputObjectType => once(`${t.base}_order_by`, () => new GraphQLInputObjectType({
    name: `${t.base}_order_by`,
    description: `Ordering options when selecting data from "${t.name}".`,
    fields: () => {
      const f: Record<string, GraphQLInputFieldConfig> = {};
      for (const c of visibleCols(t)) f[c.gqlName] = { type: ORDER_BY };
      for (const c of filterableCfs(t)) if (!c.returnsTable) f[c.name] = { type: ORDER_BY };
      for (const r of visibleRels(t)) {
        const tt = tableOf(r.targetKey);
        if (r.kind === 'object') f[r.name] = { type: orderBy(tt) };
        else if (aggAllowed(tt.key)) f[`${r.name}_aggregate`] = { type: aggOrderBy(tt) };
      }
      return sortKeys(f);
    },
  }));

  const aggOrderBy = (t: Table): GraphQLInputObjectType => once(`${t.base}_aggregate_order_by`, () => new GraphQLInputObjectType({
    name: `${t.base}_aggregate_order_by`,
    description: `order by aggregate values of table "${t.name}"`,
    fields: () => {
      const f: Record<string, GraphQLInputFieldConfig> = { count: { type: ORDER_BY } };
      for (const op of AGG_OPS) {
        const cols = visibleCols(t).filter((c) => (op === 'max' || op === 'min' ? c.comparable : c.numeric));
        if (!cols.length) continue;
        f[op] = { type: once(`${t.base}_${op}_order_by`, () => new GraphQLInputObjectType({
          name: `${t.base}_${op}_order_by`,
          description: `order by ${op}() on columns of table "${t.name}"`,
          fields: () => Object.fromEntries(cols.map((c) => [c.gqlName, { type: ORDER_BY }])),
        })) };
      }
      return f;
    },
  }));

  const functionArgs = (c: ComputedField): GraphQLInputObjectType => once(`${c.fnBase}_args`, () => new GraphQLInputObjectType({
    name: `${c.fnBase}_args`,
    fields: () => Object.fromEntries(inputArgs(c).map((a) => [a.name, { type: a.hasDefault ? scalar(a.scalar) : nn(scalar(a.scalar)) }])),
  }));

  const streamCursorInput = (t: Table): GraphQLInputObjectType => once(`${t.base}_stream_cursor_input`, () => new GraphQLInputObjectType({
    name: `${t.base}_stream_cursor_input`,
    description: `Streaming cursor of the table "${t.name}"`,
    fields: () => ({
      initial_value: { type: nn(once(`${t.base}_stream_cursor_value_input`, () => new GraphQLInputObjectType({
        name: `${t.base}_stream_cursor_value_input`,
        description: 'Initial value of the column from where the streaming should start',
        fields: () => Object.fromEntries(visibleCols(t).map((c) => [c.gqlName, { type: scalar(c.scalar) }])),
      }))), description: 'Stream column input with initial value' },
      ordering: { type: CURSOR_ORDERING, description: 'cursor ordering' },
    }),
  }));

  const listArgs = (t: Table): GraphQLFieldConfigArgumentMap => ({
    ...(selectable(t) ? { distinct_on: { type: list(nn(selectColumn(t))), description: 'distinct select on columns' } } : {}),
    limit: { type: INT, description: 'limit the number of rows returned' },
    offset: { type: INT, description: 'skip the first n rows. Use only with order_by' },
    ...(selectable(t) ? { order_by: { type: list(nn(orderBy(t))), description: 'sort the rows by one or more columns' } } : {}),
    where: { type: boolExp(t), description: 'filter the rows returned' },
  });

  const objectType = (t: Table): GraphQLObjectType => once(t.base, () => new GraphQLObjectType({
    name: t.base,
    description: t.description ?? `columns and relationships of "${t.name}"`,
    fields: () => {
      const f: Record<string, GraphQLFieldConfig<unknown, unknown>> = {};
      for (const c of visibleCols(t)) {
        const s = scalar(c.scalar);
        // json/jsonb columns take Hasura's `path` argument (a JSON path into the value).
        const args: GraphQLFieldConfigArgumentMap = c.scalar === 'json' || c.scalar === 'jsonb' ? { path: { type: GraphQLString, description: 'JSON select path' } } : {};
        f[c.gqlName] = { type: c.notNull ? nn(s) : s, args, description: c.description ?? undefined, extensions: { es: { kind: 'column', column: c } } };
      }
      for (const c of visibleCfs(t)) {
        const description = c.description ?? `A computed field, executes function "${c.fnSchema}.${c.fnName}"`;
        const fnArgs: GraphQLFieldConfigArgumentMap = inputArgs(c).length ? { args: { type: inputArgs(c).some((a) => !a.hasDefault) ? nn(functionArgs(c)) : functionArgs(c), description: `input parameters for computed field "${c.name}" defined on table "${t.name}"` } } : {};
        if (!c.returnsTable) {
          f[c.name] = { type: scalar(c.scalar), args: fnArgs, description, extensions: { es: { kind: 'computed', cf: c } } };
          continue;
        }
        const tt = tableOf(c.returnsTable);
        f[c.name] = { type: nn(list(nn(objectType(tt)))), args: { ...fnArgs, ...listArgs(tt) }, description, extensions: { es: { kind: 'computed_set', cf: c } } };
        if (aggAllowed(tt.key)) {
          f[`${c.name}_aggregate`] = { type: nn(aggregateType(tt)), args: { ...fnArgs, ...listArgs(tt) }, description, extensions: { es: { kind: 'computed_set_agg', cf: c } } };
        }
      }
      for (const r of visibleRels(t)) {
        const tt = tableOf(r.targetKey);
        if (r.kind === 'object') {
          const o = objectType(tt);
          f[r.name] = { type: r.nullable ? o : nn(o), description: r.description ?? 'An object relationship', extensions: { es: { kind: 'objrel', rel: r } } };
        } else {
          f[r.name] = { type: nn(list(nn(objectType(tt)))), args: listArgs(tt), description: r.description ?? 'An array relationship', extensions: { es: { kind: 'arrrel', rel: r } } };
          if (aggAllowed(tt.key)) {
            f[`${r.name}_aggregate`] = { type: nn(aggregateType(tt)), args: listArgs(tt), description: r.description ?? 'An aggregate relationship', extensions: { es: { kind: 'arrrel_agg', rel: r } } };
          }
        }
      }
      return sortKeys(f);
    },
  }));

  const aggregateType = (t: Table): GraphQLObjectType => once(`${t.base}_aggregate`, () => new GraphQLObjectType({
    name: `${t.base}_aggregate`,
    description: `aggregated selection of "${t.name}"`,
    fields: () => ({
      aggregate: { type: aggregateFields(t), extensions: { es: { kind: 'agg_aggregate' } } },
      ...(selectable(t) ? { nodes: { type: nn(list(nn(objectType(t)))), extensions: { es: { kind: 'agg_nodes' } } } } : {}),
    }),
  }));

  const aggregateFields = (t: Table): GraphQLObjectType => once(`${t.base}_aggregate_fields`, () => new GraphQLObjectType({
    name: `${t.base}_aggregate_fields`,
    description: `aggregate fields of "${t.name}"`,
    fields: () => {
      const f: Record<string, GraphQLFieldConfig<unknown, unknown>> = {};
      for (const op of AGG_OPS) {
        const cols = visibleCols(t).filter((c) => (op === 'max' || op === 'min' ? c.comparable : c.numeric));
        if (!cols.length) continue;
        f[op] = { type: once(`${t.base}_${op}_fields`, () => new GraphQLObjectType({
          name: `${t.base}_${op}_fields`,
          description: `aggregate ${op} on columns`,
          fields: () => Object.fromEntries(cols.map((c) => [c.gqlName, {
            // sum/max/min keep the column's scalar; the statistical functions are Float (Hasura's typing).
            type: op === 'sum' || op === 'max' || op === 'min' ? scalar(c.scalar) : FLOAT,
            extensions: { es: { kind: 'agg_col', column: c } },
          }])),
        })), extensions: { es: { kind: 'agg_op', op } } };
      }
      f.count = { type: nn(INT), args: { ...(selectable(t) ? { columns: { type: list(nn(selectColumn(t))) } } : {}), distinct: { type: GraphQLBoolean } }, extensions: { es: { kind: 'agg_count' } } };
      return sortKeys(f);
    },
  }));

  const rootFields = (kind: 'query' | 'subscription') => {
    const f: Record<string, GraphQLFieldConfig<unknown, unknown>> = {};
    for (const t of model.tables.values()) {
      const p = perms.get(t.key);
      if (!p) continue;
      const allowed = kind === 'query' ? p.queryRootFields : p.subscriptionRootFields;
      const ok = (n: string) => !allowed || allowed.has(n);
      const qn = t.schema === 'public' ? t.name : `${t.schema}.${t.name}`;
      if (selectable(t) && ok('select')) {
        f[t.rootFields.select] = { type: nn(list(nn(objectType(t)))), args: listArgs(t), description: t.rootComments.select ?? `fetch data from the table: "${qn}"`, extensions: { es: { kind: 'select', table: t } } };
      }
      if (p.allowAggregations && ok('select_aggregate')) {
        f[t.rootFields.selectAggregate] = { type: nn(aggregateType(t)), args: listArgs(t), description: t.rootComments.selectAggregate ?? `fetch aggregated fields from the table: "${qn}"`, extensions: { es: { kind: 'aggregate', table: t } } };
      }
      if (kind === 'subscription' && selectable(t) && ok('select_stream')) {
        f[t.rootFields.selectStream] = {
          type: nn(list(nn(objectType(t)))),
          args: {
            batch_size: { type: nn(INT), description: 'maximum number of rows returned in a single batch' },
            cursor: { type: nn(list(streamCursorInput(t))), description: 'cursor to stream the results returned by the query' },
            where: { type: boolExp(t), description: 'filter the rows returned' },
          },
          description: `fetch data from the table in a streaming manner: "${qn}"`,
          extensions: { es: { kind: 'stream', table: t } },
        };
      }
      if (t.pk.length && t.pk.every((c) => p.columns.has(c)) && ok('select_by_pk')) {
        const args: GraphQLFieldConfigArgumentMap = {};
        for (const c of t.pk) { const col = t.columns.get(c)!; args[col.gqlName] = { type: nn(scalar(col.scalar)) }; }
        f[t.rootFields.selectByPk] = { type: objectType(t), args, description: t.rootComments.selectByPk ?? `fetch data from the table: "${qn}" using primary key columns`, extensions: { es: { kind: 'by_pk', table: t } } };
      }
    }
    return sortKeys(f);
  };

  const qf = rootFields('query');
  const sf = rootFields('subscription');
  const empty = !Object.keys(qf).length;
  const query = new GraphQLObjectType({
    name: 'query_root',
    fields: empty ? { no_queries_available: { type: nn(GraphQLString), description: 'There are no queries available to the current role. Either there are no sources or remote schemas configured, or the current role doesn\'t have the required permissions.' } } : qf,
  });
  const subscription = Object.keys(sf).length ? new GraphQLObjectType({ name: 'subscription_root', fields: sf }) : undefined;
  return { role, schema: new GraphQLSchema({ query, subscription }), perms };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
