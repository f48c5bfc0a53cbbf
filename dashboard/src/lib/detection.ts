// Why an event was (not) detected: the detection clauses recorded on an event execution (EVENTSCOPE_DETECT,
// sql/migrations/003_detection.up.sql), the detection funnel over the clause rollup, old -> new diffs of UPDATE
// payloads and the comparison of two invocations. Pure functions: the pages only render what these return.

export type ClauseOutcome = 'passed' | 'failed' | 'skipped' | 'threw';

export interface Clause {
  name: string;
  outcome: ClauseOutcome;
  /** capture::full only: the clause's source text and the operands it compared (bounded text). */
  expression?: string;
  lhs?: string;
  op?: string;
  rhs?: string;
}

const OUTCOMES = new Set(['passed', 'failed', 'skipped', 'threw']);

/** detection_clauses (names, outcomes) zipped with detection_clause_values (when the role may read them). */
export function parseClauses(outcomes: unknown, values?: unknown): Clause[] {
  if (!Array.isArray(outcomes)) return [];
  const vals = Array.isArray(values) ? values : [];
  return outcomes.map((o, i) => {
    const c = (o ?? {}) as Record<string, unknown>;
    const v = (vals[i] ?? {}) as Record<string, unknown>;
    const outcome = OUTCOMES.has(String(c.outcome)) ? (c.outcome as ClauseOutcome) : 'skipped';
    const clause: Clause = { name: String(c.name ?? ''), outcome };
    for (const k of ['expression', 'lhs', 'op', 'rhs'] as const) if (typeof v[k] === 'string') clause[k] = v[k] as string;
    return clause;
  });
}

/** The clause that stopped the detection (failed or threw), if any. */
export function stoppingClause(clauses: Clause[]): Clause | null {
  return clauses.find((c) => c.outcome === 'failed' || c.outcome === 'threw') ?? null;
}

/** "lhs op rhs" of a clause, or its single value, or null when no value was captured. */
export function clauseValues(c: Clause): string | null {
  if (c.lhs === undefined) return null;
  return c.op ? `${c.lhs} ${c.op} ${c.rhs ?? ''}` : c.lhs;
}

// ---- funnel ----------------------------------------------------------------------------------------------------

export interface ClauseTotals {
  clause_index: number;
  clause_name: string;
  evaluated: number;
  passed: number;
  failed: number;
  threw: number;
}

export interface EventTotals {
  checked: number;
  detected: number;
  completed: number;
  detection_failed: number;
}

export type FunnelStepKind = 'checked' | 'clause' | 'detected' | 'jobs';

export interface FunnelStep {
  kind: FunnelStepKind;
  label: string;
  /** Detections that reached past this step. */
  count: number;
  /** Detections that stopped at this step (did not reach the next one). */
  stopped: number;
  clauseName?: string;
  clauseIndex?: number;
  /** The step that rejects most (clauses only). */
  topRejecting?: boolean;
}

/**
 * invocations checked -> each clause passed -> detected -> jobs succeeded. A clause step counts the detections
 * that passed it; it stopped the ones that failed or threw there. Several clause names at one position (the
 * detector changed within the range) are each a step, in position order. "checked" stopped the detections that
 * never reached a clause (no clause recorded and not detected: plain detected(false), or an error first).
 */
export function buildFunnel(events: EventTotals, clauses: ClauseTotals[]): FunnelStep[] {
  const sorted = [...clauses].sort((a, b) => a.clause_index - b.clause_index || a.clause_name.localeCompare(b.clause_name));
  const firstEvaluated = sorted.filter((c) => c.clause_index === sorted[0]?.clause_index).reduce((s, c) => s + c.evaluated, 0);
  const steps: FunnelStep[] = [];
  const withClauses = sorted.length > 0;
  steps.push({
    kind: 'checked',
    label: 'invocations checked',
    count: events.checked,
    stopped: withClauses ? Math.max(0, events.checked - firstEvaluated) : Math.max(0, events.checked - events.detected),
  });
  for (const c of sorted) {
    steps.push({
      kind: 'clause',
      label: c.clause_name,
      clauseName: c.clause_name,
      clauseIndex: c.clause_index,
      count: c.passed,
      stopped: c.failed + c.threw,
    });
  }
  steps.push({ kind: 'detected', label: 'detected', count: events.detected, stopped: Math.max(0, events.detected - events.completed) });
  steps.push({ kind: 'jobs', label: 'jobs succeeded', count: events.completed, stopped: 0 });
  const clauseSteps = steps.filter((s) => s.kind === 'clause' && s.stopped > 0);
  if (clauseSteps.length) {
    const top = clauseSteps.reduce((a, b) => (b.stopped > a.stopped ? b : a));
    top.topRejecting = true;
  }
  return steps;
}

/** The event_executions filter of the invocations that stopped at a funnel step (the drill-down list). */
export function stoppedAtWhere(step: FunnelStep, eventName: string, from: string, to: string): Record<string, unknown> {
  const base: Record<string, unknown>[] = [{ event_name: { _eq: eventName } }, { created_at: { _gte: from, _lt: to } }];
  switch (step.kind) {
    case 'clause':
      base.push({ detection_rejected_by: { _eq: step.clauseName } });
      break;
    case 'checked':
      base.push({ detected: { _eq: false } }, { detection_rejected_by: { _is_null: true } });
      break;
    case 'detected':
      base.push({ detected: { _eq: true } }, { status: { _neq: 'completed' } });
      break;
    case 'jobs':
      base.push({ status: { _eq: 'completed' } });
      break;
  }
  return { _and: base };
}

