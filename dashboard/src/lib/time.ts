// Time ranges shared by every section through the URL (?range=24h or ?from=...&to=...).
// A relative range is resolved against "now" at every refresh, so polling moves the window.

export type RangeSpec =
  | { kind: 'relative'; hours: number }
  | { kind: 'absolute'; from: Date; to: Date };

export interface TimeWindow {
  from: Date;
  to: Date;
}

export const RANGE_PRESETS: { label: string; hours: number }[] = [
  { label: '1 hour', hours: 1 },
  { label: '6 hours', hours: 6 },
  { label: '24 hours', hours: 24 },
  { label: '7 days', hours: 24 * 7 },
  { label: '30 days', hours: 24 * 30 },
];

const HOUR = 3600_000;

export function formatRelativeToken(hours: number): string {
  if (hours >= 24 && hours % 24 === 0) return `${hours / 24}d`;
  if (hours < 1) return `${Math.round(hours * 60)}m`;
  return `${hours}h`;
}

export function parseRelativeToken(token: string | null | undefined): number | null {
  if (!token) return null;
  const m = /^(\d+(?:\.\d+)?)(m|h|d)$/.exec(token.trim());
  if (!m) return null;
  const n = Number(m[1]);
  if (!(n > 0)) return null;
  return m[2] === 'm' ? n / 60 : m[2] === 'd' ? n * 24 : n;
}

function parseDate(s: string | null): Date | null {
  if (!s) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Read the range from URL search params; fall back to the configured default (hours). */
export function rangeFromParams(params: URLSearchParams, defaultHours: number): RangeSpec {
  const from = parseDate(params.get('from'));
  const to = parseDate(params.get('to'));
  if (from && to && from < to) return { kind: 'absolute', from, to };
  const hours = parseRelativeToken(params.get('range'));
  return { kind: 'relative', hours: hours ?? defaultHours };
}

/** Write a range into (a copy of) the URL search params. */
export function rangeToParams(spec: RangeSpec, params: URLSearchParams): URLSearchParams {
  const p = new URLSearchParams(params);
  p.delete('range');
  p.delete('from');
  p.delete('to');
  if (spec.kind === 'relative') p.set('range', formatRelativeToken(spec.hours));
  else {
    p.set('from', spec.from.toISOString());
    p.set('to', spec.to.toISOString());
  }
  return p;
}

/** Resolve a range at the moment `now` (ms). Relative ranges end at now and move with it. */
export function resolveWindow(spec: RangeSpec, now: number = Date.now()): TimeWindow {
  if (spec.kind === 'absolute') return { from: spec.from, to: spec.to };
  return { from: new Date(now - spec.hours * HOUR), to: new Date(now) };
}

/** The period of the same length right before the window (for trends). */
export function previousWindow(w: TimeWindow): TimeWindow {
  const len = w.to.getTime() - w.from.getTime();
  return { from: new Date(w.from.getTime() - len), to: new Date(w.from.getTime()) };
}

export function windowHours(w: TimeWindow): number {
  return (w.to.getTime() - w.from.getTime()) / HOUR;
}

/** Start of the hour containing d (dashboard_stats buckets are date_trunc('hour')). */
export function floorHour(d: Date): Date {
  return new Date(Math.floor(d.getTime() / HOUR) * HOUR);
}

/** Stable key of a range spec for caches (a relative range keeps one key while it moves). */
export function rangeKey(spec: RangeSpec): string {
  return spec.kind === 'relative' ? `rel:${spec.hours}` : `abs:${spec.from.toISOString()}/${spec.to.toISOString()}`;
}

export function describeRange(spec: RangeSpec): string {
  if (spec.kind === 'relative') {
    const preset = RANGE_PRESETS.find((p) => p.hours === spec.hours);
    return `last ${preset ? preset.label : formatRelativeToken(spec.hours)}`;
  }
  return `${spec.from.toLocaleString()} – ${spec.to.toLocaleString()}`;
}
