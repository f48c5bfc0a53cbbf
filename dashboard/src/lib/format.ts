// Formatting helpers. Missing values are shown as an em dash, never as 0.

export const DASH = '—';

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return DASH;
  const v = Number(ms);
  // Durations are stored in whole milliseconds (rounded): 0 means under half a millisecond, not "took nothing".
  if (v < 1) return '<1 ms';
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(v / 60_000);
  const s = Math.round((v % 60_000) / 1000);
  if (m < 60) return `${m} min ${s} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return DASH;
  return Number(n).toLocaleString('en-US');
}

export function formatPercent(p: number | null | undefined, digits = 1): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return DASH;
  return `${p.toFixed(digits)}%`;
}

export function formatRate(perHour: number | null | undefined): string {
  if (perHour === null || perHour === undefined || !Number.isFinite(perHour)) return DASH;
  if (perHour >= 100) return `${Math.round(perHour).toLocaleString('en-US')}/h`;
  return `${perHour.toFixed(perHour >= 10 ? 1 : 2)}/h`;
}

/** Absolute timestamp, ISO-like, local time, with milliseconds (debugging needs them). */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "5 s ago", "3 min ago", "2 h ago", "4 d ago" relative to now (ms). */
export function formatAgo(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return DASH;
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return DASH;
  const s = Math.round((now - t) / 1000);
  if (s < -60) return 'in the future';
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function shortId(id: string | null | undefined): string {
  if (!id) return DASH;
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** Numbers from Hasura may arrive as numbers or numeric strings (numeric, bigint). */
export function num(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export function prettyJson(v: unknown): string {
  if (v === undefined) return '';
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}
