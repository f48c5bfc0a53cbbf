// Variables of InvocationsList and InvocationsCount built from the filters in the URL. The query texts never change.
import type { TimeWindow } from './time';

export interface InvocationFilters {
  sourceFunction?: string;
  status?: string;
  eventName?: string;
  jobName?: string;
  correlationId?: string;
  /** Invocations whose UPDATE changed this column (changed_columns @> ["X"], GIN-indexed: migration 003). */
  changedColumn?: string;
}

export const INVOCATION_STATUSES = ['running', 'completed', 'failed'] as const;

export const SORTABLE_COLUMNS = [
  'created_at',
  'source_function',
  'status',
  'total_duration_ms',
  'events_detected_count',
  'total_jobs_run',
  'total_jobs_failed',
  'correlation_id',
] as const;
export type SortColumn = (typeof SORTABLE_COLUMNS)[number];
export type SortDir = 'asc' | 'desc';

export type OrderBy = 'asc_nulls_last' | 'desc_nulls_last' | 'asc' | 'desc';

/** Columns the schema declares NOT NULL: plain asc/desc, so that one index serves both directions. */
const NEVER_NULL: ReadonlySet<SortColumn> = new Set<SortColumn>(['created_at', 'source_function', 'status']);

/** NULLs never come first, whichever way the user sorts. */
export function orderDirection(column: SortColumn, dir: SortDir): OrderBy {
  if (NEVER_NULL.has(column)) return dir;
  return dir === 'asc' ? 'asc_nulls_last' : 'desc_nulls_last';
}

/**
 * The column, then created_at, then id, all in the chosen direction: flipping the direction reverses the page
 * order exactly (NULLs stay last), pages are deterministic, and each order is one index read forwards or backwards
 * (sql/README.md "Sorted lists over a recent window").
 */
export function buildInvocationOrderBy(column: SortColumn, dir: SortDir): Record<string, OrderBy>[] {
  const order: Record<string, OrderBy>[] = [{ [column]: orderDirection(column, dir) }];
  if (column !== 'created_at') order.push({ created_at: dir });
  order.push({ id: dir });
  return order;
}

type Where = Record<string, unknown>;

/**
 * "Has an event named X and/or a job named Y": a test of the invocation's own row where it carries its children's
 * names (child_names, written with the final row: sql/README.md "Child names"), the child tables only where it
 * does not (running rows, rows from other writers). Exact either way; the first form needs no look-up per row.
 */
function childNameFilter(ev: string | undefined, job: string | undefined): Where {
  const names: Record<string, string[]> = {};
  const children: Where[] = [{ child_names: { _is_null: true } }];
  if (ev) {
    names.events = [ev];
    children.push({ event_executions: { event_name: { _eq: ev } } });
  }
  if (job) {
    names.jobs = [job];
    children.push({ job_executions: { job_name: { _eq: job } } });
  }
  return { _or: [{ child_names: { _contains: names } }, { _and: children }] };
}

export function buildInvocationWhere(filters: InvocationFilters, window: TimeWindow | null): Where {
  const and: Where[] = [];
  if (window) and.push({ created_at: { _gte: window.from.toISOString(), _lt: window.to.toISOString() } });
  const fn = filters.sourceFunction?.trim();
  if (fn) and.push({ source_function: { _eq: fn } });
  const st = filters.status?.trim();
  if (st) and.push({ status: { _eq: st } });
  const ev = filters.eventName?.trim();
  const job = filters.jobName?.trim();
  if (ev || job) and.push(childNameFilter(ev, job));
  const corr = filters.correlationId?.trim();
  if (corr) and.push({ correlation_id: { _eq: corr } });
  const col = filters.changedColumn?.trim();
  if (col) and.push({ changed_columns: { _contains: [col] } });
  if (and.length === 0) return {};
  if (and.length === 1) return and[0];
  return { _and: and };
}

export function buildInvocationListVariables(
  filters: InvocationFilters,
  window: TimeWindow | null,
  sort: { column: SortColumn; dir: SortDir },
  page: number,
  pageSize: number,
) {
  const p = Math.max(0, Math.floor(page));
  return {
    where: buildInvocationWhere(filters, window),
    orderBy: buildInvocationOrderBy(sort.column, sort.dir),
    limit: pageSize,
    offset: p * pageSize,
  };
}

/** Variables of InvocationsCount: the list's filter, without its sort and page. */
export function buildInvocationCountVariables(filters: InvocationFilters, window: TimeWindow | null) {
  return { where: buildInvocationWhere(filters, window), countLimit: COUNT_LIMIT };
}

/** The pager counts at most this many rows: a count reads rows until it has them, and a wide filter over millions
 * of rows would cost seconds. 1,001 keeps the broadest name filter at 10M job rows under 50 ms p95, where 10,001 took
 * 55-67 ms (benchmarks/README.md "The pager's count cap"); past it the page says "1,000+" and Next follows full pages. */
export const COUNT_LIMIT = 1_001;

/** Whether a count reached COUNT_LIMIT, i.e. there are at least COUNT_LIMIT - 1 more rows than shown ("1,000+"). */
export function countIsCapped(total: number): boolean {
  return total >= COUNT_LIMIT;
}

export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize));
}

/** Read filters from URL params (keys: fn, status, event, job, corr). */
export function filtersFromParams(p: URLSearchParams): InvocationFilters {
  return {
    sourceFunction: p.get('fn') ?? undefined,
    status: p.get('status') ?? undefined,
    eventName: p.get('event') ?? undefined,
    jobName: p.get('job') ?? undefined,
    correlationId: p.get('corr') ?? undefined,
    changedColumn: p.get('changed') ?? undefined,
  };
}

export const FILTER_PARAM: Record<keyof InvocationFilters, string> = {
  sourceFunction: 'fn',
  status: 'status',
  eventName: 'event',
  jobName: 'job',
  correlationId: 'corr',
  changedColumn: 'changed',
};

export function sortFromParams(p: URLSearchParams): { column: SortColumn; dir: SortDir } {
  const c = p.get('sort');
  const column = (SORTABLE_COLUMNS as readonly string[]).includes(c ?? '') ? (c as SortColumn) : 'created_at';
  const dir: SortDir = p.get('dir') === 'asc' ? 'asc' : 'desc';
  return { column, dir };
}