// ---- old -> new ------------------------------------------------------------------------------------------------

export interface ColumnChange {
  column: string;
  old: unknown;
  new: unknown;
  kind: 'changed' | 'added' | 'removed';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/** The columns an UPDATE payload changed (event.data.old vs event.data.new), in column order; null when the
 * payload is not an UPDATE (no old or no new row). Same rule as the SQL payload_changed_columns(). */
export function payloadChanges(payload: unknown): ColumnChange[] | null {
  const data = isObject(payload) && isObject(payload.event) ? payload.event.data : undefined;
  if (!isObject(data) || !isObject(data.old) || !isObject(data.new)) return null;
  const oldRow = data.old;
  const newRow = data.new;
  const keys = [...new Set([...Object.keys(oldRow), ...Object.keys(newRow)])].sort();
  const out: ColumnChange[] = [];
  for (const k of keys) {
    const inOld = Object.prototype.hasOwnProperty.call(oldRow, k);
    const inNew = Object.prototype.hasOwnProperty.call(newRow, k);
    if (inOld && inNew && sameJson(oldRow[k], newRow[k])) continue;
    out.push({ column: k, old: oldRow[k], new: newRow[k], kind: !inOld ? 'added' : !inNew ? 'removed' : 'changed' });
  }
  return out;
}

// ---- comparing two invocations ----------------------------------------------------------------------------------

export interface JsonDifference {
  path: string;
  a: unknown;
  b: unknown;
}

/** Leaf differences between two JSON values, as dotted paths (`event.data.new.status`); at most `limit`. */
export function jsonDiff(a: unknown, b: unknown, limit = 200): JsonDifference[] {
  const out: JsonDifference[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (out.length >= limit) return;
    if (isObject(x) && isObject(y)) {
      for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) walk(x[k], y[k], path ? `${path}.${k}` : k);
      return;
    }
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) {
      x.forEach((v, i) => walk(v, y[i], `${path}[${i}]`));
      return;
    }
    if (!sameJson(x, y)) out.push({ path: path || '(root)', a: x, b: y });
  };
  walk(a, b, '');
  return out;
}

export interface ComparableEvent {
  event_name: string;
  detected: boolean;
  status: string;
  detection_clauses?: unknown;
  detection_rejected_by?: string | null;
}

export interface EventComparison {
  eventName: string;
  a: ComparableEvent | null;
  b: ComparableEvent | null;
  /** The detection decision differs (or one side did not check the event). */
  differs: boolean;
}

export function compareEvents(a: ComparableEvent[], b: ComparableEvent[]): EventComparison[] {
  const names = [...new Set([...a.map((e) => e.event_name), ...b.map((e) => e.event_name)])];
  return names.map((name) => {
    const ea = a.find((e) => e.event_name === name) ?? null;
    const eb = b.find((e) => e.event_name === name) ?? null;
    return { eventName: name, a: ea, b: eb, differs: !ea || !eb || ea.detected !== eb.detected || ea.status !== eb.status };
  });
}

export interface ComparableJob {
  job_name: string;
  status: string;
  duration_ms: number | null;
}

export interface JobComparison {
  jobName: string;
  a: ComparableJob | null;
  b: ComparableJob | null;
  /** b's duration minus a's (ms), when both have one. */
  durationDelta: number | null;
  statusChanged: boolean;
}

/** Jobs matched by name, the n-th run of a name with the n-th run of the same name on the other side. */
export function compareJobs(a: ComparableJob[], b: ComparableJob[]): JobComparison[] {
  const byName = (jobs: ComparableJob[]) => {
    const m = new Map<string, ComparableJob[]>();
    for (const j of jobs) m.set(j.job_name, [...(m.get(j.job_name) ?? []), j]);
    return m;
  };
  const ma = byName(a);
  const mb = byName(b);
  const names = [...new Set([...a.map((j) => j.job_name), ...b.map((j) => j.job_name)])];
  const out: JobComparison[] = [];
  for (const name of names) {
    const la = ma.get(name) ?? [];
    const lb = mb.get(name) ?? [];
    for (let i = 0; i < Math.max(la.length, lb.length); i++) {
      const ja = la[i] ?? null;
      const jb = lb[i] ?? null;
      const durationDelta = ja?.duration_ms !== null && ja?.duration_ms !== undefined && jb?.duration_ms !== null && jb?.duration_ms !== undefined
        ? jb.duration_ms - ja.duration_ms : null;
      out.push({ jobName: name, a: ja, b: jb, durationDelta, statusChanged: !ja || !jb || ja.status !== jb.status });
    }
  }
  return out;
}

export function formatDelta(ms: number | null): string {
  if (ms === null) return '—';
  if (ms === 0) return '±0 ms';
  const sign = ms > 0 ? '+' : '−';
  const v = Math.abs(ms);
  return v < 1000 ? `${sign}${v} ms` : `${sign}${(v / 1000).toFixed(2)} s`;
}

/** A JSON value in one line, for tables (strings without quotes). */
export function shortJson(v: unknown, max = 120): string {
  if (v === undefined) return '(absent)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
