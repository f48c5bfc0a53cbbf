import { useQuery } from '@tanstack/react-query';
import { ApiError, gqlRequest } from '../graphql/client';
import { InvocationDetail, InvocationPayload, InvocationValues } from '../graphql/queries';
import type { InvocationValuesData } from '../graphql/types';
import { UUID_RE } from './search';

export function useInvocationDetail(id: string | undefined) {
  return useQuery({
    queryKey: ['invocation', id],
    enabled: !!id && UUID_RE.test(id),
    queryFn: async () => {
      const d = await gqlRequest(InvocationDetail, { id: id! });
      return d.invocations_by_pk;
    },
  });
}

export type PayloadState = { state: 'ok'; payload: unknown } | { state: 'denied'; message: string } | { state: 'missing' };

export function useInvocationPayload(id: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: ['invocation-payload', id],
    enabled: enabled && !!id && UUID_RE.test(id),
    retry: 0,
    queryFn: async (): Promise<PayloadState> => {
      try {
        const d = await gqlRequest(InvocationPayload, { id: id! });
        if (!d.invocations_by_pk) return { state: 'missing' };
        return { state: 'ok', payload: d.invocations_by_pk.source_event_payload };
      } catch (e) {
        if (e instanceof ApiError && e.kind === 'permission') return { state: 'denied', message: e.message };
        throw e;
      }
    },
  });
}

export type ValuesState = { state: 'ok'; values: InvocationValuesData } | { state: 'denied'; message: string } | { state: 'missing' };

/** Payload and clause values together (hidden from the read-only role): 'denied' is an answer, not an error. */
export function useInvocationValues(id: string | undefined, enabled = true) {
  return useQuery({
    queryKey: ['invocation-values', id],
    enabled: enabled && !!id && UUID_RE.test(id),
    retry: 0,
    queryFn: async (): Promise<ValuesState> => {
      try {
        const d = await gqlRequest(InvocationValues, { id: id! });
        if (!d.invocations_by_pk) return { state: 'missing' };
        return { state: 'ok', values: d.invocations_by_pk };
      } catch (e) {
        if (e instanceof ApiError && e.kind === 'permission') return { state: 'denied', message: e.message };
        throw e;
      }
    },
  });
}
