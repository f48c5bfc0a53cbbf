#!/usr/bin/env node
// TypeScript types of every dashboard operation, generated from the GraphQL schema, so that a query and the
// type the app reads it with cannot drift apart.
//
//   node scripts/codegen.mjs                     writes src/graphql/operations.generated.ts from
//                                                src/graphql/schema.graphql and src/graphql/queries.ts
//   node scripts/codegen.mjs --check             fails (exit 1) when that file is not what it would write, or an
//                                                operation does not validate against the schema
//   node scripts/codegen.mjs --schema-from URL   first replaces schema.graphql with the schema a running console
//                                                server (or Hasura) serves as admin, by introspection
//                                                (with --admin-secret S when it has one)
//
// scripts/update-graphql-types.sh runs the last form against a throwaway database built from sql/schema.sql
// and hasura-metadata/; the console server's test suite checks that schema.graphql is current.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  parse,
  printSchema,
  typeFromAST,
  validate,
} from 'graphql';
import { loadQueries } from '../e2e/load-queries.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SCHEMA_FILE = join(here, '..', 'src', 'graphql', 'schema.graphql');
const OUT_FILE = join(here, '..', 'src', 'graphql', 'operations.generated.ts');
const QUERIES_FILE = join(here, '..', 'src', 'graphql', 'queries.ts');

// Hasura's scalars as they arrive in JSON. Numeric types may be strings (HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES).
const SCALARS = {
  String: 'string', ID: 'string', Int: 'number', Float: 'number', Boolean: 'boolean',
  uuid: 'string', timestamptz: 'string', timestamp: 'string', date: 'string', time: 'string', timetz: 'string',
  bpchar: 'string', name: 'string', citext: 'string', interval: 'string', inet: 'string',
  smallint: 'number', real: 'number',
  bigint: 'number | string', numeric: 'number | string', float8: 'number | string', money: 'number | string',
  json: 'unknown', jsonb: 'unknown',
  // Element types of Postgres arrays, by their catalog names.
  int2: 'number', int4: 'number', float4: 'number', int8: 'number | string', text: 'string', varchar: 'string', bool: 'boolean',
};

function scalarType(name) {
  if (SCALARS[name]) return SCALARS[name];
  // Postgres arrays (`_int8`, `_text`, ...) arrive as JSON arrays of their element type.
  if (name.startsWith('_') && SCALARS[name.slice(1)]) return `Array<${SCALARS[name.slice(1)]}>`;
  return 'unknown';
}

/** The TypeScript of a selection set on an object type (aliases, __typename, inline fragments, spreads). */
function selectionType(schema, parent, selectionSet, fragments, indent) {
  const fields = [];
  const collect = (set, on) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) fields.push({ sel, on });
      else if (sel.kind === Kind.INLINE_FRAGMENT) collect(sel.selectionSet, sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : on);
      else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(sel.name.value);
        if (!f) throw new Error(`unknown fragment ${sel.name.value}`);
        collect(f.selectionSet, schema.getType(f.typeCondition.name.value));
      }
    }
  };
  collect(selectionSet, parent);
  const pad = '  '.repeat(indent + 1);
  const lines = fields.map(({ sel, on }) => {
    const key = sel.alias?.value ?? sel.name.value;
    const optional = (sel.directives ?? []).some((d) => d.name.value === 'include' || d.name.value === 'skip');
    if (sel.name.value === '__typename') return `${pad}${key}: '${on.name}';`;
    const def = on.getFields()[sel.name.value];
    if (!def) throw new Error(`${on.name} has no field ${sel.name.value}`);
    return `${pad}${key}${optional ? '?' : ''}: ${outputType(schema, def.type, sel.selectionSet, fragments, indent + 1)};`;
  });
  return `{\n${lines.join('\n')}\n${'  '.repeat(indent)}}`;
}

function outputType(schema, type, selectionSet, fragments, indent) {
  if (isNonNullType(type)) return nonNull(schema, type.ofType, selectionSet, fragments, indent);
  return `${nonNull(schema, type, selectionSet, fragments, indent)} | null`;
}

function nonNull(schema, type, selectionSet, fragments, indent) {
  if (isListType(type)) {
    const inner = outputType(schema, type.ofType, selectionSet, fragments, indent);
    return inner.endsWith(' | null') || (!inner.startsWith('{') && inner.includes('|')) ? `Array<${inner}>` : `${inner}[]`;
  }
  if (isScalarType(type)) return scalarType(type.name);
  if (isEnumType(type)) return type.name;
  if (isObjectType(type)) return selectionType(schema, type, selectionSet, fragments, indent);
  throw new Error(`unsupported output type ${type}`);
}

/** Input types, named after the schema's (collected as they are referenced). */
function inputType(type, named) {
  if (isNonNullType(type)) return inputNonNull(type.ofType, named);
  return `${inputNonNull(type, named)} | null`;
}

function inputNonNull(type, named) {
  if (isListType(type)) {
    const inner = inputType(type.ofType, named);
    return inner.includes('|') ? `Array<${inner}>` : `${inner}[]`;
  }
  if (isScalarType(type)) return scalarType(type.name);
  named.add(type);
  return type.name;
}

