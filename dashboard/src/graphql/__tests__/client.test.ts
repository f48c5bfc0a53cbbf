import { describe, expect, it } from 'vitest';
import { ApiError, classifyGraphQLErrors, gqlRequest } from '../client';
import { HealthCheck } from '../queries';
import { mockFetch } from '../../test/mockApi';

describe('gqlRequest', () => {
  it('sends no admin secret unless configured', async () => {
    const m = mockFetch({ HealthCheck: () => ({ data: { invocations: [] } }) });
    await gqlRequest(HealthCheck, {}, { fetchImpl: m.fn, endpoint: '/v1/graphql', adminSecret: null });
    expect(Object.keys(m.calls[0].headers).map((h) => h.toLowerCase())).not.toContain('x-hasura-admin-secret');
    expect(m.calls[0].operationName).toBe('HealthCheck');
    await gqlRequest(HealthCheck, {}, { fetchImpl: m.fn, endpoint: '/v1/graphql', adminSecret: 'x' });
    expect(m.calls[1].headers['x-hasura-admin-secret']).toBe('x');
  });
  it('network failure → unreachable', async () => {
    const f = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await expect(gqlRequest(HealthCheck, {}, { fetchImpl: f })).rejects.toMatchObject({ kind: 'unreachable' });
  });
  it('HTTP 502 → unreachable, 500 without body → http', async () => {
    const f = (status: number) => (async () => new Response('bad gateway', { status })) as typeof fetch;
    await expect(gqlRequest(HealthCheck, {}, { fetchImpl: f(502) })).rejects.toMatchObject({ kind: 'unreachable' });
    await expect(gqlRequest(HealthCheck, {}, { fetchImpl: f(500) })).rejects.toMatchObject({ kind: 'http' });
  });
  it('classifies Hasura errors', () => {
    expect(classifyGraphQLErrors([{ message: "field 'source_event_payload' not found in type: 'invocations'", extensions: { code: 'validation-failed' } }]).kind).toBe('permission');
    expect(classifyGraphQLErrors([{ message: 'Field "source_event_payload" is not defined by type "invocations_bool_exp".' }]).kind).toBe('permission');
    expect(classifyGraphQLErrors([{ message: 'invalid x-hasura-admin-secret/x-hasura-access-key', extensions: { code: 'access-denied' } }]).kind).toBe('permission');
    expect(classifyGraphQLErrors([{ message: 'connection refused', extensions: { code: 'postgres-error' } }]).kind).toBe('database');
    const e = classifyGraphQLErrors([{ message: 'expected a 32-bit integer', extensions: { code: 'validation-failed' } }]);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.kind).toBe('graphql');
  });
});
