import { useState } from 'react';
import { useRange } from '../lib/hooks';
import { RANGE_PRESETS, formatRelativeToken, resolveWindow } from '../lib/time';

function toLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function shortDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function TimeRangePicker() {
  const { spec, setSpec } = useRange();
  const [custom, setCustom] = useState(false);
  const w = resolveWindow(spec);
  const [from, setFrom] = useState(toLocalInput(w.from));
  const [to, setTo] = useState(toLocalInput(w.to));
  const value = spec.kind === 'relative' ? formatRelativeToken(spec.hours) : 'custom';
  const presetKnown = spec.kind === 'relative' && RANGE_PRESETS.some((p) => p.hours === spec.hours);
  return (
    <div className="range-picker">
      <label>
        <span className="sr-only">Time range</span>
        <select
          aria-label="Time range"
          value={custom ? 'custom' : value}
          onChange={(e) => {
            if (e.target.value === 'custom') {
              setCustom(true);
              return;
            }
            setCustom(false);
            const preset = RANGE_PRESETS.find((p) => formatRelativeToken(p.hours) === e.target.value);
            if (preset) setSpec({ kind: 'relative', hours: preset.hours });
          }}
        >
          {RANGE_PRESETS.map((p) => (
            <option key={p.hours} value={formatRelativeToken(p.hours)}>
              Last {p.label}
            </option>
          ))}
          {spec.kind === 'relative' && !presetKnown ? <option value={value}>Last {value}</option> : null}
          <option value="custom">Custom…</option>
        </select>
      </label>
      {spec.kind === 'absolute' && !custom ? (
        <button type="button" className="range-label" onClick={() => setCustom(true)} title="edit the custom range">
          {shortDate(spec.from)} – {shortDate(spec.to)}
        </button>
      ) : null}
      {custom ? (
        <form
          className="range-custom"
          onSubmit={(e) => {
            e.preventDefault();
            const f = new Date(from);
            const t = new Date(to);
            if (!Number.isNaN(f.getTime()) && !Number.isNaN(t.getTime()) && f < t) {
              setSpec({ kind: 'absolute', from: f, to: t });
              setCustom(false);
            }
          }}
        >
          <input type="datetime-local" aria-label="From" value={from} onChange={(e) => setFrom(e.target.value)} />
          <span>–</span>
          <input type="datetime-local" aria-label="To" value={to} onChange={(e) => setTo(e.target.value)} />
          <button type="submit">Apply</button>
        </form>
      ) : null}
    </div>
  );
}
