import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router-dom';
import { gqlRequest } from '../graphql/client';
import { InvocationsCount, InvocationsList, SourceFunctions } from '../graphql/queries';
import { CorrLink, Empty, ErrorBox, InvLink, Loading, StatusBadge } from '../components/common';
import {
  FILTER_PARAM,
  INVOCATION_STATUSES,
  buildInvocationCountVariables,
  buildInvocationListVariables,
  countIsCapped,
  filtersFromParams,
  pageCount,
  sortFromParams,
  type InvocationFilters,
  type SortColumn,
} from '../lib/filters';
import { formatCount, formatDuration, formatTimestamp } from '../lib/format';
import { useRange } from '../lib/hooks';
import { describeRange } from '../lib/time';

const PAGE_SIZES = [25, 50, 100];

const COLUMNS: { key: SortColumn | null; label: string; num?: boolean }[] = [
  { key: 'created_at', label: 'Started' },
  { key: 'source_function', label: 'Source function' },
  { key: null, label: 'Table / op' },
  { key: 'status', label: 'Status' },
  { key: 'total_duration_ms', label: 'Duration', num: true },
  { key: 'events_detected_count', label: 'Events', num: true },
  { key: 'total_jobs_run', label: 'Jobs', num: true },
  { key: 'total_jobs_failed', label: 'Failed jobs', num: true },
  { key: 'correlation_id', label: 'Correlation ID' },
];

function FilterInput({ label, param, list, placeholder }: { label: string; param: string; list?: string; placeholder?: string }) {
  const [params, setParams] = useSearchParams();
  const [value, setValue] = useState(params.get(param) ?? '');
  useEffect(() => setValue(params.get(param) ?? ''), [params, param]);
  const apply = (v: string) =>
    setParams((p) => {
      const n = new URLSearchParams(p);
      if (v.trim()) n.set(param, v.trim());
      else n.delete(param);
      n.delete('page');
      return n;
    });
  return (
    <label className="filter">
      <span>{label}</span>
      <input
        type="text"
        value={value}
        list={list}
        placeholder={placeholder}
        aria-label={label}
        onChange={(e) => setValue(e.target.value)}
        onBlur={() => value !== (params.get(param) ?? '') && apply(value)}
        onKeyDown={(e) => e.key === 'Enter' && apply(value)}
      />
    </label>
  );
}

