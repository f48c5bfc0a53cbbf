import { useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router-dom';
import { ApiError, gqlRequest } from '../graphql/client';
import {
  LookupEventExecution,
  LookupJobExecution,
  LookupJobLog,
  SearchInvocations,
  SearchPayloadContains,
  SearchPayloadKey,
} from '../graphql/queries';
import { formatTimestamp } from '../lib/format';
import { useDebounced, useRangeQueryString } from '../lib/hooks';
import { planSearch, type LookupTable } from '../lib/search';
import { StatusBadge } from './common';

interface Hit {
  id: string;
  created_at: string;
  source_function: string;
  status: string;
  correlation_id: string | null;
  source_user_email: string | null;
}

const LIMIT = 10;

async function lookup(table: LookupTable, id: string): Promise<string | null> {
  switch (table) {
    case 'invocations':
      return (await gqlRequest(SearchInvocations, { where: { id: { _eq: id } }, limit: 1 })).invocations[0]?.id ?? null;
    case 'event_executions':
      return (await gqlRequest(LookupEventExecution, { id })).event_executions_by_pk?.invocation_id ?? null;
    case 'job_executions':
      return (await gqlRequest(LookupJobExecution, { id })).job_executions_by_pk?.invocation_id ?? null;
    case 'job_logs':
      return (await gqlRequest(LookupJobLog, { id })).job_logs_by_pk?.invocation_id ?? null;
  }
}

export function SearchBox() {
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const debounced = useDebounced(text, 300);
  const plan = planSearch(debounced);
  const navigate = useNavigate();
  const qs = useRangeQueryString();
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const onDoc = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDoc);
    return () => document.removeEventListener('mousedown', onDoc);
  }, []);

  const textQ = useQuery({
    queryKey: ['search', 'text', debounced],
    enabled: plan.kind === 'text' && plan.where !== null,
    queryFn: () =>
      gqlRequest(SearchInvocations, {
        where: (plan.kind === 'text' && plan.where) || {},
        limit: LIMIT,
      }),
  });
  const payloadQ = useQuery({
    queryKey: ['search', 'payload', debounced],
    enabled: plan.kind === 'text' && plan.payload !== null,
    retry: 0,
    queryFn: () => {
      if (plan.kind !== 'text' || !plan.payload) throw new Error('no payload search');
      return 'contains' in plan.payload
        ? gqlRequest(SearchPayloadContains, { contains: plan.payload.contains, limit: LIMIT })
        : gqlRequest(SearchPayloadKey, { key: plan.payload.key, limit: LIMIT });
    },
  });
  const lookupQ = useQuery({
    queryKey: ['search', 'lookup', debounced],
    enabled: plan.kind === 'lookup',
    queryFn: () => (plan.kind === 'lookup' ? lookup(plan.table, plan.id) : Promise.resolve(null)),
  });

  const hits = new Map<string, Hit & { via: string }>();
  for (const h of textQ.data?.invocations ?? []) hits.set(h.id, { ...h, via: 'id / correlation / function / email' });
  for (const h of payloadQ.data?.invocations ?? []) if (!hits.has(h.id)) hits.set(h.id, { ...h, via: 'payload' });
  const payloadDenied = payloadQ.isError && payloadQ.error instanceof ApiError && payloadQ.error.kind === 'permission';
  const loading = textQ.isFetching || payloadQ.isFetching || lookupQ.isFetching || debounced !== text;

  const go = (id: string) => {
    setOpen(false);
    navigate(`/invocations/${id}${qs}`);
  };

  return (
    <div className="search" ref={box}>
      <input
        type="search"
        placeholder="Search: correlation ID, function, email, payload key or {json}, table:id"
        aria-label="Search invocations"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setOpen(false);
          if (e.key === 'Enter') {
            if (plan.kind === 'lookup' && lookupQ.data) go(lookupQ.data);
            else {
              const first = [...hits.values()][0];
              if (first) go(first.id);
            }
          }
        }}
      />
      {open && text.trim() !== '' ? (
        <div className="search-results" role="listbox" aria-label="Search results">
          {plan.kind === 'invalid' ? <div className="search-note">{plan.message}</div> : null}
          {plan.kind === 'lookup' ? (
            lookupQ.isFetching ? (
              <div className="search-note">Looking up {plan.table} {plan.id}…</div>
            ) : lookupQ.data ? (
              <button type="button" className="search-hit" onClick={() => go(lookupQ.data!)}>
                {plan.table}:{plan.id.slice(0, 8)} → invocation <span className="mono">{lookupQ.data.slice(0, 8)}</span>
              </button>
            ) : lookupQ.isError ? (
              <div className="search-note">Look-up failed: {(lookupQ.error as Error).message}</div>
            ) : (
              <div className="search-note">No {plan.table} row with id {plan.id}</div>
            )
          ) : null}
          {plan.kind === 'text' ? (
            <>
              {[...hits.values()].map((h) => (
                <button type="button" key={h.id} className="search-hit" role="option" onClick={() => go(h.id)}>
                  <span className="mono">{h.id.slice(0, 8)}</span> <strong>{h.source_function}</strong> <StatusBadge status={h.status} />
                  <span className="muted"> {formatTimestamp(h.created_at)}</span>
                  <div className="muted small">
                    {h.correlation_id ?? 'no correlation ID'}
                    {h.source_user_email ? ` · ${h.source_user_email}` : ''} · matched by {h.via}
                  </div>
                </button>
              ))}
              {!loading && hits.size === 0 ? <div className="search-note">No invocation matches “{debounced}”.</div> : null}
              {loading ? <div className="search-note">Searching…</div> : null}
              {textQ.isError ? <div className="search-note error">Search failed: {(textQ.error as Error).message}</div> : null}
              <div className="search-note small muted">
                {payloadDenied
                  ? 'Payload search is unavailable: your role may not read event payloads.'
                  : plan.payload === null
                    ? 'Payload search takes a top-level key (e.g. event) or a JSON object to contain, e.g. {"table":{"name":"orders"}}.'
                    : 'key' in plan.payload
                      ? 'Payloads searched for this top-level key; type a JSON object to search by content. Free-text payload search is not supported.'
                      : 'Payloads searched by JSON containment.'}
              </div>
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
