// Header search: what the user typed → which query to run with which variables.
import type { invocations_bool_exp } from '../graphql/operations.generated';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type LookupTable = 'invocations' | 'event_executions' | 'job_executions' | 'job_logs';

export const TABLE_ALIASES: Record<string, LookupTable> = {
  invocations: 'invocations',
  invocation: 'invocations',
  inv: 'invocations',
  event_executions: 'event_executions',
  event_execution: 'event_executions',
  event: 'event_executions',
  job_executions: 'job_executions',
  job_execution: 'job_executions',
  job: 'job_executions',
  job_logs: 'job_logs',
  job_log: 'job_logs',
  log: 'job_logs',
};

export type SearchPlan =
  | { kind: 'empty' }
  | { kind: 'lookup'; table: LookupTable; id: string }
  | { kind: 'invalid'; message: string }
  | {
      kind: 'text';
      /** invocations_bool_exp for correlation ID / function / email / ids; null for a JSON query */
      where: invocations_bool_exp | null;
      /** payload search: JSON containment or top-level key; null when the text cannot be one */
      payload: { contains: unknown } | { key: string } | null;
    };

/** Escape LIKE wildcards so user text matches literally. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function planSearch(raw: string): SearchPlan {
  const q = raw.trim();
  if (q.length === 0) return { kind: 'empty' };

  const tableId = /^([a-z_]+):\s*(\S+)$/i.exec(q);
  if (tableId && TABLE_ALIASES[tableId[1].toLowerCase()]) {
    const table = TABLE_ALIASES[tableId[1].toLowerCase()];
    const id = tableId[2];
    if (!UUID_RE.test(id)) return { kind: 'invalid', message: `${table}:id needs a UUID` };
    return { kind: 'lookup', table, id: id.toLowerCase() };
  }

  if (q.startsWith('{')) {
    try {
      const parsed = JSON.parse(q);
      if (parsed && typeof parsed === 'object') {
        // only the payload search applies; the text search would match nothing useful
        return { kind: 'text', where: null, payload: { contains: parsed } };
      }
    } catch {
      /* fall through to text search */
    }
  }

  const like = `%${escapeLike(q)}%`;
  const or: invocations_bool_exp[] = [
    { correlation_id: { _ilike: like } },
    { source_function: { _ilike: like } },
    { source_user_email: { _ilike: like } },
  ];
  if (UUID_RE.test(q)) {
    or.unshift({ id: { _eq: q.toLowerCase() } }, { source_job_id: { _eq: q.toLowerCase() } }, { source_event_id: { _eq: q.toLowerCase() } });
  }
  const keyLike = /^[\w.$-]{1,100}$/.test(q);
  return { kind: 'text', where: { _or: or }, payload: keyLike ? { key: q } : null };
}
