// GraphQL document validation the way Hasura v2 does it, not the way graphql-js' full rule set does:
// - only the operation picked by operationName is validated, with the fragments it reaches (Execute/Inline.hs);
//   other operations and unused fragments are ignored;
// - a declared variable may go unused, but a key of `variables` that the operation never uses is refused with
//   "unexpected variables in variableValues: x" (Execute/Resolve.hs);
// - Hasura's wording and codes for operation choice, fragments and variables; the remaining graphql-js rules
//   (fields, arguments, types) are mapped to Hasura's wording where clients depend on it.
import {
  getVariableValues, Kind, specifiedRules, validate, visit,
  ExecutableDefinitionsRule, KnownFragmentNamesRule, LoneAnonymousOperationRule, NoFragmentCyclesRule, NoUndefinedVariablesRule,
  NoUnusedFragmentsRule, NoUnusedVariablesRule, SingleFieldSubscriptionsRule, UniqueFragmentNamesRule, UniqueOperationNamesRule,
  UniqueVariableNamesRule,
  type ASTNode, type DocumentNode, type FragmentDefinitionNode, type GraphQLError, type GraphQLSchema,
  type OperationDefinitionNode, type SelectionSetNode, type TypeNode,
} from 'graphql';
import { HasuraError } from './errors.js';

/** graphql-js rules that Hasura does not apply, or that this module applies itself with Hasura's messages. */
const REPLACED = new Set<unknown>([
  ExecutableDefinitionsRule, KnownFragmentNamesRule, LoneAnonymousOperationRule, NoFragmentCyclesRule, NoUndefinedVariablesRule,
  NoUnusedFragmentsRule, NoUnusedVariablesRule, SingleFieldSubscriptionsRule, UniqueFragmentNamesRule, UniqueOperationNamesRule,
  UniqueVariableNamesRule,
]);
const RULES = specifiedRules.filter((r) => !REPLACED.has(r));

const q = (s: string) => JSON.stringify(s);
const typeText = (t: TypeNode): string => (t.kind === Kind.NON_NULL_TYPE ? `${typeText(t.type)}!` : t.kind === Kind.LIST_TYPE ? `[${typeText(t.type)}]` : t.name.value);

export interface ValidatedOperation { operation: OperationDefinitionNode; variables: Record<string, unknown> }

/** Hasura's getSingleOperation. */
export function selectOperation(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode {
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) {
    const named = ops.filter((o) => o.name?.value === operationName);
    if (!named.length) throw new HasuraError(`no such operation found in the document: ${q(operationName)}`, 'validation-failed', '$');
    if (named.length > 1) throw new HasuraError(`multiple definitions for operation ${q(operationName)}`, 'parse-failed', '$');
    return named[0];
  }
  if (ops.length !== 1) throw new HasuraError('exactly one operation has to be present in the document when operationName is not specified', 'validation-failed', '$');
  return ops[0];
}

/**
 * Fragments reachable from the operation, checked as Hasura's inliner does: undefined fragments and cycles, the
 * latter with the JSON path of the spread that closes the cycle.
 */
function reachableFragments(op: OperationDefinitionNode, defs: Map<string, FragmentDefinitionNode>): FragmentDefinitionNode[] {
  const done = new Map<string, FragmentDefinitionNode>();
  const walk = (sel: SelectionSetNode, stack: string[], path: string) => {
    for (const s of sel.selections) {
      if (s.kind === Kind.FIELD) { if (s.selectionSet) walk(s.selectionSet, stack, `${path}.selectionSet.${s.alias?.value ?? s.name.value}`); continue; }
      if (s.kind === Kind.INLINE_FRAGMENT) { walk(s.selectionSet, stack, path); continue; }
      const name = s.name.value;
      const at = stack.indexOf(name);
      if (at >= 0) {
        throw new HasuraError(`cannot spread fragment ${q(name)} within itself via ${[...stack.slice(at + 1), name].join(',')}`, 'validation-failed', `${path}.selectionSet`);
      }
      if (done.has(name)) continue;
      const f = defs.get(name);
      if (!f) throw new HasuraError(`reference to undefined fragment ${q(name)}`, 'validation-failed', '$');
      walk(f.selectionSet, [...stack, name], `${path}.selectionSet.${name}`);
      done.set(name, f);
    }
  };
  walk(op.selectionSet, [], '$');
  return [...done.values()];
}

