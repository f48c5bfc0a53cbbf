// Hasura's error shape: {"errors":[{"message", "extensions": {"path", "code"}}]} (Base/Error.hs encodeGQLErr).
export type ErrorCode =
  | 'validation-failed' | 'access-denied' | 'parse-failed' | 'data-exception' | 'postgres-error' | 'unexpected'
  | 'constraint-violation' | 'invalid-headers' | 'not-supported' | 'bad-request' | 'not-found';

export class HasuraError extends Error {
  constructor(message: string, readonly code: ErrorCode, readonly path = '$', readonly internal?: unknown) {
    super(message);
  }
  toJSON() {
    return { message: this.message, extensions: { path: this.path, code: this.code, ...(this.internal ? { internal: this.internal } : {}) } };
  }
}

export const errorBody = (e: HasuraError) => ({ errors: [e.toJSON()] });

/** Postgres SQLSTATE classes to Hasura codes (Backends/Postgres/Execute ... mkPGErr): 22 data exception, 23 constraint. */
export function fromPgError(e: { code?: string; message: string }, exposeInternal: boolean): HasuraError {
  const code = e.code ?? '';
  const internal = exposeInternal ? { error: { message: e.message, status_code: code } } : undefined;
  if (code === '57014') return new HasuraError('statement timeout: the query was cancelled because it ran longer than the configured limit', 'postgres-error', '$', internal);
  if (code.startsWith('22')) return new HasuraError(e.message, 'data-exception', '$', internal);
  if (code.startsWith('23')) return new HasuraError(e.message, 'constraint-violation', '$', internal);
  if (code) return new HasuraError('database query error', 'postgres-error', '$', internal);
  return new HasuraError('database query error', 'unexpected', '$', internal);
}
