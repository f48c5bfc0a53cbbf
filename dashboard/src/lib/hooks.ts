import { useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { config } from '../config';
import { rangeFromParams, rangeKey, rangeToParams, resolveWindow, type RangeSpec, type TimeWindow } from './time';

/** The shared time range, kept in the URL so every link and reload keeps it. */
export function useRange(): {
  spec: RangeSpec;
  key: string;
  setSpec: (s: RangeSpec) => void;
  /** resolve now: call inside query functions so each refetch moves a relative window */
  resolve: () => TimeWindow;
} {
  const [params, setParams] = useSearchParams();
  const spec = useMemo(() => rangeFromParams(params, config.defaultTimeRangeHours), [params]);
  const key = rangeKey(spec);
  const setSpec = useCallback(
    (s: RangeSpec) => setParams((p) => {
      const next = rangeToParams(s, p);
      next.delete('page');
      return next;
    }),
    [setParams],
  );
  const resolve = useCallback(() => resolveWindow(spec, Date.now()), [spec]);
  return { spec, key, setSpec, resolve };
}

/** Query string carrying only the shared range (for links between sections). */
export function useRangeQueryString(): string {
  const [params] = useSearchParams();
  const p = new URLSearchParams();
  for (const k of ['range', 'from', 'to']) {
    const v = params.get(k);
    if (v) p.set(k, v);
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** Re-render every `ms` (for "x s ago" labels). */
export function useNow(ms = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