/** Hasura's testing directive that lifts the one-root-field rule of subscriptions; not part of any schema. */
const MULTIPLE_ROOT_FIELDS = '_multiple_top_level_fields';

/**
 * What validation learns from the document alone, the same for every request that sends the same text: the
 * operation, the variables it uses, and the error of graphql-js' rules or of the subscription's root fields, which
 * Hasura reports only after the checks of the variables' values (applyVariables).
 */
export interface CheckedDocument {
  operation: OperationDefinitionNode;
  /** Every fragment of the document by name (names are unique once checked). */
  fragments: Record<string, FragmentDefinitionNode>;
  used: ReadonlySet<string>;
  ruleError?: HasuraError;
}

/** The checks that need no variable values. Throws what Hasura reports before looking at the values. */
export function checkDocument(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): CheckedDocument {
  let operation = selectOperation(document, operationName);
  let multipleRootFields = false;
  if (operation.operation === 'subscription' && operation.directives?.some((d) => d.name.value === MULTIPLE_ROOT_FIELDS)) {
    multipleRootFields = true;
    operation = { ...operation, directives: operation.directives.filter((d) => d.name.value !== MULTIPLE_ROOT_FIELDS) };
  }
  const defs = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) {
    if (d.kind !== Kind.FRAGMENT_DEFINITION) continue;
    if (defs.has(d.name.value)) throw new HasuraError(`multiple definitions for fragment ${q(d.name.value)}`, 'parse-failed', '$');
    defs.set(d.name.value, d);
  }
  const fragments = reachableFragments(operation, defs);

  // Variables (Execute/Resolve.hs): definitions unique, every use declared.
  const declared = new Set<string>();
  for (const vd of operation.variableDefinitions ?? []) {
    const n = vd.variable.name.value;
    if (declared.has(n)) throw new HasuraError(`multiple definitions for variable ${q(n)}`, 'parse-failed', '$');
    declared.add(n);
  }
  const used = new Set<string>();
  const collect = (node: ASTNode) => visit(node, {
    VariableDefinition: () => false, // the definitions themselves are not uses
    Variable: (v) => { used.add(v.name.value); },
  });
  collect({ ...operation, variableDefinitions: [] });
  for (const f of fragments) collect(f);
  for (const n of used) if (!declared.has(n)) throw new HasuraError(`unbound variable ${q(n)}`, 'validation-failed', '$');

  const reduced: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] };
  const errors = validate(schema, reduced, RULES, { maxErrors: 10 });
  let ruleError = errors.length ? toHasura(errors[0], reduced) : undefined;
  // A subscription selects one root field (Hasura: Execute.hs), unless the testing directive above says otherwise.
  if (!ruleError && operation.operation === 'subscription' && !multipleRootFields && rootFieldCount(operation, defs) > 1) {
    ruleError = new HasuraError('subscriptions must select one top level field', 'validation-failed', '$');
  }
  return { operation, fragments: Object.fromEntries(defs), used, ruleError };
}

