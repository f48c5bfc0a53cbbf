// A fetch stand-in that answers GraphQL operations by name, recording every request.
export interface Recorded {
  operationName: string;
  query: string;
  variables: Record<string, any>;
  headers: Record<string, string>;
}

export type Handler = (variables: Record<string, any>) => { data?: unknown; errors?: unknown[] };

export function mockFetch(handlers: Record<string, Handler>) {
  const calls: Recorded[] = [];
  const fn = async (_url: RequestInfo | URL, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body ?? '{}'));
    const name = body.operationName ?? /query\s+(\w+)/.exec(body.query)?.[1];
    calls.push({ operationName: name, query: body.query, variables: body.variables ?? {}, headers: (init?.headers ?? {}) as Record<string, string> });
    const h = handlers[name];
    const payload = h ? h(body.variables ?? {}) : { errors: [{ message: `no mock for ${name}`, extensions: { code: 'validation-failed' } }] };
    return new Response(JSON.stringify(payload), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { fn: fn as typeof fetch, calls, of: (name: string) => calls.filter((c) => c.operationName === name) };
}
