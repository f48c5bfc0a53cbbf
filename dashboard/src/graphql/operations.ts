// Typed operations: each query of queries.ts carries its operation's name in its type, and
// operations.generated.ts (scripts/codegen.mjs, from schema.graphql) gives that operation's result and
// variables, so gqlRequest(query, variables) is typed by the query itself.
import type { Operations } from './operations.generated';

export type OperationName = keyof Operations;

/** The text of one operation of queries.ts (a string at run time). */
export type Query<N extends OperationName> = string & { readonly __operation?: N };

export type ResultOf<N extends OperationName> = Operations[N]['result'];
export type VariablesOf<N extends OperationName> = Operations[N]['variables'];
