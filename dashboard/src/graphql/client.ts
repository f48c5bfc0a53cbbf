import { config } from '../config';
import type { OperationName, Query, ResultOf, VariablesOf } from './operations';

export type ApiErrorKind = 'unreachable' | 'http' | 'permission' | 'database' | 'graphql';

export class ApiError extends Error {
  kind: ApiErrorKind;
  code?: string;
  status?: number;
  constructor(kind: ApiErrorKind, message: string, opts: { code?: string; status?: number } = {}) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.code = opts.code;
    this.status = opts.status;
  }
}

interface GraphQLErrorShape {
  message?: string;
  extensions?: { code?: string; path?: string };
}

/** Classify a GraphQL error response the way Hasura (and the console server) reports them. */
export function classifyGraphQLErrors(errors: GraphQLErrorShape[]): ApiError {
  const first = errors[0] ?? {};
  const message = errors.map((e) => e.message ?? 'unknown error').join('; ');
  const code = first.extensions?.code;
  if (
    code === 'access-denied' ||
    code === 'invalid-jwt' ||
    code === 'jwt-invalid-claims' ||
    code === 'permission-error' ||
    /not found in type|not defined by type|no queries available|permission/i.test(message)
  ) {
    return new ApiError('permission', message, { code });
  }
  if (
    code === 'postgres-error' ||
    code === 'database-error' ||
    code === 'connection-error' ||
    /connection (refused|terminated)|database/i.test(message)
  ) {
    return new ApiError('database', message, { code });
  }
  return new ApiError('graphql', message, { code });
}

export interface RequestOptions {
  endpoint?: string;
  adminSecret?: string | null;
  fetchImpl?: typeof fetch;
  signal?: AbortSignal;
}

/** POST one operation (a constant from queries.ts) with its variables; typed by the operation. */
export async function gqlRequest<N extends OperationName>(
  query: Query<N>,
  variables?: VariablesOf<N>,
  opts: RequestOptions = {},
): Promise<ResultOf<N>> {
  const endpoint = opts.endpoint ?? config.graphqlEndpoint;
  const secret = opts.adminSecret === undefined ? config.adminSecret : opts.adminSecret;
  const doFetch = opts.fetchImpl ?? fetch;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  // Only when the user put a secret in .env explicitly; the console server needs none.
  if (secret) headers['x-hasura-admin-secret'] = secret;
  const operationName = /^\s*query\s+(\w+)/.exec(query)?.[1];
  let res: Response;
  try {
    res = await doFetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables: variables ?? {}, operationName }),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new ApiError('unreachable', `Cannot reach the GraphQL API at ${endpoint}: ${(e as Error)?.message ?? e}`);
  }
  let body: { data?: ResultOf<N>; errors?: GraphQLErrorShape[] } | null = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (body?.errors?.length) throw classifyGraphQLErrors(body.errors);
  if (!res.ok) {
    if (res.status === 401 || res.status === 403) {
      throw new ApiError('permission', `The API refused the request (HTTP ${res.status})`, { status: res.status });
    }
    if (res.status === 502 || res.status === 503 || res.status === 504) {
      throw new ApiError('unreachable', `The API at ${endpoint} is unavailable (HTTP ${res.status})`, { status: res.status });
    }
    throw new ApiError('http', `HTTP ${res.status} from ${endpoint}`, { status: res.status });
  }
  if (!body || body.data === undefined || body.data === null) {
    throw new ApiError('http', `No data in the response of ${endpoint} (is it a GraphQL endpoint?)`, { status: res.status });
  }
  return body.data;
}