/** The checks of a checked document against one request's variable values, in Hasura's order; coerces them. */
export function applyVariables(schema: GraphQLSchema, checked: CheckedDocument, rawVariables: Record<string, unknown>): ValidatedOperation {
  const { operation, used, ruleError } = checked;
  const unexpected = Object.keys(rawVariables).filter((k) => !used.has(k));
  if (unexpected.length) throw new HasuraError(`unexpected variables in variableValues: ${unexpected.join(', ')}`, 'validation-failed', '$');
  for (const vd of operation.variableDefinitions ?? []) {
    const n = vd.variable.name.value;
    if (vd.type.kind !== Kind.NON_NULL_TYPE) continue;
    if (!(n in rawVariables) && !vd.defaultValue) throw new HasuraError(`expecting a value for non-nullable variable: ${q(n)}`, 'validation-failed', '$');
    if (n in rawVariables && rawVariables[n] === null) throw new HasuraError(`null value found for non-nullable type: ${q(typeText(vd.type))}`, 'validation-failed', '$');
  }
  // A fresh error each time: the checked document is shared by every request that sends the same text.
  if (ruleError) throw new HasuraError(ruleError.message, ruleError.code, ruleError.path, ruleError.internal);
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables, { maxErrors: 1 });
  if (coerced.errors) {
    const e = coerced.errors[0];
    const m = /^Variable "\$([^"]+)"/.exec(e.message);
    throw new HasuraError(e.message, 'validation-failed', m ? `$.variableValues.${m[1]}` : '$');
  }
  return { operation, variables: coerced.coerced };
}

function rootFieldCount(op: OperationDefinitionNode, defs: Map<string, FragmentDefinitionNode>): number {
  const keys = new Set<string>();
  const walk = (sel: SelectionSetNode) => {
    for (const s of sel.selections) {
      if (s.kind === Kind.FIELD) keys.add(s.alias?.value ?? s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else { const f = defs.get(s.name.value); if (f) walk(f.selectionSet); }
    }
  };
  walk(op.selectionSet);
  return keys.size;
}

export interface Size { nodes: number; depth: number; introspection: boolean }

/**
 * Fields selected (every alias and every fragment use counts, as in Hasura's node limit) and the deepest field
 * nesting. Fragments are measured once and reused, so a document that spreads a fragment thousands of times is
 * measured in linear time; counting stops early once over `stopAbove`.
 */
export function measure(op: OperationDefinitionNode, fragments: Record<string, FragmentDefinitionNode>, stopAbove = 0): Size {
  const memo = new Map<string, { nodes: number; depth: number; introspection: boolean }>();
  const cap = stopAbove > 0 ? stopAbove + 1 : Infinity;
  const sel = (s: SelectionSetNode): { nodes: number; depth: number; introspection: boolean } => {
    let nodes = 0; let depth = 0; let introspection = false;
    for (const x of s.selections) {
      let r: { nodes: number; depth: number; introspection: boolean };
      if (x.kind === Kind.FIELD && (x.name.value === '__schema' || x.name.value === '__type')) {
        // Answered in memory from the role's schema, never by SQL: not counted (GraphiQL's query is 14 deep).
        r = { nodes: 1, depth: 1, introspection: true };
      } else if (x.kind === Kind.FIELD) {
        const inner = x.selectionSet ? sel(x.selectionSet) : { nodes: 0, depth: 0, introspection: false };
        r = { nodes: 1 + inner.nodes, depth: 1 + inner.depth, introspection: inner.introspection };
      } else if (x.kind === Kind.INLINE_FRAGMENT) r = sel(x.selectionSet);
      else {
        const name = x.name.value;
        let m = memo.get(name);
        if (!m) { const f = fragments[name]; m = f ? sel(f.selectionSet) : { nodes: 0, depth: 0, introspection: false }; memo.set(name, m); }
        r = m;
      }
      nodes = Math.min(cap, nodes + r.nodes);
      depth = Math.max(depth, r.depth);
      introspection ||= r.introspection;
    }
    return { nodes, depth, introspection };
  };
  return sel(op.selectionSet);
}

/** graphql-js validation errors in Hasura's wording where clients depend on it, with a JSON path. */
function toHasura(err: GraphQLError, doc: DocumentNode): HasuraError {
  const node = err.nodes?.[0];
  const path = node ? pathOf(doc, node) : '$';
  let m = /^Cannot query field "([^"]+)" on type "([^"]+)"/.exec(err.message);
  if (m) return new HasuraError(`field '${m[1]}' not found in type: '${m[2]}'`, 'validation-failed', path);
  m = /^Field "([^"]+)" is not defined by type "([^"]+)"/.exec(err.message);
  if (m) return new HasuraError(`field '${m[1]}' not found in type: '${m[2]}'`, 'validation-failed', path);
  m = /^Unknown argument "([^"]+)" on field "[^".]+\.([^"]+)"/.exec(err.message);
  if (m) return new HasuraError(`'${m[2]}' has no argument named '${m[1]}'`, 'validation-failed', path.replace(/\.args\.[^.]+$/, ''));
  m = /^Field "([^"]+)" argument "([^"]+)" of type "([^"]+)" is required/.exec(err.message);
  if (m) return new HasuraError(`missing required field '${m[2]}'`, 'validation-failed', path);
  m = /^Field "([^"]+)" of type "([^"]+)" must have a selection of subfields/.exec(err.message);
  if (m) return new HasuraError(`missing selection set for '${m[2].replace(/[!\[\]]/g, '')}'`, 'validation-failed', path);
  m = /^Field "([^"]+)" must not have a selection since type "([^"]+)" has no subfields/.exec(err.message);
  if (m) return new HasuraError(`unexpected subselection set for non-object field`, 'validation-failed', path);
  // Literal values of the wrong type, in the wording of Hasura's scalar parsers (typeMismatch).
  m = /^(Int|Float|String|Boolean) cannot represent (?:a )?non[- ][^:]*: (.*)$/s.exec(err.message);
  // offset is parsed as a 64-bit integer by Hasura, hence its shorter wording.
  if (m) return new HasuraError(`expected ${path.endsWith('.args.offset') ? 'an integer' : SCALAR_EXPECTED[m[1]]} for type "${m[1]}", but found ${describeLiteral(m[2])}`, 'validation-failed', path);
  m = /^Unknown directive "@([^"]+)"/.exec(err.message);
  if (m) return new HasuraError(`directive '${m[1]}' is not defined in the schema`, 'validation-failed', path);
  return new HasuraError(err.message, 'validation-failed', path);
}