export function InvocationsPage() {
  const [params, setParams] = useSearchParams();
  const { spec, key, resolve } = useRange();
  const filters: InvocationFilters = filtersFromParams(params);
  const sort = sortFromParams(params);
  const page = Math.max(0, Number(params.get('page') ?? '0') || 0);
  const pageSize = PAGE_SIZES.includes(Number(params.get('size'))) ? Number(params.get('size')) : 50;

  const list = useQuery({
    queryKey: ['invocations', key, filters, sort, page, pageSize],
    queryFn: () =>
      gqlRequest(
        InvocationsList,
        buildInvocationListVariables(filters, resolve(), sort, page, pageSize),
      ),
    placeholderData: keepPreviousData,
  });
  // Its own request, keyed without sort and page: the rows do not wait for it, and paging does not count again.
  const count = useQuery({
    queryKey: ['invocations-count', key, filters],
    queryFn: () => gqlRequest(InvocationsCount, buildInvocationCountVariables(filters, resolve())),
  });
  const functions = useQuery({
    queryKey: ['source-functions', key],
    queryFn: () => {
      const w = resolve();
      return gqlRequest(SourceFunctions, {
        from: new Date(Math.floor(w.from.getTime() / 3600_000) * 3600_000).toISOString(),
        to: w.to.toISOString(),
      });
    },
    staleTime: 60_000,
  });

  const set = (mut: (p: URLSearchParams) => void) =>
    setParams((p) => {
      const n = new URLSearchParams(p);
      mut(n);
      return n;
    });
  const counted = count.isSuccess ? (count.data.invocations_aggregate.aggregate?.count ?? 0) : null;
  const capped = counted !== null && countIsCapped(counted);
  const total = counted === null ? null : capped ? counted - 1 : counted;
  const pages = total === null ? null : pageCount(total, pageSize);
  const fullPage = (list.data?.invocations.length ?? 0) >= pageSize;
  const active = Object.entries(filters).filter(([, v]) => v);
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p.slice(-1), id]));

  return (
    <div className="page">
      <div className="page-head">
        <h1>Invocations</h1>
        <span className="muted">{describeRange(spec)}</span>
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <FilterInput label="Source function" param={FILTER_PARAM.sourceFunction} list="source-functions" placeholder="any" />
        <datalist id="source-functions">
          {(functions.data?.rollup_source_functions ?? []).flatMap((f) => (f.source_function ? [<option key={f.source_function} value={f.source_function} />] : []))}
        </datalist>
        <label className="filter">
          <span>Status</span>
          <select
            aria-label="Status"
            value={filters.status ?? ''}
            onChange={(e) =>
              set((n) => {
                if (e.target.value) n.set('status', e.target.value);
                else n.delete('status');
                n.delete('page');
              })
            }
          >
            <option value="">any</option>
            {INVOCATION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <FilterInput label="Event name" param={FILTER_PARAM.eventName} placeholder="exact, e.g. orders.shipped" />
        <FilterInput label="Job name" param={FILTER_PARAM.jobName} placeholder="exact" />
        <FilterInput label="Correlation ID" param={FILTER_PARAM.correlationId} placeholder="exact" />
        <FilterInput label="Column changed" param={FILTER_PARAM.changedColumn} placeholder="UPDATE column, e.g. status" />
        {active.length ? (
          <button
            type="button"
            className="link-button"
            onClick={() => set((n) => ['fn', 'status', 'event', 'job', 'corr', 'changed', 'page'].forEach((k) => n.delete(k)))}
          >
            Clear filters
          </button>
        ) : null}
      </form>

      {list.isPending ? (
        <Loading what="invocations" />
      ) : list.isError ? (
        <ErrorBox error={list.error} what="invocations" onRetry={() => list.refetch()} />
      ) : list.data.invocations.length === 0 ? (
        <Empty title={active.length ? 'No invocation matches these filters.' : 'No invocations in this time range.'}>
          {active.length ? 'Clear or loosen the filters, or widen the time range.' : 'Widen the time range, or check that the detector records into this database.'}
        </Empty>
      ) : (
        <>
          <div className="table-meta">
            {total !== null ? (
              <>
                <span data-testid="invocations-total">{formatCount(total)}{capped ? '+' : ''}</span> invocations
              </>
            ) : count.isError ? (
              <span data-testid="invocations-count-error">
                invocations (not counted: {count.error instanceof Error ? count.error.message : 'error'}){' '}
                <button type="button" className="link-button" onClick={() => count.refetch()}>
                  count again
                </button>
              </span>
            ) : (
              <span className="muted" data-testid="invocations-counting">counting invocations…</span>
            )}
            {list.isFetching ? <span className="muted small"> · refreshing…</span> : null}
            <span className="compare-pick small">
              {picked.length === 2 ? (
                <Link className="button" to={`/compare?a=${picked[0]}&b=${picked[1]}`} data-testid="compare-link">
                  Compare the 2 selected
                </Link>
              ) : (
                <span className="muted"> · tick two rows to compare them</span>
              )}
            </span>
          </div>
          <div className="table-wrap">
            <table className="table" data-testid="invocations-table">
              <thead>
                <tr>
                  <th aria-label="Compare" />
                  {COLUMNS.map((c) => (
                    <th key={c.label} className={c.num ? 'num' : undefined} aria-sort={c.key === sort.column ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                      {c.key ? (
                        <button
                          type="button"
                          className="sort-button"
                          onClick={() =>
                            set((n) => {
                              const dir = sort.column === c.key && sort.dir === 'desc' ? 'asc' : 'desc';
                              n.set('sort', c.key!);
                              n.set('dir', dir);
                              n.delete('page');
                            })
                          }
                        >
                          {c.label} {sort.column === c.key ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                        </button>
                      ) : (
                        c.label
                      )}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {list.data.invocations.map((r) => (
                  <tr key={r.id} data-id={r.id}>
                    <td>
                      <input type="checkbox" aria-label={`select ${r.id} for comparison`} checked={picked.includes(r.id)} onChange={() => toggle(r.id)} />
                    </td>
                    <td>
                      <InvLink id={r.id}>{formatTimestamp(r.created_at)}</InvLink>
                    </td>
                    <td>{r.source_function}</td>
                    <td className="muted">
                      {r.source_table ?? '—'} {r.source_operation ?? ''}
                    </td>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                    <td className="num">{formatDuration(r.total_duration_ms)}</td>
                    <td className="num">{r.events_detected_count ?? 0}</td>
                    <td className="num">{r.total_jobs_run ?? 0}</td>
                    <td className={`num ${r.total_jobs_failed ? 'fail-text' : ''}`}>{r.total_jobs_failed ?? 0}</td>
                    <td className="ellipsis">
                      <CorrLink id={r.correlation_id} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="pager" aria-label="Pagination">
            <button type="button" disabled={page === 0} onClick={() => set((n) => n.set('page', '0'))}>
              « First
            </button>
            <button type="button" disabled={page === 0} onClick={() => set((n) => n.set('page', String(page - 1)))}>
              ‹ Previous
            </button>
            <span data-testid="page-info">
              Page {page + 1}
              {pages !== null ? ` of ${formatCount(pages)}${capped ? '+' : ''}` : ''}
            </span>
            <button type="button" disabled={(pages === null || capped) ? !fullPage : page + 1 >= pages} onClick={() => set((n) => n.set('page', String(page + 1)))}>
              Next ›
            </button>
            <button
              type="button"
              disabled={pages === null || capped || page + 1 >= pages}
              title={capped ? 'more rows than counted: narrow the filters' : undefined}
              onClick={() => pages !== null && set((n) => n.set('page', String(pages - 1)))}
            >
              Last »
            </button>
            <label>
              Rows{' '}
              <select
                aria-label="Rows per page"
                value={pageSize}
                onChange={(e) =>
                  set((n) => {
                    n.set('size', e.target.value);
                    n.delete('page');
                  })
                }
              >
                {PAGE_SIZES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
          </div>
        </>
      )}
    </div>
  );
}
