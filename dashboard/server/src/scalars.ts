// Hasura parses a column value through JSON and lets a string through to Postgres for any column type
// (Backends/Postgres/SQL/Value.hs parsePGValue: a string that does not parse as the type is sent as text and cast
// by Postgres), so `{id: {_eq: "42"}}` works on an integer column. graphql-js' built-in Int and Float refuse
// strings. These replacements keep the names "Int" and "Float" (one type per name in a schema) and accept a string,
// wrapped in LooseValue so that the compiler can pass it to Postgres where a column value is expected and refuse it,
// with Hasura's message, where an integer is required (limit, offset, batch_size).
import { GraphQLFloat, GraphQLInt, GraphQLScalarType, Kind } from 'graphql';

/** A string given where Int or Float is expected. */
export class LooseValue {
  constructor(readonly text: string) {}
}

function loose(base: GraphQLScalarType): GraphQLScalarType {
  return new GraphQLScalarType({
    name: base.name,
    description: base.description,
    serialize: base.serialize,
    parseValue: (v) => (typeof v === 'string' ? new LooseValue(v) : base.parseValue(v)),
    parseLiteral: (ast, vars) => (ast.kind === Kind.STRING ? new LooseValue(ast.value) : base.parseLiteral(ast, vars)),
  });
}

export const INT = loose(GraphQLInt);
export const FLOAT = loose(GraphQLFloat);

/** The value to send to Postgres: a LooseValue becomes its text (Postgres casts it), anything else as is. */
export const columnValue = (v: unknown): unknown => (v instanceof LooseValue ? v.text : Array.isArray(v) ? v.map(columnValue) : v);