const SCALAR_EXPECTED: Record<string, string> = { Int: 'a 32-bit integer', Float: 'a float', String: 'a string', Boolean: 'a boolean' };
/** Hasura's describeValue for a printed GraphQL literal. */
function describeLiteral(printed: string): string {
  const t = printed.trim();
  if (t.startsWith('"')) return 'a string';
  if (t === 'true' || t === 'false') return 'a boolean';
  if (t === 'null') return 'null';
  if (t.startsWith('[')) return 'a list';
  if (t.startsWith('{')) return 'an object';
  if (t.startsWith('$')) return 'a variable';
  if (/^-?\d+$/.test(t)) return 'an integer';
  if (/^-?\d/.test(t)) return 'a float';
  return 'an enum value';
}

function pathOf(doc: DocumentNode, target: ASTNode): string {
  let found = '$';
  visit(doc, {
    enter(node, _key, parent, _path, ancestors) {
      if (node !== target) return undefined;
      const parts: string[] = ['$'];
      // graphql-js passes the parent separately from the other ancestors.
      for (const a of [...(ancestors as ASTNode[]), parent as ASTNode, node]) {
        if (!a || typeof a !== 'object' || !('kind' in a)) continue;
        if (a.kind === Kind.FIELD) parts.push(`selectionSet.${a.alias?.value ?? a.name.value}`);
        else if (a.kind === Kind.ARGUMENT) parts.push(`args.${a.name.value}`);
        else if (a.kind === Kind.OBJECT_FIELD) parts.push(a.name.value);
      }
      found = parts.join('.');
      return false;
    },
  });
  return found;
}