function declareNamed(named) {
  const out = [];
  const done = new Set();
  const queue = [...named];
  while (queue.length) {
    const t = queue.shift();
    if (done.has(t.name)) continue;
    done.add(t.name);
    if (isEnumType(t)) {
      out.push(`export type ${t.name} = ${t.getValues().map((v) => `'${v.name}'`).join(' | ')};`);
    } else if (isInputObjectType(t)) {
      const more = new Set();
      const fields = Object.values(t.getFields()).map((f) => {
        const required = isNonNullType(f.type) && f.defaultValue === undefined;
        return `  ${f.name}${required ? '' : '?'}: ${inputType(f.type, more)};`;
      });
      out.push(`export interface ${t.name} {\n${fields.join('\n')}\n}`);
      queue.push(...more);
    }
  }
  return out.sort((a, b) => a.localeCompare(b));
}

export async function generate(schemaText, queries, queriesSource) {
  const schema = buildSchema(schemaText);
  const problems = [];
  // Each export is typed by the operation it holds: `export const X = `...` as Query<'X'>;`.
  for (const name of Object.keys(queries)) {
    const branded = new RegExp(`^export const ${name} = \`[^\`]*\` as Query<'${name}'>;`, 'm');
    if (!branded.test(queriesSource)) problems.push(`${name}: declare it as \`export const ${name} = \`...\` as Query<'${name}'>;\``);
  }
  const ops = [];
  const named = new Set();
  for (const [exportName, text] of Object.entries(queries)) {
    if (typeof text !== 'string') continue;
    const doc = parse(text);
    for (const e of validate(schema, doc)) problems.push(`${exportName}: ${e.message}`);
    const fragments = new Map(doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
    const operations = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (operations.length !== 1 || operations[0].name?.value !== exportName) {
      problems.push(`${exportName}: must hold exactly one operation, named ${exportName}`);
      continue;
    }
    if (problems.length) continue;
    const op = operations[0];
    const root = op.operation === 'query' ? schema.getQueryType() : op.operation === 'subscription' ? schema.getSubscriptionType() : null;
    if (!root) {
      problems.push(`${exportName}: only queries and subscriptions are served`);
      continue;
    }
    const variables = (op.variableDefinitions ?? []).map((v) => {
      const t = typeFromAST(schema, v.type);
      const optional = !isNonNullType(t) || v.defaultValue !== undefined;
      return `  ${v.variable.name.value}${optional ? '?' : ''}: ${inputType(t, named)};`;
    });
    ops.push({
      name: exportName,
      result: selectionType(schema, root, op.selectionSet, fragments, 0),
      variables: variables.length ? `{\n${variables.join('\n')}\n}` : 'Record<string, never>',
    });
  }
  if (problems.length) throw new Error(`operations do not match the schema:\n  ${problems.join('\n  ')}`);
  const parts = [
    '// Generated by scripts/codegen.mjs from schema.graphql and queries.ts: do not edit; run `npm run codegen`.',
    '/* eslint-disable */',
    '',
    ...declareNamed(named).flatMap((d) => [d, '']),
    ...ops.flatMap((o) => [`export type ${o.name}Result = ${o.result};`, '', `export type ${o.name}Variables = ${o.variables};`, '']),
    '/** Every operation of queries.ts: its result and its variables. */',
    'export interface Operations {',
    ...ops.map((o) => `  ${o.name}: { result: ${o.name}Result; variables: ${o.name}Variables };`),
    '}',
    '',
  ];
  return parts.join('\n');
}

async function fetchSchema(url, adminSecret) {
  const headers = { 'content-type': 'application/json', 'x-hasura-role': 'admin' };
  if (adminSecret) headers['x-hasura-admin-secret'] = adminSecret;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: getIntrospectionQuery() }) });
  const body = await res.json();
  if (!res.ok || body.errors) throw new Error(`introspection at ${url} failed: HTTP ${res.status} ${JSON.stringify(body.errors ?? body)}`);
  return `${printSchema(buildClientSchema(body.data))}\n`;
}

async function main(argv) {
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const check = argv.includes('--check');
  const from = arg('--schema-from');
  if (from) {
    await writeFile(SCHEMA_FILE, await fetchSchema(from, arg('--admin-secret')));
    console.log(`codegen: wrote ${SCHEMA_FILE} from ${from}`);
  }
  const text = await generate(await readFile(SCHEMA_FILE, 'utf8'), await loadQueries(), await readFile(QUERIES_FILE, 'utf8'));
  if (check) {
    const current = await readFile(OUT_FILE, 'utf8').catch(() => '');
    if (current !== text) {
      console.error(`codegen: ${OUT_FILE} is out of date with queries.ts / schema.graphql: run \`npm run codegen\` in dashboard/`);
      process.exit(1);
    }
    console.log('codegen: operations.generated.ts is current, every operation validates against schema.graphql');
    return;
  }
  await writeFile(OUT_FILE, text);
  console.log(`codegen: wrote ${OUT_FILE}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`codegen: ${e.message}`);
    process.exit(1);
  });
}
